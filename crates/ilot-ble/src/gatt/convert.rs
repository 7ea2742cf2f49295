//! From decoded records to Ilot's medical vocabulary (`ilot_domain`), without times: the
//! download places records in time (clock-skew correction) and builds the entries.
//!
//! Rules, in order, for a glucose value (GLS and CGMS alike):
//! 1. no concentration, a control-solution test, a CRC mismatch, or a status bit that makes the
//!    result invalid (sensor malfunction, sample size insufficient, strip errors, temperature out
//!    of range, read interrupted, device fault) → no reading, a [`RecordIssue`];
//! 2. status "result higher/lower than the device can process" → HI / LO, whatever the number;
//! 3. SFLOAT +INF → HI, −INF → LO; NaN, NRes and reserved → a [`RecordIssue`];
//! 4. otherwise the number in its clinical unit (kg/L × 10⁵ → mg/dL, mol/L × 10³ → mmol/L), which
//!    must be plausible (10–600 mg/dL) — a number outside is an issue, never clamped to LO/HI.
//!
//! GLS meal → [`MealContext`]: preprandial → before-meal, fasting → fasting, bedtime → bedtime,
//! casual → other, postprandial → other with a remark (GLS does not say 1 h or 2 h after the
//! meal, and SPEC §3 targets depend on it). A GLS reading is capillary unless its sample type is
//! interstitial fluid; a CGM reading is interstitial.

use std::fmt;

use ilot_domain::{
    Carbs, EntryKind, Glucose, GlucoseLevel, GlucoseReading, HbA1c, MealContext, ReadingType,
};

use super::glucose::{
    GlucoseMeasurement, GlucoseStatus, Meal, MeasurementContext, SampleLocation, SampleType,
};
use super::{CgmMeasurement, CgmStatusFlags, SFloat, Special, TimeFieldError};

/// Why a device record gives no glucose reading. Data, not an error: the download keeps a note
/// of it in the diary so that nothing the device sent disappears silently.
#[derive(Debug, Clone, PartialEq)]
pub enum RecordIssue {
    NoConcentration,
    ControlSolution,
    CrcMismatch {
        carried: u16,
        computed: u16,
    },
    /// Status bits that make the result invalid, by name.
    InvalidatingStatus(Vec<String>),
    /// NaN, NRes or reserved.
    Special(Special),
    Implausible(String),
    InvalidTime(TimeFieldError),
    /// The corrected time is still impossible (in the future, or before the year 2000).
    ImplausibleTime(String),
}

impl fmt::Display for RecordIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoConcentration => f.write_str("the record carries no glucose value"),
            Self::ControlSolution => f.write_str("control-solution test, not a patient reading"),
            Self::CrcMismatch { carried, computed } => {
                write!(
                    f,
                    "E2E-CRC mismatch (carried {carried:#06x}, computed {computed:#06x})"
                )
            }
            Self::InvalidatingStatus(names) => write!(
                f,
                "the device flagged the result as invalid: {}",
                names.join(", ")
            ),
            Self::Special(s) => write!(
                f,
                "the device sent the special value {} instead of a number",
                s.name()
            ),
            Self::Implausible(e) => f.write_str(e),
            Self::InvalidTime(e) => write!(f, "the record's time is invalid: {e}"),
            Self::ImplausibleTime(e) => write!(f, "the record's time is implausible: {e}"),
        }
    }
}

/// A meter record turned into a reading plus what its context record adds.
#[derive(Debug, Clone, PartialEq)]
pub struct MeterReading {
    pub reading: GlucoseReading,
    /// Carbohydrates and HbA1c from the context record, stored beside the reading.
    pub extras: Vec<EntryKind>,
    /// Context the domain has no field for (tester, health, exercise, medication, "after meal"),
    /// kept as a note.
    pub remarks: Vec<String>,
}

const GLS_INVALIDATING: u16 = GlucoseStatus::SENSOR_MALFUNCTION
    | GlucoseStatus::SAMPLE_SIZE_INSUFFICIENT
    | GlucoseStatus::STRIP_INSERTION_ERROR
    | GlucoseStatus::STRIP_TYPE_INCORRECT
    | GlucoseStatus::TEMPERATURE_TOO_HIGH
    | GlucoseStatus::TEMPERATURE_TOO_LOW
    | GlucoseStatus::READ_INTERRUPTED
    | GlucoseStatus::GENERAL_DEVICE_FAULT;

const CGM_INVALIDATING: u32 = CgmStatusFlags::SESSION_STOPPED
    | CgmStatusFlags::SENSOR_TYPE_INCORRECT
    | CgmStatusFlags::SENSOR_MALFUNCTION
    | CgmStatusFlags::GENERAL_DEVICE_FAULT
    | CgmStatusFlags::TEMPERATURE_TOO_HIGH
    | CgmStatusFlags::TEMPERATURE_TOO_LOW;

/// Rules 2–4 of the module doc for one value.
fn level(
    value: SFloat,
    too_high: bool,
    too_low: bool,
    clinical: impl FnOnce() -> Option<(f64, ilot_domain::GlucoseUnit)>,
) -> Result<GlucoseLevel, RecordIssue> {
    match (too_high, too_low) {
        (true, true) => {
            return Err(RecordIssue::InvalidatingStatus(vec![
                "both higher and lower than the device can process".into(),
            ]));
        }
        (true, false) => return Ok(GlucoseLevel::Hi),
        (false, true) => return Ok(GlucoseLevel::Lo),
        _ => {}
    }
    match value.special() {
        Some(Special::PlusInfinity) => return Ok(GlucoseLevel::Hi),
        Some(Special::MinusInfinity) => return Ok(GlucoseLevel::Lo),
        Some(s) => return Err(RecordIssue::Special(s)),
        None => {}
    }
    let (v, unit) = clinical().ok_or(RecordIssue::NoConcentration)?;
    Glucose::new(v, unit)
        .map(GlucoseLevel::Value)
        .map_err(|e| RecordIssue::Implausible(e.to_string()))
}

/// A GLS record (with its context record, when one came) as a reading.
pub fn meter_reading(
    m: &GlucoseMeasurement,
    ctx: Option<&MeasurementContext>,
) -> Result<MeterReading, RecordIssue> {
    let c = m.concentration.ok_or(RecordIssue::NoConcentration)?;
    if c.sample_type == SampleType::ControlSolution || c.location == SampleLocation::ControlSolution
    {
        return Err(RecordIssue::ControlSolution);
    }
    let status = m.status.unwrap_or_default();
    let bad = GlucoseStatus(status.0 & GLS_INVALIDATING);
    if bad.0 != 0 {
        return Err(RecordIssue::InvalidatingStatus(bad.names()));
    }
    let lvl = level(
        c.value,
        status.has(GlucoseStatus::RESULT_TOO_HIGH),
        status.has(GlucoseStatus::RESULT_TOO_LOW),
        || c.clinical(),
    )?;
    let reading_type = if c.sample_type == SampleType::InterstitialFluid {
        ReadingType::Interstitial
    } else {
        ReadingType::Capillary
    };
    let mut extras = Vec::new();
    let mut remarks = Vec::new();
    let meal = ctx.and_then(|c| c.meal);
    if meal == Some(Meal::Postprandial) {
        remarks.push(
            "the meter marked this reading \"after meal\" (it does not say 1 h or 2 h)".to_string(),
        );
    }
    if let Some(ctx) = ctx {
        context_extras(ctx, &mut extras, &mut remarks);
    }
    Ok(MeterReading {
        reading: GlucoseReading::new(lvl, reading_type, meal_context(meal)),
        extras,
        remarks,
    })
}

fn context_extras(
    ctx: &MeasurementContext,
    extras: &mut Vec<EntryKind>,
    remarks: &mut Vec<String>,
) {
    if let Some((id, kg)) = ctx.carbohydrate {
        match kg.scaled(3).map(|g| Carbs::new(g, Some(id.name()))) {
            Some(Ok(c)) => extras.push(EntryKind::Carbs(c)),
            Some(Err(e)) => remarks.push(format!("carbohydrates not stored: {e}")),
            None => remarks.push(format!("carbohydrates not stored: the meter sent {kg}")),
        }
    }
    if let Some(h) = ctx.hba1c {
        match h.value().map(HbA1c::new) {
            Some(Ok(v)) => extras.push(EntryKind::Hba1c(v)),
            Some(Err(e)) => remarks.push(format!("HbA1c not stored: {e}")),
            None => remarks.push(format!("HbA1c not stored: the meter sent {h}")),
        }
    }
    if let Some((t, h)) = ctx.tester_health {
        remarks.push(format!("tester: {}, health: {}", t.name(), h.name()));
    }
    if let Some((secs, pct)) = ctx.exercise {
        let d = if secs == u16::MAX {
            "more than 18 h".to_string()
        } else {
            format!("{secs} s")
        };
        remarks.push(format!("exercise: {d} at {pct} % intensity"));
    }
    if let Some(m) = ctx.medication {
        let amount = m
            .human()
            .map_or_else(|| m.amount.to_string(), |(v, u)| format!("{v} {u}"));
        remarks.push(format!("medication: {} {amount}", m.id.name()));
    }
}

/// The meal field of a context record as a [`MealContext`] (module doc).
pub fn meal_context(meal: Option<Meal>) -> MealContext {
    match meal {
        Some(Meal::Preprandial) => MealContext::BeforeMeal,
        Some(Meal::Fasting) => MealContext::Fasting,
        Some(Meal::Bedtime) => MealContext::Bedtime,
        Some(Meal::Postprandial | Meal::Casual | Meal::Reserved(_)) | None => MealContext::Other,
    }
}

/// A CGM record as an interstitial reading.
pub fn cgm_reading(m: &CgmMeasurement) -> Result<GlucoseReading, RecordIssue> {
    if let Some(crc) = m.crc.filter(|c| !c.ok()) {
        return Err(RecordIssue::CrcMismatch {
            carried: crc.carried,
            computed: crc.computed,
        });
    }
    let status = m.status();
    let bad = CgmStatusFlags(status.0 & CGM_INVALIDATING);
    if bad.0 != 0 {
        return Err(RecordIssue::InvalidatingStatus(bad.names()));
    }
    let lvl = level(
        m.glucose,
        status.has(CgmStatusFlags::RESULT_TOO_HIGH),
        status.has(CgmStatusFlags::RESULT_TOO_LOW),
        || {
            m.glucose
                .value()
                .map(|v| (v, ilot_domain::GlucoseUnit::MgPerDl))
        },
    )?;
    Ok(GlucoseReading::new(
        lvl,
        ReadingType::Interstitial,
        MealContext::Other,
    ))
}
