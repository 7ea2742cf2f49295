//! The scheduler's choices against a real encrypted store: what is due, shown once, hidden when
//! done, in the patient's language, and nothing before onboarding.

use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta, Utc};
use ilot_domain::{BasalSchedule, DiabetesType, GlucoseUnit, Monitoring, Prescription};
use ilot_store::KeyMode;
use serde_json::json;

use super::{due, pending};
use crate::commands::entries::add_entry_at;
use crate::commands::setup::{Onboarding, onboard};
use crate::input::EntryInput;
use crate::state::AppState;

/// 2026-11-22 11:00 in Paris.
fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-22T10:00:00Z")
        .unwrap()
        .to_utc()
}

fn app(dir: &tempfile::TempDir, language: &str) -> AppState {
    let state = AppState::open_at(dir.path().join("ilot.db"), KeyMode::File, false).unwrap();
    let choices = Onboarding {
        language: language.into(),
        unit: GlucoseUnit::GramsPerLitre,
        consent: false,
        pin: "2580".into(),
    };
    onboard(&state, choices, now() - TimeDelta::hours(3)).unwrap();
    state
}

fn glucose(value: &str) -> EntryInput {
    serde_json::from_value(
        json!({"type": "glucose", "value": value, "unit": "g/L", "context": "other"}),
    )
    .unwrap()
}

#[test]
fn a_low_fingerstick_is_followed_by_one_recheck_notification() {
    let dir = tempfile::tempdir().unwrap();
    let state = app(&dir, "fr");
    add_entry_at(&state, glucose("0,58"), None, now()).unwrap();
    assert!(
        pending(&state, now() + TimeDelta::minutes(14))
            .unwrap()
            .is_empty()
    );
    let notes = pending(&state, now() + TimeDelta::minutes(15)).unwrap();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert_eq!(notes[0].title, "Recontrôlez votre glycémie");
    assert!(notes[0].body.contains("15 minutes"));
    assert!(
        !notes[0].body.contains("0,58"),
        "no value on a locked screen"
    );
    // Shown once; still listed on the home screen until done.
    state
        .mark_alerts(ilot_store::AlertMark::Notified, [notes[0].key.as_str()])
        .unwrap();
    assert!(
        pending(&state, now() + TimeDelta::minutes(16))
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        due(&state, now() + TimeDelta::minutes(16)).unwrap().len(),
        1
    );
    state
        .mark_alerts(ilot_store::AlertMark::Done, [notes[0].key.as_str()])
        .unwrap();
    assert!(
        due(&state, now() + TimeDelta::minutes(16))
            .unwrap()
            .is_empty()
    );
}

#[test]
fn the_recheck_is_answered_by_a_new_reading() {
    let dir = tempfile::tempdir().unwrap();
    let state = app(&dir, "en");
    add_entry_at(&state, glucose("0,58"), None, now()).unwrap();
    add_entry_at(
        &state,
        glucose("0,95"),
        None,
        now() + TimeDelta::minutes(14),
    )
    .unwrap();
    assert!(
        pending(&state, now() + TimeDelta::minutes(20))
            .unwrap()
            .is_empty()
    );
}

#[test]
fn a_missed_basal_and_a_short_day_are_notified_in_english() {
    let dir = tempfile::tempdir().unwrap();
    let state = app(&dir, "en");
    let mut p = Prescription::new(
        DiabetesType::Type2Insulin,
        Monitoring::Capillary,
        1,
        NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
    );
    p.expected_readings_per_day = 2.0;
    p.basal = vec![BasalSchedule {
        time: NaiveTime::from_hms_opt(8, 0, 0).unwrap(),
        units: 18.0,
    }];
    state
        .store_unchecked()
        .unwrap()
        .set_prescription(&p, now())
        .unwrap();
    add_entry_at(&state, glucose("1,10"), None, now()).unwrap();
    // 21:30 in Paris: one reading of the two asked, the 08:00 basal never logged.
    let evening = now() + TimeDelta::hours(10) + TimeDelta::minutes(30);
    let notes = pending(&state, evening).unwrap();
    let titles: Vec<&str> = notes.iter().map(|n| n.title.as_str()).collect();
    assert!(titles.contains(&"Today's glucose checks"), "{notes:?}");
    assert!(titles.iter().any(|t| t.contains("insulin")), "{notes:?}");
    let day = notes
        .iter()
        .find(|n| n.key.starts_with("readings:"))
        .unwrap();
    assert!(day.body.contains("1 of the 2"), "{}", day.body);
}

#[test]
fn a_flash_day_short_of_scans_is_notified_with_the_scans_counted() {
    let dir = tempfile::tempdir().unwrap();
    let state = app(&dir, "fr");
    let p = Prescription::new(
        DiabetesType::Type1,
        Monitoring::Flash,
        4,
        NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
    );
    state
        .store_unchecked()
        .unwrap()
        .set_prescription(&p, now())
        .unwrap();
    let scan = |v: &str| -> EntryInput {
        serde_json::from_value(
            json!({"type": "glucose", "value": v, "unit": "g/L", "context": "other", "scan": true}),
        )
        .unwrap()
    };
    add_entry_at(&state, scan("1,20"), None, now()).unwrap();
    // A finger prick is not a scan of the sensor.
    add_entry_at(&state, glucose("1,30"), None, now() + TimeDelta::hours(1)).unwrap();
    let evening = now() + TimeDelta::hours(10) + TimeDelta::minutes(30);
    let notes = pending(&state, evening).unwrap();
    let day = notes
        .iter()
        .find(|n| n.key.starts_with("scans:"))
        .unwrap_or_else(|| panic!("{notes:?}"));
    assert_eq!(day.title, "Scans du jour");
    assert!(
        day.body.contains("aujourd'hui : 1 sur les 4"),
        "{}",
        day.body
    );
}

#[test]
fn nothing_is_due_before_onboarding() {
    let dir = tempfile::tempdir().unwrap();
    let state = AppState::open_at(dir.path().join("ilot.db"), KeyMode::File, false).unwrap();
    add_entry_at(&state, glucose("0,58"), None, now()).unwrap();
    assert!(
        pending(&state, now() + TimeDelta::minutes(20))
            .unwrap()
            .is_empty()
    );
}
