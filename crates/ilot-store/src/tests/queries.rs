//! The read queries that feed the rules, and the profile and prescription.

use chrono::{NaiveDate, Utc};
use ilot_domain::{
    Carbs, DiabetesType, EducationSession, Entry, EntryKind, GlucoseLevel, GlucoseReading,
    HypoEvent, InsulinDelivery, InsulinDose, InsulinKind, MealContext, Monitoring, Note,
    PatientProfile, Prescription, ReadingType, Source,
};
use ilot_rules::Level;

use super::*;
use crate::StoreError;

fn manual(at: &str, kind: EntryKind) -> Entry {
    Entry {
        at: t(at),
        source: Source::manual(),
        kind,
    }
}

fn utc(s: &str) -> chrono::DateTime<Utc> {
    t(s).with_timezone(&Utc)
}

#[test]
fn glucose_points_are_sorted_typed_and_windowed() {
    let mut s = store();
    let lo = manual(
        "2026-03-01T07:00:00+01:00",
        EntryKind::Glucose(GlucoseReading::new(
            GlucoseLevel::Lo,
            ReadingType::Capillary,
            MealContext::Fasting,
        )),
    );
    let report = s
        .add_batch(
            &[
                cgm("2026-03-01T06:10:00Z", 150.0, 2),
                glucose(
                    "2026-03-01T07:00:00+01:00",
                    0.95,
                    GlucoseUnit::GramsPerLitre,
                    Source::manual(),
                ),
                cgm("2026-03-01T06:05:00Z", 140.0, 1),
                lo,
            ],
            now(),
        )
        .unwrap();
    let ids: Vec<u64> = report.ids.iter().map(|i| i.unwrap() as u64).collect();
    let all = s.glucose_points(None, None).unwrap();
    let got: Vec<(u64, Level, bool, MealContext)> = all
        .iter()
        .map(|p| (p.id, p.level, p.cgm, p.context))
        .collect();
    assert_eq!(
        got,
        vec![
            (ids[1], Level::MgDl(95.0), false, MealContext::Fasting),
            (ids[3], Level::Lo, false, MealContext::Fasting),
            (ids[2], Level::MgDl(140.0), true, MealContext::Other),
            (ids[0], Level::MgDl(150.0), true, MealContext::Other),
        ]
    );
    assert_eq!(all[2].at, utc("2026-03-01T06:05:00Z"));
    // [from, to): the reading at `to` is left out, the one at `from` is in.
    let window = s
        .glucose_points(
            Some(utc("2026-03-01T06:00:00Z")),
            Some(utc("2026-03-01T06:10:00Z")),
        )
        .unwrap();
    let window: Vec<u64> = window.iter().map(|p| p.id).collect();
    assert_eq!(window, vec![ids[1], ids[3], ids[2]]);
}

#[test]
fn scans_read_back_as_scans_the_same_as_the_servers_points() {
    let mut s = store();
    let libreview = Source::import(dev("libreview:123"));
    let scan = |at: &str, mg_dl: f64| Entry {
        at: t(at),
        source: libreview.clone(),
        kind: EntryKind::Glucose(GlucoseReading::scan(
            ilot_domain::Glucose::from_mg_dl(mg_dl).unwrap(),
        )),
    };
    let entries = [
        cgm("2026-03-01T06:00:00Z", 140.0, 1),
        scan("2026-03-01T07:07:00+01:00", 61.0),
        cgm("2026-03-01T06:15:00Z", 150.0, 2),
    ];
    let report = s.add_batch(&entries, now()).unwrap();
    let ids: Vec<u64> = report.ids.iter().map(|i| i.unwrap() as u64).collect();
    let points = s.rules_data(None, None).unwrap().glucose;
    let kinds: Vec<(u64, bool, bool)> = points.iter().map(|p| (p.id, p.cgm, p.scan)).collect();
    assert_eq!(
        kinds,
        [
            (ids[0], true, false),
            (ids[1], false, true),
            (ids[2], true, false)
        ]
    );
    // The server builds its points from the entries it received (`Loaded::from_entries`): the
    // same points, so the device and the server judge a scan alike.
    let mut sorted: Vec<(u64, &Entry)> = ids.iter().copied().zip(&entries).collect();
    sorted.sort_by_key(|(_, e)| e.at_utc());
    assert_eq!(ilot_rules::Loaded::from_entries(sorted).glucose, points);
}

#[test]
fn insulin_hypos_and_other_entries_feed_the_rules() {
    let mut s = store();
    let dose = InsulinDose::new(12.0, InsulinKind::Basal, InsulinDelivery::Pen).unwrap();
    let report = s
        .add_batch(
            &[
                manual("2026-03-01T21:00:00+01:00", EntryKind::Insulin(dose)),
                manual(
                    "2026-03-01T03:00:00+01:00",
                    EntryKind::Hypo(HypoEvent {
                        needed_help: true,
                        ..HypoEvent::default()
                    }),
                ),
                manual(
                    "2026-03-01T12:00:00+01:00",
                    EntryKind::Carbs(Carbs::new(60.0, None).unwrap()),
                ),
                manual(
                    "2026-03-02T09:00:00+01:00",
                    EntryKind::Note(Note::new("sick day").unwrap()),
                ),
                cgm("2026-03-02T10:00:00Z", 100.0, 1),
                manual(
                    "2026-03-01T15:00:00+01:00",
                    EntryKind::Education(EducationSession::new(vec!["hypo".into()]).unwrap()),
                ),
            ],
            now(),
        )
        .unwrap();
    let ids: Vec<u64> = report.ids.iter().map(|i| i.unwrap() as u64).collect();

    let insulin = s.insulin_points(None, None).unwrap();
    assert_eq!(insulin.len(), 1);
    assert_eq!(
        (
            insulin[0].id,
            insulin[0].at,
            insulin[0].kind,
            insulin[0].units
        ),
        (
            ids[0],
            utc("2026-03-01T20:00:00Z"),
            InsulinKind::Basal,
            12.0
        )
    );
    let hypos = s.hypo_reports(None, None).unwrap();
    assert_eq!(hypos.len(), 1);
    assert_eq!((hypos[0].id, hypos[0].needed_help), (ids[1], true));
    assert_eq!(
        s.other_entry_times(None, None).unwrap(),
        vec![utc("2026-03-01T11:00:00Z"), utc("2026-03-02T08:00:00Z")]
    );
    assert_eq!(
        s.other_entry_times(Some(utc("2026-03-02T00:00:00Z")), None)
            .unwrap(),
        vec![utc("2026-03-02T08:00:00Z")]
    );
    assert_eq!(
        s.education_session_times(None, None).unwrap(),
        vec![utc("2026-03-01T14:00:00Z")],
        "education sessions are their own list, not 'other entries'"
    );
    assert_eq!(
        s.last_entry_at().unwrap(),
        Some(utc("2026-03-02T10:00:00Z"))
    );
    s.delete(report.ids[4].unwrap(), None, now()).unwrap();
    assert_eq!(
        s.last_entry_at().unwrap(),
        Some(utc("2026-03-02T08:00:00Z"))
    );
    s.delete(report.ids[0].unwrap(), None, now()).unwrap();
    assert!(s.insulin_points(None, None).unwrap().is_empty());
}

#[test]
fn entries_filter_by_kind_and_window() {
    let mut s = store();
    s.add_batch(
        &[
            cgm("2026-03-01T06:00:00Z", 100.0, 1),
            manual(
                "2026-03-01T07:00:00Z",
                EntryKind::Note(Note::new("a").unwrap()),
            ),
            cgm("2026-03-01T08:00:00Z", 110.0, 2),
        ],
        now(),
    )
    .unwrap();
    assert_eq!(
        s.entries(None, None, Some("glucose"), false).unwrap().len(),
        2
    );
    assert_eq!(s.entries(None, None, Some("Note"), false).unwrap().len(), 1);
    let w = s
        .entries(Some(utc("2026-03-01T07:00:00Z")), None, None, false)
        .unwrap();
    assert_eq!(w.len(), 2);
    assert!(w[0].entry.at <= w[1].entry.at);
    let e = s.entries(None, None, Some("sugar"), false).unwrap_err();
    assert!(e.to_string().contains("glucose insulin carbs"), "{e}");
    assert_eq!(
        s.last_entry_at().unwrap(),
        Some(utc("2026-03-01T08:00:00Z"))
    );
    assert_eq!(store().last_entry_at().unwrap(), None);
}

#[test]
fn profile_and_prescription_keep_every_version() {
    let mut s = store();
    assert_eq!(s.profile().unwrap(), None);
    assert_eq!(s.prescription().unwrap(), None);

    let mut profile = PatientProfile::new("P-0042");
    s.set_profile(&profile, now()).unwrap();
    profile.ins = Some("1234567890123".into());
    s.set_profile(&profile, later(1)).unwrap();
    assert_eq!(s.profile().unwrap(), Some(profile));

    let start = NaiveDate::from_ymd_opt(2026, 1, 10).unwrap();
    let mut p = Prescription::new(DiabetesType::Type1, Monitoring::Cgm, 4, start);
    assert_eq!(s.set_prescription(&p, now()).unwrap(), 1);
    p.policy.hyper_mg_dl = 240.0;
    assert_eq!(s.set_prescription(&p, later(1)).unwrap(), 2);
    assert_eq!(s.prescription().unwrap(), Some(p.clone()));

    p.policy.no_data_hours = 0;
    let e = s.set_prescription(&p, later(2)).unwrap_err();
    assert!(matches!(e, StoreError::Invalid(_)), "{e}");
    assert_eq!(rows(&s, "SELECT count(*) FROM prescription"), 2);
    assert_eq!(rows(&s, "SELECT count(*) FROM profile"), 2);
    assert_eq!(s.outbox_len().unwrap(), 4);
}
