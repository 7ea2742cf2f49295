//! Glucose metrics over a time window, as defined by the International Consensus on Time in Range
//! (Battelino et al., Diabetes Care 2019; SPEC §3): mean, SD, CV, GMI, time in ranges, CGM active
//! time, hypoglycaemia episodes, and whether there is enough data to report them.
//!
//! Definitions (each one is what `ilot report --json` prints):
//! - Only readings with `from <= at < to` count. CGM and capillary readings count alike. A flash
//!   scan counts as a point reading unless a reading of the sensor's history lies within 15
//!   minutes of it: the consensus' metrics come from the sensor's history, so a scan it covers is
//!   left out of the ranges, mean, SD and `n_readings` (one moment is not counted twice), but not
//!   out of the hypo episodes (a low scan is a measurement the patient saw).
//! - Range percentages are reading counts / `n_readings` × 100. Ranges are those of the consensus
//!   table on whole mg/dL, extended to fractional values so that they partition every reading:
//!   `< 54`, `54 <= v < 70`, `70 <= v <= 180` (TIR, both bounds inclusive), `180 < v <= 250`,
//!   `> 250`. LO counts as below 54 (and 70), HI as above 250 (and 180).
//! - Mean, SD, CV and GMI use numeric readings only: LO and HI are not numbers and none is
//!   invented for them. SD is the sample SD (n − 1); CV = SD / mean × 100;
//!   GMI = 3.31 + 0.02392 × mean (Bergenstal 2018). Sums are taken in one pass, shifted by the
//!   first value so the SD loses no useful precision; tests/it/reference.rs checks every value
//!   against Python's exact `statistics` module on 121 real CGM recordings.
//! - CGM active time: the CGM interval is the median spacing between consecutive CGM readings of
//!   the window (zero spacings — duplicate timestamps — excluded; mean of the two middle spacings
//!   when their count is even); active % = distinct CGM timestamps × interval / window duration ×
//!   100, capped at 100 (readings at the window edges can make it exceed 100 by one interval).
//! - Enough data (SPEC §3): a window of at least 14 days and CGM active at least 70 %. The
//!   metrics are still computed when it is not; `sufficient` is false and
//!   `insufficient_reasons` says why, so a report shows "insufficient data".
//! - Hypo episodes (level 1 < 70, level 2 < 54 mg/dL) follow [`crate::episodes`] over the
//!   window's readings only: an episode that began before the window counts from its first
//!   qualifying reading inside it.
//!
//! No value is rounded here, and a metric without data is `None` (JSON `null`), never NaN.

use std::borrow::Cow;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::input::GlucosePoint;
use crate::metrics::scan::Scan;

/// Half-open time window `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

impl Window {
    pub fn new(from: DateTime<Utc>, to: DateTime<Utc>) -> Self {
        Self { from, to }
    }

    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        self.from <= at && at < self.to
    }

    /// Length of the window; zero when `to` is not after `from`.
    pub fn duration(&self) -> TimeDelta {
        (self.to - self.from).max(TimeDelta::zero())
    }
}

/// Which target ranges a report shows besides the standard consensus ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ranges {
    /// Also compute the pregnancy (type 1) ranges: TIR 63–140, below 63, above 140 mg/dL.
    pub pregnancy: bool,
}

impl Ranges {
    pub const fn consensus() -> Self {
        Self { pregnancy: false }
    }

    pub const fn pregnancy() -> Self {
        Self { pregnancy: true }
    }
}

impl Default for Ranges {
    fn default() -> Self {
        Self::consensus()
    }
}

/// Pregnancy (type 1) ranges of the consensus: targets TIR > 70 %, below 63 < 4 %, above 140 < 25 %.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PregnancyMetrics {
    /// `63 <= v <= 140` mg/dL.
    pub tir_63_140_percent: Option<f64>,
    /// `< 63` mg/dL, LO included.
    pub below_63_percent: Option<f64>,
    /// `> 140` mg/dL, HI included.
    pub above_140_percent: Option<f64>,
}

/// Metrics of one window; see the module doc for every definition.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metrics {
    /// Every reading in the window, LO and HI included.
    pub n_readings: usize,
    pub n_lo: usize,
    pub n_hi: usize,
    pub mean_mg_dl: Option<f64>,
    /// Sample SD (n − 1); `None` with fewer than 2 numeric readings.
    pub sd_mg_dl: Option<f64>,
    pub cv_percent: Option<f64>,
    pub gmi_percent: Option<f64>,
    /// `70 <= v <= 180` mg/dL.
    pub tir_percent: Option<f64>,
    pub below_54_percent: Option<f64>,
    /// `< 70`, which includes `< 54`.
    pub below_70_percent: Option<f64>,
    pub between_54_69_percent: Option<f64>,
    /// `> 180`, which includes `> 250`.
    pub above_180_percent: Option<f64>,
    pub between_181_250_percent: Option<f64>,
    pub above_250_percent: Option<f64>,
    /// CGM active time; 0 without CGM readings, `None` when the CGM interval cannot be detected
    /// (a single CGM timestamp) or the window is empty.
    pub active_percent: Option<f64>,
    /// The detected CGM interval (median spacing), in minutes.
    pub cgm_interval_minutes: Option<f64>,
    /// Length of the window in days.
    pub window_days: f64,
    /// 24-hour days of the window, counted from `from`, with at least one reading.
    pub days_covered: u32,
    /// At least 14 days and 70 % CGM active time (SPEC §3).
    pub sufficient: bool,
    pub insufficient_reasons: Vec<String>,
    /// Episodes below 70 mg/dL (level 1 threshold; level 2 episodes are also counted here).
    pub hypo_level1_episodes: usize,
    /// Episodes below 54 mg/dL.
    pub hypo_level2_episodes: usize,
    /// Present when [`Ranges::pregnancy`] asked for it.
    pub pregnancy: Option<PregnancyMetrics>,
}

/// Consensus minimum for a report (SPEC §3).
pub const MIN_DAYS: f64 = 14.0;
/// Consensus minimum CGM active time for a report (SPEC §3).
pub const MIN_ACTIVE_PERCENT: f64 = 70.0;

/// Metrics of the readings inside `window`. `points` should be sorted by time, as
/// [`crate::Data`] promises; unsorted input is sorted (a copy), never misread.
pub fn metrics(points: &[GlucosePoint], window: Window, ranges: &Ranges) -> Metrics {
    let scan = with_window(points, window, |pts| {
        Scan::of(pts, window.from, ranges.pregnancy)
    });
    // A sorted copy always scans.
    let mut c = scan.unwrap_or_default();
    let n = c.n;
    let pct = |k: usize| (n > 0).then(|| k as f64 / n as f64 * 100.0);

    let mean = c.mean();
    let sd = c.sd();
    let cv = match (sd, mean) {
        (Some(sd), Some(m)) if m > 0.0 => Some(sd / m * 100.0),
        _ => None,
    };

    let window_ms = window.duration().num_milliseconds() as f64;
    let window_days = window_ms / 86_400_000.0;
    let interval_ms = median(&mut c.cgm_spacings).map(|us| us / 1000.0);
    let active = match interval_ms {
        _ if window_ms <= 0.0 => None,
        _ if c.cgm_distinct == 0 => Some(0.0),
        Some(interval) => Some((c.cgm_distinct as f64 * interval / window_ms * 100.0).min(100.0)),
        None => None,
    };

    let insufficient_reasons = insufficient_reasons(window_days, c.cgm_distinct, active);
    Metrics {
        n_readings: n,
        n_lo: c.lo,
        n_hi: c.hi,
        mean_mg_dl: mean,
        sd_mg_dl: sd,
        cv_percent: cv,
        gmi_percent: mean.map(|m| 3.31 + 0.02392 * m),
        tir_percent: pct(c.in_70_180),
        below_54_percent: pct(c.below_54),
        below_70_percent: pct(c.below_54 + c.in_54_69),
        between_54_69_percent: pct(c.in_54_69),
        above_180_percent: pct(c.in_181_250 + c.above_250),
        between_181_250_percent: pct(c.in_181_250),
        above_250_percent: pct(c.above_250),
        active_percent: active,
        cgm_interval_minutes: interval_ms.map(|ms| ms / 60_000.0),
        window_days,
        days_covered: c.days_covered,
        sufficient: insufficient_reasons.is_empty(),
        insufficient_reasons,
        hypo_level1_episodes: c.hypo_level1_episodes,
        hypo_level2_episodes: c.hypo_level2_episodes,
        pregnancy: ranges.pregnancy.then(|| PregnancyMetrics {
            tir_63_140_percent: pct(c.in_63_140),
            below_63_percent: pct(c.below_63),
            above_140_percent: pct(c.above_140),
        }),
    }
}

/// The points inside `window`, oldest first: a sub-slice when `points` is sorted, else a sorted
/// copy of those inside.
pub(crate) fn in_window(points: &[GlucosePoint], window: Window) -> Cow<'_, [GlucosePoint]> {
    match sorted_split(points, window) {
        Some(inside) if inside.is_sorted_by_key(|p| p.at) => Cow::Borrowed(inside),
        _ => Cow::Owned(sorted_copy(points, window)),
    }
}

/// Runs `pass` over the points inside `window`, oldest first. `pass` must check that its input is
/// in time order and return `None` if not (only then is the input exactly the window's readings);
/// it then runs again on a sorted copy. This lets a pass check the order
/// of the readings it reads anyway instead of a separate pass over them (each pass over 90 days
/// of 1-minute data costs about 0.2 ms, memory-bound).
pub(crate) fn with_window<T>(
    points: &[GlucosePoint],
    window: Window,
    mut pass: impl FnMut(&[GlucosePoint]) -> Option<T>,
) -> Option<T> {
    if let Some(inside) = sorted_split(points, window)
        && let Some(out) = pass(inside)
    {
        return Some(out);
    }
    pass(&sorted_copy(points, window))
}

/// The window's part of `points` if everything outside it is in order and on the right side of
/// it; the part itself is not checked.
fn sorted_split(points: &[GlucosePoint], window: Window) -> Option<&[GlucosePoint]> {
    let a = points.partition_point(|p| p.at < window.from);
    let b = points.partition_point(|p| p.at < window.to).max(a);
    let (before, rest) = points.split_at(a);
    let (inside, after) = rest.split_at(b - a);
    let ordered = |x: Option<&GlucosePoint>, y: Option<&GlucosePoint>| match (x, y) {
        (Some(x), Some(y)) => x.at <= y.at,
        _ => true,
    };
    let edges_ok = ordered(before.last(), inside.first().or(after.first()))
        && ordered(inside.last(), after.first());
    (edges_ok && before.is_sorted_by_key(|p| p.at) && after.is_sorted_by_key(|p| p.at))
        .then_some(inside)
}

fn sorted_copy(points: &[GlucosePoint], window: Window) -> Vec<GlucosePoint> {
    let mut v: Vec<GlucosePoint> = points
        .iter()
        .filter(|p| window.contains(p.at))
        .copied()
        .collect();
    v.sort_by_key(|p| p.at);
    v
}

fn median(v: &mut [i64]) -> Option<f64> {
    let n = v.len();
    if n == 0 {
        return None;
    }
    let (left, &mut upper, _) = v.select_nth_unstable(n / 2);
    if n % 2 == 1 {
        return Some(upper as f64);
    }
    let lower = left.iter().copied().max().unwrap_or(upper);
    Some((lower as f64 + upper as f64) / 2.0)
}

/// Truncates to one decimal so a message never shows "70.0 %" for 69.96 %.
fn floor1(x: f64) -> f64 {
    (x * 10.0).floor() / 10.0
}

fn insufficient_reasons(window_days: f64, cgm_distinct: usize, active: Option<f64>) -> Vec<String> {
    let mut reasons = Vec::new();
    if window_days < MIN_DAYS {
        reasons.push(format!(
            "the window covers {} days; a report needs at least {MIN_DAYS} days of data",
            floor1(window_days)
        ));
    }
    match (cgm_distinct, active) {
        (0, _) => reasons.push(
            "no cgm readings in the window; a report needs cgm data at least 70 % of the time"
                .to_owned(),
        ),
        (_, None) if window_days > 0.0 => reasons.push(
            "too few cgm readings to detect the sensor interval; wear the sensor longer".to_owned(),
        ),
        (_, Some(a)) if a < MIN_ACTIVE_PERCENT => reasons.push(format!(
            "cgm was active {} % of the window; a report needs at least {MIN_ACTIVE_PERCENT} %",
            floor1(a)
        )),
        _ => {}
    }
    reasons
}

pub(crate) mod clock;
mod scan;
pub mod summary;
#[cfg(test)]
mod tests;
