//! The PIN lock holds (issue 10, item 11): nothing that changes who the app trusts runs while
//! locked, wrong PINs are remembered across restarts, and the settings file beside the database
//! is the owner's only and holds nothing that dates the patient's hypos.

use chrono::{DateTime, TimeDelta, Utc};
use ilot_domain::GlucoseUnit;
use ilot_store::KeyMode;

use super::setup::{Attempts, Onboarding, Unlock, onboard, try_unlock};
use crate::error::Error;
use crate::state::AppState;

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-22T10:00:00Z")
        .unwrap()
        .to_utc()
}

fn app(dir: &tempfile::TempDir) -> AppState {
    AppState::open_at(dir.path().join("ilot.db"), KeyMode::File, false).unwrap()
}

fn onboarding(pin: &str) -> Onboarding {
    Onboarding {
        language: "fr".into(),
        unit: GlucoseUnit::GramsPerLitre,
        consent: true,
        pin: pin.into(),
    }
}

/// An onboarded app, restarted: locked.
fn locked(dir: &tempfile::TempDir) -> AppState {
    let state = app(dir);
    onboard(&state, onboarding("2580"), now()).unwrap();
    drop(state);
    let state = app(dir);
    assert!(!state.is_unlocked());
    state
}

#[test]
fn onboarding_cannot_be_finished_again_to_replace_the_pin() {
    let dir = tempfile::tempdir().unwrap();
    let state = locked(&dir);
    let e = onboard(&state, onboarding("1357"), now());
    assert!(e.is_err(), "a locked app must not take a new PIN");
    assert!(!state.is_unlocked(), "and stays locked");
    let attempts = Attempts::default();
    assert!(matches!(
        try_unlock(&state, &attempts, "1357", now()).unwrap(),
        Unlock::Wrong { .. }
    ));
    assert!(matches!(
        try_unlock(&state, &attempts, "2580", now()).unwrap(),
        Unlock::Open
    ));
    // Unlocked, onboarding is still done once.
    let e = onboard(&state, onboarding("1357"), now()).unwrap_err();
    assert_eq!(
        serde_json::to_value(&e).unwrap()["code"],
        "already-onboarded",
        "{e}"
    );
}

#[test]
fn enrolling_is_refused_while_locked() {
    let dir = tempfile::tempdir().unwrap();
    let state = locked(&dir);
    let r = super::sync::enrol_unlocked(&state, "ABCDE-FGHJK", Some("http://127.0.0.1:9"), now());
    assert!(matches!(r, Err(Error::Locked)), "{r:?}");
}

/// One attempt on a freshly started app (a new process each time).
fn attempt(dir: &tempfile::TempDir, pin: &str, at: DateTime<Utc>) -> Unlock {
    let state = app(dir);
    try_unlock(&state, &Attempts::default(), pin, at).unwrap()
}

#[test]
fn wrong_pins_are_remembered_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    drop(locked(&dir));
    for left in (1..=4).rev() {
        let r = attempt(&dir, "9999", now());
        assert!(
            matches!(r, Unlock::Wrong { tries_left } if tries_left == left),
            "{r:?}"
        );
    }
    let r = attempt(&dir, "9999", now());
    assert!(matches!(r, Unlock::Wait { seconds: 60 }), "{r:?}");
    let r = attempt(&dir, "2580", now() + TimeDelta::seconds(30));
    assert!(
        matches!(r, Unlock::Wait { seconds: 30 }),
        "even the right PIN waits: {r:?}"
    );
    assert!(!app(&dir).is_unlocked());
}

#[test]
fn each_wrong_pin_after_a_wait_doubles_the_next_wait() {
    let dir = tempfile::tempdir().unwrap();
    drop(locked(&dir));
    let mut t = now();
    for _ in 0..4 {
        attempt(&dir, "9999", t);
    }
    let mut waits = Vec::new();
    for _ in 0..9 {
        match attempt(&dir, "9999", t) {
            Unlock::Wait { seconds } => {
                waits.push(seconds);
                t += TimeDelta::seconds(seconds as i64);
            }
            r => panic!("{r:?}"),
        }
    }
    assert_eq!(waits, [60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]);
    // A clock set back an hour and a half does not make the wait longer than an hour.
    let r = attempt(&dir, "2580", t - TimeDelta::minutes(90));
    assert!(matches!(r, Unlock::Wait { seconds: 3600 }), "{r:?}");
    // The right PIN after the wait opens and starts the count again.
    assert!(matches!(attempt(&dir, "2580", t), Unlock::Open));
    let r = attempt(&dir, "9999", t);
    assert!(matches!(r, Unlock::Wrong { tries_left: 4 }), "{r:?}");
}

#[cfg(unix)]
#[test]
fn the_settings_file_is_the_owners_only_and_dates_no_hypo() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let state = app(&dir);
    onboard(&state, onboarding("2580"), now()).unwrap();
    let key = format!("hypo@{}", (now() - TimeDelta::hours(3)).to_rfc3339());
    state
        .mark_alerts(ilot_store::AlertMark::Done, [key.as_str()])
        .unwrap();
    state.update_settings(|s| s.text_scale = 120).unwrap();
    let path = state.settings_path.clone();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{}: {mode:04o}", path.display());
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.contains("pin_hash"),
        "the file looked at is the settings"
    );
    assert!(!text.contains("hypo@"), "an alert key is in clear: {text}");
    assert!(
        state
            .alert_marks(ilot_store::AlertMark::Done)
            .unwrap()
            .contains(&key)
    );
}

/// Alert keys an older version wrote in the settings file move into the store on start.
#[test]
fn alert_keys_of_an_older_settings_file_move_into_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let state = app(&dir);
    let path = state.settings_path.clone();
    drop(state);
    std::fs::write(
        &path,
        r#"{"language":"fr","acknowledged":["hypo@2026-11-01T03:00:00+00:00"],"notified":["hypo_severe@2026-11-02T04:00:00+00:00"]}"#,
    )
    .unwrap();
    let state = app(&dir);
    assert!(
        state
            .alert_marks(ilot_store::AlertMark::Done)
            .unwrap()
            .contains("hypo@2026-11-01T03:00:00+00:00")
    );
    assert!(
        state
            .alert_marks(ilot_store::AlertMark::Notified)
            .unwrap()
            .contains("hypo_severe@2026-11-02T04:00:00+00:00")
    );
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!text.contains("hypo"), "{text}");
}
