//! A registrar's view of the extensions (issue 10, "SIP registrar"):
//!
//! - `extensions.sip_domain`, `ha1`, `ha1b`: the tenant's SIP domain and the
//!   digest hashes of the secret for it, stored beside the sealed secret
//!   whenever it is set. Existing extensions get them when the server next
//!   starts: only it can open their sealed secrets.
//! - On PostgreSQL, `kamailio.subscriber`: one row per SIP extension that
//!   rings a user who may sign in now, and for a `force_login` line only
//!   while its holder has a live session; exactly the columns Kamailio's
//!   `auth_db` reads with `calculate_ha1` off. Disabling, expiring or
//!   deleting a user takes their lines off at once, with no writes.
//!   A registrar role is given `USAGE` on the schema and `SELECT` on the
//!   view (docs/kamailio.md), nothing else.

use sea_orm_migration::{prelude::*, schema::*, sea_orm::DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Extensions {
    Table,
    SipDomain,
    Ha1,
    Ha1b,
}

const VIEW: &str = "CREATE VIEW kamailio.subscriber AS \
    SELECT lower(e.sip_username) AS username, e.sip_domain AS domain, e.ha1 AS ha1, e.ha1b AS ha1b \
    FROM extensions e JOIN users u ON u.id = e.user_id \
    WHERE e.kind = 'sip' AND e.ha1 IS NOT NULL AND e.sip_domain IS NOT NULL \
      AND NOT u.disabled \
      AND (u.activation_at IS NULL OR u.activation_at <= now()) \
      AND (u.expires_at IS NULL OR u.expires_at > now()) \
      AND (NOT e.force_login OR EXISTS ( \
        SELECT 1 FROM sessions s \
        WHERE s.user_id = u.id AND s.revoked_at IS NULL AND s.expires_at > now()))";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Extensions::SipDomain, Extensions::Ha1, Extensions::Ha1b] {
            manager
                .alter_table(Table::alter().table(Extensions::Table).add_column(text_null(column)).to_owned())
                .await?;
        }
        if manager.get_database_backend() == DbBackend::Postgres {
            let db = manager.get_connection();
            db.execute_unprepared("CREATE SCHEMA IF NOT EXISTS kamailio").await?;
            db.execute_unprepared(VIEW).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            let db = manager.get_connection();
            db.execute_unprepared("DROP VIEW IF EXISTS kamailio.subscriber").await?;
            db.execute_unprepared("DROP SCHEMA IF EXISTS kamailio").await?;
        }
        for column in [Extensions::Ha1b, Extensions::Ha1, Extensions::SipDomain] {
            manager.alter_table(Table::alter().table(Extensions::Table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}
