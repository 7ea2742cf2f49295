//! Storage conformance of re-enrolment in place, on every backend of `conformance::backends()`:
//! a code for another patient, a device still enrolled or an unknown device changes nothing and
//! leaves the code usable; a revoked device of the code's patient is replaced, and its entry
//! versions become the new device's, so the same versions sent again are duplicates.

use chrono::TimeDelta;
use ilot_server::storage::{CodeRefusal, DeviceRow, IngestBatch, IngestOutcome};
use ilot_wire::{BatchDigest, DeviceId, DeviceSecret, PatientId};

use crate::conformance::{backends, items, patient, t0};

fn device(p: PatientId, n: u8) -> DeviceRow {
    DeviceRow {
        id: DeviceId::from_bytes([n; 16]),
        patient_id: p,
        public_key: DeviceSecret::generate(&mut rand::rng()).public_key(),
        label: Some(format!("phone {n}")),
        enrolled_at: t0(),
        last_batch_seq: None,
    }
}

fn ingest(
    s: &dyn ilot_server::storage::Storage,
    p: PatientId,
    d: DeviceId,
    seq: u64,
) -> (u32, u32) {
    let items = items(6, 1);
    match s
        .ingest(&IngestBatch {
            patient_id: p,
            device_id: d,
            seq,
            digest: BatchDigest::from_bytes([seq as u8; 32]),
            items: &items,
            consent: None,
            now: t0(),
        })
        .unwrap()
    {
        IngestOutcome::Stored(a) => (a.stored, a.duplicates),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_revoked_device_is_replaced_for_its_own_patient_only_and_keeps_its_entries() {
    for (name, s, _d) in backends() {
        let s = s.as_ref();
        let (p, old) = patient(s, 1);
        let (q, _) = patient(s, 2);
        assert_eq!(ingest(s, p, old, 1), (6, 0), "{name}");
        let exp = t0() + TimeDelta::hours(72);
        s.add_enrolment_code("FORP", p, exp).unwrap();
        s.add_enrolment_code("FORQ", q, exp).unwrap();
        let new = device(p, 50);
        let redeem = |code: &str, d: &DeviceRow, replaces: DeviceId| {
            s.redeem_code_replacing(code, d, replaces, t0()).unwrap()
        };

        // Still enrolled: refused, nothing created.
        assert_eq!(
            redeem("FORP", &new, old),
            Err(CodeRefusal::StillEnrolled),
            "{name}"
        );
        let (row, revoked) = s.device_any(old).unwrap().unwrap();
        assert_eq!((row.patient_id, revoked), (p, false), "{name}");
        s.revoke_device(old, t0()).unwrap();
        assert!(
            s.device_any(old).unwrap().unwrap().1,
            "{name}: revoked, still found"
        );
        // Another patient's code, an unknown device: refused, nothing created.
        assert_eq!(
            redeem("FORQ", &new, old),
            Err(CodeRefusal::OtherPatient),
            "{name}"
        );
        let nobody = DeviceId::from_bytes([77; 16]);
        assert_eq!(
            redeem("FORP", &new, nobody),
            Err(CodeRefusal::ReplacedUnknown),
            "{name}"
        );
        assert_eq!(
            redeem("NOPE", &new, old),
            Err(CodeRefusal::Unknown),
            "{name}"
        );
        assert_eq!(s.patient_devices(q).unwrap().len(), 1, "{name}");
        assert_eq!(s.patient_devices(p).unwrap().len(), 1, "{name}");
        assert!(s.device(new.id).unwrap().is_none(), "{name}");

        // Its own patient's code: the new device takes the old one's entries.
        assert_eq!(redeem("FORP", &new, old), Ok(p), "{name}");
        assert_eq!(
            redeem("FORP", &device(p, 51), old),
            Err(CodeRefusal::Used),
            "{name}"
        );
        assert!(s.device(new.id).unwrap().is_some(), "{name}");
        assert_eq!(
            s.patient_devices(p).unwrap().len(),
            2,
            "{name}: the old one stays listed"
        );
        assert_eq!(
            ingest(s, p, new.id, 1),
            (0, 6),
            "{name}: the same versions are duplicates"
        );
        assert_eq!(s.count_entry_versions(p).unwrap(), 6, "{name}");
        // The other patient's code was not spent.
        assert_eq!(
            s.redeem_code("FORQ", &device(q, 60), t0()).unwrap(),
            Ok(q),
            "{name}"
        );
    }
}
