//! The flows the sync engine and the server will run: enrolment, push + acknowledgement, pull,
//! consent withdrawal, and the JSON of the HTTP API.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use ilot_domain::{DiabetesType, Monitoring, Prescription};
use ilot_wire::api::{EnrolRequest, EnrolResponse, ErrorBody, ErrorCode};
use ilot_wire::{
    AlertAck, Appointment, AppointmentKind, AppointmentMode, BatchHeader, CareRole, CareTeamMember,
    ConsentChange, DeviceId, DeviceSecret, EnrolmentCode, EnrolmentInvite, Expected, Message,
    OpenAck, OpenBatch, OpenPull, OpenPullRequest, PatientId, PrescriptionUpdate, PublicKey, Pull,
    PullRequest, PushAck, SealedAck, SealedBatch, SealedPull, SealedPullRequest, SeqRule,
    ServerSecret, ServerUrl, WireError, open, seal,
};
use rstest::rstest;

use crate::rng;

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-01T09:30:00Z")
        .unwrap()
        .to_utc()
}

fn nurse() -> CareTeamMember {
    CareTeamMember {
        name: "Inès, IDE".into(),
        role: CareRole::Nurse,
    }
}

/// Enrols a device the way app and server will, and returns both sides' keys and ids.
fn enrol() -> (
    ilot_wire::SessionKeys,
    ilot_wire::SessionKeys,
    PatientId,
    DeviceId,
) {
    let mut r = rng(11);
    // Operator side: a server key, a patient, an invite.
    let server = ServerSecret::generate(&mut r);
    let invite = EnrolmentInvite {
        server: ServerUrl::parse("https://ilot.example.fr").unwrap(),
        code: EnrolmentCode::generate(&mut r),
        fingerprint: server.public_key().fingerprint(),
        expires_at: Some(now() + TimeDelta::hours(72)),
    };
    // App side: scan, make a key pair, ask.
    let scanned = EnrolmentInvite::parse_link(&invite.to_link()).unwrap();
    let device = DeviceSecret::generate(&mut r);
    let request = EnrolRequest {
        replaces: None,
        code: scanned.code.clone(),
        device_public_key: device.public_key(),
        device_label: Some("Android phone".into()),
        app_version: "0.1.0".into(),
    };
    let request: EnrolRequest =
        serde_json::from_str(&serde_json::to_string(&request).unwrap()).unwrap();
    assert_eq!(request.code, invite.code);
    // Server: derive, answer.
    let (p, d) = (PatientId::random(&mut r), DeviceId::random(&mut r));
    let server_keys = server.agree(&request.device_public_key, p, d).unwrap();
    let response = EnrolResponse {
        replaced: None,
        patient_id: p,
        device_id: d,
        server_public_key: server.public_key(),
        key_confirmation: server_keys.confirmation,
        pseudonym: "P-0042".into(),
        prescription: None,
        enrolled_at: now(),
    };
    let response: EnrolResponse =
        serde_json::from_str(&serde_json::to_string(&response).unwrap()).unwrap();
    let device_keys = response.session_keys(&device, Some(&scanned)).unwrap();
    (device_keys, server_keys, p, d)
}

#[test]
fn enrolment_gives_both_sides_the_same_keys() {
    let (dev, srv, _, _) = enrol();
    assert_eq!(dev.to_server.to_bytes(), srv.to_server.to_bytes());
    assert_eq!(dev.to_device.to_bytes(), srv.to_device.to_bytes());
}

#[test]
fn a_substituted_server_key_is_caught_by_the_fingerprint_or_the_confirmation() {
    let mut r = rng(12);
    let real = ServerSecret::generate(&mut r);
    let mitm = ServerSecret::generate(&mut r);
    let device = DeviceSecret::generate(&mut r);
    let invite = EnrolmentInvite {
        server: ServerUrl::parse("https://ilot.example.fr").unwrap(),
        code: EnrolmentCode::generate(&mut r),
        fingerprint: real.public_key().fingerprint(),
        expires_at: None,
    };
    let (p, d) = (PatientId::random(&mut r), DeviceId::random(&mut r));
    let forged = EnrolResponse {
        replaced: None,
        patient_id: p,
        device_id: d,
        server_public_key: mitm.public_key(),
        key_confirmation: mitm.agree(&device.public_key(), p, d).unwrap().confirmation,
        pseudonym: "P-1".into(),
        prescription: None,
        enrolled_at: now(),
    };
    let e = forged.session_keys(&device, Some(&invite)).unwrap_err();
    assert!(matches!(e, WireError::FingerprintMismatch { .. }), "{e}");
    // A typed code carries no fingerprint; the confirmation still ties the answer to the key.
    let lying = EnrolResponse {
        replaced: None,
        server_public_key: real.public_key(),
        ..forged
    };
    assert_eq!(
        lying.session_keys(&device, None).unwrap_err(),
        WireError::KeyConfirmationMismatch
    );
}

fn batch(p: PatientId, d: DeviceId, seq: u64) -> OpenBatch {
    OpenBatch::new(BatchHeader::new(p, d, seq, now()), vec![])
}

#[test]
fn push_and_acknowledgement() {
    let (dev, srv, p, d) = enrol();
    let mut r = rng(13);
    let sent = seal(&batch(p, d, 1), &dev.to_server, &mut r).unwrap();
    // Server: open, store, acknowledge.
    let received = SealedBatch::from_bytes(sent.as_bytes().to_vec()).unwrap();
    let h = *received.unverified_header();
    let opened = open(
        &received,
        &srv.to_server,
        &Expected::next_batch(h.patient_id, h.device_id, None),
    )
    .unwrap();
    let ack = OpenAck {
        header: BatchHeader::new(p, d, opened.header.seq, now()),
        ack: PushAck {
            accepted_seq: opened.header.seq,
            batch_digest: received.digest(),
            stored: 0,
            duplicates: 0,
            received_at: now(),
        },
    };
    let sealed_ack = seal(&ack, &srv.to_device, &mut r).unwrap();
    // Device: the ack is for exactly what it sent.
    let got = SealedAck::from_bytes(sealed_ack.into_bytes()).unwrap();
    let got = open(
        &got,
        &dev.to_device,
        &Expected::new(p, d, SeqRule::Exact(1)),
    )
    .unwrap();
    assert_eq!(got, ack);
    assert!(got.confirms(&sent).is_ok());
    // An ack for another batch (same seq, other bytes) does not mark this one sent.
    let other = seal(&batch(p, d, 1), &dev.to_server, &mut r).unwrap();
    assert_eq!(
        got.confirms(&other).unwrap_err(),
        WireError::AckMismatch {
            sent_seq: 1,
            acked_seq: 1
        }
    );
    // An old ack replayed for the next batch fails the exact sequence check.
    let replayed = seal(&ack, &srv.to_device, &mut r).unwrap();
    assert_eq!(
        open(
            &replayed,
            &dev.to_device,
            &Expected::new(p, d, SeqRule::Exact(2))
        )
        .unwrap_err(),
        WireError::SeqMismatch {
            expected: 2,
            got: 1
        }
    );
}

#[test]
fn pull_request_and_pull() {
    let (dev, srv, p, d) = enrol();
    let mut r = rng(14);
    let since = 40;
    let request = OpenPullRequest {
        header: BatchHeader::new(p, d, since, now()),
        request: PullRequest {
            request_id: 0xC0FFEE,
            limit: 500,
            rights: None,
        },
    };
    let sealed = seal(&request, &dev.to_server, &mut r).unwrap();
    let got = SealedPullRequest::from_bytes(sealed.into_bytes()).unwrap();
    let got = open(&got, &srv.to_server, &Expected::new(p, d, SeqRule::Any)).unwrap();
    assert_eq!(got, request);
    assert_eq!(got.since(), since);

    let mut prescription = Prescription::new(
        DiabetesType::Type1,
        Monitoring::Cgm,
        4,
        NaiveDate::from_ymd_opt(2026, 1, 10).unwrap(),
    );
    prescription.policy.hypo_l1_mg_dl = 72.5;
    prescription.policy.tbr_max_percent = 4.000_000_000_000_001;
    let pull = Pull {
        in_reply_to: got.request.request_id,
        more: false,
        prescription: Some(PrescriptionUpdate {
            version: 3,
            prescription,
            changed_at: now(),
            changed_by: CareTeamMember {
                name: "Dr Martin".into(),
                role: CareRole::Physician,
            },
        }),
        messages: vec![Message {
            id: 7,
            from: nurse(),
            text: "Bonjour, pensez à scanner le capteur.".into(),
            sent_at: now(),
        }],
        appointments: vec![Appointment {
            id: 3,
            version: 2,
            kind: AppointmentKind::Education,
            starts_at: now() + TimeDelta::days(2),
            duration_min: 45,
            mode: AppointmentMode::Video {
                link: Some("https://visio.example.fr/x".into()),
            },
            with: Some(nurse()),
            topic: Some("Resucrage".into()),
            cancelled: false,
        }],
        alert_acks: vec![AlertAck {
            alert_key: "hypo:2026-02-28T23:10:00Z".into(),
            acknowledged_at: now(),
            by: nurse(),
            note: None,
        }],
        rights: None,
    };
    let answer = OpenPull {
        header: BatchHeader::new(p, d, 57, now()),
        pull,
    };
    let sealed = seal(&answer, &srv.to_device, &mut r).unwrap();
    let got = SealedPull::from_bytes(sealed.into_bytes()).unwrap();
    let got = open(
        &got,
        &dev.to_device,
        &Expected::new(p, d, SeqRule::AtLeast(since)),
    )
    .unwrap();
    assert_eq!(got, answer);
    assert_eq!(got.cursor(), 57);
    assert!(got.answers(&request.request).is_ok());
    let policy = &got.pull.prescription.as_ref().unwrap().prescription.policy;
    assert_eq!(
        policy.tbr_max_percent.to_bits(),
        4.000_000_000_000_001f64.to_bits()
    );

    // A stale pull (cursor before what the device asked from) is refused…
    let stale = OpenPull {
        header: BatchHeader::new(p, d, 12, now()),
        pull: Pull::default(),
    };
    let sealed = seal(&stale, &srv.to_device, &mut r).unwrap();
    assert_eq!(
        open(
            &sealed,
            &dev.to_device,
            &Expected::new(p, d, SeqRule::AtLeast(since))
        )
        .unwrap_err(),
        WireError::Replay {
            seq: 12,
            last_accepted: 39
        }
    );
    // …and so is an answer to another request.
    let other = OpenPull {
        header: BatchHeader::new(p, d, 57, now()),
        pull: Pull {
            in_reply_to: 1,
            ..Pull::default()
        },
    };
    assert_eq!(
        other.answers(&request.request).unwrap_err(),
        WireError::NotAnAnswer {
            request_id: 0xC0FFEE,
            in_reply_to: 1
        }
    );
}

#[test]
fn consent_withdrawal_is_sent_sealed_with_no_entries() {
    let (dev, srv, p, d) = enrol();
    let mut b = batch(p, d, 9);
    b.consent = Some(ConsentChange {
        granted: false,
        at: now(),
        notice_version: 2,
    });
    let sealed = seal(&b, &dev.to_server, &mut rng(15)).unwrap();
    let got = open(
        &sealed,
        &srv.to_server,
        &Expected::next_batch(p, d, Some(8)),
    )
    .unwrap();
    assert_eq!(got.consent, b.consent);
    assert!(got.items.is_empty());
}

#[test]
fn prescription_enums_keep_their_postcard_numbers() {
    // Pull bodies are postcard: a variant's number is its position. Reordering a domain enum
    // changes the wire, and this test says so before a device does.
    let n = |v: &dyn erased::Ser| v.bytes();
    assert_eq!(n(&DiabetesType::Type1), [0]);
    assert_eq!(n(&DiabetesType::Type2Insulin), [1]);
    assert_eq!(n(&DiabetesType::GestationalInsulin), [2]);
    assert_eq!(n(&DiabetesType::GestationalNoInsulin), [3]);
    assert_eq!(n(&Monitoring::Capillary), [0]);
    assert_eq!(n(&Monitoring::Flash), [1]);
    assert_eq!(n(&Monitoring::Cgm), [2]);
}

mod erased {
    pub trait Ser {
        fn bytes(&self) -> Vec<u8>;
    }
    impl<T: serde::Serialize> Ser for T {
        fn bytes(&self) -> Vec<u8> {
            postcard::to_stdvec(self).unwrap()
        }
    }
}

#[test]
fn errors_are_json_with_a_stable_code() {
    let e = WireError::WrongPatient {
        expected: PatientId::from_bytes([1; 16]),
        got: PatientId::from_bytes([2; 16]),
    };
    let body = ErrorBody::from(&e);
    let json = serde_json::to_value(&body).unwrap();
    assert_eq!(json["error"], "wrong_patient");
    // Ids of the patient a device probes for are not echoed.
    assert!(
        !body
            .message
            .contains(&PatientId::from_bytes([1; 16]).to_string()),
        "{}",
        body.message
    );
    assert!(json.get("retry_after_s").is_none());
    let back: ErrorBody = serde_json::from_value(json).unwrap();
    assert_eq!(back, body);
    let auth = ErrorBody::from(&WireError::AuthenticationFailed);
    assert_eq!(auth.error, ErrorCode::AuthenticationFailed);
    assert!(
        auth.message
            .starts_with("the sealed message failed authentication")
    );
}

#[rstest]
#[case(WireError::Truncated { needed: 92, got: 3 }, ErrorCode::Malformed, 400)]
#[case(WireError::UnsupportedVersion { got: 2, supported: 1 }, ErrorCode::UnsupportedVersion, 400)]
#[case(WireError::AuthenticationFailed, ErrorCode::AuthenticationFailed, 401)]
#[case(WireError::WrongDevice { expected: DeviceId::from_bytes([1; 16]), got: DeviceId::from_bytes([2; 16]) }, ErrorCode::WrongPatient, 403)]
#[case(WireError::Replay { seq: 3, last_accepted: 3 }, ErrorCode::SeqReused, 409)]
#[case(WireError::CodeCheck, ErrorCode::EnrolmentCodeInvalid, 404)]
#[case(WireError::TooLarge { size: 1, max: 0 }, ErrorCode::TooLarge, 413)]
fn wire_errors_map_to_http(#[case] e: WireError, #[case] code: ErrorCode, #[case] status: u16) {
    assert_eq!(ErrorCode::from(&e), code);
    assert_eq!(code.http_status(), status);
}

#[test]
fn only_transient_errors_invite_a_retry() {
    assert!(ErrorCode::RateLimited.is_transient());
    assert!(ErrorCode::Unavailable.is_transient());
    assert!(!ErrorCode::AuthenticationFailed.is_transient());
    assert_eq!(ErrorCode::RateLimited.http_status(), 429);
}

#[test]
fn public_keys_in_enrolment_json_are_hex() {
    let k = ServerSecret::generate(&mut rng(5)).public_key();
    let v = serde_json::to_value(k).unwrap();
    assert_eq!(v.as_str().unwrap().len(), 64);
    assert_eq!(serde_json::from_value::<PublicKey>(v).unwrap(), k);
}
