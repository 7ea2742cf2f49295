//! One suite for every storage backend: each check runs on SQLite in memory, SQLite in a file
//! and PostgreSQL (a fresh database on the test process's throwaway cluster, see `ilot-testpg`;
//! `ILOT_TEST_POSTGRES_URL` points it at an existing server).

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use ilot_domain::{
    DiabetesType, Entry, EntryKind, Glucose, GlucoseReading, Monitoring, Prescription, Source,
};
use ilot_server::storage::{
    CodeRefusal, DeviceRow, IngestBatch, IngestOutcome, NewPatient, Storage,
};
use ilot_wire::{
    BatchDigest, CareRole, CareTeamMember, ConsentChange, DeviceId, DeviceSecret, PatientId,
    WireEntry, WireOp,
};

pub fn t0() -> DateTime<Utc> {
    "2026-03-02T08:00:00Z".parse().unwrap()
}

/// Every backend, empty: SQLite in memory, SQLite in a file (with its folder, kept alive by the
/// caller) and PostgreSQL (a new database). Other test files run their checks on these too.
pub fn backends() -> Vec<(&'static str, Box<dyn Storage>, Option<tempfile::TempDir>)> {
    let dir = tempfile::tempdir().unwrap();
    let file = format!("sqlite:{}", dir.path().join("s.db").display());
    let pg = ilot_testpg::fresh_database("conformance");
    vec![
        (
            "sqlite memory",
            ilot_server::storage::open("sqlite::memory:", &crate::support::key()).unwrap(),
            None,
        ),
        (
            "sqlite file",
            ilot_server::storage::open(&file, &crate::support::key()).unwrap(),
            Some(dir),
        ),
        (
            "postgresql",
            ilot_server::storage::open(&pg, &crate::support::key()).unwrap(),
            None,
        ),
    ]
}

fn dr() -> CareTeamMember {
    CareTeamMember {
        name: "Dr Martin".into(),
        role: CareRole::Physician,
    }
}

pub fn patient(s: &dyn Storage, n: u8) -> (PatientId, DeviceId) {
    let id = PatientId::from_bytes([n; 16]);
    let p = Prescription::new(
        DiabetesType::Type1,
        Monitoring::Cgm,
        4,
        NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
    );
    s.create_patient(
        &NewPatient {
            pseudonym: format!("P{n}"),
            ins: None,
            tz: chrono_tz::Europe::Paris,
            prescription: p,
        },
        id,
        &dr(),
        t0(),
    )
    .unwrap();
    let code = format!("CODE{n:06}");
    s.add_enrolment_code(&code, id, t0() + TimeDelta::hours(72))
        .unwrap();
    let dev = DeviceRow {
        id: DeviceId::from_bytes([n + 100; 16]),
        patient_id: id,
        public_key: DeviceSecret::generate(&mut rand::rng()).public_key(),
        label: None,
        enrolled_at: t0(),
        last_batch_seq: None,
    };
    assert_eq!(s.redeem_code(&code, &dev, t0()).unwrap(), Ok(id));
    (id, dev.id)
}

pub fn items(n: usize, version: u32) -> Vec<WireEntry> {
    (0..n)
        .map(|i| {
            let at = (t0() - TimeDelta::minutes(5 * (n - i) as i64)).fixed_offset();
            let e = Entry::new(
                at,
                Source::manual(),
                EntryKind::Glucose(GlucoseReading::cgm(
                    Glucose::from_mg_dl(100.0 + i as f64).unwrap(),
                )),
                t0(),
            )
            .unwrap();
            WireEntry {
                id: i as i64,
                version,
                op: WireOp::Insert,
                recorded_at: t0(),
                entry: e,
                reason: None,
            }
        })
        .collect()
}

#[test]
fn the_server_key_is_made_once() {
    for (name, s, _d) in backends() {
        let a = s.server_secret(fresh_secret()).unwrap().public_key();
        let b = s.server_secret(fresh_secret()).unwrap().public_key();
        assert_eq!(a, b, "{name}");
    }
}

fn fresh_secret() -> ilot_wire::ServerSecret {
    ilot_wire::ServerSecret::generate(&mut rand::rng())
}

fn batch(
    p: PatientId,
    d: DeviceId,
    seq: u64,
    items: &[WireEntry],
    digest: BatchDigest,
) -> IngestBatch<'_> {
    IngestBatch {
        patient_id: p,
        device_id: d,
        seq,
        digest,
        items,
        consent: None,
        now: t0(),
    }
}

#[test]
fn codes_are_single_use_and_expire() {
    for (name, s, _d) in backends() {
        let (p, _) = patient(s.as_ref(), 1);
        let dev = DeviceRow {
            id: DeviceId::from_bytes([9; 16]),
            patient_id: p,
            public_key: DeviceSecret::generate(&mut rand::rng()).public_key(),
            label: None,
            enrolled_at: t0(),
            last_batch_seq: None,
        };
        assert_eq!(
            s.redeem_code("CODE000001", &dev, t0()).unwrap(),
            Err(CodeRefusal::Used),
            "{name}"
        );
        assert_eq!(
            s.redeem_code("NOPE", &dev, t0()).unwrap(),
            Err(CodeRefusal::Unknown),
            "{name}"
        );
        s.add_enrolment_code("LATE", p, t0()).unwrap();
        assert_eq!(
            s.redeem_code("LATE", &dev, t0()).unwrap(),
            Err(CodeRefusal::Expired),
            "{name}: expiry is exclusive"
        );
        assert!(
            s.device(dev.id).unwrap().is_none(),
            "{name}: a refused code registers nothing"
        );
    }
}

#[test]
fn ingest_dedups_by_device_entry_and_version_and_remembers_the_answer() {
    for (name, s, _d) in backends() {
        let (p, d) = patient(s.as_ref(), 1);
        let digest = BatchDigest::from_bytes([1; 32]);
        let v1 = items(10, 1);
        let b = |seq, items, digest| batch(p, d, seq, items, digest);
        let IngestOutcome::Stored(a) = s.ingest(&b(1, &v1, digest)).unwrap() else {
            panic!("{name}")
        };
        assert_eq!((a.stored, a.duplicates), (10, 0), "{name}");
        assert_eq!(
            s.ingest(&b(1, &v1, digest)).unwrap(),
            IngestOutcome::AlreadyAccepted(a),
            "{name}"
        );
        assert_eq!(s.batch_ack(d, 1).unwrap(), Some(a), "{name}");
        // The same versions in a new batch are duplicates; a new version is stored.
        let mut mixed = v1[..5].to_vec();
        mixed.extend(items(3, 2));
        let IngestOutcome::Stored(a2) = s
            .ingest(&b(2, &mixed, BatchDigest::from_bytes([2; 32])))
            .unwrap()
        else {
            panic!("{name}")
        };
        assert_eq!((a2.stored, a2.duplicates), (3, 5), "{name}");
        assert_eq!(s.count_entry_versions(p).unwrap(), 13, "{name}");
        // The same version twice in one batch is stored once.
        let twice = [items(12, 3)[11].clone(), items(12, 3)[11].clone()];
        let IngestOutcome::Stored(a3) = s
            .ingest(&b(3, &twice, BatchDigest::from_bytes([4; 32])))
            .unwrap()
        else {
            panic!("{name}")
        };
        assert_eq!((a3.stored, a3.duplicates), (1, 1), "{name}");
        assert_eq!(s.count_entry_versions(p).unwrap(), 14, "{name}");
        // Latest versions only.
        let latest = s
            .entries(p, t0() - TimeDelta::days(1), t0(), false)
            .unwrap();
        assert_eq!(
            latest.len(),
            11,
            "{name}: ten entries and the one stored once"
        );
        assert_eq!(
            latest.iter().filter(|e| e.version == 2).count(),
            3,
            "{name}"
        );
        let all = s
            .entries(p, DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC, true)
            .unwrap();
        assert_eq!(all, latest, "{name}: the widest window");
        assert_eq!(
            s.ingest(&b(2, &[], BatchDigest::from_bytes([3; 32])))
                .unwrap(),
            IngestOutcome::AlreadyAccepted(a2),
            "{name}"
        );
        assert_eq!(
            s.ingest(&b(1, &[], BatchDigest::from_bytes([3; 32])))
                .unwrap(),
            IngestOutcome::AlreadyAccepted(a),
            "{name}: the caller compares digests"
        );
        assert!(s.patient(p).unwrap().unwrap().last_data_at.is_some());
    }
}

#[test]
fn after_a_withdrawal_nothing_is_stored() {
    for (name, s, _d) in backends() {
        let (p, d) = patient(s.as_ref(), 1);
        let withdraw = ConsentChange {
            granted: false,
            at: t0(),
            notice_version: 1,
        };
        let none: &[WireEntry] = &[];
        let out = s
            .ingest(&IngestBatch {
                patient_id: p,
                device_id: d,
                seq: 1,
                digest: BatchDigest::from_bytes([1; 32]),
                items: none,
                consent: Some(withdraw),
                now: t0(),
            })
            .unwrap();
        assert!(matches!(out, IngestOutcome::Stored(_)), "{name}");
        assert_eq!(s.patient(p).unwrap().unwrap().consent_granted, Some(false));
        let v = items(2, 1);
        let out = s
            .ingest(&IngestBatch {
                patient_id: p,
                device_id: d,
                seq: 2,
                digest: BatchDigest::from_bytes([2; 32]),
                items: &v,
                consent: None,
                now: t0(),
            })
            .unwrap();
        assert_eq!(out, IngestOutcome::ConsentWithdrawn, "{name}");
        assert_eq!(s.count_entry_versions(p).unwrap(), 0, "{name}");
    }
}

#[test]
fn the_feed_is_per_patient_and_ordered() {
    for (name, s, _d) in backends() {
        let (a, _) = patient(s.as_ref(), 1);
        let (b, _) = patient(s.as_ref(), 2);
        s.add_message(a, &dr(), "to A", t0()).unwrap();
        s.add_message(b, &dr(), "to B", t0()).unwrap();
        let fa = s.feed(a, 0, 100).unwrap();
        // Prescription v1 (creation), then the message.
        assert_eq!(fa.len(), 2, "{name}");
        assert!(fa.windows(2).all(|w| w[0].0 < w[1].0));
        let last = fa.last().unwrap().0;
        assert!(s.feed(a, last, 100).unwrap().is_empty(), "{name}");
        assert!(!format!("{:?}", fa).contains("to B"), "{name}");
        assert_eq!(s.feed(a, 0, 1).unwrap().len(), 1, "{name}: limit");
    }
}

#[test]
fn alerts_are_kept_once_per_key_and_acknowledged() {
    for (name, s, _d) in backends() {
        let (p, _) = patient(s.as_ref(), 1);
        let pres = s.prescription(p).unwrap().unwrap().prescription;
        let a = ilot_rules::alerts::no_data(&pres.policy, Some(t0()), t0() + TimeDelta::hours(49))
            .unwrap();
        assert_eq!(
            s.upsert_alerts(p, std::slice::from_ref(&a), t0()).unwrap(),
            1,
            "{name}"
        );
        assert_eq!(s.upsert_alerts(p, &[a], t0()).unwrap(), 0, "{name}");
        let open = s.alerts(Some(p), true).unwrap();
        assert_eq!(open.len(), 1);
        assert_eq!(
            (open[0].kind.as_str(), open[0].severity.as_str()),
            ("no-data", "warning"),
            "{name}"
        );
        let acked = s
            .acknowledge_alert(open[0].id, &dr(), Some("called"), t0())
            .unwrap()
            .unwrap();
        assert_eq!(acked.note.as_deref(), Some("called"));
        assert!(s.alerts(Some(p), true).unwrap().is_empty(), "{name}");
        assert!(
            s.acknowledge_alert(9999, &dr(), None, t0())
                .unwrap()
                .is_none()
        );
        // The acknowledgement goes to the device.
        assert!(
            s.feed(p, 0, 100)
                .unwrap()
                .iter()
                .any(|(_, i)| matches!(i, ilot_server::storage::FeedItem::AlertAck(_)))
        );
    }
}

#[test]
fn sessions_expire_and_the_audit_log_keeps_who_what_when() {
    for (name, s, _d) in backends() {
        let id = s
            .create_operator("nurse", "Inès", CareRole::Nurse, "$argon2id$x", t0())
            .unwrap();
        assert!(
            s.create_operator("nurse", "Other", CareRole::Nurse, "h", t0())
                .is_err(),
            "{name}: unique user names"
        );
        s.create_session(&[1; 32], id, t0(), t0() + TimeDelta::hours(1))
            .unwrap();
        let idle = t0() - TimeDelta::minutes(30);
        assert_eq!(
            s.session(&[1; 32], t0(), idle).unwrap().map(|o| o.name),
            Some("Inès".into()),
            "{name}"
        );
        assert!(
            s.session(&[1; 32], t0() + TimeDelta::hours(1), idle)
                .unwrap()
                .is_none(),
            "{name}"
        );
        assert!(s.session(&[2; 32], t0(), idle).unwrap().is_none(), "{name}");
        let (p, _) = patient(s.as_ref(), 1);
        s.audit(id, "read-entries", Some(p), t0()).unwrap();
        let log = s.audit_log(10).unwrap();
        assert_eq!(
            (
                log[0].operator_id,
                log[0].action.as_str(),
                log[0].patient_id,
                log[0].at
            ),
            (Some(id), "read-entries", Some(p), t0()),
            "{name}"
        );
    }
}
