//! `cargo bench -p ilot-wire --bench seal` — two questions from issue #4, each answered against a
//! baseline measured in the same run.
//!
//! (a) Bytes on the wire per CGM reading for a 90-day backlog of a 5-minute CGM (25,920
//! readings, a random walk within 40–400 mg/dL, Europe/Paris times across the March DST change),
//! sealed in batches of 5,000: every byte of every sealed batch counts (header, nonce,
//! ciphertext, tag). Three shapes: integer mg/dL from a live Bluetooth CGM (device id, record
//! numbers, timing jitter of ±2 s, recorded 2–30 s later), the same in one-decimal mmol/L, and
//! a CSV import (no record numbers, one import time). Baseline: the Nightscout JSON document of
//! the same readings (`entries` collection as xDrip+/Spike upload it), serialised here.
//!
//! (b) Sealing overhead. "Raw" is one `Aes256Gcm::encrypt_inout_detached` in place over the
//! already encoded and compressed body, with a ready cipher and a fixed nonce: the bare cost of
//! AES-256-GCM on those bytes. "Ours" is `seal_encoded` on the same body: header written, 96-bit
//! nonce drawn from `rand::rng()` (ChaCha12, as the sync engine will use), encryption in place
//! with the header as associated data, tag appended, typed result. Overhead = 1 − ours/raw in
//! throughput, best of ROUNDS interleaved rounds over fresh copies (so both see cold buffers).
//! Encoding + compression, and opening, are reported separately, not in the overhead.

use std::hint::black_box;
use std::time::{Duration, Instant};

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::{AeadInOut, KeyInit};
use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Europe::Paris;
use ilot_domain::{
    DeviceId as SourceDevice, Entry, EntryKind, Glucose, GlucoseReading, GlucoseUnit, Note, Source,
    SourceKind,
};
use ilot_wire::{
    BatchHeader, DeviceId, DeviceSecret, Encoded, Expected, OpenBatch, PatientId, SeqRule,
    ServerSecret, SessionKeys, WireEntry, WireOp, encode, open, seal, seal_encoded,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const READINGS: usize = 90 * 24 * 12;
const BATCH: usize = 5_000;
const ROUNDS: usize = 7;

const P: PatientId = PatientId::from_bytes([0x42; 16]);
const D: DeviceId = DeviceId::from_bytes([0x24; 16]);

#[derive(Clone, Copy, PartialEq)]
enum Shape {
    LiveMgDl,
    LiveMmol,
    ImportMgDl,
}

impl Shape {
    fn name(self) -> &'static str {
        match self {
            Self::LiveMgDl => "live CGM, integer mg/dL",
            Self::LiveMmol => "live CGM, one-decimal mmol/L",
            Self::ImportMgDl => "CSV import, integer mg/dL",
        }
    }
}

/// The backlog and, for the baseline, its mg/dL values and UTC times.
fn backlog(shape: Shape) -> Vec<WireEntry> {
    let mut r = StdRng::seed_from_u64(90);
    let start = Paris
        .with_ymd_and_hms(2026, 2, 1, 0, 0, 0)
        .unwrap()
        .to_utc();
    let imported = start + TimeDelta::days(91);
    let device = SourceDevice::new(match shape {
        Shape::ImportMgDl => "csv:clarity:8RJ4K2",
        _ => "dexcom:g7:8RJ4K2",
    })
    .unwrap();
    let mut mg = 120.0f64;
    (0..READINGS)
        .map(|i| {
            // A random walk: CGM values change by a few mg/dL in 5 minutes.
            mg = (mg + r.random_range(-8.0..=8.0)).clamp(40.0, 400.0);
            let glucose = match shape {
                Shape::LiveMmol => Glucose::new(
                    (mg / 18.016 * 10.0).round() / 10.0,
                    GlucoseUnit::MmolPerLitre,
                ),
                _ => Glucose::new(mg.round(), GlucoseUnit::MgPerDl),
            }
            .unwrap();
            let utc = start + TimeDelta::seconds(300 * i as i64 + r.random_range(-2..=2));
            let at = utc.with_timezone(&Paris).fixed_offset();
            let (source, recorded_at) = match shape {
                Shape::ImportMgDl => (Source::import(device.clone()), imported),
                _ => (
                    Source::device(SourceKind::Cgm, device.clone(), i as u32 + 1),
                    utc + TimeDelta::seconds(r.random_range(2..=30)),
                ),
            };
            WireEntry {
                id: 10_000 + i as i64,
                version: 1,
                op: WireOp::Insert,
                recorded_at,
                entry: Entry {
                    at,
                    source,
                    kind: EntryKind::Glucose(GlucoseReading::cgm(glucose)),
                },
                reason: None,
            }
        })
        .collect()
}

fn batches(items: &[WireEntry]) -> Vec<OpenBatch> {
    items
        .chunks(BATCH)
        .enumerate()
        .map(|(i, c)| {
            let created = c[c.len() - 1].recorded_at;
            OpenBatch::new(BatchHeader::new(P, D, i as u64 + 1, created), c.to_vec())
        })
        .collect()
}

/// One reading as Nightscout stores and serves it (`/api/v1/entries.json`).
fn nightscout_json(e: &WireEntry, prev_mg: f64, i: usize) -> String {
    let mg = match e.entry.kind {
        EntryKind::Glucose(ref g) => g.level.mg_dl().unwrap_or(0.0),
        _ => 0.0,
    };
    let utc = e.entry.at.to_utc();
    let ms = utc.timestamp_millis();
    serde_json::json!({
        "_id": format!("{:024x}", 0x65f0_0000_0000_0000_0000u128 + i as u128),
        "device": "xDrip-DexcomG7",
        "date": ms,
        "dateString": utc.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "sgv": mg.round() as i64,
        "delta": ((mg - prev_mg) * 1000.0).round() / 1000.0,
        "direction": "Flat",
        "type": "sgv",
        "filtered": (mg * 1000.0) as i64,
        "unfiltered": (mg * 1000.0) as i64,
        "rssi": 100,
        "noise": 1,
        "sysTime": utc.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "utcOffset": e.entry.at.offset().local_minus_utc() / 60,
        "mills": ms,
    })
    .to_string()
}

fn sizes(keys: &SessionKeys) {
    println!("(a) bytes per CGM reading, {READINGS} readings (90 days × 288), batches of {BATCH}");
    println!(
        "{:<32} {:>9} {:>12} {:>13} {:>13} {:>11}",
        "shape", "batches", "encoded B/r", "sealed B/r", "Nightscout", "ours/NS"
    );
    let mut r = StdRng::seed_from_u64(1);
    for shape in [Shape::LiveMgDl, Shape::LiveMmol, Shape::ImportMgDl] {
        let items = backlog(shape);
        let bs = batches(&items);
        let (mut plain, mut sealed) = (0usize, 0usize);
        for b in &bs {
            let e = encode(b).unwrap();
            plain += e.plain_len();
            let s = seal(b, &keys.to_server, &mut r).unwrap();
            // Opening gives the batch back exactly: the size is not bought with lost data.
            assert_eq!(
                &open(&s, &keys.to_server, &Expected::new(P, D, SeqRule::Any)).unwrap(),
                b
            );
            sealed += s.len();
        }
        let mut prev = 120.0;
        let ns: usize = items
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let json = nightscout_json(e, prev, i);
                if let EntryKind::Glucose(ref g) = e.entry.kind {
                    prev = g.level.mg_dl().unwrap_or(prev);
                }
                json.len()
            })
            .sum();
        let n = READINGS as f64;
        println!(
            "{:<32} {:>9} {:>12.2} {:>13.2} {:>13.1} {:>10.2}%",
            shape.name(),
            bs.len(),
            plain as f64 / n,
            sealed as f64 / n,
            ns as f64 / n,
            100.0 * sealed as f64 / ns as f64
        );
    }
    println!("  target: sealed ≤ 16 bytes/reading, framing and encryption included\n");
}

/// Best time per operation over the rounds.
fn best(per_op: &[Duration]) -> Duration {
    *per_op.iter().min().unwrap()
}

fn throughput(label: &str, enc: &Encoded<OpenBatch>, keys: &SessionKeys, n: usize) {
    let body = enc.clone();
    let len = body.body_len();
    // The same number of body bytes for the raw baseline (content does not matter to AES-GCM),
    // laid out as in a sealed message (body at offset 76 of a buffer with room for the tag),
    // so both sides encrypt equally aligned memory.
    let mut raw_body = Vec::with_capacity(ilot_wire::OVERHEAD + len);
    raw_body.resize(ilot_wire::HEADER_LEN + ilot_wire::NONCE_LEN, 0u8);
    raw_body.resize(ilot_wire::HEADER_LEN + ilot_wire::NONCE_LEN + len, 0x5a);
    let body_at = ilot_wire::HEADER_LEN + ilot_wire::NONCE_LEN;
    let cipher = Aes256Gcm::new(&(*keys.to_server.to_bytes()).into());
    let ad = [0u8; ilot_wire::HEADER_LEN];
    let nonce = [7u8; 12];
    let mut rng = rand::rng();
    let (mut ours, mut raw, mut enc_t, mut open_t, mut raw_dec) =
        (vec![], vec![], vec![], vec![], vec![]);
    let batch = open(
        &seal_encoded(enc.clone(), &keys.to_server, &mut rng).unwrap(),
        &keys.to_server,
        &Expected::new(P, D, SeqRule::Any),
    )
    .unwrap();
    for round in 0..ROUNDS {
        // Raw AES-256-GCM, in place, over fresh copies.
        let mut measure_raw = || {
            let mut bufs: Vec<Vec<u8>> = (0..n)
                .map(|_| {
                    let mut b = Vec::with_capacity(raw_body.len() + ilot_wire::TAG_LEN);
                    b.extend_from_slice(&raw_body);
                    b
                })
                .collect();
            let t = Instant::now();
            let tags: Vec<_> = bufs
                .iter_mut()
                .map(|b| {
                    cipher
                        .encrypt_inout_detached(&nonce.into(), &ad, b[body_at..].as_mut().into())
                        .unwrap()
                })
                .collect();
            raw.push(t.elapsed() / n as u32);
            // Raw decryption of those ciphertexts (tag check + keystream), for the open line.
            let t = Instant::now();
            for (b, tag) in bufs.iter_mut().zip(&tags) {
                cipher
                    .decrypt_inout_detached(&nonce.into(), &ad, b[body_at..].as_mut().into(), tag)
                    .unwrap();
            }
            raw_dec.push(t.elapsed() / n as u32);
        };
        // Ours: seal_encoded over fresh copies of the same encoded body.
        let mut measure_ours = || {
            let copies: Vec<Encoded<OpenBatch>> = (0..n).map(|_| body.clone()).collect();
            let t = Instant::now();
            let sealed: Vec<_> = copies
                .into_iter()
                .map(|e| seal_encoded(e, &keys.to_server, &mut rng).unwrap())
                .collect();
            ours.push(t.elapsed() / n as u32);
            sealed
        };
        // Alternate which goes first, so neither always runs on a warmer machine.
        let sealed = if round % 2 == 0 {
            measure_raw();
            measure_ours()
        } else {
            let s = measure_ours();
            measure_raw();
            s
        };

        // Open (authenticate, decrypt, decompress, decode), a tenth as many.
        let m = (n / 10).max(1);
        let t = Instant::now();
        for s in sealed.iter().take(m) {
            black_box(open(s, &keys.to_server, &Expected::new(P, D, SeqRule::Any)).unwrap());
        }
        open_t.push(t.elapsed() / m as u32);

        // Encode + compress.
        let t = Instant::now();
        for _ in 0..m {
            black_box(encode(&batch).unwrap());
        }
        enc_t.push(t.elapsed() / m as u32);
    }
    let mbps = |d: Duration| len as f64 / d.as_secs_f64() / 1e6;
    let (o, r) = (best(&ours), best(&raw));
    println!(
        "{label}: body {len} B ({} B before LZ4), {} items",
        enc.plain_len(),
        batch.items.len()
    );
    println!(
        "  raw AES-256-GCM encrypt   {:>9.2} µs  {:>8.0} MB/s",
        r.as_secs_f64() * 1e6,
        mbps(r)
    );
    println!(
        "  seal_encoded (ours)       {:>9.2} µs  {:>8.0} MB/s   seal overhead = {:.1} %",
        o.as_secs_f64() * 1e6,
        mbps(o),
        100.0 * (1.0 - mbps(o) / mbps(r))
    );
    let (e, op, rd) = (best(&enc_t), best(&open_t), best(&raw_dec));
    println!(
        "  encode + LZ4 (separate)   {:>9.2} µs  ({:.0} ns/item)",
        e.as_secs_f64() * 1e6,
        e.as_nanos() as f64 / batch.items.len() as f64
    );
    println!(
        "  open: verify+decrypt+LZ4+decode {:>9.2} µs (raw AES-GCM decrypt {:.2} µs)\n",
        op.as_secs_f64() * 1e6,
        rd.as_secs_f64() * 1e6
    );
}

fn notes_batch(bytes: usize) -> OpenBatch {
    // Incompressible text (random letters), stored rather than compressed: a large body.
    let mut r = StdRng::seed_from_u64(5);
    let t: DateTime<Utc> = Utc.with_ymd_and_hms(2026, 3, 1, 8, 0, 0).unwrap();
    let items = (0..bytes / 4000)
        .map(|i| {
            let text: String = (0..3990)
                .map(|_| char::from(r.random_range(b'a'..=b'z')))
                .collect();
            WireEntry {
                id: i as i64,
                version: 1,
                op: WireOp::Insert,
                recorded_at: t,
                entry: Entry {
                    at: t.fixed_offset(),
                    source: Source::manual(),
                    kind: EntryKind::Note(Note::new(text).unwrap()),
                },
                reason: None,
            }
        })
        .collect();
    OpenBatch::new(BatchHeader::new(P, D, 1, t), items)
}

fn main() {
    let mut r = StdRng::seed_from_u64(3);
    let device = DeviceSecret::generate(&mut r);
    let server = ServerSecret::generate(&mut r);
    let keys = device.agree(&server.public_key(), P, D).unwrap();
    assert_eq!(
        keys.to_server.to_bytes(),
        server
            .agree(&device.public_key(), P, D)
            .unwrap()
            .to_server
            .to_bytes()
    );

    sizes(&keys);

    println!(
        "(b) sealing throughput vs raw AES-256-GCM on the same bytes, best of {ROUNDS} rounds"
    );
    let cgm = batches(&backlog(Shape::LiveMgDl));
    throughput(
        "5,000-reading CGM batch",
        &encode(&cgm[0]).unwrap(),
        &keys,
        2000,
    );
    let all = OpenBatch::new(
        BatchHeader::new(P, D, 1, cgm[0].header.created_at),
        backlog(Shape::LiveMgDl),
    );
    throughput(
        "25,920-reading CGM batch",
        &encode(&all).unwrap(),
        &keys,
        500,
    );
    let one = OpenBatch::new(cgm[0].header, cgm[0].items[..1].to_vec());
    throughput(
        "1-entry batch (fixed costs dominate)",
        &encode(&one).unwrap(),
        &keys,
        20_000,
    );
    throughput(
        "1 MB of incompressible notes",
        &encode(&notes_batch(1 << 20)).unwrap(),
        &keys,
        40,
    );
}
