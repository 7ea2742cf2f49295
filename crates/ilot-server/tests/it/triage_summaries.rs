//! The triage's daily summaries (migration V6) against `ilot-rules` over the raw entries, on
//! every backend: real CGM recordings (../shared/data/cgm, several subjects and studies) with
//! finger pricks, LO/HI readings, a second device, corrections (a new value; a reading moved to
//! another day) and deletions, ingested in batches. For each period the console offers (1, 7,
//! 14, 30 days, and the 14 days before each), the metrics from the summaries must equal
//! `ilot_rules::metrics::metrics` over the stored entries: counts, percentages, CGM interval
//! and CGM active time exactly; mean, SD, CV and GMI to 1e-9 relative (sums in another order).
//! Then the V6 backfill (summaries written from the entries of an older database) must give the
//! same rows as the ingest did.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use ilot_domain::{
    DiabetesType, Entry, EntryKind, Glucose, GlucoseLevel, GlucoseReading, MealContext, Monitoring,
    Prescription, ReadingType, Source,
};
use ilot_rules::metrics::summary::SummaryMetrics;
use ilot_rules::metrics::{Ranges, Window};
use ilot_rules::observance::local_midnight;
use ilot_server::storage::{DeviceRow, IngestBatch, IngestOutcome, NewPatient, Storage};
use ilot_wire::{
    BatchDigest, CareRole, CareTeamMember, DeviceId, DeviceSecret, PatientId, WireEntry, WireOp,
};

fn now() -> DateTime<Utc> {
    "2026-04-02T09:30:00Z".parse().unwrap()
}

/// Subject → (time as written, read as UTC, mg/dL), time-sorted, first reading of a time kept.
fn recording(file: &str, subject: &str) -> Vec<(DateTime<Utc>, f64)> {
    let path = format!(
        "{}/../../../shared/data/cgm/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut out: Vec<(DateTime<Utc>, f64)> = text
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split(',').map(|x| x.trim_matches('"')).collect();
            if f.len() != 3 || f[0] != subject {
                return None;
            }
            let t = NaiveDateTime::parse_from_str(f[1], "%Y-%m-%d %H:%M:%S").ok()?;
            Some((t.and_utc(), f[2].parse().ok()?))
        })
        .collect();
    out.sort_by_key(|r| r.0);
    out.dedup_by_key(|r| r.0);
    assert!(out.len() > 400, "{file} {subject}: {} readings", out.len());
    out
}

fn entry(at: DateTime<Utc>, level: GlucoseLevel, cgm: bool) -> Entry {
    let kind = ReadingType::Interstitial;
    let reading = if cgm {
        GlucoseReading::new(level, kind, MealContext::Other)
    } else {
        GlucoseReading::new(level, ReadingType::Capillary, MealContext::BeforeMeal)
    };
    Entry::new(
        at.fixed_offset(),
        Source::manual(),
        EntryKind::Glucose(reading),
        now(),
    )
    .unwrap()
}

fn wire(id: i64, version: u32, op: WireOp, e: Entry) -> WireEntry {
    WireEntry {
        id,
        version,
        op,
        recorded_at: now(),
        entry: e,
        reason: None,
    }
}

struct Subject {
    file: &'static str,
    id: &'static str,
    tz: Tz,
}

fn setup_patient(s: &dyn Storage, team: i64, n: u8, tz: Tz) -> (PatientId, [DeviceId; 2]) {
    let id = PatientId::from_bytes([n; 16]);
    let dr = CareTeamMember {
        name: "Dr".into(),
        role: CareRole::Physician,
    };
    let rx = Prescription::new(
        DiabetesType::Type1,
        Monitoring::Cgm,
        4,
        "2026-01-01".parse().unwrap(),
    );
    s.create_patient(
        &NewPatient {
            pseudonym: format!("S{n}"),
            ins: None,
            tz,
            prescription: rx,
        },
        id,
        &dr,
        now() - TimeDelta::days(60),
    )
    .unwrap();
    s.set_patient_team(id, team).unwrap();
    let devices = [0u8, 1].map(|k| {
        let code = format!("SUMMARY{n}-{k}");
        s.add_enrolment_code(&code, id, now() + TimeDelta::days(1))
            .unwrap();
        let dev = DeviceRow {
            id: DeviceId::from_bytes([n.wrapping_mul(2).wrapping_add(k + 100); 16]),
            patient_id: id,
            public_key: DeviceSecret::generate(&mut rand::rng()).public_key(),
            label: None,
            enrolled_at: now(),
            last_batch_seq: None,
        };
        assert_eq!(s.redeem_code(&code, &dev, now()).unwrap(), Ok(id));
        dev.id
    });
    (id, devices)
}

fn push(s: &dyn Storage, p: PatientId, d: DeviceId, seq: &mut u64, items: &[WireEntry]) {
    for chunk in items.chunks(700) {
        *seq += 1;
        let out = s
            .ingest(&IngestBatch {
                patient_id: p,
                device_id: d,
                seq: *seq,
                digest: BatchDigest::from_bytes([*seq as u8; 32]),
                items: chunk,
                consent: None,
                now: now(),
            })
            .unwrap();
        assert!(matches!(out, IngestOutcome::Stored(_)), "{out:?}");
    }
}

/// Ingests the subject's recording (moved to end an hour ago) with faults and corrections.
fn ingest_subject(s: &dyn Storage, p: PatientId, devices: [DeviceId; 2], sub: &Subject) {
    let rows = recording(sub.file, sub.id);
    // The last 45 days of the recording at most, ending an hour before now.
    let shift = now() - TimeDelta::hours(1) - rows[rows.len() - 1].0;
    let start = now() - TimeDelta::days(45);
    let mut v1 = Vec::new();
    let mut pricks = Vec::new();
    for (i, (t, gl)) in rows.iter().enumerate() {
        let at = *t + shift;
        if at < start {
            continue;
        }
        let level = match i % 997 {
            3 => GlucoseLevel::Lo,
            500 => GlucoseLevel::Hi,
            _ => GlucoseLevel::Value(Glucose::from_mg_dl(*gl).unwrap()),
        };
        v1.push(wire(i as i64, 1, WireOp::Insert, entry(at, level, true)));
        if i % 97 == 0 {
            // A finger prick two minutes later, on the second device.
            let g = GlucoseLevel::Value(Glucose::from_mg_dl(*gl + 7.0).unwrap());
            pricks.push(wire(
                i as i64,
                1,
                WireOp::Insert,
                entry(at + TimeDelta::minutes(2), g, false),
            ));
        }
    }
    let (mut seq0, mut seq1) = (0, 0);
    push(s, p, devices[0], &mut seq0, &v1);
    push(s, p, devices[1], &mut seq1, &pricks);
    // Corrections: a new value (a low), a reading moved 23 hours later (to another day), and
    // deletions; then a second correction of an already corrected entry.
    let mut later = Vec::new();
    for (k, w) in v1.iter().enumerate().filter(|(k, _)| k % 23 == 5) {
        let (op, e) = match k % 3 {
            0 => (
                WireOp::Update,
                entry(
                    w.entry.at_utc(),
                    GlucoseLevel::Value(Glucose::from_mg_dl(52.5).unwrap()),
                    true,
                ),
            ),
            1 => {
                let mut at = w.entry.at_utc() + TimeDelta::hours(23);
                if at >= now() {
                    at -= TimeDelta::hours(46);
                }
                (
                    WireOp::Update,
                    entry(
                        at,
                        GlucoseLevel::Value(Glucose::from_mg_dl(199.0).unwrap()),
                        true,
                    ),
                )
            }
            _ => (WireOp::Delete, w.entry.clone()),
        };
        later.push(wire(w.id, 2, op, e));
    }
    let again: Vec<WireEntry> = later
        .iter()
        .filter(|w| w.op == WireOp::Update)
        .step_by(4)
        .map(|w| {
            wire(
                w.id,
                3,
                WireOp::Update,
                entry(
                    w.entry.at_utc() - TimeDelta::hours(30),
                    GlucoseLevel::Value(Glucose::from_mg_dl(260.0).unwrap()),
                    true,
                ),
            )
        })
        .collect();
    assert!(later.len() > 8 && !again.is_empty());
    push(s, p, devices[0], &mut seq0, &later);
    push(s, p, devices[0], &mut seq0, &again);
}

fn close(what: &str, a: Option<f64>, b: Option<f64>) {
    match (a, b) {
        (Some(a), Some(b)) => assert!(
            (a - b).abs() <= 1e-9 * a.abs().max(1.0),
            "{what}: {a} from the summaries, {b} from the entries"
        ),
        _ => assert_eq!(a, b, "{what}"),
    }
}

fn compare(label: &str, got: &SummaryMetrics, want: &SummaryMetrics) {
    let exact = |m: &SummaryMetrics| {
        (
            m.n_readings,
            m.n_lo,
            m.n_hi,
            m.tir_percent,
            m.below_54_percent,
            m.below_70_percent,
            m.between_54_69_percent,
            m.above_180_percent,
            m.between_181_250_percent,
            m.above_250_percent,
        )
    };
    let exact2 = |m: &SummaryMetrics| {
        (
            m.active_percent,
            m.cgm_interval_minutes,
            m.window_days,
            m.pregnancy.clone(),
        )
    };
    assert_eq!(exact(got), exact(want), "{label}");
    assert_eq!(exact2(got), exact2(want), "{label}");
    close(&format!("{label} mean"), got.mean_mg_dl, want.mean_mg_dl);
    close(&format!("{label} sd"), got.sd_mg_dl, want.sd_mg_dl);
    close(&format!("{label} cv"), got.cv_percent, want.cv_percent);
    close(&format!("{label} gmi"), got.gmi_percent, want.gmi_percent);
}

fn check_all(name: &str, s: &dyn Storage, team: i64, patients: &[(PatientId, Tz)]) -> usize {
    let rows = s.glucose_days(team, now() - TimeDelta::days(60)).unwrap();
    let mut compared = 0;
    for &(p, tz) in patients {
        let mine: Vec<_> = rows.iter().filter(|r| r.patient_id == p).cloned().collect();
        assert!(mine.len() >= 2, "{name}: {} rows", mine.len());
        for days in [1u32, 7, 14, 30] {
            let (first, today, prev) = ilot_server::triage::windows(tz, now(), days);
            for (from, to) in [(first, today), (prev, first)] {
                for ranges in [Ranges::consensus(), Ranges::pregnancy()] {
                    let (got, _) =
                        ilot_server::triage::window_metrics(&mine, tz, from, to, &ranges);
                    let w = Window::new(local_midnight(tz, from), local_midnight(tz, to));
                    let entries = s.entries(p, w.from, w.to, false).unwrap();
                    let data = ilot_rules::Loaded::from_entries(
                        entries
                            .iter()
                            .enumerate()
                            .map(|(i, e)| (i as u64, &e.entry)),
                    );
                    let want = SummaryMetrics::from(&ilot_rules::metrics::metrics(
                        &data.glucose,
                        w,
                        &ranges,
                    ));
                    compare(&format!("{name} {p} {from}..{to}"), &got, &want);
                    compared += usize::from(want.n_readings > 0);
                }
            }
        }
    }
    compared
}

#[test]
fn summaries_give_the_metrics_of_the_entries_on_every_backend() {
    let subjects = [
        Subject {
            file: "Hall2018_processed.csv",
            id: "1636-69-001",
            tz: chrono_tz::Europe::Paris,
        },
        Subject {
            file: "Tsalikian2005_processed.csv",
            id: "16",
            tz: chrono_tz::America::New_York,
        },
        Subject {
            file: "ExampleData5Subjects.csv",
            id: "Subject 1",
            tz: chrono_tz::UTC,
        },
        Subject {
            file: "Dubosson2018_processed.csv",
            id: "001",
            tz: chrono_tz::Australia::Sydney,
        },
    ];
    for (name, s, dir) in crate::conformance::backends() {
        let s = s.as_ref();
        let team = s.create_team("T", now()).unwrap();
        let mut patients = Vec::new();
        for (k, sub) in subjects.iter().enumerate() {
            let (p, devices) = setup_patient(s, team, k as u8 + 1, sub.tz);
            ingest_subject(s, p, devices, sub);
            patients.push((p, sub.tz));
        }
        let compared = check_all(name, s, team, &patients);
        assert!(
            compared > 30,
            "{name}: only {compared} windows held readings"
        );

        // The backfill of V6: an SQLite file taken back to V5 (no summaries, and without V7's
        // pull cursor, V8's identity versions, V9's Pro Santé Connect tables, V10's record
        // status, V11's consent history, V12's reopenings and V13's list-read links) and
        // opened again writes the same rows as the ingests did.
        if let Some(dir) = dir {
            let before = s.glucose_days(team, now() - TimeDelta::days(400)).unwrap();
            let path = dir.path().join("s.db");
            {
                let c = rusqlite::Connection::open(&path).unwrap();
                c.execute_batch(
                    "DROP TABLE record_status; DROP INDEX batches_received; DROP TABLE glucose_days; DROP TABLE reviews; DROP TABLE triage_observance; ALTER TABLE devices DROP COLUMN pulled_cursor; DROP TABLE identity_versions; DROP TABLE psc_flows; DROP TABLE operator_rpps; DROP TABLE consent_events; DROP TABLE monitoring_gaps; DROP TABLE audit_patients; PRAGMA user_version = 5;",
                )
                .unwrap();
            }
            let again = ilot_server::storage::open(
                &format!("sqlite:{}", path.display()),
                &crate::support::key(),
            )
            .unwrap();
            let after = again
                .glucose_days(team, now() - TimeDelta::days(400))
                .unwrap();
            let key = |v: &[ilot_server::storage::GlucoseDay]| {
                v.iter()
                    .map(|r| ((r.patient_id.to_string(), r.day), r.summary.clone()))
                    .collect::<BTreeMap<_, _>>()
            };
            assert_eq!(key(&after), key(&before), "{name}: the backfill");
        }
    }
}
