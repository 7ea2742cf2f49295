//! The commands against a real encrypted store in a temporary folder, as the app runs them.

use chrono::{DateTime, TimeDelta, Utc};
use ilot_domain::{GlucoseUnit, MealContext};
use ilot_store::KeyMode;
use serde_json::json;

use super::entries::add_entry_at;
use super::home::home_at;
use super::report_pdf::report_pdf_at;
use super::reports::report_at;
use super::setup::{Attempts, Onboarding, Unlock, onboard, try_unlock};
use crate::error::Error;
use crate::input::EntryInput;
use crate::state::AppState;

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-22T10:00:00Z")
        .unwrap()
        .to_utc()
}

fn app(dir: &tempfile::TempDir) -> AppState {
    AppState::open_at(dir.path().join("ilot.db"), KeyMode::File, false).unwrap()
}

fn glucose(value: &str) -> EntryInput {
    serde_json::from_value(json!({"type": "glucose", "value": value, "unit": "g/L",
        "context": "before-meal"}))
    .unwrap()
}

fn onboarding(pin: &str) -> Onboarding {
    Onboarding {
        language: "fr".into(),
        unit: GlucoseUnit::GramsPerLitre,
        consent: true,
        pin: pin.into(),
    }
}

// One default in one place: without a prescription the app raises what `ilot alerts` raises
// (`ilot_rules::assumed`: type 1, so a hyper suggests a ketone check), and says it is assumed.
#[test]
fn without_a_prescription_the_app_assumes_what_the_command_line_assumes() {
    let dir = tempfile::tempdir().unwrap();
    let state = app(&dir);
    add_entry_at(
        &state,
        glucose("3,00"),
        None,
        now() - TimeDelta::minutes(12),
    )
    .unwrap();
    let home = home_at(&state, now()).unwrap();
    assert!(home.prescription_default);
    let kinds: Vec<_> = home.alerts.iter().map(|a| (a.kind, a.advice)).collect();
    assert_eq!(
        kinds,
        [(ilot_rules::alerts::AlertKind::Hyper, "advice.hyper.ketones")]
    );
    let today = now().date_naive();
    let assumed = ilot_rules::assumed::prescription_or_default(None, today).prescription;
    let store = state.store().unwrap();
    let (tz, _) = crate::state::tz_and_unit(&store).unwrap();
    let (p, default) = crate::gather::prescription_or_default(&store, tz, now()).unwrap();
    assert!(default);
    assert_eq!(p, assumed);
}

#[test]
fn a_low_reading_shows_the_hypo_alert_with_its_advice_and_waits_to_be_sent() {
    let dir = tempfile::tempdir().unwrap();
    let state = app(&dir);
    let at = now() - TimeDelta::minutes(12);
    add_entry_at(&state, glucose("0,55"), None, at).unwrap();

    let home = home_at(&state, now()).unwrap();
    let last = home.last.as_ref().unwrap();
    assert_eq!(last.reading.mg_dl, Some(55.0));
    assert_eq!(last.zone, crate::gather::Zone::Low);
    assert_eq!(last.context, MealContext::BeforeMeal);
    assert_eq!(home.alerts.len(), 1, "{:?}", home.alerts);
    let alert = &home.alerts[0];
    // SPEC §3: below 70 (level 1), not below 54 (level 2): warning, re-sugar advice.
    assert_eq!(alert.advice, "advice.hypo.resugar");
    assert_eq!(alert.kind, ilot_rules::alerts::AlertKind::HypoL1);
    assert!(!alert.notify, "a warning is not a desktop notification");
    assert_eq!(home.sync.pending, 1);
    assert_eq!(home.sync.state, "no-consent");
    assert!(home.prescription_default);

    state
        .mark_alerts(ilot_store::AlertMark::Done, [alert.key.as_str()])
        .unwrap();
    assert!(
        home_at(&state, now()).unwrap().alerts.is_empty(),
        "done hides it"
    );
}

#[test]
fn a_very_low_reading_is_urgent_and_asks_for_a_notification_once() {
    let dir = tempfile::tempdir().unwrap();
    let state = app(&dir);
    add_entry_at(&state, glucose("0,45"), None, now()).unwrap();
    let home = home_at(&state, now()).unwrap();
    let alert = &home.alerts[0];
    assert_eq!(alert.advice, "advice.hypo.severe");
    assert!(alert.notify);
    state
        .mark_alerts(ilot_store::AlertMark::Notified, [alert.key.as_str()])
        .unwrap();
    assert!(!home_at(&state, now()).unwrap().alerts[0].notify);
}

#[test]
fn entries_in_the_future_are_refused_with_a_code() {
    let dir = tempfile::tempdir().unwrap();
    let state = app(&dir);
    let e = add_entry_at(&state, glucose("1,10"), Some("2030-01-01T08:00"), now()).unwrap_err();
    assert_eq!(serde_json::to_value(&e).unwrap()["code"], "future-time");
}

#[test]
fn onboarding_sets_the_pin_and_the_lock_guards_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let state = app(&dir);
    onboard(&state, onboarding("2580"), now()).unwrap();
    assert!(state.is_unlocked());
    // Consent lives in the store's sync state, where the sync engine reads it.
    let consent = ilot_sync::SyncState::consent(&*state.store().unwrap())
        .unwrap()
        .unwrap();
    assert_eq!((consent.granted, consent.at), (true, now()));

    // A restart finds the app locked.
    drop(state);
    let state = app(&dir);
    assert!(matches!(home_at(&state, now()), Err(Error::Locked)));
    let attempts = Attempts::default();
    assert!(matches!(
        try_unlock(&state, &attempts, "0000", now()).unwrap(),
        Unlock::Wrong { tries_left: 4 }
    ));
    assert!(matches!(
        try_unlock(&state, &attempts, "2580", now()).unwrap(),
        Unlock::Open
    ));
    assert!(home_at(&state, now()).is_ok());
}

#[test]
fn five_wrong_pins_make_the_patient_wait() {
    let dir = tempfile::tempdir().unwrap();
    let state = app(&dir);
    onboard(&state, onboarding("2580"), now()).unwrap();
    state.set_unlocked(false);
    let attempts = Attempts::default();
    for _ in 0..4 {
        assert!(matches!(
            try_unlock(&state, &attempts, "9999", now()).unwrap(),
            Unlock::Wrong { .. }
        ));
    }
    assert!(matches!(
        try_unlock(&state, &attempts, "9999", now()).unwrap(),
        Unlock::Wait { seconds: 60 }
    ));
    // Even the right PIN waits.
    assert!(matches!(
        try_unlock(&state, &attempts, "2580", now()).unwrap(),
        Unlock::Wait { .. }
    ));
    assert!(!state.is_unlocked());
}

#[test]
fn deleting_local_data_starts_again_empty() {
    let dir = tempfile::tempdir().unwrap();
    let state = app(&dir);
    onboard(&state, onboarding("2580"), now()).unwrap();
    add_entry_at(&state, glucose("1,10"), None, now()).unwrap();
    state.reset().unwrap();
    assert!(!state.settings().onboarded);
    assert_eq!(home_at(&state, now()).unwrap().entries, 0);
    drop(state);
    let state = app(&dir);
    assert_eq!(home_at(&state, now()).unwrap().entries, 0);
}

#[test]
fn the_demo_report_has_an_agp_and_sufficient_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let state = app(&dir);
    let now = Utc::now();
    crate::demo::seed_if_empty(&mut state.store_unchecked().unwrap(), now, 20).unwrap();
    let r = report_at(&state, 14, now).unwrap();
    assert!(r.metrics.sufficient, "{:?}", r.metrics.insufficient_reasons);
    assert_eq!(r.agp.len(), 96);
    assert!(r.agp.iter().all(|b| b.p50.is_some()));
    assert_eq!((r.target.low_mg_dl, r.target.high_mg_dl), (70.0, 180.0));
}

// Charts → Rapport PDF: the same page as `ilot report --pdf`, over the screen's period, written
// whole where the patient chose; a folder that does not exist is an error and leaves nothing.
#[test]
fn the_pdf_report_is_written_whole_where_the_patient_chose() {
    let dir = tempfile::tempdir().unwrap();
    let state = app(&dir);
    for (minutes, value) in [(30, "0,65"), (90, "1,20"), (200, "2,10")] {
        add_entry_at(
            &state,
            glucose(value),
            None,
            now() - TimeDelta::minutes(minutes),
        )
        .unwrap();
    }
    let target = dir.path().join("rapport.pdf");
    report_pdf_at(&state, 14, ilot_report::Lang::Fr, &target, now()).unwrap();
    let bytes = std::fs::read(&target).unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
    assert!(!dir.path().join(".rapport.pdf.part").exists());
    let missing = dir.path().join("nowhere/rapport.pdf");
    let err = report_pdf_at(&state, 14, ilot_report::Lang::En, &missing, now()).unwrap_err();
    assert!(
        matches!(err, Error::Io(ref m) if m.contains("nowhere/rapport.pdf")),
        "{err}"
    );
    assert!(!dir.path().join("nowhere").exists());
}
