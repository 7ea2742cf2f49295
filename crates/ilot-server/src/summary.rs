//! Per-patient daily glucose summaries, kept at ingest so that the triage list reads `days + 14`
//! small rows per patient instead of every reading (`ilot_rules::metrics::summary` holds what a
//! row is and how rows give the metrics).
//!
//! **The day boundary** is the patient's local day, in the time zone the server holds for the
//! patient (`patients.tz`, which every patient has; the same local days as observance's 30-day
//! periods): a reading belongs to the local date `d` with `local_midnight(d) <= at <
//! local_midnight(d + 1)` (`ilot_rules::observance::local_midnight`, so a 23- or 25-hour DST day
//! is one day). A row holds the latest, not deleted version of every glucose entry of that day;
//! each ingest recomputes, in its own transaction, the rows of every day one of its new entry
//! versions touches (the new version's day and the days of its earlier versions, so a correction
//! that moves a reading to another day or a deletion keeps both days exact).

use std::collections::BTreeSet;

use chrono::{DateTime, Days, NaiveDate, Utc};
use chrono_tz::Tz;
use ilot_domain::Entry;
use ilot_rules::metrics::summary::Summary;
use ilot_rules::observance::local_midnight;

use crate::error::{Result, ServerError};

/// The patient's local day of `at` (see the module doc).
pub fn day_of(tz: Tz, at: DateTime<Utc>) -> NaiveDate {
    let d = at.with_timezone(&tz).date_naive();
    match (d.succ_opt(), d.pred_opt()) {
        (Some(next), _) if local_midnight(tz, next) <= at => next,
        (_, Some(prev)) if local_midnight(tz, d) > at => prev,
        _ => d,
    }
}

/// `[start, end)` of the local day `d`.
pub fn bounds(tz: Tz, d: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
    (
        local_midnight(tz, d),
        local_midnight(tz, d.checked_add_days(Days::new(1)).unwrap_or(d)),
    )
}

/// The days to recompute for these times (entry versions' times).
pub fn days_of(tz: Tz, times: impl IntoIterator<Item = DateTime<Utc>>) -> BTreeSet<NaiveDate> {
    times.into_iter().map(|t| day_of(tz, t)).collect()
}

/// Whether a batch may change the triage's cached observance (as of the end of yesterday): an
/// entry dated before today's local midnight, or a correction (whose earlier version may be).
pub fn changes_past_days<'a>(
    tz: Tz,
    now: DateTime<Utc>,
    items: impl IntoIterator<Item = &'a ilot_wire::WireEntry>,
) -> bool {
    let midnight = local_midnight(tz, day_of(tz, now));
    items
        .into_iter()
        .any(|it| it.version > 1 || it.entry.at_utc() < midnight)
}

/// The summary of a day's entries (latest, not deleted versions; other kinds are ignored).
pub fn summary_of<'a>(entries: impl IntoIterator<Item = &'a Entry>) -> Summary {
    let data = ilot_rules::Loaded::from_entries(
        entries.into_iter().enumerate().map(|(i, e)| (i as u64, e)),
    );
    Summary::of(&data.glucose)
}

/// A stored row's integer columns, in the order of [`COLUMNS`].
pub fn ints(s: &Summary) -> [i64; 14] {
    [
        s.n,
        s.lo,
        s.hi,
        s.below_54,
        s.in_54_69,
        s.in_70_180,
        s.in_181_250,
        s.above_250,
        s.below_63,
        s.in_63_140,
        s.above_140,
        s.numeric,
        s.capillary,
        s.cgm_distinct,
    ]
    .map(|v| i64::try_from(v).unwrap_or(i64::MAX))
}

/// The columns of a row after its key, in the order of [`ints`], then the others.
pub const COLUMNS: &str = "n, lo, hi, below_54, in_54_69, in_70_180, in_181_250, above_250, below_63, in_63_140, above_140, n_numeric, capillary, cgm_distinct, mean, m2, cgm_first_us, cgm_last_us, spacings";

/// The spacing histogram as stored: `µs:count` pairs joined by `,`.
pub fn spacings_text(s: &Summary) -> String {
    let mut out = String::new();
    for (d, k) in &s.spacings {
        if !out.is_empty() {
            out.push(',');
        }
        out.push_str(&format!("{d}:{k}"));
    }
    out
}

/// A summary from its stored columns.
pub fn from_columns(
    ints: [i64; 14],
    mean: f64,
    m2: f64,
    first: Option<i64>,
    last: Option<i64>,
    spacings: &str,
) -> Result<Summary> {
    let bad = |e: String| ServerError::Storage(format!("stored daily summary is invalid: {e}"));
    let u = |v: i64| u64::try_from(v).map_err(|e| bad(e.to_string()));
    let mut s = Summary {
        n: u(ints[0])?,
        lo: u(ints[1])?,
        hi: u(ints[2])?,
        below_54: u(ints[3])?,
        in_54_69: u(ints[4])?,
        in_70_180: u(ints[5])?,
        in_181_250: u(ints[6])?,
        above_250: u(ints[7])?,
        below_63: u(ints[8])?,
        in_63_140: u(ints[9])?,
        above_140: u(ints[10])?,
        numeric: u(ints[11])?,
        capillary: u(ints[12])?,
        cgm_distinct: u(ints[13])?,
        mean,
        m2,
        cgm_first_us: first,
        cgm_last_us: last,
        spacings: Default::default(),
    };
    for pair in spacings.split(',').filter(|p| !p.is_empty()) {
        let (d, k) = pair
            .split_once(':')
            .ok_or_else(|| bad(format!("spacing {pair:?}")))?;
        let d: i64 = d
            .parse()
            .map_err(|e| bad(format!("spacing {pair:?}: {e}")))?;
        let k: u64 = k
            .parse()
            .map_err(|e| bad(format!("spacing {pair:?}: {e}")))?;
        s.spacings.insert(d, k);
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Europe::Paris;

    #[test]
    fn a_reading_belongs_to_its_local_day_even_across_dst() {
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        // 23:30 UTC on 14 January is 00:30 on the 15th in Paris.
        assert_eq!(day_of(Paris, at("2026-01-14T23:30:00Z")), d("2026-01-15"));
        assert_eq!(day_of(Paris, at("2026-01-14T22:59:59Z")), d("2026-01-14"));
        assert_eq!(
            day_of(chrono_tz::UTC, at("2026-01-14T23:30:00Z")),
            d("2026-01-14")
        );
        // The 23-hour day of the spring change.
        let (a, b) = bounds(Paris, d("2026-03-29"));
        assert_eq!((b - a).num_hours(), 23);
        assert_eq!(
            day_of(Paris, b - chrono::TimeDelta::milliseconds(1)),
            d("2026-03-29")
        );
        assert_eq!(day_of(Paris, b), d("2026-03-30"));
    }

    #[test]
    fn a_row_round_trips() {
        let mut s = Summary {
            n: 5,
            numeric: 4,
            mean: 123.25,
            m2: 17.5,
            cgm_first_us: Some(1),
            cgm_last_us: Some(900_000_001),
            ..Summary::default()
        };
        s.spacings.insert(300_000_000, 2);
        s.spacings.insert(301_000_000, 1);
        let back = from_columns(
            ints(&s),
            s.mean,
            s.m2,
            s.cgm_first_us,
            s.cgm_last_us,
            &spacings_text(&s),
        )
        .unwrap();
        assert_eq!(back, s);
        assert!(from_columns(ints(&s), 0.0, 0.0, None, None, "12").is_err());
    }
}
