use thiserror::Error;

/// Why a medical value could not be built. Messages are meant for the person who typed the value.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum DomainError {
    #[error("unknown glucose unit {0:?}: use g/L, mg/dL or mmol/L")]
    UnknownUnit(String),
    #[error(
        "glucose {given} is outside the plausible range 10–600 mg/dL; check the value and its unit (a meter reading beyond its range is entered as LO or HI)"
    )]
    ImplausibleGlucose { given: String },
    #[error("{what} must be a number, got {got:?}")]
    NotANumber { what: &'static str, got: String },
    #[error("{what} {value} is outside the plausible range {min}–{max} {unit}")]
    OutOfRange {
        what: &'static str,
        value: f64,
        min: f64,
        max: f64,
        unit: &'static str,
    },
    #[error("{what} has more precision than {step} {unit}: {value}")]
    TooPrecise {
        what: &'static str,
        value: f64,
        step: f64,
        unit: &'static str,
    },
    #[error("the time {at} is in the future (now is {now}); check the date and the device clock")]
    FutureTime { at: String, now: String },
    #[error("unknown {what} {got:?}; expected one of: {expected}")]
    UnknownName {
        what: &'static str,
        got: String,
        expected: &'static str,
    },
    #[error("invalid prescription: {0}")]
    InvalidPrescription(String),
    #[error("{0} must not be empty")]
    Empty(&'static str),
    #[error("FHIR export: {0}")]
    Export(String),
}

impl DomainError {
    /// The condition's stable name and the values a translated message needs (the app's
    /// catalogue has `error.<code>`; `what` is the domain's English name of the value, which the
    /// app maps to its own words).
    pub fn code_and_params(&self) -> (&'static str, serde_json::Value) {
        use serde_json::{Value, json};
        match self {
            Self::ImplausibleGlucose { .. } => ("glucose-implausible", Value::Null),
            Self::NotANumber { what, got } => ("not-a-number", json!({ "what": what, "got": got })),
            Self::OutOfRange {
                what,
                min,
                max,
                unit,
                ..
            } => (
                "out-of-range",
                json!({ "what": what, "min": min, "max": max, "unit": unit }),
            ),
            Self::TooPrecise {
                what, step, unit, ..
            } => (
                "too-precise",
                json!({ "what": what, "step": step, "unit": unit }),
            ),
            Self::FutureTime { .. } => ("future-time", Value::Null),
            Self::Empty(what) => ("empty", json!({ "what": what })),
            Self::UnknownUnit(_) | Self::UnknownName { .. } => ("unknown-name", Value::Null),
            Self::InvalidPrescription(_) => ("invalid-prescription", Value::Null),
            Self::Export(message) => ("export-inexact", json!({ "message": message })),
        }
    }
}

pub type Result<T, E = DomainError> = std::result::Result<T, E>;
