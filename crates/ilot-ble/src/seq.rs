//! GLS sequence numbers across the 16-bit wrap (pure): which received records are new, which
//! stored record number each gets, and what to ask the meter for.
//!
//! A meter numbers its records with a 16-bit sequence that wraps from 65535 to 0. The store
//! keys a record by (device, record number) and keeps the highest one as the device's cursor,
//! so a bare sequence number would collide after a wrap (the new record 3 against the old
//! record 3) and the cursor would stop moving. Decision: the stored record number is
//! `epoch × 65536 + sequence`, where the epoch counts the wraps seen for that device; a meter
//! that never wraps keeps its plain sequence numbers.
//!
//! Which records are newer is decided with serial-number arithmetic (RFC 1982) over a window of
//! 32768: with the cursor at epoch `e`, sequence `s`, a received `q` is new iff
//! `1 ≤ (q − s) mod 65536 < 32768`, and it belongs to epoch `e + 1` when `q < s`. This is exact
//! as long as the meter's memory holds fewer than 32768 records (real meters hold 500–5,000):
//! no record that old can still be in memory. The meter's filters are numeric, not circular,
//! so an incremental download asks for "≥ s + 1" (after a first wrap, "within [s + 1,
//! s + 32767]", since the older epoch's high sequences may still be in memory) and then, when
//! `s ≥ 32768` and the first answer was empty or reached 65535, for "within [0, (s + 32767) mod
//! 65536]": exactly the sequences the window calls newer, each record crossing the link once.
//! A meter that refuses the range operator is asked "≥" instead, then for everything, and the
//! window filters here (the older records then cross the link and are counted as redundant).
//!
//! A first download (no cursor) asks for all records and counts epochs in arrival order: a
//! sequence more than 32768 below the previous one is a forward wrap (epoch + 1); one more than
//! 32768 above it is the older side of a wrap listed newest first, and the records received so
//! far move up one epoch ([`Numbered::ShiftEarlier`]). Known limit: a meter that lists a wrapped
//! memory in numeric order (0… before 65000…) on a first download, with a batch already stored,
//! cannot be renumbered; the download stops with an error saying so instead of guessing.

use crate::control::Op;

/// Half the sequence space: the serial-arithmetic window.
pub const HALF: u16 = 1 << 15;

/// What a received sequence number is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Numbered {
    /// A new record, stored under this record number.
    New(u32),
    /// New, under this number, and every record received before it in this transfer belongs
    /// one epoch later than it was given (add 65536 to their numbers).
    ShiftEarlier(u32),
    /// At or before the cursor: already stored (a meter re-sending its history).
    Old,
}

/// The numbering of one meter transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeqWindow {
    cursor: Option<u32>,
    prev: Option<u16>,
    epoch: u32,
}

impl SeqWindow {
    /// Records after `cursor` (the highest stored record number; `None`: nothing stored yet).
    pub fn after(cursor: Option<u32>) -> Self {
        Self {
            cursor,
            prev: None,
            epoch: 0,
        }
    }

    fn split(c: u32) -> (u32, u16) {
        (c >> 16, (c & 0xFFFF) as u16)
    }

    /// The first request: every record without a cursor; "≥ s + 1" before the first wrap;
    /// after one, "within [s + 1, s + 32767]" (capped at 65535) so that the older epoch's high
    /// sequences still in memory are not sent again. `None` when the cursor is at 65535: nothing
    /// is numerically above it and [`Self::wrap_range`] asks for the rest.
    pub fn first_op(&self) -> Option<Op> {
        let Some(c) = self.cursor else {
            return Some(Op::ReportAll);
        };
        let (e, s) = Self::split(c);
        let from = s.checked_add(1)?;
        Some(if e == 0 {
            Op::ReportFrom(from)
        } else {
            Op::ReportRange(from, s.saturating_add(HALF - 1))
        })
    }

    /// The follow-up range after the first request, when the window extends past 65535: asked
    /// when the first answer was empty or reached 65535 (`max_received`), and the meter honoured
    /// the filter.
    pub fn wrap_range(&self, max_received: Option<u16>) -> Option<(u16, u16)> {
        let (_, s) = Self::split(self.cursor?);
        if s < HALF || max_received.is_some_and(|m| m != u16::MAX) {
            return None;
        }
        Some((0, s.wrapping_add(HALF - 1)))
    }

    /// Numbers a received sequence.
    pub fn number(&mut self, q: u16) -> Numbered {
        match self.cursor {
            Some(c) => {
                let (e, s) = Self::split(c);
                let d = q.wrapping_sub(s);
                if d == 0 || d >= HALF {
                    return Numbered::Old;
                }
                let epoch = if q < s { e.checked_add(1) } else { Some(e) };
                match epoch.and_then(|e| e.checked_mul(1 << 16)) {
                    Some(hi) => Numbered::New(hi | u32::from(q)),
                    // 2^32 records: the store key cannot grow further.
                    None => Numbered::Old,
                }
            }
            None => {
                let mut shift = false;
                if let Some(p) = self.prev {
                    if q < p && p - q > HALF {
                        self.epoch += 1;
                    } else if q > p && q - p > HALF {
                        match self.epoch.checked_sub(1) {
                            Some(e) => self.epoch = e,
                            None => shift = true,
                        }
                    }
                }
                self.prev = Some(q);
                let n = (self.epoch << 16) | u32::from(q);
                if shift {
                    Numbered::ShiftEarlier(n)
                } else {
                    Numbered::New(n)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WRAP: u32 = 1 << 16;

    #[test]
    fn without_a_wrap_numbers_are_the_sequence() {
        let mut w = SeqWindow::after(Some(30));
        assert_eq!(w.first_op(), Some(Op::ReportFrom(31)));
        assert_eq!(w.wrap_range(None), None);
        assert_eq!(w.number(31), Numbered::New(31));
        assert_eq!(w.number(30), Numbered::Old);
        assert_eq!(w.number(5), Numbered::Old);
    }

    #[test]
    fn past_65535_the_epoch_moves_on() {
        // Cursor at sequence 65530 of epoch 0: 65531…65535 then 0, 1, 2 are new.
        let mut w = SeqWindow::after(Some(65_530));
        assert_eq!(w.first_op(), Some(Op::ReportFrom(65_531)));
        assert_eq!(w.number(65_535), Numbered::New(65_535));
        assert_eq!(w.number(0), Numbered::New(WRAP));
        assert_eq!(w.number(2), Numbered::New(WRAP + 2));
        // The window: 65530 + 32767 − 65536 = 32761 is the last sequence called newer.
        assert_eq!(w.wrap_range(Some(65_535)), Some((0, 32_761)));
        assert_eq!(w.wrap_range(None), Some((0, 32_761)));
        // The first answer stopped below 65535: the meter has not wrapped, nothing more to ask.
        assert_eq!(w.wrap_range(Some(65_533)), None);
        // 32762 is 32768 after 65530: outside the window, an old record.
        assert_eq!(w.number(32_762), Numbered::Old);
    }

    #[test]
    fn a_cursor_in_a_later_epoch_keeps_it() {
        // Epoch 2, sequence 10.
        let mut w = SeqWindow::after(Some(2 * WRAP + 10));
        // 10 + 32767: the old epoch's 32778…65535 may still be in memory, not asked for.
        assert_eq!(w.first_op(), Some(Op::ReportRange(11, 32_777)));
        assert_eq!(w.wrap_range(None), None);
        assert_eq!(w.number(11), Numbered::New(2 * WRAP + 11));
        assert_eq!(w.number(65_000), Numbered::Old);
    }

    #[test]
    fn a_cursor_at_65535_asks_only_the_range() {
        let w = SeqWindow::after(Some(65_535));
        assert_eq!(w.first_op(), None);
        assert_eq!(w.wrap_range(None), Some((0, 32_766)));
    }

    #[test]
    fn after_a_wrap_the_range_is_capped_at_65535() {
        let w = SeqWindow::after(Some(WRAP + 40_000));
        assert_eq!(w.first_op(), Some(Op::ReportRange(40_001, 65_535)));
        assert_eq!(w.wrap_range(None), Some((0, 7_231)));
    }

    #[test]
    fn first_download_oldest_first_across_the_wrap() {
        let mut w = SeqWindow::after(None);
        assert_eq!(w.first_op(), Some(Op::ReportAll));
        assert_eq!(w.number(65_534), Numbered::New(65_534));
        assert_eq!(w.number(65_535), Numbered::New(65_535));
        assert_eq!(w.number(0), Numbered::New(WRAP));
        assert_eq!(w.number(1), Numbered::New(WRAP + 1));
    }

    #[test]
    fn first_download_newest_first_across_the_wrap_shifts_what_came() {
        let mut w = SeqWindow::after(None);
        assert_eq!(w.number(1), Numbered::New(1));
        assert_eq!(w.number(0), Numbered::New(0));
        assert_eq!(w.number(65_535), Numbered::ShiftEarlier(65_535));
        assert_eq!(w.number(65_534), Numbered::New(65_534));
    }
}
