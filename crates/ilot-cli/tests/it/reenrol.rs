//! `ilot enroll` on a device the care team revoked, through the binary against `ilot server`:
//! refused while the server still accepts the device; after a refused sync, a code for another
//! patient is refused and changes nothing; the new code for the same patient enrols it again in
//! place and what it had not sent goes at the next sync, once.

use serde_json::{Value, json};

use crate::support::Env;
use crate::sync::{free_port, operator, start_server, totp_secret};

fn create_patient(sdb: &str, url: &str, pseudonym: &str) -> Value {
    serde_json::from_str(&operator(
        sdb,
        &[
            "create-patient",
            "--pseudonym",
            pseudonym,
            "--by",
            "dr",
            "--start",
            "2026-01-01",
            "--public-url",
            url,
            "--json",
        ],
    ))
    .unwrap()
}

#[test]
fn a_revoked_device_is_enrolled_again_in_place_with_a_code_for_its_patient_only() {
    let env = Env::new();
    let sdb = format!("sqlite:{}", env.dir.path().join("server.db").display());
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let created = operator(
        &sdb,
        &["create-operator", "--username", "dr", "--name", "Dr Martin"],
    );
    let secret = totp_secret(&created);
    let a = create_patient(&sdb, &url, "P-A");
    let b = create_patient(&sdb, &url, "P-B");
    let _server = start_server(&sdb, port);
    let http = reqwest::blocking::Client::new();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let login: Value = http
        .post(format!("{url}/v1/operator/login"))
        .json(&json!({
            "username": "dr",
            "password": "a long enough password",
            "totp": secret.code_at(now).to_string(),
        }))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let token = login["token"].as_str().expect("logged in").to_string();
    let post = |path: String| -> Value {
        let r = http
            .post(format!("{url}{path}"))
            .bearer_auth(&token)
            .send()
            .unwrap();
        assert!(r.status().is_success(), "{path}: {}", r.status());
        r.json().unwrap()
    };
    let patient_a = a["patient_id"].as_str().unwrap();

    env.ok(&["enroll", a["code"].as_str().unwrap(), "--server", &url]);
    env.ok(&["consent", "grant"]);
    env.ok(&["log", "glucose", "1,10", "g/L", "--at", "2026-01-05 07:30"]);
    let r = env.json(&["sync", "--json"]);
    assert_eq!(
        (r["sent"].as_u64(), r["pending"].as_u64()),
        (Some(1), Some(0)),
        "{r}"
    );

    // Still accepted by the server: a new code is refused, and is not spent.
    let fresh = post(format!("/v1/operator/patients/{patient_a}/enrolment-code"));
    let code = fresh["code"].as_str().unwrap();
    let e = env.fails(&["enroll", code, "--server", &url]);
    assert!(e.contains("already enrolled"), "{e}");

    // The care team revokes it; it keeps logging; its sync is refused.
    let devices: Value = http
        .get(format!("{url}/v1/operator/patients/{patient_a}/devices"))
        .bearer_auth(&token)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let device = devices[0]["id"].as_str().expect("one device").to_string();
    post(format!("/v1/operator/devices/{device}/revoke"));
    env.ok(&["log", "glucose", "2,40", "g/L", "--at", "2026-01-05 12:30"]);
    let e = env.fails(&["sync"]);
    assert!(e.contains("revoked"), "{e}");

    // Another patient's code: refused, nothing changes.
    let e = env.fails(&["enroll", b["code"].as_str().unwrap(), "--server", &url]);
    assert!(
        e.contains("another patient") && e.contains("keeps every entry"),
        "{e}"
    );
    let e = env.fails(&["sync"]);
    assert!(e.contains("revoked"), "still the revoked identity: {e}");

    // The code for its own patient: enrolled again in place.
    let out = env.ok(&["enroll", code, "--server", &url]);
    assert!(out.contains("enrolled again in place as P-A"), "{out}");
    assert!(
        out.contains(&format!("replacing revoked device {device}")),
        "{out}"
    );
    let r = env.json(&["sync", "--json"]);
    assert_eq!(
        (
            r["sent"].as_u64(),
            r["stored"].as_u64(),
            r["duplicates"].as_u64(),
            r["pending"].as_u64()
        ),
        (Some(1), Some(1), Some(0), Some(0)),
        "only the entry never acknowledged is sent: {r}"
    );
    // Patient B's code was not spent: it still enrols a device.
    let other = Env::new();
    let out = other.ok(&["enroll", b["code"].as_str().unwrap(), "--server", &url]);
    assert!(out.contains("enrolled as P-B"), "{out}");
}

/// A device whose enrolment key is lost cannot prove which patient it was for: a new code may
/// give it a new identity only when nothing waits to be sent (those entries could otherwise
/// reach another patient's record). Refused with what to do, nothing changed, the code kept.
#[test]
fn a_device_whose_key_is_lost_keeps_its_unsent_entries_from_a_new_code() {
    let env = Env::new();
    let sdb = format!("sqlite:{}", env.dir.path().join("server.db").display());
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    operator(
        &sdb,
        &["create-operator", "--username", "dr", "--name", "Dr Martin"],
    );
    let a = create_patient(&sdb, &url, "P-A");
    let b = create_patient(&sdb, &url, "P-B");
    let _server = start_server(&sdb, port);

    env.ok(&["enroll", a["code"].as_str().unwrap(), "--server", &url]);
    env.ok(&["consent", "grant"]);
    env.ok(&["log", "glucose", "1,10", "g/L", "--at", "2026-01-05 07:30"]);
    // Not sent yet; then the key of the device is lost (the keystore was reset).
    ilot_sync::forget_device_secret(&env.db, ilot_store::KeyMode::File).unwrap();

    let e = env.fails(&["enroll", b["code"].as_str().unwrap(), "--server", &url]);
    assert!(
        e.contains("enrolment key is lost") && e.contains("ilot export csv"),
        "{e}"
    );
    let status = env.json(&["status", "--json"]);
    assert_eq!(status["entries"].as_u64(), Some(1), "{status}");
    // Patient B's code was not spent.
    let other = Env::new();
    let out = other.ok(&["enroll", b["code"].as_str().unwrap(), "--server", &url]);
    assert!(out.contains("enrolled as P-B"), "{out}");
}
