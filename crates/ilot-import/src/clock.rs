//! Times as exports write them: day-first or month-first dates (inferred from the whole file,
//! never guessed per row), with or without AM/PM, local to the patient's zone.
//!
//! Local times are resolved per stream (one record type of one device), in the stream's time
//! order (exports are oldest-first or newest-first; the direction is read from the stream's
//! first and last times): in the autumn overlap, a time that would fall before the instant of
//! the stream's previous reading is the second pass through the repeated hour, so a CGM file
//! crossing the change keeps all its readings. A time in the spring gap does not exist and its
//! row is refused.

use std::fmt;
use std::str::FromStr;

use chrono::{
    DateTime, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Timelike,
    Utc,
};
use chrono_tz::Tz;
use serde::Serialize;

use crate::why::{Made, Why};
use crate::{ImportError, Result, err};
use serde_json::{Value, json};

/// How a file writes its dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DateOrder {
    /// 25-12-2026
    DayFirst,
    /// 12-25-2026
    MonthFirst,
    /// 2026-12-25
    YearFirst,
}

impl FromStr for DateOrder {
    type Err = ImportError;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "dmy" | "day-first" => Ok(Self::DayFirst),
            "mdy" | "month-first" => Ok(Self::MonthFirst),
            "ymd" | "year-first" => Ok(Self::YearFirst),
            _ => err(format!(
                "unknown date order {s:?}: use dmy (day first) or mdy (month first)"
            )),
        }
    }
}

impl fmt::Display for DateOrder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::DayFirst => "day-first",
            Self::MonthFirst => "month-first",
            Self::YearFirst => "year-first",
        })
    }
}

/// A timestamp split into its numbers, before the date order is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stamp {
    date: [u32; 3],
    year_first: bool,
    hour: u32,
    minute: u32,
    second: u32,
    /// `Some(true)` for PM, `Some(false)` for AM.
    pm: Option<bool>,
}

impl Stamp {
    /// `25-12-2026 08:15`, `12/25/2026 8:15 PM`, `2026/12/25 08:15:00`, `25.12.2026 08:15:00`;
    /// a trailing `UTC` (LibreView's creation line) is ignored.
    pub fn split(text: &str) -> Option<Stamp> {
        let mut t = text.trim();
        if let Some(rest) = t.strip_suffix("UTC") {
            t = rest.trim_end();
        }
        let tail = t
            .len()
            .checked_sub(2)
            .and_then(|i| t.get(i..))
            .unwrap_or("");
        let pm = if tail.eq_ignore_ascii_case("PM") {
            Some(true)
        } else if tail.eq_ignore_ascii_case("AM") {
            Some(false)
        } else {
            None
        };
        if pm.is_some() {
            t = t[..t.len() - 2].trim_end();
        }
        let (mut nums, mut lens, mut n, mut in_num) = ([0u32; 6], [0u8; 6], 0usize, false);
        for b in t.bytes() {
            if b.is_ascii_digit() {
                if !in_num {
                    if n == 6 {
                        return None;
                    }
                    n += 1;
                    in_num = true;
                }
                nums[n - 1] = nums[n - 1]
                    .checked_mul(10)?
                    .checked_add(u32::from(b - b'0'))?;
                lens[n - 1] += 1;
            } else if b.is_ascii_alphabetic() || !b.is_ascii() {
                return None;
            } else {
                in_num = false;
            }
        }
        if !(5..=6).contains(&n) {
            return None;
        }
        Some(Stamp {
            date: [nums[0], nums[1], nums[2]],
            year_first: lens[0] == 4,
            hour: nums[3],
            minute: nums[4],
            second: nums[5],
            pm,
        })
    }

    fn evidence(&self) -> Option<DateOrder> {
        if self.year_first {
            return Some(DateOrder::YearFirst);
        }
        match (self.date[0] > 12, self.date[1] > 12) {
            (true, false) => Some(DateOrder::DayFirst),
            (false, true) => Some(DateOrder::MonthFirst),
            _ => None,
        }
    }

    /// The wall-clock time, once the order is known.
    pub fn naive(&self, order: DateOrder) -> Made<NaiveDateTime> {
        let [a, b, c] = self.date;
        let (y, m, d) = match (self.year_first, order) {
            (true, _) | (false, DateOrder::YearFirst) => (a, b, c),
            (false, DateOrder::DayFirst) => (c, b, a),
            (false, DateOrder::MonthFirst) => (c, a, b),
        };
        let y = if y < 100 { y + 2000 } else { y };
        let hour = match self.pm {
            None => self.hour,
            Some(_) if !(1..=12).contains(&self.hour) => 99,
            Some(false) => self.hour % 12,
            Some(true) => self.hour % 12 + 12,
        };
        let written = || format!("{y:04}-{m:02}-{d:02} {hour:02}:{:02}", self.minute);
        let date = NaiveDate::from_ymd_opt(y as i32, m, d).ok_or_else(|| {
            Why::new(
                "date-invalid",
                json!({ "value": written() }),
                format!("cannot read the date: there is no day {d} of month {m} in {y}"),
            )
        })?;
        let time = NaiveTime::from_hms_opt(hour, self.minute, self.second).ok_or_else(|| {
            Why::new(
                "date-invalid",
                json!({ "value": written() }),
                "cannot read the date: the time of day is not valid",
            )
        })?;
        Ok(date.and_time(time))
    }
}

/// The date order of a file, from every timestamp in it (with its line): a first number above
/// 12 is a day, a second one above 12 is a day too. `hint` is another date the file writes the
/// same way (the creation line); `given` is what the person said, checked against the file.
pub(crate) fn infer_order(
    stamps: impl IntoIterator<Item = (u64, Stamp)>,
    hint: Option<Stamp>,
    given: Option<DateOrder>,
) -> Result<DateOrder> {
    let mut day_first: Option<u64> = None;
    let mut month_first: Option<u64> = None;
    let mut year_first = true;
    let mut any = false;
    for (line, stamp) in stamps {
        any = true;
        year_first &= stamp.year_first;
        match stamp.evidence() {
            Some(DateOrder::DayFirst) => day_first = day_first.or(Some(line)),
            Some(DateOrder::MonthFirst) => month_first = month_first.or(Some(line)),
            _ => {}
        }
    }
    if any && year_first {
        return Ok(DateOrder::YearFirst);
    }
    let found = match (day_first, month_first) {
        (Some(d), Some(m)) => {
            return err(format!(
                "the dates are written both ways: line {d} starts with a day, line {m} with a \
                 month; the file cannot be read safely"
            ));
        }
        (Some(_), None) => Some(DateOrder::DayFirst),
        (None, Some(_)) => Some(DateOrder::MonthFirst),
        (None, None) => hint.and_then(|s| s.evidence()),
    };
    match (found, given) {
        (Some(f), Some(g)) if f != g => err(format!(
            "--date-order says {g} but the file's dates are {f} (a number above 12 shows it)"
        )),
        (Some(f), _) => Ok(f),
        (None, Some(g)) => Ok(g),
        (None, None) => err(
            "cannot tell whether the dates are day-first or month-first: no day in the file is \
             above 12; give --date-order dmy (25-12-2026) or --date-order mdy (12-25-2026)",
        ),
    }
}

/// When a row happened, as the file says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum When {
    /// Wall-clock time without offset: read in the patient's zone.
    Local(NaiveDateTime),
    /// An instant (UTC or with its offset): shown in the patient's zone.
    Instant(DateTime<Utc>),
    /// A date whose day/month order is read from the whole file first.
    Unordered(Stamp),
}

/// Resolves every row's time. `items` are (stream, time) in file order, streams numbered from
/// 0; the answer is in the same order.
pub(crate) fn resolve(tz: Tz, items: &[(usize, When)]) -> Vec<Made<DateTime<FixedOffset>>> {
    let mut out: Vec<Made<DateTime<FixedOffset>>> = Vec::with_capacity(items.len());
    let mut streams: Vec<Vec<usize>> = Vec::new();
    for (i, (stream, when)) in items.iter().enumerate() {
        out.push(match when {
            When::Instant(at) => Ok(at.with_timezone(&tz).fixed_offset()),
            When::Unordered(_) => Err(Why::new(
                "date-order-unknown",
                Value::Null,
                "the date order of the file is not known",
            )),
            When::Local(_) => {
                if streams.len() <= *stream {
                    streams.resize_with(stream + 1, Vec::new);
                }
                streams[*stream].push(i);
                Err(Why::new("date-order-unknown", Value::Null, String::new()))
            }
        });
    }
    for indexes in streams {
        let naive = |i: usize| match items[i].1 {
            When::Local(n) => n,
            _ => unreachable!("only local times are in a stream"),
        };
        let newest_first = match (indexes.first(), indexes.last()) {
            (Some(&f), Some(&l)) => naive(f) > naive(l),
            _ => false,
        };
        let ordered: Box<dyn Iterator<Item = &usize>> = if newest_first {
            Box::new(indexes.iter().rev())
        } else {
            Box::new(indexes.iter())
        };
        let mut last: Option<DateTime<Utc>> = None;
        for &i in ordered {
            let n = naive(i);
            let at = match tz.from_local_datetime(&n) {
                LocalResult::Single(at) => Ok(at),
                LocalResult::Ambiguous(first, second) => {
                    if last.is_some_and(|l| first.with_timezone(&Utc) < l) {
                        Ok(second)
                    } else {
                        Ok(first)
                    }
                }
                LocalResult::None => {
                    let time = n.format("%Y-%m-%d %H:%M").to_string();
                    Err(Why::new(
                        "time-gap",
                        json!({ "time": time }),
                        format!(
                            "{time} does not exist in {tz} (the clocks jumped forward that night)"
                        ),
                    ))
                }
            };
            if let Ok(at) = &at {
                let utc = at.with_timezone(&Utc);
                last = Some(last.map_or(utc, |l| l.max(utc)));
            }
            out[i] = at.map(|a| a.fixed_offset());
        }
    }
    out
}

/// Whole minutes: the time has no seconds (exports that write `HH:MM`).
pub(crate) fn whole_minute(at: &DateTime<FixedOffset>) -> bool {
    at.second() == 0 && at.nanosecond() == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Europe::Paris;

    fn order(texts: &[&str], hint: Option<&str>, given: Option<DateOrder>) -> Result<DateOrder> {
        infer_order(
            texts
                .iter()
                .enumerate()
                .map(|(i, t)| (i as u64 + 1, Stamp::split(t).unwrap())),
            hint.and_then(Stamp::split),
            given,
        )
    }

    fn n(s: &str) -> When {
        When::Local(NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap())
    }

    #[test]
    fn order_from_the_whole_file() {
        let dmy = ["05-12-2019 16:25", "13-12-2019 10:00"];
        assert_eq!(order(&dmy, None, None).unwrap(), DateOrder::DayFirst);
        let mdy = ["12-05-2019 04:25 PM", "12-13-2019 10:00 AM"];
        assert_eq!(order(&mdy, None, None).unwrap(), DateOrder::MonthFirst);
        let unknown = ["05-12-2019 16:25", "06-12-2019 10:00"];
        let e = order(&unknown, None, None).unwrap_err().to_string();
        assert!(e.contains("cannot tell"), "{e}");
        assert_eq!(
            order(&unknown, Some("13-12-2020 10:23 UTC"), None).unwrap(),
            DateOrder::DayFirst
        );
        assert_eq!(
            order(&unknown, None, Some(DateOrder::MonthFirst)).unwrap(),
            DateOrder::MonthFirst
        );
        let e = order(&dmy, None, Some(DateOrder::MonthFirst))
            .unwrap_err()
            .to_string();
        assert!(e.contains("day-first"), "{e}");
        let both = ["13-12-2019 10:00", "12-13-2019 10:00"];
        let e = order(&both, None, None).unwrap_err().to_string();
        assert!(e.contains("both ways"), "{e}");
        assert_eq!(
            order(&["2021/07/25 09:35:28"], None, None).unwrap(),
            DateOrder::YearFirst
        );
    }

    #[test]
    fn am_pm() {
        let s = Stamp::split("12-05-2019 12:10 AM").unwrap();
        assert_eq!(
            s.naive(DateOrder::MonthFirst).unwrap().to_string(),
            "2019-12-05 00:10:00"
        );
        let s = Stamp::split("12-05-2019 1:10 pm").unwrap();
        assert_eq!(
            s.naive(DateOrder::MonthFirst).unwrap().to_string(),
            "2019-12-05 13:10:00"
        );
        assert!(
            Stamp::split("12-05-2019 13:10 PM")
                .unwrap()
                .naive(DateOrder::MonthFirst)
                .is_err()
        );
        assert!(Stamp::split("soon").is_none());
    }

    #[test]
    fn the_repeated_autumn_hour_is_read_in_file_order() {
        let items: Vec<(usize, When)> = [
            "2026-10-25 01:50",
            "2026-10-25 02:10",
            "2026-10-25 02:50",
            "2026-10-25 02:10",
            "2026-10-25 02:50",
            "2026-10-25 03:10",
        ]
        .iter()
        .map(|s| (0, n(s)))
        .collect();
        let got: Vec<String> = resolve(Paris, &items)
            .into_iter()
            .map(|r| r.unwrap().to_rfc3339())
            .collect();
        assert_eq!(
            got,
            [
                "2026-10-25T01:50:00+02:00",
                "2026-10-25T02:10:00+02:00",
                "2026-10-25T02:50:00+02:00",
                "2026-10-25T02:10:00+01:00",
                "2026-10-25T02:50:00+01:00",
                "2026-10-25T03:10:00+01:00",
            ]
        );
        // Newest first, as CareLink writes: the same instants.
        let mut reversed = items.clone();
        reversed.reverse();
        let mut back: Vec<String> = resolve(Paris, &reversed)
            .into_iter()
            .map(|r| r.unwrap().to_rfc3339())
            .collect();
        back.reverse();
        assert_eq!(back, got);
    }

    #[test]
    fn the_spring_gap_is_refused_per_row() {
        let items = [(0, n("2026-03-29 01:55")), (0, n("2026-03-29 02:30"))];
        let got = resolve(Paris, &items);
        assert!(got[0].is_ok());
        assert!(got[1].as_ref().unwrap_err().text.contains("does not exist"));
    }
}
