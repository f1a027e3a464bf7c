//! The token-signing keys, shared by every replica through the database.
//! The first process to start stores its candidate; everyone reads back
//! what is stored. The stored form is opaque here: the domain seals it.

use sea_orm::{ActiveValue::Set, EntityTrait, Order, QueryOrder as _, sea_query::OnConflict};
use voxport_domain::ports::{KeyStore, StoredKey};

use crate::{SeaStore, db_err, entities::signing_keys};

/// The id of the first key an installation stores: of two processes
/// starting on an empty database, one stores it.
const FIRST: &str = "primary";

impl KeyStore for SeaStore {
    async fn signing_keys(&self) -> anyhow::Result<Vec<StoredKey>> {
        let rows = signing_keys::Entity::find()
            .order_by(signing_keys::Column::CreatedAt, Order::Asc)
            .all(&self.db)
            .await
            .map_err(|e| db_err(e, "loading the signing keys"))?;
        let mut keys: Vec<StoredKey> = rows
            .into_iter()
            .map(|m| StoredKey { kid: m.kid, sealed: m.seed, not_before: m.not_before.unwrap_or(m.created_at) })
            .collect();
        keys.sort_by_key(|k| k.not_before);
        Ok(keys)
    }

    async fn add_first_signing_key(&self, candidate: &StoredKey) -> anyhow::Result<()> {
        let row = signing_keys::ActiveModel {
            id: Set(FIRST.to_owned()),
            kid: Set(candidate.kid.clone()),
            seed: Set(candidate.sealed.clone()),
            created_at: Set(crate::stamp(candidate.not_before)),
            not_before: Set(Some(crate::stamp(candidate.not_before))),
        };
        signing_keys::Entity::insert(row)
            .on_conflict(OnConflict::column(signing_keys::Column::Id).do_nothing().to_owned())
            .exec_without_returning(&self.db)
            .await
            .map_err(|e| db_err(e, "storing the signing key"))?;
        Ok(())
    }

    async fn add_signing_key(&self, key: &StoredKey, now: chrono::DateTime<chrono::Utc>) -> anyhow::Result<()> {
        let row = signing_keys::ActiveModel {
            id: Set(key.kid.clone()),
            kid: Set(key.kid.clone()),
            seed: Set(key.sealed.clone()),
            created_at: Set(crate::stamp(now)),
            not_before: Set(Some(crate::stamp(key.not_before))),
        };
        signing_keys::Entity::insert(row)
            .exec_without_returning(&self.db)
            .await
            .map_err(|e| db_err(e, "storing a new signing key"))?;
        Ok(())
    }
}
