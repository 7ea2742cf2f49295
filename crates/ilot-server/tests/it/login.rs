//! Login with password and TOTP: the code from the operator's secret is needed, is accepted one
//! step either side, never twice, and failed attempts are limited per user name and address.

use chrono::TimeDelta;
use ilot_wire::CareRole;
use serde_json::Value;

use crate::support::*;

fn status(r: reqwest::blocking::Response) -> (u16, String) {
    let s = r.status().as_u16();
    let body: Value = r.json().unwrap();
    (s, body["message"].as_str().unwrap_or_default().to_string())
}

#[test]
fn password_and_current_code_log_in_once_per_code() {
    let s = start();
    let code = s.code("dr");
    // Wrong password with the right code, right password without a code, with a wrong code.
    assert_eq!(status(s.login_raw("dr", "not the password", &code)).0, 401);
    assert_eq!(status(s.login_raw("dr", PASSWORD, "")).0, 401);
    let wrong = format!("{:06}", (code.parse::<u32>().unwrap() + 1) % 1_000_000);
    assert_eq!(status(s.login_raw("dr", PASSWORD, &wrong)).0, 401);
    // Another operator's code is not this one's.
    let (st, _) = status(s.login_raw("dr", PASSWORD, &s.code("ide")));
    assert_eq!(st, 401);

    let r = s.login_raw("dr", PASSWORD, &code);
    assert_eq!(r.status(), 200);
    let body: Value = r.json().unwrap();
    assert_eq!(body["role"], "physician");
    // The same code again, even within its 30 seconds: refused.
    let (st, msg) = status(s.login_raw("dr", PASSWORD, &code));
    assert_eq!(st, 401);
    assert!(msg.contains("already used"), "{msg}");
    // The next step's code works.
    s.advance(TimeDelta::seconds(30));
    assert_eq!(s.login_raw("dr", PASSWORD, &s.code("dr")).status(), 200);
}

#[test]
fn a_code_is_accepted_one_step_either_side_and_no_further() {
    let s = start();
    let now = s.now().timestamp() as u64;
    let secret = &s.secrets["dr"];
    // The app's clock 30 s behind: the previous step's code.
    let behind = secret.code_at(now - 30).to_string();
    assert_eq!(s.login_raw("dr", PASSWORD, &behind).status(), 200);
    // 30 s ahead: the next step's code (a later step than the one used, so accepted).
    let ahead = secret.code_at(now + 30).to_string();
    assert_eq!(s.login_raw("dr", PASSWORD, &ahead).status(), 200);
    // An older step than the last accepted one is refused even inside the window.
    let current = secret.code_at(now).to_string();
    assert_eq!(s.login_raw("dr", PASSWORD, &current).status(), 401);
    // Two steps away: refused.
    let far = secret.code_at(now + 90).to_string();
    let (st, msg) = status(s.login_raw("ide", PASSWORD, &s.secrets["ide"].code_at(now + 90)));
    assert_eq!(st, 401, "{msg}");
    assert_eq!(s.login_raw("dr", PASSWORD, &far).status(), 401);
}

#[test]
fn failed_logins_are_limited_per_user_name() {
    let s = start_with(&[("dr", CareRole::Physician, "A")]);
    for _ in 0..10 {
        assert_eq!(s.login_raw("dr", PASSWORD, "000000").status(), 401);
    }
    let r = s.login_raw("dr", PASSWORD, &s.code("dr"));
    assert_eq!(r.status(), 429, "the right code is refused while limited");
    assert!(r.headers().get("retry-after").is_some());
    let (_, msg) = status(r);
    assert!(msg.contains("too many failed login attempts"), "{msg}");
}

#[test]
fn failed_logins_are_limited_per_address() {
    let ops: Vec<(String, CareRole, &str)> = (0..21)
        .map(|i| (format!("op{i}"), CareRole::Nurse, "A"))
        .collect();
    let ops: Vec<(&str, CareRole, &str)> =
        ops.iter().map(|(u, r, t)| (u.as_str(), *r, *t)).collect();
    let s = start_with(&ops);
    // 20 failures spread over 20 user names (so the per-user limit is not reached).
    for i in 0..20 {
        assert_eq!(
            s.login_raw(&format!("op{i}"), "wrong password!!", "000000")
                .status(),
            401
        );
    }
    let (st, _) = status(s.login_raw("op20", PASSWORD, &s.code("op20")));
    assert_eq!(st, 429);
}

#[test]
fn secrets_never_reach_debug_output() {
    let s = start_with(&[("dr", CareRole::Physician, "A")]);
    let secret = &s.secrets["dr"];
    let b32 = secret.base32().to_string();
    let req: ilot_server::operator::LoginRequest = serde_json::from_value(serde_json::json!({
        "username": "dr", "password": PASSWORD, "totp": "123456"
    }))
    .unwrap();
    let dbg = format!("{req:?} {secret:?}");
    assert!(
        !dbg.contains(PASSWORD) && !dbg.contains("123456") && !dbg.contains(&b32),
        "{dbg}"
    );
}
