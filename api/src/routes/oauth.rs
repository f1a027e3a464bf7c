//! OAuth2 for integrators (issue 9): the token endpoint with the client
//! credentials grant (RFC 6749 §4.4), revocation (RFC 7009),
//! introspection (RFC 7662) and the authorization server metadata (RFC
//! 8414). Requests are form-encoded; errors have RFC 6749 §5.2's shape
//! (`{error, error_description}`), not problem+json, so stock OAuth2
//! libraries understand them.

use actix_web::{HttpRequest, HttpResponse, http::StatusCode, http::header, web};
use chrono::Utc;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;
use voxport_domain::{
    Voxport,
    errors::OAuthError,
    permission::Permission,
    ports::Store,
    services::{ClientCredentials, Introspection},
};

use crate::{client_ip::ClientIp, extract::basic_credentials};

/// A token request (RFC 6749 §4.4.2), form-encoded.
#[derive(ToSchema)]
#[allow(dead_code, reason = "documents the form; the handler reads it field by field")]
pub struct TokenForm {
    /// `client_credentials`.
    #[schema(example = "client_credentials")]
    grant_type: String,
    /// Permission names separated by spaces; all the client's when absent.
    #[schema(example = "users:read extensions:read")]
    scope: Option<String>,
    /// With `client_secret_post`; otherwise HTTP Basic (`client_secret_basic`).
    client_id: Option<String>,
    client_secret: Option<String>,
}

/// A revocation or introspection request, form-encoded.
#[derive(ToSchema)]
#[allow(dead_code, reason = "documents the form; the handler reads it field by field")]
pub struct TokenLookupForm {
    /// The access token.
    token: String,
    /// `access_token`; any other hint is ignored.
    token_type_hint: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

/// An access token (RFC 6749 §5.1).
#[derive(Serialize, ToSchema)]
pub struct TokenView {
    pub access_token: String,
    /// `Bearer`.
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds.
    #[schema(example = 600)]
    pub expires_in: i64,
    /// The permissions it carries, separated by spaces.
    #[schema(example = "users:read extensions:read")]
    pub scope: String,
}

/// An OAuth2 error (RFC 6749 §5.2).
#[derive(Serialize, ToSchema)]
pub struct OAuthErrorView {
    /// `invalid_request`, `invalid_client`, `unauthorized_client`,
    /// `unsupported_grant_type` or `invalid_scope`.
    #[schema(example = "invalid_client")]
    pub error: &'static str,
    pub error_description: String,
}

/// What introspection says of a token (RFC 7662 §2.2).
#[derive(Serialize, ToSchema)]
pub struct IntrospectionView {
    /// Whether it would be accepted now; nothing else is said when not.
    pub active: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// The API client, for a client's token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The user, or the API client.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<&'static str>,
}

/// Authorization server metadata (RFC 8414 §2).
#[derive(Serialize, ToSchema)]
pub struct ServerMetadataView {
    pub issuer: String,
    pub token_endpoint: String,
    pub revocation_endpoint: String,
    pub introspection_endpoint: String,
    pub jwks_uri: String,
    /// No authorization endpoint: only the client credentials grant.
    pub response_types_supported: Vec<&'static str>,
    pub grant_types_supported: Vec<&'static str>,
    pub token_endpoint_auth_methods_supported: Vec<&'static str>,
    pub revocation_endpoint_auth_methods_supported: Vec<&'static str>,
    pub introspection_endpoint_auth_methods_supported: Vec<&'static str>,
    /// Every permission name.
    pub scopes_supported: Vec<&'static str>,
}

const AUTH_METHODS: [&str; 2] = ["client_secret_basic", "client_secret_post"];

/// The parameters the endpoints read.
const PARAMETERS: [&str; 6] = ["grant_type", "scope", "client_id", "client_secret", "token", "token_type_hint"];

/// An OAuth2 refusal, answered in RFC 6749's shape.
struct Refusal {
    status: StatusCode,
    error: &'static str,
    description: String,
    retry_after: Option<u64>,
}

impl Refusal {
    fn new(error: &'static str, description: impl Into<String>) -> Self {
        Self { status: StatusCode::BAD_REQUEST, error, description: description.into(), retry_after: None }
    }

    fn response(self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        response.insert_header((header::CACHE_CONTROL, "no-store"));
        if self.status == StatusCode::UNAUTHORIZED {
            response.insert_header((header::WWW_AUTHENTICATE, "Basic realm=\"voxport\", charset=\"UTF-8\""));
        }
        if let Some(seconds) = self.retry_after {
            response.insert_header((header::RETRY_AFTER, seconds.to_string()));
        }
        response.json(OAuthErrorView { error: self.error, error_description: self.description })
    }
}

impl From<OAuthError> for Refusal {
    fn from(e: OAuthError) -> Self {
        match e {
            OAuthError::InvalidClient => Self {
                status: StatusCode::UNAUTHORIZED,
                ..Self::new("invalid_client", "Unknown client, wrong secret, or a client that is disabled or expired.")
            },
            OAuthError::UnauthorizedClient => {
                Self::new("unauthorized_client", "The client may not be used from this address.")
            }
            OAuthError::InvalidScope(name) => {
                Self::new("invalid_scope", format!("`{name}` is not a permission this client holds."))
            }
            OAuthError::TooMany { retry_after } => Self {
                status: StatusCode::TOO_MANY_REQUESTS,
                retry_after: Some(retry_after),
                ..Self::new("invalid_client", "Too many failed client authentications from your address; wait.")
            },
            OAuthError::Unknown(e) => {
                tracing::error!(error = ?e, "an OAuth2 request failed");
                Self {
                    status: StatusCode::SERVICE_UNAVAILABLE,
                    retry_after: Some(5),
                    ..Self::new("temporarily_unavailable", "The service is unavailable; try again shortly.")
                }
            }
        }
    }
}

/// The parameters of a form-encoded request; each at most once (RFC 6749
/// §3.2).
struct Form(Vec<(String, String)>);

impl Form {
    fn read(req: &HttpRequest, body: &[u8]) -> Result<Self, Refusal> {
        let form_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"));
        if !form_type {
            return Err(Refusal::new("invalid_request", "Send the parameters as application/x-www-form-urlencoded."));
        }
        // Unknown parameters are ignored and empty ones are as if omitted
        // (RFC 6749 §3.2, §3.1); known ones may appear once.
        let pairs: Vec<(String, String)> = form_urlencoded::parse(body)
            .into_owned()
            .filter(|(name, value)| PARAMETERS.contains(&name.as_str()) && !value.is_empty())
            .collect();
        for (i, (name, _)) in pairs.iter().enumerate() {
            if pairs[..i].iter().any(|(earlier, _)| earlier == name) {
                return Err(Refusal::new("invalid_request", format!("`{name}` is given more than once.")));
            }
        }
        Ok(Self(pairs))
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// The client's credentials: HTTP Basic (`client_secret_basic`, each part
/// form-encoded, RFC 6749 §2.3.1) or the form (`client_secret_post`), not
/// both.
fn client_credentials(req: &HttpRequest, form: &Form) -> Result<(String, String), Refusal> {
    let unauthenticated = || Refusal {
        status: StatusCode::UNAUTHORIZED,
        ..Refusal::new("invalid_client", "Authenticate the client: HTTP Basic or client_id and client_secret.")
    };
    let basic = match basic_credentials(req) {
        None => None,
        Some(credentials) => {
            let (id, secret) = credentials.ok_or_else(unauthenticated)?;
            let part =
                |s: &str| form_urlencoded::parse(format!("v={s}").as_bytes()).next().map(|(_, v)| v.into_owned());
            Some((part(&id).unwrap_or_default(), part(&secret).unwrap_or_default()))
        }
    };
    let posted = match (form.get("client_id"), form.get("client_secret")) {
        (Some(id), Some(secret)) => Some((id.to_owned(), secret.to_owned())),
        (None, None) => None,
        (Some(_), None) if basic.is_some() => None,
        _ => return Err(unauthenticated()),
    };
    match (basic, posted) {
        (Some(_), Some(_)) => {
            Err(Refusal::new("invalid_request", "Authenticate the client one way: HTTP Basic or the form, not both."))
        }
        // Some libraries name the client in the form too: the same one is
        // no second way.
        (Some(c), None) if form.get("client_id").is_none_or(|id| id == c.0) => Ok(c),
        (Some(_), None) => Err(unauthenticated()),
        (None, Some(c)) => Ok(c),
        (None, None) => Err(unauthenticated()),
    }
}

fn no_store(mut response: actix_web::HttpResponseBuilder) -> actix_web::HttpResponseBuilder {
    response.insert_header((header::CACHE_CONTROL, "no-store")).insert_header((header::PRAGMA, "no-cache"));
    response
}

/// Get an access token
///
/// OAuth2's client credentials grant (RFC 6749 §4.4) for an API client:
/// `client_secret_basic` or `client_secret_post`. The token lasts at most
/// as long as a user's access token and carries `scope` (permission
/// names; all the client's when absent). Failed client authentications
/// count like failed sign-ins.
#[utoipa::path(
    post, path = "/v1/oauth/token", tag = "oauth", operation_id = "oauth_token",
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "The token", body = TokenView),
        (status = 400, description = "`invalid_request`, `unsupported_grant_type`, `invalid_scope`, `unauthorized_client`", body = OAuthErrorView),
        (status = 401, description = "`invalid_client`, with `WWW-Authenticate: Basic`", body = OAuthErrorView),
        (status = 429, description = "`invalid_client`: too many failures from the address; `Retry-After`", body = OAuthErrorView),
    ),
    security((), ("client_basic" = [])),
)]
pub async fn token<S: Store>(
    app: web::Data<Voxport<S>>,
    req: HttpRequest,
    ip: ClientIp,
    body: web::Bytes,
) -> HttpResponse {
    let result = async {
        let form = Form::read(&req, &body)?;
        match form.get("grant_type") {
            Some("client_credentials") => {}
            Some(other) => {
                return Err(Refusal::new(
                    "unsupported_grant_type",
                    format!("`{other}` is not supported; use client_credentials."),
                ));
            }
            None => return Err(Refusal::new("invalid_request", "Give grant_type=client_credentials.")),
        }
        let (client_id, client_secret) = client_credentials(&req, &form)?;
        let credentials = ClientCredentials { client_id: &client_id, client_secret: &client_secret, ip: ip.0 };
        Ok(app.client_credentials_token(credentials, form.get("scope"), Utc::now()).await?)
    }
    .await;
    match result {
        Ok(issued) => no_store(HttpResponse::Ok()).json(TokenView {
            access_token: issued.access_token,
            token_type: "Bearer",
            expires_in: issued.expires_in,
            scope: issued.scope.to_codes(),
        }),
        Err(refusal) => refusal.response(),
    }
}

fn lookup_form(req: &HttpRequest, body: &[u8]) -> Result<(Form, String, String), Refusal> {
    let form = Form::read(req, body)?;
    let (id, secret) = client_credentials(req, &form)?;
    if form.get("token").is_none() {
        return Err(Refusal::new("invalid_request", "Give the token."));
    }
    Ok((form, id, secret))
}

/// Revoke a token
///
/// RFC 7009: the calling client's own access token stops working at once.
/// Any other token (another client's, a person's, one that does not
/// exist) gets the same answer and is left alone.
#[utoipa::path(
    post, path = "/v1/oauth/revoke", tag = "oauth", operation_id = "oauth_revoke",
    request_body(content = TokenLookupForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Revoked, or nothing to revoke"),
        (status = 400, description = "`invalid_request`, `unauthorized_client`", body = OAuthErrorView),
        (status = 401, description = "`invalid_client`", body = OAuthErrorView),
        (status = 429, description = "`invalid_client`: too many failures from the address", body = OAuthErrorView),
    ),
    security((), ("client_basic" = [])),
)]
pub async fn revoke<S: Store>(
    app: web::Data<Voxport<S>>,
    req: HttpRequest,
    ip: ClientIp,
    body: web::Bytes,
) -> HttpResponse {
    let result = async {
        let (form, id, secret) = lookup_form(&req, &body)?;
        let credentials = ClientCredentials { client_id: &id, client_secret: &secret, ip: ip.0 };
        app.revoke_client_token(credentials, form.get("token").unwrap_or_default(), Utc::now()).await?;
        Ok::<_, Refusal>(())
    }
    .await;
    match result {
        Ok(()) => no_store(HttpResponse::Ok()).finish(),
        Err(refusal) => refusal.response(),
    }
}

/// Introspect a token
///
/// RFC 7662, for the tenant's other services (a CTI app, a recorder):
/// whether a voxport access token, a person's or an API client's, would
/// be accepted now, and what it carries. The caller authenticates as an
/// API client holding `tokens:introspect` (otherwise 400
/// `unauthorized_client`); tokens of other tenants are reported inactive.
#[utoipa::path(
    post, path = "/v1/oauth/introspect", tag = "oauth", operation_id = "oauth_introspect",
    request_body(content = TokenLookupForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "What the token is", body = IntrospectionView),
        (status = 400, description = "`invalid_request`, `unauthorized_client`", body = OAuthErrorView),
        (status = 401, description = "`invalid_client`", body = OAuthErrorView),
        (status = 429, description = "`invalid_client`: too many failures from the address", body = OAuthErrorView),
    ),
    security((), ("client_basic" = [])),
)]
pub async fn introspect<S: Store>(
    app: web::Data<Voxport<S>>,
    req: HttpRequest,
    ip: ClientIp,
    body: web::Bytes,
) -> HttpResponse {
    let result = async {
        let (form, id, secret) = lookup_form(&req, &body)?;
        let credentials = ClientCredentials { client_id: &id, client_secret: &secret, ip: ip.0 };
        Ok::<_, Refusal>(app.introspect(credentials, form.get("token").unwrap_or_default(), Utc::now()).await?)
    }
    .await;
    let issuer = app.tokens().issuer().to_owned();
    match result {
        Ok(facts) => no_store(HttpResponse::Ok()).json(introspection_view(facts, issuer)),
        Err(refusal) => refusal.response(),
    }
}

fn introspection_view(facts: Option<Introspection>, issuer: String) -> IntrospectionView {
    match facts {
        None => IntrospectionView {
            active: false,
            scope: None,
            client_id: None,
            sub: None,
            tenant_id: None,
            exp: None,
            iat: None,
            iss: None,
            token_type: None,
        },
        Some(f) => IntrospectionView {
            active: true,
            scope: Some(f.scope.to_codes()),
            client_id: f.client_id.map(|c| c.to_string()),
            sub: Some(f.sub),
            tenant_id: Some(f.tenant_id),
            exp: Some(f.exp),
            iat: Some(f.iat),
            iss: Some(issuer),
            token_type: Some("Bearer"),
        },
    }
}

/// Authorization server metadata
///
/// RFC 8414: where the token, revocation and introspection endpoints and
/// the keys are, and what they support.
#[utoipa::path(
    get, path = "/.well-known/oauth-authorization-server", tag = "oauth", operation_id = "oauth_metadata",
    responses((status = 200, description = "The metadata", body = ServerMetadataView)),
    security(()),
)]
pub async fn metadata<S: Store>(app: web::Data<Voxport<S>>) -> HttpResponse {
    let issuer = app.tokens().issuer().trim_end_matches('/').to_owned();
    let at = |path: &str| format!("{issuer}{path}");
    HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "public, max-age=300")).json(ServerMetadataView {
        token_endpoint: at("/v1/oauth/token"),
        revocation_endpoint: at("/v1/oauth/revoke"),
        introspection_endpoint: at("/v1/oauth/introspect"),
        jwks_uri: at("/.well-known/jwks.json"),
        issuer: app.tokens().issuer().to_owned(),
        response_types_supported: Vec::new(),
        grant_types_supported: vec!["client_credentials"],
        token_endpoint_auth_methods_supported: AUTH_METHODS.to_vec(),
        revocation_endpoint_auth_methods_supported: AUTH_METHODS.to_vec(),
        introspection_endpoint_auth_methods_supported: AUTH_METHODS.to_vec(),
        scopes_supported: Permission::ALL.iter().map(|p| p.code()).collect(),
    })
}
