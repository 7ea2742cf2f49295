//! Reading the files patients' software exports (pure: bytes in, entries and rejections out; no
//! I/O, no clock — `now` and the zone come in as [`Options`]).
//!
//! [`parse`] detects the format from the content (never from the file name): LibreView
//! (FreeStyle Libre, French or English), Dexcom Clarity, Medtronic CareLink, Nightscout
//! (`entries.csv`, `/api/v1/entries` and `/api/v1/treatments` JSON) and Ilot's simple CSV
//! (`time`, `glucose`/`gl`, optional `id`). Each row becomes diary entries or a [`Rejected`] with
//! its line (or JSON item) number and the reason; rows that hold nothing to store (metadata,
//! alarms, empty notes) are counted in [`Import::skipped`]. CSV is read with the `csv` crate;
//! text that is not UTF-8 is decoded with `encoding_rs` (BOM-declared UTF-16, else Windows-1252).
//!
//! Every entry's source names the format, the device serial and the record type
//! (`libreview:<serial>:scan`), so that two record types of one device never share a dedup key.
//! Local times without offset are read in the patient's zone by [`clock`]: the repeated autumn
//! hour is resolved by the order of the file, the spring gap is refused per row.

mod carelink;
mod clarity;
pub mod clock;
mod fields;
mod libreview;
mod nightscout;
pub mod overlap;
mod simple;
mod text;
mod why;

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, FixedOffset, Utc};
use chrono_tz::Tz;
use ilot_domain::{DeviceId, Entry, EntryKind, GlucoseUnit, ReadingType};
use serde::Serialize;

pub use clock::DateOrder;

/// What the caller knows that the file does not say.
#[derive(Debug, Clone)]
pub struct Options {
    /// The patient's zone: local times without offset are read in it.
    pub tz: Tz,
    /// Entries later than this (plus the domain's skew) are refused.
    pub now: DateTime<Utc>,
    /// Day-first or month-first, when the file cannot tell (checked against the file).
    pub date_order: Option<DateOrder>,
    /// Simple CSV only: the glucose unit (the vendor formats name it in their headers).
    pub unit: Option<GlucoseUnit>,
    /// Simple CSV only: the subject to import when the file holds several.
    pub subject: Option<String>,
    /// Simple CSV only: what the glucose column measures.
    pub reading_type: ReadingType,
    /// Simple CSV only: the origin when the file has no `id` column (the file's name).
    pub fallback_origin: String,
}

impl Options {
    pub fn new(tz: Tz, now: DateTime<Utc>) -> Self {
        Self {
            tz,
            now,
            date_order: None,
            unit: None,
            subject: None,
            reading_type: ReadingType::Interstitial,
            fallback_origin: "csv".into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    LibreView,
    DexcomClarity,
    CareLink,
    NightscoutCsv,
    NightscoutEntries,
    NightscoutTreatments,
    SimpleCsv,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Self::LibreView => "libreview",
            Self::DexcomClarity => "dexcom-clarity",
            Self::CareLink => "carelink",
            Self::NightscoutCsv => "nightscout-csv",
            Self::NightscoutEntries => "nightscout-entries",
            Self::NightscoutTreatments => "nightscout-treatments",
            Self::SimpleCsv => "simple-csv",
        }
    }

    /// JSON files number their items, text files their lines.
    pub fn counts_items(self) -> bool {
        matches!(self, Self::NightscoutEntries | Self::NightscoutTreatments)
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One entry read from the file, with the line (JSON: item) it came from and its record type as
/// the file names it.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub line: u64,
    pub record: &'static str,
    pub entry: Entry,
}

/// A row that could not become an entry: nothing of it is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejected {
    /// Line of the file (1-based, CRLF counted once), or item of a JSON array.
    pub line: u64,
    /// The reason in English (the CLI's words).
    pub reason: String,
    /// The reason's stable name: one of [`REASON_CODES`] or a domain error's
    /// (`DomainError::code_and_params`), for the app's catalogue.
    pub code: &'static str,
    /// The values the translated reason needs.
    pub params: serde_json::Value,
}

impl Rejected {
    pub(crate) fn new(line: u64, why: why::Why) -> Self {
        Self {
            line,
            reason: why.text,
            code: why.code,
            params: why.params,
        }
    }
}

/// The codes of an import's own refusals (besides the domain's).
pub const REASON_CODES: &[&str] = why::CODES;

/// What a file holds, ready to be stored.
#[derive(Debug, Clone)]
pub struct Import {
    pub format: Format,
    /// The device model as the file names it (e.g. `FreeStyle LibreLink`).
    pub device: Option<String>,
    /// The device serial (or the export's subject, for the simple CSV).
    pub serial: Option<String>,
    pub rows: Vec<Row>,
    pub rejected: Vec<Rejected>,
    /// Rows that hold nothing to store, by why (metadata, alarms, empty notes…).
    pub skipped: BTreeMap<String, usize>,
}

/// Entries per kind, as a preview shows them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub glucose: usize,
    /// Of which flash-sensor scans.
    pub scans: usize,
    pub insulin: usize,
    pub carbs: usize,
    pub notes: usize,
    pub other: usize,
}

impl Counts {
    /// What the rows hold.
    pub fn of(rows: &[Row]) -> Counts {
        let mut c = Counts::default();
        for row in rows {
            match &row.entry.kind {
                EntryKind::Glucose(g) => {
                    c.glucose += 1;
                    if is_scan(g.reading_type) {
                        c.scans += 1;
                    }
                }
                EntryKind::Insulin(_) => c.insulin += 1,
                EntryKind::Carbs(_) => c.carbs += 1,
                EntryKind::Note(_) => c.notes += 1,
                _ => c.other += 1,
            }
        }
        c
    }
}

/// First and last entry times of the rows.
pub fn period(rows: &[Row]) -> Option<(DateTime<FixedOffset>, DateTime<FixedOffset>)> {
    let first = rows.iter().map(|r| r.entry.at).min()?;
    let last = rows.iter().map(|r| r.entry.at).max()?;
    Some((first, last))
}

impl Import {
    pub fn counts(&self) -> Counts {
        Counts::of(&self.rows)
    }

    /// First and last entry times.
    pub fn period(&self) -> Option<(DateTime<FixedOffset>, DateTime<FixedOffset>)> {
        period(&self.rows)
    }

    pub fn skipped_total(&self) -> usize {
        self.skipped.values().sum()
    }
}

/// A file refused as a whole: nothing of it is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportError(pub String);

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ImportError {}

pub type Result<T> = std::result::Result<T, ImportError>;

pub(crate) fn err<T>(msg: impl Into<String>) -> Result<T> {
    Err(ImportError(msg.into()))
}

/// Detects the format and reads every row.
pub fn parse(bytes: &[u8], opts: &Options) -> Result<Import> {
    let text = text::decode(bytes);
    let mut import = match detect(&text) {
        Format::LibreView => libreview::parse(&text, opts)?,
        Format::DexcomClarity => clarity::parse(&text, opts)?,
        Format::CareLink => carelink::parse(&text, opts)?,
        Format::NightscoutCsv => nightscout::parse_csv(&text, opts)?,
        Format::NightscoutEntries | Format::NightscoutTreatments => {
            nightscout::parse_json(&text, opts)?
        }
        Format::SimpleCsv => simple::parse(&text, opts)?,
    };
    import.rejected.sort_by_key(|r| r.line);
    Ok(import)
}

/// The format, from the first lines of the file.
pub fn detect(text: &str) -> Format {
    let head: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .take(12)
        .collect();
    let first = head.first().copied().unwrap_or("");
    let json_array = first.strip_prefix('[').is_some_and(|rest| {
        rest.trim_start().is_empty() || rest.trim_start().starts_with(['{', ']'])
    });
    if json_array || first.starts_with('{') {
        return if text.contains("\"eventType\"") {
            Format::NightscoutTreatments
        } else {
            Format::NightscoutEntries
        };
    }
    let lower: Vec<String> = head.iter().map(|l| l.to_lowercase()).collect();
    if lower
        .iter()
        .take(4)
        .any(|l| l.contains("record type") || l.contains("type d'enregistrement"))
    {
        return Format::LibreView;
    }
    if lower.first().is_some_and(|l| {
        (l.contains("event type") && l.contains("timestamp") && l.contains("glucose value"))
            || ((l.contains("type d'événement") || l.contains("type d’événement"))
                && l.contains("horodatage")
                && l.contains("glucose"))
    }) {
        return Format::DexcomClarity;
    }
    if lower.iter().any(|l| {
        let l = l.replace([',', '\t'], ";");
        l.starts_with("-------;") || l.starts_with("index;date;time") || l.starts_with("last name;")
    }) {
        return Format::CareLink;
    }
    if nightscout::looks_like_entries_csv(first) {
        return Format::NightscoutCsv;
    }
    Format::SimpleCsv
}

/// The dedup origin of an entry: format, device serial and record type.
pub(crate) fn origin(format: &str, serial: &str, record: &str) -> Result<DeviceId> {
    let serial = if serial.trim().is_empty() {
        "unknown"
    } else {
        serial.trim()
    };
    DeviceId::new(format!("{format}:{serial}:{record}")).map_err(|e| ImportError(e.to_string()))
}

/// A flash-glucose scan (LibreView record type 1).
pub(crate) fn scan_type() -> ReadingType {
    ReadingType::Scan
}

fn is_scan(t: ReadingType) -> bool {
    t == scan_type()
}
