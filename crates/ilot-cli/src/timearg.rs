//! Times as people type them on the command line, read in the patient's time zone.

use anyhow::{Context, Result, anyhow, bail};
use chrono::{
    DateTime, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc,
};
use chrono_tz::Tz;

/// Reads `2026-03-01T08:00:00+01:00` (with offset), `2026-03-01 08:00` (local in `tz`),
/// `2026-03-01` (local midnight) or `08:00` (today, local).
pub fn parse_at(text: &str, tz: Tz, now: DateTime<Utc>) -> Result<DateTime<FixedOffset>> {
    let t = text.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Ok(dt);
    }
    for fmt in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(t, fmt) {
            return local(naive, tz);
        }
    }
    if let Ok(date) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return local(date.and_time(NaiveTime::MIN), tz);
    }
    for fmt in ["%H:%M", "%H:%M:%S", "%Hh%M"] {
        if let Ok(time) = NaiveTime::parse_from_str(t, fmt) {
            let today = now.with_timezone(&tz).date_naive();
            return local(today.and_time(time), tz);
        }
    }
    bail!(
        "cannot read the time {t:?}: use 2026-03-01T08:00:00+01:00, 2026-03-01 08:00, 2026-03-01 or 08:00"
    )
}

/// A local wall-clock time in `tz`. In the autumn DST overlap the earlier instant is taken (the
/// first pass through the repeated hour); a time inside the spring gap does not exist and is
/// refused rather than shifted.
pub fn local(naive: NaiveDateTime, tz: Tz) -> Result<DateTime<FixedOffset>> {
    match tz.from_local_datetime(&naive) {
        LocalResult::Single(dt) => Ok(dt.fixed_offset()),
        LocalResult::Ambiguous(first, _) => Ok(first.fixed_offset()),
        LocalResult::None => Err(anyhow!(
            "{naive} does not exist in {tz} (the clocks jumped forward that night); check the time"
        )),
    }
}

pub fn parse_tz(name: &str) -> Result<Tz> {
    name.parse::<Tz>()
        .map_err(|_| anyhow!("unknown time zone {name:?}"))
        .context("use an IANA name such as Europe/Paris or America/Martinique")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Europe::Paris;

    fn now() -> DateTime<Utc> {
        "2026-03-10T12:00:00Z".parse().unwrap()
    }

    #[test]
    fn reads_every_form() {
        assert_eq!(
            parse_at("2026-03-01T08:00:00+01:00", Paris, now())
                .unwrap()
                .to_rfc3339(),
            "2026-03-01T08:00:00+01:00"
        );
        assert_eq!(
            parse_at("2026-07-01 08:00", Paris, now())
                .unwrap()
                .to_rfc3339(),
            "2026-07-01T08:00:00+02:00"
        );
        assert_eq!(
            parse_at("08:30", Paris, now()).unwrap().to_rfc3339(),
            "2026-03-10T08:30:00+01:00"
        );
        assert_eq!(
            parse_at("2026-03-02", Paris, now()).unwrap().to_rfc3339(),
            "2026-03-02T00:00:00+01:00"
        );
    }

    #[test]
    fn dst_gap_is_refused_and_overlap_takes_the_first_pass() {
        let e = parse_at("2026-03-29 02:30", Paris, now())
            .unwrap_err()
            .to_string();
        assert!(e.contains("does not exist"), "{e}");
        let t = parse_at("2026-10-25 02:30", Paris, now()).unwrap();
        assert_eq!(t.to_rfc3339(), "2026-10-25T02:30:00+02:00");
    }

    #[test]
    fn garbage_is_explained() {
        let e = parse_at("yesterday", Paris, now()).unwrap_err().to_string();
        assert!(e.contains("cannot read the time"), "{e}");
    }
}
