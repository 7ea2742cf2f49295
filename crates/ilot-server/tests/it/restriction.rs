//! A restricted record (a patient's erasure request) on every operator route, driven by the
//! route table (`routes::routes()`, from which the router is built), as the scoping test is: a
//! route that needs a session and has no case here fails the test. Every route that reaches
//! one patient answers 451 `restricted` to an ordinary request and changes nothing; on a read,
//! a physician's `exceptional_reason` gets the data and an audit record with the reason (a
//! nurse's is refused, an empty reason is 400); lists leave the patient out (and still show the
//! unrestricted one); the closure and restriction routes still reach it.

use chrono::TimeDelta;
use ilot_server::routes::routes;
use ilot_wire::{CareRole, DeviceId, DeviceSecret, PatientId};
use reqwest::blocking::{Client, Response};
use serde_json::{Value, json};

use crate::support::*;

struct World {
    s: Srv,
    dr: String,
    ide: String,
    /// The restricted patient, with an open alert, an enrolled device and a review mark.
    pa: PatientId,
    alert: i64,
    device: DeviceId,
    /// A patient of the same team, not restricted.
    pb: PatientId,
}

const REASON: &str = "urgence vitale : appel du SAMU";

fn create(s: &Srv, token: &str, name: &str) -> (PatientId, String) {
    create_patient(s, token, name)
}

fn world(db: &str) -> World {
    let s = start_with_on(
        db,
        &[
            ("dr", CareRole::Physician, "A"),
            ("ide", CareRole::Nurse, "A"),
        ],
    );
    let ide = login(&s, "ide");
    s.advance(TimeDelta::seconds(30));
    let dr = login(&s, "dr");
    let (pa, code) = create(&s, &dr, "PA");
    let (pb, _) = create(&s, &dr, "PB");
    let enrol = ilot_wire::api::EnrolRequest {
        replaces: None,
        code: code.parse().unwrap(),
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
    for p in [pa, pb] {
        let al =
            ilot_rules::alerts::no_data(&policy, Some(t0()), t0() + TimeDelta::hours(49)).unwrap();
        st.upsert_alerts(p, &[al], t0()).unwrap();
    }
    let alert = st.alerts(Some(pa), true).unwrap()[0].id;
    // A review mark of the physician's, for the undo route.
    let r = Client::new()
        .post(format!("{}/v1/operator/patients/{pa}/review", s.url))
        .bearer_auth(&dr)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = Client::new()
        .put(format!("{}/v1/operator/patients/{pa}/restriction", s.url))
        .bearer_auth(&dr)
        .json(&json!({ "restricted": true, "reason": "demande d'effacement du patient" }))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    World {
        s,
        dr,
        ide,
        pa,
        alert,
        device,
        pb,
    }
}

/// What a request could have changed for `pa`, and the exceptional reads recorded.
fn snapshot(w: &World) -> (u32, usize, usize, bool, usize, bool) {
    let st = w.s.state.storage();
    let team = st.patient_team(w.pa).unwrap().unwrap();
    (
        st.prescription(w.pa).unwrap().unwrap().version,
        st.feed(w.pa, 0, 10_000).unwrap().len(),
        st.alerts(Some(w.pa), true).unwrap().len(),
        st.device(w.device).unwrap().is_some(),
        st.team_reviews(team, "2000-01-01T00:00:00Z".parse().unwrap())
            .unwrap()
            .len(),
        st.record_status(w.pa).unwrap().is_closed(),
    )
}

fn exceptional_reads(w: &World) -> Vec<Value> {
    w.s.state
        .storage()
        .audit_log(10_000)
        .unwrap()
        .into_iter()
        .filter(|r| r.action == "exceptional-read" && r.patient_id == Some(w.pa))
        .map(|r| r.detail.unwrap())
        .collect()
}

fn send(w: &World, method: &str, path: &str, token: &str, reason: Option<&str>) -> Response {
    let id = if path.starts_with("/v1/operator/alerts/") {
        w.alert.to_string()
    } else if path.starts_with("/v1/operator/devices/") {
        w.device.to_string()
    } else {
        w.pa.to_string()
    };
    let mut url = format!("{}{}", w.s.url, path.replace("{id}", &id));
    let mut query = Vec::new();
    if path.ends_with("/feed") {
        query.push("kind=message".to_string());
    }
    if let Some(r) = reason {
        query.push(format!("exceptional_reason={}", r.replace(' ', "%20")));
    }
    if !query.is_empty() {
        url = format!("{url}?{}", query.join("&"));
    }
    let mut r = Client::new()
        .request(method.to_uppercase().parse().unwrap(), url)
        .bearer_auth(token);
    if method != "get"
        && let Some(b) = crate::route_walk::body_for(path, "PC", false)
    {
        r = r.json(&b);
    }
    r.send().unwrap()
}

fn answer(r: Response) -> (u16, Value) {
    let st = r.status().as_u16();
    (st, r.json().unwrap_or(Value::Null))
}

/// An ordinary request: 451 `restricted`, nothing changed. A read with a physician's reason:
/// the data, and one audit record with that reason and the path.
fn restricted(w: &World, method: &str, path: &str) {
    let before = snapshot(w);
    let (st, v) = answer(send(w, method, path, &w.dr, None));
    assert_eq!(st, 451, "{method} {path}: {v}");
    assert_eq!(v["error"], "restricted", "{method} {path}");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("exceptional_reason"),
        "{method} {path}: says how to read it: {v}"
    );
    // A nurse: the same, or the route's own refusal of the role (checked first).
    let (st, v) = answer(send(w, method, path, &w.ide, None));
    assert!(
        (st, v["error"].as_str()) == (451, Some("restricted"))
            || (st, v["error"].as_str()) == (403, Some("forbidden")),
        "{method} {path}: {st} {v}"
    );
    assert_eq!(snapshot(w), before, "{method} {path}: nothing changed");
    if method != "get" {
        // Only a read may be exceptional.
        let (st, _) = answer(send(w, method, path, &w.dr, Some(REASON)));
        assert_eq!(st, 451, "{method} {path} with a reason");
        assert_eq!(snapshot(w), before, "{method} {path}: nothing changed");
        return;
    }
    let (st, _) = answer(send(w, method, path, &w.ide, Some(REASON)));
    assert_eq!(st, 403, "{method} {path}: a nurse's exceptional read");
    let (st, _) = answer(send(w, method, path, &w.dr, Some("%20")));
    assert_eq!(st, 400, "{method} {path}: an empty reason");
    assert!(exceptional_reads(w).is_empty(), "{method} {path}");
    let r = send(w, method, path, &w.dr, Some(REASON));
    assert_eq!(
        r.status(),
        200,
        "{method} {path}: the physician's exceptional read"
    );
    let reads = exceptional_reads(w);
    assert_eq!(reads.len(), 1, "{method} {path}: {reads:?}");
    assert_eq!(reads[0]["reason"], REASON);
    assert_eq!(
        reads[0]["path"],
        path.replace("{id}", &w.pa.to_string()),
        "{method} {path}"
    );
}

fn get(w: &World, path: &str) -> Value {
    let (st, v) = answer(send(w, "get", path, &w.dr, None));
    assert_eq!(st, 200, "{path}: {v}");
    v
}

fn mentions(v: &Value, key: &str, id: PatientId) -> bool {
    v.as_array()
        .unwrap()
        .iter()
        .any(|r| r[key].as_str() == Some(&id.to_string()))
}

/// The list leaves `pa` out and shows `pb`.
fn left_out(v: &Value, key: &str, w: &World, path: &str) {
    assert!(!mentions(v, key, w.pa), "{path}: {v}");
    assert!(mentions(v, key, w.pb), "{path}: {v}");
}

fn case(w: &World, method: &str, path: &str) -> bool {
    match (method, path) {
        ("get", "/v1/operator/patients") => left_out(&get(w, path), "id", w, path),
        ("get", "/v1/operator/alerts") => left_out(&get(w, path), "patient_id", w, path),
        ("get", "/v1/operator/triage") => left_out(&get(w, path)["items"], "patient_id", w, path),
        ("get", "/v1/operator/billing") => left_out(&get(w, path)["rows"], "patient_id", w, path),
        ("get", "/v1/operator/billing.csv") => {
            let r = send(w, method, path, &w.dr, None);
            assert_eq!(r.status(), 200);
            let text = r.text().unwrap();
            assert!(!text.contains(&w.pa.to_string()) && text.contains(&w.pb.to_string()));
        }
        // No patient's data: the access log itself (who read which record), sessions, a new
        // patient.
        ("get", "/v1/operator/audit")
        | ("post", "/v1/operator/logout")
        | ("get", "/v1/console/session")
        | ("post", "/v1/console/logout")
        | ("post", "/v1/operator/patients") => {
            let (st, v) = answer(send(w, method, path, &w.dr, None));
            assert!(st == 200 || st == 204, "{method} {path}: {v}");
            assert!(!v.to_string().contains("\"PA\""), "{method} {path}: {v}");
        }
        // A restricted record can still be closed, and its restriction lifted.
        ("post", "/v1/operator/patients/{id}/closure") => {
            let (st, v) = answer(send(w, method, path, &w.dr, None));
            assert_eq!(st, 200, "{v}");
            assert!(
                v["closure"].is_object() && v["restriction"].is_object(),
                "{v}"
            );
        }
        ("put", "/v1/operator/patients/{id}/restriction") => {
            let (st, v) = answer(send(w, method, path, &w.ide, None));
            assert_eq!(st, 403, "a nurse: {v}");
            let (st, v) = answer(send(w, method, path, &w.dr, None));
            assert_eq!(st, 200, "{v}");
            assert_eq!(v["restriction"], Value::Null);
            assert_eq!(
                answer(send(w, "get", "/v1/operator/patients/{id}", &w.dr, None)).0,
                200,
                "lifted: read as before"
            );
        }
        _ => {
            let route = routes()
                .into_iter()
                .find(|r| r.method == method && r.path == path)
                .unwrap();
            if !route.honours_restriction() {
                return false;
            }
            restricted(w, method, path);
        }
    }
    true
}

#[test]
fn every_route_to_a_restricted_record_refuses_ordinary_use_and_audits_exceptional_reads() {
    crate::route_walk::every_session_route(
        || "sqlite::memory:".to_string(),
        world,
        case,
        "restriction",
        30,
    );
}

#[test]
fn a_restricted_record_is_hidden_on_postgresql_too() {
    crate::route_walk::every_session_route(
        || ilot_testpg::fresh_database("restriction"),
        world,
        case,
        "restriction",
        30,
    );
}

/// A reason given on a read is checked even when the record is not restricted: an empty or
/// overlong one is refused with the reason, never silently ignored.
#[test]
fn an_empty_or_overlong_exceptional_reason_is_refused_on_any_record() {
    let s = start();
    let dr = login(&s, "dr");
    let p = crate::patient_page::patient(&s, &dr, "P1");
    for (query, why) in [
        ("exceptional_reason=".to_string(), "give the reason"),
        (
            format!("exceptional_reason={}", "x".repeat(501)),
            "at most 500",
        ),
    ] {
        for tail in ["", "/identity", "/summary"] {
            let path = format!("/v1/operator/patients/{}{tail}?{query}", p.id);
            let (status, body) = crate::patient_page::get(&s, &dr, &path);
            assert_eq!(status, 400, "{path}: {body}");
            assert!(body.to_string().contains(why), "{path}: {body}");
        }
    }
    // A sensible reason on a record that is not restricted: the ordinary answer.
    let path = format!(
        "/v1/operator/patients/{}/summary?exceptional_reason=contr%C3%B4le",
        p.id
    );
    assert_eq!(crate::patient_page::get(&s, &dr, &path).0, 200);
}
