//! Sessions and devices can be ended (issue 10, item 5), over HTTP: logout, the idle timeout
//! beside the absolute one, a patient's devices listed and revoked, and a new enrolment code
//! cancelling the pending ones.

use chrono::TimeDelta;
use ilot_wire::DeviceSecret;
use ilot_wire::api::EnrolRequest;
use reqwest::blocking::Client;
use serde_json::{Value, json};

use crate::support::*;

fn get_status(s: &Srv, path: &str, token: &str) -> u16 {
    Client::new()
        .get(format!("{}{path}", s.url))
        .bearer_auth(token)
        .send()
        .unwrap()
        .status()
        .as_u16()
}

fn post(s: &Srv, path: &str, token: &str, body: Option<Value>) -> (u16, Value) {
    let mut r = Client::new()
        .post(format!("{}{path}", s.url))
        .bearer_auth(token);
    if let Some(b) = body {
        r = r.json(&b);
    }
    let r = r.send().unwrap();
    let st = r.status().as_u16();
    (st, r.json().unwrap_or(Value::Null))
}

#[test]
fn logout_ends_this_session_at_once_and_only_this_one() {
    let s = start();
    let t1 = login(&s, "dr");
    s.advance(TimeDelta::seconds(30));
    let t2 = login(&s, "dr");
    assert_eq!(get_status(&s, "/v1/operator/patients", &t1), 200);
    let (st, body) = post(&s, "/v1/operator/logout", &t1, None);
    assert_eq!(st, 204, "{body}");
    assert_eq!(get_status(&s, "/v1/operator/patients", &t1), 401);
    assert_eq!(post(&s, "/v1/operator/logout", &t1, None).0, 401);
    assert_eq!(get_status(&s, "/v1/operator/patients", &t2), 200);
    let log = s.state.storage().audit_log(100).unwrap();
    assert!(log.iter().any(|a| a.action == "logout"), "logout audited");
}

#[test]
fn a_session_unused_for_30_minutes_ends_and_use_keeps_it_alive_up_to_12_hours() {
    let s = start();
    let t = login(&s, "dr");
    // Used every 29 minutes: alive past the idle timeout.
    for _ in 0..3 {
        s.advance(TimeDelta::minutes(29));
        assert_eq!(get_status(&s, "/v1/operator/patients", &t), 200);
    }
    s.advance(TimeDelta::minutes(30));
    assert_eq!(get_status(&s, "/v1/operator/patients", &t), 401, "idle");

    // The absolute limit holds however often the session is used.
    s.advance(TimeDelta::seconds(30));
    let t = login(&s, "dr");
    let mut used = TimeDelta::zero();
    while used < TimeDelta::hours(12) - TimeDelta::minutes(20) {
        s.advance(TimeDelta::minutes(20));
        used += TimeDelta::minutes(20);
        assert_eq!(get_status(&s, "/v1/operator/patients", &t), 200, "{used}");
    }
    s.advance(TimeDelta::hours(12) - used);
    assert_eq!(get_status(&s, "/v1/operator/patients", &t), 401, "12 h");
}

fn new_patient(s: &Srv, token: &str) -> (String, String) {
    let (st, r) = post(
        s,
        "/v1/operator/patients",
        token,
        Some(json!({"pseudonym": "P1", "prescription": prescription()})),
    );
    assert_eq!(st, 200, "{r}");
    (
        r["patient_id"].as_str().unwrap().to_string(),
        r["code"].as_str().unwrap().to_string(),
    )
}

fn enrol(s: &Srv, code: &str) -> (u16, Value) {
    let req = EnrolRequest {
        replaces: None,
        code: code.parse().unwrap(),
        device_public_key: DeviceSecret::generate(&mut rand::rng()).public_key(),
        device_label: Some("Android phone".into()),
        app_version: "test".into(),
    };
    let r = Client::new()
        .post(format!("{}/v1/enrol", s.url))
        .json(&req)
        .send()
        .unwrap();
    let st = r.status().as_u16();
    (st, r.json().unwrap())
}

#[test]
fn a_new_enrolment_code_cancels_the_pending_ones() {
    let s = start();
    let ide = login(&s, "ide");
    let dr = login(&s, "dr");
    let (p, first) = new_patient(&s, &dr);
    // The nurse issues a new code (the patient's phone was set up wrong): the first one stops.
    let (st, r) = post(
        &s,
        &format!("/v1/operator/patients/{p}/enrolment-code"),
        &ide,
        None,
    );
    assert_eq!(st, 200, "{r}");
    let second = r["code"].as_str().unwrap().to_string();
    let (st, r) = enrol(&s, &first);
    assert_eq!(
        (st, r["error"].as_str()),
        (410, Some("enrolment_code_expired")),
        "{r}"
    );
    let (st, r) = enrol(&s, &second);
    assert_eq!(st, 200, "{r}");
    let log = s.state.storage().audit_log(100).unwrap();
    assert!(
        log.iter().any(|a| a.action == "new-enrolment-code"
            && a.patient_id.map(|x| x.to_string()) == Some(p.clone())),
        "code issuance audited"
    );
}

#[test]
fn a_patients_devices_are_listed_and_a_revoked_one_stays_listed() {
    let s = start();
    let dr = login(&s, "dr");
    let (p, code) = new_patient(&s, &dr);
    let (st, r) = enrol(&s, &code);
    assert_eq!(st, 200, "{r}");
    let device = r["device_id"].as_str().unwrap().to_string();
    let list = |tok: &str| -> Value {
        Client::new()
            .get(format!("{}/v1/operator/patients/{p}/devices", s.url))
            .bearer_auth(tok)
            .send()
            .unwrap()
            .json()
            .unwrap()
    };
    let l = list(&dr);
    assert_eq!(l.as_array().unwrap().len(), 1, "{l}");
    assert_eq!(l[0]["id"], device.as_str());
    assert_eq!(l[0]["label"], "Android phone");
    assert_eq!(l[0]["revoked_at"], Value::Null);

    s.advance(TimeDelta::minutes(5));
    let (st, r) = post(
        &s,
        &format!("/v1/operator/devices/{device}/revoke"),
        &dr,
        None,
    );
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["revoked_at"], "2026-03-02T08:05:00Z");
    // Revoking again keeps the first time.
    s.advance(TimeDelta::minutes(5));
    let (st, r) = post(
        &s,
        &format!("/v1/operator/devices/{device}/revoke"),
        &dr,
        None,
    );
    assert_eq!(
        (st, r["revoked_at"].as_str()),
        (200, Some("2026-03-02T08:05:00Z"))
    );
    let l = list(&dr);
    assert_eq!(l[0]["revoked_at"], "2026-03-02T08:05:00Z", "{l}");
    let log = s.state.storage().audit_log(100).unwrap();
    for action in ["list-devices", "revoke-device"] {
        assert!(log.iter().any(|a| a.action == action), "{action} audited");
    }
}

#[test]
fn resetting_the_password_or_totp_or_disabling_ends_every_session() {
    use ilot_server::admin;
    let s = start();
    let st = s.state.storage();
    let patients = |t: &str| get_status(&s, "/v1/operator/patients", t);

    // A new TOTP secret (the authenticator phone was lost): every session of dr ends.
    let t1 = login(&s, "dr");
    s.advance(TimeDelta::seconds(30));
    let t2 = login(&s, "dr");
    let ide = login(&s, "ide");
    let secret = admin::reset_totp(st, "dr").unwrap();
    assert_eq!((patients(&t1), patients(&t2)), (401, 401), "TOTP reset");
    assert_eq!(patients(&ide), 200, "another operator's session goes on");
    let code = |secret: &ilot_server::totp::TotpSecret| {
        secret.code_at(s.now().timestamp() as u64).to_string()
    };
    let r = s.login_raw("dr", PASSWORD, &code(&secret));
    assert_eq!(r.status(), 200, "the new secret logs in");

    // A new password: every session of ide ends, the old password no longer logs in.
    admin::reset_password(st, "ide", "another long password").unwrap();
    assert_eq!(patients(&ide), 401, "password reset");
    s.advance(TimeDelta::seconds(30));
    assert_eq!(s.login_raw("ide", PASSWORD, &s.code("ide")).status(), 401);
    s.advance(TimeDelta::seconds(30));
    let r = s.login_raw("ide", "another long password", &s.code("ide"));
    assert_eq!(r.status(), 200);

    // Disabled: sessions end, and logging in answers exactly like an unknown user name.
    s.advance(TimeDelta::seconds(30));
    let t3: Value = s.login_raw("dr", PASSWORD, &code(&secret)).json().unwrap();
    let t3 = t3["token"].as_str().unwrap().to_string();
    assert!(admin::disable(st, "dr", s.now()).unwrap());
    assert_eq!(patients(&t3), 401, "disabled");
    s.advance(TimeDelta::seconds(30));
    let answer = |r: reqwest::blocking::Response| (r.status().as_u16(), r.text().unwrap());
    let disabled = answer(s.login_raw("dr", PASSWORD, &code(&secret)));
    let unknown = answer(s.login_raw("nobody", PASSWORD, &code(&secret)));
    assert_eq!(disabled.0, 401);
    assert_eq!(disabled, unknown);
    assert!(
        !admin::disable(st, "dr", s.now()).unwrap(),
        "already disabled"
    );
    assert!(admin::enable(st, "dr").unwrap());
    s.advance(TimeDelta::seconds(30));
    assert_eq!(s.login_raw("dr", PASSWORD, &code(&secret)).status(), 200);
    assert!(admin::reset_totp(st, "nobody").is_err());
}

#[test]
fn unlinking_an_rpps_frees_it_and_ends_the_operators_sessions_on_both_backends() {
    use ilot_server::admin;
    let pg = ilot_testpg::fresh_database("unlink_rpps");
    for db in ["sqlite::memory:".to_string(), pg] {
        let s = start_on(&db);
        let st = s.state.storage();
        let patients = |t: &str| get_status(&s, "/v1/operator/patients", t);
        // The RPPS of the nurse linked to the physician's account by mistake.
        admin::link_rpps(st, "dr", "10001234567", s.now()).unwrap();
        let dr = login(&s, "dr");
        let ide = login(&s, "ide");

        assert_eq!(
            admin::unlink_rpps(st, "dr").unwrap().as_deref(),
            Some("10001234567"),
            "{db}"
        );
        assert_eq!(st.operator_by_rpps("10001234567").unwrap(), None, "{db}");
        assert_eq!(
            st.rpps_of(st.operator_state("dr").unwrap().unwrap().id)
                .unwrap(),
            None
        );
        assert_eq!(patients(&dr), 401, "{db}: dr's sessions end");
        assert_eq!(
            patients(&ide),
            200,
            "{db}: another operator's session goes on"
        );
        // Freed: it links to the right account now; dr can take its own.
        admin::link_rpps(st, "ide", "10001234567", s.now()).unwrap();
        assert_eq!(
            st.operator_by_rpps("10001234567")
                .unwrap()
                .unwrap()
                .username,
            "ide"
        );
        admin::link_rpps(st, "dr", "10009999999", s.now()).unwrap();
        // Nothing linked any more after a second unlink; an unknown user name is refused.
        admin::unlink_rpps(st, "dr").unwrap();
        assert_eq!(admin::unlink_rpps(st, "dr").unwrap(), None, "{db}");
        assert!(admin::unlink_rpps(st, "nobody").is_err(), "{db}");
    }
}
