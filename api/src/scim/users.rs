//! `/scim/v2/Users`: the tenant's users as SCIM resources. Creations go
//! through the one-call set-up (`POST /v1/users`), changes through the
//! same operations as `/v1`, so every rule holds; a PATCH is applied to
//! the user's document and then written as a replace.

use actix_web::{
    HttpRequest, HttpResponse,
    http::{StatusCode, header},
    web,
};
use chrono::Utc;
use serde_json::{Value, json};
use uuid::Uuid;
use voxport_domain::{
    Voxport,
    actor::Actor,
    errors::ChangeUserError,
    extension::{ExtensionNumber, ExtensionType},
    paging::{PageRequest, Sort},
    permission::Permission,
    ports::Store,
    role::{BuiltinRole, Role},
    services::{
        CreateOptions, CreateUser, DeviceRequest, ExtensionRequest, Held, HoldingsChange, NewExtensionRequest,
        NewPassword, Telephony, UpdateUser,
    },
    station::Station,
    user::{User, UserChanges, UserFilter, UserSortKey},
    values::{Language, Timezone},
};

use super::{
    LIST_RESPONSE, ScimError, ScimType, base_url, caller, filter,
    input::{self, Desired, WantedRole, WantedTelephony},
    json_body, patch,
    resource::{Projection, render},
    scim_json,
};
use crate::problem::ApiError;

/// The most resources one list answers (`filter.maxResults`), and how
/// many it answers when `count` is not given.
pub const MAX_RESULTS: u64 = 200;

type App<S> = web::Data<Voxport<S>>;

/// Every station pool of the actor's tenant, all pages.
pub(super) async fn all_stations<S: Store>(app: &Voxport<S>, actor: &Actor) -> Result<Vec<Station>, ScimError> {
    let mut all = Vec::new();
    let mut page = Some(PageRequest::walk());
    while let Some(this) = page {
        let Some(found) = app.list_stations(actor, None, this).await? else { break };
        page = this.following(found.total);
        all.extend(found.items);
    }
    Ok(all)
}

/// Every role of the actor's tenant, all pages.
pub(super) async fn all_roles<S: Store>(app: &Voxport<S>, actor: &Actor) -> Result<Vec<Role>, ScimError> {
    let mut all = Vec::new();
    let mut page = Some(PageRequest::walk());
    while let Some(this) = page {
        let found = app.list_roles(actor, this).await?;
        page = this.following(found.total);
        all.extend(found.items);
    }
    Ok(all)
}

fn user_id(raw: &str) -> Result<Uuid, ScimError> {
    Uuid::try_parse(raw).map_err(|_| ScimError::not_found(format!("No user {raw}.")))
}

/// What a list asks for, from the query string or a `.search` body.
struct ListRequest {
    filter: Option<String>,
    start_index: i64,
    count: Option<i64>,
    projection: Projection,
}

fn query_param<'a>(query: &'a [(String, String)], name: &str) -> Option<&'a str> {
    query.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

fn integer(raw: Option<&str>, name: &str) -> Result<Option<i64>, ScimError> {
    raw.map(|r| {
        r.trim()
            .parse::<i64>()
            .map_err(|_| ScimError::bad(ScimType::InvalidValue, format!("{name} must be a whole number.")))
    })
    .transpose()
}

/// `GET /scim/v2/Users`
pub async fn list<S: Store>(req: HttpRequest, app: App<S>) -> Result<HttpResponse, ScimError> {
    let app = app.into_inner();
    let actor = caller(&req, &app, Permission::UsersRead).await?;
    let query: Vec<(String, String)> = web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .map_err(|e| ScimError::bad(ScimType::InvalidSyntax, format!("The query string does not parse: {e}")))?;
    let list = ListRequest {
        filter: query_param(&query, "filter").map(str::to_owned),
        start_index: integer(query_param(&query, "startIndex"), "startIndex")?.unwrap_or(1),
        count: integer(query_param(&query, "count"), "count")?,
        projection: Projection::new(query_param(&query, "attributes"), query_param(&query, "excludedAttributes")),
    };
    answer_list(&req, &app, &actor, list).await
}

/// `POST /scim/v2/Users/.search` and `POST /scim/v2/.search`
pub async fn search<S: Store>(req: HttpRequest, app: App<S>, body: web::Bytes) -> Result<HttpResponse, ScimError> {
    let app = app.into_inner();
    let actor = caller(&req, &app, Permission::UsersRead).await?;
    let Value::Object(body) = json_body(&body)? else {
        return Err(ScimError::bad(ScimType::InvalidSyntax, "A SearchRequest is a JSON object."));
    };
    let strings = |name: &str| -> Result<Vec<String>, ScimError> {
        match input::get(&body, name) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|i| {
                    i.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| ScimError::bad(ScimType::InvalidValue, format!("{name} lists strings.")))
                })
                .collect(),
            Some(Value::String(s)) => Ok(s.split(',').map(str::to_owned).collect()),
            Some(_) => Err(ScimError::bad(ScimType::InvalidValue, format!("{name} lists strings."))),
        }
    };
    let number = |name: &str| -> Result<Option<i64>, ScimError> {
        match input::get(&body, name) {
            None => Ok(None),
            Some(v) => v
                .as_i64()
                .map(Some)
                .ok_or_else(|| ScimError::bad(ScimType::InvalidValue, format!("{name} must be a whole number."))),
        }
    };
    let filter = match input::get(&body, "filter") {
        None => None,
        Some(Value::String(f)) => Some(f.clone()),
        Some(_) => return Err(ScimError::bad(ScimType::InvalidFilter, "filter must be a string.")),
    };
    let list = ListRequest {
        filter,
        start_index: number("startIndex")?.unwrap_or(1),
        count: number("count")?,
        projection: Projection::from_lists(&strings("attributes")?, &strings("excludedAttributes")?),
    };
    answer_list(&req, &app, &actor, list).await
}

async fn answer_list<S: Store>(
    req: &HttpRequest,
    app: &Voxport<S>,
    actor: &Actor,
    list: ListRequest,
) -> Result<HttpResponse, ScimError> {
    let exact = match list.filter.as_deref().map(str::trim).filter(|f| !f.is_empty()) {
        Some(f) => filter::parse(f)?,
        None => Vec::new(),
    };
    // RFC 7644 §3.4.2.4: below 1 is 1; a negative count is 0.
    let start = u64::try_from(list.start_index.max(1)).unwrap_or(1);
    let count = list.count.map_or(MAX_RESULTS, |c| u64::try_from(c.max(0)).unwrap_or(0).min(MAX_RESULTS));
    let filter = UserFilter { exact, ..UserFilter::default() };
    // Oldest first, then by id: the order does not move between pages.
    let sort = Sort { key: UserSortKey::CreatedAt, direction: voxport_domain::paging::Direction::Asc };
    let page = app.list_users(actor, &filter, sort, PageRequest::window(start - 1, count.max(1)), Utc::now()).await?;
    let codes = app.station_codes(actor).await?;
    let base = base_url(req);
    let resources: Vec<Value> = page
        .items
        .iter()
        .take(usize::try_from(count).unwrap_or(0))
        .map(|u| list.projection.apply(render(u, &base, &codes)))
        .collect();
    Ok(scim_json(
        StatusCode::OK,
        &json!({
            "schemas": [LIST_RESPONSE],
            "totalResults": page.total,
            "startIndex": start,
            "itemsPerPage": resources.len(),
            "Resources": resources,
        }),
    ))
}

/// `GET /scim/v2/Users/{id}`
pub async fn read<S: Store>(req: HttpRequest, app: App<S>, id: web::Path<String>) -> Result<HttpResponse, ScimError> {
    let app = app.into_inner();
    let actor = caller(&req, &app, Permission::UsersRead).await?;
    let user = found(&app, &actor, &id).await?;
    let query: Vec<(String, String)> = web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .unwrap_or_default();
    let projection = Projection::new(query_param(&query, "attributes"), query_param(&query, "excludedAttributes"));
    let codes = app.station_codes(&actor).await?;
    Ok(scim_json(StatusCode::OK, &projection.apply(render(&user, &base_url(&req), &codes))))
}

async fn found<S: Store>(app: &Voxport<S>, actor: &Actor, id: &str) -> Result<User, ScimError> {
    app.user(actor, user_id(id)?).await?.ok_or_else(|| ScimError::not_found(format!("No user {id}.")))
}

/// The ids of what a document's telephony names, checked before anything
/// is written.
#[derive(Debug, Default)]
struct Resolved {
    role_id: Option<Uuid>,
    extension: Option<ExtensionRequest>,
    phone_number: Option<Uuid>,
    station: Option<Uuid>,
    device: Option<Uuid>,
}

fn conflict(detail: impl Into<String>) -> ScimError {
    ScimError::new(StatusCode::CONFLICT, None, detail)
}

async fn resolve<S: Store>(
    app: &Voxport<S>,
    actor: &Actor,
    desired: &Desired,
    holder: Option<&User>,
) -> Result<Resolved, ScimError> {
    let role_id = match &desired.role {
        WantedRole::Unsaid => None,
        WantedRole::Least => {
            let roles = all_roles(app, actor).await?;
            roles.iter().find(|r| r.builtin == Some(BuiltinRole::User)).map(|r| r.id)
        }
        WantedRole::Named(name) => {
            let roles = all_roles(app, actor).await?;
            let role = roles.iter().find(|r| r.name.as_str().eq_ignore_ascii_case(name));
            Some(role.map(|r| r.id).ok_or_else(|| {
                ScimError::bad(ScimType::InvalidValue, format!("roles: the tenant has no role {name:?}."))
            })?)
        }
    };
    let mut out = Resolved { role_id, ..Resolved::default() };
    let t = &desired.telephony;
    if !t.asserted {
        // Unsaid: what the user holds stays (deprovisioning may still take
        // the licence).
        out.station = holder.and_then(|u| u.station.as_ref()).map(|s| s.id);
        return Ok(out);
    }
    let held = |number: &str| holder.is_some_and(|u| u.extensions.iter().any(|e| e.number == number));
    let has_one = holder.is_some_and(|u| !u.extensions.is_empty());
    out.extension = match t.extension.as_deref() {
        None => None,
        Some(number) if held(number) => None,
        // The next free number, for a user who has none yet.
        Some("") if has_one => None,
        Some("") => {
            let next = app.free_extension_numbers(actor, 1).await?;
            let number = next.first().ok_or_else(|| conflict("The tenant's extension range has no free number."))?;
            Some(new_extension(number)?)
        }
        Some(number) => match app.extension_numbered(actor, number).await? {
            Some(e) if e.holder.is_none() => Some(ExtensionRequest::Existing(e.id)),
            Some(_) => return Err(conflict(format!("Extension {number} is another user's."))),
            None => Some(new_extension(number)?),
        },
    };
    if let Some(number) = &t.phone_number {
        let numbers = app.list_phone_numbers(actor, None, false, Some(number), PageRequest::walk()).await?;
        let hit = numbers.and_then(|p| p.items.into_iter().find(|n| n.number.as_str() == number));
        out.phone_number = Some(hit.map(|n| n.id).ok_or_else(|| {
            ScimError::bad(ScimType::InvalidValue, format!("phoneNumber: {number} is not in the tenant's pool."))
        })?);
    }
    if let Some(code) = &t.station {
        let stations = all_stations(app, actor).await?;
        let hit = stations.iter().find(|s| s.code.as_str() == code);
        out.station = Some(hit.map(|s| s.id).ok_or_else(|| {
            ScimError::bad(ScimType::InvalidValue, format!("stationType: the tenant has no station {code:?}."))
        })?);
    }
    if let Some(mac) = &t.device {
        let mut page = Some(PageRequest::walk());
        let mut hit = None;
        while let (Some(this), None) = (page, hit) {
            let devices = app.list_devices(actor, false, this).await?;
            hit = devices.items.iter().find(|d| d.mac.as_str() == mac).map(|d| d.id);
            page = this.following(devices.total);
        }
        out.device = Some(hit.ok_or_else(|| {
            ScimError::bad(ScimType::InvalidValue, format!("deviceMacAddress: the tenant has no desk phone {mac}."))
        })?);
    }
    Ok(out)
}

fn new_extension(number: &str) -> Result<ExtensionRequest, ScimError> {
    let number = ExtensionNumber::parse(number).map_err(|e| {
        ScimError::bad(ScimType::InvalidValue, format!("{}:extension: {e}", super::discovery::EXTENSION))
    })?;
    Ok(ExtensionRequest::New(NewExtensionRequest {
        number,
        kind: ExtensionType::Sip,
        name: None,
        force_login: false,
        voicemail_enabled: true,
    }))
}

/// `POST /scim/v2/Users`
pub async fn create<S: Store>(req: HttpRequest, app: App<S>, body: web::Bytes) -> Result<HttpResponse, ScimError> {
    let app = app.into_inner();
    let actor = caller(&req, &app, Permission::UsersWrite).await?;
    let mut desired = input::read(&json_body(&body)?)?;
    // A new user's absent attributes take the portal's defaults, which the
    // directory then sees; only a removal leaves one unassigned.
    desired.directory.unassigned.clear();
    let resolved = resolve(&app, &actor, &desired, None).await?;
    let password = match (desired.password, &desired.email) {
        (Some(p), _) => NewPassword::Given(p),
        (None, Some(_)) => NewPassword::ByLink,
        (None, None) => NewPassword::Unset,
    };
    let request = CreateUser {
        login: desired.login,
        send_welcome_email: desired.email.is_some(),
        email: desired.email,
        first_name: desired.first_name,
        last_name: desired.last_name,
        role_id: resolved.role_id,
        password,
        disabled: desired.active == Some(false),
        activation_at: None,
        expires_at: None,
        timezone: desired.timezone.unwrap_or(Timezone::UTC),
        language: desired.language.unwrap_or(Language::ENGLISH),
        telephony: Telephony {
            extension: resolved.extension,
            phone_number_id: resolved.phone_number,
            station_id: resolved.station,
            device: resolved.device.map(|id| DeviceRequest { id, ports: None }),
            applications: None,
        },
        directory: desired.directory,
    };
    let created =
        app.create_user(&actor, request, CreateOptions::default(), Utc::now()).await.map_err(ApiError::from)?;
    let codes = app.station_codes(&actor).await?;
    let base = base_url(&req);
    let location = format!("{base}/Users/{}", created.user.id);
    let mut response = scim_json(StatusCode::CREATED, &render(&created.user, &base, &codes));
    if let Ok(value) = header::HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

/// `PUT /scim/v2/Users/{id}`: the document replaces what the directory
/// says of the user; read-only values in it are ignored.
pub async fn replace<S: Store>(
    req: HttpRequest,
    app: App<S>,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ScimError> {
    let app = app.into_inner();
    let actor = caller(&req, &app, Permission::UsersWrite).await?;
    let doc = json_body(&body)?;
    let mut tries = 0;
    let changed = loop {
        let user = found(&app, &actor, &id).await?;
        if let Some(changed) = update_to(&app, &actor, user, input::read(&doc)?).await? {
            break changed;
        }
        tries = changed_meanwhile(tries)?;
    };
    let codes = app.station_codes(&actor).await?;
    Ok(scim_json(StatusCode::OK, &render(&changed, &base_url(&req), &codes)))
}

/// How often a change is worked out again when the user changed while it
/// was applied, before the client is told to retry.
const TRIES: u32 = 3;

/// One more try after `tries`, or the conflict that ends them.
fn changed_meanwhile(tries: u32) -> Result<u32, ScimError> {
    if tries + 1 >= TRIES {
        return Err(conflict("The user changed while this change was applied; read them again and retry."));
    }
    Ok(tries + 1)
}

/// `PATCH /scim/v2/Users/{id}`
pub async fn patch<S: Store>(
    req: HttpRequest,
    app: App<S>,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ScimError> {
    let app = app.into_inner();
    let actor = caller(&req, &app, Permission::UsersWrite).await?;
    let operations = json_body(&body)?;
    let codes = app.station_codes(&actor).await?;
    let base = base_url(&req);
    let mut tries = 0;
    let changed = loop {
        let user = found(&app, &actor, &id).await?;
        let mut doc = render(&user, &base, &codes);
        patch::apply(&mut doc, &operations)?;
        if let Some(changed) = update_to(&app, &actor, user, input::read(&doc)?).await? {
            break changed;
        }
        tries = changed_meanwhile(tries)?;
    };
    Ok(scim_json(StatusCode::OK, &render(&changed, &base, &codes)))
}

/// Makes `user` what `desired` says, the account and what they hold in
/// one transaction: all of it or none of it. `None`: what the user holds
/// changed meanwhile, so the change was not made; work it out again.
async fn update_to<S: Store>(
    app: &Voxport<S>,
    actor: &Actor,
    user: User,
    mut desired: Desired,
) -> Result<Option<User>, ScimError> {
    let mut resolved = resolve(app, actor, &desired, Some(&user)).await?;
    // While the user stays switched off, a directory sending the licence
    // the hold gave back (an Okta full PUT on every update) does not take
    // it back; switching them on does.
    if user.disabled
        && desired.active != Some(true)
        && let Some(held) = user.directory.held_station_id
        && resolved.station == Some(held)
    {
        resolved.station = user.station.as_ref().map(|s| s.id);
    }
    let now = Utc::now();
    // Deprovisioning (`voxport_domain::deprovisioning`): deactivated, the
    // user keeps what they hold for the tenant's hold, and gives back the
    // licence at once if the tenant says so; reactivated, they take it
    // again.
    desired.directory.deprovisioned_at = user.directory.deprovisioned_at;
    desired.directory.held_station_id = user.directory.held_station_id;
    desired.directory.held_applications.clone_from(&user.directory.held_applications);
    let deactivating = desired.active == Some(false) && !user.disabled;
    let reactivating = desired.active == Some(true) && user.disabled;
    // Giving back a licence disables the applications it unlocked; those a
    // new one unlocks too are enabled again with it.
    let mut applications = None;
    if deactivating {
        let rules = app.deprovision_settings(actor).await?;
        desired.directory.deprovisioned_at = Some(now);
        if rules.release_station
            && let Some(station) = &user.station
        {
            desired.directory.held_station_id = Some(station.id);
            desired.directory.held_applications.clone_from(&user.applications);
            if resolved.station == Some(station.id) {
                resolved.station = None;
            }
        }
    }
    if reactivating {
        if let Some(held) = user.directory.held_station_id
            && resolved.station.is_none()
            && desired.telephony.station.is_none()
        {
            // A pool deleted during the hold is not taken again.
            if let Some(pool) = all_stations(app, actor).await?.into_iter().find(|s| s.id == held) {
                resolved.station = Some(held);
                applications = Some(pool.unlocked(&user.directory.held_applications));
            }
        }
        desired.directory.deprovisioned_at = None;
        desired.directory.held_station_id = None;
        desired.directory.held_applications.clear();
    }
    if let Some(new) = resolved.station.filter(|s| Some(*s) != user.station.as_ref().map(|s| s.id))
        && applications.is_none()
        && !user.applications.is_empty()
    {
        let pool = all_stations(app, actor).await?.into_iter().find(|s| s.id == new);
        applications = pool.map(|p| p.unlocked(&user.applications));
    }
    let holdings = holdings_change(&user, &desired.telephony, resolved.extension.take(), &resolved);
    let differs = |a: &str, b: &str| a != b;
    let changes = UserChanges {
        login: differs(desired.login.as_str(), user.login.as_str()).then(|| desired.login.clone()),
        email: (desired.email.as_ref().map(|e| e.as_str().to_ascii_lowercase())
            != user.email.as_ref().map(|e| e.as_str().to_ascii_lowercase()))
        .then(|| desired.email.clone()),
        first_name: differs(desired.first_name.as_str(), user.first_name.as_str()).then(|| desired.first_name.clone()),
        last_name: differs(desired.last_name.as_str(), user.last_name.as_str()).then(|| desired.last_name.clone()),
        role_id: resolved.role_id.filter(|r| *r != user.role.id),
        disabled: desired.active.map(|a| !a).filter(|d| *d != user.disabled),
        timezone: desired.timezone.filter(|t| *t != user.timezone),
        language: desired.language.filter(|l| *l != user.language),
        applications: applications.filter(|a| !a.is_empty()),
        directory: (desired.directory != user.directory).then(|| desired.directory.clone()),
        ..UserChanges::default()
    };
    let update = UpdateUser { changes, password: desired.password };
    match app.change_user_and_holdings(actor, user.id, update, holdings, now).await {
        Ok(user) => Ok(Some(user)),
        Err(ChangeUserError::Changed) => Ok(None),
        Err(e) => Err(ApiError::from(e).into()),
    }
}

/// What the telephony extension's values change of what `user` holds.
fn holdings_change(
    user: &User,
    wanted: &WantedTelephony,
    extension: Option<ExtensionRequest>,
    resolved: &Resolved,
) -> HoldingsChange {
    // The first extension is the directory's to change.
    let current = user.extensions.first();
    let keep = !wanted.asserted
        || match (wanted.extension.as_deref(), current) {
            (Some(n), Some(c)) => c.number == n || n.is_empty(),
            (None, None) => true,
            _ => false,
        };
    let number_now = user.phone_number.as_ref().map(|n| n.number.as_str());
    let number_changes = wanted.asserted && wanted.phone_number.as_deref() != number_now;
    let station_changes = resolved.station != user.station.as_ref().map(|s| s.id);
    let device_changes = wanted.asserted && resolved.device != user.device.as_ref().map(|d| d.id);
    HoldingsChange {
        worked_out_from: Held::of(user),
        release_extension: current.filter(|_| !keep).map(|c| c.id),
        give_extension: if keep { None } else { extension },
        release_phone_number: number_changes && number_now.is_some(),
        give_phone_number: resolved.phone_number.filter(|_| number_changes),
        release_station: station_changes && user.station.is_some(),
        give_station: resolved.station.filter(|_| station_changes),
        release_device: device_changes && user.device.is_some(),
        give_device: resolved.device.filter(|_| device_changes),
    }
}

/// `DELETE /scim/v2/Users/{id}`
pub async fn delete<S: Store>(req: HttpRequest, app: App<S>, id: web::Path<String>) -> Result<HttpResponse, ScimError> {
    let app = app.into_inner();
    let actor = caller(&req, &app, Permission::UsersWrite).await?;
    let id = user_id(&id)?;
    let now = Utc::now();
    // Their number rests before anyone is given it (the tenant's setting).
    let rules = app.deprovision_settings(&actor).await?;
    let rests_until = (rules.number_rest_days > 0).then(|| rules.number_rests_until(now));
    app.delete_user_resting_number(&actor, id, rests_until, now).await.map_err(ApiError::from)?;
    Ok(HttpResponse::NoContent().finish())
}
