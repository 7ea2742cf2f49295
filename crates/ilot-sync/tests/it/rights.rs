//! The patient's rights through a real server: the access log (who of the care team read the
//! patient's data) reaches the device in the pull, new records only, into the store the app
//! reads; a withdrawal recorded by the care team reaches the device, and entries pushed after
//! it are refused and stay on the device.

use ilot_store::Store;
use ilot_sync::{Limits, SyncError, SyncState, Transport, sync_once};
use ilot_wire::api::ErrorCode;
use ilot_wire::{CareRole, ConsentChannel, ConsentDecision};
use serde_json::{Value, json};

use crate::support::*;

pub(crate) fn login(server: &TestServer) -> String {
    server.physician();
    let r: Value = reqwest::blocking::Client::new()
        .post(format!("{}/v1/operator/login", server.url()))
        .json(&json!({"username": "dr", "password": "a long enough password", "totp": server.physician_code()}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    r["token"].as_str().unwrap().to_string()
}

fn get(server: &TestServer, token: &str, path: &str) {
    let r = reqwest::blocking::Client::new()
        .get(format!("{}{path}", server.url()))
        .bearer_auth(token)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200, "{path}");
}

/// A device whose sync state is the store itself, as in the app.
fn store_device(server: &TestServer, code: &str) -> Store {
    let mut d = Store::open_in_memory().unwrap();
    let url = server.url();
    ilot_sync::enrol(
        &mut d,
        code,
        Some(&url),
        |s| Ok(Box::new(transport(s.as_str())) as Box<dyn Transport>),
        None,
        &mut rand::rng(),
        t0(),
    )
    .unwrap();
    ilot_sync::set_consent(&mut d, true, 2, t0()).unwrap();
    d
}

#[test]
fn the_access_log_reaches_the_device_new_records_only() {
    let server = TestServer::start();
    let token = login(&server);
    let e = server.new_patient("P-0100");
    let mut dev = store_device(&server, &e.code);
    let live = transport(&server.url());
    let r = sync_once(&mut dev, &live, Limits::default(), &mut rand::rng(), t0()).unwrap();
    // Creating the patient was the physician's act about it.
    let first = r.access_log;
    assert!(first >= 1, "{r:?}");
    // The device also holds the consent the server recorded from it.
    let consent = dev.server_consent().unwrap();
    assert_eq!(consent.len(), 1);
    assert_eq!(
        (
            consent[0].decision,
            consent[0].channel,
            consent[0].notice_version
        ),
        (ConsentDecision::Given, ConsentChannel::App, Some(2))
    );

    // The physician reads the patient's readings and logbook.
    let p = e.patient_id;
    get(
        &server,
        &token,
        &format!(
            "/v1/operator/patients/{p}/entries?from=2026-03-01T00:00:00Z&to=2026-03-03T00:00:00Z"
        ),
    );
    get(
        &server,
        &token,
        &format!("/v1/operator/patients/{p}/logbook"),
    );
    let r = sync_once(&mut dev, &live, Limits::default(), &mut rand::rng(), t0()).unwrap();
    assert_eq!(r.access_log, 2, "only the new records: {r:?}");
    let log = dev.access_log().unwrap();
    assert_eq!(log.len(), first + 2);
    let last: Vec<_> = log[first..]
        .iter()
        .map(|a| (a.action.as_str(), a.by.name.as_str(), a.by.role))
        .collect();
    assert_eq!(
        last,
        vec![
            ("read-entries", "Dr Martin", CareRole::Physician),
            ("read-logbook", "Dr Martin", CareRole::Physician),
        ]
    );
    // Nothing new: nothing more.
    let r = sync_once(&mut dev, &live, Limits::default(), &mut rand::rng(), t0()).unwrap();
    assert_eq!(r.access_log, 0);
    assert_eq!(dev.access_log().unwrap().len(), first + 2);

    // A small pull limit pages through the log without losing a record.
    for _ in 0..5 {
        get(&server, &token, &format!("/v1/operator/patients/{p}"));
    }
    let small = Limits {
        pull_limit: 2,
        ..Limits::default()
    };
    let r = sync_once(&mut dev, &live, small, &mut rand::rng(), t0()).unwrap();
    assert_eq!(r.access_log, 5);
    assert_eq!(dev.access_log().unwrap().len(), first + 7);
}

#[test]
fn a_withdrawal_recorded_by_the_care_team_stops_collection_and_reaches_the_device() {
    let server = TestServer::start();
    let token = login(&server);
    let e = server.new_patient("P-0101");
    let mut dev = enrolled(&server, &e.code);
    let live = transport(&server.url());
    dev.store.add_batch(&cgm_entries(4, 1), t0()).unwrap();
    let r = sync_once(&mut dev, &live, Limits::default(), &mut rand::rng(), t0()).unwrap();
    assert_eq!(r.sent, 4);

    let r = reqwest::blocking::Client::new()
        .post(format!(
            "{}/v1/operator/patients/{}/consent",
            server.url(),
            e.patient_id
        ))
        .bearer_auth(&token)
        .json(&json!({ "decision": "withdrawn", "notice_version": 2 }))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().unwrap());

    dev.store.add_batch(&cgm_entries(3, 100), t0()).unwrap();
    let err = sync_once(&mut dev, &live, Limits::default(), &mut rand::rng(), t0()).unwrap_err();
    assert!(
        matches!(
            err,
            SyncError::Refused {
                code: ErrorCode::ConsentWithdrawn,
                ..
            }
        ),
        "{err:?}"
    );
    let stored = server
        .state
        .storage()
        .count_entry_versions(e.patient_id)
        .unwrap();
    assert_eq!(stored, 4, "nothing after the withdrawal");
    assert_eq!(dev.store.outbox_len().unwrap(), 3, "kept on the device");
    let held = dev.server_consent().unwrap();
    let last = held.last().unwrap();
    assert_eq!(
        (last.decision, last.channel),
        (ConsentDecision::Withdrawn, ConsentChannel::Consultation)
    );
    assert_eq!(last.collected_by.as_ref().unwrap().name, "Dr Martin");
}
