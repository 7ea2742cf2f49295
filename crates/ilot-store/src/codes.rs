//! The stable small integers the schema stores for kinds, units and contexts, and the conversion of
//! a stored row back into an [`Entry`]. Codes are written out one by one (never derived from an
//! enum's order) because they are on disk forever.

use chrono::{DateTime, FixedOffset, SubsecRound};
use ilot_domain::{
    DeviceId, DomainError, Entry, EntryKind, Glucose, GlucoseLevel, GlucoseReading, GlucoseUnit,
    MealContext, ReadingType, Source, SourceKind,
};

use crate::error::{Result, StoreError};

pub(crate) const KIND_GLUCOSE: u8 = 1;
pub(crate) const KIND_INSULIN: u8 = 2;
pub(crate) const KIND_HYPO: u8 = 4;

pub(crate) const KIND_EDUCATION: u8 = 10;

const KIND_NAMES: [(u8, &str); 10] = [
    (KIND_GLUCOSE, "glucose"),
    (KIND_INSULIN, "insulin"),
    (3, "carbs"),
    (KIND_HYPO, "hypo"),
    (5, "ketones"),
    (6, "weight"),
    (7, "hba1c"),
    (8, "activity"),
    (9, "note"),
    (KIND_EDUCATION, "education"),
];

/// Every entry kind's code.
pub(crate) fn kind_codes() -> impl Iterator<Item = u8> {
    KIND_NAMES.iter().map(|(c, _)| *c)
}

pub(crate) fn kind_code(kind: &EntryKind) -> u8 {
    match kind {
        EntryKind::Glucose(_) => KIND_GLUCOSE,
        EntryKind::Insulin(_) => KIND_INSULIN,
        EntryKind::Carbs(_) => 3,
        EntryKind::Hypo(_) => KIND_HYPO,
        EntryKind::Ketones(_) => 5,
        EntryKind::Weight(_) => 6,
        EntryKind::Hba1c(_) => 7,
        EntryKind::Activity(_) => 8,
        EntryKind::Note(_) => 9,
        EntryKind::Education(_) => KIND_EDUCATION,
    }
}

/// The code of a kind named as [`EntryKind::name`] gives it (`glucose`, `insulin`, …).
pub(crate) fn kind_code_by_name(name: &str) -> Result<u8> {
    let wanted = name.trim().to_ascii_lowercase();
    KIND_NAMES
        .iter()
        .find(|(_, n)| *n == wanted)
        .map(|(c, _)| *c)
        .ok_or_else(|| {
            StoreError::Invalid(DomainError::UnknownName {
                what: "entry kind",
                got: name.to_string(),
                expected: "glucose insulin carbs hypo ketones weight hba1c activity note education",
            })
        })
}

pub(crate) fn source_kind_code(kind: SourceKind) -> u8 {
    match kind {
        SourceKind::Manual => 1,
        SourceKind::Meter => 2,
        SourceKind::Cgm => 3,
        SourceKind::Import => 4,
    }
}

fn source_kind_from(code: u8) -> Result<SourceKind> {
    Ok(match code {
        1 => SourceKind::Manual,
        2 => SourceKind::Meter,
        3 => SourceKind::Cgm,
        4 => SourceKind::Import,
        _ => return Err(bad_code("source kind", code)),
    })
}

pub(crate) const READING_INTERSTITIAL: u8 = 2;
/// A flash sensor scan. The reading type has two bits in `g_code` (bits 2-3) and 1-3 were taken,
/// so a scan is the one free value, 0 — which V1 already accepts (its CHECK bounds the whole
/// code, and unknown codes were refused only when read): no migration is needed.
pub(crate) const READING_SCAN: u8 = 0;

pub(crate) fn reading_type_code(t: ReadingType) -> u8 {
    match t {
        ReadingType::Capillary => 1,
        ReadingType::Interstitial => READING_INTERSTITIAL,
        ReadingType::Lab => 3,
        ReadingType::Scan => READING_SCAN,
    }
}

fn reading_type_from(code: u8) -> Result<ReadingType> {
    Ok(match code {
        READING_SCAN => ReadingType::Scan,
        1 => ReadingType::Capillary,
        READING_INTERSTITIAL => ReadingType::Interstitial,
        3 => ReadingType::Lab,
        _ => return Err(bad_code("reading type", code)),
    })
}

pub(crate) fn context_code(c: MealContext) -> u8 {
    match c {
        MealContext::Fasting => 1,
        MealContext::BeforeMeal => 2,
        MealContext::AfterMeal1h => 3,
        MealContext::AfterMeal2h => 4,
        MealContext::Bedtime => 5,
        MealContext::Night => 6,
        MealContext::Other => 7,
    }
}

pub(crate) fn context_from(code: u8) -> Result<MealContext> {
    Ok(match code {
        1 => MealContext::Fasting,
        2 => MealContext::BeforeMeal,
        3 => MealContext::AfterMeal1h,
        4 => MealContext::AfterMeal2h,
        5 => MealContext::Bedtime,
        6 => MealContext::Night,
        7 => MealContext::Other,
        _ => return Err(bad_code("meal context", code)),
    })
}

pub(crate) const FLAG_VALUE: u8 = 0;
pub(crate) const FLAG_LO: u8 = 1;
pub(crate) const FLAG_HI: u8 = 2;

fn bad_code(what: &str, code: u8) -> StoreError {
    StoreError::Codec(format!("unknown {what} code {code}"))
}

/// The typed glucose columns of a row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct GlucoseCols {
    pub value: Option<f64>,
    pub unit: Option<u8>,
    pub mg_dl: Option<f64>,
    pub flag: u8,
    pub reading_type: u8,
    pub context: u8,
}

impl GlucoseCols {
    pub fn of(r: &GlucoseReading) -> Self {
        let (value, unit, mg_dl, flag) = match r.level {
            GlucoseLevel::Value(g) => (
                Some(g.value()),
                Some(g.unit().code()),
                Some(g.mg_dl()),
                FLAG_VALUE,
            ),
            GlucoseLevel::Lo => (None, None, None, FLAG_LO),
            GlucoseLevel::Hi => (None, None, None, FLAG_HI),
        };
        Self {
            value,
            unit,
            mg_dl,
            flag,
            reading_type: reading_type_code(r.reading_type),
            context: context_code(r.context),
        }
    }

    /// The stored form (see `schema.rs`): canonical mg/dL, the value as given only when it
    /// differs from it in any bit (so nothing is rounded), and one code packing flag, reading
    /// type, meal context and unit.
    pub fn stored(self) -> (Option<f64>, Option<f64>, u16) {
        let given = match (self.value, self.mg_dl) {
            (Some(v), Some(m)) if v.to_bits() == m.to_bits() => None,
            (v, _) => v,
        };
        let code = u16::from(self.flag)
            | u16::from(self.reading_type) << 2
            | u16::from(self.context) << 4
            | u16::from(self.unit.unwrap_or(0)) << 7;
        (self.mg_dl, given, code)
    }

    fn reading(self) -> Result<GlucoseReading> {
        let level = match (self.flag, self.value, self.unit) {
            (FLAG_VALUE, Some(v), Some(u)) => {
                let unit = GlucoseUnit::from_code(u).ok_or_else(|| bad_code("glucose unit", u))?;
                GlucoseLevel::Value(
                    Glucose::new(v, unit).map_err(|e| StoreError::Codec(e.to_string()))?,
                )
            }
            (FLAG_LO, ..) => GlucoseLevel::Lo,
            (FLAG_HI, ..) => GlucoseLevel::Hi,
            (f, ..) => return Err(bad_code("glucose flag", f)),
        };
        Ok(GlucoseReading::new(
            level,
            reading_type_from(self.reading_type)?,
            context_from(self.context)?,
        ))
    }
}

/// Times are kept to the millisecond; this is the entry as it will read back.
pub(crate) fn normalized(entry: &Entry) -> Entry {
    let mut e = entry.clone();
    e.at = e.at.trunc_subsecs(3);
    e
}

pub(crate) fn time_from(at_ms: i64, offset_s: i32) -> Result<DateTime<FixedOffset>> {
    let offset = FixedOffset::east_opt(offset_s)
        .ok_or_else(|| StoreError::Codec(format!("invalid UTC offset {offset_s} s")))?;
    DateTime::from_timestamp_millis(at_ms)
        .map(|t| t.with_timezone(&offset))
        .ok_or_else(|| StoreError::Codec(format!("invalid time {at_ms} ms")))
}

/// The stored parts of one entry version.
#[derive(Debug)]
pub(crate) struct EntryRow {
    pub kind: u8,
    pub at_ms: i64,
    pub offset_s: i32,
    pub source_kind: u8,
    pub device: String,
    pub record_no: Option<u32>,
    pub glucose: Option<GlucoseCols>,
    pub detail: Option<String>,
}

impl EntryRow {
    pub fn into_entry(self) -> Result<Entry> {
        let at = time_from(self.at_ms, self.offset_s)?;
        let device = if self.device.is_empty() {
            None
        } else {
            Some(DeviceId::new(self.device).map_err(|e| StoreError::Codec(e.to_string()))?)
        };
        let source = Source {
            kind: source_kind_from(self.source_kind)?,
            device,
            record_number: self.record_no,
        };
        let kind = match (self.kind, self.glucose, self.detail) {
            (KIND_GLUCOSE, Some(g), None) => EntryKind::Glucose(g.reading()?),
            (k, None, Some(json)) if k != KIND_GLUCOSE => {
                let kind: EntryKind = serde_json::from_str(&json)
                    .map_err(|e| StoreError::Codec(format!("entry detail: {e}")))?;
                if kind_code(&kind) != k {
                    return Err(StoreError::Codec(format!(
                        "entry kind code {k} does not match its detail ({})",
                        kind.name()
                    )));
                }
                kind
            }
            (k, ..) => return Err(bad_code("entry kind (or its columns)", k)),
        };
        Ok(Entry { at, source, kind })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_names_resolve_and_unknown_ones_are_refused() {
        for (code, name) in KIND_NAMES {
            assert_eq!(kind_code_by_name(name).unwrap(), code);
        }
        assert!(kind_code_by_name("sugar").is_err());
    }

    #[test]
    fn codes_round_trip() {
        for c in MealContext::ALL {
            assert_eq!(context_from(context_code(*c)).unwrap(), *c);
        }
        for t in ReadingType::ALL {
            assert_eq!(reading_type_from(reading_type_code(*t)).unwrap(), *t);
        }
        for k in [
            SourceKind::Manual,
            SourceKind::Meter,
            SourceKind::Cgm,
            SourceKind::Import,
        ] {
            assert_eq!(source_kind_from(source_kind_code(k)).unwrap(), k);
        }
    }
}
