//! Ambulatory Glucose Profile (SPEC §3): the 5/25/50/75/95th percentiles of glucose by local time
//! of day, pooled over every day of a window, and the day-by-day profiles.
//!
//! - A reading falls in the bin of its local clock time in the patient's time zone (so a DST day
//!   still puts breakfast at 08:00); bins are `bin_minutes` long from local midnight.
//! - Percentiles use linear interpolation between closest ranks, Hyndman & Fan type 7 (the default
//!   of R's `quantile` and numpy's `percentile`): with the bin's n values sorted as x[0..n],
//!   h = (n − 1) p, and P = x[⌊h⌋] + (h − ⌊h⌋)(x[⌊h⌋ + 1] − x[⌊h⌋]).
//! - LO ranks below every number and HI above. A percentile that lands on LO or HI, or between
//!   one of them and a number, is that LO or HI: no number is invented for a value the meter
//!   could not measure.
//! - A flash scan within 15 minutes of a reading of the sensor's history is left out of the
//!   percentiles (the history stands for that moment: no double counting); a scan without
//!   history around it counts as one reading. The daily profiles show every reading.
//!
//! Order statistics come from `select_nth_unstable` on one buffer grouped by bin, so 90 days of
//! 1-minute data take a few milliseconds. Pure: the time zone is a parameter.

use chrono::{DateTime, NaiveDate, NaiveTime, Offset, TimeZone, Timelike};
use chrono_tz::Tz;
use serde::Serialize;

use crate::input::{EntryRef, GlucosePoint, Level};
use crate::metrics::{Window, in_window, with_window};

/// The percentiles an AGP shows, in per mille so that ranks are computed exactly (a float
/// 0.05 × 20 could leave a fraction of 1e-16 and interpolate towards a HI).
const PERCENTILES_PER_MILLE: [usize; 5] = [50, 250, 500, 750, 950];

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Agp {
    pub tz: Tz,
    pub bin_minutes: u32,
    /// `1440 / bin_minutes` bins from local midnight.
    pub bins: Vec<AgpBin>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgpBin {
    /// Start of the bin, in minutes after local midnight.
    pub start_minute: u32,
    /// Readings in the bin (LO and HI included).
    pub n: usize,
    /// `None` for an empty bin.
    pub percentiles: Option<Percentiles>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Percentiles {
    pub p5: Level,
    pub p25: Level,
    pub p50: Level,
    pub p75: Level,
    pub p95: Level,
}

/// The AGP of the readings in `window`, in `tz` local time.
///
/// # Panics
/// If `bin_minutes` is 0 or does not divide a day (1440 minutes): a caller's bug, not data.
pub fn agp(points: &[GlucosePoint], window: Window, tz: Tz, bin_minutes: u32) -> Agp {
    assert!(
        bin_minutes > 0 && 1440 % bin_minutes == 0,
        "agp bin_minutes must divide 1440, got {bin_minutes}"
    );
    let n_bins = (1440 / bin_minutes) as usize;
    let bin_of_minute: Vec<u16> = (0..1440u32)
        .map(|m| u16::try_from(m / bin_minutes).unwrap_or(u16::MAX))
        .collect();
    let binned = with_window(points, window, |pts| {
        bin_values(pts, tz, &bin_of_minute, n_bins)
    });
    // A sorted copy always bins.
    let Binned {
        counts,
        bin_of,
        ranked,
    } = binned.unwrap_or_else(|| Binned::empty(n_bins));

    // Counting sort by bin: scatter the compact values (not the 40-byte points) into one buffer.
    let mut next = counts.clone();
    let mut values = vec![0.0; ranked.len()];
    for (&v, &b) in ranked.iter().zip(&bin_of) {
        let slot = &mut next[usize::from(b)];
        values[*slot] = v;
        *slot += 1;
    }

    let bins = (0..n_bins)
        .map(|b| {
            let v = &mut values[counts[b]..counts[b + 1]];
            AgpBin {
                start_minute: b as u32 * bin_minutes,
                n: v.len(),
                percentiles: percentiles(v),
            }
        })
        .collect();
    Agp {
        tz,
        bin_minutes,
        bins,
    }
}

/// Bins, ranked values and bin start offsets (prefix sums of counts) of readings.
#[derive(Debug)]
struct Binned {
    counts: Vec<usize>,
    bin_of: Vec<u16>,
    ranked: Vec<f64>,
}

impl Binned {
    fn empty(n_bins: usize) -> Self {
        Self {
            counts: vec![0; n_bins + 1],
            bin_of: Vec::new(),
            ranked: Vec::new(),
        }
    }
}

/// `None` if `pts` is not sorted by time: binning itself needs no order, but the order is what
/// proves that `pts` is exactly the window's readings (see `with_window`).
fn bin_values(
    pts: &[GlucosePoint],
    tz: Tz,
    bin_of_minute: &[u16],
    n_bins: usize,
) -> Option<Binned> {
    let mut offsets = OffsetCache::new(tz);
    let mut out = Binned::empty(n_bins);
    out.bin_of.reserve_exact(pts.len());
    out.ranked.reserve_exact(pts.len());
    let mut prev: Option<(NaiveDate, i64, u32)> = None;
    for (i, p) in pts.iter().enumerate() {
        let naive = p.at.naive_utc();
        let (date, time) = (naive.date(), naive.time());
        let utc_secs = i64::from(time.num_seconds_from_midnight());
        let key = (date, utc_secs, time.nanosecond());
        if prev.is_some_and(|prev| key < prev) {
            return None;
        }
        prev = Some(key);
        if p.scan && GlucosePoint::covered_scan(pts, i) {
            // The sensor's history stands for this moment already.
            continue;
        }
        let local = (utc_secs + offsets.get(date, utc_secs)).rem_euclid(86_400);
        let bin = bin_of_minute[(local / 60) as usize];
        out.counts[usize::from(bin) + 1] += 1;
        out.bin_of.push(bin);
        out.ranked.push(rank(p.level));
    }
    for i in 1..=n_bins {
        out.counts[i] += out.counts[i - 1];
    }
    Some(out)
}

/// Type-7 percentiles of `v` (see module doc); reorders `v`. `None` when `v` is empty.
pub fn percentiles(v: &mut [f64]) -> Option<Percentiles> {
    let n = v.len();
    if n == 0 {
        return None;
    }
    let pos = PERCENTILES_PER_MILLE.map(|pm| {
        let h = (n - 1) * pm;
        (h / 1000, (h % 1000) as f64 / 1000.0)
    });
    let mut ranks: Vec<usize> = pos
        .iter()
        .flat_map(|&(lo, frac)| [Some(lo), (frac > 0.0).then_some(lo + 1)])
        .flatten()
        .collect();
    ranks.sort_unstable();
    ranks.dedup();
    select_ranks(v, &ranks);

    let [p5, p25, p50, p75, p95] = pos.map(|(lo, frac)| {
        let a = v[lo];
        let x = if frac == 0.0 || a == f64::NEG_INFINITY {
            a
        } else {
            let b = v[lo + 1];
            if b == f64::INFINITY {
                b
            } else {
                a + frac * (b - a)
            }
        };
        unrank(x)
    });
    Some(Percentiles {
        p5,
        p25,
        p50,
        p75,
        p95,
    })
}

/// Puts the order statistic of each rank in `ranks` (sorted, distinct) at its index.
fn select_ranks(v: &mut [f64], ranks: &[usize]) {
    if ranks.is_empty() {
        return;
    }
    let mid = ranks.len() / 2;
    let k = ranks[mid];
    let (left, _, right) = v.select_nth_unstable_by(k, f64::total_cmp);
    select_ranks(left, &ranks[..mid]);
    let shifted: Vec<usize> = ranks[mid + 1..].iter().map(|r| r - k - 1).collect();
    select_ranks(right, &shifted);
}

fn rank(level: Level) -> f64 {
    match level {
        Level::Lo => f64::NEG_INFINITY,
        Level::MgDl(v) => v,
        Level::Hi => f64::INFINITY,
    }
}

fn unrank(x: f64) -> Level {
    if x == f64::NEG_INFINITY {
        Level::Lo
    } else if x == f64::INFINITY {
        Level::Hi
    } else {
        Level::MgDl(x)
    }
}

/// UTC offsets for sorted readings. A zone lookup is a search in its transition table; a UTC
/// day with the same offset at both ends is assumed constant (no zone shifts twice within a day
/// and back), so the search runs twice a day instead of once a reading. Days that change offset
/// are looked up hour by hour, and the hour that changes reading by reading.
#[derive(Debug)]
struct OffsetCache {
    tz: Tz,
    /// The UTC date last seen, its midnight timestamp and its offset if constant.
    day: Option<(NaiveDate, i64, Option<i64>)>,
    /// The hour (seconds since the epoch) last looked up in a changing day, and its offset.
    hour: Option<(i64, Option<i64>)>,
}

impl OffsetCache {
    fn new(tz: Tz) -> Self {
        Self {
            tz,
            day: None,
            hour: None,
        }
    }

    fn lookup(&self, ts: i64) -> i64 {
        DateTime::from_timestamp(ts, 0).map_or(0, |utc| {
            i64::from(
                self.tz
                    .offset_from_utc_datetime(&utc.naive_utc())
                    .fix()
                    .local_minus_utc(),
            )
        })
    }

    /// Offset if constant over `[start, start + len)`.
    fn constant(&self, start: i64, len: i64) -> Option<i64> {
        let a = self.lookup(start);
        (a == self.lookup(start + len - 1)).then_some(a)
    }

    /// Offset at `secs` seconds after UTC midnight of `date`.
    fn get(&mut self, date: NaiveDate, secs: i64) -> i64 {
        let (midnight, day_off) = match self.day {
            Some((d, midnight, off)) if d == date => (midnight, off),
            _ => {
                let midnight = date.and_time(NaiveTime::MIN).and_utc().timestamp();
                let off = self.constant(midnight, 86_400);
                self.day = Some((date, midnight, off));
                (midnight, off)
            }
        };
        if let Some(off) = day_off {
            return off;
        }
        let ts = midnight + secs;
        let hour = ts - ts.rem_euclid(3_600);
        let hour_off = match self.hour {
            Some((h, off)) if h == hour => off,
            _ => {
                let off = self.constant(hour, 3_600);
                self.hour = Some((hour, off));
                off
            }
        };
        hour_off.unwrap_or_else(|| self.lookup(ts))
    }
}

/// One local day of readings, for the AGP's daily profiles.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DailyProfile {
    pub date: NaiveDate,
    pub readings: Vec<DailyReading>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DailyReading {
    pub id: EntryRef,
    pub time: NaiveTime,
    pub level: Level,
}

/// The readings in `window` grouped by local date in `tz`, oldest first; days without readings
/// are absent.
pub fn daily_profiles(points: &[GlucosePoint], window: Window, tz: Tz) -> Vec<DailyProfile> {
    let pts = in_window(points, window);
    let mut out: Vec<DailyProfile> = Vec::new();
    for p in pts.iter() {
        let local = p.at.with_timezone(&tz).naive_local();
        let reading = DailyReading {
            id: p.id,
            time: local.time(),
            level: p.level,
        };
        // Dates only go back where a zone falls back across midnight: check the last two days.
        match out
            .iter_mut()
            .rev()
            .take(2)
            .find(|d| d.date == local.date())
        {
            Some(day) => day.readings.push(reading),
            None => out.push(DailyProfile {
                date: local.date(),
                readings: vec![reading],
            }),
        }
    }
    out.sort_by_key(|d| d.date);
    out
}

#[cfg(test)]
mod tests;
