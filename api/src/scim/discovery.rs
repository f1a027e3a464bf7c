//! Discovery (RFC 7644 §4): what the service offers, its one resource
//! type and the schemas it publishes. The schemas are the tenant's: their
//! canonical values name its roles, its station codes, and the extension
//! numbers, phone numbers and desk phones it has free, so an identity
//! provider offers an administrator only what would be accepted.

use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use serde_json::{Value, json};
use voxport_domain::{
    Voxport,
    actor::Actor,
    paging::PageRequest,
    permission::Permission,
    ports::Store,
    values::{SUPPORTED_LANGUAGES, Timezone},
};

use super::{CORE_USER, LIST_RESPONSE, ScimError, base_url, caller, scim_json};

/// The telephony extension of a user (issue 14): flat single-valued
/// strings, as Entra ID allows no more.
pub const EXTENSION: &str = "urn:ietf:params:scim:schemas:extension:voxport:2.0:User";

/// The most free extension numbers, phone numbers or desk phones
/// published as canonical values.
const FREE_LISTED: usize = 100;

/// What a tenant offers, named as SCIM names it.
#[derive(Debug, Default)]
pub(crate) struct Vocabulary {
    pub roles: Vec<String>,
    pub stations: Vec<String>,
    pub free_extensions: Vec<String>,
    pub free_numbers: Vec<String>,
    pub free_devices: Vec<String>,
}

pub(crate) async fn vocabulary<S: Store>(app: &Voxport<S>, actor: &Actor) -> Result<Vocabulary, ScimError> {
    // The first free ones only: the lists are samples, not inventories.
    let page = PageRequest::window(0, FREE_LISTED as u64);
    let roles = super::users::all_roles(app, actor).await?;
    let stations = super::users::all_stations(app, actor).await?;
    let numbers = app.list_phone_numbers(actor, None, true, None, page).await?.map(|p| p.items).unwrap_or_default();
    let devices = app.list_devices(actor, true, page).await?;
    Ok(Vocabulary {
        roles: roles.iter().map(|r| r.name.as_str().to_owned()).collect(),
        stations: stations.iter().map(|s| s.code.as_str().to_owned()).collect(),
        free_extensions: app.free_extension_numbers(actor, FREE_LISTED).await?,
        free_numbers: numbers.iter().take(FREE_LISTED).map(|n| n.number.as_str().to_owned()).collect(),
        free_devices: devices.items.iter().take(FREE_LISTED).map(|d| d.mac.as_str().to_owned()).collect(),
    })
}

fn meta(req: &HttpRequest, resource_type: &str, path: &str) -> Value {
    json!({"resourceType": resource_type, "location": format!("{}{path}", base_url(req))})
}

/// `GET /scim/v2/ServiceProviderConfig`
pub async fn service_provider_config<S: Store>(
    req: HttpRequest,
    app: web::Data<Voxport<S>>,
) -> Result<HttpResponse, ScimError> {
    caller(&req, &app, Permission::UsersRead).await?;
    Ok(scim_json(StatusCode::OK, &provider_config(&req)))
}

fn provider_config(req: &HttpRequest) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "patch": {"supported": true},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": super::users::MAX_RESULTS},
        "changePassword": {"supported": false},
        "sort": {"supported": false},
        "etag": {"supported": false},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "Bearer token",
            "description": "A SCIM token from POST /v1/scim-tokens, or an API client's access token holding the scim permission",
            "primary": true,
        }],
        "meta": meta(req, "ServiceProviderConfig", "/ServiceProviderConfig"),
    })
}

fn user_type(req: &HttpRequest) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
        "id": "User",
        "name": "User",
        "endpoint": "/Users",
        "description": "A portal user, with the telephony the one-call set-up gives",
        "schema": CORE_USER,
        "schemaExtensions": [{"schema": EXTENSION, "required": false}],
        "meta": meta(req, "ResourceType", "/ResourceTypes/User"),
    })
}

fn list(resources: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_RESPONSE],
        "totalResults": resources.len(),
        "startIndex": 1,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}

/// `GET /scim/v2/ResourceTypes`
pub async fn resource_types<S: Store>(req: HttpRequest, app: web::Data<Voxport<S>>) -> Result<HttpResponse, ScimError> {
    caller(&req, &app, Permission::UsersRead).await?;
    Ok(scim_json(StatusCode::OK, &list(vec![user_type(&req)])))
}

/// `GET /scim/v2/ResourceTypes/{id}`
pub async fn resource_type<S: Store>(
    req: HttpRequest,
    app: web::Data<Voxport<S>>,
    id: web::Path<String>,
) -> Result<HttpResponse, ScimError> {
    caller(&req, &app, Permission::UsersRead).await?;
    if id.as_str() != "User" {
        return Err(ScimError::not_found(format!("No resource type {id}.")));
    }
    Ok(scim_json(StatusCode::OK, &user_type(&req)))
}

/// `GET /scim/v2/Schemas`
pub async fn schemas<S: Store>(req: HttpRequest, app: web::Data<Voxport<S>>) -> Result<HttpResponse, ScimError> {
    let app = app.into_inner();
    let actor = caller(&req, &app, Permission::UsersRead).await?;
    let words = vocabulary(&app, &actor).await?;
    Ok(scim_json(StatusCode::OK, &list(vec![user_schema(&req, &words), extension_schema(&req, &words)])))
}

/// `GET /scim/v2/Schemas/{urn}`
pub async fn schema<S: Store>(
    req: HttpRequest,
    app: web::Data<Voxport<S>>,
    id: web::Path<String>,
) -> Result<HttpResponse, ScimError> {
    let app = app.into_inner();
    let actor = caller(&req, &app, Permission::UsersRead).await?;
    let words = || vocabulary(&app, &actor);
    let schema = match id.as_str() {
        CORE_USER => user_schema(&req, &words().await?),
        EXTENSION => extension_schema(&req, &words().await?),
        other => return Err(ScimError::not_found(format!("No schema {other}."))),
    };
    Ok(scim_json(StatusCode::OK, &schema))
}

/// A string attribute; `canonical` when there are suggested values.
fn string(name: &str, description: &str, required: bool, canonical: &[String]) -> Value {
    let mut a = json!({
        "name": name, "type": "string", "multiValued": false, "description": description,
        "required": required, "caseExact": false, "mutability": "readWrite", "returned": "default",
        "uniqueness": "none",
    });
    if !canonical.is_empty() {
        a["canonicalValues"] = json!(canonical);
    }
    a
}

fn sub(name: &str, kind: &str, description: &str, required: bool) -> Value {
    json!({
        "name": name, "type": kind, "multiValued": false, "description": description, "required": required,
        "caseExact": false, "mutability": "readWrite", "returned": "default", "uniqueness": "none",
    })
}

fn contacts(name: &str, description: &str, types: &[&str]) -> Value {
    let mut kind = sub("type", "string", "A label: work, home, mobile, other", false);
    kind["canonicalValues"] = json!(types);
    json!({
        "name": name, "type": "complex", "multiValued": true, "description": description, "required": false,
        "mutability": "readWrite", "returned": "default", "uniqueness": "none",
        "subAttributes": [sub("value", "string", "The value", false), kind, sub("primary", "boolean", "The preferred one", false)],
    })
}

fn user_schema(req: &HttpRequest, words: &Vocabulary) -> Value {
    let mut user_name = string("userName", "The login, unique on the whole platform; case-insensitive", true, &[]);
    user_name["uniqueness"] = json!("server");
    let mut name = json!({
        "name": "name", "type": "complex", "multiValued": false, "required": true,
        "description": "The user's names; voxport needs both", "mutability": "readWrite", "returned": "default",
        "uniqueness": "none",
        "subAttributes": [sub("givenName", "string", "First name", true), sub("familyName", "string", "Last name", true)],
    });
    name["caseExact"] = json!(false);
    let timezones: Vec<String> = Timezone::all_names().map(str::to_owned).collect();
    let languages: Vec<String> = SUPPORTED_LANGUAGES.iter().map(|l| (*l).to_owned()).collect();
    let mut password = string("password", "A new password; never returned", false, &[]);
    password["mutability"] = json!("writeOnly");
    password["returned"] = json!("never");
    let mut role_value = sub("value", "string", "The name of one of the tenant's roles", false);
    if !words.roles.is_empty() {
        role_value["canonicalValues"] = json!(words.roles);
    }
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
        "id": CORE_USER,
        "name": "User",
        "description": "A portal user",
        "attributes": [
            user_name,
            name,
            string("displayName", "How the directory shows the user", false, &[]),
            contacts("emails", "Email addresses; the primary one (else the work one, else the first) receives voxport's emails", &["work", "home", "other"]),
            contacts("phoneNumbers", "Numbers to reach the user at: contact data, never the phone number voxport gives", &["work", "home", "mobile", "other"]),
            sub("active", "boolean", "Whether the user may sign in; false switches the account off", false),
            string("timezone", "An IANA time zone", false, &timezones),
            string("preferredLanguage", "The language of the portal and of emails", false, &languages),
            password,
            {
                "name": "roles", "type": "complex", "multiValued": true, "required": false,
                "description": "The user's role, by name (one)", "mutability": "readWrite", "returned": "default",
                "uniqueness": "none", "subAttributes": [role_value],
            },
        ],
        "meta": meta(req, "Schema", &format!("/Schemas/{CORE_USER}")),
    })
}

fn extension_schema(req: &HttpRequest, words: &Vocabulary) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
        "id": EXTENSION,
        "name": "VoxportUser",
        "description": "What the user is given to make calls, under the rules of the one-call set-up",
        "attributes": [
            string("extension", "The extension number; empty gives the next free one", false, &words.free_extensions),
            string("phoneNumber", "A phone number (E.164) from the tenant's free pool", false, &words.free_numbers),
            string("stationType", "The code of the station licence pool", false, &words.stations),
            string("deviceMacAddress", "The MAC address of a free desk phone of the tenant", false, &words.free_devices),
        ],
        "meta": meta(req, "Schema", &format!("/Schemas/{EXTENSION}")),
    })
}
