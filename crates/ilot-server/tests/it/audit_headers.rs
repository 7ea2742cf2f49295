//! What the server writes down and sends back around the data (issue 10, item 12): failed
//! logins, enrolments, code issuance, list reads (with the patients returned) and reads of the
//! audit log are audited with the client's address; every answer carries `nosniff` and
//! `no-store`, HTTPS answers `Strict-Transport-Security`; JSON endpoints refuse other bodies.
//!
//! Audit rows are read through their JSON form, the shape the API serves.

use std::sync::Arc;

use ilot_server::{AppState, Config};
use serde_json::{Value, json};

use crate::support::*;

fn audit(s: &Srv) -> Vec<Value> {
    s.state
        .storage()
        .audit_log(1000)
        .unwrap()
        .iter()
        .map(|r| serde_json::to_value(r).unwrap())
        .collect()
}

fn newest<'a>(log: &'a [Value], action: &str) -> &'a Value {
    log.iter()
        .find(|r| r["action"] == action)
        .unwrap_or_else(|| panic!("no {action} record in {log:#?}"))
}

fn assert_guarded(r: &reqwest::blocking::Response, what: &str) {
    let h = r.headers();
    assert_eq!(
        h.get("x-content-type-options").map(|v| v.to_str().unwrap()),
        Some("nosniff"),
        "{what}"
    );
    assert_eq!(
        h.get("cache-control").map(|v| v.to_str().unwrap()),
        Some("no-store"),
        "{what}"
    );
}

/// Regression: answers carried none of these headers.
#[test]
fn every_answer_says_nosniff_and_no_store_and_plain_http_sends_no_hsts() {
    let s = start();
    let dr = login(&s, "dr");
    let c = reqwest::blocking::Client::new();
    let answers = [
        ("openapi", c.get(format!("{}/openapi.json", s.url)).send()),
        (
            "patients",
            c.get(format!("{}/v1/operator/patients", s.url))
                .bearer_auth(&dr)
                .send(),
        ),
        (
            "unauthorised",
            c.get(format!("{}/v1/operator/patients", s.url)).send(),
        ),
        ("no such route", c.get(format!("{}/v1/nope", s.url)).send()),
        (
            "failed login",
            c.post(format!("{}/v1/operator/login", s.url))
                .json(&json!({"username": "dr", "password": "x", "totp": "1"}))
                .send(),
        ),
    ];
    let mut statuses = Vec::new();
    for (what, r) in answers {
        let r = r.unwrap();
        assert_guarded(&r, what);
        assert!(
            r.headers().get("strict-transport-security").is_none(),
            "{what}"
        );
        statuses.push(r.status().as_u16());
    }
    assert_eq!(statuses, [200, 200, 401, 404, 401]);
}

/// Regression: HTTPS answers did not tell browsers to keep to HTTPS.
#[test]
fn https_answers_carry_strict_transport_security() {
    let dir = tempfile::tempdir().unwrap();
    let dev = ilot_server::tls::dev_certificate(dir.path()).unwrap();
    let tls = ilot_server::tls::server_config(&dev.cert, &dev.key).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "https://localhost:{}",
        listener.local_addr().unwrap().port()
    );
    let mut config = Config::new(url.clone());
    config.clock = Arc::new(t0);
    let state = AppState::new(
        ilot_server::storage::open("sqlite::memory:", &crate::support::key()).unwrap(),
        config,
    )
    .unwrap();
    rt.spawn(ilot_server::serve_tls(state, listener, tls));
    let root = reqwest::Certificate::from_pem(&std::fs::read(&dev.cert).unwrap()).unwrap();
    let c = reqwest::blocking::Client::builder()
        .tls_certs_merge([root])
        .build()
        .unwrap();
    for path in ["/openapi.json", "/v1/operator/patients"] {
        let r = c.get(format!("{url}{path}")).send().unwrap();
        assert_guarded(&r, path);
        assert_eq!(
            r.headers()
                .get("strict-transport-security")
                .map(|v| v.to_str().unwrap()),
            Some("max-age=31536000"),
            "{path}"
        );
    }
}

/// Regression: any body was parsed as JSON whatever its declared type.
#[test]
fn json_endpoints_refuse_another_content_type() {
    let s = start();
    let dr = login(&s, "dr");
    let c = reqwest::blocking::Client::new();
    let body = json!({"pseudonym": "P1", "prescription": prescription()}).to_string();
    for ct in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/jsonx",
    ] {
        let r = c
            .post(format!("{}/v1/operator/patients", s.url))
            .bearer_auth(&dr)
            .header("content-type", ct)
            .body(body.clone())
            .send()
            .unwrap();
        assert_eq!(r.status(), 415, "{ct}");
        assert_guarded(&r, ct);
        let b: Value = r.json().unwrap();
        assert_eq!(b["error"], "unsupported_media_type", "{ct}");
    }
    let r = c
        .post(format!("{}/v1/operator/patients", s.url))
        .bearer_auth(&dr)
        .body(body.clone())
        .send()
        .unwrap();
    assert_eq!(r.status(), 415, "no content type at all");
    assert!(
        s.state.storage().patients().unwrap().is_empty(),
        "nothing was created"
    );
    let login_body = json!({"username": "dr", "password": PASSWORD, "totp": "000000"});
    let r = c
        .post(format!("{}/v1/operator/login", s.url))
        .header("content-type", "text/plain;charset=UTF-8")
        .body(login_body.to_string())
        .send()
        .unwrap();
    assert_eq!(r.status(), 415, "login");
    let r = c
        .post(format!("{}/v1/enrol", s.url))
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .unwrap();
    assert_eq!(r.status(), 415, "enrol");
    // JSON with parameters is JSON; a POST without a body has no type to check; the sealed
    // endpoints take their own type.
    let r = c
        .post(format!("{}/v1/operator/patients", s.url))
        .bearer_auth(&dr)
        .header("content-type", "Application/JSON; charset=utf-8")
        .body(body)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = c
        .post(format!("{}/v1/operator/alerts/1/ack", s.url))
        .bearer_auth(&dr)
        .send()
        .unwrap();
    assert_eq!(r.status(), 404, "no such alert, not 415");
    let r = c
        .post(format!("{}/v1/push", s.url))
        .header("content-type", "text/plain")
        .body(vec![0u8; 100])
        .send()
        .unwrap();
    assert_eq!(r.status(), 400, "a sealed endpoint judges its own bytes");
}

/// Regression: failed logins, enrolments and reads of the audit log were not audited, list
/// reads did not say which patients they returned, and no record had the client's address.
#[test]
fn logins_enrolments_codes_lists_and_audit_reads_are_audited_with_the_client() {
    let s = start();
    let c = reqwest::blocking::Client::new();
    assert_eq!(
        s.login_raw("dr", "wrong password!!", "000000").status(),
        401
    );
    let dr_id = s
        .state
        .storage()
        .operator_by_username("dr")
        .unwrap()
        .unwrap()
        .id;
    let log = audit(&s);
    let failed = newest(&log, "login-failed");
    assert_eq!(failed["operator_id"], dr_id);
    assert_eq!(failed["client"], "127.0.0.1");
    assert_eq!(failed["detail"]["reason"], "wrong password");

    let dr = login(&s, "dr");
    assert_eq!(newest(&audit(&s), "login")["client"], "127.0.0.1");
    let created: Value = c
        .post(format!("{}/v1/operator/patients", s.url))
        .bearer_auth(&dr)
        .json(&json!({"pseudonym": "P1", "prescription": prescription()}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let id = created["patient_id"].as_str().unwrap().to_string();
    let log = audit(&s);
    let r = newest(&log, "create-patient");
    assert_eq!(
        (&r["patient_id"], &r["client"]),
        (&json!(id), &json!("127.0.0.1"))
    );

    let code: Value = c
        .post(format!(
            "{}/v1/operator/patients/{id}/enrolment-code",
            s.url
        ))
        .bearer_auth(&dr)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let log = audit(&s);
    let r = newest(&log, "new-enrolment-code");
    assert_eq!(
        (&r["patient_id"], &r["client"]),
        (&json!(id), &json!("127.0.0.1"))
    );

    let secret = ilot_wire::DeviceSecret::generate(&mut rand::rng());
    let r = c
        .post(format!("{}/v1/enrol", s.url))
        .json(&json!({
            "code": code["code"],
            "device_public_key": secret.public_key(),
            "app_version": "test",
        }))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let enrolled: Value = r.json().unwrap();
    let log = audit(&s);
    let r = newest(&log, "enrol-device");
    assert_eq!(r["operator_id"], Value::Null, "a device, not an operator");
    assert_eq!(r["patient_id"], json!(id));
    assert_eq!(r["client"], "127.0.0.1");
    assert_eq!(r["detail"]["device_id"], enrolled["device_id"]);
    let r = c
        .post(format!("{}/v1/enrol", s.url))
        .json(&json!({
            "code": code["code"],
            "device_public_key": secret.public_key(),
            "app_version": "test",
        }))
        .send()
        .unwrap();
    assert_eq!(r.status(), 410, "used");
    let log = audit(&s);
    let r = newest(&log, "enrol-refused");
    assert_eq!(
        (&r["client"], &r["detail"]["reason"]),
        (&json!("127.0.0.1"), &json!("used"))
    );

    let listed: Vec<Value> = c
        .get(format!("{}/v1/operator/patients", s.url))
        .bearer_auth(&dr)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(listed.len(), 1);
    let log = audit(&s);
    let r = newest(&log, "list-patients");
    assert_eq!(
        r["detail"]["patients"],
        json!([id]),
        "which patients were shown"
    );
    assert_eq!(r["client"], "127.0.0.1");

    let team_log: Vec<Value> = c
        .get(format!("{}/v1/operator/audit", s.url))
        .bearer_auth(&dr)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert!(
        team_log.iter().any(|r| r["action"] == "enrol-device"),
        "the team sees its patient's enrolment: {team_log:#?}"
    );
    let log = audit(&s);
    let r = newest(&log, "read-audit-log");
    assert_eq!(
        (&r["operator_id"], &r["client"]),
        (&json!(dr_id), &json!("127.0.0.1"))
    );
}
