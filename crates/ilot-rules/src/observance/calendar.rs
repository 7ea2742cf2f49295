//! Local dates to UTC instants, and counting sorted instants between two of them. Only arithmetic
//! on the inputs: no clock is read here.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;

/// The UTC instant at which the local day `date` begins in `tz` (see [`local_instant`]).
///
/// Paris changes its clocks at 02:00/03:00, so its midnights always exist once. Some zones jump at
/// midnight itself (the local clock goes 23:59:59 → 01:00): the day then begins at the jump.
pub fn local_midnight(tz: Tz, date: NaiveDate) -> DateTime<Utc> {
    local_instant(tz, date.and_time(NaiveTime::MIN))
}

/// The UTC instant a local wall-clock time stands for in `tz`.
///
/// A time that happens twice (clocks go back) is its first occurrence, so no instant falls
/// between two days and a dose due "at 02:30" is due at the first 02:30. A time skipped by a jump
/// forward is read with the offset in force before the jump, i.e. as much later as the jump: a
/// dose due at 02:30 on the morning Paris goes from 02:00 to 03:00 is due at 03:30.
pub fn local_instant(tz: Tz, naive: NaiveDateTime) -> DateTime<Utc> {
    if let Some(at) = tz.from_local_datetime(&naive).earliest() {
        return at.with_timezone(&Utc);
    }
    let offset = tz
        .from_local_datetime(&(naive - Duration::days(1)))
        .earliest()
        .map(|t| t.offset().fix().local_minus_utc())
        .unwrap_or(0);
    (naive - Duration::seconds(i64::from(offset))).and_utc()
}

/// How many of the time-sorted `items` lie in `[from, to)`, by two binary searches.
pub fn count_between<T>(
    items: &[T],
    at: impl Fn(&T) -> DateTime<Utc>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> usize {
    let (lo, hi) = bounds(items, &at, from, to);
    hi - lo
}

/// Index range of the time-sorted `items` that lie in `[from, to)`.
pub fn bounds<T>(
    items: &[T],
    at: impl Fn(&T) -> DateTime<Utc>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> (usize, usize) {
    let lo = items.partition_point(|x| at(x) < from);
    let hi = lo + items[lo..].partition_point(|x| at(x) < to);
    (lo, hi)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::{America::Santiago, Europe::Paris};

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn paris_midnight_is_utc_minus_one_in_winter_and_two_in_summer() {
        assert_eq!(
            local_midnight(Paris, d("2026-01-15")),
            utc("2026-01-14T23:00:00Z")
        );
        assert_eq!(
            local_midnight(Paris, d("2026-07-15")),
            utc("2026-07-14T22:00:00Z")
        );
    }

    #[test]
    fn a_midnight_skipped_by_dst_begins_the_day_at_the_jump() {
        // Chile moved its clocks from 00:00 to 01:00 on 2024-09-08 (UTC−4 → UTC−3).
        assert_eq!(
            local_midnight(Santiago, d("2024-09-08")),
            utc("2024-09-08T04:00:00Z")
        );
    }

    #[test]
    fn a_skipped_time_is_read_with_the_offset_before_the_jump() {
        // Paris, 29 March 2026: 02:00 CET becomes 03:00 CEST; 02:30 does not exist.
        let naive = d("2026-03-29").and_hms_opt(2, 30, 0).unwrap();
        assert_eq!(local_instant(Paris, naive), utc("2026-03-29T01:30:00Z"));
    }

    #[test]
    fn a_repeated_time_is_its_first_occurrence() {
        // Paris, 25 October 2026: 03:00 CEST becomes 02:00 CET; 02:30 happens twice.
        let naive = d("2026-10-25").and_hms_opt(2, 30, 0).unwrap();
        assert_eq!(local_instant(Paris, naive), utc("2026-10-25T00:30:00Z"));
    }

    #[test]
    fn counting_is_half_open() {
        let times = [
            utc("2026-01-01T00:00:00Z"),
            utc("2026-01-02T00:00:00Z"),
            utc("2026-01-03T00:00:00Z"),
        ];
        let n = count_between(
            &times,
            |t| *t,
            utc("2026-01-01T00:00:00Z"),
            utc("2026-01-03T00:00:00Z"),
        );
        assert_eq!(n, 2);
    }
}
