//! The token-signing key, shared by every replica through the database.
//! The first process to start stores its candidate; everyone reads back
//! the one stored. The stored form is opaque here: the domain seals it.

use anyhow::Context as _;
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait as _, EntityTrait, QueryFilter as _,
    sea_query::{Expr, OnConflict},
};
use voxport_domain::ports::KeyStore;

use crate::{SeaStore, db_err, entities::signing_keys};

const PRIMARY: &str = "primary";

impl KeyStore for SeaStore {
    async fn signing_key(
        &self,
        candidate_kid: &str,
        candidate: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> anyhow::Result<(String, String)> {
        let row = signing_keys::ActiveModel {
            id: Set(PRIMARY.to_owned()),
            kid: Set(candidate_kid.to_owned()),
            seed: Set(candidate.to_owned()),
            created_at: Set(crate::stamp(now)),
        };
        signing_keys::Entity::insert(row)
            .on_conflict(OnConflict::column(signing_keys::Column::Id).do_nothing().to_owned())
            .exec_without_returning(&self.db)
            .await
            .map_err(|e| db_err(e, "storing the signing key"))?;
        let stored = signing_keys::Entity::find_by_id(PRIMARY.to_owned())
            .one(&self.db)
            .await
            .map_err(|e| db_err(e, "loading the signing key"))?
            .context("the signing key vanished")?;
        Ok((stored.kid, stored.seed))
    }

    async fn restore_signing_key(&self, kid: &str, stored: &str) -> anyhow::Result<()> {
        signing_keys::Entity::update_many()
            .col_expr(signing_keys::Column::Seed, Expr::value(stored.to_owned()))
            .filter(signing_keys::Column::Id.eq(PRIMARY))
            .filter(signing_keys::Column::Kid.eq(kid))
            .exec(&self.db)
            .await
            .map_err(|e| db_err(e, "sealing the signing key"))?;
        Ok(())
    }
}
