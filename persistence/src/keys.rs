//! The token-signing key, shared by every replica through the database.
//! The first process to start stores its candidate; everyone reads back
//! the one stored.

use anyhow::{Context as _, anyhow};
use base64::{Engine as _, engine::general_purpose::STANDARD};
use sea_orm::{ActiveValue::Set, EntityTrait, sea_query::OnConflict};
use voxport_domain::{auth::SigningKeySeed, ports::KeyStore};

use crate::{SeaStore, db_err, entities::signing_keys};

const PRIMARY: &str = "primary";

impl KeyStore for SeaStore {
    async fn signing_key(&self, candidate: SigningKeySeed) -> anyhow::Result<SigningKeySeed> {
        let row = signing_keys::ActiveModel {
            id: Set(PRIMARY.to_owned()),
            kid: Set(candidate.kid.clone()),
            seed: Set(STANDARD.encode(candidate.seed)),
            created_at: Set(crate::now()),
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
        let seed: [u8; 32] = STANDARD
            .decode(&stored.seed)
            .context("decoding the signing key")?
            .try_into()
            .map_err(|_| anyhow!("the stored signing key is not 32 bytes"))?;
        Ok(SigningKeySeed { kid: stored.kid, seed })
    }
}
