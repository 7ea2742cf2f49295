//! One RACP report procedure: write the request, receive the records, store them by batches.
//! Shared by the download (one or two per connection) and the live mode (its backfills).
//!
//! Safety of the cursor (module doc of `download`): a batch is committed early only while the
//! records arrive in ascending record-number order and nothing is held back; otherwise they are
//! committed when the device closes the report.

use std::collections::HashSet;

use ilot_domain::SourceKind;

use super::{Options, Report, Session};
use crate::control::{Failure, Finished, Op, Procedure, Step};
use crate::error::{BleError, Result};
use crate::gatt::{
    GlucoseMeasurement, MeasurementContext, RacpResponse, RecordIssue, decode_cgm_measurements, ids,
};
use crate::link::{LinkEvent, Peripheral};
use crate::records::{Placing, RecordEntries};
use crate::seq::{Numbered, SeqWindow};
use crate::sink::RecordSink;

/// How received records get their stored record numbers.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Numbering {
    /// GLS: sequence numbers with their wrap epoch.
    Meter(SeqWindow),
    /// CGMS: session base + time offset; offsets below `from` were not asked for.
    Cgm { from: Option<u16> },
}

pub(crate) struct Transfer<'a> {
    placing: Placing<'a>,
    session: &'a Session,
    numbering: Numbering,
    seen: HashSet<u32>,
    ready: Vec<RecordEntries>,
    awaiting: Option<(u32, GlucoseMeasurement)>,
    last_number: Option<u32>,
    /// Commit only when the report completes (records came newest first, or a record is held).
    hold: bool,
    committed: bool,
    batch: usize,
    /// The numeric bounds asked for, to see whether the device honoured its filter.
    asked: (u16, u16),
    pub(crate) fell_back: bool,
    /// A record outside what was asked arrived: the device ignores its filter.
    pub(crate) outside: bool,
    /// The highest raw RACP number (sequence or offset) received.
    pub(crate) max_raw: Option<u16>,
}

impl<'a> Transfer<'a> {
    pub(crate) fn new(session: &'a Session, opts: &Options, numbering: Numbering) -> Self {
        Self {
            placing: Placing {
                device: &session.device,
                kind: session.kind,
                model: session.model,
                tz: opts.tz,
                now: opts.now,
            },
            session,
            numbering,
            seen: HashSet::new(),
            ready: Vec::new(),
            awaiting: None,
            last_number: None,
            hold: false,
            committed: false,
            batch: opts.batch_size.max(2),
            asked: (0, u16::MAX),
            fell_back: false,
            outside: false,
            max_raw: None,
        }
    }

    /// A record already received (a live reading that revealed a gap): stored with the
    /// transfer's records, and only once the report completes, so a drop before then cannot
    /// move the cursor past the records it is waiting for.
    pub(crate) fn seed(&mut self, r: RecordEntries) {
        self.seen.insert(r.number);
        self.hold = true;
        self.last_number = Some(r.number);
        self.ready.push(r);
    }

    /// Places a CGM record of this session.
    pub(crate) fn place_cgm(&self, m: &crate::gatt::CgmMeasurement) -> RecordEntries {
        place_cgm(&self.placing, self.session, m)
    }

    pub(crate) async fn run<P: Peripheral, S: RecordSink>(
        &mut self,
        p: &mut P,
        sink: &mut S,
        opts: &Options,
        report: &mut Report,
        op: Op,
    ) -> Result<()> {
        self.asked = bounds(op);
        let mut op = op;
        let (mut proc, bytes) = Procedure::start(op);
        p.write(ids::RACP, &bytes).await?;
        loop {
            let event = match tokio::time::timeout(opts.response_timeout, p.next_event()).await {
                Ok(e) => e,
                Err(_) => match proc.on_timeout() {
                    Step::Write(b) => {
                        p.write(ids::RACP, &b).await?;
                        continue;
                    }
                    Step::Failed(_) => {
                        self.commit(sink, opts, report, false)?;
                        return Err(BleError::Timeout {
                            secs: opts.response_timeout.as_secs() * 2,
                            during: "the record transfer",
                        });
                    }
                    _ => continue,
                },
            };
            let (uuid, value) = match event {
                LinkEvent::Disconnected => {
                    proc.on_disconnect();
                    self.commit(sink, opts, report, false)?;
                    return Err(BleError::Disconnected(format!(
                        "after {} record(s) of this transfer",
                        proc.records()
                    )));
                }
                LinkEvent::Value {
                    characteristic,
                    value,
                } => (characteristic, value),
            };
            if uuid == ids::RACP {
                let step = match RacpResponse::decode(&value) {
                    Ok(resp) => proc.on_response(resp),
                    Err(e) => Step::Failed(Failure::Unexpected(e.to_string())),
                };
                match step {
                    Step::Continue | Step::Write(_) => {}
                    Step::Finished(
                        Finished::Reported { .. } | Finished::Aborted { .. } | Finished::Count(_),
                    ) => {
                        return self.commit(sink, opts, report, true);
                    }
                    Step::Failed(f) if f.filter_unsupported() && fallback(op).is_some() => {
                        // The device cannot filter so: ask more broadly, keep filtering here.
                        self.fell_back = true;
                        op = fallback(op).unwrap_or(Op::ReportAll);
                        self.asked = bounds(op);
                        let (np, b) = Procedure::start(op);
                        proc = np;
                        p.write(ids::RACP, &b).await?;
                    }
                    Step::Failed(f) => {
                        self.commit(sink, opts, report, false)?;
                        return Err(failure(f));
                    }
                }
            } else if uuid == ids::GLUCOSE_MEASUREMENT {
                proc.on_record();
                match GlucoseMeasurement::decode(&value) {
                    Ok(m) => self.on_meter(m, sink, opts, report)?,
                    Err(e) => report.malformed.push(e.to_string()),
                }
            } else if uuid == ids::GLUCOSE_MEASUREMENT_CONTEXT {
                match MeasurementContext::decode(&value) {
                    Ok(c) => self.on_context(c),
                    Err(e) => report.malformed.push(e.to_string()),
                }
            } else if uuid == ids::CGM_MEASUREMENT {
                let e2e = self.session.cgm.as_ref().and_then(|c| c.e2e);
                match decode_cgm_measurements(&value, e2e) {
                    Ok(recs) => {
                        for m in recs {
                            proc.on_record();
                            self.saw_raw(m.time_offset_min);
                            let from = match self.numbering {
                                Numbering::Cgm { from } => from,
                                Numbering::Meter(_) => None,
                            };
                            let r = self.place_cgm(&m);
                            if from.is_some_and(|f| m.time_offset_min < f) {
                                report.redundant += 1;
                            } else if self.fresh(r.number, report) {
                                self.finalize(r);
                            }
                        }
                        self.maybe_commit(sink, opts, report)?;
                    }
                    Err(e) => report.malformed.push(e.to_string()),
                }
            }
        }
    }

    fn saw_raw(&mut self, n: u16) {
        if n < self.asked.0 || n > self.asked.1 {
            self.outside = true;
        }
        self.max_raw = self.max_raw.max(Some(n));
    }

    /// Counts a record that is not already in this transfer.
    fn fresh(&mut self, number: u32, report: &mut Report) -> bool {
        if !self.seen.insert(number) {
            report.redundant += 1;
            return false;
        }
        report.records += 1;
        true
    }

    fn on_meter<S: RecordSink>(
        &mut self,
        m: GlucoseMeasurement,
        sink: &mut S,
        opts: &Options,
        report: &mut Report,
    ) -> Result<()> {
        self.saw_raw(m.sequence);
        let Numbering::Meter(window) = &mut self.numbering else {
            report
                .malformed
                .push("a Glucose Measurement arrived from a CGM; ignored".into());
            return Ok(());
        };
        let number = match window.number(m.sequence) {
            Numbered::Old => {
                report.redundant += 1;
                return Ok(());
            }
            Numbered::New(n) => n,
            Numbered::ShiftEarlier(n) => {
                self.shift_earlier()?;
                n
            }
        };
        if !self.fresh(number, report) {
            return Ok(());
        }
        // A context announced by the previous record that never came: store that record alone.
        if let Some((n, prev)) = self.awaiting.take() {
            let r = self.placing.meter_numbered(n, &prev, None);
            self.finalize(r);
        }
        if m.context_follows {
            self.awaiting = Some((number, m));
        } else {
            let r = self.placing.meter_numbered(number, &m, None);
            self.finalize(r);
        }
        self.maybe_commit(sink, opts, report)
    }

    /// The meter listed a wrapped memory newest first: what came so far is one epoch later.
    fn shift_earlier(&mut self) -> Result<()> {
        const WRAP: u32 = 1 << 16;
        if self.committed {
            return Err(BleError::Protocol(
                "the meter lists its records in numeric order across a sequence-number wrap after part of them was stored; the older records cannot be numbered safely — the records stored so far are kept, contact support with the meter model".into(),
            ));
        }
        let bump = |n: u32| {
            n.checked_add(WRAP).ok_or_else(|| {
                BleError::Protocol("record numbers exhausted for this device".into())
            })
        };
        for r in &mut self.ready {
            let n = bump(r.number)?;
            r.renumber(n);
        }
        if let Some((n, _)) = &mut self.awaiting {
            *n = bump(*n)?;
        }
        self.seen = self.seen.iter().map(|n| n + WRAP).collect();
        self.last_number = self.last_number.map(|n| n + WRAP);
        // The older records now arrive below the ones held: nothing is committed early.
        self.hold = true;
        Ok(())
    }

    fn on_context(&mut self, c: MeasurementContext) {
        if let Some((n, m)) = self.awaiting.take_if(|(_, m)| m.sequence == c.sequence) {
            let r = self.placing.meter_numbered(n, &m, Some(&c));
            self.finalize(r);
        }
    }

    fn finalize(&mut self, r: RecordEntries) {
        if self.last_number.is_some_and(|l| r.number < l) {
            self.hold = true;
        }
        self.last_number = Some(r.number);
        self.ready.push(r);
    }

    fn maybe_commit<S: RecordSink>(
        &mut self,
        sink: &mut S,
        opts: &Options,
        report: &mut Report,
    ) -> Result<()> {
        if !self.hold && self.ready.len() >= self.batch {
            self.commit(sink, opts, report, false)?;
        }
        Ok(())
    }

    /// Stores what is safe: everything when the transfer completed, else the ready records
    /// unless they are held (module doc).
    fn commit<S: RecordSink>(
        &mut self,
        sink: &mut S,
        opts: &Options,
        report: &mut Report,
        complete: bool,
    ) -> Result<()> {
        if complete {
            if let Some((n, m)) = self.awaiting.take() {
                let r = self.placing.meter_numbered(n, &m, None);
                self.finalize(r);
            }
        } else if self.hold {
            return Ok(());
        }
        if self.ready.is_empty() {
            return Ok(());
        }
        let mut records = std::mem::take(&mut self.ready);
        records.sort_by_key(|r| r.number);
        store(sink, opts, report, &records)?;
        self.committed = true;
        Ok(())
    }
}

/// Places a CGM record of `session` (record number = session base + time offset).
pub(crate) fn place_cgm(
    placing: &Placing<'_>,
    session: &Session,
    m: &crate::gatt::CgmMeasurement,
) -> RecordEntries {
    let (start, base) = session.cgm.as_ref().map_or_else(
        || (Err(RecordIssue::NoConcentration), 0),
        |c| (c.start.clone(), c.base_minutes),
    );
    placing.cgm(m, start, base)
}

/// Stores records (sorted by the caller) in one transaction and accounts for them.
pub(crate) fn store<S: RecordSink>(
    sink: &mut S,
    opts: &Options,
    report: &mut Report,
    records: &[RecordEntries],
) -> Result<()> {
    let entries: Vec<_> = records
        .iter()
        .flat_map(|r| r.entries.iter().cloned())
        .collect();
    let stored = sink.add_batch(&entries, opts.now)?;
    report.entries_added += stored.added;
    report.entries_duplicate += stored.duplicates;
    report.conflicts += stored.conflicts.len();
    for r in records {
        if r.issue.is_none() && matches!(r.flag, Some(crate::clock::TimeFlag::Corrected { .. })) {
            report.corrected += 1;
        }
        match &r.issue {
            Some(i) => report.rejected.push((r.number, i.to_string())),
            None => report.readings_stored += 1,
        }
    }
    Ok(())
}

/// The session's kind decides the numbering of a fresh transfer.
pub(crate) fn numbering(kind: SourceKind, cursor: Option<u32>, base: u32) -> Numbering {
    match kind {
        SourceKind::Cgm => Numbering::Cgm {
            from: cgm_from(cursor, base),
        },
        _ => Numbering::Meter(SeqWindow::after(cursor)),
    }
}

/// The first CGM time offset after `cursor` in the session whose base is `base`.
pub(crate) fn cgm_from(cursor: Option<u32>, base: u32) -> Option<u16> {
    cursor
        .and_then(|c| (c + 1).checked_sub(base))
        .and_then(|n| u16::try_from(n).ok())
}

/// The numeric bounds a request asks for.
fn bounds(op: Op) -> (u16, u16) {
    match op {
        Op::ReportFrom(n) => (n, u16::MAX),
        Op::ReportRange(a, b) => (a, b),
        _ => (0, u16::MAX),
    }
}

/// The broader request to make when a device refuses a filter: a range becomes "≥ its start",
/// "≥" becomes all records.
fn fallback(op: Op) -> Option<Op> {
    match op {
        Op::ReportRange(a, _) => Some(Op::ReportFrom(a)),
        Op::ReportFrom(_) => Some(Op::ReportAll),
        _ => None,
    }
}

fn failure(f: Failure) -> BleError {
    match f {
        Failure::Refused { request, code } => BleError::ControlPoint {
            request: if request == crate::gatt::RacpOpCode::AbortOperation {
                "abort"
            } else {
                "the record request"
            },
            code: code.name(),
            advice: "the device does not support this request; nothing was changed on it",
        },
        Failure::Timeout { .. } => BleError::Timeout {
            secs: 0,
            during: "the record transfer",
        },
        Failure::Disconnected { records } => {
            BleError::Disconnected(format!("after {records} record(s)"))
        }
        Failure::Unexpected(s) => BleError::Protocol(s),
    }
}
