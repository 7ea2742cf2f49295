//! Seal/open round trips, and every way of tampering with a sealed batch.

use chrono::{DateTime, FixedOffset};
use ilot_domain::{Entry, EntryKind, Glucose, GlucoseReading, Note, Source};
use ilot_wire::{
    BatchHeader, DeviceId, Expected, HEADER_LEN, NONCE_LEN, OVERHEAD, OpenBatch, PatientId,
    SealedBatch, SealedPullRequest, SeqRule, TAG_LEN, ToServerKey, WireEntry, WireError, WireOp,
    check_replay, encode, open, seal,
};
use proptest::prelude::*;

use crate::strategies::batch;
use crate::{rng, session};

const P: PatientId = PatientId::from_bytes([0xA1; 16]);
const D: DeviceId = DeviceId::from_bytes([0xD1; 16]);

fn key() -> ToServerKey {
    session(1, P, D).to_server
}

fn any_seq() -> Expected {
    Expected::new(P, D, SeqRule::Any)
}

fn small_batch(seq: u64) -> OpenBatch {
    let t = DateTime::parse_from_rfc3339("2026-03-01T08:00:00+01:00").unwrap();
    let item = |id, kind| WireEntry {
        id,
        version: 1,
        op: WireOp::Insert,
        recorded_at: t.to_utc(),
        entry: Entry {
            at: t,
            source: Source::manual(),
            kind,
        },
        reason: None,
    };
    OpenBatch::new(
        BatchHeader::new(P, D, seq, t.to_utc()),
        vec![
            item(
                1,
                EntryKind::Glucose(GlucoseReading::cgm(Glucose::from_mg_dl(126.0).unwrap())),
            ),
            item(2, EntryKind::Note(Note::new("pain au chocolat").unwrap())),
        ],
    )
}

fn sealed_small(seq: u64) -> SealedBatch {
    seal(&small_batch(seq), &key(), &mut rng(2)).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn every_batch_comes_back_exactly(b in batch(), seed in any::<u64>()) {
        let keys = session(seed, b.header.patient_id, b.header.device_id);
        let sealed = seal(&b, &keys.to_server, &mut rng(seed)).unwrap();
        // Through bytes, as over the network.
        let received = SealedBatch::from_bytes(sealed.clone().into_bytes()).unwrap();
        prop_assert_eq!(received.unverified_header(), &b.header);
        let expected = Expected::new(b.header.patient_id, b.header.device_id, SeqRule::Exact(b.header.seq));
        let back = open(&received, &keys.to_server, &expected).unwrap();
        // Bit-exact numbers: compare the f64 bits, not only PartialEq (which calls 0.0 == -0.0).
        prop_assert_eq!(format!("{:?}", back.items), format!("{:?}", b.items));
        prop_assert_eq!(back, b);
    }

    #[test]
    fn random_bytes_never_open(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        if let Ok(s) = SealedBatch::from_bytes(bytes) {
            prop_assert!(open(&s, &key(), &any_seq()).is_err());
        }
    }

    #[test]
    fn random_bodies_behind_a_valid_header_fail_authentication(body in proptest::collection::vec(any::<u8>(), TAG_LEN..300)) {
        let mut bytes = sealed_small(1).as_bytes()[..HEADER_LEN].to_vec();
        let body_len = (body.len() - TAG_LEN) as u32;
        bytes[60..64].copy_from_slice(&body_len.to_be_bytes());
        bytes.extend_from_slice(&[0; NONCE_LEN]);
        bytes.extend_from_slice(&body);
        let s = SealedBatch::from_bytes(bytes).unwrap();
        prop_assert_eq!(open(&s, &key(), &any_seq()).unwrap_err(), WireError::AuthenticationFailed);
    }
}

#[test]
fn every_single_bit_flip_is_refused() {
    let sealed = sealed_small(7).into_bytes();
    for bit in 0..sealed.len() * 8 {
        let mut b = sealed.clone();
        b[bit / 8] ^= 1 << (bit % 8);
        let byte = bit / 8;
        let result = SealedBatch::from_bytes(b).and_then(|s| open(&s, &key(), &any_seq()));
        let e = result.expect_err(&format!("bit {bit} flipped and still opened"));
        let fits = match byte {
            0..4 => e == WireError::BadMagic,
            4 => matches!(e, WireError::UnsupportedVersion { .. }),
            5 => matches!(e, WireError::WrongKind { .. }),
            6 => matches!(e, WireError::BadHeader(_) | WireError::AuthenticationFailed),
            7 => matches!(e, WireError::BadHeader(_)),
            8..24 => matches!(e, WireError::WrongPatient { .. }),
            24..40 => matches!(e, WireError::WrongDevice { .. }),
            40..60 => matches!(e, WireError::AuthenticationFailed | WireError::BadHeader(_)),
            60..64 => matches!(
                e,
                WireError::Truncated { .. } | WireError::TrailingBytes { .. }
            ),
            _ => e == WireError::AuthenticationFailed,
        };
        assert!(fits, "byte {byte}: unexpected {e:?}");
    }
}

#[test]
fn every_truncation_is_refused_as_truncated() {
    let sealed = sealed_small(7).into_bytes();
    for len in 0..sealed.len() {
        let e = SealedBatch::from_bytes(sealed[..len].to_vec()).unwrap_err();
        assert!(
            matches!(e, WireError::Truncated { got, .. } if got == len),
            "{len}: {e:?}"
        );
    }
    let mut longer = sealed;
    longer.push(0);
    assert_eq!(
        SealedBatch::from_bytes(longer).unwrap_err(),
        WireError::TrailingBytes { extra: 1 }
    );
}

/// Rewrites header bytes and the expectation to match: only authentication can notice.
fn restamped(range: std::ops::Range<usize>, value: &[u8]) -> (SealedBatch, Expected) {
    let mut b = sealed_small(7).into_bytes();
    b[range].copy_from_slice(value);
    let s = SealedBatch::from_bytes(b).unwrap();
    let h = *s.unverified_header();
    (s, Expected::new(h.patient_id, h.device_id, SeqRule::Any))
}

#[test]
fn a_batch_cannot_be_moved_to_another_patient_or_device_or_renumbered() {
    for (range, value) in [
        (8..24, [0xB2; 16].as_slice()),
        (24..40, [0xD2; 16].as_slice()),
        (40..48, 8u64.to_be_bytes().as_slice()),
        (48..56, 0i64.to_be_bytes().as_slice()),
    ] {
        let (s, expected) = restamped(range.clone(), value);
        // Even the receiver's own keys for that patient or device do not open it.
        let h = s.unverified_header();
        let their_key = session(1, h.patient_id, h.device_id).to_server;
        assert_eq!(
            open(&s, &their_key, &expected).unwrap_err(),
            WireError::AuthenticationFailed,
            "{range:?}"
        );
        assert_eq!(
            open(&s, &key(), &expected).unwrap_err(),
            WireError::AuthenticationFailed,
            "{range:?}"
        );
    }
}

#[test]
fn a_batch_for_another_patient_or_device_is_refused_before_decryption() {
    let s = sealed_small(7);
    let other_p = PatientId::from_bytes([0xB2; 16]);
    let other_d = DeviceId::from_bytes([0xD2; 16]);
    assert_eq!(
        open(&s, &key(), &Expected::new(other_p, D, SeqRule::Any)).unwrap_err(),
        WireError::WrongPatient {
            expected: other_p,
            got: P
        }
    );
    assert_eq!(
        open(&s, &key(), &Expected::new(P, other_d, SeqRule::Any)).unwrap_err(),
        WireError::WrongDevice {
            expected: other_d,
            got: D
        }
    );
}

#[test]
fn replays_are_recognised_after_authentication() {
    let s = sealed_small(5);
    // The server accepted 5: the same batch again is a replay, and says which.
    assert_eq!(
        open(&s, &key(), &Expected::next_batch(P, D, Some(5))).unwrap_err(),
        WireError::Replay {
            seq: 5,
            last_accepted: 5
        }
    );
    assert!(
        open(&s, &key(), &Expected::next_batch(P, D, Some(9)))
            .unwrap_err()
            .is_replay()
    );
    assert!(open(&s, &key(), &Expected::next_batch(P, D, Some(4))).is_ok());
    assert!(open(&s, &key(), &Expected::next_batch(P, D, None)).is_ok());
    // A forged replay (tampered bytes) is an authentication failure, not a replay.
    let mut b = s.clone().into_bytes();
    let last = b.len() - 1;
    b[last] ^= 1;
    let forged = SealedBatch::from_bytes(b).unwrap();
    assert_eq!(
        open(&forged, &key(), &Expected::next_batch(P, D, Some(5))).unwrap_err(),
        WireError::AuthenticationFailed
    );
    // The helper alone.
    assert!(check_replay(None, 0).is_ok());
    assert!(check_replay(Some(5), 6).is_ok());
    assert_eq!(
        check_replay(Some(5), 5),
        Err(WireError::Replay {
            seq: 5,
            last_accepted: 5
        })
    );
    assert_eq!(
        check_replay(Some(u64::MAX), u64::MAX).unwrap_err(),
        WireError::Replay {
            seq: u64::MAX,
            last_accepted: u64::MAX
        }
    );
    // A retry is byte-identical, so its digest tells the server it is the same batch.
    assert_eq!(
        s.digest(),
        SealedBatch::from_bytes(s.as_bytes().to_vec())
            .unwrap()
            .digest()
    );
}

#[test]
fn the_wrong_key_fails_authentication() {
    let s = sealed_small(7);
    let other_device = session(99, P, D);
    assert_eq!(
        open(&s, &other_device.to_server, &any_seq()).unwrap_err(),
        WireError::AuthenticationFailed
    );
    // The other direction's key of the same device, smuggled in by its bytes.
    let reflected = ToServerKey::from_bytes(session(1, P, D).to_device.to_bytes());
    assert_eq!(
        open(&s, &reflected, &any_seq()).unwrap_err(),
        WireError::AuthenticationFailed
    );
}

#[test]
fn a_batch_is_not_a_pull_request() {
    let s = sealed_small(7);
    // Same direction and key, so only the authenticated kind byte tells them apart.
    let e = SealedPullRequest::from_bytes(s.as_bytes().to_vec()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "a sealed batch was received where a sealed pull request was expected; check the endpoint"
    );
    let mut b = s.into_bytes();
    b[5] = 2;
    let relabelled = SealedPullRequest::from_bytes(b).unwrap();
    assert_eq!(
        open(&relabelled, &key(), &any_seq()).unwrap_err(),
        WireError::AuthenticationFailed
    );
}

#[test]
fn every_seal_draws_a_fresh_nonce() {
    let b = small_batch(1);
    let mut r = rng(3);
    let one = seal(&b, &key(), &mut r).unwrap();
    let two = seal(&b, &key(), &mut r).unwrap();
    assert_ne!(
        one.as_bytes()[HEADER_LEN..HEADER_LEN + NONCE_LEN],
        two.as_bytes()[HEADER_LEN..HEADER_LEN + NONCE_LEN]
    );
    assert_eq!(
        open(&one, &key(), &any_seq()).unwrap(),
        open(&two, &key(), &any_seq()).unwrap()
    );
}

#[test]
fn the_encoded_size_is_the_sealed_size() {
    let b = small_batch(1);
    let e = encode(&b).unwrap();
    let (sealed_len, body_len) = (e.sealed_len(), e.body_len());
    let s = ilot_wire::seal_encoded(e, &key(), &mut rng(4)).unwrap();
    assert_eq!(s.len(), sealed_len);
    assert_eq!(s.len(), OVERHEAD + body_len);
}

#[test]
fn another_protocol_version_is_named() {
    let mut b = small_batch(1);
    b.header.protocol_version = 2;
    assert_eq!(
        seal(&b, &key(), &mut rng(1)).unwrap_err(),
        WireError::UnsupportedVersion {
            got: 2,
            supported: 1
        }
    );
    let mut bytes = sealed_small(1).into_bytes();
    bytes[4] = 2;
    let e = SealedBatch::from_bytes(bytes).unwrap_err().to_string();
    assert_eq!(
        e,
        "protocol version 2 is not supported (this side speaks version 1); update the app or the server"
    );
}

#[test]
fn sealed_batches_show_no_content() {
    let s = sealed_small(1);
    let shown = format!("{s:?}");
    assert!(
        !shown.contains("chocolat") && shown.contains("len"),
        "{shown}"
    );
    let o = open(&s, &key(), &any_seq()).unwrap();
    let t: DateTime<FixedOffset> = o.items[0].entry.at;
    assert_eq!(t.offset().local_minus_utc(), 3600);
}
