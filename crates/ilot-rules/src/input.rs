//! What the rules read: plain, time-sorted points built by the caller (store, server, tests).

use chrono::{DateTime, Utc};
use ilot_domain::{InsulinKind, MealContext};
use serde::{Deserialize, Serialize};

/// Local id of the entry behind a point, so an alert can name the readings behind it.
pub type EntryRef = u64;

/// A glucose value as the rules see it. LO/HI count as very low/very high in the range
/// percentages and are left out of mean, SD, CV and GMI (no invented number).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Level {
    MgDl(f64),
    Lo,
    Hi,
}

impl Level {
    pub fn mg_dl(self) -> Option<f64> {
        match self {
            Self::MgDl(v) => Some(v),
            _ => None,
        }
    }

    /// Strictly below `threshold` (LO always is, HI never is).
    pub fn below(self, threshold: f64) -> bool {
        match self {
            Self::MgDl(v) => v < threshold,
            Self::Lo => true,
            Self::Hi => false,
        }
    }

    /// Strictly above `threshold` (HI always is, LO never is).
    pub fn above(self, threshold: f64) -> bool {
        match self {
            Self::MgDl(v) => v > threshold,
            Self::Hi => true,
            Self::Lo => false,
        }
    }
}

/// One glucose reading. `cgm` is true for interstitial (CGM/flash) readings, which use the
/// 15-minute episode rule; capillary and lab readings are point measurements.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GlucosePoint {
    pub id: EntryRef,
    pub at: DateTime<Utc>,
    pub level: Level,
    pub cgm: bool,
    pub context: MealContext,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct InsulinPoint {
    pub id: EntryRef,
    pub at: DateTime<Utc>,
    pub kind: InsulinKind,
    pub units: f64,
}

/// A hypoglycaemia the patient reported; `needed_help` makes it level 3 (severe).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HypoReport {
    pub id: EntryRef,
    pub at: DateTime<Utc>,
    pub needed_help: bool,
}

/// Everything the rules may look at, each slice sorted by time (oldest first).
#[derive(Debug, Clone, Copy, Default)]
pub struct Data<'a> {
    pub glucose: &'a [GlucosePoint],
    pub insulin: &'a [InsulinPoint],
    pub hypo_reports: &'a [HypoReport],
    /// Times of therapeutic-education sessions (first-month accompaniment).
    pub education_sessions: &'a [DateTime<Utc>],
    /// Every other entry's time (carbs, ketones, notes…): counts as "data received".
    pub other_entries: &'a [DateTime<Utc>],
}
