//! Schemas for values whose rules live in the domain: enums generated
//! from the domain's lists, and the string patterns the domain's parsers
//! implement (utoipa takes patterns as literals only, so a test below keeps
//! the literals used on the request bodies in step with the domain).

use std::borrow::Cow;

use utoipa::{
    PartialSchema, ToSchema,
    openapi::{
        RefOr,
        schema::{ObjectBuilder, Schema, Type},
    },
};
use voxport_domain::{
    audit::{AuditAction, TargetType},
    permission::Permission,
    station::Application,
    values::{CIDR_PATTERN, SUPPORTED_LANGUAGES, Timezone},
    webhook::WebhookEventType,
};

fn string_enum(description: &str, values: impl IntoIterator<Item = &'static str>) -> RefOr<Schema> {
    ObjectBuilder::new().schema_type(Type::String).description(Some(description)).enum_values(Some(values)).into()
}

macro_rules! enum_schema {
    ($name:ident, $description:expr, $values:expr) => {
        #[doc = $description]
        pub struct $name;

        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                string_enum($description, $values)
            }
        }

        impl ToSchema for $name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($name))
            }
        }
    };
}

enum_schema!(
    PermissionCode,
    "A permission from the catalog (`GET /v1/permissions`).",
    Permission::ALL.iter().map(|p| p.code())
);
enum_schema!(
    WebhookEventCode,
    "An event type a webhook can subscribe to (`GET /v1/webhook-event-types`).",
    WebhookEventType::ALL.iter().map(|t| t.code())
);
enum_schema!(LanguageTag, "A supported BCP 47 language tag.", SUPPORTED_LANGUAGES.iter().copied());
enum_schema!(ApplicationName, "An application a station unlocks.", Application::ALL.iter().map(|a| a.as_str()));
enum_schema!(TimezoneName, "An IANA time zone name.", Timezone::all_names());
enum_schema!(AuditActionCode, "What an audit event records.", AuditAction::ALL.iter().map(|a| a.code()));
enum_schema!(
    AuditTargetType,
    "The kind of object an audit event is about.",
    TargetType::ALL.iter().map(|t| t.as_str())
);

/// An IP allowlist entry: an IPv4 or IPv6 address or CIDR network, written
/// strictly (no leading zeros, IPv6 in hex); host bits are cleared when
/// stored.
pub struct NetworkEntry;

impl PartialSchema for NetworkEntry {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("An IPv4 or IPv6 address or CIDR network, such as 192.0.2.0/24 or 2001:db8::/32."))
            .pattern(Some(CIDR_PATTERN))
            .max_length(Some(49))
            .examples([serde_json::json!("192.0.2.0/24")])
            .into()
    }
}

impl ToSchema for NetworkEntry {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("NetworkEntry")
    }
}

#[cfg(test)]
mod tests {
    use voxport_domain::values::{LOGIN_PATTERN, NAME_PATTERN, SLUG_PATTERN};

    /// Every `pattern` in the document is one the domain implements.
    #[test]
    fn the_documented_patterns_are_the_domains() {
        let spec = serde_json::to_value(crate::openapi()).unwrap();
        let schemas = spec["components"]["schemas"].as_object().unwrap();
        let field = |schema: &str, field: &str| {
            let props = &schemas[schema]["properties"][field];
            // Optional fields are `oneOf [null, {…}]` or carry the pattern directly.
            props["pattern"].as_str().map(str::to_owned).unwrap_or_else(|| {
                panic!("{schema}.{field} has no pattern: {props}");
            })
        };
        assert_eq!(field("CreateUserBody", "login"), LOGIN_PATTERN);
        assert_eq!(field("TenantAdminBody", "login"), LOGIN_PATTERN);
        for (schema, name) in [
            ("CreateUserBody", "first_name"),
            ("CreateUserBody", "last_name"),
            ("UpdateUserBody", "first_name"),
            ("UpdateMeBody", "last_name"),
            ("TenantAdminBody", "first_name"),
            ("CreateRoleBody", "name"),
            ("CreateTenantBody", "name"),
            ("UpdateTenantBody", "name"),
        ] {
            assert_eq!(field(schema, name), NAME_PATTERN, "{schema}.{name}");
        }
        assert_eq!(field("CreateTenantBody", "slug"), SLUG_PATTERN);
        assert_eq!(field("CreateStationBody", "code"), voxport_domain::station::STATION_CODE_PATTERN);
        assert_eq!(field("CreateStationBody", "name"), NAME_PATTERN);
        assert_eq!(field("CreateDeviceBody", "mac"), voxport_domain::device::MAC_PATTERN);
        assert_eq!(field("CreateDeviceBody", "model"), NAME_PATTERN);
        assert_eq!(field("UpdateTenantBody", "slug"), SLUG_PATTERN);
    }
}
