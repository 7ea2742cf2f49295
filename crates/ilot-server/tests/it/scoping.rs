//! Care-team scoping on every operator route, driven by the route table (`routes::routes()`,
//! from which the router is built): a route that needs a session and has no case here fails
//! the test. Operators of team B reaching team A's
//! patient, alert or audit get exactly the answer of a missing one (404) and change nothing;
//! lists show only the operator's team. Each case also checks that team A's own operator gets
//! through, so that a 404 proves the scoping and not a broken request.

use chrono::TimeDelta;
use ilot_wire::{CareRole, DeviceId, DeviceSecret, PatientId};
use reqwest::blocking::{Client, Response};
use serde_json::{Value, json};

use crate::support::*;

struct World {
    s: Srv,
    a: String,
    b: String,
    /// Team A's patient.
    pa: PatientId,
    /// An open alert of `pa`.
    alert: i64,
    /// An enrolled device of `pa`.
    device: DeviceId,
}

fn world(db: &str) -> World {
    let s = start_configured(
        db,
        &[
            ("dra", CareRole::Physician, "A"),
            ("drb", CareRole::Physician, "B"),
        ],
        |c| c.insi = ilot_server::identity::insi::Connector::test_identities(),
    );
    let a = login(&s, "dra");
    let b = login(&s, "drb");
    let r: Value = Client::new()
        .post(format!("{}/v1/operator/patients", s.url))
        .bearer_auth(&a)
        .json(&json!({"pseudonym": "PA", "prescription": prescription()}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let pa: PatientId = r["patient_id"].as_str().unwrap().parse().unwrap();
    let enrol = ilot_wire::api::EnrolRequest {
        replaces: None,
        code: r["code"].as_str().unwrap().parse().unwrap(),
        device_public_key: DeviceSecret::generate(&mut rand::rng()).public_key(),
        device_label: None,
        app_version: "test".into(),
    };
    let r: Value = Client::new()
        .post(format!("{}/v1/enrol", s.url))
        .json(&enrol)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let device: DeviceId = r["device_id"].as_str().unwrap().parse().unwrap();
    let st = s.state.storage();
    let policy = st.prescription(pa).unwrap().unwrap().prescription.policy;
    let al = ilot_rules::alerts::no_data(&policy, Some(t0()), t0() + TimeDelta::hours(49)).unwrap();
    st.upsert_alerts(pa, &[al], t0()).unwrap();
    let alert = st.alerts(Some(pa), true).unwrap()[0].id;
    World {
        s,
        a,
        b,
        pa,
        alert,
        device,
    }
}

/// What a request could have changed for `pa`.
fn snapshot(w: &World) -> (u32, usize, usize, usize, bool, usize, bool, usize) {
    let st = w.s.state.storage();
    let team = st.patient_team(w.pa).unwrap().unwrap();
    (
        st.prescription(w.pa).unwrap().unwrap().version,
        st.feed(w.pa, 0, 10_000).unwrap().len(),
        st.alerts(Some(w.pa), true).unwrap().len(),
        st.audit_log(10_000)
            .unwrap()
            .iter()
            .filter(|r| r.patient_id == Some(w.pa))
            .count(),
        st.device(w.device).unwrap().is_some(),
        st.team_reviews(team, "2000-01-01T00:00:00Z".parse().unwrap())
            .unwrap()
            .len(),
        st.record_status(w.pa).unwrap() == Default::default(),
        st.consent_history(w.pa).unwrap().len(),
    )
}

fn send(w: &World, method: &str, path: &str, token: &str, id: &str) -> Response {
    let mut url = format!("{}{}", w.s.url, path.replace("{id}", id));
    if path.ends_with("/feed") {
        url.push_str("?kind=message");
    }
    let mut r = Client::new()
        .request(method.to_uppercase().parse().unwrap(), url)
        .bearer_auth(token);
    if method != "get"
        && let Some(b) = crate::route_walk::body_for(path, "PB", true)
    {
        r = r.json(&b);
    }
    r.send().unwrap()
}

fn answer(r: Response) -> (u16, Value) {
    let st = r.status().as_u16();
    (st, r.json().unwrap_or(Value::Null))
}

/// Team B on team A's resource: the answer of a missing one, and nothing changed; team A: 200.
fn hidden(w: &World, method: &str, path: &str) {
    let (id, missing) = if path.starts_with("/v1/operator/alerts/") {
        (w.alert.to_string(), "987654".to_string())
    } else if path.starts_with("/v1/operator/devices/") {
        (
            w.device.to_string(),
            DeviceId::from_bytes([0x5a; 16]).to_string(),
        )
    } else {
        (
            w.pa.to_string(),
            PatientId::from_bytes([0x5a; 16]).to_string(),
        )
    };
    let before = snapshot(w);
    let other = answer(send(w, method, path, &w.b, &id));
    let absent = answer(send(w, method, path, &w.b, &missing));
    assert_eq!(other.0, 404, "{method} {path}: {}", other.1);
    assert_eq!(other, absent, "{method} {path}: no existence leak");
    assert_eq!(snapshot(w), before, "{method} {path}: nothing changed");
    let own = answer(send(w, method, path, &w.a, &id));
    assert_eq!(own.0, 200, "{method} {path} by team A: {}", own.1);
}

fn get(w: &World, path: &str, token: &str) -> Value {
    let r = send(w, "get", path, token, "");
    assert_eq!(r.status(), 200, "{path}");
    r.json().unwrap()
}

fn mentions(v: &Value, key: &str, id: &str) -> bool {
    v.as_array()
        .unwrap()
        .iter()
        .any(|r| r[key].as_str() == Some(id))
}

fn case(w: &World, method: &str, path: &str) -> bool {
    let pa = w.pa.to_string();
    match (method, path) {
        ("get", "/v1/operator/patients") => {
            assert!(!mentions(&get(w, path, &w.b), "id", &pa));
            assert!(mentions(&get(w, path, &w.a), "id", &pa));
        }
        ("get", "/v1/operator/alerts") => {
            assert!(!mentions(&get(w, path, &w.b), "patient_id", &pa));
            assert!(mentions(&get(w, path, &w.a), "patient_id", &pa));
        }
        ("get", "/v1/operator/audit") => {
            let b = get(w, path, &w.b);
            assert!(!mentions(&b, "patient_id", &pa), "{b}");
            assert!(!b.as_array().unwrap().is_empty(), "B's own login is there");
            assert!(mentions(&get(w, path, &w.a), "patient_id", &pa));
        }
        ("post", "/v1/operator/logout") => {
            // B's logout ends B's session only.
            let (st, _) = answer(send(w, method, path, &w.b, ""));
            assert_eq!(st, 204);
            assert_eq!(
                send(w, "get", "/v1/operator/patients", &w.b, "").status(),
                401
            );
            assert_eq!(
                send(w, "get", "/v1/operator/patients", &w.a, "").status(),
                200
            );
        }
        ("post", "/v1/operator/patients") => {
            // A patient created by team B belongs to team B: team A cannot see it.
            let (st, r) = answer(send(w, method, path, &w.b, ""));
            assert_eq!(st, 200, "{r}");
            let pb = r["patient_id"].as_str().unwrap();
            let url = |tok: &str| {
                Client::new()
                    .get(format!("{}/v1/operator/patients/{pb}", w.s.url))
                    .bearer_auth(tok)
                    .send()
                    .unwrap()
                    .status()
                    .as_u16()
            };
            assert_eq!((url(&w.a), url(&w.b)), (404, 200));
            assert!(!mentions(&get(w, "/v1/operator/patients", &w.a), "id", pb));
        }
        ("get", "/v1/operator/triage") => {
            let items = |tok: &str| get(w, path, tok)["items"].clone();
            assert!(!mentions(&items(&w.b), "patient_id", &pa));
            assert!(mentions(&items(&w.a), "patient_id", &pa));
        }
        ("get", "/v1/operator/billing") => {
            // This month (March 2026) holds period 1 of A's patient, in progress.
            let rows = |tok: &str| get(w, path, tok)["rows"].clone();
            assert!(!mentions(&rows(&w.b), "patient_id", &pa));
            assert!(mentions(&rows(&w.a), "patient_id", &pa));
        }
        ("get", "/v1/operator/billing.csv") => {
            let text = |tok: &str| {
                let r = send(w, method, path, tok, "");
                assert_eq!(r.status(), 200, "{path}");
                r.text().unwrap()
            };
            assert!(!text(&w.b).contains(&pa));
            assert!(text(&w.a).contains(&pa));
        }
        ("get", "/v1/console/session") => {
            // Who is logged in: one's own session only, never anyone else's data.
            assert_eq!(get(w, path, &w.b)["name"], "drb");
            assert_eq!(get(w, path, &w.a)["name"], "dra");
        }
        ("post", "/v1/console/logout") => {
            // B's logout ends B's session only.
            let before = snapshot(w);
            assert_eq!(send(w, method, path, &w.b, "").status(), 200);
            assert_eq!(
                send(w, "get", "/v1/console/session", &w.b, "").status(),
                401
            );
            assert_eq!(get(w, "/v1/console/session", &w.a)["name"], "dra");
            assert_eq!(snapshot(w), before);
        }
        ("post", "/v1/operator/patients/{id}/identity/proofs") => {
            // An identity of team A's to prove; B cannot prove it (nor learn it exists).
            let r = send(w, "put", "/v1/operator/patients/{id}/identity", &w.a, &pa);
            assert_eq!(r.status(), 200);
            hidden(w, method, path);
        }
        ("delete", "/v1/operator/patients/{id}/review") => {
            // A mark of team A's for A to undo; B cannot undo it (nor learn it exists).
            assert_eq!(send(w, "post", path, &w.a, &pa).status(), 200);
            hidden(w, method, path);
        }
        // Routes on one patient's or one alert's id: team B gets the answer of a missing one.
        ("get", "/v1/operator/patients/{id}")
        | ("get", "/v1/operator/patients/{id}/entries")
        | ("get", "/v1/operator/patients/{id}/metrics")
        | ("get", "/v1/operator/patients/{id}/report.pdf")
        | ("get", "/v1/operator/patients/{id}/alerts")
        | ("get", "/v1/operator/patients/{id}/observance")
        | ("get", "/v1/operator/patients/{id}/periods")
        | ("put", "/v1/operator/patients/{id}/prescription")
        | ("post", "/v1/operator/patients/{id}/messages")
        | ("post", "/v1/operator/patients/{id}/appointments")
        | ("post", "/v1/operator/patients/{id}/enrolment-code")
        | ("get", "/v1/operator/patients/{id}/devices")
        | ("get", "/v1/operator/patients/{id}/summary")
        | ("get", "/v1/operator/patients/{id}/days")
        | ("get", "/v1/operator/patients/{id}/logbook")
        | ("get", "/v1/operator/patients/{id}/feed")
        | ("get", "/v1/operator/patients/{id}/audit")
        | ("get", "/v1/operator/patients/{id}/consent")
        | ("post", "/v1/operator/patients/{id}/consent")
        | ("post", "/v1/operator/devices/{id}/revoke")
        | ("post", "/v1/operator/alerts/{id}/ack")
        | ("post", "/v1/operator/patients/{id}/review")
        | ("get", "/v1/operator/patients/{id}/identity")
        | ("put", "/v1/operator/patients/{id}/identity")
        | ("get", "/v1/operator/patients/{id}/identity/history")
        | ("post", "/v1/operator/patients/{id}/identity/insi")
        | ("get", "/v1/operator/patients/{id}/fhir")
        | ("post", "/v1/operator/patients/{id}/closure")
        | ("put", "/v1/operator/patients/{id}/restriction") => hidden(w, method, path),
        // Only an ended telesurveillance reopens: team A ends its patient's first.
        ("post", "/v1/operator/patients/{id}/reopening") => {
            let pa = w.pa.to_string();
            let closed = answer(send(
                w,
                "post",
                "/v1/operator/patients/{id}/closure",
                &w.a,
                &pa,
            ));
            assert_eq!(closed.0, 200, "{}", closed.1);
            hidden(w, method, path);
        }
        _ => return false,
    }
    true
}

#[test]
fn every_operator_route_is_scoped_to_the_operators_care_team() {
    crate::route_walk::every_session_route(
        || "sqlite::memory:".to_string(),
        world,
        case,
        "scoping",
        14,
    );
}

#[test]
fn every_operator_route_is_scoped_on_postgresql_too() {
    crate::route_walk::every_session_route(
        || ilot_testpg::fresh_database("scoping"),
        world,
        case,
        "scoping",
        14,
    );
}

#[test]
fn an_operator_without_a_team_sees_nothing() {
    let s = start();
    let h = ilot_server::auth::hash_password(PASSWORD).unwrap();
    let st = s.state.storage();
    let id = st
        .create_operator("loner", "loner", CareRole::Nurse, &h, t0())
        .unwrap();
    let secret = ilot_server::totp::TotpSecret::generate();
    st.set_totp_secret(id, &secret).unwrap();
    let code = secret.code_at(s.now().timestamp() as u64).to_string();
    let r: Value = s.login_raw("loner", PASSWORD, &code).json().unwrap();
    let token = r["token"].as_str().unwrap();
    let r = Client::new()
        .get(format!("{}/v1/operator/patients", s.url))
        .bearer_auth(token)
        .send()
        .unwrap();
    assert_eq!(r.status(), 403);
}
