//! PATCH (RFC 7644 §3.5.2) applied to the user's SCIM document: every
//! operation in turn on a copy, and the result read as a replace, so a
//! request is all or nothing. Paths are parsed by the `scim_v2` crate.
//!
//! Tolerated, as identity providers send them: `op` in any case (Entra
//! ID's `Add`, `Replace`, `Remove`); a path-less add or replace whose keys
//! are paths themselves (`name.givenName`, a URN path); `add` on a
//! single-valued attribute; an `add` through a value path that matches
//! nothing creates the element (Entra ID's `emails[type eq "work"].value`).

use std::str::FromStr as _;

use scim_v2::filter::{AttrExp, AttrPath, CompValue, CompareOp, PatchPath, ValFilter};
use serde_json::{Map, Value};

use super::{CORE_USER, PATCH_OP, ScimError, ScimType, discovery::EXTENSION, input::get};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Add,
    Replace,
    Remove,
}

/// Attributes a user has one of, though SCIM lists them (a user has one
/// role): an `add` replaces them.
const ONE_OF: &[&str] = &["roles"];

/// Applies a PatchOp request's operations to `doc`.
///
/// # Errors
/// 400 with `invalidSyntax`, `invalidPath`, `noTarget` or `invalidValue`.
pub fn apply(doc: &mut Value, request: &Value) -> Result<(), ScimError> {
    let Value::Object(req) = request else {
        return Err(ScimError::bad(ScimType::InvalidSyntax, "A PatchOp is a JSON object."));
    };
    if let Some(Value::Array(schemas)) = get(req, "schemas")
        && !schemas.iter().any(|s| s.as_str().is_some_and(|s| s.eq_ignore_ascii_case(PATCH_OP)))
    {
        return Err(ScimError::bad(ScimType::InvalidSyntax, format!("A PatchOp's schemas must name {PATCH_OP}.")));
    }
    let Some(Value::Array(operations)) = get(req, "Operations") else {
        return Err(ScimError::bad(ScimType::InvalidSyntax, "A PatchOp needs a list of Operations."));
    };
    let Value::Object(target) = doc else {
        return Err(ScimError::bad(ScimType::InvalidSyntax, "The user is not an object."));
    };
    for (i, operation) in operations.iter().enumerate() {
        let Value::Object(operation) = operation else {
            return Err(ScimError::bad(ScimType::InvalidSyntax, format!("Operations[{i}] is not an object.")));
        };
        let op = match get(operation, "op").and_then(Value::as_str).map(str::to_ascii_lowercase).as_deref() {
            Some("add") => Op::Add,
            Some("replace") => Op::Replace,
            Some("remove") => Op::Remove,
            _ => {
                return Err(ScimError::bad(
                    ScimType::InvalidSyntax,
                    format!("Operations[{i}].op must be add, replace or remove."),
                ));
            }
        };
        let value = get(operation, "value").cloned();
        match get(operation, "path").and_then(Value::as_str).map(str::trim).filter(|p| !p.is_empty()) {
            Some(path) => at_path(target, op, path, value)?,
            None if op == Op::Remove => {
                return Err(ScimError::bad(ScimType::NoTarget, format!("Operations[{i}]: remove needs a path.")));
            }
            None => {
                let Some(Value::Object(values)) = value else {
                    return Err(ScimError::bad(
                        ScimType::InvalidValue,
                        format!("Operations[{i}]: without a path, the value is an object of attributes."),
                    ));
                };
                for (key, v) in values {
                    if key.eq_ignore_ascii_case("schemas") {
                        continue;
                    }
                    at_path(target, op, &key, Some(v))?;
                }
            }
        }
    }
    Ok(())
}

/// The object `name` of `parent`, made when missing, found without regard
/// to case.
fn child<'a>(parent: &'a mut Map<String, Value>, name: &str) -> &'a mut Value {
    let key = parent.keys().find(|k| k.eq_ignore_ascii_case(name)).cloned().unwrap_or_else(|| name.to_owned());
    parent.entry(key).or_insert(Value::Null)
}

fn remove_key(parent: &mut Map<String, Value>, name: &str) {
    parent.retain(|k, _| !k.eq_ignore_ascii_case(name));
}

fn invalid_path(path: &str) -> ScimError {
    ScimError::bad(ScimType::InvalidPath, format!("No such attribute path: {path}."))
}

fn at_path(doc: &mut Map<String, Value>, op: Op, path: &str, value: Option<Value>) -> Result<(), ScimError> {
    if op != Op::Remove && value.is_none() {
        return Err(ScimError::bad(ScimType::InvalidValue, format!("{path}: add and replace need a value.")));
    }
    // Attributes of schemas voxport does not know (Entra ID's enterprise
    // extension, say) are ignored, as in a create.
    let lower = path.to_ascii_lowercase();
    if lower.starts_with("urn:")
        && !lower.starts_with(&CORE_USER.to_ascii_lowercase())
        && !lower.starts_with(&EXTENSION.to_ascii_lowercase())
    {
        return Ok(());
    }
    // The extension's URN alone is the whole extension object.
    if path.eq_ignore_ascii_case(EXTENSION) {
        return set(doc, op, EXTENSION, value, true);
    }
    let parsed = PatchPath::from_str(path).map_err(|_| invalid_path(path))?;
    match parsed {
        PatchPath::Attr(attr) => {
            let (holder, name) = locate(doc, &attr, path)?;
            match &attr.sub_attr {
                None => set(holder, op, &name, value, false),
                Some(sub) => {
                    let parent = child(holder, &name);
                    if parent.is_null() {
                        if op == Op::Remove {
                            return Ok(());
                        }
                        *parent = Value::Object(Map::new());
                    }
                    let Value::Object(parent) = parent else { return Err(invalid_path(path)) };
                    set(parent, op, sub, value, false)?;
                    let empty = parent.is_empty();
                    if empty {
                        remove_key(holder, &name);
                    }
                    Ok(())
                }
            }
        }
        PatchPath::Value(vp) => {
            let (holder, name) = locate(doc, &vp.attr, path)?;
            let list = child(holder, &name);
            if list.is_null() {
                *list = Value::Array(Vec::new());
            }
            let Value::Array(items) = list else { return Err(invalid_path(path)) };
            let matching: Vec<usize> = (0..items.len()).filter(|i| matches(&items[*i], &vp.filter)).collect();
            match (op, vp.sub_attr.as_deref()) {
                (Op::Remove, None) => {
                    let mut i = 0;
                    items.retain(|_| {
                        i += 1;
                        !matching.contains(&(i - 1))
                    });
                }
                (Op::Remove, Some(sub)) => {
                    for i in matching {
                        if let Value::Object(o) = &mut items[i] {
                            remove_key(o, sub);
                        }
                    }
                }
                (Op::Replace, _) if matching.is_empty() => {
                    return Err(ScimError::bad(ScimType::NoTarget, format!("{path} matches no value to replace.")));
                }
                (_, sub) => {
                    let value = value.unwrap_or(Value::Null);
                    if matching.is_empty() {
                        // Entra ID adds an address this way before it exists.
                        let mut item = seed(&vp.filter);
                        match sub {
                            Some(sub) => {
                                item.insert(sub.to_owned(), value.clone());
                            }
                            None => match &value {
                                Value::Object(v) => item.extend(v.clone()),
                                _ => {
                                    return Err(ScimError::bad(
                                        ScimType::InvalidValue,
                                        format!("{path}: the value is an object."),
                                    ));
                                }
                            },
                        }
                        items.push(Value::Object(item));
                    }
                    for i in matching {
                        let Value::Object(o) = &mut items[i] else { continue };
                        match (sub, &value) {
                            (Some(sub), v) => {
                                *child(o, sub) = v.clone();
                            }
                            (None, Value::Object(v)) => o.extend(v.clone()),
                            (None, _) => {
                                return Err(ScimError::bad(
                                    ScimType::InvalidValue,
                                    format!("{path}: the value is an object."),
                                ));
                            }
                        }
                    }
                }
            }
            if items.is_empty() {
                // The last role removed by its value is the roles emptied
                // (the least role), as when `roles` itself is removed.
                match emptied(&name) {
                    Some(empty) => *child(holder, &name) = empty,
                    None => remove_key(holder, &name),
                }
            }
            Ok(())
        }
    }
}

/// Where an attribute path points: the object holding it and its name.
fn locate<'a>(
    doc: &'a mut Map<String, Value>,
    attr: &AttrPath,
    path: &str,
) -> Result<(&'a mut Map<String, Value>, String), ScimError> {
    match attr.uri.as_deref() {
        None => Ok((doc, attr.name.clone())),
        Some(uri) if uri.eq_ignore_ascii_case(CORE_USER) => Ok((doc, attr.name.clone())),
        Some(uri) if uri.eq_ignore_ascii_case(EXTENSION) => {
            let ext = child(doc, EXTENSION);
            if ext.is_null() {
                *ext = Value::Object(Map::new());
            }
            match ext {
                Value::Object(o) => Ok((o, attr.name.clone())),
                _ => Err(invalid_path(path)),
            }
        }
        // The whole extension named by a URN whose last part the parser
        // took for an attribute.
        Some(_) => Err(invalid_path(path)),
    }
}

/// Sets, adds to or removes `name` of `holder`.
fn set(
    holder: &mut Map<String, Value>,
    op: Op,
    name: &str,
    value: Option<Value>,
    whole_extension: bool,
) -> Result<(), ScimError> {
    match (op, value) {
        (Op::Remove, _) | (_, Some(Value::Null)) => match emptied(name) {
            // Said to be empty rather than left unsaid: the user is to hold
            // nothing of the extension, or have the least role.
            Some(empty) => *child(holder, name) = empty,
            None => remove_key(holder, name),
        },
        (_, None) => {}
        (Op::Add, Some(Value::Array(new))) if !ONE_OF.iter().any(|a| a.eq_ignore_ascii_case(name)) => {
            let slot = child(holder, name);
            match slot {
                Value::Array(items) => {
                    // One primary value at most (RFC 7643 §2.4): a new one
                    // takes over.
                    if new.iter().any(|v| v.get("primary").is_some_and(|p| p == &Value::Bool(true))) {
                        for item in items.iter_mut() {
                            if let Some(o) = item.as_object_mut() {
                                o.retain(|k, _| !k.eq_ignore_ascii_case("primary"));
                            }
                        }
                    }
                    for item in new {
                        if !items.contains(&item) {
                            items.push(item);
                        }
                    }
                }
                _ => *slot = Value::Array(new),
            }
        }
        (_, Some(Value::Object(new)))
            if whole_extension
                || matches!(holder.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)), Some((_, Value::Object(_)))) =>
        {
            // Adding to or replacing a complex attribute sets the
            // sub-attributes given and leaves the others (RFC 7644 §3.5.2.1, §3.5.2.3).
            let slot = child(holder, name);
            if let Value::Object(o) = slot {
                o.extend(new);
            } else {
                *slot = Value::Object(new);
            }
        }
        (_, Some(v)) => *child(holder, name) = v,
    }
    Ok(())
}

/// What a removed attribute becomes when removing it says something:
/// the extension emptied (release what it gives), the roles emptied (the
/// least role), instead of left unsaid.
fn emptied(name: &str) -> Option<Value> {
    if name.eq_ignore_ascii_case(EXTENSION) {
        Some(Value::Object(Map::new()))
    } else if name.eq_ignore_ascii_case("roles") {
        Some(Value::Array(Vec::new()))
    } else {
        None
    }
}

/// Whether an element of a multi-valued attribute passes a value filter.
fn matches(item: &Value, filter: &ValFilter) -> bool {
    match filter {
        ValFilter::And(all) => all.as_slice().iter().all(|f| matches(item, f)),
        ValFilter::Or(any) => any.as_slice().iter().any(|f| matches(item, f)),
        ValFilter::Not(inner) => !matches(item, inner),
        ValFilter::Attr(AttrExp::Present(path)) => item.as_object().and_then(|o| get(o, &path.name)).is_some(),
        ValFilter::Attr(AttrExp::Comparison(path, op, want)) => {
            let Some(have) = item.as_object().and_then(|o| get(o, &path.name)) else {
                return matches!(op, CompareOp::Ne);
            };
            let equal = match (have, want) {
                (Value::String(h), CompValue::Str(w)) => h.eq_ignore_ascii_case(w),
                (Value::Bool(h), CompValue::True) => *h,
                (Value::Bool(h), CompValue::False) => !*h,
                _ => false,
            };
            match op {
                CompareOp::Eq => equal,
                CompareOp::Ne => !equal,
                _ => false,
            }
        }
    }
}

/// The element a value path's `eq` terms describe, to add when none matches.
fn seed(filter: &ValFilter) -> Map<String, Value> {
    let mut item = Map::new();
    match filter {
        ValFilter::And(all) => {
            for f in all.as_slice() {
                item.extend(seed(f));
            }
        }
        ValFilter::Attr(AttrExp::Comparison(path, CompareOp::Eq, value)) => {
            let v = match value {
                CompValue::Str(s) => Value::String(s.clone()),
                CompValue::True => Value::Bool(true),
                CompValue::False => Value::Bool(false),
                CompValue::Number(n) => Value::Number(n.clone()),
                CompValue::Null => Value::Null,
            };
            item.insert(path.name.clone(), v);
        }
        _ => {}
    }
    item
}
