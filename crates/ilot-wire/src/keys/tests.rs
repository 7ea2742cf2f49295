//! Key agreement: both sides agree, the schedule is the documented one (RFC 7748 vectors and an
//! independent HKDF computation), and no secret reaches `Debug`.

use super::*;
use hkdf::Hkdf;
use proptest::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;

fn h32(s: &str) -> [u8; 32] {
    let mut b = [0u8; 32];
    hex::decode_to_slice(s, &mut b).unwrap();
    b
}

// RFC 7748 §6.1.
const ALICE_SECRET: &str = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
const ALICE_PUBLIC: &str = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
const BOB_SECRET: &str = "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";
const BOB_PUBLIC: &str = "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
const SHARED: &str = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";

fn ids() -> (PatientId, DeviceId) {
    (
        PatientId::from_bytes([0x11; 16]),
        DeviceId::from_bytes([0x22; 16]),
    )
}

#[test]
fn public_keys_follow_rfc_7748() {
    let device = DeviceSecret::from_bytes(Zeroizing::new(h32(ALICE_SECRET)));
    let server = ServerSecret::from_bytes(Zeroizing::new(h32(BOB_SECRET)));
    assert_eq!(device.public_key().to_string(), ALICE_PUBLIC);
    assert_eq!(server.public_key().to_string(), BOB_PUBLIC);
}

#[test]
fn the_key_schedule_is_the_documented_one() {
    let device = DeviceSecret::from_bytes(Zeroizing::new(h32(ALICE_SECRET)));
    let (p, d) = ids();
    let keys = device
        .agree(&PublicKey::from_bytes(h32(BOB_PUBLIC)), p, d)
        .unwrap();
    // Recomputed from docs/wire-format.md with the RFC's shared secret.
    let salt = [h32(BOB_PUBLIC), h32(ALICE_PUBLIC)].concat();
    let hk = Hkdf::<Sha256>::new(Some(&salt), &h32(SHARED));
    let expand = |label: &str, n: usize| {
        let info = [
            b"ilot-wire/v1 ",
            label.as_bytes(),
            &[0u8],
            &[0x11; 16],
            &[0x22; 16],
        ]
        .concat();
        let mut out = vec![0u8; n];
        hk.expand(&info, &mut out).unwrap();
        out
    };
    assert_eq!(keys.to_server.to_bytes().to_vec(), expand("to-server", 32));
    assert_eq!(keys.to_device.to_bytes().to_vec(), expand("to-device", 32));
    assert_eq!(keys.confirmation.0.to_vec(), expand("confirm", 16));
}

proptest! {
    #[test]
    fn both_sides_derive_the_same_keys(seed in any::<u64>(), p in any::<[u8; 16]>(), d in any::<[u8; 16]>()) {
        let mut rng = StdRng::seed_from_u64(seed);
        let device = DeviceSecret::generate(&mut rng);
        let server = ServerSecret::generate(&mut rng);
        let (p, d) = (PatientId::from_bytes(p), DeviceId::from_bytes(d));
        let a = device.agree(&server.public_key(), p, d).unwrap();
        let b = server.agree(&device.public_key(), p, d).unwrap();
        prop_assert_eq!(a.to_server.to_bytes(), b.to_server.to_bytes());
        prop_assert_eq!(a.to_device.to_bytes(), b.to_device.to_bytes());
        prop_assert_eq!(a.confirmation, b.confirmation);
        prop_assert!(a.to_server.to_bytes() != a.to_device.to_bytes());
        prop_assert!(a.confirm(&b.confirmation).is_ok());
    }
}

#[test]
fn keys_depend_on_patient_and_device() {
    let mut rng = StdRng::seed_from_u64(7);
    let device = DeviceSecret::generate(&mut rng);
    let server = ServerSecret::generate(&mut rng).public_key();
    let (p, d) = ids();
    let base = device.agree(&server, p, d).unwrap();
    let other_patient = device
        .agree(&server, PatientId::from_bytes([0x12; 16]), d)
        .unwrap();
    let other_device = device
        .agree(&server, p, DeviceId::from_bytes([0x23; 16]))
        .unwrap();
    for other in [other_patient, other_device] {
        assert_ne!(base.to_server.to_bytes(), other.to_server.to_bytes());
        assert_ne!(base.to_device.to_bytes(), other.to_device.to_bytes());
        assert_eq!(
            base.confirm(&other.confirmation),
            Err(WireError::KeyConfirmationMismatch)
        );
    }
}

#[test]
fn low_order_public_keys_are_refused() {
    let mut rng = StdRng::seed_from_u64(1);
    let device = DeviceSecret::generate(&mut rng);
    let (p, d) = ids();
    // The identity and the order-8 point of Curve25519 (u = 0 and u = 1).
    let mut one = [0u8; 32];
    one[0] = 1;
    for weak in [[0u8; 32], one] {
        assert_eq!(
            device
                .agree(&PublicKey::from_bytes(weak), p, d)
                .unwrap_err(),
            WireError::WeakPublicKey
        );
    }
}

#[test]
fn secrets_never_reach_debug() {
    let secret = h32(ALICE_SECRET);
    let device = DeviceSecret::from_bytes(Zeroizing::new(secret));
    let server = ServerSecret::from_bytes(Zeroizing::new(h32(BOB_SECRET)));
    let (p, d) = ids();
    let keys = device.agree(&server.public_key(), p, d).unwrap();
    let shown = format!(
        "{device:?} {server:?} {keys:?} {:?} {:?} {keys:#?}",
        keys.to_server, keys.to_device
    );
    for secret in [
        hex::encode(secret),
        BOB_SECRET.to_string(),
        hex::encode(*keys.to_server.to_bytes()),
        hex::encode(*keys.to_device.to_bytes()),
        format!("{:?}", *keys.to_server.to_bytes()),
    ] {
        assert!(!shown.contains(&secret), "{shown}");
    }
    assert!(shown.contains("<redacted>"), "{shown}");
    assert!(
        shown.contains(ALICE_PUBLIC),
        "public keys may show: {shown}"
    );
}

#[test]
fn secrets_survive_saving() {
    let mut rng = StdRng::seed_from_u64(3);
    let device = DeviceSecret::generate(&mut rng);
    let restored = DeviceSecret::from_bytes(device.to_bytes());
    assert_eq!(restored.public_key(), device.public_key());
    let server = ServerSecret::generate(&mut rng);
    let (p, d) = ids();
    let keys = device.agree(&server.public_key(), p, d).unwrap();
    let k = ToServerKey::from_bytes(keys.to_server.to_bytes());
    assert_eq!(k.to_bytes(), keys.to_server.to_bytes());
}

#[test]
fn fingerprints_are_the_first_half_of_sha256() {
    let key = PublicKey::from_bytes(h32(BOB_PUBLIC));
    let digest = hex::encode(Sha256::digest(h32(BOB_PUBLIC)));
    let f = key.fingerprint();
    assert_eq!(f.compact(), digest[..32]);
    let grouped = f.to_string();
    assert_eq!(grouped.len(), 39);
    assert_eq!(grouped.split('-').count(), 8);
    assert_eq!(grouped.replace('-', ""), digest[..32]);
    for text in [
        grouped.clone(),
        grouped.to_uppercase(),
        grouped.replace('-', ":"),
        f.compact(),
    ] {
        assert_eq!(text.parse::<Fingerprint>().unwrap(), f);
    }
    assert!(key.verify_fingerprint(&f).is_ok());
    let other = PublicKey::from_bytes(h32(ALICE_PUBLIC));
    let e = other.verify_fingerprint(&f).unwrap_err();
    assert!(matches!(e, WireError::FingerprintMismatch { .. }), "{e}");
    assert!("abc".parse::<Fingerprint>().is_err());
}

#[test]
fn public_keys_travel_as_hex_in_json() {
    let key = PublicKey::from_bytes(h32(BOB_PUBLIC));
    let json = serde_json::to_string(&key).unwrap();
    assert_eq!(json, format!("\"{BOB_PUBLIC}\""));
    assert_eq!(serde_json::from_str::<PublicKey>(&json).unwrap(), key);
    assert!(serde_json::from_str::<PublicKey>("\"00\"").is_err());
}
