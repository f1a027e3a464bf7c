//! Extensions, phone numbers, applications, the email outbox, single-use
//! password links and idempotency keys (issue 3).
//!
//! - `extensions.number` is unique in its tenant; `sip_username` on the
//!   platform. The SIP secret is stored sealed (XChaCha20-Poly1305 with the
//!   at-rest key), never in plain text. An extension has at most one holder
//!   (`user_id`); a user may hold several.
//! - `phone_numbers.number` (E.164) is unique on the platform, and
//!   `user_id` is UNIQUE: a number belongs to at most one user and a user
//!   holds at most one number (PRODUCT.md rule 4). Both holders are set to
//!   NULL if a user row goes, but the store frees them explicitly in the
//!   deleting transaction (rule 10).
//! - `users.applications` is the set of applications enabled for the user,
//!   a subset of what their station unlocks (rule 9).
//! - `tenants.extension_min_digits`/`extension_max_digits` bound the length
//!   of new extension numbers; `own_phone_numbers` lets a customer's admins
//!   add numbers themselves.
//! - `outbox` holds every email, written in the transaction of the change
//!   that causes it; the body is sealed because it may carry a set-password
//!   link. `locked_until` and `lease` are the lease a worker takes while it
//!   sends; it records the outcome only while it still holds the lease.
//!   Rows go with their user (and so with their tenant).
//! - `password_tokens` are single-use links, stored as SHA-256 only.
//! - `idempotency_keys` remember a POST's answer (sealed) per caller and key.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
    ExtensionMinDigits,
    ExtensionMaxDigits,
    OwnPhoneNumbers,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Applications,
}

#[derive(DeriveIden)]
enum Extensions {
    Table,
    Id,
    TenantId,
    Number,
    Name,
    Kind,
    ForceLogin,
    VoicemailEnabled,
    UserId,
    SipUsername,
    SipSecret,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum PhoneNumbers {
    Table,
    Id,
    TenantId,
    Number,
    Label,
    UserId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Id,
    UserId,
    Kind,
    Recipient,
    Subject,
    Body,
    Status,
    Attempts,
    NextAttemptAt,
    LockedUntil,
    Lease,
    LastError,
    CreatedAt,
    SentAt,
}

#[derive(DeriveIden)]
enum PasswordTokens {
    Table,
    Id,
    UserId,
    Purpose,
    TokenHash,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    Id,
    Scope,
    Key,
    Fingerprint,
    Claim,
    LockedUntil,
    Response,
    CreatedAt,
}

fn cascade_to_tenant<T: IntoIden>(table: T, column: T) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, column)
        .to(Tenants::Table, Tenants::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite takes one column per ALTER TABLE.
        for column in [
            integer(Tenants::ExtensionMinDigits).default(2).to_owned(),
            integer(Tenants::ExtensionMaxDigits).default(6).to_owned(),
            boolean(Tenants::OwnPhoneNumbers).default(false).to_owned(),
        ] {
            manager.alter_table(Table::alter().table(Tenants::Table).add_column(column).to_owned()).await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(string_len(Users::Applications, 255).default(""))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Extensions::Table)
                    .col(pk_uuid(Extensions::Id))
                    .col(uuid(Extensions::TenantId))
                    .col(string_len(Extensions::Number, 15))
                    .col(string_len_null(Extensions::Name, 64))
                    .col(string_len(Extensions::Kind, 8).check(Expr::col(Extensions::Kind).is_in(["sip", "web"])))
                    .col(boolean(Extensions::ForceLogin))
                    .col(boolean(Extensions::VoicemailEnabled))
                    .col(uuid_null(Extensions::UserId))
                    .col(string_len_uniq(Extensions::SipUsername, 32))
                    .col(text(Extensions::SipSecret))
                    .col(timestamp_with_time_zone(Extensions::CreatedAt))
                    .col(timestamp_with_time_zone(Extensions::UpdatedAt))
                    .foreign_key(&mut cascade_to_tenant(Extensions::Table, Extensions::TenantId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Extensions::Table, Extensions::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_extensions_tenant_number")
                    .table(Extensions::Table)
                    .col(Extensions::TenantId)
                    .col(Extensions::Number)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("idx_extensions_user").table(Extensions::Table).col(Extensions::UserId).to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(PhoneNumbers::Table)
                    .col(pk_uuid(PhoneNumbers::Id))
                    .col(uuid(PhoneNumbers::TenantId))
                    .col(string_len_uniq(PhoneNumbers::Number, 16))
                    .col(string_len_null(PhoneNumbers::Label, 64))
                    .col(uuid_null(PhoneNumbers::UserId).unique_key())
                    .col(timestamp_with_time_zone(PhoneNumbers::CreatedAt))
                    .col(timestamp_with_time_zone(PhoneNumbers::UpdatedAt))
                    .foreign_key(&mut cascade_to_tenant(PhoneNumbers::Table, PhoneNumbers::TenantId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(PhoneNumbers::Table, PhoneNumbers::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_phone_numbers_tenant")
                    .table(PhoneNumbers::Table)
                    .col(PhoneNumbers::TenantId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Outbox::Table)
                    .col(pk_uuid(Outbox::Id))
                    .col(uuid(Outbox::UserId))
                    .col(string_len(Outbox::Kind, 32))
                    .col(string_len(Outbox::Recipient, 254))
                    .col(string_len(Outbox::Subject, 255))
                    .col(text(Outbox::Body))
                    .col(
                        string_len(Outbox::Status, 16)
                            .check(Expr::col(Outbox::Status).is_in(["pending", "sent", "failed"])),
                    )
                    .col(integer(Outbox::Attempts).default(0))
                    .col(timestamp_with_time_zone(Outbox::NextAttemptAt))
                    .col(timestamp_with_time_zone_null(Outbox::LockedUntil))
                    .col(uuid_null(Outbox::Lease))
                    .col(string_len_null(Outbox::LastError, 500))
                    .col(timestamp_with_time_zone(Outbox::CreatedAt))
                    .col(timestamp_with_time_zone_null(Outbox::SentAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Outbox::Table, Outbox::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_outbox_due")
                    .table(Outbox::Table)
                    .col(Outbox::Status)
                    .col(Outbox::NextAttemptAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(Index::create().name("idx_outbox_user").table(Outbox::Table).col(Outbox::UserId).to_owned())
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(PasswordTokens::Table)
                    .col(pk_uuid(PasswordTokens::Id))
                    .col(uuid(PasswordTokens::UserId))
                    .col(string_len(PasswordTokens::Purpose, 16))
                    .col(string_len_uniq(PasswordTokens::TokenHash, 64))
                    .col(timestamp_with_time_zone(PasswordTokens::CreatedAt))
                    .col(timestamp_with_time_zone(PasswordTokens::ExpiresAt))
                    .col(timestamp_with_time_zone_null(PasswordTokens::UsedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(PasswordTokens::Table, PasswordTokens::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_password_tokens_user")
                    .table(PasswordTokens::Table)
                    .col(PasswordTokens::UserId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(IdempotencyKeys::Table)
                    .col(pk_uuid(IdempotencyKeys::Id))
                    .col(uuid(IdempotencyKeys::Scope))
                    .col(string_len(IdempotencyKeys::Key, 255))
                    .col(string_len(IdempotencyKeys::Fingerprint, 64))
                    .col(uuid(IdempotencyKeys::Claim))
                    .col(timestamp_with_time_zone(IdempotencyKeys::LockedUntil))
                    .col(text_null(IdempotencyKeys::Response))
                    .col(timestamp_with_time_zone(IdempotencyKeys::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_idempotency_scope_key")
                    .table(IdempotencyKeys::Table)
                    .col(IdempotencyKeys::Scope)
                    .col(IdempotencyKeys::Key)
                    .unique()
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            IdempotencyKeys::Table.into_iden(),
            PasswordTokens::Table.into_iden(),
            Outbox::Table.into_iden(),
            PhoneNumbers::Table.into_iden(),
            Extensions::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        manager.alter_table(Table::alter().table(Users::Table).drop_column(Users::Applications).to_owned()).await?;
        for column in [Tenants::OwnPhoneNumbers, Tenants::ExtensionMaxDigits, Tenants::ExtensionMinDigits] {
            manager.alter_table(Table::alter().table(Tenants::Table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}
