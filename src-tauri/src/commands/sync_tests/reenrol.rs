//! The app's runner on a device the care team revoked: the sync line says `unknown_device`; a
//! code for another patient is refused with its own code and changes nothing; the new code of
//! the same patient enrols it again in place and what waited is sent, once.

use chrono::{TimeDelta, Utc};

use super::{Server, add_entry_at, code, device_of, glucose, home_at, onboarded};
use crate::sync::Problem;

/// A new typed code for the patient, as the console gives one.
fn new_code(server: &Server, patient: ilot_wire::PatientId) -> String {
    let code = ilot_wire::EnrolmentCode::generate(&mut rand::rng());
    server
        .state
        .storage()
        .add_enrolment_code(&code.canonical(), patient, Utc::now() + TimeDelta::hours(1))
        .unwrap();
    code.to_string()
}

#[test]
fn a_revoked_app_takes_the_new_code_in_place_and_sends_what_waited() {
    let server = Server::start_at(Server::free());
    let enrolment = server.patient();
    let dir = tempfile::tempdir().unwrap();
    let state = onboarded(&dir, true);
    let now = Utc::now();
    state.sync.enrol(&enrolment.link, None, None, now).unwrap();
    add_entry_at(&state, glucose("1,20"), None, now - TimeDelta::minutes(5)).unwrap();
    assert_eq!(state.sync.sync_now(now).unwrap().problem, None);
    let old = device_of(&state);
    assert_eq!(server.versions(enrolment.patient_id), 1);

    server.state.storage().revoke_device(old, now).unwrap();
    add_entry_at(&state, glucose("0,95"), None, now - TimeDelta::minutes(1)).unwrap();
    let status = state.sync.sync_now(now).unwrap();
    assert_eq!(
        status.problem,
        Some(Problem::Refused {
            code: "unknown_device".into()
        })
    );
    let home = home_at(&state, now).unwrap();
    assert_eq!(
        (home.sync.state, home.sync.refused.as_deref()),
        ("refused", Some("unknown_device"))
    );
    let waiting = home.sync.pending;
    assert!(waiting >= 1);

    // Someone else's code: refused, the app stays as it was.
    let other = server.patient();
    let e = state.sync.enrol(&other.link, None, None, now).unwrap_err();
    assert_eq!(code(e), "enrol-other-patient");
    assert_eq!(device_of(&state), old);
    assert_eq!(home_at(&state, now).unwrap().sync.pending, waiting);

    // The patient's new code: enrolled again in place; the problem is gone; what waited goes.
    let typed = new_code(&server, enrolment.patient_id);
    let done = state
        .sync
        .enrol(&typed, Some(&server.url()), None, now)
        .unwrap();
    assert!(done.again);
    assert_eq!(state.sync.status().problem, None);
    // The new secret under the other name, the replaced one forgotten.
    assert!(dir.path().join("ilot.db.device-b.key").exists());
    assert!(!dir.path().join("ilot.db.device.key").exists());
    assert_ne!(device_of(&state), old);
    let status = state.sync.sync_now(now).unwrap();
    assert_eq!(status.problem, None);
    assert_eq!(server.versions(enrolment.patient_id), 2);
    assert_eq!(
        server.duplicates(device_of(&state)),
        0,
        "each entry sent once"
    );
    assert_eq!(home_at(&state, now).unwrap().sync.pending, 0);

    // Recognised again: one more code is refused as already enrolled.
    let typed = new_code(&server, enrolment.patient_id);
    let e = state
        .sync
        .enrol(&typed, Some(&server.url()), None, now)
        .unwrap_err();
    assert_eq!(code(e), "already-enrolled");
}
