//! API clients, their secrets and their tokens (see `crate::api_client`).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{
    api_client::{ApiClient, ApiClientChanges, ClientLogin, ClientToken, NewApiClient},
    audit::AuditEvent,
    paging::{Page, PageRequest},
};

pub trait ApiClientStore {
    /// The clients of `tenant`, by name.
    ///
    /// # Errors
    /// When storage fails.
    fn list_api_clients(
        &self,
        tenant: Uuid,
        page: PageRequest,
    ) -> impl Future<Output = anyhow::Result<Page<ApiClient>>> + Send;

    /// # Errors
    /// When storage fails.
    fn api_client(&self, tenant: Uuid, id: Uuid) -> impl Future<Output = anyhow::Result<Option<ApiClient>>> + Send;

    /// Creates a client with one secret (its digest).
    ///
    /// # Errors
    /// When storage fails.
    fn create_api_client(
        &self,
        tenant: Uuid,
        new: NewApiClient,
        secret_digest: &str,
        audit: &AuditEvent,
    ) -> impl Future<Output = anyhow::Result<ApiClient>> + Send;

    /// # Errors
    /// When storage fails; `None` when there is no such client.
    fn update_api_client(
        &self,
        tenant: Uuid,
        id: Uuid,
        changes: ApiClientChanges,
        audit: &AuditEvent,
    ) -> impl Future<Output = anyhow::Result<Option<ApiClient>>> + Send;

    /// Deletes the client with its secrets and tokens; answers whether it
    /// existed.
    ///
    /// # Errors
    /// When storage fails.
    fn delete_api_client(
        &self,
        tenant: Uuid,
        id: Uuid,
        audit: &AuditEvent,
    ) -> impl Future<Output = anyhow::Result<bool>> + Send;

    /// Adds a secret (its digest); the newest earlier one works until
    /// `old_until` (or its own earlier end) and any older one goes, so at
    /// most two work at once.
    ///
    /// # Errors
    /// When storage fails; `None` when there is no such client.
    fn rotate_client_secret(
        &self,
        tenant: Uuid,
        id: Uuid,
        secret_digest: &str,
        old_until: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> impl Future<Output = anyhow::Result<Option<ApiClient>>> + Send;

    /// The client `id` of any tenant, with the digests of the secrets that
    /// work at `now`.
    ///
    /// # Errors
    /// When storage fails.
    fn client_login(
        &self,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> impl Future<Output = anyhow::Result<Option<ClientLogin>>> + Send;

    /// Records a token issued to its client, and the client's last use.
    ///
    /// # Errors
    /// When storage fails.
    fn record_client_token(
        &self,
        token: &ClientToken,
        ip: Option<String>,
    ) -> impl Future<Output = anyhow::Result<()>> + Send;

    /// The token `id` with its client.
    ///
    /// # Errors
    /// When storage fails.
    fn client_token(&self, id: Uuid) -> impl Future<Output = anyhow::Result<Option<(ClientToken, ApiClient)>>> + Send;

    /// Revokes token `id` of `client`; answers whether it was live.
    ///
    /// # Errors
    /// When storage fails.
    fn revoke_client_token(
        &self,
        client: Uuid,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> impl Future<Output = anyhow::Result<bool>> + Send;
}
