//! What the rules read: plain, time-sorted points built by the caller (store, server, tests).

use chrono::{DateTime, Utc};
use ilot_domain::{Entry, EntryKind, GlucoseLevel, InsulinKind, MealContext, ReadingType};
use serde::{Deserialize, Serialize};

use crate::sampling::MAX_INTERVAL;

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

/// One glucose reading. `cgm` is true for a sensor's history (CGM, or a flash sensor's stored
/// readings), which uses the 15-minute episode rule; capillary and lab readings are point
/// measurements. `scan` is true for a flash sensor scan ([`ReadingType::Scan`]): interstitial
/// glucose read on demand, a point measurement too (`cgm` is false), and the only glucose a flash
/// prescription's observance counts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GlucosePoint {
    pub id: EntryRef,
    pub at: DateTime<Utc>,
    pub level: Level,
    pub cgm: bool,
    #[serde(default)]
    pub scan: bool,
    pub context: MealContext,
}

impl GlucosePoint {
    /// Whether this reading is a scan that the sensor's history already covers: a history
    /// reading lies within [`MAX_INTERVAL`] (15 minutes, the sparsest history) of it in `pts`,
    /// which holds it at `i` and is sorted by time. The distribution metrics (ranges, mean, SD,
    /// AGP) then leave the scan out, so one moment is not counted twice; a scan in a gap of the
    /// history, or without any history, counts as a point reading. Costs a few steps per scan,
    /// nothing for other readings.
    pub(crate) fn covered_scan(pts: &[GlucosePoint], i: usize) -> bool {
        let p = &pts[i];
        if !p.scan {
            return false;
        }
        let (from, to) = (p.at - MAX_INTERVAL, p.at + MAX_INTERVAL);
        let before = pts[..i].iter().rev().take_while(|q| q.at >= from);
        let after = pts[i + 1..].iter().take_while(|q| q.at <= to);
        before.chain(after).any(|q| q.cgm)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct InsulinPoint {
    pub id: EntryRef,
    pub at: DateTime<Utc>,
    pub kind: InsulinKind,
    pub units: f64,
}

/// A hypoglycaemia the patient reported (SPEC §3): an event that counts towards "repeated
/// hypos"; `needed_help` makes it level 3 (severe); a glucose measured with it counts like a
/// capillary reading at that time (see [`HypoReport::as_point`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HypoReport {
    pub id: EntryRef,
    pub at: DateTime<Utc>,
    pub needed_help: bool,
    /// The glucose the patient measured, if any.
    #[serde(default)]
    pub glucose: Option<Level>,
}

impl HypoReport {
    /// The report's glucose as a capillary reading at the report's time, under the report's id.
    pub fn as_point(&self) -> Option<GlucosePoint> {
        self.glucose.map(|level| GlucosePoint {
            id: self.id,
            at: self.at,
            level,
            cgm: false,
            scan: false,
            context: MealContext::Other,
        })
    }
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

impl Level {
    /// The rules' view of a domain glucose: mg/dL, LO or HI.
    pub fn of(level: GlucoseLevel) -> Self {
        match level {
            GlucoseLevel::Value(v) => Self::MgDl(v.mg_dl()),
            GlucoseLevel::Lo => Self::Lo,
            GlucoseLevel::Hi => Self::Hi,
        }
    }
}

/// Everything the rules read over one span, owned: what the app, the command line and the
/// server each load (from the store, or from the server's entries) before asking the rules.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Loaded {
    pub glucose: Vec<GlucosePoint>,
    pub insulin: Vec<InsulinPoint>,
    pub hypo: Vec<HypoReport>,
    pub other: Vec<DateTime<Utc>>,
    pub education: Vec<DateTime<Utc>>,
}

impl Loaded {
    /// The rules' input from domain entries (the server's path; the store reads its own columns
    /// to the same points). `entries` must be sorted by time; each comes with the id the alerts
    /// will name.
    pub fn from_entries<'a>(entries: impl IntoIterator<Item = (EntryRef, &'a Entry)>) -> Self {
        let mut d = Self::default();
        for (id, e) in entries {
            let at = e.at_utc();
            match &e.kind {
                EntryKind::Glucose(g) => d.glucose.push(GlucosePoint {
                    id,
                    at,
                    level: Level::of(g.level),
                    cgm: g.reading_type == ReadingType::Interstitial,
                    scan: g.reading_type == ReadingType::Scan,
                    context: g.context,
                }),
                EntryKind::Insulin(dose) => d.insulin.push(InsulinPoint {
                    id,
                    at,
                    kind: dose.kind,
                    units: dose.units(),
                }),
                EntryKind::Hypo(h) => {
                    d.hypo.push(HypoReport {
                        id,
                        at,
                        needed_help: h.needed_help,
                        glucose: h.glucose.map(|g| Level::MgDl(g.mg_dl())),
                    });
                    d.other.push(at);
                }
                EntryKind::Education(_) => d.education.push(at),
                _ => d.other.push(at),
            }
        }
        d
    }

    pub fn data(&self) -> Data<'_> {
        Data {
            glucose: &self.glucose,
            insulin: &self.insulin,
            hypo_reports: &self.hypo,
            education_sessions: &self.education,
            other_entries: &self.other,
        }
    }
}
