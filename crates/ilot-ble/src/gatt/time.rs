//! Date Time (0x2A08) and Current Time (0x2A2B).
//!
//! A Date Time is decoded field by field as sent, whatever the values: a meter with month 13 or
//! 25 o'clock still sent a well-formed frame. Turning it into a calendar time is a separate,
//! fallible step ([`DateTime::naive`]) whose error names the field, so the download can flag the
//! record instead of guessing a time. The values are the device's own wall clock, with no zone.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use thiserror::Error;

use super::Reader;
use crate::error::DecodeError;

/// Date Time as sent: year 1582–9999 (0 = unknown), month 1–12 (0 = unknown), day 1–31
/// (0 = unknown), hours 0–23, minutes 0–59, seconds 0–59.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DateTime {
    pub year: u16,
    pub month: u8,
    pub day: u8,
    pub hours: u8,
    pub minutes: u8,
    pub seconds: u8,
}

/// Why a Date Time is not a calendar time.
#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
pub enum TimeFieldError {
    #[error("the device does not know the {field} (sent 0)")]
    Unknown { field: &'static str },
    #[error("{field} {value} is out of range {min}–{max}")]
    OutOfRange {
        field: &'static str,
        value: u16,
        min: u16,
        max: u16,
    },
    #[error("{year:04}-{month:02}-{day:02} is not a calendar date")]
    NoSuchDate { year: u16, month: u8, day: u8 },
}

impl DateTime {
    pub const LEN: usize = 7;

    pub(crate) fn read(r: &mut Reader<'_>, field: &'static str) -> Result<Self, DecodeError> {
        let b = r.bytes(field, Self::LEN)?;
        Ok(Self {
            year: u16::from_le_bytes([b[0], b[1]]),
            month: b[2],
            day: b[3],
            hours: b[4],
            minutes: b[5],
            seconds: b[6],
        })
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new("Date Time (0x2A08)", bytes);
        let t = Self::read(&mut r, "date time")?;
        r.finish()?;
        Ok(t)
    }

    pub fn encode_into(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.year.to_le_bytes());
        out.extend_from_slice(&[self.month, self.day, self.hours, self.minutes, self.seconds]);
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(Self::LEN);
        self.encode_into(&mut v);
        v
    }

    pub fn from_naive(t: NaiveDateTime) -> Self {
        use chrono::{Datelike, Timelike};
        Self {
            year: u16::try_from(t.year()).unwrap_or(0),
            month: t.month() as u8,
            day: t.day() as u8,
            hours: t.hour() as u8,
            minutes: t.minute() as u8,
            seconds: t.second() as u8,
        }
    }

    /// The calendar time this names, or which field makes it none.
    pub fn naive(&self) -> Result<NaiveDateTime, TimeFieldError> {
        let check = |field, value: u16, min, max| {
            if value == 0 && min > 0 {
                Err(TimeFieldError::Unknown { field })
            } else if !(min..=max).contains(&value) {
                Err(TimeFieldError::OutOfRange {
                    field,
                    value,
                    min,
                    max,
                })
            } else {
                Ok(())
            }
        };
        check("year", self.year, 1582, 9999)?;
        check("month", u16::from(self.month), 1, 12)?;
        check("day", u16::from(self.day), 1, 31)?;
        check("hours", u16::from(self.hours), 0, 23)?;
        check("minutes", u16::from(self.minutes), 0, 59)?;
        check("seconds", u16::from(self.seconds), 0, 59)?;
        let date = NaiveDate::from_ymd_opt(
            i32::from(self.year),
            u32::from(self.month),
            u32::from(self.day),
        )
        .ok_or(TimeFieldError::NoSuchDate {
            year: self.year,
            month: self.month,
            day: self.day,
        })?;
        let time = NaiveTime::from_hms_opt(
            u32::from(self.hours),
            u32::from(self.minutes),
            u32::from(self.seconds),
        )
        .ok_or(TimeFieldError::OutOfRange {
            field: "time",
            value: u16::from(self.hours),
            min: 0,
            max: 23,
        })?;
        Ok(NaiveDateTime::new(date, time))
    }
}

/// Day of Week (0x2A09): 1 = Monday … 7 = Sunday, 0 = unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayOfWeek {
    Unknown,
    Day(chrono::Weekday),
    Reserved(u8),
}

impl DayOfWeek {
    pub fn from_code(v: u8) -> Self {
        use chrono::Weekday::*;
        match v {
            0 => Self::Unknown,
            1..=7 => Self::Day([Mon, Tue, Wed, Thu, Fri, Sat, Sun][usize::from(v - 1)]),
            x => Self::Reserved(x),
        }
    }
}

/// Current Time (0x2A2B): Exact Time 256 (Date Time, Day of Week, Fractions256) and the Adjust
/// Reason bits (0 manual update, 1 external reference, 2 time zone change, 3 DST change).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CurrentTime {
    pub date_time: DateTime,
    pub day_of_week: u8,
    pub fractions256: u8,
    pub adjust_reason: u8,
}

impl CurrentTime {
    pub const LEN: usize = 10;

    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new("Current Time (0x2A2B)", bytes);
        let date_time = DateTime::read(&mut r, "date time")?;
        let day_of_week = r.u8("day of week")?;
        let fractions256 = r.u8("fractions256")?;
        let adjust_reason = r.u8("adjust reason")?;
        r.finish()?;
        Ok(Self {
            date_time,
            day_of_week,
            fractions256,
            adjust_reason,
        })
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut v = self.date_time.encode();
        v.extend_from_slice(&[self.day_of_week, self.fractions256, self.adjust_reason]);
        v
    }

    pub fn day(&self) -> DayOfWeek {
        DayOfWeek::from_code(self.day_of_week)
    }

    /// Names of the adjust-reason bits that are set.
    pub fn adjust_reasons(&self) -> Vec<&'static str> {
        const NAMES: [&str; 4] = [
            "manual time update",
            "external reference time update",
            "change of time zone",
            "change of DST",
        ];
        (0..4)
            .filter(|b| self.adjust_reason & (1 << b) != 0)
            .map(|b| NAMES[b])
            .collect()
    }
}
