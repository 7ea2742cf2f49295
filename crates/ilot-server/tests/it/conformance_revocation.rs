//! Storage conformance of ending sessions and devices (migration V4), on every backend of
//! `conformance::backends()`: idle and absolute session limits, logout, every session of an
//! operator ended on a password change or when it is disabled, revoked devices refused (also
//! by ingest), pending codes cancelled.

use chrono::{DateTime, TimeDelta, Utc};
use ilot_server::storage::{CodeRefusal, DeviceRow, IngestBatch, IngestOutcome};
use ilot_wire::{BatchDigest, CareRole, DeviceId, DeviceSecret, PatientId};

use crate::conformance::backends;

fn t0() -> DateTime<Utc> {
    "2026-03-02T08:00:00Z".parse().unwrap()
}

fn min(n: i64) -> TimeDelta {
    TimeDelta::minutes(n)
}

#[test]
fn sessions_end_when_idle_expired_logged_out_or_the_operator_is_reset_or_disabled() {
    for (name, s, _d) in backends() {
        let s = s.as_ref();
        let op = s
            .create_operator("ide", "Inès", CareRole::Nurse, "$argon2id$x", t0())
            .unwrap();
        let other = s
            .create_operator("dr", "Dr", CareRole::Physician, "$argon2id$x", t0())
            .unwrap();
        let alive = |h: u8, now: DateTime<Utc>| {
            s.session(&[h; 32], now, now - min(30))
                .unwrap()
                .map(|o| o.id)
        };
        s.create_session(&[1; 32], op, t0(), t0() + TimeDelta::hours(12))
            .unwrap();
        // Each use moves the idle limit; 31 minutes without use end it.
        assert_eq!(alive(1, t0() + min(29)), Some(op), "{name}");
        assert_eq!(alive(1, t0() + min(58)), Some(op), "{name}");
        assert_eq!(alive(1, t0() + min(89)), None, "{name}: idle");
        // The absolute limit.
        s.create_session(&[2; 32], op, t0(), t0() + min(40))
            .unwrap();
        assert_eq!(alive(2, t0() + min(20)), Some(op), "{name}");
        assert_eq!(alive(2, t0() + min(40)), None, "{name}: expired");
        // Logout ends one session.
        s.create_session(&[3; 32], op, t0(), t0() + min(600))
            .unwrap();
        s.create_session(&[4; 32], op, t0(), t0() + min(600))
            .unwrap();
        s.create_session(&[5; 32], other, t0(), t0() + min(600))
            .unwrap();
        assert!(s.end_session(&[3; 32]).unwrap(), "{name}");
        assert!(!s.end_session(&[3; 32]).unwrap(), "{name}");
        assert_eq!(alive(3, t0() + min(1)), None, "{name}: logged out");
        assert_eq!(alive(4, t0() + min(1)), Some(op), "{name}");
        // A new password ends every session of the operator, not the others'.
        s.set_password_hash(op, "$argon2id$new").unwrap();
        assert_eq!(alive(4, t0() + min(2)), None, "{name}: password reset");
        assert_eq!(alive(5, t0() + min(2)), Some(other), "{name}");
        assert_eq!(
            s.operator_by_username("ide")
                .unwrap()
                .unwrap()
                .password_hash,
            "$argon2id$new",
            "{name}"
        );
        // Disabled: sessions ended, no login by name, no new session usable; enabled again.
        s.create_session(&[6; 32], op, t0() + min(3), t0() + min(600))
            .unwrap();
        s.set_operator_disabled(op, Some(t0() + min(4))).unwrap();
        assert_eq!(alive(6, t0() + min(5)), None, "{name}: disabled");
        assert!(s.operator_by_username("ide").unwrap().is_none(), "{name}");
        let st = s.operator_state("ide").unwrap().unwrap();
        assert_eq!((st.id, st.disabled_at), (op, Some(t0() + min(4))), "{name}");
        s.create_session(&[7; 32], op, t0() + min(5), t0() + min(600))
            .unwrap();
        assert_eq!(
            alive(7, t0() + min(6)),
            None,
            "{name}: a disabled operator's session"
        );
        s.set_operator_disabled(op, None).unwrap();
        assert!(s.operator_by_username("ide").unwrap().is_some(), "{name}");
        // A session refused once stays ended; enabled again, the operator logs in anew.
        assert_eq!(alive(7, t0() + min(7)), None, "{name}: not revived");
        s.create_session(&[8; 32], op, t0() + min(7), t0() + min(600))
            .unwrap();
        assert_eq!(alive(8, t0() + min(7)), Some(op), "{name}: enabled again");
        assert_eq!(s.end_operator_sessions(op).unwrap(), 1, "{name}");
        assert_eq!(alive(8, t0() + min(8)), None, "{name}");
        assert_eq!(alive(5, t0() + min(8)), Some(other), "{name}");
    }
}

fn patient(s: &dyn ilot_server::storage::Storage, n: u8) -> PatientId {
    crate::support::patient_at(s, n, t0())
}

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

#[test]
fn revoked_devices_are_refused_listed_and_new_codes_cancel_pending_ones() {
    for (name, s, _d) in backends() {
        let s = s.as_ref();
        let p = patient(s, 1);
        let q = patient(s, 2);
        let exp = t0() + TimeDelta::hours(72);
        s.add_enrolment_code("FIRST", p, exp).unwrap();
        s.add_enrolment_code("QCODE", q, exp).unwrap();
        assert_eq!(
            s.redeem_code("FIRST", &device(p, 11), t0()).unwrap(),
            Ok(p),
            "{name}"
        );
        s.add_enrolment_code("SECOND", p, exp).unwrap();
        s.add_enrolment_code("THIRD", p, exp).unwrap();
        // Cancelling counts only pending codes of this patient.
        assert_eq!(
            s.cancel_enrolment_codes(p, t0() + min(1)).unwrap(),
            2,
            "{name}"
        );
        for code in ["SECOND", "THIRD"] {
            assert_eq!(
                s.redeem_code(code, &device(p, 12), t0() + min(2)).unwrap(),
                Err(CodeRefusal::Expired),
                "{name}: {code}"
            );
        }
        assert_eq!(
            s.redeem_code("FIRST", &device(p, 12), t0() + min(2))
                .unwrap(),
            Err(CodeRefusal::Used),
            "{name}"
        );
        assert_eq!(
            s.redeem_code("QCODE", &device(q, 21), t0() + min(2))
                .unwrap(),
            Ok(q),
            "{name}: another patient's code untouched"
        );
        s.add_enrolment_code("FOURTH", p, exp).unwrap();
        assert_eq!(
            s.redeem_code("FOURTH", &device(p, 13), t0() + min(3))
                .unwrap(),
            Ok(p),
            "{name}"
        );

        let d11 = DeviceId::from_bytes([11; 16]);
        let batch = |seq: u64| IngestBatch {
            patient_id: p,
            device_id: d11,
            seq,
            digest: BatchDigest::from_bytes([seq as u8; 32]),
            items: &[],
            consent: None,
            now: t0() + min(4),
        };
        assert!(
            matches!(s.ingest(&batch(1)).unwrap(), IngestOutcome::Stored(_)),
            "{name}"
        );
        let listed = s.patient_devices(p).unwrap();
        assert_eq!(listed.len(), 2, "{name}");
        assert_eq!(listed[0].id, d11, "{name}");
        assert_eq!(listed[0].label.as_deref(), Some("phone 11"), "{name}");
        assert_eq!(listed[0].last_push_at, Some(t0() + min(4)), "{name}");
        assert_eq!(listed[1].last_push_at, None, "{name}");

        let r = s.revoke_device(d11, t0() + min(5)).unwrap().unwrap();
        assert_eq!(r.revoked_at, Some(t0() + min(5)), "{name}");
        let r = s.revoke_device(d11, t0() + min(6)).unwrap().unwrap();
        assert_eq!(r.revoked_at, Some(t0() + min(5)), "{name}: first time kept");
        assert!(s.device(d11).unwrap().is_none(), "{name}: refused");
        assert_eq!(
            s.device_info(d11).unwrap().unwrap().revoked_at,
            Some(t0() + min(5)),
            "{name}"
        );
        assert_eq!(
            s.ingest(&batch(2)).unwrap(),
            IngestOutcome::DeviceRevoked,
            "{name}: nothing stored after revocation"
        );
        assert!(
            s.device(DeviceId::from_bytes([13; 16])).unwrap().is_some(),
            "{name}: the other device goes on"
        );
        assert!(
            s.revoke_device(DeviceId::from_bytes([99; 16]), t0())
                .unwrap()
                .is_none(),
            "{name}"
        );
        assert_eq!(s.patient_devices(q).unwrap().len(), 1, "{name}");
    }
}
