//! What the device sends: the changes of its outbox, as one open (plaintext) batch. Sealing it
//! ([`crate::seal`]) gives a [`crate::SealedBatch`]; only [`crate::open`] with the right key and
//! expectations gives an [`OpenBatch`] back.

use chrono::{DateTime, Utc};
use ilot_domain::Entry;

use crate::body::entries;
use crate::envelope::{BatchHeader, Envelope, Kind, private::EnvelopeInner};
use crate::error::Result;
use crate::keys::ToServerKey;

/// A batch of changes, readable. Never stored or sent as is.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenBatch {
    pub header: BatchHeader,
    /// The outbox items of this batch, in the order they were made.
    pub items: Vec<WireEntry>,
    /// A consent change, sent with (or as) a batch so the server learns it authenticated. A
    /// withdrawal is the last thing a device sends (SPEC §2).
    pub consent: Option<ConsentChange>,
}

impl OpenBatch {
    pub fn new(header: BatchHeader, items: Vec<WireEntry>) -> Self {
        Self {
            header,
            items,
            consent: None,
        }
    }
}

/// One version of one diary entry, as the store's outbox and history give it.
///
/// Round trip is exact: every `f64` comes back bit for bit (short decimals such as 126, 5.5 or
/// 1.26 travel as decimal mantissas, anything else as its 8 IEEE 754 bytes), every time to the
/// nanosecond with its UTC offset, every text byte for byte.
#[derive(Debug, Clone, PartialEq)]
pub struct WireEntry {
    /// The entry's local id on the device (with `version`, the server's dedup key).
    pub id: i64,
    pub version: u32,
    pub op: WireOp,
    /// When this version was written on the device.
    pub recorded_at: DateTime<Utc>,
    /// The content of this version; for a deletion, the content that was deleted.
    pub entry: Entry,
    /// Why a correction or deletion was made, as the person gave it.
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WireOp {
    Insert,
    Update,
    Delete,
}

/// The patient granted or withdrew consent to transmission at `at`, having been shown version
/// `notice_version` of the information notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConsentChange {
    pub granted: bool,
    pub at: DateTime<Utc>,
    pub notice_version: u32,
}

impl Envelope for OpenBatch {
    const KIND: Kind = Kind::Batch;
    type Key = ToServerKey;
    fn header(&self) -> &BatchHeader {
        &self.header
    }
}

impl EnvelopeInner for OpenBatch {
    fn encode_body(&self, out: &mut Vec<u8>) -> Result<()> {
        entries::encode(&self.items, self.consent.as_ref(), out)
    }
    fn decode_body(header: BatchHeader, body: &[u8]) -> Result<Self> {
        let (items, consent) = entries::decode(body)?;
        Ok(Self {
            header,
            items,
            consent,
        })
    }
}
