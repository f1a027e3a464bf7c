//! Phone numbers (DIDs) and who holds them (PRODUCT.md rule 4).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{
    audit::AuditEvent,
    errors::*,
    paging::{Page, PageRequest},
    phone_number::{NewPhoneNumber, PhoneNumber, PhoneNumberChanges},
};

pub trait PhoneNumberStore {
    /// The numbers of `tenant` in E.164 order; with `available_at`, only
    /// those free then (nobody's, and not resting); `q` matches digits
    /// anywhere in the number.
    ///
    /// # Errors
    /// When storage fails.
    fn list_phone_numbers(
        &self,
        tenant: Uuid,
        available_at: Option<DateTime<Utc>>,
        q: Option<&str>,
        page: PageRequest,
    ) -> impl Future<Output = anyhow::Result<Page<PhoneNumber>>> + Send;

    /// The number `id` when it belongs to `viewer` or a tenant below it.
    ///
    /// # Errors
    /// When storage fails.
    fn phone_number_visible_to(
        &self,
        viewer: Uuid,
        id: Uuid,
    ) -> impl Future<Output = anyhow::Result<Option<PhoneNumber>>> + Send;

    /// # Errors
    /// `NumberTaken` when the number is anywhere on the platform.
    fn create_phone_number(
        &self,
        tenant: Uuid,
        number: NewPhoneNumber,
        audit: &AuditEvent,
    ) -> impl Future<Output = Result<PhoneNumber, CreatePhoneNumberError>> + Send;

    /// # Errors
    /// `NotFound`.
    fn update_phone_number(
        &self,
        id: Uuid,
        changes: PhoneNumberChanges,
        audit: &AuditEvent,
    ) -> impl Future<Output = Result<PhoneNumber, UpdatePhoneNumberError>> + Send;

    /// # Errors
    /// `NotFound`; `Assigned` naming the holder while it rings a user.
    fn delete_phone_number(
        &self,
        id: Uuid,
        audit: &AuditEvent,
    ) -> impl Future<Output = Result<(), DeletePhoneNumberError>> + Send;

    /// Gives `user` the number, replacing the one they held.
    ///
    /// # Errors
    /// `UserNotFound`, `PhoneNumberNotFound`, `PhoneNumberAssigned` naming
    /// the holder when it rings another user.
    fn assign_phone_number(
        &self,
        tenant: Uuid,
        user: Uuid,
        number: Uuid,
        audit: &AuditEvent,
    ) -> impl Future<Output = Result<PhoneNumber, TelephonyError>> + Send;

    /// Frees the number `user` holds, if any; audited only when it did.
    ///
    /// # Errors
    /// `UserNotFound`.
    fn release_phone_number(
        &self,
        tenant: Uuid,
        user: Uuid,
        audit: &AuditEvent,
    ) -> impl Future<Output = Result<(), TelephonyError>> + Send;
}
