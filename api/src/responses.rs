//! Error answers shared by many operations, named once for the OpenAPI
//! document. An operation lists the groups that apply to it and spells out
//! only the answers particular to it (its 404s and 409s).

use utoipa::IntoResponses;

use crate::problem::Problem;

/// Every operation behind a bearer token.
#[derive(IntoResponses)]
pub enum Unauthenticated {
    /// No valid bearer token (`unauthenticated`).
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthenticated(Problem),
}

/// Every operation that needs a permission.
#[derive(IntoResponses)]
pub enum Forbidden {
    /// The caller's role lacks the permission named in
    /// `x-required-permission` (`permission_denied`), or the request would
    /// grant or act with a permission the caller lacks
    /// (`permission_not_held`, listing `missing_permissions`).
    #[response(status = 403, content_type = "application/problem+json")]
    Forbidden(Problem),
}

/// Every operation that reads a JSON body.
#[derive(IntoResponses)]
pub enum BadBody {
    /// The body is not valid JSON (`malformed_json`).
    #[response(status = 400, content_type = "application/problem+json")]
    Malformed(Problem),
    /// The body is larger than 64 KiB (`payload_too_large`).
    #[response(status = 413, content_type = "application/problem+json")]
    TooLarge(Problem),
    /// The body is not `application/json` (`unsupported_media_type`).
    #[response(status = 415, content_type = "application/problem+json")]
    NotJson(Problem),
    /// Fields are missing, unknown or invalid (`validation_failed`, with
    /// `errors: [{field, message}]`).
    #[response(status = 422, content_type = "application/problem+json")]
    Invalid(Problem),
}

/// Every list operation.
#[derive(IntoResponses)]
pub enum BadQuery {
    /// Query parameters are unknown or invalid (`validation_failed`, with
    /// `errors: [{field, message}]`).
    #[response(status = 422, content_type = "application/problem+json")]
    Invalid(Problem),
}

/// A 404 for an object the path names, of the caller's tenant (or below
/// it): missing there, or another tenant's, which reads the same.
macro_rules! not_found {
    ($($name:ident => $description:literal,)*) => {$(
        #[derive(IntoResponses)]
        pub enum $name {
            #[response(status = 404, description = $description, content_type = "application/problem+json")]
            NotFound(Problem),
        }
    )*};
}

not_found! {
    UserNotFound => "No such user in the caller's tenant (`not_found`).",
    RoleNotFound => "No such role in the caller's tenant (`not_found`).",
    DeviceNotFound => "No such device in the caller's tenant (`not_found`).",
    ExtensionNotFound => "No such extension in the caller's tenant (`not_found`).",
    StationNotFound => "No such station in or below the caller's tenant (`not_found`).",
    PhoneNumberNotFound => "No such number in or below the caller's tenant (`not_found`).",
    TenantNotFound => "No such tenant below the caller's (`not_found`).",
    ForeignTenantNotFound => "No such tenant (`tenant_id`) below the caller's (`tenant_not_found`).",
}
