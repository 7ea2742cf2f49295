//! The server's answer to a pushed batch, sealed with the server → device key: an unsealed
//! "stored" could be forged by anyone between the phone and the server, and the device would
//! then drop entries it believes delivered.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::body::{postcard_decode, postcard_encode};
use crate::envelope::{
    BatchDigest, BatchHeader, Envelope, Kind, SealedBatch, private::EnvelopeInner,
};
use crate::error::{Result, WireError};
use crate::keys::ToDeviceKey;

/// What the server did with a batch. A retried batch (same bytes) gets the same answer again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushAck {
    /// The batch's sequence number; the device's next batch must be greater.
    pub accepted_seq: u64,
    /// SHA-256 of the sealed batch this acknowledges ([`SealedBatch::digest`]).
    pub batch_digest: BatchDigest,
    /// Entry versions newly stored.
    pub stored: u32,
    /// Entry versions the server already had (same entry id and version), not stored again.
    pub duplicates: u32,
    pub received_at: DateTime<Utc>,
}

/// An acknowledgement, readable. Its header `seq` is the acknowledged batch's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenAck {
    pub header: BatchHeader,
    pub ack: PushAck,
}

impl OpenAck {
    /// Device side: the acknowledgement is for exactly the batch that was sent; only then may
    /// the outbox rows of that batch be marked sent.
    pub fn confirms(&self, sent: &SealedBatch) -> Result<()> {
        let sent_seq = sent.unverified_header().seq;
        if self.ack.accepted_seq == sent_seq
            && self.header.seq == sent_seq
            && self.ack.batch_digest == sent.digest()
        {
            Ok(())
        } else {
            Err(WireError::AckMismatch {
                sent_seq,
                acked_seq: self.ack.accepted_seq,
            })
        }
    }
}

impl Envelope for OpenAck {
    const KIND: Kind = Kind::Ack;
    type Key = ToDeviceKey;
    fn header(&self) -> &BatchHeader {
        &self.header
    }
}

impl EnvelopeInner for OpenAck {
    fn encode_body(&self, out: &mut Vec<u8>) -> Result<()> {
        postcard_encode(&self.ack, out)
    }
    fn decode_body(header: BatchHeader, body: &[u8]) -> Result<Self> {
        Ok(Self {
            header,
            ack: postcard_decode(body)?,
        })
    }
}
