//! What the server refuses, each with a clear error and nothing stored: altered, truncated,
//! replayed and cross-patient batches, one patient's device reaching for another's data, and
//! enrolment codes guessed in bulk.

use ilot_sync::{SyncError, SyncState, Transport};
use ilot_wire::api::{ErrorCode, SEALED_MEDIA_TYPE, paths};
use ilot_wire::{
    BatchHeader, Expected, OpenBatch, OpenPullRequest, PullRequest, SealedAck, SeqRule, WireEntry,
    WireOp, open, seal,
};

use crate::support::*;

fn batch(
    dev: &Device,
    seq: u64,
    entries: usize,
    first: u32,
    header_of: Option<&Device>,
) -> Vec<u8> {
    let id = dev.identity().unwrap().unwrap();
    let named = header_of.map_or(id.clone(), |o| o.identity().unwrap().unwrap());
    let items = cgm_entries(entries, first)
        .into_iter()
        .enumerate()
        .map(|(i, entry)| WireEntry {
            id: i as i64 + i64::from(first),
            version: 1,
            op: WireOp::Insert,
            recorded_at: t0(),
            entry,
            reason: None,
        })
        .collect();
    let b = OpenBatch::new(
        BatchHeader::new(named.patient_id, named.device_id, seq, t0()),
        items,
    );
    seal(&b, &id.keys().unwrap().to_server, &mut rand::rng())
        .unwrap()
        .into_bytes()
}

fn refused(r: ilot_sync::Result<Vec<u8>>) -> (ErrorCode, String) {
    match r {
        Err(SyncError::Refused { code, message, .. }) => (code, message),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn altered_truncated_replayed_and_cross_patient_batches_store_nothing() {
    let server = TestServer::start();
    let ea = server.new_patient("A");
    let eb = server.new_patient("B");
    let a = enrolled(&server, &ea.code);
    let b = enrolled(&server, &eb.code);
    let t = transport(&server.url());
    let count = |p| server.state.storage().count_entry_versions(p).unwrap();
    // Both devices already sent batch 1 (consent) at enrolment.
    let good = batch(&a, 2, 20, 1, None);

    let mut altered = good.clone();
    let n = altered.len();
    altered[n - 20] ^= 0x01;
    let (code, msg) = refused(t.post(paths::PUSH, SEALED_MEDIA_TYPE, altered));
    assert_eq!(code, ErrorCode::AuthenticationFailed, "{msg}");
    assert!(msg.contains("altered"), "{msg}");

    let (code, msg) = refused(t.post(
        paths::PUSH,
        SEALED_MEDIA_TYPE,
        good[..good.len() - 1].to_vec(),
    ));
    assert_eq!(code, ErrorCode::Malformed, "{msg}");
    assert!(msg.contains("truncated"), "{msg}");
    assert_eq!(count(ea.patient_id), 0);

    // Device A's keys, header naming patient B's device: refused before decryption.
    let cross = batch(&a, 2, 20, 1, Some(&b));
    let (code, msg) = refused(t.post(paths::PUSH, SEALED_MEDIA_TYPE, cross));
    assert!(
        matches!(
            code,
            ErrorCode::AuthenticationFailed | ErrorCode::WrongPatient
        ),
        "{code:?}: {msg}"
    );
    assert!(
        !msg.contains(&eb.patient_id.to_string()),
        "no ids of others in messages: {msg}"
    );
    assert_eq!((count(ea.patient_id), count(eb.patient_id)), (0, 0));

    // The good batch is stored once; the same bytes again get the same acknowledgement.
    let keys = a.identity().unwrap().unwrap();
    let ack1 = t
        .post(paths::PUSH, SEALED_MEDIA_TYPE, good.clone())
        .unwrap();
    let ack2 = t
        .post(paths::PUSH, SEALED_MEDIA_TYPE, good.clone())
        .unwrap();
    let exp = Expected::new(keys.patient_id, keys.device_id, SeqRule::Exact(2));
    let k = keys.keys().unwrap();
    let (o1, o2) = (
        open(&SealedAck::from_bytes(ack1).unwrap(), &k.to_device, &exp).unwrap(),
        open(&SealedAck::from_bytes(ack2).unwrap(), &k.to_device, &exp).unwrap(),
    );
    assert_eq!(o1.ack, o2.ack);
    assert_eq!(o1.ack.stored, 20);
    assert_eq!(count(ea.patient_id), 20);

    // The same number with other content: refused.
    let other = batch(&a, 2, 5, 500, None);
    let (code, msg) = refused(t.post(paths::PUSH, SEALED_MEDIA_TYPE, other));
    assert_eq!(code, ErrorCode::SeqReused, "{msg}");
    // An older number (an old batch replayed with new content) too.
    let (code, _) = refused(t.post(paths::PUSH, SEALED_MEDIA_TYPE, batch(&a, 1, 5, 500, None)));
    assert_eq!(code, ErrorCode::SeqReused);
    assert_eq!(count(ea.patient_id), 20);
}

#[test]
fn a_device_of_patient_a_can_neither_read_nor_write_patient_b() {
    let server = TestServer::start();
    let ea = server.new_patient("A");
    let eb = server.new_patient("B");
    let a = enrolled(&server, &ea.code);
    let b = enrolled(&server, &eb.code);
    let t = transport(&server.url());
    let op = server.physician();
    server
        .state
        .storage()
        .add_message(eb.patient_id, &op.member(), "for B only", t0())
        .unwrap();

    // Pull: A's keys with B's ids in the header.
    let ida = a.identity().unwrap().unwrap();
    let idb = b.identity().unwrap().unwrap();
    let req = OpenPullRequest {
        header: BatchHeader::new(idb.patient_id, idb.device_id, 0, t0()),
        request: PullRequest {
            request_id: 1,
            limit: 10,
            rights: None,
        },
    };
    let sealed = seal(&req, &ida.keys().unwrap().to_server, &mut rand::rng()).unwrap();
    let (code, _) = refused(t.post(paths::PULL, SEALED_MEDIA_TYPE, sealed.into_bytes()));
    assert_eq!(code, ErrorCode::AuthenticationFailed);
    // A's header with B's patient id and A's device: refused as another patient's.
    let req = OpenPullRequest {
        header: BatchHeader::new(idb.patient_id, ida.device_id, 0, t0()),
        request: PullRequest {
            request_id: 1,
            limit: 10,
            rights: None,
        },
    };
    let sealed = seal(&req, &ida.keys().unwrap().to_server, &mut rand::rng()).unwrap();
    let (code, _) = refused(t.post(paths::PULL, SEALED_MEDIA_TYPE, sealed.into_bytes()));
    assert!(
        matches!(
            code,
            ErrorCode::WrongPatient | ErrorCode::AuthenticationFailed
        ),
        "{code:?}"
    );
    // Push: same two shapes.
    let (code, _) = refused(t.post(paths::PUSH, SEALED_MEDIA_TYPE, batch(&a, 2, 3, 1, Some(&b))));
    assert!(matches!(
        code,
        ErrorCode::WrongPatient | ErrorCode::AuthenticationFailed
    ));
    assert_eq!(
        server
            .state
            .storage()
            .count_entry_versions(eb.patient_id)
            .unwrap(),
        0
    );

    // A's own pull never carries B's message.
    let mut a = a;
    let r = ilot_sync::sync_once(
        &mut a,
        &t,
        ilot_sync::Limits::default(),
        &mut rand::rng(),
        t0(),
    )
    .unwrap();
    assert_eq!(r.messages, 0);
    let mut b = b;
    let r = ilot_sync::sync_once(
        &mut b,
        &t,
        ilot_sync::Limits::default(),
        &mut rand::rng(),
        t0(),
    )
    .unwrap();
    assert_eq!(r.messages, 1);
    assert_eq!(b.messages().unwrap()[0].text, "for B only");

    // Unknown device: a clear answer.
    let mut junk = batch(&a, 3, 1, 1, None);
    junk[24..40].copy_from_slice(&[7u8; 16]);
    let (code, msg) = refused(t.post(paths::PUSH, SEALED_MEDIA_TYPE, junk));
    assert_eq!(code, ErrorCode::UnknownDevice, "{msg}");
}

#[test]
fn guessing_enrolment_codes_is_rate_limited() {
    let server = TestServer::start();
    let e = server.new_patient("A");
    let t = transport(&server.url());
    let mut last = None;
    let mut limited_at = None;
    for i in 0..12 {
        let code = ilot_wire::EnrolmentCode::generate(&mut rand::rng());
        let req = ilot_wire::api::EnrolRequest {
            replaces: None,
            code,
            device_public_key: ilot_wire::DeviceSecret::generate(&mut rand::rng()).public_key(),
            device_label: None,
            app_version: "test".into(),
        };
        let (code, msg) = refused(t.post(
            paths::ENROL,
            "application/json",
            serde_json::to_vec(&req).unwrap(),
        ));
        if code == ErrorCode::RateLimited && limited_at.is_none() {
            limited_at = Some(i);
            assert!(msg.contains("too many enrolment attempts"), "{msg}");
        }
        last = Some(code);
    }
    assert_eq!(limited_at, Some(10), "10 attempts per address, then 429");
    assert_eq!(last, Some(ErrorCode::RateLimited));
    // Even the right code is refused while limited.
    let mut d = device();
    let url = server.url();
    let err = ilot_sync::enrol(
        &mut d,
        &e.code,
        Some(&url),
        |s| Ok(Box::new(transport(s.as_str())) as Box<dyn Transport>),
        None,
        &mut rand::rng(),
        t0(),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            SyncError::Refused {
                code: ErrorCode::RateLimited,
                retry_after_s: Some(_),
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn an_expired_or_used_code_is_refused_clearly() {
    let server = TestServer::start();
    let e = server.new_patient("A");
    let _d = enrolled(&server, &e.code);
    let mut d2 = device();
    let url = server.url();
    let mk = |s: &ilot_wire::ServerUrl| Ok(Box::new(transport(s.as_str())) as Box<dyn Transport>);
    let err = ilot_sync::enrol(
        &mut d2,
        &e.code,
        Some(&url),
        mk,
        None,
        &mut rand::rng(),
        t0(),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            SyncError::Refused {
                code: ErrorCode::EnrolmentCodeUsed,
                ..
            }
        ),
        "{err}"
    );
    let e2 = server.new_patient("B");
    server.advance(chrono::TimeDelta::hours(72));
    let err = ilot_sync::enrol(
        &mut d2,
        &e2.code,
        Some(&url),
        mk,
        None,
        &mut rand::rng(),
        t0(),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            SyncError::Refused {
                code: ErrorCode::EnrolmentCodeExpired,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("72 hours"), "{err}");
    assert!(
        d2.identity().unwrap().is_none(),
        "nothing saved on a refused enrolment"
    );
}
