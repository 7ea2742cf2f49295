//! Expected instants are worked out by hand from the Europe/Paris rules: CET = UTC+1,
//! CEST = UTC+2, changes on 2026-03-29 02:00 → 03:00 and 2026-10-25 03:00 → 02:00.

use super::*;
use chrono_tz::Europe::Paris;

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn wall(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
}

fn at(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap()
}

const T: TimeDelta = DEFAULT_SKEW_THRESHOLD;

#[test]
fn a_meter_that_ignores_dst_is_right_in_winter_and_corrected_in_summer() {
    // Summer, 12:00 CEST; the meter (set in winter, no DST) says 11:00.
    let now = utc("2026-07-15T10:00:00Z");
    let m = ClockModel::measure(Some(wall("2026-07-15 11:00:10")), now, Paris, T);
    assert_eq!(
        m,
        ClockModel::Offset {
            device_minus_utc: TimeDelta::hours(1),
            nominal: None,
            skew: TimeDelta::seconds(-3590)
        }
    );
    let summer = place(m, wall("2026-07-14 08:00:00"), Paris, now).unwrap();
    assert_eq!(summer.at, at("2026-07-14T09:00:00+02:00"));
    assert_eq!(
        summer.flag,
        Some(TimeFlag::Corrected {
            by: TimeDelta::hours(1)
        })
    );
    let winter = place(m, wall("2026-01-10 08:00:00"), Paris, now).unwrap();
    assert_eq!(winter.at, at("2026-01-10T08:00:00+01:00"));
    assert_eq!(winter.flag, None);
    // Across the spring change: 01:30 meter time on the 29th is 01:30 CET, 04:00 is 05:00 CEST.
    assert_eq!(
        place(m, wall("2026-03-29 01:30:00"), Paris, now)
            .unwrap()
            .at,
        at("2026-03-29T01:30:00+01:00")
    );
    assert_eq!(
        place(m, wall("2026-03-29 04:00:00"), Paris, now)
            .unwrap()
            .at,
        at("2026-03-29T05:00:00+02:00")
    );
}

#[test]
fn a_clock_hours_off_is_shifted_back() {
    let now = utc("2026-07-15T10:00:00Z");
    // Local 12:00:00; the meter says 15:02:20 → device − UTC = 5 h 02 min 20 s → 5 h 02 min.
    let m = ClockModel::measure(Some(wall("2026-07-15 15:02:20")), now, Paris, T);
    assert_eq!(m.skew(), Some(TimeDelta::seconds(3 * 3600 + 140)));
    let p = place(m, wall("2026-07-15 10:00:00"), Paris, now).unwrap();
    assert_eq!(p.at, at("2026-07-15T06:58:00+02:00"));
    assert_eq!(
        p.flag,
        Some(TimeFlag::Corrected {
            by: -TimeDelta::minutes(182)
        })
    );
    assert_eq!(
        p.flag.unwrap().describe(wall("2026-07-15 10:00:00")),
        "time corrected by −3 h 02 min (the device clock was off; it said 2026-07-15 10:00:00)"
    );
}

#[test]
fn a_right_clock_keeps_local_wall_times_with_dst_edges_flagged() {
    let now = utc("2026-11-02T11:00:00Z");
    let m = ClockModel::measure(Some(wall("2026-11-02 12:03:00")), now, Paris, T);
    assert_eq!(m, ClockModel::LocalWall { checked: true });
    let amb = place(m, wall("2026-10-25 02:30:00"), Paris, now).unwrap();
    assert_eq!(
        amb,
        Placement {
            at: at("2026-10-25T02:30:00+02:00"),
            flag: Some(TimeFlag::Ambiguous)
        }
    );
    let gap = place(m, wall("2026-03-29 02:30:00"), Paris, now).unwrap();
    assert_eq!(
        gap,
        Placement {
            at: at("2026-03-29T03:30:00+02:00"),
            flag: Some(TimeFlag::Nonexistent)
        }
    );
    let plain = place(m, wall("2026-11-01 08:00:00"), Paris, now).unwrap();
    assert_eq!(
        plain,
        Placement {
            at: at("2026-11-01T08:00:00+01:00"),
            flag: None
        }
    );
}

#[test]
fn implausible_times_are_refused() {
    let now = utc("2026-11-02T11:00:00Z");
    let m = ClockModel::measure(None, now, Paris, T);
    assert!(matches!(
        place(m, wall("2026-11-02 12:06:00"), Paris, now),
        Err(RecordIssue::ImplausibleTime(_))
    ));
    assert!(place(m, wall("2026-11-02 12:04:00"), Paris, now).is_ok());
    assert!(matches!(
        place(m, wall("1999-12-31 23:00:00"), Paris, now),
        Err(RecordIssue::ImplausibleTime(_))
    ));
}

#[test]
fn a_cgm_start_time_with_its_zone_is_checked_against_the_host() {
    let now = utc("2026-07-15T10:00:00Z");
    // The sensor believes UTC is 09:50 (10 min slow) and its start time was written at UTC+2.
    let m = ClockModel::known_offset(wall("2026-07-15 09:50:00"), TimeDelta::hours(2), now, T);
    assert_eq!(
        m,
        ClockModel::Offset {
            device_minus_utc: TimeDelta::minutes(110),
            nominal: Some(TimeDelta::hours(2)),
            skew: TimeDelta::minutes(-10)
        }
    );
    let right = ClockModel::known_offset(wall("2026-07-15 10:01:00"), TimeDelta::hours(2), now, T);
    assert_eq!(
        right,
        ClockModel::Offset {
            device_minus_utc: TimeDelta::hours(2),
            nominal: Some(TimeDelta::hours(2)),
            skew: TimeDelta::minutes(1)
        }
    );
    // A record at sensor wall 11:00 (UTC+2 as declared) is 09:00 UTC: unflagged when the clock
    // is right, 10 min later and flagged when it runs 10 min slow.
    let ok = place(right, wall("2026-07-15 11:00:00"), Paris, now).unwrap();
    assert_eq!(
        ok,
        Placement {
            at: at("2026-07-15T11:00:00+02:00"),
            flag: None
        }
    );
    let fixed = place(m, wall("2026-07-15 11:00:00"), Paris, now).unwrap();
    assert_eq!(
        fixed,
        Placement {
            at: at("2026-07-15T11:10:00+02:00"),
            flag: Some(TimeFlag::Corrected {
                by: TimeDelta::minutes(10)
            })
        }
    );
}

#[test]
fn durations_read_naturally() {
    assert_eq!(signed_duration(TimeDelta::minutes(45)), "+45 min");
    assert_eq!(signed_duration(TimeDelta::hours(-1)), "−1 h");
}
