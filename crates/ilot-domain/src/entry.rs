//! Diary entries: glucose readings, insulin, carbohydrates, hypoglycaemia events and the rest.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, FixedOffset, NaiveTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{DomainError, Result};
use crate::glucose::{Glucose, GlucoseLevel, parse_decimal};

/// How far ahead of `now` an entry time may be: meters and phones disagree by a few minutes.
pub const MAX_FUTURE_SKEW: TimeDelta = TimeDelta::minutes(5);

/// One diary entry: when (with the local UTC offset it was recorded in), where from, and what.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub at: DateTime<FixedOffset>,
    pub source: Source,
    pub kind: EntryKind,
}

impl Entry {
    /// Builds an entry, rejecting a time in the future (beyond [`MAX_FUTURE_SKEW`]).
    pub fn new(
        at: DateTime<FixedOffset>,
        source: Source,
        kind: EntryKind,
        now: DateTime<Utc>,
    ) -> Result<Self> {
        if at.with_timezone(&Utc) > now + MAX_FUTURE_SKEW {
            return Err(DomainError::FutureTime {
                at: at.to_rfc3339(),
                now: now.to_rfc3339(),
            });
        }
        Ok(Self { at, source, kind })
    }

    pub fn at_utc(&self) -> DateTime<Utc> {
        self.at.with_timezone(&Utc)
    }
}

/// A stable identifier of a physical device (Bluetooth: manufacturer + model + serial), or of an
/// import origin (`csv:<subject>`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DeviceId(String);

impl DeviceId {
    pub fn new(id: impl Into<String>) -> Result<Self> {
        let id = id.into();
        if id.trim().is_empty() {
            return Err(DomainError::Empty("device id"));
        }
        Ok(Self(id))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for DeviceId {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self> {
        Self::new(s)
    }
}

impl From<DeviceId> for String {
    fn from(d: DeviceId) -> String {
        d.0
    }
}

impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    Manual,
    Meter,
    Cgm,
    Import,
}

/// Where an entry came from. Device records carry the device's own record number, which with the
/// device id is the key that makes a re-download create no duplicate.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Source {
    pub kind: SourceKind,
    pub device: Option<DeviceId>,
    pub record_number: Option<u32>,
}

impl Source {
    pub fn manual() -> Self {
        Self {
            kind: SourceKind::Manual,
            device: None,
            record_number: None,
        }
    }

    pub fn device(kind: SourceKind, device: DeviceId, record_number: u32) -> Self {
        Self {
            kind,
            device: Some(device),
            record_number: Some(record_number),
        }
    }

    /// An imported file: dedup is by origin + time (one reading per origin per instant).
    pub fn import(origin: DeviceId) -> Self {
        Self {
            kind: SourceKind::Import,
            device: Some(origin),
            record_number: None,
        }
    }
}

macro_rules! named_enum {
    ($(#[$m:meta])* $name:ident, $what:literal { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name { $(#[serde(rename = $text)] $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn name(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl FromStr for $name {
            type Err = DomainError;
            fn from_str(s: &str) -> Result<Self> {
                match s.trim().to_ascii_lowercase().as_str() {
                    $($text => Ok($name::$variant),)+
                    _ => Err(DomainError::UnknownName {
                        what: $what,
                        got: s.to_string(),
                        expected: concat!($($text, " "),+),
                    }),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

named_enum!(
    /// When a glucose was measured relative to meals (SPEC §3 gestational targets depend on it).
    MealContext, "meal context" {
        Fasting => "fasting",
        BeforeMeal => "before-meal",
        AfterMeal1h => "after-meal-1h",
        AfterMeal2h => "after-meal-2h",
        Bedtime => "bedtime",
        Night => "night",
        Other => "other",
    }
);

impl MealContext {
    /// The context a form preselects from the local time of day; the person can always change it.
    pub fn suggest(local: NaiveTime) -> Self {
        use chrono::Timelike;
        match local.hour() {
            0..=4 => Self::Night,
            5..=9 => Self::Fasting,
            22..=23 => Self::Bedtime,
            _ => Self::Other,
        }
    }
}

named_enum!(
    /// Capillary (finger-prick meter), interstitial (a CGM's or flash sensor's own history, read
    /// at the sensor's interval), laboratory, or a scan: interstitial glucose read on demand by
    /// scanning a flash sensor (the "4 scans a day" of the arrêté, distinct from the history).
    ReadingType, "reading type" {
        Capillary => "capillary",
        Interstitial => "interstitial",
        Lab => "lab",
        Scan => "scan",
    }
);

named_enum!(InsulinKind, "insulin kind" {
    Basal => "basal",
    Bolus => "bolus",
    Correction => "correction",
    Mixed => "mixed",
});

named_enum!(InsulinDelivery, "insulin delivery" {
    Pen => "pen",
    Pump => "pump",
    Manual => "manual",
});

named_enum!(KetoneSource, "ketone source" {
    Blood => "blood",
    Urine => "urine",
});

named_enum!(ActivityIntensity, "activity intensity" {
    Light => "light",
    Moderate => "moderate",
    Vigorous => "vigorous",
});

/// What an entry records. Each payload validates itself in its constructor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EntryKind {
    Glucose(GlucoseReading),
    Insulin(InsulinDose),
    Carbs(Carbs),
    Hypo(HypoEvent),
    Ketones(Ketones),
    Weight(Weight),
    Hba1c(HbA1c),
    Activity(Activity),
    Note(Note),
    Education(EducationSession),
}

impl EntryKind {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Glucose(_) => "glucose",
            Self::Insulin(_) => "insulin",
            Self::Carbs(_) => "carbs",
            Self::Hypo(_) => "hypo",
            Self::Ketones(_) => "ketones",
            Self::Weight(_) => "weight",
            Self::Hba1c(_) => "hba1c",
            Self::Activity(_) => "activity",
            Self::Note(_) => "note",
            Self::Education(_) => "education",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GlucoseReading {
    pub level: GlucoseLevel,
    pub reading_type: ReadingType,
    pub context: MealContext,
}

impl GlucoseReading {
    pub fn new(level: GlucoseLevel, reading_type: ReadingType, context: MealContext) -> Self {
        Self {
            level,
            reading_type,
            context,
        }
    }

    pub fn capillary(glucose: Glucose, context: MealContext) -> Self {
        Self::new(
            GlucoseLevel::Value(glucose),
            ReadingType::Capillary,
            context,
        )
    }

    pub fn cgm(glucose: Glucose) -> Self {
        Self::new(
            GlucoseLevel::Value(glucose),
            ReadingType::Interstitial,
            MealContext::Other,
        )
    }

    /// Interstitial glucose read on demand by scanning a flash sensor ([`ReadingType::Scan`]).
    pub fn scan(glucose: Glucose) -> Self {
        Self::new(
            GlucoseLevel::Value(glucose),
            ReadingType::Scan,
            MealContext::Other,
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InsulinDose {
    units: f64,
    pub kind: InsulinKind,
    pub delivery: InsulinDelivery,
    pub insulin_name: Option<String>,
}

impl InsulinDose {
    /// Units to 0.1 U (0.05 U for pumps, which deliver half-tenths); more precision is refused
    /// rather than rounded.
    pub fn new(units: f64, kind: InsulinKind, delivery: InsulinDelivery) -> Result<Self> {
        check_range("insulin dose", units, 0.05, 150.0, "U")?;
        let step = if delivery == InsulinDelivery::Pump {
            0.05
        } else {
            0.1
        };
        let steps = units / step;
        if (steps - steps.round()).abs() > 1e-6 {
            return Err(DomainError::TooPrecise {
                what: "insulin dose",
                value: units,
                step,
                unit: "U",
            });
        }
        Ok(Self {
            units,
            kind,
            delivery,
            insulin_name: None,
        })
    }

    pub fn parse(units: &str, kind: InsulinKind, delivery: InsulinDelivery) -> Result<Self> {
        Self::new(parse_decimal("insulin dose", units)?, kind, delivery)
    }

    pub fn units(&self) -> f64 {
        self.units
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Carbs {
    grams: f64,
    pub label: Option<String>,
}

impl Carbs {
    pub fn new(grams: f64, label: Option<String>) -> Result<Self> {
        check_range("carbohydrates", grams, 0.5, 1000.0, "g")?;
        Ok(Self { grams, label })
    }

    pub fn grams(&self) -> f64 {
        self.grams
    }
}

/// A hypoglycaemia the patient lived through. `needed_help` makes it level 3 (severe).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct HypoEvent {
    pub symptoms: Vec<String>,
    pub treatment: Option<String>,
    pub needed_help: bool,
    pub glucose: Option<Glucose>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ketones {
    value: f64,
    pub source: KetoneSource,
}

impl Ketones {
    /// Blood ketones in mmol/L (0–10); urine ketones as the strip's crosses (0–4).
    pub fn new(value: f64, source: KetoneSource) -> Result<Self> {
        match source {
            KetoneSource::Blood => check_range("blood ketones", value, 0.0, 10.0, "mmol/L")?,
            KetoneSource::Urine => check_range("urine ketones", value, 0.0, 4.0, "crosses")?,
        }
        Ok(Self { value, source })
    }

    pub fn value(&self) -> f64 {
        self.value
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Weight {
    kg: f64,
}

impl Weight {
    pub fn new(kg: f64) -> Result<Self> {
        check_range("weight", kg, 20.0, 350.0, "kg")?;
        Ok(Self { kg })
    }

    pub fn kg(self) -> f64 {
        self.kg
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HbA1c {
    percent: f64,
}

impl HbA1c {
    pub fn new(percent: f64) -> Result<Self> {
        check_range("HbA1c", percent, 3.0, 20.0, "%")?;
        Ok(Self { percent })
    }

    pub fn percent(self) -> f64 {
        self.percent
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Activity {
    minutes: u32,
    pub intensity: ActivityIntensity,
    pub description: Option<String>,
}

impl Activity {
    pub fn new(
        minutes: u32,
        intensity: ActivityIntensity,
        description: Option<String>,
    ) -> Result<Self> {
        check_range("activity duration", f64::from(minutes), 1.0, 1440.0, "min")?;
        Ok(Self {
            minutes,
            intensity,
            description,
        })
    }

    pub fn minutes(&self) -> u32 {
        self.minutes
    }
}

/// A therapeutic-education session (SPEC §2: mandatory during the first month), recorded by the
/// nurse with the patient: topics covered, how well the patient understood, notes, next goals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EducationSession {
    topics: Vec<String>,
    /// The patient's understanding as the nurse judged it, e.g. "good", "partial", "to review".
    pub understanding: Option<String>,
    pub notes: Option<String>,
    pub next_goals: Option<String>,
    pub educator: Option<String>,
    /// Held remotely (video or phone) rather than face to face.
    pub remote: bool,
}

impl EducationSession {
    pub fn new(topics: Vec<String>) -> Result<Self> {
        let topics: Vec<String> = topics
            .into_iter()
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .collect();
        if topics.is_empty() {
            return Err(DomainError::Empty("education session topics"));
        }
        Ok(Self {
            topics,
            understanding: None,
            notes: None,
            next_goals: None,
            educator: None,
            remote: false,
        })
    }

    pub fn topics(&self) -> &[String] {
        &self.topics
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Note {
    text: String,
}

impl Note {
    pub const MAX_CHARS: usize = 4000;

    pub fn new(text: impl Into<String>) -> Result<Self> {
        let text = text.into();
        if text.trim().is_empty() {
            return Err(DomainError::Empty("note"));
        }
        let n = text.chars().count();
        if n > Self::MAX_CHARS {
            return Err(DomainError::OutOfRange {
                what: "note length",
                value: n as f64,
                min: 1.0,
                max: Self::MAX_CHARS as f64,
                unit: "characters",
            });
        }
        Ok(Self { text })
    }

    pub fn text(&self) -> &str {
        &self.text
    }
}

fn check_range(
    what: &'static str,
    value: f64,
    min: f64,
    max: f64,
    unit: &'static str,
) -> Result<()> {
    if !value.is_finite() {
        return Err(DomainError::NotANumber {
            what,
            got: value.to_string(),
        });
    }
    if !(min..=max).contains(&value) {
        return Err(DomainError::OutOfRange {
            what,
            value,
            min,
            max,
            unit,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests;
