//! Re-enrolment in place against a real server: a phone the care team revoked gets a new code
//! for the same patient and keeps everything it had not sent — entries written before and after
//! the revocation, and a batch the server stored whose acknowledgement never came back (sent
//! again under the new identity, reported as duplicates, stored once). A code for another
//! patient is refused before anything is created and stays usable; a device the server still
//! accepts is refused as already enrolled, by the device and by the server.

use ilot_sync::{Limits, SyncError, SyncState, Transport, push, sync_once};
use ilot_wire::api::{EnrolRequest, ErrorCode, paths};
use ilot_wire::{DeviceSecret, EnrolmentCode, PatientId};

use crate::revocation::{login, operator_post};
use crate::support::*;

/// Forwards to the server and loses its answer: the batch is stored, the device never knows.
struct LostAnswer(ilot_sync::HttpTransport);

impl Transport for LostAnswer {
    fn post(&self, path: &str, content_type: &str, body: Vec<u8>) -> ilot_sync::Result<Vec<u8>> {
        self.0.post(path, content_type, body)?;
        Err(SyncError::Unreachable {
            server: "test".into(),
            detail: "the answer was lost".into(),
        })
    }
}

fn enrol_with(d: &mut Device, link: &str) -> ilot_sync::Result<ilot_wire::api::EnrolResponse> {
    ilot_sync::enrol(
        d,
        link,
        None,
        |s| Ok(Box::new(transport(s.as_str())) as Box<dyn Transport>),
        Some("phone".into()),
        &mut rand::rng(),
        t0(),
    )
}

fn refused(e: SyncError) -> ErrorCode {
    match e {
        SyncError::Refused { code, .. } => code,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn new_code(server: &TestServer, token: &str, patient: PatientId) -> String {
    let (st, r) = operator_post(
        server,
        token,
        &format!("/v1/operator/patients/{patient}/enrolment-code"),
    );
    assert_eq!(st, 200, "{r}");
    r["link"].as_str().unwrap().to_string()
}

#[test]
fn a_revoked_phone_is_enrolled_again_in_place_and_sends_everything_exactly_once() {
    let server = TestServer::start();
    let storage = server.state.storage();
    let a = server.new_patient("A");
    let b = server.new_patient("B");
    let t = transport(&server.url());
    let mut phone = enrolled(&server, &a.code);
    let old = phone.identity().unwrap().unwrap();

    // Delivered and acknowledged.
    phone.store.add_batch(&cgm_entries(10, 1), t0()).unwrap();
    let r = sync_once(&mut phone, &t, Limits::default(), &mut rand::rng(), t0()).unwrap();
    assert_eq!((r.stored, r.duplicates), (10, 0));
    // Stored by the server, but the acknowledgement is lost: still in flight on the phone.
    phone.store.add_batch(&cgm_entries(4, 100), t0()).unwrap();
    let lost = LostAnswer(transport(&server.url()));
    push(&mut phone, &lost, Limits::default(), &mut rand::rng(), t0()).unwrap_err();
    assert!(phone.in_flight().unwrap().is_some());
    assert_eq!(storage.count_entry_versions(a.patient_id).unwrap(), 14);

    // The care team revokes the phone; it keeps writing offline; its next sync is refused.
    let token = login(&server);
    let (st, r) = operator_post(
        &server,
        &token,
        &format!("/v1/operator/devices/{}/revoke", old.device_id),
    );
    assert_eq!(st, 200, "{r}");
    phone.store.add_batch(&cgm_entries(3, 200), t0()).unwrap();
    let err = sync_once(&mut phone, &t, Limits::default(), &mut rand::rng(), t0()).unwrap_err();
    assert_eq!(refused(err), ErrorCode::UnknownDevice);
    assert_eq!(phone.refused_device().unwrap(), Some(old.device_id));
    assert_eq!(phone.store.outbox_len().unwrap(), 7);

    // A code for another patient: refused before anything is created; nothing changes here.
    let in_flight = phone.in_flight().unwrap();
    let err = enrol_with(&mut phone, &b.link).unwrap_err();
    assert_eq!(refused(err), ErrorCode::CodeForAnotherPatient);
    let kept = phone.identity().unwrap().unwrap();
    assert_eq!(
        (kept.patient_id, kept.device_id),
        (a.patient_id, old.device_id)
    );
    assert_eq!(phone.in_flight().unwrap(), in_flight);
    assert_eq!(phone.store.outbox_len().unwrap(), 7);
    assert!(storage.patient_devices(b.patient_id).unwrap().is_empty());
    assert_eq!(storage.patient_devices(a.patient_id).unwrap().len(), 1);

    // The new code for the same patient: enrolled again in place.
    let link = new_code(&server, &token, a.patient_id);
    let resp = enrol_with(&mut phone, &link).unwrap();
    assert_eq!(resp.replaced, Some(old.device_id));
    let id = phone.identity().unwrap().unwrap();
    assert_eq!(id.patient_id, a.patient_id);
    assert_ne!(id.device_id, old.device_id);
    assert_eq!(
        phone.in_flight().unwrap(),
        None,
        "the old sealed batch is dropped"
    );
    assert_eq!(phone.refused_device().unwrap(), None);
    // Nothing lost; plus the prescription the enrolment applied (retired, never sent).
    assert_eq!(phone.store.outbox_len().unwrap(), 8);
    let audit = storage.audit_log(50).unwrap();
    let reenrolled = audit
        .iter()
        .find(|e| e.action == "reenrol-device")
        .expect("the re-enrolment is audited");
    assert_eq!(reenrolled.patient_id, Some(a.patient_id));
    let detail = reenrolled.detail.clone().unwrap();
    assert_eq!(detail["replaces"], old.device_id.to_string());
    assert_eq!(detail["device_id"], id.device_id.to_string());

    // Everything unacknowledged goes under the new identity: the 4 the server had stored come
    // back as duplicates, the 3 written after the revocation are new; each is stored once.
    let r = sync_once(&mut phone, &t, Limits::default(), &mut rand::rng(), t0()).unwrap();
    assert_eq!((r.sent, r.stored, r.duplicates, r.retired), (7, 3, 4, 1));
    assert_eq!(phone.store.outbox_len().unwrap(), 0);
    assert_eq!(storage.count_entry_versions(a.patient_id).unwrap(), 17);
    // Nothing left to send: a second session moves nothing.
    let r = sync_once(&mut phone, &t, Limits::default(), &mut rand::rng(), t0()).unwrap();
    assert_eq!((r.sent, r.batches), (0, 0));

    // The other patient's code was not spent: it still enrols their own phone.
    let other = enrolled(&server, &b.link);
    assert_eq!(other.identity().unwrap().unwrap().patient_id, b.patient_id);

    // The phone is accepted again: a further code is refused as already enrolled, by the phone…
    let link = new_code(&server, &token, a.patient_id);
    let err = enrol_with(&mut phone, &link).unwrap_err();
    assert!(matches!(err, SyncError::AlreadyEnrolled { .. }), "{err:?}");
    // … and by the server, even when the phone believes it was refused.
    phone.set_refused_device(Some(id.device_id)).unwrap();
    let err = enrol_with(&mut phone, &link).unwrap_err();
    assert_eq!(refused(err), ErrorCode::DeviceStillEnrolled);
    assert_eq!(phone.identity().unwrap().unwrap().device_id, id.device_id);
    assert_eq!(storage.patient_devices(a.patient_id).unwrap().len(), 2);
    // That code is still good for a new phone of the patient.
    let second = enrolled(&server, &link);
    assert_eq!(second.identity().unwrap().unwrap().patient_id, a.patient_id);
}

#[test]
fn a_device_that_cannot_prove_it_is_the_revoked_one_is_refused_and_the_code_kept() {
    let server = TestServer::start();
    let a = server.new_patient("A");
    let phone = enrolled(&server, &a.code);
    let old = phone.identity().unwrap().unwrap();
    let token = login(&server);
    let (st, _) = operator_post(
        &server,
        &token,
        &format!("/v1/operator/devices/{}/revoke", old.device_id),
    );
    assert_eq!(st, 200);
    let link = new_code(&server, &token, a.patient_id);
    let code: EnrolmentCode = link.parse::<ilot_wire::EnrolmentInvite>().unwrap().code;
    // Someone else, who knows the revoked device's ids and the code, but not its secret.
    let thief = DeviceSecret::generate(&mut rand::rng());
    let stranger = DeviceSecret::generate(&mut rand::rng())
        .agree(&old.server_public_key, old.patient_id, old.device_id)
        .unwrap();
    let req = EnrolRequest {
        code: code.clone(),
        device_public_key: thief.public_key(),
        device_label: None,
        app_version: "0".into(),
        replaces: Some(ilot_wire::Replaces {
            patient_id: old.patient_id,
            device_id: old.device_id,
            proof: stranger.reenrol_proof(&code, &thief.public_key()),
        }),
    };
    let t = transport(&server.url());
    let err = t
        .post(
            paths::ENROL,
            "application/json",
            serde_json::to_vec(&req).unwrap(),
        )
        .unwrap_err();
    assert_eq!(refused(err), ErrorCode::AuthenticationFailed);
    let storage = server.state.storage();
    assert_eq!(storage.patient_devices(a.patient_id).unwrap().len(), 1);
    // The real phone's proof, replayed for the thief's key, does not open either.
    let real = old
        .keys()
        .unwrap()
        .reenrol_proof(&code, &old.device_secret.public_key());
    let mut replayed = req.clone();
    replayed.replaces.as_mut().unwrap().proof = real;
    let err = t
        .post(
            paths::ENROL,
            "application/json",
            serde_json::to_vec(&replayed).unwrap(),
        )
        .unwrap_err();
    assert_eq!(refused(err), ErrorCode::AuthenticationFailed);
    // The code was not spent.
    let fresh = enrolled(&server, &link);
    assert_eq!(fresh.identity().unwrap().unwrap().patient_id, a.patient_id);
}

/// The store as sync state: a new identity drops the batch in flight (sealed for the old one)
/// and the refusal mark with it, and keeps the batch numbers and the outbox.
#[test]
fn the_store_replaces_the_identity_with_the_batch_in_flight_and_the_refusal_at_once() {
    let mut store = ilot_store::Store::open_in_memory().unwrap();
    store.add_batch(&cgm_entries(2, 1), t0()).unwrap();
    let identity = |n: u8| ilot_sync::Identity {
        server: ilot_wire::ServerUrl::parse("http://127.0.0.1:1").unwrap(),
        patient_id: PatientId::from_bytes([1; 16]),
        device_id: ilot_wire::DeviceId::from_bytes([n; 16]),
        server_public_key: DeviceSecret::generate(&mut rand::rng()).public_key(),
        device_secret: DeviceSecret::generate(&mut rand::rng()),
    };
    store.set_identity(&identity(1)).unwrap();
    let batch = ilot_sync::InFlight {
        seq: 7,
        sealed: vec![1, 2, 3],
        outbox_seqs: vec![1, 2],
        consent: None,
    };
    SyncState::begin_batch(&mut store, &batch).unwrap();
    store
        .set_refused_device(Some(ilot_wire::DeviceId::from_bytes([1; 16])))
        .unwrap();
    assert_eq!(SyncState::in_flight(&store).unwrap(), Some(batch));

    store.set_identity(&identity(2)).unwrap();
    let id = store.identity().unwrap().unwrap();
    assert_eq!(id.device_id, ilot_wire::DeviceId::from_bytes([2; 16]));
    assert_eq!(SyncState::in_flight(&store).unwrap(), None);
    assert_eq!(store.refused_device().unwrap(), None);
    assert_eq!(SyncState::next_batch_seq(&store).unwrap(), 8);
    assert_eq!(
        store.outbox_len().unwrap(),
        2,
        "the items are still to send"
    );
}
