//! A device of patient A can neither read nor write anything of patient B, on every device
//! endpoint: the table is the server's route table (`routes::routes()`, from which its router
//! is built), so a new device route without a case fails this test. Every mix of A's keys with B's ids in the clear header is refused and
//! stores nothing; enrolment never takes the patient from the request.

use ilot_server::routes::{Access, routes};
use ilot_sync::{SyncError, SyncState, Transport};
use ilot_wire::api::{EnrolResponse, ErrorCode, SEALED_MEDIA_TYPE, paths};
use ilot_wire::{
    BatchHeader, DeviceId, OpenBatch, OpenPullRequest, PatientId, PullRequest, WireEntry, WireOp,
    seal,
};

use crate::support::*;

struct World {
    server: TestServer,
    a: Device,
    b: Device,
}

impl World {
    fn ids(&self, d: &Device) -> (PatientId, DeviceId) {
        let id = d.identity().unwrap().unwrap();
        (id.patient_id, id.device_id)
    }

    /// What the server holds for either patient: entry versions, feed items, each device's
    /// last batch number.
    fn state(&self) -> Vec<u64> {
        let st = self.server.state.storage();
        let mut v = Vec::new();
        for d in [&self.a, &self.b] {
            let (p, dev) = self.ids(d);
            v.push(st.count_entry_versions(p).unwrap());
            v.push(st.feed(p, 0, 10_000).unwrap().len() as u64);
            v.push(st.device(dev).unwrap().unwrap().last_batch_seq.unwrap_or(0));
        }
        v
    }

    /// Headers mixing A's and B's ids, each sealed with A's keys.
    fn mixed_headers(&self) -> Vec<(&'static str, PatientId, DeviceId)> {
        let (pa, da) = self.ids(&self.a);
        let (pb, db) = self.ids(&self.b);
        vec![
            ("B's patient and device", pb, db),
            ("B's patient, A's device", pb, da),
            ("A's patient, B's device", pa, db),
        ]
    }
}

fn refused(what: &str, r: ilot_sync::Result<Vec<u8>>) {
    match r {
        Err(SyncError::Refused { code, .. }) => assert!(
            matches!(
                code,
                ErrorCode::AuthenticationFailed | ErrorCode::WrongPatient
            ),
            "{what}: {code:?}"
        ),
        other => panic!("{what}: expected a refusal, got {other:?}"),
    }
}

fn push_case(w: &World) {
    let t = transport(&w.server.url());
    let keys = w.a.identity().unwrap().unwrap().keys().unwrap();
    let items: Vec<WireEntry> = cgm_entries(3, 1)
        .into_iter()
        .enumerate()
        .map(|(i, entry)| WireEntry {
            id: i as i64 + 1,
            version: 1,
            op: WireOp::Insert,
            recorded_at: t0(),
            entry,
            reason: None,
        })
        .collect();
    for (what, p, d) in w.mixed_headers() {
        let b = OpenBatch::new(BatchHeader::new(p, d, 2, t0()), items.clone());
        let sealed = seal(&b, &keys.to_server, &mut rand::rng()).unwrap();
        refused(
            what,
            t.post(paths::PUSH, SEALED_MEDIA_TYPE, sealed.into_bytes()),
        );
    }
}

fn pull_case(w: &World) {
    let t = transport(&w.server.url());
    let keys = w.a.identity().unwrap().unwrap().keys().unwrap();
    for (what, p, d) in w.mixed_headers() {
        let req = OpenPullRequest {
            header: BatchHeader::new(p, d, 0, t0()),
            request: PullRequest {
                request_id: 7,
                limit: 100,
                rights: None,
            },
        };
        let sealed = seal(&req, &keys.to_server, &mut rand::rng()).unwrap();
        refused(
            what,
            t.post(paths::PULL, SEALED_MEDIA_TYPE, sealed.into_bytes()),
        );
    }
}

fn enrol_case(w: &World) {
    let t = transport(&w.server.url());
    let (pa, _) = w.ids(&w.a);
    let (pb, _) = w.ids(&w.b);
    // A fresh code of A's patient, with B's patient id slipped into the request: the patient
    // comes from the code only.
    let code = ilot_wire::EnrolmentCode::generate(&mut rand::rng());
    w.server
        .state
        .storage()
        .add_enrolment_code(&code.canonical(), pa, t0() + chrono::TimeDelta::hours(1))
        .unwrap();
    let mut req = serde_json::to_value(ilot_wire::api::EnrolRequest {
        replaces: None,
        code,
        device_public_key: ilot_wire::DeviceSecret::generate(&mut rand::rng()).public_key(),
        device_label: None,
        app_version: "test".into(),
    })
    .unwrap();
    req["patient_id"] = serde_json::json!(pb.to_string());
    let r = t
        .post(
            paths::ENROL,
            "application/json",
            serde_json::to_vec(&req).unwrap(),
        )
        .unwrap();
    let r: EnrolResponse = serde_json::from_slice(&r).unwrap();
    assert_eq!(r.patient_id, pa, "enrolled into the code's patient only");
    assert_eq!(r.pseudonym, "A");
}

#[test]
fn every_device_endpoint_refuses_another_patients_ids_and_stores_nothing() {
    let server = TestServer::start();
    let ea = server.new_patient("A");
    let eb = server.new_patient("B");
    let a = enrolled(&server, &ea.code);
    let b = enrolled(&server, &eb.code);
    server
        .state
        .storage()
        .add_message(eb.patient_id, &server.physician().member(), "for B", t0())
        .unwrap();
    let w = World { server, a, b };
    let mut untested = Vec::new();
    for route in routes() {
        // Device routes: authenticated by a sealed envelope or an enrolment code.
        if !matches!(route.access, Access::Sealed | Access::EnrolmentCode) {
            continue;
        }
        let (method, path) = (route.method, route.path);
        let before = w.state();
        match (method, path) {
            ("post", paths::PUSH) => push_case(&w),
            ("post", paths::PULL) => pull_case(&w),
            ("post", paths::ENROL) => enrol_case(&w),
            _ => untested.push(format!("{method} {path}")),
        }
        assert_eq!(
            w.state(),
            before,
            "{method} {path}: nothing changed for A or B"
        );
    }
    assert!(
        untested.is_empty(),
        "device routes without a case: {untested:?}"
    );
}
