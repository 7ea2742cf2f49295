//! Ilot's medical vocabulary as types: glucose values and their units, insulin doses, the other
//! diary entries, the patient profile and the telesurveillance prescription.
//!
//! Every value is validated where it is built: an implausible glucose, an unknown unit or a time in
//! the future is a precise [`DomainError`], never a silent clamp or rounding. The value a person or
//! device gave is kept as given (value + unit) beside its canonical mg/dL.
//!
//! This crate must stay pure: no file, socket, clock, thread or async runtime. The current time is
//! always a parameter (`now`). CI checks that it depends on no I/O crate.

mod entry;
mod error;
pub mod fhir;
mod glucose;
pub mod ins;
mod prescription;

pub use entry::{
    Activity, ActivityIntensity, Carbs, DeviceId, EducationSession, Entry, EntryKind,
    GlucoseReading, HbA1c, HypoEvent, InsulinDelivery, InsulinDose, InsulinKind, KetoneSource,
    Ketones, MAX_FUTURE_SKEW, MealContext, Note, ReadingType, Source, SourceKind, Weight,
};
pub use error::{DomainError, Result};
pub use glucose::{Glucose, GlucoseLevel, GlucoseUnit, MG_DL_PER_G_L, MG_DL_PER_MMOL_L};
pub use prescription::{
    AlertPolicy, BasalSchedule, DiabetesType, GestationalTargets, MAX_NO_DATA_HOURS, Monitoring,
    PatientProfile, Prescription, TargetRange,
};
