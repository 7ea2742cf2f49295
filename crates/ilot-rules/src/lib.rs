//! Pure rules shared by the app and the operator server: glucose metrics over a window (TIR, GMI,
//! CV, AGP…), hypoglycaemia episodes, alerts with their advice, and 30-day observance periods
//! with their billing status, and the reminders due at a given time.
//!
//! Everything is a function of its inputs: readings, the patient's prescription and policy, and
//! `now`. This crate must not read a clock, a file, a socket or spawn anything; CI checks that it
//! depends on no I/O crate. Findings are data (`Vec<Alert>`, `Metrics`), not errors.

pub mod agp;
pub mod alerts;
pub mod assumed;
pub mod chart;
pub mod episodes;
pub mod input;
pub mod metrics;
pub mod observance;
pub mod reminders;
pub mod sampling;

pub use input::{Data, EntryRef, GlucosePoint, HypoReport, InsulinPoint, Level, Loaded};
