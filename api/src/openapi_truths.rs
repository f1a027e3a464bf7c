//! What the derived OpenAPI document cannot say by itself, added after it
//! is built (issue 11, "The schema tells a fuzzer the truth"):
//!
//! - A given `password` and `generate_password: true` exclude each other:
//!   a `not` makes the pair schema-invalid.
//! - Without a `login`, the email address is the login, so it must be one;
//!   without a password, the welcome email must go out to carry the link
//!   that sets one: `allOf` of two `anyOf`s says so.
//! - A body the server takes or leaves (no body at all is fine) is not
//!   `required`.
//! - Links from the operations that create or list an object to the
//!   operations that take its id, so that a stateful client (or fuzzer)
//!   can follow a new user to its device, station, number and so on.

use utoipa::{
    Modify,
    openapi::{OpenApi, RefOr, link::Link, path::Operation, schema::Schema},
};

/// The operations whose JSON body may be left out.
const OPTIONAL_BODIES: [(&str, &str); 1] = [("post", "/v1/api-clients/{id}/rotate-secret")];

/// The schemas whose `password` and `generate_password` exclude each other.
const PASSWORD_CHOICES: [&str; 2] = ["CreateUserBody", "TenantAdminBody"];

/// (method and path of the operation, its answer, link name, the
/// operation linked to, its parameters from the answer).
type LinkSpec =
    (&'static str, &'static str, &'static str, &'static str, &'static str, &'static [(&'static str, &'static str)]);

const USER: &[(&str, &str)] = &[("id", "$response.body#/id")];

const LINKS: &[LinkSpec] = &[
    ("post", "/v1/users", "201", "GetUser", "get_user", USER),
    ("post", "/v1/users", "201", "UpdateUser", "update_user", USER),
    ("post", "/v1/users", "201", "DeleteUser", "delete_user", USER),
    ("post", "/v1/users", "201", "AssignDevice", "assign_device", USER),
    ("post", "/v1/users", "201", "ReleaseDevice", "release_device", USER),
    ("post", "/v1/users", "201", "AssignStation", "assign_station", USER),
    ("post", "/v1/users", "201", "ReleaseStation", "release_station", USER),
    ("post", "/v1/users", "201", "AssignPhoneNumber", "assign_phone_number", USER),
    ("post", "/v1/users", "201", "ReleasePhoneNumber", "release_phone_number", USER),
    ("post", "/v1/users", "201", "ResetTwoFactor", "reset_two_factor", USER),
    ("post", "/v1/users", "201", "Unlock", "unlock_user", USER),
    ("post", "/v1/users", "201", "AllowedNetworks", "set_allowed_networks", USER),
    ("post", "/v1/users", "201", "Emails", "list_user_emails", USER),
    ("post", "/v1/users", "201", "WelcomeEmail", "resend_welcome_email", USER),
    ("post", "/v1/extensions", "201", "GetExtension", "get_extension", &[("id", "$response.body#/id")]),
    ("post", "/v1/extensions", "201", "SipCredentials", "get_sip_credentials", &[("id", "$response.body#/id")]),
    ("post", "/v1/extensions", "201", "RotateSecret", "rotate_sip_secret", &[("id", "$response.body#/id")]),
    ("post", "/v1/devices", "201", "GetDevice", "get_device", &[("id", "$response.body#/id")]),
    ("post", "/v1/stations", "201", "GetStation", "get_station", &[("id", "$response.body#/id")]),
    ("post", "/v1/phone-numbers", "201", "GetPhoneNumber", "get_phone_number", &[("id", "$response.body#/id")]),
    ("post", "/v1/roles", "201", "GetRole", "get_role", &[("id", "$response.body#/id")]),
    ("post", "/v1/tenants", "201", "GetTenant", "get_tenant", &[("id", "$response.body#/tenant/id")]),
    ("post", "/v1/tenants", "201", "SupportAccess", "start_support_access", &[("id", "$response.body#/tenant/id")]),
    ("get", "/v1/claims", "200", "GrantClaim", "grant_claim", &[("id", "$response.body#/items/0/id")]),
];

pub struct SchemaTruths;

fn operation<'a>(openapi: &'a mut OpenApi, method: &str, path: &str) -> Option<&'a mut Operation> {
    let item = openapi.paths.paths.get_mut(path)?;
    match method {
        "get" => item.get.as_mut(),
        "post" => item.post.as_mut(),
        _ => None,
    }
}

impl Modify for SchemaTruths {
    fn modify(&self, openapi: &mut OpenApi) {
        if let Some(components) = openapi.components.as_mut() {
            for name in PASSWORD_CHOICES {
                if let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut(name) {
                    let not = serde_json::json!({
                        "required": ["password", "generate_password"],
                        "properties": {"password": {"type": "string"}, "generate_password": {"const": true}},
                    });
                    // Absent or null, the login defaults to the email
                    // address, which must then pass as a login.
                    let login_or_email = serde_json::json!({"anyOf": [
                        {"required": ["login"], "properties": {"login": {"type": "string"}}},
                        {"required": ["email"], "properties": {"email": {"type": "string", "maxLength": 64, "pattern": r"^[!-~]+$"}}},
                    ]});
                    // Without a password, only the welcome email (sent to
                    // an address) can carry the link that sets one.
                    let password_or_link = serde_json::json!({"anyOf": [
                        {"required": ["password"], "properties": {"password": {"type": "string"}}},
                        {"required": ["generate_password"], "properties": {"generate_password": {"const": true}}},
                        {
                            "required": ["email"],
                            "properties": {"email": {"type": "string"}},
                            "not": {"required": ["send_welcome_email"], "properties": {"send_welcome_email": {"const": false}}},
                        },
                    ]});
                    // One key: extensions are a hash map, and a second key
                    // would come out in either order.
                    let rules = serde_json::json!([{"not": not}, login_or_email, password_or_link]);
                    object.extensions.get_or_insert_with(Default::default).insert("allOf".to_owned(), rules);
                }
            }
        }
        for (method, path) in OPTIONAL_BODIES {
            if let Some(RefOr::T(body)) = operation(openapi, method, path).and_then(|op| op.request_body.as_mut()) {
                body.required = Some(utoipa::openapi::Required::False);
            }
        }
        for (method, path, status, name, target, parameters) in LINKS {
            let Some(op) = operation(openapi, method, path) else { continue };
            let Some(RefOr::T(response)) = op.responses.responses.get_mut(*status) else { continue };
            let link = parameters
                .iter()
                .fold(Link::builder().operation_id(*target), |link, (param, value)| link.parameter(*param, *value))
                .build();
            response.links.insert((*name).to_owned(), RefOr::T(link));
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_link_names_an_operation_that_exists() {
        let spec = serde_json::to_value(crate::openapi()).unwrap();
        let mut ids = std::collections::HashSet::new();
        for item in spec["paths"].as_object().unwrap().values() {
            for op in item.as_object().unwrap().values() {
                if let Some(id) = op["operationId"].as_str() {
                    ids.insert(id.to_owned());
                }
            }
        }
        let mut links = 0;
        for (method, path, status, name, target, _) in super::LINKS {
            let link = &spec["paths"][path][method]["responses"][status]["links"][name];
            assert_eq!(link["operationId"], *target, "{path} {name}");
            assert!(ids.contains(*target), "{target} is no operation");
            links += 1;
        }
        assert!(links > 20);
        for name in super::PASSWORD_CHOICES {
            assert!(spec["components"]["schemas"][name]["allOf"][0]["not"].is_object(), "{name}");
        }
    }
}
