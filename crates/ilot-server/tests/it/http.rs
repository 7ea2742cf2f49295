//! The operator API over a real TCP port: login, roles, audit of every read, the OpenAPI
//! document matching the routes.

use serde_json::{Value, json};

use crate::support::*;

#[test]
fn operator_endpoints_need_a_session_and_reads_are_audited() {
    operator_flow(&start());
}

#[test]
fn the_operator_api_behaves_the_same_on_postgresql() {
    operator_flow(&start_on(&ilot_testpg::fresh_database("http")));
}

fn operator_flow(s: &Srv) {
    let c = reqwest::blocking::Client::new();
    let r = c
        .get(format!("{}/v1/operator/patients", s.url))
        .send()
        .unwrap();
    assert_eq!(r.status(), 401);
    let body: Value = r.json().unwrap();
    assert_eq!(body["error"], "unauthorized");
    let r = c
        .post(format!("{}/v1/operator/login", s.url))
        .json(&json!({"username": "dr", "password": "wrong password!!", "totp": s.code("dr")}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 401);

    let dr = login(s, "dr");
    let ide = login(s, "ide");
    // A nurse cannot prescribe.
    let r = c
        .post(format!("{}/v1/operator/patients", s.url))
        .bearer_auth(&ide)
        .json(&json!({"pseudonym": "P1", "prescription": prescription()}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 403);
    let r: Value = c
        .post(format!("{}/v1/operator/patients", s.url))
        .bearer_auth(&dr)
        .json(&json!({"pseudonym": "P1", "prescription": prescription()}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let id = r["patient_id"].as_str().unwrap().to_string();
    assert!(r["link"].as_str().unwrap().starts_with("ilot://enrol?"));
    assert_eq!(r["expires_at"], "2026-03-05T08:00:00Z", "72 hours");

    for path in ["", "/entries", "/metrics", "/alerts", "/observance"] {
        let r = c
            .get(format!("{}/v1/operator/patients/{id}{path}", s.url))
            .bearer_auth(&ide)
            .send()
            .unwrap();
        assert_eq!(r.status(), 200, "{path}: {}", r.text().unwrap());
    }
    let log = s.state.storage().audit_log(100).unwrap();
    for action in [
        "read-patient",
        "read-entries",
        "read-metrics",
        "read-alerts",
        "read-observance",
    ] {
        assert!(
            log.iter()
                .any(|a| a.action == action
                    && a.patient_id.map(|p| p.to_string()) == Some(id.clone())),
            "{action} not audited"
        );
    }
    let r = c
        .get(format!("{}/v1/operator/patients/{}", s.url, "0".repeat(32)))
        .bearer_auth(&dr)
        .send()
        .unwrap();
    assert_eq!(r.status(), 404);
    let list: Value = c
        .get(format!("{}/v1/operator/patients", s.url))
        .bearer_auth(&dr)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);
    // The audit log is for physicians.
    assert_eq!(
        c.get(format!("{}/v1/operator/audit", s.url))
            .bearer_auth(&ide)
            .send()
            .unwrap()
            .status(),
        403
    );
}

#[test]
fn every_documented_operation_is_routed_and_every_route_documented() {
    let s = start();
    let c = reqwest::blocking::Client::new();
    let doc: Value = c
        .get(format!("{}/openapi.json", s.url))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    let mut n = 0;
    for (path, ops) in paths {
        for method in ops.as_object().unwrap().keys() {
            n += 1;
            let url = format!("{}{}", s.url, path.replace("{id}", "1"));
            let r = c
                .request(method.to_uppercase().parse().unwrap(), &url)
                .send()
                .unwrap();
            // Unrouted paths get the fallback's not_found with "no such endpoint".
            let status = r.status().as_u16();
            let text = r.text().unwrap();
            assert!(
                !text.contains("no such endpoint"),
                "{method} {path} is documented but not routed"
            );
            assert!(status != 405, "{method} {path}: method not routed");
        }
    }
    assert_eq!(n, ilot_server::routes::routes().len());
    let r = c.get(format!("{}/v1/nothing", s.url)).send().unwrap();
    assert_eq!(r.status(), 404);
    assert!(r.text().unwrap().contains("no such endpoint"));
}

/// The table's word on access is the handler's: every row that says "session" refuses a
/// request without one (or with a made-up token) with 401, before reading anything.
#[test]
fn every_session_route_refuses_without_a_valid_session() {
    use ilot_server::routes::{Access, routes};
    let s = start();
    let c = reqwest::blocking::Client::new();
    let mut n = 0;
    for route in routes().iter().filter(|r| r.access == Access::Session) {
        let url = format!("{}{}", s.url, route.path.replace("{id}", &"ab".repeat(16)));
        for token in [None, Some("0".repeat(64))] {
            let mut r = c.request(route.method.to_uppercase().parse().unwrap(), &url);
            if let Some(t) = &token {
                r = r.bearer_auth(t);
            }
            let r = r.send().unwrap();
            assert_eq!(
                r.status(),
                401,
                "{} {} with {token:?}",
                route.method,
                route.path
            );
            let body: Value = r.json().unwrap();
            assert_eq!(body["error"], "unauthorized");
        }
        n += 1;
    }
    assert!(n >= 14, "only {n} session routes");
}
