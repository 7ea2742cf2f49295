//! The triage list, the console's first screen (`GET /v1/operator/triage`): every patient of the
//! operator's care team, each placed in the first category that matches, most urgent first —
//! open urgent alert → no data → time below 54 > 1 % → time below 70 > 4 % → time in range
//! dropped by more than 15 points against the 14 days before → time in range < 70 % → CGM worn
//! < 70 % → capillary readings below the prescription → meeting targets.
//!
//! The metrics are `ilot-rules`' ([`ilot_rules::metrics::summary`]) over the patient's daily
//! glucose summaries, which the ingest keeps (`crate::summary`): a request reads `days + 14`
//! small rows per patient, never the readings. The period is the last `days` *complete* local
//! days of the patient (today is not in it: a day is judged once it is over), the drop is
//! measured against the 14 local days before. Only the placing in a category is decided here,
//! by [`category`] (pure). Pages follow a cursor over the order (category, pseudonym, patient
//! id); filters (category, not reviewed in the last 7 days, "my patients") apply before
//! paging. The observance column is computed for the rows of the page only (`list.rs`).

mod doc;
mod list;
mod review;

pub use doc::{closed_parameter, query_parameters, review_schema, schema};
pub use list::{TriageQuery, triage, window_metrics, windows};
pub use review::{review, undo_review};

use chrono::{DateTime, NaiveDate, Utc};
use ilot_domain::Monitoring;
use ilot_rules::metrics::summary::SummaryMetrics;
use ilot_wire::PatientId;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::operator::bad;

/// The limits of the categories, shown on the console's screen as they are used here.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Thresholds {
    /// Time below 54 mg/dL above this share (%) → `very-low`.
    pub below_54_percent: f64,
    /// Time below 70 mg/dL above this share (%) → `low`.
    pub below_70_percent: f64,
    /// Time in range lower by more than this many points than the 14 days before → `tir-drop`.
    pub tir_drop_points: f64,
    /// Days before the period the drop is measured against.
    pub tir_drop_previous_days: u32,
    /// Time in range below this share (%) → `low-tir`.
    pub tir_percent: f64,
    /// CGM active time below this share (%) → `cgm-wear` (CGM prescriptions).
    pub cgm_active_percent: f64,
}

pub const THRESHOLDS: Thresholds = Thresholds {
    below_54_percent: 1.0,
    below_70_percent: 4.0,
    tir_drop_points: 15.0,
    tir_drop_previous_days: 14,
    tir_percent: 70.0,
    cgm_active_percent: 70.0,
};

/// Most urgent first; the order of the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    /// An open (unacknowledged) urgent alert: severe hypo, reported severe hypo.
    UrgentAlert,
    /// The server's open "no data" alert, or no glucose reading at all in the period.
    NoData,
    VeryLow,
    Low,
    TirDrop,
    LowTir,
    CgmWear,
    CapillaryReadings,
    OnTarget,
}

impl Category {
    fn rank(self) -> u8 {
        self as u8
    }

    /// The category named as in the JSON (`very-low`).
    pub fn parse(s: &str) -> Option<Self> {
        serde_json::from_value(serde_json::Value::String(s.to_string())).ok()
    }
}

/// What [`category`] decides from.
#[derive(Debug, Clone, Copy)]
pub struct Signals<'a> {
    pub urgent_alert: bool,
    pub no_data_alert: bool,
    pub metrics: &'a SummaryMetrics,
    /// Time in range of the 14 days before the period, when they hold readings.
    pub previous_tir: Option<f64>,
    pub monitoring: Monitoring,
    /// Capillary readings a day over the period (capillary prescriptions).
    pub capillary_per_day: f64,
    pub expected_per_day: f64,
}

/// The first category that matches, in the order of [`Category`].
pub fn category(s: &Signals<'_>, t: &Thresholds) -> Category {
    let m = s.metrics;
    if s.urgent_alert {
        return Category::UrgentAlert;
    }
    if s.no_data_alert || m.n_readings == 0 {
        return Category::NoData;
    }
    let over = |v: Option<f64>, limit: f64| v.is_some_and(|v| v > limit);
    let under = |v: Option<f64>, limit: f64| v.is_some_and(|v| v < limit);
    if over(m.below_54_percent, t.below_54_percent) {
        return Category::VeryLow;
    }
    if over(m.below_70_percent, t.below_70_percent) {
        return Category::Low;
    }
    if let (Some(now), Some(before)) = (m.tir_percent, s.previous_tir)
        && before - now > t.tir_drop_points
    {
        return Category::TirDrop;
    }
    if under(m.tir_percent, t.tir_percent) {
        return Category::LowTir;
    }
    if s.monitoring == Monitoring::Cgm && m.active_percent.is_none_or(|a| a < t.cgm_active_percent)
    {
        return Category::CgmWear;
    }
    if s.monitoring == Monitoring::Capillary && s.capillary_per_day < s.expected_per_day {
        return Category::CapillaryReadings;
    }
    Category::OnTarget
}

/// The current 30-day observance period, for the list.
#[derive(Debug, Clone, Serialize)]
pub struct PeriodSummary {
    pub number: u32,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    pub expected: f64,
    pub received: u64,
    pub ratio: f64,
    pub status: ilot_rules::observance::PeriodStatus,
    pub billable: bool,
    pub not_billable: Option<ilot_rules::observance::NotBillable>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TriageItem {
    pub patient_id: PatientId,
    pub pseudonym: String,
    pub ins: Option<String>,
    pub category: Category,
    pub last_data_at: Option<DateTime<Utc>>,
    /// False once the patient withdrew consent: nothing more will arrive.
    pub transmitting: bool,
    pub monitoring: Monitoring,
    pub open_alerts: usize,
    /// Kind of the worst open alert.
    pub worst_alert: Option<String>,
    /// The period's first local day and the day after its last (`[from, to)` as instants).
    pub window_from: DateTime<Utc>,
    pub window_to: DateTime<Utc>,
    /// `ilot-rules` metrics of the period, from the daily summaries.
    pub metrics: SummaryMetrics,
    pub previous_tir_percent: Option<f64>,
    pub capillary_per_day: f64,
    pub expected_readings_per_day: f64,
    /// This 30-day observance period as of the end of yesterday (a [`PeriodSummary`]).
    pub period: Option<serde_json::Value>,
    /// The latest review mark not undone (last 90 days), with whether the caller made it.
    pub last_review: Option<LastReview>,
    /// The last day of monitoring once the telesurveillance ended (listed only with `closed`).
    pub closed_on: Option<NaiveDate>,
}

/// Who last marked the patient reviewed, and when.
#[derive(Debug, Clone, Serialize)]
pub struct LastReview {
    pub by: String,
    pub at: DateTime<Utc>,
    /// Made by the operator asking.
    pub mine: bool,
}

/// What the page's observance needs besides the item (not sent).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ItemContext {
    pub tz: chrono_tz::Tz,
    pub rx_version: Option<u32>,
}

#[derive(Debug, Serialize)]
pub struct TriagePage {
    /// The server's time the metrics were computed at; the period is `[as_of − days, as_of)`.
    pub as_of: DateTime<Utc>,
    pub days: u32,
    pub thresholds: Thresholds,
    /// Patients of the team that pass the filters (all pages).
    pub total: usize,
    pub items: Vec<TriageItem>,
    pub next_cursor: Option<String>,
}

pub(crate) fn cursor_of(i: &TriageItem) -> String {
    hex::encode(format!(
        "{}\u{1f}{}\u{1f}{}",
        i.category.rank(),
        i.pseudonym,
        i.patient_id
    ))
}

pub(crate) fn key_of(i: &TriageItem) -> (u8, String, String) {
    (
        i.category.rank(),
        i.pseudonym.clone(),
        i.patient_id.to_string(),
    )
}

pub(crate) fn parse_cursor(c: &str) -> Result<(u8, String, String)> {
    let wrong = || bad("this cursor is not one the triage list gave; start from the first page");
    let raw = String::from_utf8(hex::decode(c).map_err(|_| wrong())?).map_err(|_| wrong())?;
    let mut parts = raw.split('\u{1f}');
    let (Some(r), Some(p), Some(id), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(wrong());
    };
    Ok((
        r.parse().map_err(|_| wrong())?,
        p.to_string(),
        id.to_string(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(tir: f64, b54: f64, b70: f64, active: Option<f64>) -> SummaryMetrics {
        let mut m = ilot_rules::metrics::summary::of_summary(
            &Default::default(),
            ilot_rules::metrics::Window::new(DateTime::UNIX_EPOCH, DateTime::UNIX_EPOCH),
            &ilot_rules::metrics::Ranges::consensus(),
        );
        m.n_readings = 100;
        m.tir_percent = Some(tir);
        m.below_54_percent = Some(b54);
        m.below_70_percent = Some(b70);
        m.active_percent = active;
        m
    }

    fn sig(m: &SummaryMetrics) -> Signals<'_> {
        Signals {
            urgent_alert: false,
            no_data_alert: false,
            metrics: m,
            previous_tir: None,
            monitoring: Monitoring::Cgm,
            capillary_per_day: 0.0,
            expected_per_day: 0.0,
        }
    }

    #[test]
    fn each_patient_goes_to_the_first_category_that_matches() {
        let t = THRESHOLDS;
        let good = m(80.0, 0.0, 1.0, Some(95.0));
        assert_eq!(category(&sig(&good), &t), Category::OnTarget);
        // An urgent alert wins over everything, even "no data".
        let mut empty = good.clone();
        empty.n_readings = 0;
        let s = Signals {
            urgent_alert: true,
            ..sig(&empty)
        };
        assert_eq!(category(&s, &t), Category::UrgentAlert);
        assert_eq!(category(&sig(&empty), &t), Category::NoData);
        let s = Signals {
            no_data_alert: true,
            ..sig(&good)
        };
        assert_eq!(category(&s, &t), Category::NoData);
        // Thresholds are strict: exactly 1 % below 54 and 4 % below 70 are within target.
        assert_eq!(
            category(&sig(&m(80.0, 1.0, 4.0, Some(95.0))), &t),
            Category::OnTarget
        );
        assert_eq!(
            category(&sig(&m(40.0, 1.01, 9.0, Some(95.0))), &t),
            Category::VeryLow
        );
        assert_eq!(
            category(&sig(&m(40.0, 0.5, 4.01, Some(95.0))), &t),
            Category::Low
        );
        // A drop of more than 15 points comes before a TIR under 70 %.
        let low = m(60.0, 0.0, 1.0, Some(95.0));
        let s = Signals {
            previous_tir: Some(75.01),
            ..sig(&low)
        };
        assert_eq!(category(&s, &t), Category::TirDrop);
        let s = Signals {
            previous_tir: Some(75.0),
            ..sig(&low)
        };
        assert_eq!(category(&s, &t), Category::LowTir);
        assert_eq!(
            category(&sig(&m(70.0, 0.0, 1.0, Some(69.9))), &t),
            Category::CgmWear
        );
        assert_eq!(
            category(&sig(&m(70.0, 0.0, 1.0, None)), &t),
            Category::CgmWear
        );
        let cap = m(70.0, 0.0, 1.0, None);
        let s = Signals {
            monitoring: Monitoring::Capillary,
            capillary_per_day: 3.5,
            expected_per_day: 4.0,
            ..sig(&cap)
        };
        assert_eq!(category(&s, &t), Category::CapillaryReadings);
        let s = Signals {
            capillary_per_day: 4.0,
            ..s
        };
        assert_eq!(category(&s, &t), Category::OnTarget);
    }

    #[test]
    fn a_cursor_round_trips_and_a_forged_one_is_refused() {
        assert_eq!(
            parse_cursor(&hex::encode("3\u{1f}P-01\u{1f}ab")).unwrap(),
            (3, "P-01".to_string(), "ab".to_string())
        );
        assert!(parse_cursor("zz").is_err());
        assert!(parse_cursor(&hex::encode("3\u{1f}P")).is_err());
    }
}
