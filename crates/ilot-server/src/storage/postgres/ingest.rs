//! One batch in one transaction. The device's row is locked first (`FOR UPDATE`): of two nodes
//! handed the same or consecutive batches, the second waits, then sees what the first did, so
//! sequence numbers and acknowledgements stay those of a single node. Entries go in with one
//! statement over arrays; the primary key deduplicates them (`ON CONFLICT DO NOTHING`).

use chrono::{DateTime, Utc};
use ilot_wire::WireOp;
use r2d2_postgres::postgres::Client;

use super::super::{IngestBatch, IngestOutcome, StoredAck};
use super::rows::{ack_of, bad, ts};
use crate::error::Result;

pub(super) fn ingest(c: &mut Client, b: &IngestBatch<'_>) -> Result<IngestOutcome> {
    let mut tx = c.transaction()?;
    let device = b.device_id.as_bytes().as_slice();
    let patient = b.patient_id.as_bytes().as_slice();
    let seq = i64::try_from(b.seq).map_err(|_| bad("batch seq", b.seq))?;
    // The row lock orders this batch with a revocation of the device: once the revocation
    // commits, no batch of the device is stored.
    let Some(row) = tx.query_opt(
        "SELECT last_batch_seq, revoked_at IS NOT NULL FROM devices
         WHERE id = $1 AND patient_id = $2 FOR UPDATE",
        &[&device, &patient],
    )?
    else {
        return Ok(IngestOutcome::DeviceRevoked);
    };
    if row.get::<_, bool>(1) {
        return Ok(IngestOutcome::DeviceRevoked);
    }
    let last: Option<i64> = row.get(0);
    if let Some(ack) = ack_of(&mut tx, device, seq)? {
        return Ok(IngestOutcome::AlreadyAccepted(ack));
    }
    if let Some(last) = last.filter(|&l| l >= seq) {
        return Ok(IngestOutcome::Stale {
            last_accepted: last as u64,
        });
    }
    // The patient's row lock orders this batch's daily summaries with those of another device
    // of the same patient ingested on another node.
    let prow = tx.query_one(
        "SELECT tz FROM patients WHERE id = $1 FOR UPDATE",
        &[&patient],
    )?;
    let tz: chrono_tz::Tz = prow
        .get::<_, &str>(0)
        .parse()
        .map_err(|e| bad("patient time zone", e))?;
    // The consent history decides: the latest decision in time, this batch's included.
    let held = super::consent::latest(&mut tx, b.patient_id)?;
    let change = b
        .consent
        .map(|c| crate::storage::consent_of_device(b.device_id, &c));
    if !b.items.is_empty() && !crate::storage::may_collect(held, change.as_ref()) {
        return Ok(IngestOutcome::ConsentWithdrawn);
    }
    let closed_at: Option<DateTime<Utc>> = tx
        .query_opt(
            "SELECT closed_at FROM record_status WHERE patient_id = $1",
            &[&patient],
        )?
        .and_then(|r| r.get(0));
    if !b.items.is_empty() && closed_at.is_some_and(|c| ts(b.now) >= c) {
        return Ok(IngestOutcome::MonitoringEnded);
    }
    if let Some(c) = &change {
        super::consent::insert(&mut tx, b.patient_id, c, b.now)?;
    }
    let n = b.items.len();
    let (mut ids, mut versions, mut deleted) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let (mut at, mut recorded): (Vec<DateTime<Utc>>, Vec<DateTime<Utc>>) =
        (Vec::with_capacity(n), Vec::with_capacity(n));
    let (mut kinds, mut json) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for it in b.items {
        ids.push(it.id);
        versions.push(i64::from(it.version));
        deleted.push(it.op == WireOp::Delete);
        at.push(ts(it.entry.at_utc()));
        recorded.push(ts(it.recorded_at));
        kinds.push(it.entry.kind.name());
        json.push(serde_json::to_string(&it.entry)?);
    }
    let inserted = if n == 0 {
        Vec::new()
    } else {
        tx.query(
            "INSERT INTO entries (patient_id, device_id, entry_id, version, deleted, at, recorded_at, received_at, kind, entry)
             SELECT $1, $2, u.i, u.v, u.d, u.a, u.r, $3, u.k, u.e
             FROM unnest($4::int8[], $5::int8[], $6::bool[], $7::timestamptz[], $8::timestamptz[], $9::text[], $10::text[])
                  AS u(i, v, d, a, r, k, e)
             ON CONFLICT DO NOTHING
             RETURNING entry_id, version, at, kind = 'glucose'",
            &[
                &patient, &device, &ts(b.now), &ids, &versions, &deleted, &at, &recorded, &kinds,
                &json,
            ],
        )?
    };
    // The days whose summaries change: those of the new glucose entry versions and of their
    // earlier versions (a correction may move a reading to another day).
    let mut touched: Vec<DateTime<Utc>> = Vec::new();
    let mut corrected: Vec<i64> = Vec::new();
    for r in inserted.iter().filter(|r| r.get::<_, bool>(3)) {
        touched.push(r.get(2));
        if r.get::<_, i64>(1) > 1 {
            corrected.push(r.get(0));
        }
    }
    if !corrected.is_empty() {
        for r in tx.query(
            "SELECT at FROM entries WHERE patient_id = $1 AND device_id = $2 AND entry_id = ANY($3)",
            &[&patient, &device, &corrected],
        )? {
            touched.push(r.get(0));
        }
    }
    super::triage::refresh_days(&mut tx, patient, tz, &crate::summary::days_of(tz, touched))?;
    if crate::summary::changes_past_days(tz, b.now, b.items) {
        tx.execute(
            "DELETE FROM triage_observance WHERE patient_id = $1",
            &[&patient],
        )?;
    }
    let inserted = inserted.len();
    let stored = u32::try_from(inserted).map_err(|e| bad("stored count", e))?;
    let duplicates = u32::try_from(n).map_err(|e| bad("batch size", e))? - stored;
    let ack = StoredAck {
        digest: b.digest,
        stored,
        duplicates,
        received_at: ts(b.now),
    };
    tx.execute(
        "INSERT INTO batches (device_id, seq, digest, stored, duplicates, received_at) VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            &device,
            &seq,
            &b.digest.as_bytes().as_slice(),
            &(stored as i32),
            &(duplicates as i32),
            &ts(b.now),
        ],
    )?;
    tx.execute(
        "UPDATE devices SET last_batch_seq = $1 WHERE id = $2",
        &[&seq, &device],
    )?;
    if !b.items.is_empty() {
        tx.execute(
            "UPDATE patients SET last_data_at = $1 WHERE id = $2",
            &[&ts(b.now), &patient],
        )?;
    }
    tx.commit()?;
    Ok(IngestOutcome::Stored(ack))
}
