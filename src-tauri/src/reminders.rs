//! The scheduled rules: every minute, in the background, the shell asks `ilot-rules` what is due
//! now — a re-check after a low fingerstick, a day short of readings (`ilot_rules::reminders`),
//! a prescribed basal not logged (`AlertKind::MissedInsulin`) — and shows each once as a desktop
//! notification, whether or not the window is in front, and even while the PIN lock is closed.
//! Notifications say what to do, never a glucose value (they show on a locked screen).
//! The home screen lists the reminders still due (`due`); "C'est fait" hides one like an alert.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use ilot_rules::alerts::AlertKind;
use ilot_rules::reminders::{self, RECHECK_LAPSES_AFTER_H, Reminder, ReminderKind};
use tauri::{AppHandle, Manager};

use crate::catalogue::text;
use crate::error::Result;
use crate::gather;
use crate::state::{self, AppState};
use ilot_store::AlertMark;

/// How often the scheduler looks.
pub const TICK: Duration = Duration::from_secs(60);

/// The reminders due at `now` that the patient has not marked done, earliest first.
pub fn due(state: &AppState, now: DateTime<Utc>) -> Result<Vec<Reminder>> {
    let store = state.store_unchecked()?;
    let (tz, _) = state::tz_and_unit(&store)?;
    let (prescription, _) = gather::prescription_or_default(&store, tz, now)?;
    let midnight = ilot_rules::observance::local_midnight(tz, now.with_timezone(&tz).date_naive());
    let from = midnight.min(now - TimeDelta::hours(RECHECK_LAPSES_AFTER_H));
    let glucose = store.glucose_points(Some(from), Some(now + ilot_domain::MAX_FUTURE_SKEW))?;
    let done = store.alert_marks(AlertMark::Done)?;
    drop(store);
    Ok(reminders::due(&prescription, tz, &glucose, now)
        .into_iter()
        .filter(|r| !done.contains(&r.key))
        .collect())
}

/// A notification to show: its key (to show it once), title and body in the patient's language.
#[derive(Debug, Clone, PartialEq)]
pub struct Note {
    pub key: String,
    pub title: String,
    pub body: String,
}

/// What the scheduler should show now and has not shown yet. Nothing before onboarding.
pub fn pending(state: &AppState, now: DateTime<Utc>) -> Result<Vec<Note>> {
    let (lang, onboarded) = {
        let s = state.settings();
        (s.language.clone(), s.onboarded)
    };
    if !onboarded {
        return Ok(Vec::new());
    }
    let notified = state.alert_marks(AlertMark::Notified)?;
    let done = state.alert_marks(AlertMark::Done)?;
    let mut notes: Vec<Note> = due(state, now)?
        .into_iter()
        .map(|r| {
            let (title, body) = match r.kind {
                ReminderKind::Recheck { .. } => (
                    text(&lang, "reminder.recheck.title", &[]),
                    text(&lang, "reminder.recheck.body", &[]),
                ),
                ReminderKind::ReadingsToday { done, asked } => (
                    text(&lang, "reminder.readings.title", &[]),
                    counted(&lang, "reminder.readings.body", done, asked),
                ),
                ReminderKind::ScansToday { done, asked } => (
                    text(&lang, "reminder.scans.title", &[]),
                    counted(&lang, "reminder.scans.body", done, asked),
                ),
            };
            Note {
                key: r.key,
                title,
                body,
            }
        })
        .collect();
    {
        let store = state.store_unchecked()?;
        let (tz, _) = state::tz_and_unit(&store)?;
        let (prescription, _) = gather::prescription_or_default(&store, tz, now)?;
        let from = now - TimeDelta::days(gather::ALERT_LOOKBACK_DAYS);
        let loaded = store.rules_data(Some(from), Some(now + ilot_domain::MAX_FUTURE_SKEW))?;
        for a in gather::active_alerts(&store, &prescription, tz, now, &loaded, &done)? {
            if a.kind == AlertKind::MissedInsulin {
                notes.push(Note {
                    key: a.key,
                    title: text(&lang, "alert.missed-insulin", &[]),
                    body: text(&lang, a.advice, &[]),
                });
            }
        }
    }
    notes.retain(|n| !notified.contains(&n.key));
    Ok(notes)
}

/// Shows what is pending and remembers it was shown (also when the desktop has no notification
/// service: the home screen says it anyway, and a missing service must not mean a retry storm).
fn tick(app: &AppHandle, now: DateTime<Utc>) -> Result<()> {
    use tauri_plugin_notification::NotificationExt;
    let state = app.state::<AppState>();
    for note in pending(&state, now)? {
        if let Err(e) = app
            .notification()
            .builder()
            .title(&note.title)
            .body(&note.body)
            .show()
        {
            tracing::info!("reminder {}: no desktop notification ({e})", note.key);
        }
        state.mark_alerts(AlertMark::Notified, [note.key.as_str()])?;
    }
    Ok(())
}

/// Starts the scheduler thread: a look at once, then every [`TICK`].
pub fn spawn_loop(app: AppHandle) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("ilot-reminders".into())
        .spawn(move || {
            loop {
                if let Err(e) = tick(&app, Utc::now()) {
                    tracing::warn!("reminders: {e}");
                }
                std::thread::sleep(TICK);
            }
        })
        .map(drop)
}

/// The body of a day short of readings or scans: `done` of the `asked`.
fn counted(lang: &str, body: &str, done: u32, asked: u32) -> String {
    text(
        lang,
        body,
        &[("done", done.to_string()), ("asked", asked.to_string())],
    )
}

#[cfg(test)]
mod tests;
