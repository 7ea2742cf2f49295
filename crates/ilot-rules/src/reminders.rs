//! Reminders: what the patient should do at a given time, derived from the readings, the
//! prescription and `now` — the scheduled side of the rules. Alerts say something happened;
//! reminders say "now is the time". The app's shell evaluates them every minute and shows each
//! one once as a notification, and the home screen lists the ones still due.
//!
//! Decisions (product rules; the SPEC gives the advice, not the schedule):
//! - **Re-check after a low** ([`ReminderKind::Recheck`]): the hypo advice says "re-check after
//!   15 minutes". When the latest reading is a fingerstick (not CGM: the sensor re-checks by
//!   itself) below the capillary level-1 threshold and nothing was measured since, a reminder is
//!   due 15 minutes after it. It lapses two hours after the reading: by then the reading is
//!   history, and the hypo alert stays on the home screen for the care team's advice.
//! - **Readings of the day** ([`ReminderKind::ReadingsToday`]): with capillary monitoring, at
//!   20:00 local time, when today holds fewer readings than the prescription's daily minimum
//!   (rounded up: 2.5 a day asks for 3), a reminder says how many are done and how many are asked.
//!   Only on days of the prescription. One per local day.
//! - **Scans of the day** ([`ReminderKind::ScansToday`]): with flash monitoring, the same 20:00
//!   check counts today's **scans** (not the sensor's history, which the reader fills by itself)
//!   against the prescription's scans a day (at least 4, SPEC's flash minimum), so the patient
//!   who scanned twice hears it the same evening, not at the end of the 30-day period.
//!
//! Keys are deterministic (`recheck:<reading time>`, `readings:<local date>`,
//! `scans:<local date>`), so re-evaluating
//! the same data yields the same reminders and the caller shows each once.

use chrono::{DateTime, NaiveTime, TimeDelta, Utc};
use chrono_tz::Tz;
use ilot_domain::{Monitoring, Prescription};
use serde::Serialize;

use crate::input::GlucosePoint;
use crate::observance::local_midnight;

/// Minutes after a low fingerstick at which the re-check is due (the hypo advice's 15 minutes).
pub const RECHECK_AFTER_MIN: i64 = 15;
/// Hours after the low reading at which the re-check reminder lapses.
pub const RECHECK_LAPSES_AFTER_H: i64 = 2;
/// Local time at which a day short of readings is pointed out.
pub const EVENING_CHECK: NaiveTime = match NaiveTime::from_hms_opt(20, 0, 0) {
    Some(t) => t,
    None => panic!("20:00 is a time"),
};

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ReminderKind {
    /// Re-check the glucose after a low fingerstick taken at `reading_at`.
    Recheck { reading_at: DateTime<Utc> },
    /// `done` readings today out of the `asked` daily minimum.
    ReadingsToday { done: u32, asked: u32 },
    /// `done` flash scans today out of the `asked` daily minimum.
    ScansToday { done: u32, asked: u32 },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reminder {
    pub key: String,
    /// When it became due.
    pub due_at: DateTime<Utc>,
    #[serde(flatten)]
    pub kind: ReminderKind,
}

/// The reminders due at `now`, earliest first. `glucose` is in time order and covers at least
/// the current local day and the last [`RECHECK_LAPSES_AFTER_H`] hours.
pub fn due(
    prescription: &Prescription,
    tz: Tz,
    glucose: &[GlucosePoint],
    now: DateTime<Utc>,
) -> Vec<Reminder> {
    let mut out = Vec::new();
    let past: Vec<&GlucosePoint> = glucose.iter().filter(|p| p.at <= now).collect();
    if let Some(last) = past.last() {
        let due_at = last.at + TimeDelta::minutes(RECHECK_AFTER_MIN);
        let lapses = last.at + TimeDelta::hours(RECHECK_LAPSES_AFTER_H);
        // A finger prick or a flash scan (a point reading, judged on the interstitial
        // threshold as its alerts are); a sensor's history re-checks itself.
        let l1 = if last.scan {
            prescription.policy.hypo_l1_cgm_mg_dl
        } else {
            prescription.policy.hypo_l1_mg_dl
        };
        if !last.cgm && last.level.below(l1) && due_at <= now && now < lapses {
            out.push(Reminder {
                key: format!("recheck:{}", last.at.timestamp()),
                due_at,
                kind: ReminderKind::Recheck {
                    reading_at: last.at,
                },
            });
        }
    }
    let today = now.with_timezone(&tz).date_naive();
    let in_prescription = prescription.start <= today && today <= prescription.end;
    let counted = match prescription.monitoring {
        Monitoring::Capillary => Some("readings"),
        Monitoring::Flash => Some("scans"),
        Monitoring::Cgm => None,
    };
    if let Some(what) = counted.filter(|_| in_prescription) {
        let asked = prescription.expected_readings_per_day.ceil().max(0.0) as u32;
        let evening = today
            .and_time(EVENING_CHECK)
            .and_local_timezone(tz)
            .earliest()
            .map(|t| t.with_timezone(&Utc));
        let midnight = local_midnight(tz, today);
        let done = past
            .iter()
            .filter(|p| p.at >= midnight && (what == "readings" || p.scan))
            .count() as u32;
        if let Some(evening) = evening
            && evening <= now
            && done < asked
        {
            out.push(Reminder {
                key: format!("{what}:{today}"),
                due_at: evening,
                kind: if what == "scans" {
                    ReminderKind::ScansToday { done, asked }
                } else {
                    ReminderKind::ReadingsToday { done, asked }
                },
            });
        }
    }
    out.sort_by_key(|r| r.due_at);
    out
}

#[cfg(test)]
mod tests;
