//! The committed `openapi.yaml` is the document the code generates
//! (kanidm `apidocs/tests.rs`). Regenerate it with
//! `cargo run -- openapi > openapi.yaml`.

#[test]
fn the_committed_openapi_yaml_matches_the_code() {
    let generated = voxport_api::openapi().to_yaml().unwrap();
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.yaml"))
        .expect("openapi.yaml is committed at the root");
    assert!(generated == committed, "openapi.yaml is stale: run `cargo run -- openapi > openapi.yaml` and commit it");
}

#[test]
fn every_operation_has_an_id_a_tag_and_described_problem_answers_for_errors() {
    let spec = serde_json::to_value(voxport_api::openapi()).unwrap();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            assert!(op["operationId"].is_string(), "{method} {path} has no operationId");
            assert!(op["tags"].is_array(), "{method} {path} has no tag");
            for (status, response) in op["responses"].as_object().unwrap() {
                let described = response["description"].as_str().is_some_and(|d| !d.trim().is_empty());
                assert!(described, "{method} {path} {status} has no description (OpenAPI requires one)");
                if path.starts_with("/v1/oauth/") {
                    // OAuth2 errors have RFC 6749 §5.2's shape, which stock
                    // OAuth2 libraries read, not problem+json.
                    let error = &response["content"]["application/json"]["schema"]["$ref"];
                    assert!(
                        !status.starts_with('4') || error == "#/components/schemas/OAuthErrorView",
                        "{method} {path} {status} is not an OAuth2 error"
                    );
                } else if status.starts_with('4') || status.starts_with('5') {
                    assert!(
                        response["content"].get("application/problem+json").is_some(),
                        "{method} {path} {status} is not problem+json"
                    );
                }
            }
            let secured = op
                .get("security")
                .and_then(|s| s.as_array())
                .is_some_and(|s| s.iter().any(|r| r.get("bearer").is_some()));
            if secured && path.starts_with("/v1/") && !path.starts_with("/v1/me") {
                assert!(op.get("x-required-permission").is_some(), "{method} {path} does not name its permission");
            }
        }
    }
}

#[test]
fn every_reference_resolves_to_a_component() {
    fn refs<'a>(value: &'a serde_json::Value, found: &mut Vec<&'a str>) {
        match value {
            serde_json::Value::Object(map) => {
                if let Some(target) = map.get("$ref").and_then(|r| r.as_str()) {
                    found.push(target);
                }
                map.values().for_each(|v| refs(v, found));
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| refs(v, found)),
            _ => {}
        }
    }
    let spec = serde_json::to_value(voxport_api::openapi()).unwrap();
    let mut found = Vec::new();
    refs(&spec, &mut found);
    assert!(!found.is_empty());
    for target in found {
        let pointer = target.strip_prefix('#').unwrap_or_else(|| panic!("{target} is not local"));
        assert!(spec.pointer(pointer).is_some(), "{target} points at nothing (schemathesis skips what it guards)");
    }
}
