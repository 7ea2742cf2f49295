//! What every format shares: rows drafted with their time as written, then resolved together
//! (the clock needs the whole stream) into entries; columns found by name; numbers with a
//! decimal comma.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, FixedOffset, TimeDelta};
use ilot_domain::{DeviceId, Entry, EntryKind, GlucoseUnit, Source};

use crate::clock::{self, DateOrder, Stamp, When};
use crate::why::{Made, Why};
use crate::{Format, Import, Options, Rejected, Row};
use serde_json::json;

/// One entry to be, before its time is resolved.
pub(crate) struct Draft {
    pub line: u64,
    pub record: &'static str,
    pub origin: DeviceId,
    pub when: When,
    pub kind: EntryKind,
}

/// What a parser gathers.
pub(crate) struct Gathered {
    pub format: Format,
    pub device: Option<String>,
    pub serial: Option<String>,
    pub drafts: Vec<Draft>,
    pub rejected: Vec<Rejected>,
    pub skipped: BTreeMap<String, usize>,
}

impl Gathered {
    pub fn new(format: Format) -> Self {
        Self {
            format,
            device: None,
            serial: None,
            drafts: Vec::new(),
            rejected: Vec::new(),
            skipped: BTreeMap::new(),
        }
    }

    pub fn reject(&mut self, line: u64, why: Why) {
        self.rejected.push(Rejected::new(line, why));
    }

    pub fn skip(&mut self, why: &str) {
        *self.skipped.entry(why.to_string()).or_default() += 1;
    }

    /// Reads every date whose day/month order waited for the whole file (see
    /// `clock::infer_order`); a row whose date does not exist in that order is refused.
    pub fn apply_order(&mut self, order: DateOrder) {
        let mut bad = Vec::new();
        for (i, d) in self.drafts.iter_mut().enumerate() {
            if let When::Unordered(stamp) = d.when {
                match stamp.naive(order) {
                    Ok(n) => d.when = When::Local(n),
                    Err(e) => bad.push((i, d.line, e)),
                }
            }
        }
        for (i, line, e) in bad.into_iter().rev() {
            self.drafts.remove(i);
            self.reject(line, e);
        }
    }

    /// The (line, date) of every row whose order waits for the whole file.
    pub fn unordered(&self) -> impl Iterator<Item = (u64, Stamp)> + '_ {
        self.drafts.iter().filter_map(|d| match d.when {
            When::Unordered(s) => Some((d.line, s)),
            _ => None,
        })
    }

    /// Resolves the times and builds the entries.
    ///
    /// Exports that write whole minutes can hold two different readings of one record type in
    /// the same minute (two scans): the dedup key is the second, so the second distinct reading
    /// of that minute is placed at second 1, the third at second 2, in file order — still inside
    /// the minute the file gives, and the same on every re-import of that file. (Rows of one
    /// minute are next to each other in a stream ordered by time.)
    pub fn finish(self, opts: &Options) -> Import {
        let Gathered {
            format,
            device,
            serial,
            drafts,
            mut rejected,
            skipped,
        } = self;
        let items: Vec<(usize, When)> = {
            let mut ids: HashMap<&str, usize> = HashMap::new();
            drafts
                .iter()
                .map(|d| {
                    let next = ids.len();
                    (*ids.entry(d.origin.as_str()).or_insert(next), d.when)
                })
                .collect()
        };
        let times = clock::resolve(opts.tz, &items);
        let mut rows = Vec::with_capacity(drafts.len());
        let mut minute: HashMap<(usize, &'static str), Minute> = HashMap::new();
        for ((draft, at), (stream, when)) in drafts.into_iter().zip(times).zip(items) {
            let mut at = match at {
                Ok(at) => at,
                Err(why) => {
                    rejected.push(Rejected::new(draft.line, why));
                    continue;
                }
            };
            if matches!(when, When::Local(_)) && clock::whole_minute(&at) {
                let slot = minute
                    .entry((stream, draft.kind.name()))
                    .or_insert_with(|| (at, Vec::new()));
                if slot.0 != at {
                    slot.0 = at;
                    slot.1.clear();
                }
                match slot.1.iter().position(|k| *k == draft.kind) {
                    Some(i) => at += TimeDelta::seconds(i as i64),
                    None => {
                        at += TimeDelta::seconds(slot.1.len() as i64);
                        slot.1.push(draft.kind.clone());
                    }
                }
            }
            match Entry::new(at, Source::import(draft.origin), draft.kind, opts.now) {
                Ok(entry) => rows.push(Row {
                    line: draft.line,
                    record: draft.record,
                    entry,
                }),
                Err(e) => rejected.push(Rejected::new(draft.line, e.into())),
            }
        }
        Import {
            format,
            device,
            serial,
            rows,
            rejected,
            skipped,
        }
    }
}

/// The minute a stream's kind is in, and the distinct entries seen in it.
type Minute = (DateTime<FixedOffset>, Vec<EntryKind>);

/// Origins by (serial, record type), made once per file rather than once per row.
#[derive(Default)]
pub(crate) struct Origins(Vec<(String, &'static str, DeviceId)>);

impl Origins {
    pub fn get(&mut self, format: &str, serial: &str, record: &'static str) -> Made<DeviceId> {
        if let Some((.., id)) = self.0.iter().find(|(s, r, _)| s == serial && *r == record) {
            return Ok(id.clone());
        }
        let id = crate::origin(format, serial, record)
            .map_err(|e| Why::new("source-invalid", json!({ "serial": serial }), e.to_string()))?;
        self.0.push((serial.to_string(), record, id.clone()));
        Ok(id)
    }
}

/// Column indexes by a predicate on the lower-cased header.
pub(crate) struct Columns(Vec<String>);

impl Columns {
    pub fn new<'a>(headers: impl IntoIterator<Item = &'a str>) -> Self {
        Self(
            headers
                .into_iter()
                .map(|h| h.trim().trim_start_matches('\u{feff}').to_lowercase())
                .collect(),
        )
    }

    pub fn find(&self, pred: impl Fn(&str) -> bool) -> Option<usize> {
        self.0.iter().position(|h| pred(h))
    }

    pub fn name(&self, i: usize) -> &str {
        &self.0[i]
    }
}

/// The glucose unit a column name states.
pub(crate) fn unit_in(name: &str) -> Option<GlucoseUnit> {
    let n = name.to_lowercase();
    if n.contains("mmol") {
        Some(GlucoseUnit::MmolPerLitre)
    } else if n.contains("mg/dl") {
        Some(GlucoseUnit::MgPerDl)
    } else if n.contains("g/l") {
        Some(GlucoseUnit::GramsPerLitre)
    } else {
        None
    }
}

/// A number written with a point or a decimal comma.
pub(crate) fn number(what: &'static str, text: &str) -> Made<f64> {
    let t = text.trim().replace(',', ".");
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(ilot_domain::DomainError::NotANumber {
            what,
            got: text.trim().to_string(),
        }
        .into()),
    }
}

/// The field, trimmed, or `None` when empty.
pub(crate) fn field(record: &csv::StringRecord, i: Option<usize>) -> Option<&str> {
    i.and_then(|i| record.get(i))
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// Line numbers from byte offsets. The `csv` crate's own line count is one short after CRLF
/// line ends, so lines are counted here from the record's byte offset: 1 + the `\n` before it
/// (line-end bytes at the offset itself belong to the previous line).
pub(crate) struct Lines<'t> {
    text: &'t [u8],
    newlines: Vec<usize>,
}

impl<'t> Lines<'t> {
    pub fn new(text: &'t str) -> Self {
        let text = text.as_bytes();
        let newlines = text
            .iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .map(|(i, _)| i)
            .collect();
        Self { text, newlines }
    }

    pub fn at(&self, pos: Option<&csv::Position>) -> u64 {
        let Some(pos) = pos else {
            return 0;
        };
        let mut byte = pos.byte() as usize;
        while self
            .text
            .get(byte)
            .is_some_and(|b| *b == b'\r' || *b == b'\n')
        {
            byte += 1;
        }
        1 + self.newlines.partition_point(|&n| n < byte) as u64
    }

    pub fn of(&self, record: &csv::StringRecord) -> u64 {
        self.at(record.position())
    }
}

/// The separator a header line uses: the one of `,`, `;` and tab it holds most of (`,` on a
/// tie). Vendors write commas or semicolons by country, and a spreadsheet saving the file again
/// writes its own (`;` in French, tabs as "Unicode text").
pub(crate) fn separator(header: &str) -> u8 {
    [b',', b';', b'\t']
        .into_iter()
        .max_by_key(|d| (header.bytes().filter(|b| b == d).count(), *d == b','))
        .unwrap_or(b',')
}

pub(crate) fn reader(text: &str, delimiter: u8) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes())
}
