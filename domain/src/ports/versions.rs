//! Object versions, which `ETag`s carry (issue 9). Storage moves an
//! object's version with every change it records about it, in that change's
//! transaction; see `crate::request` for the precondition it checks then.

use uuid::Uuid;

use crate::audit::TargetType;

pub trait VersionStore {
    /// The version of `target_type` `id`: 0 for an object that has not
    /// changed since versions were kept (or does not exist).
    ///
    /// # Errors
    /// When storage fails.
    fn version(&self, target_type: TargetType, id: Uuid) -> impl Future<Output = anyhow::Result<i64>> + Send;
}
