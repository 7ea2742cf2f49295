//! The lost-phone procedure end to end: a device syncs; the care team revokes it and issues a
//! new code; the old device's pushes and pulls are refused with `unknown_device` (what the app
//! shows as "ask your care team for a new code") and keep its entries; the old code no longer
//! enrols; the new device enrols and syncs; the old device's data stays on the server.

use ilot_sync::{Limits, SyncError, SyncState, Transport, sync_once};
use ilot_wire::api::{ErrorCode, SEALED_MEDIA_TYPE, paths};
use ilot_wire::{BatchHeader, OpenPullRequest, PullRequest, seal};
use serde_json::{Value, json};

use crate::support::*;

/// The physician logs in over HTTP as the console would.
pub(crate) fn login(server: &TestServer) -> String {
    server.physician();
    let r: Value = reqwest::blocking::Client::new()
        .post(format!("{}/v1/operator/login", server.url()))
        .json(&json!({
            "username": "dr",
            "password": "a long enough password",
            "totp": server.physician_code(),
        }))
        .send()
        .unwrap()
        .json()
        .unwrap();
    r["token"].as_str().expect("logged in").to_string()
}

pub(crate) fn operator_post(server: &TestServer, token: &str, path: &str) -> (u16, Value) {
    let r = reqwest::blocking::Client::new()
        .post(format!("{}{path}", server.url()))
        .bearer_auth(token)
        .send()
        .unwrap();
    (r.status().as_u16(), r.json().unwrap_or(Value::Null))
}

fn refused_as_unknown_device(what: &str, e: SyncError) {
    match e {
        SyncError::Refused { code, message, .. } => {
            assert_eq!(code, ErrorCode::UnknownDevice, "{what}: {message}");
            assert!(message.contains("revoked"), "{what}: {message}");
        }
        other => panic!("{what}: expected unknown_device, got {other:?}"),
    }
}

#[test]
fn a_lost_phone_is_revoked_and_the_patient_enrolled_again() {
    let server = TestServer::start();
    let e = server.new_patient("A");
    let mut old = enrolled(&server, &e.code);
    let t = transport(&server.url());
    old.store.add_batch(&cgm_entries(10, 1), t0()).unwrap();
    let r = sync_once(&mut old, &t, Limits::default(), &mut rand::rng(), t0()).unwrap();
    assert_eq!(r.stored, 10);
    let old_id = old.identity().unwrap().unwrap();

    // The care team revokes the lost phone and gives the patient a new code.
    let token = login(&server);
    let (st, r) = operator_post(
        &server,
        &token,
        &format!("/v1/operator/devices/{}/revoke", old_id.device_id),
    );
    assert_eq!(st, 200, "{r}");
    let (st, r) = operator_post(
        &server,
        &token,
        &format!("/v1/operator/patients/{}/enrolment-code", e.patient_id),
    );
    assert_eq!(st, 200, "{r}");
    let link = r["link"].as_str().unwrap().to_string();

    // Whoever holds the old phone: its pushes are refused and its entries stay in its outbox.
    old.store.add_batch(&cgm_entries(5, 100), t0()).unwrap();
    let err = sync_once(&mut old, &t, Limits::default(), &mut rand::rng(), t0()).unwrap_err();
    refused_as_unknown_device("push", err);
    assert_eq!(
        old.store.outbox_len().unwrap(),
        5,
        "nothing lost on the device"
    );
    // Its pulls too (a message for the patient is not handed to it).
    server
        .state
        .storage()
        .add_message(
            e.patient_id,
            &server.physician().member(),
            "new phone?",
            t0(),
        )
        .unwrap();
    let keys = old_id.keys().unwrap();
    let req = OpenPullRequest {
        header: BatchHeader::new(old_id.patient_id, old_id.device_id, 0, t0()),
        request: PullRequest {
            request_id: 1,
            limit: 100,
            rights: None,
        },
    };
    let sealed = seal(&req, &keys.to_server, &mut rand::rng()).unwrap();
    let err = t
        .post(paths::PULL, SEALED_MEDIA_TYPE, sealed.into_bytes())
        .unwrap_err();
    refused_as_unknown_device("pull", err);
    // The first code was used; it does not enrol anything again.
    let mut thief = device();
    let err = ilot_sync::enrol(
        &mut thief,
        &e.link,
        None,
        |s| Ok(Box::new(transport(s.as_str())) as Box<dyn Transport>),
        None,
        &mut rand::rng(),
        t0(),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            SyncError::Refused {
                code: ErrorCode::EnrolmentCodeUsed,
                ..
            }
        ),
        "{err:?}"
    );

    // The new phone enrols with the new link and syncs; the old phone's data stays.
    let mut new = enrolled(&server, &link);
    new.store.add_batch(&cgm_entries(3, 200), t0()).unwrap();
    let r = sync_once(&mut new, &t, Limits::default(), &mut rand::rng(), t0()).unwrap();
    assert_eq!((r.stored, r.duplicates), (3, 0));
    assert_eq!(new.messages().unwrap()[0].text, "new phone?");
    assert_eq!(
        server
            .state
            .storage()
            .count_entry_versions(e.patient_id)
            .unwrap(),
        13
    );
    // The old phone is still refused after the new one enrolled.
    let err = sync_once(&mut old, &t, Limits::default(), &mut rand::rng(), t0()).unwrap_err();
    refused_as_unknown_device("push after re-enrolment", err);
}
