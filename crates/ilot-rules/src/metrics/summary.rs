//! The metrics of a window from per-day summaries of its readings, for lists of many patients
//! (the server's triage) that cannot read every reading of every patient on each request.
//!
//! A [`Summary`] holds what [`super::metrics`] needs from a run of consecutive readings: the
//! counts per range (consensus and pregnancy), the numeric count with mean and sum of squared
//! deviations (merged with Chan's pairwise formula), the CGM readings with distinct timestamps,
//! the first and last CGM timestamp, and the histogram of spacings between consecutive CGM
//! readings (exact microseconds), plus the capillary count. Summaries of consecutive days merge
//! in time order ([`Summary::then`]): the spacing between one day's last CGM reading and the
//! next day's first is added at the merge, so the merged histogram is exactly the window's.
//!
//! [`of_summary`] then gives, with the formulas of [`super::metrics`], the same values as
//! `metrics` over the window's readings when the window's bounds are day bounds: every count and
//! percentage, the CGM interval (median of the merged histogram) and the CGM active time are
//! bit-for-bit equal; the mean, SD, CV and GMI agree to float rounding (about 1e-12 relative:
//! sums taken in another order). What depends on the order of readings across the whole window
//! is not here: hypo episodes (an episode may span midnight), days covered (24-hour days from
//! `from`, which are not local days across a DST change) and sufficiency (which a report needs,
//! not a list). A flash scan that the sensor's history covers is left out as in `metrics`, but
//! judged within its own day: a scan in the first or last 15 minutes of a day whose covering
//! history reading falls on the neighbouring day counts once more here than in `metrics`.

use std::collections::BTreeMap;

use serde::Serialize;

use super::scan::Scan;
use super::{PregnancyMetrics, Window};
use crate::input::GlucosePoint;
use crate::metrics::Ranges;

/// What the metrics need from a run of readings; see the module doc.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    pub n: u64,
    pub lo: u64,
    pub hi: u64,
    pub below_54: u64,
    pub in_54_69: u64,
    pub in_70_180: u64,
    pub in_181_250: u64,
    pub above_250: u64,
    pub below_63: u64,
    pub in_63_140: u64,
    pub above_140: u64,
    /// Numeric readings (LO and HI excluded), their mean and sum of squared deviations.
    pub numeric: u64,
    pub mean: f64,
    pub m2: f64,
    pub cgm_distinct: u64,
    /// First and last CGM timestamp, microseconds since 1970.
    pub cgm_first_us: Option<i64>,
    pub cgm_last_us: Option<i64>,
    /// Positive spacing between consecutive CGM readings (µs) → how many times it occurs.
    pub spacings: BTreeMap<i64, u64>,
    /// Readings that are not CGM (capillary and flash scans).
    pub capillary: u64,
}

impl Summary {
    /// The summary of `points`, sorted here by time if they are not (a copy).
    pub fn of(points: &[GlucosePoint]) -> Self {
        let sorted;
        let pts = if points.is_sorted_by_key(|p| p.at) {
            points
        } else {
            let mut v = points.to_vec();
            v.sort_by_key(|p| p.at);
            sorted = v;
            &sorted
        };
        let from = pts.first().map_or(chrono::DateTime::UNIX_EPOCH, |p| p.at);
        // Sorted, so the scan runs.
        let s = Scan::of(pts, from, true).unwrap_or_default();
        let numeric = s.numeric as u64;
        let (mean, m2) = if numeric == 0 {
            (0.0, 0.0)
        } else {
            let n = numeric as f64;
            let mean = s.shift + s.sum_d / n;
            (mean, (s.sum_d2 - s.sum_d * s.sum_d / n).max(0.0))
        };
        let mut spacings = BTreeMap::new();
        for d in &s.cgm_spacings {
            *spacings.entry(*d).or_insert(0) += 1;
        }
        let cgm: Vec<i64> = pts
            .iter()
            .filter(|p| p.cgm)
            .map(|p| p.at.timestamp_micros())
            .collect();
        Self {
            n: s.n as u64,
            lo: s.lo as u64,
            hi: s.hi as u64,
            below_54: s.below_54 as u64,
            in_54_69: s.in_54_69 as u64,
            in_70_180: s.in_70_180 as u64,
            in_181_250: s.in_181_250 as u64,
            above_250: s.above_250 as u64,
            below_63: s.below_63 as u64,
            in_63_140: s.in_63_140 as u64,
            above_140: s.above_140 as u64,
            numeric,
            mean,
            m2,
            cgm_distinct: s.cgm_distinct as u64,
            cgm_first_us: cgm.first().copied(),
            cgm_last_us: cgm.last().copied(),
            spacings,
            capillary: pts.iter().filter(|p| !p.cgm).count() as u64,
        }
    }

    /// Adds `next`, whose readings all come at or after this one's (the next day).
    pub fn then(&mut self, next: &Summary) {
        for (a, b) in [
            (&mut self.n, next.n),
            (&mut self.lo, next.lo),
            (&mut self.hi, next.hi),
            (&mut self.below_54, next.below_54),
            (&mut self.in_54_69, next.in_54_69),
            (&mut self.in_70_180, next.in_70_180),
            (&mut self.in_181_250, next.in_181_250),
            (&mut self.above_250, next.above_250),
            (&mut self.below_63, next.below_63),
            (&mut self.in_63_140, next.in_63_140),
            (&mut self.above_140, next.above_140),
            (&mut self.capillary, next.capillary),
        ] {
            *a += b;
        }
        if next.numeric > 0 {
            if self.numeric == 0 {
                (self.mean, self.m2) = (next.mean, next.m2);
            } else {
                let (na, nb) = (self.numeric as f64, next.numeric as f64);
                let n = na + nb;
                let delta = next.mean - self.mean;
                self.mean += delta * nb / n;
                self.m2 += next.m2 + delta * delta * na * nb / n;
            }
            self.numeric += next.numeric;
        }
        for (d, k) in &next.spacings {
            *self.spacings.entry(*d).or_insert(0) += k;
        }
        match (self.cgm_last_us, next.cgm_first_us) {
            (Some(last), Some(first)) if first > last => {
                *self.spacings.entry(first - last).or_insert(0) += 1;
                self.cgm_distinct += next.cgm_distinct;
            }
            // The same timestamp on both sides of the merge counts once.
            (Some(_), Some(_)) => self.cgm_distinct += next.cgm_distinct.saturating_sub(1),
            _ => self.cgm_distinct += next.cgm_distinct,
        }
        self.cgm_first_us = self.cgm_first_us.or(next.cgm_first_us);
        self.cgm_last_us = next.cgm_last_us.or(self.cgm_last_us);
    }

    /// Median of the spacings in microseconds, as `metrics` takes it (mean of the two middle
    /// ones when their count is even).
    fn median_us(&self) -> Option<f64> {
        let total: u64 = self.spacings.values().sum();
        if total == 0 {
            return None;
        }
        // 0-based ranks of the middle values.
        let upper_rank = total / 2;
        let lower_rank = if total % 2 == 1 {
            upper_rank
        } else {
            upper_rank - 1
        };
        let (mut lower, mut upper) = (None, None);
        let mut seen = 0u64;
        for (d, k) in &self.spacings {
            let next = seen + k;
            if lower.is_none() && lower_rank < next {
                lower = Some(*d);
            }
            if upper_rank < next {
                upper = Some(*d);
                break;
            }
            seen = next;
        }
        let (lower, upper) = (lower?, upper?);
        if total % 2 == 1 {
            Some(upper as f64)
        } else {
            Some((lower as f64 + upper as f64) / 2.0)
        }
    }
}

/// The metrics of a list: those of [`super::Metrics`] a summary gives (see the module doc).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SummaryMetrics {
    pub n_readings: usize,
    pub n_lo: usize,
    pub n_hi: usize,
    pub mean_mg_dl: Option<f64>,
    pub sd_mg_dl: Option<f64>,
    pub cv_percent: Option<f64>,
    pub gmi_percent: Option<f64>,
    pub tir_percent: Option<f64>,
    pub below_54_percent: Option<f64>,
    pub below_70_percent: Option<f64>,
    pub between_54_69_percent: Option<f64>,
    pub above_180_percent: Option<f64>,
    pub between_181_250_percent: Option<f64>,
    pub above_250_percent: Option<f64>,
    pub active_percent: Option<f64>,
    pub cgm_interval_minutes: Option<f64>,
    pub window_days: f64,
    pub pregnancy: Option<PregnancyMetrics>,
}

impl From<&super::Metrics> for SummaryMetrics {
    fn from(m: &super::Metrics) -> Self {
        Self {
            n_readings: m.n_readings,
            n_lo: m.n_lo,
            n_hi: m.n_hi,
            mean_mg_dl: m.mean_mg_dl,
            sd_mg_dl: m.sd_mg_dl,
            cv_percent: m.cv_percent,
            gmi_percent: m.gmi_percent,
            tir_percent: m.tir_percent,
            below_54_percent: m.below_54_percent,
            below_70_percent: m.below_70_percent,
            between_54_69_percent: m.between_54_69_percent,
            above_180_percent: m.above_180_percent,
            between_181_250_percent: m.between_181_250_percent,
            above_250_percent: m.above_250_percent,
            active_percent: m.active_percent,
            cgm_interval_minutes: m.cgm_interval_minutes,
            window_days: m.window_days,
            pregnancy: m.pregnancy.clone(),
        }
    }
}

/// The metrics of `window` from the merged summary of its days (see the module doc), with the
/// formulas of [`super::metrics`].
pub fn of_summary(s: &Summary, window: Window, ranges: &Ranges) -> SummaryMetrics {
    let n = s.n;
    let pct = |k: u64| (n > 0).then(|| k as f64 / n as f64 * 100.0);
    let mean = (s.numeric > 0).then_some(s.mean);
    let sd = (s.numeric >= 2).then(|| (s.m2.max(0.0) / (s.numeric as f64 - 1.0)).sqrt());
    let cv = match (sd, mean) {
        (Some(sd), Some(m)) if m > 0.0 => Some(sd / m * 100.0),
        _ => None,
    };
    let window_ms = window.duration().num_milliseconds() as f64;
    let interval_ms = s.median_us().map(|us| us / 1000.0);
    let active = match interval_ms {
        _ if window_ms <= 0.0 => None,
        _ if s.cgm_distinct == 0 => Some(0.0),
        Some(interval) => Some((s.cgm_distinct as f64 * interval / window_ms * 100.0).min(100.0)),
        None => None,
    };
    SummaryMetrics {
        n_readings: n as usize,
        n_lo: s.lo as usize,
        n_hi: s.hi as usize,
        mean_mg_dl: mean,
        sd_mg_dl: sd,
        cv_percent: cv,
        gmi_percent: mean.map(|m| 3.31 + 0.02392 * m),
        tir_percent: pct(s.in_70_180),
        below_54_percent: pct(s.below_54),
        below_70_percent: pct(s.below_54 + s.in_54_69),
        between_54_69_percent: pct(s.in_54_69),
        above_180_percent: pct(s.in_181_250 + s.above_250),
        between_181_250_percent: pct(s.in_181_250),
        above_250_percent: pct(s.above_250),
        active_percent: active,
        cgm_interval_minutes: interval_ms.map(|ms| ms / 60_000.0),
        window_days: window_ms / 86_400_000.0,
        pregnancy: ranges.pregnancy.then(|| PregnancyMetrics {
            tir_63_140_percent: pct(s.in_63_140),
            below_63_percent: pct(s.below_63),
            above_140_percent: pct(s.above_140),
        }),
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, TimeDelta, TimeZone, Utc};
    use ilot_domain::MealContext;

    use super::*;
    use crate::input::Level;

    fn close(a: Option<f64>, b: Option<f64>) -> bool {
        match (a, b) {
            (Some(a), Some(b)) => (a - b).abs() <= 1e-9 * a.abs().max(1.0),
            (None, None) => true,
            _ => false,
        }
    }

    /// Days of 5-minute CGM with jitter, lows, LO/HI, finger pricks and a duplicate timestamp,
    /// cut at UTC midnights: merged day summaries give the window's metrics.
    #[test]
    fn merged_days_give_the_window_metrics() {
        let t0 = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
        let mut pts = Vec::new();
        let mut seed = 7u64;
        let mut rnd = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as f64 / (1u64 << 31) as f64
        };
        let mut at = t0 + TimeDelta::seconds(37);
        while at < t0 + TimeDelta::days(5) {
            let r = rnd();
            let level = if r < 0.01 {
                Level::Lo
            } else if r > 0.99 {
                Level::Hi
            } else {
                Level::MgDl(40.0 + 300.0 * rnd())
            };
            pts.push(GlucosePoint {
                id: pts.len() as u64,
                at,
                level,
                cgm: rnd() > 0.03,
                scan: false,
                context: MealContext::Other,
            });
            // A sensor gap on day 3.
            let gap = if pts.len() == 700 { 300 } else { 0 };
            at += TimeDelta::seconds(297 + (rnd() * 7.0) as i64 + gap * 60);
            if pts.len() == 100 {
                // A duplicate timestamp (a second device).
                pts.push(GlucosePoint {
                    id: 10_000,
                    ..pts[pts.len() - 1]
                });
            }
        }
        let day = |k: i64| t0 + TimeDelta::days(k);
        let inside = |a: DateTime<Utc>, b: DateTime<Utc>| -> Vec<GlucosePoint> {
            pts.iter()
                .filter(|p| p.at >= a && p.at < b)
                .copied()
                .collect()
        };
        for (a, b) in [(0, 5), (1, 4), (2, 3), (3, 5)] {
            let w = Window::new(day(a), day(b));
            let mut s = Summary::default();
            for k in a..b {
                s.then(&Summary::of(&inside(day(k), day(k + 1))));
            }
            for ranges in [Ranges::consensus(), Ranges::pregnancy()] {
                let want = SummaryMetrics::from(&super::super::metrics(&pts, w, &ranges));
                let got = of_summary(&s, w, &ranges);
                assert_eq!(
                    (
                        got.n_readings,
                        got.n_lo,
                        got.n_hi,
                        got.tir_percent,
                        got.below_54_percent
                    ),
                    (
                        want.n_readings,
                        want.n_lo,
                        want.n_hi,
                        want.tir_percent,
                        want.below_54_percent
                    )
                );
                assert_eq!(got.active_percent, want.active_percent);
                assert_eq!(got.cgm_interval_minutes, want.cgm_interval_minutes);
                assert_eq!(got.pregnancy, want.pregnancy);
                assert_eq!(got.above_180_percent, want.above_180_percent);
                for (g, w) in [
                    (got.mean_mg_dl, want.mean_mg_dl),
                    (got.sd_mg_dl, want.sd_mg_dl),
                    (got.cv_percent, want.cv_percent),
                    (got.gmi_percent, want.gmi_percent),
                ] {
                    assert!(close(g, w), "{g:?} vs {w:?}");
                }
            }
        }
    }

    #[test]
    fn the_median_of_a_histogram_is_that_of_the_values() {
        for values in [
            vec![5],
            vec![5, 7],
            vec![3, 3, 9, 9],
            vec![1, 2, 2, 2, 8, 9, 9],
            vec![4, 1],
        ] {
            let mut s = Summary::default();
            for v in &values {
                *s.spacings.entry(*v).or_insert(0) += 1;
            }
            let mut v = values.clone();
            v.sort();
            let n = v.len();
            let want = if n % 2 == 1 {
                v[n / 2] as f64
            } else {
                (v[n / 2 - 1] as f64 + v[n / 2] as f64) / 2.0
            };
            assert_eq!(s.median_us(), Some(want), "{values:?}");
        }
        assert_eq!(Summary::default().median_us(), None);
    }
}
