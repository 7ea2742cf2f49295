//! The one-page AGP report as the International Consensus on Time in Range lays it out
//! (Battelino et al., Diabetes Care 2019): who and when, the metrics with their targets, the
//! stacked time-in-ranges bar, the ambulatory glucose profile over 24 hours, the daily curves of
//! the last 14 days and the hypoglycaemia episodes; for a patient on a meter only, a logbook grid
//! by meal context takes the place of the curves. French and English ([`Lang`]).
//!
//! Pure: [`compute`] runs `ilot-rules` on the points it is given (the same functions as
//! `ilot report --json`, the app and the server), [`pdf`] lays the result out and returns the
//! PDF's bytes. No file, clock or network here: callers gather the points and `generated_at`,
//! and write the bytes where they must go. Every number is rounded for display only.

mod draw;
mod error;
mod i18n;
mod logbook;
mod page;
mod sections;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use ilot_domain::GlucoseUnit;
use ilot_rules::GlucosePoint;
use ilot_rules::agp::{Agp, DailyProfile, agp, daily_profiles};
use ilot_rules::episodes::{Direction, Episode, episodes};
use ilot_rules::metrics::{Metrics, Ranges, Window, metrics};

pub use error::{Error, Result};
pub use i18n::Lang;
pub use logbook::{LogDay, Logbook};

/// Days of daily curves (or logbook rows) the report shows: the consensus' two weeks.
pub const DAYS_SHOWN: usize = 14;

/// Hypoglycaemia threshold of the listed episodes (consensus level 1, mg/dL).
pub const HYPO_MG_DL: f64 = 70.0;

/// Who the report is about.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Patient {
    pub pseudonym: String,
    /// The patient's identity when known (INS, name): printed under the pseudonym.
    pub identity: Option<String>,
}

/// What the report is made from.
#[derive(Debug, Clone)]
pub struct Input<'a> {
    pub patient: Patient,
    /// Glucose points, oldest first (as `ilot_rules::Loaded` gives them); those outside
    /// `window` are ignored.
    pub points: &'a [GlucosePoint],
    pub window: Window,
    pub tz: Tz,
    pub ranges: Ranges,
    /// The patient's display unit: the mean and the charts' ticks are also given in it.
    pub unit: GlucoseUnit,
    /// When the report is made (printed in its footer); a parameter, so the crate reads no clock.
    pub generated_at: DateTime<Utc>,
}

/// Which layout the page takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Layout {
    /// Sensor readings in the window: AGP and daily curves.
    Cgm,
    /// Fingerstick readings only: the logbook grid by meal context.
    Capillary,
}

/// Everything the page shows, computed by `ilot-rules`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    pub patient: Patient,
    pub window: Window,
    pub tz: Tz,
    pub unit: GlucoseUnit,
    pub generated_at: DateTime<Utc>,
    pub layout: Layout,
    pub metrics: Metrics,
    /// 15-minute bins (`ilot_rules::assumed::AGP_BIN_MINUTES`), as `ilot report --json`.
    pub agp: Agp,
    /// The last [`DAYS_SHOWN`] local dates of the window, oldest first (a day without readings
    /// has an empty profile).
    pub days: Vec<DailyProfile>,
    /// Episodes below [`HYPO_MG_DL`] among the window's readings, oldest first.
    pub hypos: Vec<Episode>,
    /// The capillary readings of the shown days by meal context.
    pub logbook: Logbook,
}

/// Runs the rules for the report.
pub fn compute(input: &Input<'_>) -> Report {
    let w = input.window;
    let inside: Vec<GlucosePoint> = input
        .points
        .iter()
        .filter(|p| w.contains(p.at))
        .copied()
        .collect();
    let layout = if inside.iter().any(|p| p.cgm) {
        Layout::Cgm
    } else {
        Layout::Capillary
    };
    let shown = shown_dates(w, input.tz);
    let by_date = daily_profiles(&inside, w, input.tz);
    let days = shown
        .iter()
        .map(|&date| {
            by_date
                .iter()
                .find(|d| d.date == date)
                .cloned()
                .unwrap_or(DailyProfile {
                    date,
                    readings: Vec::new(),
                })
        })
        .collect();
    Report {
        patient: input.patient.clone(),
        window: w,
        tz: input.tz,
        unit: input.unit,
        generated_at: input.generated_at,
        layout,
        metrics: metrics(&inside, w, &input.ranges),
        agp: agp(&inside, w, input.tz, ilot_rules::assumed::AGP_BIN_MINUTES),
        days,
        hypos: episodes(&inside, Direction::Below(HYPO_MG_DL)),
        logbook: Logbook::of(&inside, &shown, input.tz),
    }
}

/// The last [`DAYS_SHOWN`] local dates that the window touches, oldest first.
fn shown_dates(w: Window, tz: Tz) -> Vec<NaiveDate> {
    if w.to <= w.from {
        return Vec::new();
    }
    let first = w.from.with_timezone(&tz).date_naive();
    // `to` is exclusive: its date counts only if the window reaches past its midnight.
    let last = (w.to - chrono::TimeDelta::nanoseconds(1))
        .with_timezone(&tz)
        .date_naive();
    let mut dates = Vec::with_capacity(DAYS_SHOWN);
    let mut d = Some(last);
    while let Some(day) = d.filter(|d| *d >= first && dates.len() < DAYS_SHOWN) {
        dates.push(day);
        d = day.pred_opt();
    }
    dates.reverse();
    dates
}

/// The report as a one-page A4 PDF in `lang`.
pub fn pdf(report: &Report, lang: Lang) -> Result<Vec<u8>> {
    page::render(report, lang)
}

#[cfg(test)]
mod tests;
