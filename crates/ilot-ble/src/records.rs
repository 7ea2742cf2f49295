//! One device record → the diary entries it becomes (pure). Every record number lands as at
//! least one entry under the key (device, record number), so the per-device cursor can never
//! step over a record that is not accounted for:
//!
//! - a glucose reading, plus carbohydrates and HbA1c from its context record, all at the
//!   record's placed time, and a note when its time was corrected or its context holds more than
//!   the domain has fields for;
//! - or, when the record gives no reading ([`RecordIssue`]), only a note saying why and what the
//!   device sent — at the record's time when it has one, else at the download time.

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use ilot_domain::{DeviceId, Entry, EntryKind, Note, Source, SourceKind};

use crate::clock::{ClockModel, TimeFlag, place};
use crate::gatt::{
    CgmMeasurement, GlucoseMeasurement, MeasurementContext, RecordIssue, cgm_reading, meter_reading,
};

/// What one record became.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordEntries {
    pub number: u32,
    pub entries: Vec<Entry>,
    /// Why no reading was stored, when none was.
    pub issue: Option<RecordIssue>,
    pub flag: Option<TimeFlag>,
}

impl RecordEntries {
    /// Moves the record to another record number (a sequence-number epoch learnt later in the
    /// transfer); the entries' keys follow.
    pub fn renumber(&mut self, number: u32) {
        self.number = number;
        for e in &mut self.entries {
            e.source.record_number = Some(number);
        }
    }
}

/// Where and how records of one download are placed.
#[derive(Debug, Clone)]
pub struct Placing<'a> {
    pub device: &'a DeviceId,
    pub kind: SourceKind,
    pub model: ClockModel,
    pub tz: Tz,
    pub now: DateTime<Utc>,
}

impl Placing<'_> {
    fn source(&self, number: u32) -> Source {
        Source::device(self.kind, self.device.clone(), number)
    }

    fn label(&self) -> &'static str {
        match self.kind {
            SourceKind::Cgm => "CGM record",
            _ => "meter record",
        }
    }

    /// `at` is known by construction to be no later than `now` + the allowed skew ([`place`]
    /// refuses later times), which is the only check `Entry::new` makes.
    fn entry(
        &self,
        at: chrono::DateTime<chrono::FixedOffset>,
        number: u32,
        kind: EntryKind,
    ) -> Entry {
        Entry {
            at,
            source: self.source(number),
            kind,
        }
    }

    fn note(
        &self,
        at: chrono::DateTime<chrono::FixedOffset>,
        number: u32,
        parts: &[String],
    ) -> Option<Entry> {
        // A meter's note names its own 16-bit sequence, the number the patient finds on the
        // device; the epoch folded above it (`crate::seq`) is ours.
        let shown = match self.kind {
            SourceKind::Cgm => number,
            _ => number & 0xFFFF,
        };
        let text = format!("{} {shown}: {}", self.label(), parts.join("; "));
        Note::new(text)
            .ok()
            .map(|n| self.entry(at, number, EntryKind::Note(n)))
    }

    fn rejected(
        &self,
        number: u32,
        wall: Option<NaiveDateTime>,
        issue: RecordIssue,
        sent: String,
    ) -> RecordEntries {
        let (at, flag) = match wall.map(|w| place(self.model, w, self.tz, self.now)) {
            Some(Ok(p)) => (p.at, p.flag),
            _ => (self.now.with_timezone(&self.tz).fixed_offset(), None),
        };
        let mut parts = vec![
            format!("no glucose stored: {issue}"),
            format!("the device sent {sent}"),
        ];
        if let (Some(f), Some(w)) = (flag, wall) {
            parts.push(f.describe(w));
        }
        RecordEntries {
            number,
            entries: self.note(at, number, &parts).into_iter().collect(),
            issue: Some(issue),
            flag,
        }
    }

    /// A GLS record and its context record, stored under its sequence number.
    pub fn meter(&self, m: &GlucoseMeasurement, ctx: Option<&MeasurementContext>) -> RecordEntries {
        self.meter_numbered(u32::from(m.sequence), m, ctx)
    }

    /// A GLS record stored under `number` (its sequence with the wrap epoch, `crate::seq`).
    pub fn meter_numbered(
        &self,
        number: u32,
        m: &GlucoseMeasurement,
        ctx: Option<&MeasurementContext>,
    ) -> RecordEntries {
        let sent = describe_meter(m);
        let wall = match m.time() {
            Ok(w) => w,
            Err(e) => return self.rejected(number, None, RecordIssue::InvalidTime(e), sent),
        };
        let placed = match place(self.model, wall, self.tz, self.now) {
            Ok(p) => p,
            Err(issue) => return self.rejected(number, None, issue, sent),
        };
        let reading = match meter_reading(m, ctx) {
            Ok(r) => r,
            Err(issue) => return self.rejected(number, Some(wall), issue, sent),
        };
        let mut entries = vec![self.entry(placed.at, number, EntryKind::Glucose(reading.reading))];
        entries.extend(
            reading
                .extras
                .into_iter()
                .map(|k| self.entry(placed.at, number, k)),
        );
        let mut parts = Vec::new();
        if let Some(f) = placed.flag {
            parts.push(f.describe(wall));
        }
        parts.extend(reading.remarks);
        if m.context_follows && ctx.is_none() {
            parts.push("the meter announced a context record that never came".into());
        }
        if !parts.is_empty() {
            entries.extend(self.note(placed.at, number, &parts));
        }
        RecordEntries {
            number,
            entries,
            issue: None,
            flag: placed.flag,
        }
    }

    /// A CGM record of the session that started at wall time `start` (record number
    /// `base_minutes + offset`).
    pub fn cgm(
        &self,
        m: &CgmMeasurement,
        start: Result<NaiveDateTime, RecordIssue>,
        base_minutes: u32,
    ) -> RecordEntries {
        let number = base_minutes + u32::from(m.time_offset_min);
        let sent = format!(
            "{} mg/dL at +{} min{}",
            m.glucose,
            m.time_offset_min,
            status_text(&m.status().names())
        );
        let wall = match start {
            Ok(s) => s + TimeDelta::minutes(i64::from(m.time_offset_min)),
            Err(issue) => return self.rejected(number, None, issue, sent),
        };
        let placed = match place(self.model, wall, self.tz, self.now) {
            Ok(p) => p,
            Err(issue) => return self.rejected(number, None, issue, sent),
        };
        let reading = match cgm_reading(m) {
            Ok(r) => r,
            Err(issue) => return self.rejected(number, Some(wall), issue, sent),
        };
        let mut entries = vec![self.entry(placed.at, number, EntryKind::Glucose(reading))];
        if let Some(f) = placed.flag {
            entries.extend(self.note(placed.at, number, &[f.describe(wall)]));
        }
        RecordEntries {
            number,
            entries,
            issue: None,
            flag: placed.flag,
        }
    }
}

fn status_text(names: &[String]) -> String {
    if names.is_empty() {
        String::new()
    } else {
        format!(", status {}", names.join(", "))
    }
}

fn describe_meter(m: &GlucoseMeasurement) -> String {
    let value = match &m.concentration {
        Some(c) => match c.mg_dl() {
            Some(mg) => format!("{} {} ({mg} mg/dL)", c.value, c.unit.symbol()),
            None => format!("{} {}", c.value, c.unit.symbol()),
        },
        None => "no value".into(),
    };
    let b = m.base_time;
    format!(
        "{value} at {:04}-{:02}-{:02} {:02}:{:02}:{:02}{}{}",
        b.year,
        b.month,
        b.day,
        b.hours,
        b.minutes,
        b.seconds,
        m.time_offset_min
            .filter(|o| *o != 0)
            .map_or(String::new(), |o| format!(" {o:+} min")),
        status_text(&m.status.map(|s| s.names()).unwrap_or_default())
    )
}

#[cfg(test)]
mod tests;
