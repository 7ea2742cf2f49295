//! The single pass over a window's readings behind [`super::metrics`]: range counts, shifted sums
//! for mean and SD, CGM spacings, days covered and hypo episodes all at once. A flash scan the
//! sensor's history covers is left out of the range counts and sums (see
//! [`GlucosePoint::covered_scan`]), not out of the episodes. On 90 days of
//! 1-minute data a pass costs about as much as the arithmetic, so there is one, and a second
//! one for the episodes, which need the sensor's interval that the first pass measures.

use chrono::{DateTime, TimeDelta, Utc};

use crate::episodes::{Direction, Tracker};
use crate::input::{GlucosePoint, Level};
use crate::metrics::clock::Micros;
use crate::sampling::{median_us, reading_duration};

const DAY_US: i64 = 86_400_000_000;

#[derive(Debug, Default)]
pub(super) struct Scan {
    pub n: usize,
    pub lo: usize,
    pub hi: usize,
    pub numeric: usize,
    pub below_54: usize,
    pub in_54_69: usize,
    pub in_70_180: usize,
    pub in_181_250: usize,
    pub above_250: usize,
    pub below_63: usize,
    pub in_63_140: usize,
    pub above_140: usize,
    /// Sums of `v - shift` and its square, `shift` being the first numeric value: the SD then
    /// needs no second pass and, with a shift near the data, loses no useful precision.
    pub shift: f64,
    pub sum_d: f64,
    pub sum_d2: f64,
    /// CGM readings with distinct timestamps.
    pub cgm_distinct: usize,
    /// Positive spacings between consecutive CGM readings, in microseconds.
    pub cgm_spacings: Vec<i64>,
    pub days_covered: u32,
    pub hypo_level1_episodes: usize,
    pub hypo_level2_episodes: usize,
}

impl Scan {
    /// `None` if `pts` is not sorted by time.
    pub(super) fn of(pts: &[GlucosePoint], from: DateTime<Utc>, pregnancy: bool) -> Option<Self> {
        let mut s = Self {
            n: pts.len(),
            shift: pts.iter().find_map(|p| p.level.mg_dl()).unwrap_or(0.0),
            cgm_spacings: Vec::with_capacity(pts.len()),
            ..Self::default()
        };
        let mut clock = Micros::new();
        let from = from.timestamp_micros();
        let mut last_day = None;
        let mut prev_cgm: Option<i64> = None;
        let mut prev = i64::MIN;

        for (i, p) in pts.iter().enumerate() {
            let us = clock.of(&p.at);
            if us < prev {
                return None;
            }
            prev = us;
            if p.scan && GlucosePoint::covered_scan(pts, i) {
                // The sensor's history stands for this moment already (no double counting).
                s.n -= 1;
            } else {
                s.count(p.level);
                if pregnancy {
                    s.count_pregnancy(p.level);
                }
            }
            if p.cgm {
                match prev_cgm {
                    None => s.cgm_distinct += 1,
                    Some(q) if us > q => {
                        s.cgm_distinct += 1;
                        s.cgm_spacings.push(us - q);
                    }
                    Some(_) => {}
                }
                prev_cgm = Some(us);
            }
            let day = (us - from).div_euclid(DAY_US);
            if last_day != Some(day) {
                s.days_covered += 1;
                last_day = Some(day);
            }
        }
        // Episodes need the sensor's interval (each reading stands for it), known only once the
        // spacings are all seen: a second pass, on a copy of the spacings (the median reorders).
        let interval = median_us(&mut s.cgm_spacings.clone()).map(TimeDelta::microseconds);
        let reading = reading_duration(interval);
        let mut level1 = Tracker::new(Direction::Below(70.0), reading);
        let mut level2 = Tracker::new(Direction::Below(54.0), reading);
        let mut clock = Micros::new();
        for p in pts {
            let us = clock.of(&p.at);
            level1.feed(p, us);
            level2.feed(p, us);
        }
        s.hypo_level1_episodes = level1.finish().len();
        s.hypo_level2_episodes = level2.finish().len();
        Some(s)
    }

    fn count(&mut self, level: Level) {
        match level {
            Level::MgDl(v) => {
                self.numeric += 1;
                let d = v - self.shift;
                self.sum_d += d;
                self.sum_d2 += d * d;
                if v < 54.0 {
                    self.below_54 += 1;
                } else if v < 70.0 {
                    self.in_54_69 += 1;
                } else if v <= 180.0 {
                    self.in_70_180 += 1;
                } else if v <= 250.0 {
                    self.in_181_250 += 1;
                } else {
                    self.above_250 += 1;
                }
            }
            Level::Lo => {
                self.lo += 1;
                self.below_54 += 1;
            }
            Level::Hi => {
                self.hi += 1;
                self.above_250 += 1;
            }
        }
    }

    fn count_pregnancy(&mut self, level: Level) {
        if level.below(63.0) {
            self.below_63 += 1;
        } else if level.above(140.0) {
            self.above_140 += 1;
        } else {
            self.in_63_140 += 1;
        }
    }

    pub(super) fn mean(&self) -> Option<f64> {
        (self.numeric > 0).then(|| self.shift + self.sum_d / self.numeric as f64)
    }

    /// Sample SD (n − 1).
    pub(super) fn sd(&self) -> Option<f64> {
        (self.numeric >= 2).then(|| {
            let n = self.numeric as f64;
            // Rounding can leave a -1e-12 where the true sum of squares is 0 (all values equal
            // but the shift's): that is 0, not a NaN.
            let ss = (self.sum_d2 - self.sum_d * self.sum_d / n).max(0.0);
            (ss / (n - 1.0)).sqrt()
        })
    }
}
