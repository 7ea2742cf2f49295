//! How long one CGM reading stands for: the sensor's sampling interval, measured from the
//! readings themselves (SPEC §2–3: "each reading stands for its sampling interval", 1, 5 or 15
//! minutes), the way the consensus' reference implementations detect it (iglu's `dt0`: the
//! median spacing of the readings) and the way the report's "CGM active time" already does.
//!
//! Used by the 15-minute episode rule, the 14-day TBR alert's sufficiency and observance's
//! expected CGM data. Pure; never reads a clock.

use chrono::TimeDelta;

use crate::input::GlucosePoint;

/// The longest interval one reading may stand for: the sparsest CGM history on the market
/// (FreeStyle Libre, 15 minutes). Longer median spacings are gaps in the data, not a sampling
/// interval, and must not let one reading make a 15-minute episode by itself.
pub const MAX_INTERVAL: TimeDelta = TimeDelta::minutes(15);

/// Median positive spacing between consecutive CGM readings (`cgm == true`) of `points`, which
/// should be sorted by time (unsorted input gives the spacings of the given order, so callers
/// sort first, as [`crate::Data`] promises). Duplicate timestamps are left out; with an even
/// count the mean of the two middle spacings. `None` with fewer than two distinct CGM times.
/// Not capped: see [`reading_duration`].
pub fn cgm_interval(points: &[GlucosePoint]) -> Option<TimeDelta> {
    let mut prev: Option<i64> = None;
    let mut spacings: Vec<i64> = Vec::new();
    for p in points.iter().filter(|p| p.cgm) {
        let us = p.at.timestamp_micros();
        if let Some(q) = prev
            && us > q
        {
            spacings.push(us - q);
        }
        prev = Some(us);
    }
    median_us(&mut spacings).map(TimeDelta::microseconds)
}

/// [`cgm_interval`] from at most `pairs` consecutive-reading spacings taken evenly across
/// `points` (exact when there are fewer readings): observance estimates each 30-day period's
/// interval this way in microseconds rather than walking a month of 1-minute readings. Exact for
/// a steady sensor; lost packets and sensor changes are rare spacings a median of 2,048 ignores.
pub fn cgm_interval_sampled(points: &[GlucosePoint], pairs: usize) -> Option<TimeDelta> {
    if points.len() <= pairs.saturating_add(1) {
        return cgm_interval(points);
    }
    let stride = points.len() / pairs.max(1);
    let mut spacings: Vec<i64> = Vec::with_capacity(pairs);
    for i in (0..points.len()).step_by(stride.max(1)) {
        if !points[i].cgm {
            continue;
        }
        // The next CGM reading, looking a few readings ahead past finger pricks.
        let next = points[i + 1..].iter().take(8).find(|p| p.cgm);
        if let Some(q) = next {
            let d = (q.at - points[i].at).num_microseconds().unwrap_or(0);
            if d > 0 {
                spacings.push(d);
            }
        }
    }
    median_us(&mut spacings).map(TimeDelta::microseconds)
}

/// The duration one reading stands for, given the detected interval: the interval capped at
/// [`MAX_INTERVAL`]; zero when no interval could be detected (a lone reading then makes no
/// CGM episode: its duration is unknown).
pub fn reading_duration(interval: Option<TimeDelta>) -> TimeDelta {
    interval.map_or(TimeDelta::zero(), |i| {
        i.clamp(TimeDelta::zero(), MAX_INTERVAL)
    })
}

/// Median of microsecond spacings (mean of the two middle ones when even), rounded down to the
/// microsecond. Reorders `v`.
pub(crate) fn median_us(v: &mut [i64]) -> Option<i64> {
    let n = v.len();
    if n == 0 {
        return None;
    }
    let (left, &mut upper, _) = v.select_nth_unstable(n / 2);
    if n % 2 == 1 {
        return Some(upper);
    }
    let lower = left.iter().copied().max().unwrap_or(upper);
    Some(lower + (upper - lower) / 2)
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use ilot_domain::MealContext;
    use rstest::rstest;

    use super::*;
    use crate::input::Level;

    fn at(minutes: &[i64], cgm: bool) -> Vec<GlucosePoint> {
        let t0 = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
        minutes
            .iter()
            .enumerate()
            .map(|(i, m)| GlucosePoint {
                id: i as u64,
                at: t0 + TimeDelta::minutes(*m),
                level: Level::MgDl(100.0),
                cgm,
                scan: false,
                context: MealContext::Other,
            })
            .collect()
    }

    #[rstest]
    #[case::one_minute(&[0, 1, 2, 3, 4], Some(1))]
    #[case::five_minutes_with_a_lost_packet(&[0, 5, 10, 20, 25, 30], Some(5))]
    #[case::fifteen_minutes(&[0, 15, 30, 45], Some(15))]
    #[case::duplicates_left_out(&[0, 0, 5, 5, 10], Some(5))]
    #[case::single(&[0], None)]
    fn interval_is_the_median_spacing(#[case] minutes: &[i64], #[case] want: Option<i64>) {
        assert_eq!(
            cgm_interval(&at(minutes, true)),
            want.map(TimeDelta::minutes)
        );
        // Capillary readings have no sampling interval.
        assert_eq!(cgm_interval(&at(minutes, false)), None);
    }

    #[test]
    fn a_sampled_interval_is_the_median_of_evenly_taken_spacings() {
        // 10,000 five-minute readings with every 50th packet lost.
        let minutes: Vec<i64> = (0..10_000i64)
            .filter(|k| k % 50 != 7)
            .map(|k| 5 * k)
            .collect();
        let points = at(&minutes, true);
        assert_eq!(
            cgm_interval_sampled(&points, 2048),
            Some(TimeDelta::minutes(5))
        );
        assert_eq!(
            cgm_interval_sampled(&points[..100], 2048),
            cgm_interval(&points[..100])
        );
        assert_eq!(cgm_interval_sampled(&at(&minutes, false), 2048), None);
    }

    #[test]
    fn a_reading_stands_for_at_most_15_minutes() {
        assert_eq!(
            reading_duration(Some(TimeDelta::hours(2))),
            TimeDelta::minutes(15)
        );
        assert_eq!(
            reading_duration(Some(TimeDelta::minutes(5))),
            TimeDelta::minutes(5)
        );
        assert_eq!(reading_duration(None), TimeDelta::zero());
    }
}
