//! What the commands send to the UI: plain, serialisable views of stored entries, readings and
//! alerts. Times are RFC 3339 with the offset they were recorded in (entries) or UTC (rule
//! output); the UI formats them in the patient's time zone. Glucose is canonical mg/dL, or LO/HI
//! without a number; the UI converts to the patient's unit for display only.

use chrono::{DateTime, FixedOffset, Utc};
use ilot_domain::{EntryKind, ReadingType, SourceKind};
use ilot_rules::Level;
use ilot_rules::alerts::Alert;
use ilot_store::StoredEntry;
use serde::Serialize;

/// A glucose as the UI draws it: `mg_dl` is `None` for LO/HI (the console takes the same).
pub use ilot_rules::chart::Reading;

/// One entry (its current version) for the logbook and the edit form.
#[derive(Debug, Clone, Serialize)]
pub struct EntryView {
    pub id: i64,
    pub version: u32,
    pub at: DateTime<FixedOffset>,
    pub recorded_at: DateTime<Utc>,
    /// When the current version was made, if the entry was corrected ("corrigé le …").
    pub corrected_at: Option<DateTime<Utc>>,
    pub reason: Option<String>,
    pub deleted: bool,
    /// `manual`, `meter`, `cgm` or `import`.
    pub source: SourceKind,
    pub device: Option<String>,
    /// `glucose`, `insulin`, `carbs`, `hypo`, `ketones`, `weight`, `hba1c`, `activity`, `note`,
    /// `education`.
    pub kind: &'static str,
    /// The entry's content in the domain's own serde shape (`ui/src/lib/ipc.ts` mirrors it).
    pub detail: EntryKind,
    /// Glucose entries: the reading in mg/dL (or LO/HI).
    pub glucose: Option<Reading>,
}

impl From<StoredEntry> for EntryView {
    fn from(s: StoredEntry) -> Self {
        let glucose = match &s.entry.kind {
            EntryKind::Glucose(g) => Some(Reading::from(match g.level {
                ilot_domain::GlucoseLevel::Value(v) => Level::MgDl(v.mg_dl()),
                ilot_domain::GlucoseLevel::Lo => Level::Lo,
                ilot_domain::GlucoseLevel::Hi => Level::Hi,
            })),
            _ => None,
        };
        Self {
            id: s.id,
            version: s.version,
            at: s.entry.at,
            recorded_at: s.recorded_at,
            corrected_at: (s.version > 1).then_some(s.recorded_at),
            reason: s.reason,
            deleted: s.deleted,
            source: s.entry.source.kind,
            device: s.entry.source.device.map(String::from),
            kind: s.entry.kind.name(),
            detail: s.entry.kind,
            glucose,
        }
    }
}

/// Whether a stored entry is one reading of a continuous sensor (shown as a daily summary in the
/// logbook rather than 288 lines a day).
pub fn is_sensor_reading(s: &StoredEntry) -> bool {
    matches!(&s.entry.kind, EntryKind::Glucose(g) if g.reading_type == ReadingType::Interstitial)
}

/// An alert as the home screen shows it.
#[derive(Debug, Clone, Serialize)]
pub struct AlertView {
    pub key: String,
    /// `hypo-l1`, `hypo-l2`, `severe-hypo`, `hyper`, `out-of-target`, `repeated-hypos`,
    /// `tbr-over-target`, `no-data`, `missed-insulin`.
    pub kind: ilot_rules::alerts::AlertKind,
    /// `info`, `warning`, `urgent`.
    pub severity: ilot_rules::alerts::Severity,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub extreme: Option<Reading>,
    pub percent: Option<f64>,
    pub count: Option<u32>,
    /// i18n key of what to do now (`advice.hypo.resugar`, …).
    pub advice: &'static str,
    /// Urgent and not yet shown as a desktop notification.
    pub notify: bool,
}

impl AlertView {
    pub fn new(a: Alert, notified: bool) -> Self {
        let urgent = a.severity == ilot_rules::alerts::Severity::Urgent;
        Self {
            notify: urgent && !notified,
            key: a.key,
            kind: a.kind,
            severity: a.severity,
            started_at: a.started_at,
            ended_at: a.ended_at,
            extreme: a.extreme.map(Reading::from),
            percent: a.percent,
            count: a.count,
            advice: a.advice,
        }
    }
}
