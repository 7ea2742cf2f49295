//! `POST /v1/operator/patients/{id}/appointments`: a nurse or a physician sets an education
//! session or a consultation (or changes or cancels one: the same `id`, a higher version); the
//! device gets it at its next pull. What no care team would mean is refused with the reason: a
//! new appointment already past, a length outside 5 minutes – 8 hours, a blank or overlong topic,
//! place or link.

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, TimeDelta, Utc};
use ilot_wire::{Appointment, AppointmentKind, AppointmentMode};
use serde::Deserialize;
use serde_json::Value;

use super::{Session, bad, existing, parse_json, patient_id};
use crate::error::Result;
use crate::http::AppState;

/// Shortest and longest appointment, in minutes.
pub const MIN_MINUTES: u32 = 5;
pub const MAX_MINUTES: u32 = 480;
/// Longest topic, place or link, in characters.
pub const MAX_TEXT: usize = 200;
/// A new appointment may start this long before now (set just after it began), not earlier.
const LATE: TimeDelta = TimeDelta::hours(1);

#[derive(Debug, Deserialize)]
pub struct NewAppointment {
    /// The appointment changed or cancelled; a new one when absent.
    pub id: Option<u64>,
    pub kind: AppointmentKind,
    pub starts_at: DateTime<Utc>,
    pub duration_min: u32,
    pub mode: AppointmentMode,
    pub topic: Option<String>,
    #[serde(default)]
    pub cancelled: bool,
}

impl NewAppointment {
    /// The reason this appointment cannot be set at `now`, in the care team's words.
    pub fn check(&self, now: DateTime<Utc>) -> std::result::Result<(), String> {
        if !(MIN_MINUTES..=MAX_MINUTES).contains(&self.duration_min) {
            return Err(format!(
                "an appointment lasts from {MIN_MINUTES} to {MAX_MINUTES} minutes, not {}",
                self.duration_min
            ));
        }
        // A cancellation may concern a past appointment; a new or moved one may not be past.
        if !self.cancelled && self.starts_at < now - LATE {
            return Err(format!(
                "the appointment would start in the past ({}); choose a date to come",
                self.starts_at.format("%Y-%m-%d %H:%M UTC")
            ));
        }
        let texts = [
            ("topic", self.topic.as_deref()),
            match &self.mode {
                AppointmentMode::InPerson { place } => ("place", place.as_deref()),
                AppointmentMode::Video { link } => ("link", link.as_deref()),
                AppointmentMode::Phone => ("place", None),
            },
        ];
        for (what, text) in texts {
            let Some(text) = text else { continue };
            if text.trim().is_empty() {
                return Err(format!("the {what} is blank: leave it out or write it"));
            }
            let n = text.chars().count();
            if n > MAX_TEXT {
                return Err(format!("the {what} has {n} characters; at most {MAX_TEXT}"));
            }
        }
        Ok(())
    }
}

pub async fn appointment(
    State(state): State<AppState>,
    op: Session,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<Value>> {
    let req: NewAppointment = parse_json(&body)?;
    let id = patient_id(&id)?;
    let a = state
        .blocking(move |s| {
            existing(s, id, &op)?;
            crate::record::refuse_if_closed(s, id)?;
            let now = s.now();
            req.check(now).map_err(bad)?;
            let a = Appointment {
                id: req.id.unwrap_or(now.timestamp_millis() as u64),
                version: now.timestamp() as u32,
                kind: req.kind,
                starts_at: req.starts_at,
                duration_min: req.duration_min,
                mode: req.mode,
                with: Some(op.member()),
                topic: req.topic,
                cancelled: req.cancelled,
            };
            let a = s.storage().add_appointment(id, &a)?;
            op.audit(s, "set-appointment", Some(id))?;
            Ok(a)
        })
        .await?;
    Ok(Json(serde_json::to_value(a)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        "2026-03-02T08:00:00Z".parse().unwrap()
    }

    fn ok() -> NewAppointment {
        NewAppointment {
            id: None,
            kind: AppointmentKind::Education,
            starts_at: now() + TimeDelta::days(3),
            duration_min: 45,
            mode: AppointmentMode::InPerson {
                place: Some("Salle 2".into()),
            },
            topic: Some("Adapter ses doses".into()),
            cancelled: false,
        }
    }

    #[test]
    fn a_sensible_appointment_is_accepted() {
        assert_eq!(ok().check(now()), Ok(()));
        // Set just after it began: still accepted.
        let a = NewAppointment {
            starts_at: now() - TimeDelta::minutes(30),
            ..ok()
        };
        assert_eq!(a.check(now()), Ok(()));
    }

    #[test]
    fn what_no_care_team_means_is_refused_with_the_reason() {
        let cases = [
            (
                NewAppointment {
                    duration_min: 0,
                    ..ok()
                },
                "from 5 to 480 minutes, not 0",
            ),
            (
                NewAppointment {
                    duration_min: 481,
                    ..ok()
                },
                "not 481",
            ),
            (
                NewAppointment {
                    starts_at: now() - TimeDelta::days(2),
                    ..ok()
                },
                "start in the past (2026-02-28 08:00 UTC)",
            ),
            (
                NewAppointment {
                    topic: Some("  ".into()),
                    ..ok()
                },
                "the topic is blank",
            ),
            (
                NewAppointment {
                    topic: Some("x".repeat(201)),
                    ..ok()
                },
                "the topic has 201 characters; at most 200",
            ),
            (
                NewAppointment {
                    mode: AppointmentMode::Video {
                        link: Some("".into()),
                    },
                    ..ok()
                },
                "the link is blank",
            ),
        ];
        for (a, why) in cases {
            let err = a.check(now()).unwrap_err();
            assert!(err.contains(why), "{err} lacks {why}");
        }
    }

    #[test]
    fn a_past_appointment_can_still_be_cancelled() {
        let a = NewAppointment {
            id: Some(7),
            starts_at: now() - TimeDelta::days(2),
            cancelled: true,
            ..ok()
        };
        assert_eq!(a.check(now()), Ok(()));
    }
}
