//! SCIM filters (RFC 7644 §3.4.2.2), parsed by the `scim_v2` crate, turned
//! into what the user store can look up: `userName eq` (case-insensitive),
//! `externalId eq` (case-exact), `id eq`, `emails[type eq "work"].value eq`
//! or `emails.value eq`, joined by `and`. Anything else is 400
//! `invalidFilter`: an answer that silently ignored part of a filter would
//! make an identity provider believe a user is missing and create them
//! twice.

use scim_v2::filter::{AttrExp, AttrPath, CompValue, CompareOp, Filter, ValFilter};
use uuid::Uuid;
use voxport_domain::user::ExactMatch;

use super::{CORE_USER, ScimError, ScimType};

fn unsupported(what: impl std::fmt::Display) -> ScimError {
    ScimError::bad(
        ScimType::InvalidFilter,
        format!(
            "Unsupported filter: {what}. voxport filters users by userName, externalId, id and emails.value with eq, joined by and."
        ),
    )
}

/// The exact matches a filter asks for.
///
/// # Errors
/// 400 `invalidFilter` for a filter that does not parse or asks for more.
pub fn parse(raw: &str) -> Result<Vec<ExactMatch>, ScimError> {
    let parsed = raw.parse::<Filter>().or_else(|e| match sub_attribute_of_value_path(raw) {
        Some(rewritten) => rewritten.parse::<Filter>().map_err(|_| e),
        None => Err(e),
    });
    let filter =
        parsed.map_err(|e| ScimError::bad(ScimType::InvalidFilter, format!("The filter does not parse: {e}")))?;
    let mut out = Vec::new();
    collect(&filter, &mut out)?;
    Ok(out)
}

/// `emails[type eq "work"].value eq "x"`, which Entra ID sends though
/// RFC 7644's grammar has no sub-attribute after a value path, as the
/// grammar's `emails[type eq "work" and value eq "x"]`.
fn sub_attribute_of_value_path(raw: &str) -> Option<String> {
    let open = raw.find('[')?;
    let close = open + raw[open..].find("].")?;
    let (attr, inner, rest) = (raw[..open].trim(), &raw[open + 1..close], raw[close + 2..].trim());
    (!rest.contains('[') && !inner.contains(']')).then(|| format!("{attr}[{inner} and {rest}]"))
}

fn collect(filter: &Filter, out: &mut Vec<ExactMatch>) -> Result<(), ScimError> {
    match filter {
        Filter::And(items) => items.as_slice().iter().try_for_each(|f| collect(f, out)),
        Filter::Attr(AttrExp::Comparison(path, CompareOp::Eq, CompValue::Str(value))) => {
            out.push(comparison(path, value)?);
            Ok(())
        }
        Filter::ValuePath(vp) if is(&vp.attr, "emails", None) => {
            // `type eq "work"` narrows nothing voxport keeps (a user has
            // one address), so the value path must name the address too.
            let before = out.len();
            value_filter(&vp.filter, out)?;
            if out.len() == before {
                return Err(unsupported("an email value path without value eq"));
            }
            Ok(())
        }
        other => Err(unsupported(format!("{other:?}"))),
    }
}

fn value_filter(filter: &ValFilter, out: &mut Vec<ExactMatch>) -> Result<(), ScimError> {
    match filter {
        ValFilter::And(items) => items.as_slice().iter().try_for_each(|f| value_filter(f, out)),
        ValFilter::Attr(AttrExp::Comparison(path, CompareOp::Eq, CompValue::Str(_)))
            if path.name.eq_ignore_ascii_case("type") && path.sub_attr.is_none() =>
        {
            Ok(())
        }
        ValFilter::Attr(AttrExp::Comparison(path, CompareOp::Eq, CompValue::Str(v)))
            if path.name.eq_ignore_ascii_case("value") && path.sub_attr.is_none() =>
        {
            out.push(ExactMatch::Email(v.clone()));
            Ok(())
        }
        other => Err(unsupported(format!("{other:?}"))),
    }
}

/// Whether `path` is `name` (with `sub`), bare or behind the core URN.
fn is(path: &AttrPath, name: &str, sub: Option<&str>) -> bool {
    path.uri.as_deref().is_none_or(|u| u.eq_ignore_ascii_case(CORE_USER))
        && path.name.eq_ignore_ascii_case(name)
        && match (path.sub_attr.as_deref(), sub) {
            (None, None) => true,
            (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
            _ => false,
        }
}

fn comparison(path: &AttrPath, value: &str) -> Result<ExactMatch, ScimError> {
    if is(path, "userName", None) {
        Ok(ExactMatch::Login(value.to_owned()))
    } else if is(path, "externalId", None) {
        Ok(ExactMatch::ExternalId(value.to_owned()))
    } else if is(path, "id", None) {
        Ok(Uuid::try_parse(value).map_or(ExactMatch::Nothing, ExactMatch::Id))
    } else if is(path, "emails", Some("value")) {
        Ok(ExactMatch::Email(value.to_owned()))
    } else {
        Err(unsupported(format!("{path} eq")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filters_identity_providers_send_are_understood() {
        assert_eq!(parse(r#"userName eq "Bjensen""#).unwrap(), vec![ExactMatch::Login("Bjensen".into())]);
        assert_eq!(parse(r#"externalId eq "a-B""#).unwrap(), vec![ExactMatch::ExternalId("a-B".into())]);
        assert_eq!(
            parse(r#"emails[type eq "work"].value eq "a@example.com""#).unwrap(),
            vec![ExactMatch::Email("a@example.com".into())],
            "Entra ID's spelling"
        );
        assert_eq!(
            parse(r#"emails[type eq "work" and value eq "a@example.com"]"#).unwrap(),
            vec![ExactMatch::Email("a@example.com".into())]
        );
        assert_eq!(
            parse(r#"userName eq "a" and externalId eq "b""#).unwrap(),
            vec![ExactMatch::Login("a".into()), ExactMatch::ExternalId("b".into())]
        );
        assert_eq!(parse(r#"id eq "not-a-uuid""#).unwrap(), vec![ExactMatch::Nothing]);
        for refused in [
            r#"emails[type eq "work"]"#,
            r#"userName co "a""#,
            r#"userName eq "a" or userName eq "b""#,
            r#"title eq "x""#,
            "userName eq",
        ] {
            assert!(parse(refused).is_err(), "{refused}");
        }
    }
}
