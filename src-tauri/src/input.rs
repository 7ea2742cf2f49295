//! What the add/edit forms send, turned into domain entries. Numbers arrive as the patient typed
//! them (`1,26` or `1.26`); each value is validated by the `ilot-domain` constructor, never
//! rounded or clamped here.

use chrono::{DateTime, FixedOffset, LocalResult, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use ilot_domain::{
    Activity, ActivityIntensity, Carbs, EducationSession, EntryKind, Glucose, GlucoseLevel,
    GlucoseReading, GlucoseUnit, HbA1c, HypoEvent, InsulinDelivery, InsulinDose, InsulinKind,
    KetoneSource, Ketones, MealContext, Note, ReadingType, Weight,
};
use serde::Deserialize;
use serde_json::json;

use crate::error::{Error, Result};

/// One entry as the form sends it (`ui/src/lib/ipc.ts` `EntryInput`).
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EntryInput {
    Glucose {
        value: String,
        unit: GlucoseUnit,
        context: MealContext,
        /// Read by scanning a flash sensor rather than a finger prick.
        #[serde(default)]
        scan: bool,
    },
    Insulin {
        units: String,
        kind: InsulinKind,
        delivery: InsulinDelivery,
        #[serde(default)]
        name: Option<String>,
    },
    Carbs {
        grams: String,
        #[serde(default)]
        label: Option<String>,
    },
    Hypo {
        #[serde(default)]
        symptoms: Vec<String>,
        #[serde(default)]
        treatment: Option<String>,
        needed_help: bool,
        /// The glucose measured during the hypo, if any, in `unit`.
        #[serde(default)]
        glucose: Option<String>,
        #[serde(default)]
        unit: Option<GlucoseUnit>,
    },
    Ketones {
        value: String,
        source: KetoneSource,
    },
    Weight {
        kg: String,
    },
    Hba1c {
        percent: String,
    },
    Activity {
        minutes: String,
        intensity: ActivityIntensity,
        #[serde(default)]
        description: Option<String>,
    },
    Note {
        text: String,
    },
    Education {
        topics: Vec<String>,
        #[serde(default)]
        understanding: Option<String>,
        #[serde(default)]
        notes: Option<String>,
        #[serde(default)]
        next_goals: Option<String>,
        #[serde(default)]
        educator: Option<String>,
        #[serde(default)]
        remote: bool,
    },
}

impl EntryInput {
    pub fn into_kind(self) -> Result<EntryKind> {
        Ok(match self {
            Self::Glucose {
                value,
                unit,
                context,
                scan,
            } => EntryKind::Glucose(GlucoseReading::new(
                GlucoseLevel::parse(&value, unit)?,
                if scan {
                    ReadingType::Scan
                } else {
                    ReadingType::Capillary
                },
                context,
            )),
            Self::Insulin {
                units,
                kind,
                delivery,
                name,
            } => {
                let mut d = InsulinDose::new(number("insulin dose", &units)?, kind, delivery)?;
                d.insulin_name = text(name);
                EntryKind::Insulin(d)
            }
            Self::Carbs { grams, label } => {
                EntryKind::Carbs(Carbs::new(number("carbohydrates", &grams)?, text(label))?)
            }
            Self::Hypo {
                symptoms,
                treatment,
                needed_help,
                glucose,
                unit,
            } => EntryKind::Hypo(HypoEvent {
                symptoms: symptoms.into_iter().filter_map(|s| text(Some(s))).collect(),
                treatment: text(treatment),
                needed_help,
                glucose: match text(glucose) {
                    Some(v) => Some(Glucose::parse(
                        &v,
                        unit.unwrap_or(GlucoseUnit::GramsPerLitre),
                    )?),
                    None => None,
                },
            }),
            Self::Ketones { value, source } => {
                EntryKind::Ketones(Ketones::new(number("ketones", &value)?, source)?)
            }
            Self::Weight { kg } => EntryKind::Weight(Weight::new(number("weight", &kg)?)?),
            Self::Hba1c { percent } => EntryKind::Hba1c(HbA1c::new(number("HbA1c", &percent)?)?),
            Self::Activity {
                minutes,
                intensity,
                description,
            } => {
                let m = number("activity duration", &minutes)?;
                if m.fract() != 0.0 || !(0.0..=f64::from(u32::MAX)).contains(&m) {
                    return Err(Error::input_with(
                        "whole-minutes",
                        "the activity duration is a whole number of minutes",
                        json!({ "got": minutes }),
                    ));
                }
                EntryKind::Activity(Activity::new(m as u32, intensity, text(description))?)
            }
            Self::Note { text } => EntryKind::Note(Note::new(text)?),
            Self::Education {
                topics,
                understanding,
                notes,
                next_goals,
                educator,
                remote,
            } => {
                let mut s = EducationSession::new(topics)?;
                s.understanding = text(understanding);
                s.notes = text(notes);
                s.next_goals = text(next_goals);
                s.educator = text(educator);
                s.remote = remote;
                EntryKind::Education(s)
            }
        })
    }
}

/// A decimal as typed: `1,5` or `1.5`.
fn number(what: &'static str, typed: &str) -> Result<f64> {
    match typed.trim().replace(',', ".").parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(ilot_domain::DomainError::NotANumber {
            what,
            got: typed.to_string(),
        }
        .into()),
    }
}

fn text(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// The instant of a local wall time `YYYY-MM-DDTHH:MM` in `tz`, with the offset it had there.
/// In October's repeated hour the first pass is taken (as everywhere in Ilot); a time in March's
/// skipped hour does not exist and is refused rather than shifted.
pub fn local_time(text: &str, tz: Tz) -> Result<DateTime<FixedOffset>> {
    let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S"))
        .map_err(|_| {
            Error::input_with(
                "bad-time",
                format!("{text:?} is not a date and time (YYYY-MM-DDTHH:MM)"),
                json!({ "got": text }),
            )
        })?;
    match tz.from_local_datetime(&naive) {
        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => Ok(t.fixed_offset()),
        LocalResult::None => Err(Error::input_with(
            "time-gap",
            format!("{text} does not exist in {tz} (the clocks went forward)"),
            json!({ "got": text }),
        )),
    }
}

/// `now` as a time with the offset it has in `tz`.
pub fn now_in(tz: Tz, now: DateTime<Utc>) -> DateTime<FixedOffset> {
    now.with_timezone(&tz).fixed_offset()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: serde_json::Value) -> Result<EntryKind> {
        serde_json::from_value::<EntryInput>(json)
            .expect("the form's shape")
            .into_kind()
    }

    #[test]
    fn glucose_with_a_french_comma_keeps_its_unit() {
        let k = parse(
            json!({"type": "glucose", "value": "0,55", "unit": "g/L", "context": "before-meal"}),
        )
        .unwrap();
        let EntryKind::Glucose(g) = k else { panic!() };
        assert_eq!(g.level.mg_dl(), Some(55.0));
        assert_eq!(g.context, MealContext::BeforeMeal);
        assert_eq!(g.reading_type, ReadingType::Capillary);
    }

    #[test]
    fn a_scan_of_the_flash_sensor_is_a_scan() {
        let k = parse(
            json!({"type": "glucose", "value": "61", "unit": "mg/dL", "context": "other", "scan": true}),
        )
        .unwrap();
        let EntryKind::Glucose(g) = k else { panic!() };
        assert_eq!(g.reading_type, ReadingType::Scan);
        assert_eq!(g.level.mg_dl(), Some(61.0));
    }

    #[test]
    fn implausible_glucose_is_refused() {
        let e = parse(json!({"type": "glucose", "value": "55", "unit": "g/L", "context": "other"}))
            .unwrap_err();
        assert!(matches!(e, Error::Domain(_)), "{e}");
    }

    #[test]
    fn insulin_keeps_its_tenths_and_refuses_hundredths() {
        let ok =
            parse(json!({"type": "insulin", "units": "6,5", "kind": "bolus", "delivery": "pen"}));
        assert!(ok.is_ok());
        let e =
            parse(json!({"type": "insulin", "units": "6,25", "kind": "bolus", "delivery": "pen"}))
                .unwrap_err();
        assert!(e.to_string().contains("more precision"), "{e}");
    }

    #[test]
    fn hypo_with_help_and_a_value() {
        let k = parse(
            json!({"type": "hypo", "symptoms": ["sueurs", " "], "treatment": "3 sucres",
            "needed_help": true, "glucose": "0,45", "unit": "g/L"}),
        )
        .unwrap();
        let EntryKind::Hypo(h) = k else { panic!() };
        assert!(h.needed_help);
        assert_eq!(h.symptoms, vec!["sueurs".to_string()]);
        assert_eq!(h.glucose.map(|g| g.mg_dl()), Some(45.0));
    }

    #[test]
    fn activity_minutes_are_whole() {
        let e = parse(json!({"type": "activity", "minutes": "30,5", "intensity": "light"}))
            .unwrap_err();
        assert!(
            matches!(
                e,
                Error::Input {
                    code: "whole-minutes",
                    ..
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn education_session_needs_a_topic() {
        let e = parse(json!({"type": "education", "topics": []})).unwrap_err();
        assert!(e.to_string().contains("must not be empty"), "{e}");
    }

    #[test]
    fn local_times_follow_paris_dst() {
        let tz = chrono_tz::Europe::Paris;
        assert_eq!(
            local_time("2026-01-10T08:00", tz)
                .unwrap()
                .offset()
                .local_minus_utc(),
            3600
        );
        assert_eq!(
            local_time("2026-07-10T08:00", tz)
                .unwrap()
                .offset()
                .local_minus_utc(),
            7200
        );
        // 29 March 2026, 02:30 does not exist in Paris.
        assert!(local_time("2026-03-29T02:30", tz).is_err());
        // 25 October 2026, 02:30 happens twice: the first pass (summer time).
        assert_eq!(
            local_time("2026-10-25T02:30", tz)
                .unwrap()
                .offset()
                .local_minus_utc(),
            7200
        );
    }
}
