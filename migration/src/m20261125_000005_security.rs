//! Account security (issue 4): two-factor authentication, IP allowlists,
//! brute-force counters and the audit log.
//!
//! - `user_totp` holds a user's TOTP secret, sealed with the at-rest key;
//!   `confirmed_at` is set when enrolment is confirmed, `last_step` is the
//!   last time step accepted (a code is accepted once: only a later step
//!   passes, by a conditional update), `failed_step`/`failures` count
//!   wrong codes in one step.
//! - `recovery_codes` are stored as SHA-256 only and spent once.
//! - `users.two_factor_required` and `roles.two_factor_required`: an
//!   administrator's demand that the user (or every holder of the role)
//!   enrols.
//! - `user_networks`: the canonical CIDRs a user may sign in from.
//! - `login_throttle`: failure counters per account (`user:<id>`) and per
//!   source address (`ip:<addr>`), in the database so every replica
//!   enforces one limit.
//! - `audit_events`: append-only. No foreign keys, so events outlive what
//!   they talk about; triggers refuse UPDATE and DELETE.
//! - `sessions.acting_tenant_id`: the customer tenant a parent's support
//!   agent acts in (PRODUCT.md rule 11).

use sea_orm_migration::{prelude::*, schema::*, sea_orm::DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    TwoFactorRequired,
}

#[derive(DeriveIden)]
enum Roles {
    Table,
    TwoFactorRequired,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    ActingTenantId,
}

#[derive(DeriveIden)]
enum UserTotp {
    Table,
    UserId,
    Secret,
    ConfirmedAt,
    LastStep,
    FailedStep,
    Failures,
    CreatedAt,
}

#[derive(DeriveIden)]
enum RecoveryCodes {
    Table,
    Id,
    UserId,
    CodeHash,
    UsedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum UserNetworks {
    Table,
    Id,
    UserId,
    Network,
    CreatedAt,
}

#[derive(DeriveIden)]
enum LoginThrottle {
    Table,
    Key,
    Failures,
    WindowStartedAt,
    LastFailureAt,
    LockedUntil,
    HardLocked,
}

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Id,
    OccurredAt,
    TenantId,
    ActorUserId,
    ActorTenantId,
    OnBehalfOf,
    Action,
    TargetType,
    TargetId,
    Ip,
    Details,
}

fn owned_by_user<T: IntoIden>(table: T, column: T) -> ForeignKeyCreateStatement {
    ForeignKey::create().from(table, column).to(Users::Table, Users::Id).on_delete(ForeignKeyAction::Cascade).to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(boolean(Users::TwoFactorRequired).default(false))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Roles::Table)
                    .add_column(boolean(Roles::TwoFactorRequired).default(false))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter().table(Sessions::Table).add_column(uuid_null(Sessions::ActingTenantId)).to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(UserTotp::Table)
                    .col(pk_uuid(UserTotp::UserId))
                    .col(text(UserTotp::Secret))
                    .col(timestamp_with_time_zone_null(UserTotp::ConfirmedAt))
                    .col(big_integer_null(UserTotp::LastStep))
                    .col(big_integer_null(UserTotp::FailedStep))
                    .col(integer(UserTotp::Failures).default(0))
                    .col(timestamp_with_time_zone(UserTotp::CreatedAt))
                    .foreign_key(&mut owned_by_user(UserTotp::Table, UserTotp::UserId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RecoveryCodes::Table)
                    .col(pk_uuid(RecoveryCodes::Id))
                    .col(uuid(RecoveryCodes::UserId))
                    .col(string_len(RecoveryCodes::CodeHash, 64))
                    .col(timestamp_with_time_zone_null(RecoveryCodes::UsedAt))
                    .col(timestamp_with_time_zone(RecoveryCodes::CreatedAt))
                    .foreign_key(&mut owned_by_user(RecoveryCodes::Table, RecoveryCodes::UserId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_recovery_codes_user_hash")
                    .table(RecoveryCodes::Table)
                    .col(RecoveryCodes::UserId)
                    .col(RecoveryCodes::CodeHash)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(UserNetworks::Table)
                    .col(pk_uuid(UserNetworks::Id))
                    .col(uuid(UserNetworks::UserId))
                    .col(string_len(UserNetworks::Network, 64))
                    .col(timestamp_with_time_zone(UserNetworks::CreatedAt))
                    .foreign_key(&mut owned_by_user(UserNetworks::Table, UserNetworks::UserId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_user_networks_user_network")
                    .table(UserNetworks::Table)
                    .col(UserNetworks::UserId)
                    .col(UserNetworks::Network)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LoginThrottle::Table)
                    .col(string_len(LoginThrottle::Key, 80).primary_key())
                    .col(integer(LoginThrottle::Failures).default(0))
                    .col(timestamp_with_time_zone(LoginThrottle::WindowStartedAt))
                    .col(timestamp_with_time_zone(LoginThrottle::LastFailureAt))
                    .col(timestamp_with_time_zone_null(LoginThrottle::LockedUntil))
                    .col(boolean(LoginThrottle::HardLocked).default(false))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AuditEvents::Table)
                    .col(pk_uuid(AuditEvents::Id))
                    .col(timestamp_with_time_zone(AuditEvents::OccurredAt))
                    .col(uuid_null(AuditEvents::TenantId))
                    .col(uuid_null(AuditEvents::ActorUserId))
                    .col(uuid_null(AuditEvents::ActorTenantId))
                    .col(uuid_null(AuditEvents::OnBehalfOf))
                    .col(string_len(AuditEvents::Action, 64))
                    .col(string_len_null(AuditEvents::TargetType, 32))
                    .col(uuid_null(AuditEvents::TargetId))
                    .col(string_len_null(AuditEvents::Ip, 45))
                    .col(text(AuditEvents::Details))
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            ("idx_audit_tenant_time", vec![AuditEvents::TenantId, AuditEvents::OccurredAt]),
            ("idx_audit_actor", vec![AuditEvents::ActorUserId]),
            ("idx_audit_target", vec![AuditEvents::TargetType, AuditEvents::TargetId]),
        ] {
            let mut index = Index::create();
            index.name(name).table(AuditEvents::Table);
            for column in columns {
                index.col(column);
            }
            manager.create_index(index.to_owned()).await?;
        }
        append_only(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AuditEvents::Table.into_iden(),
            LoginThrottle::Table.into_iden(),
            UserNetworks::Table.into_iden(),
            RecoveryCodes::Table.into_iden(),
            UserTotp::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        if manager.get_database_backend() == DbBackend::Postgres {
            manager.get_connection().execute_unprepared("DROP FUNCTION IF EXISTS audit_events_append_only()").await?;
        }
        manager
            .alter_table(Table::alter().table(Sessions::Table).drop_column(Sessions::ActingTenantId).to_owned())
            .await?;
        manager
            .alter_table(Table::alter().table(Roles::Table).drop_column(Roles::TwoFactorRequired).to_owned())
            .await?;
        manager.alter_table(Table::alter().table(Users::Table).drop_column(Users::TwoFactorRequired).to_owned()).await
    }
}

/// Triggers that refuse to change or remove an audit event.
async fn append_only(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let statements: &[&str] = match manager.get_database_backend() {
        DbBackend::Postgres => &[
            "CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN RAISE EXCEPTION 'audit_events is append-only'; END $$",
            "CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events \
             FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()",
        ],
        _ => &[
            "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events \
             BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END",
            "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events \
             BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END",
        ],
    };
    for sql in statements {
        db.execute_unprepared(sql).await?;
    }
    Ok(())
}
