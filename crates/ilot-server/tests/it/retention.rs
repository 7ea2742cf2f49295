//! Retention on every backend (SQLite memory, SQLite file, PostgreSQL), with a clock the test
//! sets: a closed record is kept whole until 20 years after its last care and deleted whole
//! just after (one audit record of the counts, no content), an open record is never deleted,
//! a restriction changes nothing to either; device traceability (batch records, enrolment
//! codes, devices no longer in use) goes 10 years after its last use; and a closed record
//! takes no more batches from the end of its last day.

use chrono::{DateTime, Months, NaiveDate, TimeDelta, Utc};
use ilot_domain::{Entry, EntryKind, Glucose, GlucoseReading, Source};
use ilot_server::storage::{Closure, DeviceRow, IngestBatch, IngestOutcome, Restriction, Storage};
use ilot_wire::{BatchDigest, DeviceId, DeviceSecret, PatientId, WireEntry, WireOp};

use crate::conformance::backends;
use crate::support::{patient_at, t0};

fn years(t: DateTime<Utc>, n: u32) -> DateTime<Utc> {
    t.checked_add_months(Months::new(12 * n)).unwrap()
}

fn day() -> TimeDelta {
    TimeDelta::days(1)
}

/// A device of patient `p` (numbered `n`), enrolled at `at` with a one-time code.
fn device(s: &dyn Storage, p: PatientId, n: u8, at: DateTime<Utc>) -> DeviceId {
    let code = format!("RET{n:06}");
    s.add_enrolment_code(&code, p, at + TimeDelta::hours(72))
        .unwrap();
    let dev = DeviceRow {
        id: DeviceId::from_bytes([n; 16]),
        patient_id: p,
        public_key: DeviceSecret::generate(&mut rand::rng()).public_key(),
        label: None,
        enrolled_at: at,
        last_batch_seq: None,
    };
    assert_eq!(s.redeem_code(&code, &dev, at).unwrap(), Ok(p));
    dev.id
}

fn readings(n: usize, before: DateTime<Utc>) -> Vec<WireEntry> {
    (0..n)
        .map(|i| {
            let at = before - TimeDelta::minutes(5 * (n - i) as i64);
            WireEntry {
                id: i as i64,
                version: 1,
                op: WireOp::Insert,
                recorded_at: at,
                entry: Entry::new(
                    at.fixed_offset(),
                    Source::manual(),
                    EntryKind::Glucose(GlucoseReading::cgm(
                        Glucose::from_mg_dl(90.0 + i as f64).unwrap(),
                    )),
                    at,
                )
                .unwrap(),
                reason: None,
            }
        })
        .collect()
}

fn ingest(
    s: &dyn Storage,
    p: PatientId,
    d: DeviceId,
    seq: u64,
    items: &[WireEntry],
    now: DateTime<Utc>,
) -> IngestOutcome {
    s.ingest(&IngestBatch {
        patient_id: p,
        device_id: d,
        seq,
        digest: BatchDigest::from_bytes([seq as u8; 32]),
        items,
        consent: None,
        now,
    })
    .unwrap()
}

fn closure(last_day: NaiveDate, ends_at: DateTime<Utc>) -> Closure {
    Closure {
        last_day,
        ends_at,
        reason: "fin de la prise en charge".into(),
        by: 1,
        recorded_at: ends_at - TimeDelta::hours(2),
        last_care_at: ends_at,
    }
}

#[test]
fn a_closed_record_is_kept_20_years_after_the_last_care_then_deleted_whole() {
    for (name, s, _d) in backends() {
        let s = s.as_ref();
        // A: closed (last care L) and restricted; B: closed a year later; C: never closed.
        let a = patient_at(s, 1, t0());
        let b = patient_at(s, 2, t0());
        let c = patient_at(s, 3, t0());
        let (da, db, dc) = (
            device(s, a, 11, t0()),
            device(s, b, 12, t0()),
            device(s, c, 13, t0()),
        );
        for (p, d) in [(a, da), (b, db), (c, dc)] {
            let out = ingest(s, p, d, 1, &readings(12, t0()), t0());
            assert!(matches!(out, IngestOutcome::Stored(_)), "{name}: {out:?}");
        }
        let dr = ilot_wire::CareTeamMember {
            name: "Dr Martin".into(),
            role: ilot_wire::CareRole::Physician,
        };
        s.add_message(a, &dr, "au revoir", t0()).unwrap();
        // A's identity (V8) and consent decision (V11): deleted with the record.
        let op = s
            .create_operator(
                "dr-ret",
                "Dr Martin",
                ilot_wire::CareRole::Physician,
                "h",
                t0(),
            )
            .unwrap();
        let traits = ilot_domain::ins::InsTraits::new(
            "PAT-TROIS".into(),
            "DOMINIQUE MARIE-LOUISE".into(),
            NaiveDate::from_ymd_opt(1979, 3, 28).unwrap(),
            ilot_domain::ins::InsSex::Female,
            "63220".into(),
        )
        .unwrap();
        let identity = ilot_domain::ins::Identity::provisional(traits, None);
        s.add_identity_version(&ilot_server::storage::NewIdentityVersion {
            patient: a,
            after: 0,
            identity: &identity,
            change: "created",
            reason: None,
            operator_id: op,
            at: t0(),
        })
        .unwrap()
        .unwrap();
        s.record_consent(
            a,
            &ilot_server::storage::NewConsent {
                decision: ilot_wire::ConsentDecision::Given,
                at: t0(),
                notice_version: 2,
                by: ilot_server::storage::ConsentSource::Operator(op),
            },
            t0(),
        )
        .unwrap();
        // A list read that showed A and C (V13): A's link goes with A; the record, its detail
        // and C's link stay.
        s.record_audit(
            &ilot_server::storage::AuditEvent::new("triage", t0())
                .by(op)
                .shows(vec![a, c]),
        )
        .unwrap();
        let since = t0() - day();
        assert_eq!(s.access_log(a, 0, since, 10).unwrap().len(), 1, "{name}");
        let last_care: DateTime<Utc> = "2026-03-31T22:00:00Z".parse().unwrap();
        let last_day = NaiveDate::from_ymd_opt(2026, 3, 31).unwrap();
        assert!(
            s.close_monitoring(a, &closure(last_day, last_care))
                .unwrap()
        );
        assert!(
            !s.close_monitoring(a, &closure(last_day, last_care))
                .unwrap(),
            "{name}: closing twice changes nothing"
        );
        s.set_restriction(
            a,
            Some(&Restriction {
                at: last_care + day(),
                by: 1,
                reason: "demande d'effacement".into(),
            }),
        )
        .unwrap();
        let later = years(last_care, 1);
        assert!(
            s.close_monitoring(b, &closure(last_day.with_year_plus(1), later))
                .unwrap()
        );

        // 20 years - 1 day: A is kept whole, restricted or not (its device traceability, 10
        // years, is gone by then).
        let n = ilot_server::retention::apply(s, years(last_care, 20) - day()).unwrap();
        assert_eq!(n.patients, 0, "{name}: {n:?}");
        assert_eq!(
            (n.batches, n.devices),
            (3, 2),
            "{name}: C's device is in use"
        );
        assert_eq!(n.entries, 0, "{name}");
        assert_eq!(s.count_entry_versions(a).unwrap(), 12, "{name}");
        assert!(s.patient(a).unwrap().is_some(), "{name}");
        let st = s.record_status(a).unwrap();
        assert!(st.is_restricted() && st.is_closed(), "{name}: {st:?}");
        assert_eq!(st.closure.unwrap().last_care_at, last_care, "{name}");

        // 20 years + 1 day: A goes, with every row about it, in one pass and one audit record.
        let at = years(last_care, 20) + day();
        let n = ilot_server::retention::apply(s, at).unwrap();
        assert_eq!(n.patients, 1, "{name}: {n:?}");
        assert_eq!(n.entries, 12, "{name}");
        assert_eq!(n.prescriptions, 1, "{name}");
        assert_eq!(n.feed, 2, "{name}: the prescription and the message");
        assert_eq!((n.identity_versions, n.consent_events), (1, 1), "{name}");
        assert!(s.identity_versions(a).unwrap().is_empty(), "{name}");
        assert!(s.consent_history(a).unwrap().is_empty(), "{name}");
        assert!(s.patient(a).unwrap().is_none(), "{name}");
        assert_eq!(s.count_entry_versions(a).unwrap(), 0, "{name}");
        assert!(s.prescription(a).unwrap().is_none(), "{name}");
        assert!(s.feed(a, 0, 100).unwrap().is_empty(), "{name}");
        assert!(s.device_info(da).unwrap().is_none(), "{name}");
        assert!(s.device_info(dc).unwrap().is_some(), "{name}");
        assert_eq!(s.record_status(a).unwrap(), Default::default(), "{name}");
        // B (a year later) and C (open) keep their care data.
        assert_eq!(s.count_entry_versions(b).unwrap(), 12, "{name}");
        assert_eq!(s.count_entry_versions(c).unwrap(), 12, "{name}");
        assert!(s.patient(c).unwrap().is_some(), "{name}");
        assert!(s.access_log(a, 0, since, 10).unwrap().is_empty(), "{name}");
        let c_log = s.access_log(c, 0, since, 10).unwrap();
        assert_eq!(c_log.len(), 1, "{name}: {c_log:?}");
        assert_eq!(c_log[0].action, "triage", "{name}");
        let listed = s.audit_log(100).unwrap();
        let listed = listed.iter().find(|r| r.action == "triage").unwrap();
        assert_eq!(
            listed.detail,
            Some(serde_json::json!({ "patients": [a.to_string(), c.to_string()] })),
            "{name}"
        );
        let audit: Vec<_> = s
            .audit_log(100)
            .unwrap()
            .into_iter()
            .filter(|r| r.action == "retention-purge")
            .collect();
        assert_eq!(
            audit.len(),
            2,
            "{name}: one record per pass that deleted something"
        );
        let r = audit.iter().find(|r| r.at == at).unwrap();
        assert_eq!((r.operator_id, r.patient_id), (None, None), "{name}");
        assert_eq!(r.at, at, "{name}");
        let detail = r.detail.as_ref().unwrap();
        assert_eq!(detail["deleted"]["patients"], 1, "{name}");
        assert_eq!(detail["deleted"]["entries"], 12, "{name}");
        let text = detail.to_string();
        assert!(
            !text.contains("P1") && !text.contains(&a.to_string()),
            "{name}: counts, not content: {text}"
        );

        // Nothing left to delete: no pass record.
        let again = ilot_server::retention::apply(s, at).unwrap();
        assert_eq!(again.total(), 0, "{name}: {again:?}");
        // C, never closed, is still kept 40 years on; B goes after its own 20 years.
        let n = ilot_server::retention::apply(s, years(later, 20) + day()).unwrap();
        assert_eq!(n.patients, 1, "{name}");
        assert!(s.patient(b).unwrap().is_none(), "{name}");
        assert!(s.patient(c).unwrap().is_some(), "{name}");
        assert_eq!(s.count_entry_versions(c).unwrap(), 12, "{name}");
    }
}

trait PlusYear {
    fn with_year_plus(self, n: i32) -> NaiveDate;
}

impl PlusYear for NaiveDate {
    fn with_year_plus(self, n: i32) -> NaiveDate {
        use chrono::Datelike;
        self.with_year(self.year() + n).unwrap()
    }
}

#[test]
fn device_traceability_is_kept_10_years_after_its_last_use() {
    for (name, s, _d) in backends() {
        let s = s.as_ref();
        let p = patient_at(s, 1, t0());
        let old = device(s, p, 21, t0());
        let active = device(s, p, 22, t0());
        assert!(matches!(
            ingest(s, p, old, 1, &readings(5, t0()), t0()),
            IngestOutcome::Stored(_)
        ));
        let revoked_at = t0() + day();
        s.revoke_device(old, revoked_at).unwrap();
        // The active device's batch a year later.
        let a_year = years(t0(), 1);
        assert!(matches!(
            ingest(s, p, active, 1, &readings(5, a_year), a_year),
            IngestOutcome::Stored(_)
        ));
        // A second patient, closed the day after t0, whose device was never revoked.
        let q = patient_at(s, 2, t0());
        let qd = device(s, q, 23, t0());
        let qday = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
        let q_end: DateTime<Utc> = "2026-03-02T23:00:00Z".parse().unwrap();
        s.close_monitoring(q, &closure(qday, q_end)).unwrap();

        // 10 years - 1 day after the batch and the revocation: everything kept.
        let n = ilot_server::retention::apply(s, years(t0(), 10) - day()).unwrap();
        assert_eq!(n.total(), 0, "{name}: {n:?}");
        assert!(s.batch_ack(old, 1).unwrap().is_some(), "{name}");

        // 10 years + 1 day after the revocation (and Q's closure): the old batch record, the
        // used codes, the revoked device and Q's device go; the care data stays.
        let n = ilot_server::retention::apply(s, years(revoked_at, 10) + day()).unwrap();
        assert_eq!(n.patients, 0, "{name}: {n:?}");
        assert_eq!(n.entries, 0, "{name}");
        assert_eq!(n.batches, 1, "{name}");
        assert_eq!(n.devices, 2, "{name}");
        assert_eq!(n.enrolment_codes, 3, "{name}");
        assert!(s.batch_ack(old, 1).unwrap().is_none(), "{name}");
        assert!(s.device_info(old).unwrap().is_none(), "{name}");
        assert!(s.device_info(qd).unwrap().is_none(), "{name}");
        assert!(s.device_info(active).unwrap().is_some(), "{name}");
        assert!(s.batch_ack(active, 1).unwrap().is_some(), "{name}");
        assert_eq!(s.count_entry_versions(p).unwrap(), 10, "{name}");
        assert!(
            s.patient(q).unwrap().is_some(),
            "{name}: Q's record is kept 20 years"
        );

        // The active device's batch goes 10 years after it arrived; the device, in use, stays.
        let n = ilot_server::retention::apply(s, years(a_year, 10) + day()).unwrap();
        assert_eq!((n.batches, n.devices), (1, 0), "{name}: {n:?}");
        assert!(s.device_info(active).unwrap().is_some(), "{name}");
        assert_eq!(s.count_entry_versions(p).unwrap(), 10, "{name}");
    }
}

#[test]
fn a_closed_record_takes_no_batch_from_the_end_of_its_last_day() {
    for (name, s, _d) in backends() {
        let s = s.as_ref();
        let p = patient_at(s, 1, t0());
        let d = device(s, p, 31, t0());
        let last_day = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
        // The end of 2 March in Paris.
        let ends: DateTime<Utc> = "2026-03-02T23:00:00Z".parse().unwrap();
        s.close_monitoring(p, &closure(last_day, ends)).unwrap();
        let before = ends - TimeDelta::minutes(1);
        assert!(
            matches!(
                ingest(s, p, d, 1, &readings(3, before), before),
                IngestOutcome::Stored(_)
            ),
            "{name}: still its last day"
        );
        assert_eq!(
            ingest(s, p, d, 2, &readings(3, ends), ends),
            IngestOutcome::MonitoringEnded,
            "{name}"
        );
        assert_eq!(
            s.count_entry_versions(p).unwrap(),
            3,
            "{name}: nothing more stored"
        );
        // A batch with only a consent change is still taken (nothing to store).
        let out = s
            .ingest(&IngestBatch {
                patient_id: p,
                device_id: d,
                seq: 2,
                digest: BatchDigest::from_bytes([2; 32]),
                items: &[],
                consent: Some(ilot_wire::ConsentChange {
                    granted: false,
                    at: ends + day(),
                    notice_version: 1,
                }),
                now: ends + day(),
            })
            .unwrap();
        assert!(matches!(out, IngestOutcome::Stored(_)), "{name}: {out:?}");
    }
}

#[test]
fn a_restriction_is_recorded_lifted_and_listed() {
    for (name, s, _d) in backends() {
        let s = s.as_ref();
        let p = patient_at(s, 1, t0());
        let q = patient_at(s, 2, t0());
        assert!(s.record_statuses().unwrap().is_empty(), "{name}");
        let r = Restriction {
            at: t0(),
            by: 7,
            reason: "demande d'effacement".into(),
        };
        s.set_restriction(p, Some(&r)).unwrap();
        assert_eq!(s.record_status(p).unwrap().restriction, Some(r), "{name}");
        assert_eq!(
            s.record_statuses()
                .unwrap()
                .into_iter()
                .map(|(id, _)| id)
                .collect::<Vec<_>>(),
            [p],
            "{name}"
        );
        assert_eq!(s.record_status(q).unwrap(), Default::default(), "{name}");
        s.set_restriction(p, None).unwrap();
        assert!(!s.record_status(p).unwrap().is_restricted(), "{name}");
        assert!(s.record_statuses().unwrap().is_empty(), "{name}");
    }
}

/// The scheduler applies the retention at the server's clock: a record closed 20 years and a
/// day ago disappears without anyone asking.
#[test]
fn the_scheduler_applies_the_retention_at_the_servers_clock() {
    let s = crate::support::start_configured("sqlite::memory:", &[], |c| {
        c.retention_every = std::time::Duration::from_millis(50);
    });
    let st = s.state.storage();
    let p = patient_at(st, 1, t0());
    let ends: DateTime<Utc> = "2026-03-02T23:00:00Z".parse().unwrap();
    st.close_monitoring(
        p,
        &closure(NaiveDate::from_ymd_opt(2026, 3, 2).unwrap(), ends),
    )
    .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(
        st.patient(p).unwrap().is_some(),
        "kept at the server's clock today"
    );
    s.advance(years(ends, 20) + day() - s.now());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while st.patient(p).unwrap().is_some() {
        assert!(
            std::time::Instant::now() < deadline,
            "the scheduler never deleted it"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let purge = st
        .audit_log(10)
        .unwrap()
        .into_iter()
        .find(|r| r.action == "retention-purge")
        .unwrap();
    assert_eq!(purge.client.as_deref(), Some("scheduler:retention"));
    assert_eq!(purge.detail.unwrap()["deleted"]["patients"], 1);
}

/// The scheduler's "no data" alert is for records in care: neither a closed record (nothing is
/// expected any more) nor a restricted one (not processed) gets one.
#[test]
fn neither_a_closed_nor_a_restricted_record_gets_a_no_data_alert() {
    for (name, s, _d) in backends() {
        let s = s.as_ref();
        let open = patient_at(s, 1, t0());
        let closed = patient_at(s, 2, t0());
        let restricted = patient_at(s, 3, t0());
        for (p, n) in [(open, 41), (closed, 42), (restricted, 43)] {
            device(s, p, n, t0());
        }
        let ends: DateTime<Utc> = "2026-03-02T23:00:00Z".parse().unwrap();
        s.close_monitoring(
            closed,
            &closure(NaiveDate::from_ymd_opt(2026, 3, 2).unwrap(), ends),
        )
        .unwrap();
        s.set_restriction(
            restricted,
            Some(&Restriction {
                at: t0(),
                by: 1,
                reason: "demande d'effacement".into(),
            }),
        )
        .unwrap();
        let n = ilot_server::rules::raise_no_data(s, t0() + TimeDelta::days(3)).unwrap();
        assert_eq!(n, 1, "{name}");
        assert_eq!(s.alerts(Some(open), true).unwrap().len(), 1, "{name}");
        assert!(s.alerts(Some(closed), true).unwrap().is_empty(), "{name}");
        assert!(
            s.alerts(Some(restricted), true).unwrap().is_empty(),
            "{name}"
        );
    }
}
