//! The body decoders under a memory cap. This test binary counts every allocation (its own
//! global allocator) and fails when decoding one body, however hostile, makes a single
//! allocation larger than the kind's bound allows — the bodies come from an enrolled device
//! whose sealed message authenticated, so nothing but these bounds stands between a crafted
//! body and the server's memory. Crafted bombs, then a property-based fuzz of the decoders.

// The counting allocator is the one place unsafe is needed: `GlobalAlloc` is an unsafe trait.
#![allow(unsafe_code)]

#[path = "../it/strategies.rs"]
#[allow(dead_code)]
mod strategies;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use chrono::DateTime;
use ilot_wire::api::{ErrorBody, ErrorCode};
use ilot_wire::{
    BatchHeader, DeviceId, DeviceSecret, Expected, Kind, MAX_BATCH_BODY_LEN, MAX_BATCH_ITEMS,
    OpenBatch, PatientId, SealedBatch, SeqRule, ServerSecret, SessionKeys, WireEntry, WireError,
    open, raw,
};
use proptest::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;

/// Records the largest allocation of each thread; refuses anything over 1 GiB so that a
/// regression fails the run instead of exhausting the machine.
struct Counting;

const HARD_LIMIT: usize = 1 << 30;

thread_local! {
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

fn note(size: usize) -> bool {
    let _ = LARGEST.try_with(|c| c.set(c.get().max(size)));
    size <= HARD_LIMIT
}

// SAFETY: every call is forwarded unchanged to the system allocator; refusing a request
// (null) is allowed by the `GlobalAlloc` contract.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        if !note(l.size()) {
            return std::ptr::null_mut();
        }
        unsafe { System.alloc(l) }
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        if !note(l.size()) {
            return std::ptr::null_mut();
        }
        unsafe { System.alloc_zeroed(l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        if !note(new) {
            return std::ptr::null_mut();
        }
        unsafe { System.realloc(p, l, new) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Runs `f` and returns its result with the largest single allocation it made on this thread.
fn largest_allocation<R>(f: impl FnOnce() -> R) -> (R, usize) {
    LARGEST.with(|c| c.set(0));
    let r = f();
    (r, LARGEST.with(Cell::get))
}

/// What decoding one body of `kind` may allocate at once: the kind's body bound (the
/// decompressed buffer), or a full batch's items, plus a little.
fn cap(kind: Kind) -> usize {
    let items = MAX_BATCH_ITEMS * std::mem::size_of::<WireEntry>();
    kind.max_body_len().max(items) + (64 << 10)
}

const P: PatientId = PatientId::from_bytes([0xA1; 16]);
const D: DeviceId = DeviceId::from_bytes([0xD1; 16]);

fn session() -> SessionKeys {
    let mut r = StdRng::seed_from_u64(7);
    let d = DeviceSecret::generate(&mut r);
    ServerSecret::generate(&mut r)
        .agree(&d.public_key(), P, D)
        .unwrap()
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// A batch body in the columnar layout: item count, flags, 19 column lengths, the columns.
fn columnar(n_items: u64, flags: u8, columns: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    put_varint(&mut out, n_items);
    out.push(flags);
    put_varint(&mut out, columns.len() as u64);
    for c in columns {
        put_varint(&mut out, c.len() as u64);
    }
    for c in columns {
        out.extend_from_slice(c);
    }
    out
}

/// Seals `plain` LZ4-compressed as batch 1 of the device, as a hostile enrolled device would,
/// and opens it as the server does. Returns the error and the largest allocation of `open`.
fn push_crafted(plain: &[u8]) -> (usize, WireError, usize) {
    let keys = session();
    // LZ4 by hand: the crate's own encoder refuses to make such a body.
    let mut body = (plain.len() as u32).to_be_bytes().to_vec();
    body.extend(lz4_flex::block::compress(plain));
    let codec = 1;
    let header = BatchHeader::new(P, D, 1, DateTime::UNIX_EPOCH);
    let sealed = raw::seal_batch_body(
        &header,
        codec,
        &body,
        &keys.to_server,
        &mut StdRng::seed_from_u64(1),
    )
    .unwrap();
    let bytes = sealed.into_bytes();
    let len = bytes.len();
    let sealed = SealedBatch::from_bytes(bytes).unwrap();
    let (r, largest) = largest_allocation(|| {
        open(&sealed, &keys.to_server, &Expected::new(P, D, SeqRule::Any)).map(drop)
    });
    (len, r.unwrap_err(), largest)
}

#[test]
fn a_small_batch_claiming_millions_of_items_is_refused_without_a_large_allocation() {
    // Three million items, each "proved" by one byte of the id column (zeros: LZ4 makes them
    // a few kilobytes). The body stays under the size bound: only the count can refuse it.
    let n = 3_000_000u64;
    let mut columns = vec![Vec::new(); 19];
    columns[0] = vec![0; n as usize];
    let plain = columnar(n, 0, &columns);
    assert!(plain.len() < MAX_BATCH_BODY_LEN);
    let (sealed_len, err, largest) = push_crafted(&plain);
    assert!(sealed_len < 64 << 10, "a small message: {sealed_len} bytes");
    assert!(
        largest <= cap(Kind::Batch),
        "opening it allocated {largest} bytes at once (cap {}): {err}",
        cap(Kind::Batch)
    );
    assert_eq!(
        err,
        WireError::TooManyItems {
            items: n,
            max: MAX_BATCH_ITEMS
        }
    );
    assert_eq!(
        err.to_string(),
        "the batch announces 3000000 items, more than the 5000 a batch may hold; send smaller batches"
    );
    assert_eq!(ErrorBody::from(&err).error, ErrorCode::TooLarge);
}

#[test]
fn a_small_batch_expanding_to_64_mib_is_refused_before_it_is_decompressed() {
    // The bomb: ~260 KB sealed, 64 MiB once decompressed, announcing 67 million items.
    let n = 64u64 << 20;
    let mut columns = vec![Vec::new(); 19];
    columns[0] = vec![0; (64 << 20) - 64];
    let plain = columnar(n, 0, &columns);
    let (sealed_len, err, largest) = push_crafted(&plain);
    assert!(
        sealed_len < 300 << 10,
        "a small message: {sealed_len} bytes"
    );
    assert!(
        largest <= sealed_len + (64 << 10),
        "nothing beyond the received message is allocated: {largest} bytes at once ({err})"
    );
    assert!(
        matches!(err, WireError::BodyTooLarge { max, .. } if max == MAX_BATCH_BODY_LEN),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("more than the 4194304 this kind of message may hold"),
        "{err}"
    );
    assert_eq!(ErrorBody::from(&err).error, ErrorCode::TooLarge);
}

#[test]
fn a_full_batch_of_real_readings_decodes_under_the_cap() {
    // The cap is not vacuous: the largest real batch fits under it.
    let keys = session();
    let t = DateTime::parse_from_rfc3339("2026-03-01T00:00:00+01:00").unwrap();
    let items: Vec<WireEntry> = (0..MAX_BATCH_ITEMS as i64)
        .map(|i| WireEntry {
            id: i + 1,
            version: 1,
            op: ilot_wire::WireOp::Insert,
            recorded_at: t.to_utc(),
            entry: ilot_domain::Entry {
                at: t + chrono::TimeDelta::minutes(5 * i),
                source: ilot_domain::Source::device(
                    ilot_domain::SourceKind::Cgm,
                    ilot_domain::DeviceId::new("cgm-1").unwrap(),
                    i as u32,
                ),
                kind: ilot_domain::EntryKind::Glucose(ilot_domain::GlucoseReading::cgm(
                    ilot_domain::Glucose::from_mg_dl(100.0 + (i % 50) as f64).unwrap(),
                )),
            },
            reason: None,
        })
        .collect();
    let batch = OpenBatch::new(BatchHeader::new(P, D, 1, t.to_utc()), items);
    let sealed = ilot_wire::seal(&batch, &keys.to_server, &mut StdRng::seed_from_u64(3)).unwrap();
    let (r, largest) =
        largest_allocation(|| open(&sealed, &keys.to_server, &Expected::new(P, D, SeqRule::Any)));
    assert_eq!(r.unwrap(), batch);
    assert!(largest <= cap(Kind::Batch), "{largest}");
    // One more item is refused when sealing, not sent to be refused by the server.
    let mut over = batch.clone();
    over.items.push(over.items[0].clone());
    assert!(matches!(
        ilot_wire::seal(&over, &keys.to_server, &mut StdRng::seed_from_u64(3)),
        Err(WireError::TooManyItems { items: 5001, .. })
    ));
}

fn kind() -> impl Strategy<Value = Kind> {
    prop::sample::select(vec![Kind::Batch, Kind::PullRequest, Kind::Pull, Kind::Ack])
}

/// A column: a few arbitrary bytes, or a long run of one byte (what compresses into a bomb).
fn column() -> BoxedStrategy<Vec<u8>> {
    prop_oneof![
        3 => proptest::collection::vec(any::<u8>(), 0..24),
        1 => (any::<u8>(), 0usize..40_000).prop_map(|(b, n)| vec![b; n]),
    ]
    .boxed()
}

/// Item counts around every boundary, and any at all.
fn count() -> BoxedStrategy<u64> {
    prop_oneof![
        0u64..8,
        4_990u64..5_010,
        Just(u64::MAX),
        any::<u64>(),
        0u64..100_000,
    ]
    .boxed()
}

/// A structurally plausible batch body: the right framing, hostile content. Half the time the
/// count is "proved" by an id column of as many bytes.
fn structured() -> BoxedStrategy<Vec<u8>> {
    (
        proptest::option::of(count()),
        prop_oneof![4 => Just(0u8), 1 => any::<u8>()],
        prop_oneof![4 => Just(19usize), 1 => 0usize..25],
        proptest::collection::vec(column(), 25),
    )
        .prop_map(|(n, flags, ncols, cols)| {
            let n = n.unwrap_or(cols[0].len() as u64);
            columnar(n, flags, &cols[..ncols])
        })
        .boxed()
}

/// A valid batch body with some of its bytes overwritten, or its item count replaced.
fn mutated() -> BoxedStrategy<Vec<u8>> {
    (
        strategies::batch(),
        proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
        proptest::option::of(count()),
    )
        .prop_map(|(b, edits, n)| {
            let mut body = raw::encode_body(&b).unwrap();
            for (at, byte) in edits {
                if !body.is_empty() {
                    let i = at.index(body.len());
                    body[i] = byte;
                }
            }
            if let Some(n) = n {
                let mut head = Vec::new();
                put_varint(&mut head, n);
                // Replace the leading varint (its bytes up to the first without 0x80).
                let end = body.iter().position(|b| b & 0x80 == 0).map_or(0, |p| p + 1);
                body.splice(..end, head);
            }
            body
        })
        .boxed()
}

/// A body as sealed: compressed (the usual), stored, or an LZ4 block with a lying length.
fn sealed_body(plain: BoxedStrategy<Vec<u8>>) -> BoxedStrategy<(u8, Vec<u8>)> {
    prop_oneof![
        3 => plain.clone().prop_map(|p| raw::compress(&p).unwrap()),
        1 => plain.clone().prop_map(|p| (0u8, p)),
        1 => (plain, any::<u32>()).prop_map(|(p, len)| {
            let (_, mut body) = raw::compress(&p).unwrap();
            if body.len() < 4 {
                body.resize(4, 0);
            }
            body[..4].copy_from_slice(&len.to_be_bytes());
            (1u8, body)
        }),
    ]
    .boxed()
}

fn any_bytes() -> BoxedStrategy<Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..512).boxed()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn hostile_batch_bodies_stay_under_the_allocation_cap(
        (codec, body) in sealed_body(prop_oneof![structured(), mutated()].boxed())
    ) {
        let (r, largest) = largest_allocation(|| raw::decode_body(Kind::Batch, codec, &body));
        prop_assert!(largest <= cap(Kind::Batch), "{largest} bytes at once ({r:?})");
    }

    #[test]
    fn arbitrary_bodies_of_every_kind_stay_under_the_allocation_cap(
        k in kind(),
        codec in 0u8..3,
        body in any_bytes(),
    ) {
        let (r, largest) = largest_allocation(|| raw::decode_body(k, codec, &body));
        prop_assert!(largest <= cap(k), "{k}: {largest} bytes at once ({r:?})");
    }
}
