//! Users: reads join the role in the same query; writes that could leave a
//! tenant without an active administrator re-count them inside the
//! transaction, after the change, with the tenant locked.

use std::{collections::HashMap, sync::OnceLock};

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait as _,
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait, FromQueryResult as _,
    IdenStatic as _, IntoActiveModel as _, Iterable as _, Order, PaginatorTrait as _, QueryFilter, QuerySelect, Select,
    Statement,
    sea_query::{
        Alias, ColumnRef, DynIden, Expr, ExprTrait as _, Func, IntoColumnRef as _, IntoIden as _, JoinType, Query,
        SelectStatement,
    },
};
use uuid::Uuid;
use voxport_domain::{
    audit::{AuditEvent, TargetType},
    auth::PasswordHash,
    device::DeviceRef,
    errors::{DeleteUserError, UpdateUserError},
    extension::{ExtensionRef, ExtensionType},
    paging::{Direction, Page, PageRequest, Sort},
    phone_number::PhoneNumberRef,
    ports::{LoginCredentials, UserStore, UserUpdate},
    request,
    role::BuiltinRole,
    station::{Application, Station, StationRef},
    user::{Directory, ExactMatch, NewUser, Principal, User, UserFilter, UserSortKey, UserStatus},
    values::{Cidr, Email, Login},
};

use crate::{
    SeaStore,
    audit::record,
    convert::{self, Holdings},
    db_err,
    entities::{device_assignments, devices, phone_numbers, roles, station_assignments, stations, user_totp, users},
    extensions::free_extensions,
    like_pattern,
    links::{self, retire_links},
    lock_tenant, lock_user,
    networks::networks_of,
    phone_numbers::free_number_of,
    sessions::revoke_sessions,
    stations::{release, station_of},
    unique_violation, user_counts,
};

/// Users of `tenant` whose status at `now` is `status`, as SQL. Mirrors
/// `UserStatus::at`; `activation::users_sign_in_only_inside_their_window_and_the_status_filter_agrees`
/// keeps the two in step.
pub(crate) fn status_condition(status: UserStatus, now: DateTime<Utc>) -> Condition {
    let not_expired = Condition::any().add(users::Column::ExpiresAt.is_null()).add(users::Column::ExpiresAt.gt(now));
    let started = Condition::any().add(users::Column::ActivationAt.is_null()).add(users::Column::ActivationAt.lte(now));
    match status {
        UserStatus::Disabled => Condition::all().add(users::Column::Disabled.eq(true)),
        UserStatus::Expired => {
            Condition::all().add(users::Column::Disabled.eq(false)).add(users::Column::ExpiresAt.lte(now))
        }
        UserStatus::Pending => Condition::all()
            .add(users::Column::Disabled.eq(false))
            .add(not_expired)
            .add(users::Column::ActivationAt.gt(now)),
        UserStatus::Active => Condition::all().add(users::Column::Disabled.eq(false)).add(not_expired).add(started),
    }
}

fn with_role(select: Select<users::Entity>) -> sea_orm::SelectTwo<users::Entity, roles::Entity> {
    select.find_also_related(roles::Entity)
}

/// How many active administrators `tenant` has at `now`.
async fn active_admins(txn: &impl ConnectionTrait, tenant: Uuid, now: DateTime<Utc>) -> Result<u64, sea_orm::DbErr> {
    users::Entity::find()
        .inner_join(roles::Entity)
        .filter(users::Column::TenantId.eq(tenant))
        .filter(roles::Column::Builtin.eq(BuiltinRole::Administrator.key()))
        .filter(status_condition(UserStatus::Active, now))
        .count(txn)
        .await
}

/// A query of users with their role and what they hold one of (station,
/// desk phone, number, second factor) joined in; `filter` picks the users.
fn users_joined(filter: Condition) -> SelectStatement {
    let mut q = Query::select();
    for c in users::Column::iter() {
        q.expr_as(Expr::col((users::Entity, c)), Alias::new(format!("u_{}", c.as_str())));
    }
    for c in roles::Column::iter() {
        q.expr_as(Expr::col((roles::Entity, c)), Alias::new(format!("r_{}", c.as_str())));
    }
    let on = |a: ColumnRef, b: ColumnRef| Expr::col(a).equals(b);
    q.expr_as(Expr::col((stations::Entity, stations::Column::Id)), Alias::new("s_id"))
        .expr_as(Expr::col((stations::Entity, stations::Column::Name)), Alias::new("s_name"))
        .expr_as(Expr::col((devices::Entity, devices::Column::Id)), Alias::new("d_id"))
        .expr_as(Expr::col((devices::Entity, devices::Column::Mac)), Alias::new("d_mac"))
        .expr_as(Expr::col((devices::Entity, devices::Column::Model)), Alias::new("d_model"))
        .expr_as(Expr::col((device_assignments::Entity, device_assignments::Column::Ports)), Alias::new("d_ports"))
        .expr_as(Expr::col((phone_numbers::Entity, phone_numbers::Column::Id)), Alias::new("n_id"))
        .expr_as(Expr::col((phone_numbers::Entity, phone_numbers::Column::Number)), Alias::new("n_number"))
        .expr_as(Expr::col((user_totp::Entity, user_totp::Column::UserId)), Alias::new("t_user"))
        .from(users::Entity)
        .join(
            JoinType::InnerJoin,
            roles::Entity,
            on(
                (roles::Entity, roles::Column::Id).into_column_ref(),
                (users::Entity, users::Column::RoleId).into_column_ref(),
            ),
        )
        .join(
            JoinType::LeftJoin,
            station_assignments::Entity,
            on(
                (station_assignments::Entity, station_assignments::Column::UserId).into_column_ref(),
                (users::Entity, users::Column::Id).into_column_ref(),
            ),
        )
        .join(
            JoinType::LeftJoin,
            stations::Entity,
            on(
                (stations::Entity, stations::Column::Id).into_column_ref(),
                (station_assignments::Entity, station_assignments::Column::StationId).into_column_ref(),
            ),
        )
        .join(
            JoinType::LeftJoin,
            device_assignments::Entity,
            on(
                (device_assignments::Entity, device_assignments::Column::UserId).into_column_ref(),
                (users::Entity, users::Column::Id).into_column_ref(),
            ),
        )
        .join(
            JoinType::LeftJoin,
            devices::Entity,
            on(
                (devices::Entity, devices::Column::Id).into_column_ref(),
                (device_assignments::Entity, device_assignments::Column::DeviceId).into_column_ref(),
            ),
        )
        .join(
            JoinType::LeftJoin,
            phone_numbers::Entity,
            on(
                (phone_numbers::Entity, phone_numbers::Column::UserId).into_column_ref(),
                (users::Entity, users::Column::Id).into_column_ref(),
            ),
        )
        .join(
            JoinType::LeftJoin,
            user_totp::Entity,
            Condition::all()
                .add(on(
                    (user_totp::Entity, user_totp::Column::UserId).into_column_ref(),
                    (users::Entity, users::Column::Id).into_column_ref(),
                ))
                .add(Expr::col((user_totp::Entity, user_totp::Column::ConfirmedAt)).is_not_null()),
        )
        .cond_where(filter);
    q
}

/// How [`load_users`] reads what a user holds many of (extensions, an
/// allowlist).
#[derive(Clone, Copy)]
enum Many {
    /// In the users' own query, as JSON, with the user's version noted
    /// for the request (`request::read`, for its ETag): one user costs one
    /// query.
    Inline,
    /// The same without versions, for a page whose ids were picked first
    /// (`list_users`): the subqueries run once per user of the page, not
    /// per row a sort reads. Two queries fewer than reading extensions and
    /// allowlists for the page's ids apart.
    Page,
}

/// The columns [`Many::Inline`] adds ([`Many::Page`] all but the last): each extension as
/// `[id, number, type, force_login]` by number, and the allowlist's
/// networks in the order they were added, as JSON arrays; and the user's
/// version (`x_version`), read in the same statement as the rest.
fn inline_many(backend: DbBackend) -> [(String, &'static str); 3] {
    let version = format!(
        "COALESCE((SELECT v.version FROM resource_versions v WHERE v.target_type = '{}' AND v.target_id = users.id), 0)",
        TargetType::User.as_str()
    );
    let [extensions, networks] = match backend {
        DbBackend::Postgres => [
            (
                "(SELECT COALESCE(json_agg(json_build_array(e.id::text, e.number, e.kind, e.force_login) \
                 ORDER BY e.number), '[]')::text FROM extensions e WHERE e.user_id = users.id)",
                "x_extensions",
            ),
            (
                "(SELECT COALESCE(json_agg(n.network ORDER BY n.created_at, n.id), '[]')::text \
                 FROM user_networks n WHERE n.user_id = users.id)",
                "x_networks",
            ),
        ],
        _ => [
            (
                "(SELECT json_group_array(json_array(lower(hex(e.id)), e.number, e.kind, e.force_login)) \
                 FROM (SELECT * FROM extensions WHERE user_id = users.id ORDER BY number) e)",
                "x_extensions",
            ),
            (
                "(SELECT json_group_array(n.network) FROM \
                 (SELECT * FROM user_networks WHERE user_id = users.id ORDER BY created_at, id) n)",
                "x_networks",
            ),
        ],
    };
    [(extensions.0.to_owned(), extensions.1), (networks.0.to_owned(), networks.1), (version, "x_version")]
}

/// Extensions as [`inline_many`] writes them; `force_login` is a JSON
/// boolean on PostgreSQL and 0 or 1 on SQLite.
fn inline_extensions(raw: &str) -> anyhow::Result<Vec<ExtensionRef>> {
    let rows: Vec<(Uuid, String, String, serde_json::Value)> =
        serde_json::from_str(raw).context("a user's extensions")?;
    rows.into_iter()
        .map(|(id, number, kind, force_login)| {
            Ok(ExtensionRef {
                id,
                kind: ExtensionType::parse(&kind).ok_or_else(|| anyhow::anyhow!("extension {id} has type {kind:?}"))?,
                number,
                force_login: force_login
                    .as_bool()
                    .or_else(|| force_login.as_i64().map(|n| n != 0))
                    .ok_or_else(|| anyhow::anyhow!("extension {id} has force_login {force_login}"))?,
            })
        })
        .collect()
}

fn inline_networks(raw: &str) -> anyhow::Result<Vec<Cidr>> {
    let rows: Vec<String> = serde_json::from_str(raw).context("a user's allowlist")?;
    rows.iter().map(|n| Cidr::parse(n).map_err(|e| anyhow::anyhow!("allowlist entry {n:?}: {e}"))).collect()
}

/// The users `query` (from [`users_joined`]) picks, with their role and
/// everything they hold: the joined rows, and their extensions and
/// allowlists as `many` says.
async fn load_users(db: &impl ConnectionTrait, query: &SelectStatement, many: Many) -> anyhow::Result<Vec<User>> {
    let backend = db.get_database_backend();
    read_users(db, backend.build(&with_many(query, many, backend)), many, None).await
}

/// `query` with the columns of [`inline_many`] that `many` reads.
fn with_many(query: &SelectStatement, many: Many, backend: DbBackend) -> SelectStatement {
    let mut query = query.clone();
    let columns = inline_many(backend);
    for (sql, alias) in columns.into_iter().take(if matches!(many, Many::Inline) { 3 } else { 2 }) {
        query.expr_as(Expr::cust(sql), Alias::new(alias));
    }
    query
}

/// The users a statement built by [`with_many`] reads; with `tenant`,
/// only those of that tenant (the others are dropped before anything of
/// them is noted).
async fn read_users(
    db: &impl ConnectionTrait,
    statement: Statement,
    many: Many,
    tenant: Option<Uuid>,
) -> anyhow::Result<Vec<User>> {
    let versions = matches!(many, Many::Inline);
    let mut rows = db.query_all_raw(statement).await.map_err(|e| db_err(e, "loading users"))?;
    if let Some(tenant) = tenant {
        let mut kept = Vec::with_capacity(rows.len());
        for row in rows {
            let of: Uuid = row.try_get("", "u_tenant_id").map_err(|e| db_err(e, "reading a user row"))?;
            if of == tenant {
                kept.push(row);
            }
        }
        rows = kept;
    }
    let (mut extensions, mut networks) = (HashMap::new(), HashMap::new());
    for row in &rows {
        let get = |e: sea_orm::DbErr| db_err(e, "reading a user row");
        let id: Uuid = row.try_get("", "u_id").map_err(get)?;
        let held: String = row.try_get("", "x_extensions").map_err(get)?;
        extensions.insert(id, inline_extensions(&held)?);
        let held: String = row.try_get("", "x_networks").map_err(get)?;
        networks.insert(id, inline_networks(&held)?);
        if versions {
            request::read(TargetType::User, id, row.try_get("", "x_version").map_err(get)?);
        }
    }
    rows.iter()
        .map(|row| {
            let get = |e: sea_orm::DbErr| db_err(e, "reading a user row");
            let u = users::Model::from_query_result(row, "u_").map_err(get)?;
            let r = roles::Model::from_query_result(row, "r_").map_err(get)?;
            let station = match (
                row.try_get::<Option<Uuid>>("", "s_id").map_err(get)?,
                row.try_get::<Option<String>>("", "s_name").map_err(get)?,
            ) {
                (Some(id), Some(name)) => Some(StationRef { id, name }),
                _ => None,
            };
            let device = match (
                row.try_get::<Option<Uuid>>("", "d_id").map_err(get)?,
                row.try_get::<Option<String>>("", "d_mac").map_err(get)?,
                row.try_get::<Option<String>>("", "d_model").map_err(get)?,
                row.try_get::<Option<i32>>("", "d_ports").map_err(get)?,
            ) {
                (Some(id), Some(mac), Some(model), Some(ports)) => {
                    Some(DeviceRef { id, mac, model, ports: u8::try_from(ports).context("a device's ports")? })
                }
                _ => None,
            };
            let phone_number = match (
                row.try_get::<Option<Uuid>>("", "n_id").map_err(get)?,
                row.try_get::<Option<String>>("", "n_number").map_err(get)?,
            ) {
                (Some(id), Some(number)) => Some(PhoneNumberRef { id, number }),
                _ => None,
            };
            let holdings = Holdings {
                station,
                device,
                extensions: extensions.remove(&u.id).unwrap_or_default(),
                phone_number,
                two_factor_enabled: row.try_get::<Option<Uuid>>("", "t_user").map_err(get)?.is_some(),
                allowed_networks: networks.remove(&u.id).unwrap_or_default(),
            };
            convert::user(u, Some(r), holdings)
        })
        .collect()
}

pub(crate) async fn find_user(db: &impl ConnectionTrait, tenant: Uuid, id: Uuid) -> anyhow::Result<Option<User>> {
    let backend = db.get_database_backend();
    let statement = Statement::from_sql_and_values(backend, find_user_sql(backend), [id.into()]);
    Ok(read_users(db, statement, Many::Inline, Some(tenant)).await?.pop())
}

/// The text of [`find_user`]'s statement, whose one value is the user's
/// id, built once per backend: building it on every read cost about a
/// tenth of a `GET /v1/users/{id}` on SQLite (perf).
///
/// It finds the user by the primary key alone, and [`find_user`] checks
/// the tenant. With `AND tenant_id = $2` as well, PostgreSQL's plan for
/// the prepared statement, made while `users` was small (a new
/// installation, statistics not yet gathered), read the user through an
/// index on `tenant_id` and filtered by id (`auto_explain`): every read
/// walked the whole tenant, and one-call set-ups, which read the user
/// back, slowed from 434 to 335 a second over their first 20,000 users.
fn find_user_sql(backend: DbBackend) -> &'static str {
    static POSTGRES: OnceLock<String> = OnceLock::new();
    static SQLITE: OnceLock<String> = OnceLock::new();
    let cell = if backend == DbBackend::Postgres { &POSTGRES } else { &SQLITE };
    cell.get_or_init(|| find_user_statement(backend, Uuid::nil()).sql)
}

/// [`find_user`]'s statement as sea-query builds it.
fn find_user_statement(backend: DbBackend, id: Uuid) -> Statement {
    let query = users_joined(Condition::all().add(users::Column::Id.eq(id)));
    backend.build(&with_many(&query, Many::Inline, backend))
}

/// Frees everything a user holds: station licence, phone number, device
/// and extensions (PRODUCT.md rule 10). Part of the caller's transaction.
pub(crate) async fn release_everything(
    db: &impl ConnectionTrait,
    user: Uuid,
    now: DateTime<Utc>,
) -> Result<(), sea_orm::DbErr> {
    release(db, user).await?;
    free_number_of(db, user, now).await?;
    free_extensions(db, user, None, now).await?;
    device_assignments::Entity::delete_by_id(user).exec(db).await?;
    Ok(())
}

/// Candidates for `q` on SQLite, from its trigram index (migration
/// `m20261204_000022_sqlite_user_search`), as a condition on users; none
/// when the index cannot narrow the search, which then reads every user
/// of the tenant: a `q` shorter than a trigram, or one so common that
/// [`SEARCH_CANDIDATES`] users of the installation have it (sorting them
/// all would cost more than walking the order's index). The candidates
/// are read once, by rowid: the page's count and its ids would each run
/// the phrase query again.
async fn sqlite_search(db: &impl ConnectionTrait, q: &str) -> anyhow::Result<Option<Condition>> {
    let q = q.to_lowercase();
    if q.chars().count() < 3 {
        return Ok(None);
    }
    // One phrase: the trigram tokenizer matches it as a substring.
    let phrase = format!("\"{}\"", q.replace('"', "\"\""));
    let candidates = Statement::from_sql_and_values(
        DbBackend::Sqlite,
        "SELECT rowid FROM users_search WHERE users_search MATCH ? LIMIT ?",
        [phrase.into(), SEARCH_CANDIDATES.into()],
    );
    let rowids: Vec<i64> = db
        .query_all_raw(candidates)
        .await
        .map_err(|e| db_err(e, "searching users"))?
        .iter()
        .map(|row| row.try_get_by_index(0))
        .collect::<Result<_, _>>()
        .map_err(|e| db_err(e, "a user's rowid"))?;
    if rowids.len() >= SEARCH_CANDIDATES as usize {
        return Ok(None);
    }
    Ok(Some(Condition::all().add(Expr::col((users::Entity, Alias::new("rowid"))).is_in(rowids))))
}

/// See [`sqlite_search`]. Over 100,000 users, finding and sorting 100
/// candidates took 0.3 ms; all 100,000 took 77 ms, against 22 ms for
/// walking the order's index and testing each user. Well under SQLite's
/// 32,766 bound parameters.
const SEARCH_CANDIDATES: i64 = 2_000;

/// What `q` finds a user by: their login, email and names, lower case
/// (all of Unicode), in one column an index can cover.
fn search_key(login: &str, email: Option<&str>, first_name: &str, last_name: &str) -> String {
    [login, email.unwrap_or(""), first_name, last_name].join(" ").to_lowercase()
}

/// What a directory knows besides its id, as stored: JSON, or nothing.
fn directory_json(directory: &Directory) -> Option<String> {
    if directory.is_bare() { None } else { serde_json::to_string(directory).ok() }
}

pub(crate) fn new_user_model(user: &NewUser, now: DateTime<Utc>) -> users::ActiveModel {
    users::ActiveModel {
        id: Set(user.id),
        tenant_id: Set(user.tenant_id),
        role_id: Set(user.role_id),
        login: Set(user.login.as_str().to_owned()),
        login_key: Set(user.login.key()),
        email: Set(user.email.as_ref().map(|e| e.as_str().to_owned())),
        first_name: Set(user.first_name.as_str().to_owned()),
        last_name: Set(user.last_name.as_str().to_owned()),
        password_hash: Set(user.password_hash.as_ref().map(|h| h.as_phc().to_owned())),
        disabled: Set(user.disabled),
        activation_at: Set(user.activation_at),
        expires_at: Set(user.expires_at),
        timezone: Set(user.timezone.as_str().to_owned()),
        language: Set(user.language.as_str().to_owned()),
        applications: Set(String::new()),
        two_factor_required: Set(false),
        search: Set(search_key(
            user.login.as_str(),
            user.email.as_ref().map(Email::as_str),
            user.first_name.as_str(),
            user.last_name.as_str(),
        )),
        external_id: Set(user.directory.external_id.clone()),
        directory: Set(directory_json(&user.directory)),
        deprovisioned_at: Set(user.directory.deprovisioned_at),
        held_station_id: Set(user.directory.held_station_id),
        created_at: Set(now),
        updated_at: Set(now),
    }
}

impl UserStore for SeaStore {
    async fn user(&self, tenant: Uuid, id: Uuid) -> anyhow::Result<Option<User>> {
        find_user(&self.db, tenant, id).await
    }

    async fn principal(&self, tenant: Uuid, id: Uuid) -> anyhow::Result<Option<Principal>> {
        // By the primary key alone, the tenant checked here: see
        // `find_user_sql`.
        let row =
            with_role(users::Entity::find_by_id(id)).one(&self.db).await.map_err(|e| db_err(e, "loading a user"))?;
        let Some((u, r)) = row.filter(|(u, _)| u.tenant_id == tenant) else { return Ok(None) };
        let networks = networks_of(&self.db, &[u.id]).await?.remove(&u.id).unwrap_or_default();
        convert::principal(u, r, networks).map(Some)
    }

    async fn login_credentials(&self, login_key: &str) -> anyhow::Result<Option<LoginCredentials>> {
        type Row = (Uuid, Uuid, Option<String>, bool, Option<DateTime<Utc>>, Option<DateTime<Utc>>);
        let row: Option<Row> = users::Entity::find()
            .select_only()
            .columns([
                users::Column::Id,
                users::Column::TenantId,
                users::Column::PasswordHash,
                users::Column::Disabled,
                users::Column::ActivationAt,
                users::Column::ExpiresAt,
            ])
            .filter(users::Column::LoginKey.eq(login_key))
            .into_tuple()
            .one(&self.db)
            .await
            .map_err(|e| db_err(e, "looking up a login"))?;
        Ok(row.map(|(user_id, tenant_id, hash, disabled, activation_at, expires_at)| LoginCredentials {
            user_id,
            tenant_id,
            hash: hash.map(PasswordHash::from_phc),
            disabled,
            activation_at,
            expires_at,
        }))
    }

    async fn rehash_password(&self, user_id: Uuid, old: &PasswordHash, new: &PasswordHash) -> anyhow::Result<bool> {
        let (txn, _writing) = self.begin_write().await?;
        let done = users::Entity::update_many()
            .col_expr(users::Column::PasswordHash, Expr::value(new.as_phc()))
            .filter(users::Column::Id.eq(user_id))
            .filter(users::Column::PasswordHash.eq(old.as_phc()))
            .exec(&txn)
            .await
            .map_err(|e| db_err(e, "rehashing a password"))?;
        txn.commit().await.map_err(|e| db_err(e, "committing a rehash"))?;
        Ok(done.rows_affected == 1)
    }

    async fn password_hash(&self, user_id: Uuid) -> anyhow::Result<Option<PasswordHash>> {
        let row =
            users::Entity::find_by_id(user_id).one(&self.db).await.map_err(|e| db_err(e, "loading a password hash"))?;
        Ok(row.and_then(|u| u.password_hash).map(PasswordHash::from_phc))
    }

    async fn list_users(
        &self,
        tenant: Uuid,
        filter: &UserFilter,
        sort: Sort<UserSortKey>,
        page: PageRequest,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Page<User>> {
        let backend = self.db.get_database_backend();
        let q = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
        let indexed = match q {
            Some(q) if backend == DbBackend::Sqlite => sqlite_search(&self.db, q).await?,
            _ => None,
        };
        let mut filter_by = match &indexed {
            // The candidates first, by rowid, then sorted: the tenant's
            // index of the order (which `+` keeps SQLite from using) would
            // walk every user to find them.
            Some(_) => Condition::all().add(Expr::cust_with_values("+\"users\".\"tenant_id\" = ?", [tenant])),
            None => Condition::all().add(users::Column::TenantId.eq(tenant)),
        };
        if let Some(q) = q {
            filter_by = filter_by.add(users::Column::Search.like(like_pattern(q)));
        }
        if let Some(candidates) = indexed {
            filter_by = filter_by.add(candidates);
        }
        if let Some(role) = filter.role_id {
            filter_by = filter_by.add(users::Column::RoleId.eq(role));
        }
        if let Some(status) = filter.status {
            filter_by = filter_by.add(status_condition(status, now));
        }
        if let Some(after) = &filter.after_login {
            filter_by = filter_by.add(users::Column::LoginKey.gt(Login::key_of(after)));
        }
        for exact in &filter.exact {
            filter_by = filter_by.add(match exact {
                ExactMatch::Id(id) => users::Column::Id.eq(*id),
                ExactMatch::Login(login) => users::Column::LoginKey.eq(Login::key_of(login)),
                ExactMatch::ExternalId(id) => users::Column::ExternalId.eq(id.as_str()),
                ExactMatch::Email(email) => {
                    Expr::expr(Func::lower(Expr::col((users::Entity, users::Column::Email)))).eq(email.to_lowercase())
                }
                ExactMatch::Nothing => Expr::val(1).eq(0),
            });
        }
        let whole_tenant = q.is_none()
            && filter.role_id.is_none()
            && filter.status.is_none()
            && filter.after_login.is_none()
            && filter.exact.is_empty();
        let counted = match whole_tenant {
            true => user_counts::of(&self.db, tenant).await.map_err(|e| db_err(e, "reading a tenant's users"))?,
            false => None,
        };
        let count = async |filter_by: Condition| {
            users::Entity::find().filter(filter_by).count(&self.db).await.map_err(|e| db_err(e, "counting users"))
        };
        // A page with `q` reads every match to sort them anyway: it counts
        // them in the same query (`COUNT(*) OVER ()`), not by reading them
        // all again.
        let total = match counted {
            Some(total) => Some(total),
            None if q.is_some() => None,
            None => Some(count(filter_by.clone()).await?),
        };
        let column = match sort.key {
            UserSortKey::Login => users::Column::LoginKey,
            UserSortKey::Email => users::Column::Email,
            UserSortKey::FirstName => users::Column::FirstName,
            UserSortKey::LastName => users::Column::LastName,
            UserSortKey::CreatedAt => users::Column::CreatedAt,
        };
        let order = match sort.direction {
            Direction::Asc => Order::Asc,
            Direction::Desc => Order::Desc,
        };
        // Ties go by id in the same direction, so that the index of the
        // order (tenant, column, id) is read forwards or backwards: ties in
        // the other direction would sort every tie (every user, when the
        // whole tenant shares a last name) on each request.
        let ordered = |q: &mut SelectStatement, table: DynIden| {
            q.order_by((table.clone(), column), order.clone()).order_by((table, users::Column::Id), order.clone());
        };
        // The page's ids first, from the users alone (an index, or the
        // users table for `q`), and only then the joins for those: an
        // offset skips index entries, not joined rows. Two queries, not a
        // subquery: PostgreSQL plans `id IN (SELECT … LIMIT 50)` as a hash
        // semi-join over every user of every tenant, joined (20 ms at
        // 15,000 users), and 50 ids as index lookups.
        let ids = match (total, backend) {
            // PostgreSQL finds the matches of `q` first, by its trigram
            // index, and then sorts them: the matches are a subquery with
            // an OFFSET, which the planner does not fold into the outer
            // query. Left to itself, it guesses that a short `q` (`0042`)
            // matches 1 % of the users and walks the order's index through
            // every user of the tenant (27 ms at 100,000 users, against
            // 0.3 ms); the count reads every match either way. A `q` that
            // every user matches costs more this way (60 ms, against 43).
            (None, DbBackend::Postgres) => {
                let matches = Alias::new("matches");
                let mut found = Query::select();
                found.columns([(users::Entity, users::Column::Id), (users::Entity, column)]);
                found.from(users::Entity).cond_where(filter_by.clone()).offset(0);
                let mut page_of = Query::select();
                page_of.column((matches.clone(), users::Column::Id)).expr(Expr::cust("COUNT(*) OVER ()"));
                page_of.from_subquery(found, matches.clone());
                ordered(&mut page_of, matches.into_iden());
                page_of.offset(page.offset()).limit(page.per_page());
                backend.build(&page_of)
            }
            _ => {
                let mut ids = Query::select();
                ids.column((users::Entity, users::Column::Id)).from(users::Entity).cond_where(filter_by.clone());
                if total.is_none() {
                    ids.expr(Expr::cust("COUNT(*) OVER ()"));
                }
                ordered(&mut ids, users::Entity.into_iden());
                ids.offset(page.offset()).limit(page.per_page());
                backend.build(&ids)
            }
        };
        let rows = self.db.query_all_raw(ids).await.map_err(|e| db_err(e, "listing users"))?;
        let ids: Vec<Uuid> = rows
            .iter()
            .map(|r| r.try_get_by_index::<Uuid>(0))
            .collect::<Result<_, _>>()
            .map_err(|e| db_err(e, "a user id"))?;
        let total = match (total, rows.first()) {
            (Some(total), _) => total,
            (None, Some(row)) => {
                let counted: i64 = row.try_get_by_index(1).map_err(|e| db_err(e, "a count of users"))?;
                u64::try_from(counted).unwrap_or(0)
            }
            // Past the last page: nothing to count with.
            (None, None) if page.offset() == 0 => 0,
            (None, None) => count(filter_by).await?,
        };
        let items = if ids.is_empty() {
            Vec::new()
        } else {
            let mut query = users_joined(Condition::all().add(users::Column::Id.is_in(ids)));
            ordered(&mut query, users::Entity.into_iden());
            load_users(&self.db, &query, Many::Page).await?
        };
        Ok(Page { items, total, page: page.page(), per_page: page.per_page() })
    }

    async fn update_user(
        &self,
        tenant: Uuid,
        id: Uuid,
        update: UserUpdate,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> Result<User, UpdateUserError> {
        let (txn, _writing) = self.begin_write().await?;
        let after = update_user_in(&txn, tenant, id, update, now, audit).await?;
        txn.commit().await.map_err(|e| db_err(e, "committing a user change"))?;
        Ok(after)
    }

    async fn delete_user(
        &self,
        tenant: Uuid,
        id: Uuid,
        now: DateTime<Utc>,
        number_rests_until: Option<DateTime<Utc>>,
        audit: &AuditEvent,
    ) -> Result<(), DeleteUserError> {
        let (txn, _writing) = self.begin_write().await?;
        if !lock_tenant(&txn, tenant).await.map_err(|e| db_err(e, "locking a tenant"))? {
            return Err(DeleteUserError::NotFound);
        }
        let target = find_user(&txn, tenant, id).await?.ok_or(DeleteUserError::NotFound)?;
        if let Some(until) = number_rests_until {
            // The number rests from now: nobody is given it before `until`.
            phone_numbers::Entity::update_many()
                .col_expr(phone_numbers::Column::AvailableAt, Expr::value(crate::stamp(until)))
                .filter(phone_numbers::Column::UserId.eq(id))
                .exec(&txn)
                .await
                .map_err(|e| db_err(e, "resting a phone number"))?;
        }
        // PRODUCT.md rule 10: what the user held is freed with them.
        release_everything(&txn, id, crate::stamp(now)).await.map_err(|e| db_err(e, "freeing what a user held"))?;
        users::Entity::delete_by_id(id).exec(&txn).await.map_err(|e| db_err(e, "deleting a user"))?;
        if target.is_active_admin(now)
            && active_admins(&txn, tenant, now).await.map_err(|e| db_err(e, "counting administrators"))? == 0
        {
            return Err(DeleteUserError::LastAdministrator);
        }
        record(&txn, audit, None).await?;
        user_counts::add(&txn, tenant, -1).await.map_err(|e| db_err(e, "counting a tenant's users"))?;
        txn.commit().await.map_err(|e| db_err(e, "committing a user deletion"))?;
        Ok(())
    }

    async fn set_password(
        &self,
        user_id: Uuid,
        hash: PasswordHash,
        keep: Option<Uuid>,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> anyhow::Result<()> {
        let (txn, _writing) = self.begin_write().await?;
        users::Entity::update_many()
            .col_expr(users::Column::PasswordHash, Expr::value(hash.as_phc().to_owned()))
            .col_expr(users::Column::UpdatedAt, Expr::value(crate::stamp(now)))
            .filter(users::Column::Id.eq(user_id))
            .exec(&txn)
            .await
            .map_err(|e| db_err(e, "storing a password hash"))?;
        revoke_sessions(&txn, user_id, keep, now).await.map_err(|e| db_err(e, "ending sessions"))?;
        retire_links(&txn, user_id, None, now).await?;
        record(&txn, audit, None).await?;
        txn.commit().await.map_err(|e| db_err(e, "committing a password change"))
    }
}

/// Applies an update to user `id` of `tenant` in `txn` (see
/// [`UserStore::update_user`]); part of the caller's transaction.
pub(crate) async fn update_user_in(
    txn: &DatabaseTransaction,
    tenant: Uuid,
    id: Uuid,
    update: UserUpdate,
    now: DateTime<Utc>,
    audit: &AuditEvent,
) -> Result<User, UpdateUserError> {
    let UserUpdate { changes, password, end_sessions, retire_links } = update;
    if changes.may_remove_an_administrator()
        && !lock_tenant(txn, tenant).await.map_err(|e| db_err(e, "locking a tenant"))?
    {
        return Err(UpdateUserError::NotFound);
    }
    // The user's own changes apply one after the other: the station a
    // change of applications is checked against cannot move meanwhile.
    if !lock_user(txn, tenant, id).await.map_err(|e| db_err(e, "locking a user"))? {
        return Err(UpdateUserError::NotFound);
    }
    let before = find_user(txn, tenant, id).await?.ok_or(UpdateUserError::NotFound)?;
    let row = users::Entity::find_by_id(id)
        .one(txn)
        .await
        .map_err(|e| db_err(e, "loading a user row"))?
        .ok_or(UpdateUserError::NotFound)?;
    let mut row = row.into_active_model();
    if let Some(login) = &changes.login {
        row.login = Set(login.as_str().to_owned());
        row.login_key = Set(login.key());
    }
    if let Some(email) = &changes.email {
        row.email = Set(email.as_ref().map(|e| e.as_str().to_owned()));
    }
    if let Some(v) = &changes.first_name {
        row.first_name = Set(v.as_str().to_owned());
    }
    if let Some(v) = &changes.last_name {
        row.last_name = Set(v.as_str().to_owned());
    }
    if let Some(v) = changes.role_id {
        row.role_id = Set(v);
    }
    if let Some(v) = changes.disabled {
        row.disabled = Set(v);
    }
    if let Some(v) = changes.activation_at {
        row.activation_at = Set(v);
    }
    if let Some(v) = changes.expires_at {
        row.expires_at = Set(v);
    }
    if let Some(v) = changes.timezone {
        row.timezone = Set(v.as_str().to_owned());
    }
    if let Some(v) = changes.language {
        row.language = Set(v.as_str().to_owned());
    }
    if let Some(wanted) = &changes.applications {
        // Rule 9, checked against the station the user holds now.
        let locked = Station::locked_for(station_of(txn, id).await?.as_ref(), wanted);
        if !locked.is_empty() {
            return Err(UpdateUserError::ApplicationsNotUnlocked(locked));
        }
        row.applications = Set(Application::to_codes(wanted));
    }
    if let Some(required) = changes.two_factor_required {
        row.two_factor_required = Set(required);
    }
    if let Some(directory) = &changes.directory {
        row.external_id = Set(directory.external_id.clone());
        row.directory = Set(directory_json(directory));
        row.deprovisioned_at = Set(directory.deprovisioned_at.map(crate::stamp));
        row.held_station_id = Set(directory.held_station_id);
    }
    // Switched on again by anyone: no hold runs any more.
    if changes.disabled == Some(false) {
        row.deprovisioned_at = Set(None);
        row.held_station_id = Set(None);
    }
    if let Some(hash) = &password {
        row.password_hash = Set(Some(hash.as_phc().to_owned()));
    }
    if retire_links {
        links::retire_links(txn, id, None, now).await?;
    }
    if changes.login.is_some() || changes.email.is_some() || changes.first_name.is_some() || changes.last_name.is_some()
    {
        let email = match &changes.email {
            Some(email) => email.as_ref(),
            None => before.email.as_ref(),
        };
        row.search = Set(search_key(
            changes.login.as_ref().unwrap_or(&before.login).as_str(),
            email.map(Email::as_str),
            changes.first_name.as_ref().unwrap_or(&before.first_name).as_str(),
            changes.last_name.as_ref().unwrap_or(&before.last_name).as_str(),
        ));
    }
    row.updated_at = Set(crate::stamp(now));
    match row.update(txn).await {
        Ok(_) => {}
        Err(e) if unique_violation(&e, "login_key") => return Err(UpdateUserError::LoginTaken),
        Err(e) => return Err(db_err(e, "updating a user").into()),
    }
    if before.is_active_admin(now)
        && active_admins(txn, tenant, now).await.map_err(|e| db_err(e, "counting administrators"))? == 0
    {
        return Err(UpdateUserError::LastAdministrator);
    }
    if let Some(end) = end_sessions {
        revoke_sessions(txn, id, end.keep, now).await.map_err(|e| db_err(e, "ending sessions"))?;
    }
    record(txn, audit, None).await?;
    let after = find_user(txn, tenant, id).await?.context("reading back a changed user")?;
    Ok(after)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cached_find_user_text_is_what_sea_query_builds_with_the_id() {
        for backend in [DbBackend::Sqlite, DbBackend::Postgres] {
            let id = Uuid::from_u128(2);
            let built = find_user_statement(backend, id);
            assert_eq!(built.sql, find_user_sql(backend));
            assert_eq!(built.values.unwrap().0, vec![id.into()]);
        }
    }
}
