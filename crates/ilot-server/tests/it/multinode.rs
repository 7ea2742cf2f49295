//! Two API nodes (two `AppState`s, two real listeners, two connection pools) on one PostgreSQL
//! database: a device pushes its batches alternately to each, and the same batch to both at
//! once. Every entry is stored exactly once and both nodes give the same acknowledgements, so
//! the nodes hold no state of their own and can sit behind any load balancer.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use ilot_domain::{
    DiabetesType, Entry, EntryKind, Glucose, GlucoseReading, Monitoring, Prescription, Source,
};
use ilot_server::storage::NewPatient;
use ilot_server::{AppState, Config};
use ilot_wire::api::{EnrolRequest, EnrolResponse, SEALED_MEDIA_TYPE, paths};
use ilot_wire::{
    BatchHeader, CareRole, CareTeamMember, DeviceSecret, EnrolmentCode, Expected, OpenAck,
    OpenBatch, PatientId, SealedAck, SeqRule, SessionKeys, WireEntry, WireOp, open, seal,
};

fn t0() -> DateTime<Utc> {
    "2026-03-02T08:00:00Z".parse().unwrap()
}

struct Node {
    url: String,
    state: AppState,
}

fn node(rt: &tokio::runtime::Runtime, db: &str) -> Node {
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let mut config = Config::new(url.clone());
    config.clock = Arc::new(t0);
    config.password_wait = std::time::Duration::from_secs(120);
    let state = AppState::new(
        ilot_server::storage::open(db, &crate::support::key()).unwrap(),
        config,
    )
    .unwrap();
    rt.spawn(ilot_server::serve(state.clone(), listener));
    Node { url, state }
}

fn entries(seq: u64, n: i64) -> Vec<WireEntry> {
    (0..n)
        .map(|i| {
            let id = seq as i64 * 1000 + i;
            let at = (t0() - TimeDelta::minutes(13_000 - id)).fixed_offset();
            let e = Entry::new(
                at,
                Source::manual(),
                EntryKind::Glucose(GlucoseReading::cgm(
                    Glucose::from_mg_dl(80.0 + i as f64).unwrap(),
                )),
                t0(),
            )
            .unwrap();
            WireEntry {
                id,
                version: 1,
                op: WireOp::Insert,
                recorded_at: t0(),
                entry: e,
                reason: None,
            }
        })
        .collect()
}

struct Device {
    patient: PatientId,
    device: ilot_wire::DeviceId,
    keys: SessionKeys,
}

impl Device {
    fn batch(&self, seq: u64, items: Vec<WireEntry>) -> Vec<u8> {
        let b = OpenBatch::new(
            BatchHeader::new(self.patient, self.device, seq, t0()),
            items,
        );
        seal(&b, &self.keys.to_server, &mut rand::rng())
            .unwrap()
            .into_bytes()
    }

    /// Pushes to `node` and opens the acknowledgement.
    fn push(&self, node: &str, bytes: Vec<u8>, seq: u64) -> ilot_wire::PushAck {
        let r = reqwest::blocking::Client::new()
            .post(format!("{node}{}", paths::PUSH))
            .header("content-type", SEALED_MEDIA_TYPE)
            .body(bytes)
            .send()
            .unwrap();
        assert_eq!(r.status(), 200, "push {seq} to {node}");
        let sealed = SealedAck::from_bytes(r.bytes().unwrap().to_vec()).unwrap();
        let ack: OpenAck = open(
            &sealed,
            &self.keys.to_device,
            &Expected::new(self.patient, self.device, SeqRule::Exact(seq)),
        )
        .unwrap();
        ack.ack
    }
}

#[test]
fn two_nodes_on_one_database_store_every_entry_once_and_answer_alike() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let db = ilot_testpg::fresh_database("multinode");
    let a = node(&rt, &db);
    let b = node(&rt, &db);
    assert_eq!(
        a.state.server_public_key(),
        b.state.server_public_key(),
        "one server key for the deployment"
    );

    let patient = PatientId::from_bytes([7; 16]);
    let pres = Prescription::new(
        DiabetesType::Type1,
        Monitoring::Cgm,
        4,
        NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
    );
    let dr = CareTeamMember {
        name: "Dr Martin".into(),
        role: CareRole::Physician,
    };
    let new = NewPatient {
        pseudonym: "P7".into(),
        ins: None,
        tz: chrono_tz::Europe::Paris,
        prescription: pres,
    };
    a.state
        .storage()
        .create_patient(&new, patient, &dr, t0())
        .unwrap();
    let code = EnrolmentCode::generate(&mut rand::rng());
    a.state
        .storage()
        .add_enrolment_code(&code.canonical(), patient, t0() + TimeDelta::hours(72))
        .unwrap();
    // Enrol on node B: node A must know the device at once.
    let secret = DeviceSecret::generate(&mut rand::rng());
    let resp: EnrolResponse = reqwest::blocking::Client::new()
        .post(format!("{}{}", b.url, paths::ENROL))
        .json(&EnrolRequest {
            replaces: None,
            code,
            device_public_key: secret.public_key(),
            device_label: None,
            app_version: "test".into(),
        })
        .send()
        .unwrap()
        .json()
        .unwrap();
    let dev = Device {
        patient: resp.patient_id,
        device: resp.device_id,
        keys: resp.session_keys(&secret, None).unwrap(),
    };

    // Batches 1..=6, alternately to A and B; batch 4 repeats half of batch 3's entries.
    let mut acks = Vec::new();
    let mut sent = Vec::new();
    for seq in 1..=6u64 {
        let mut items = entries(seq, 10);
        if seq == 4 {
            items.extend(entries(3, 5));
        }
        let bytes = dev.batch(seq, items);
        let to = if seq % 2 == 1 { &a.url } else { &b.url };
        acks.push(dev.push(to, bytes.clone(), seq));
        sent.push(bytes);
    }
    assert!(acks.iter().all(|k| k.stored == 10), "{acks:?}");
    assert_eq!(acks[3].duplicates, 5, "batch 4's repeats are duplicates");
    // Each batch replayed to the other node gets the same answer.
    for (i, bytes) in sent.iter().enumerate() {
        let seq = i as u64 + 1;
        let other = if seq % 2 == 1 { &b.url } else { &a.url };
        assert_eq!(dev.push(other, bytes.clone(), seq), acks[i], "replay {seq}");
    }

    // The same batch 7 to both nodes at once, several times over (fresh numbers each round).
    for seq in 7..=12u64 {
        let bytes = dev.batch(seq, entries(seq, 25));
        let (ka, kb) = std::thread::scope(|s| {
            let ha = s.spawn(|| dev.push(&a.url, bytes.clone(), seq));
            let hb = s.spawn(|| dev.push(&b.url, bytes.clone(), seq));
            (ha.join().unwrap(), hb.join().unwrap())
        });
        assert_eq!(ka, kb, "batch {seq}: both nodes acknowledge alike");
        assert_eq!((ka.stored, ka.duplicates), (25, 0), "batch {seq}");
    }

    let total = 6 * 10 + 6 * 25;
    for n in [&a, &b] {
        assert_eq!(
            n.state.storage().count_entry_versions(patient).unwrap(),
            total
        );
        let stored = n
            .state
            .storage()
            .entries(patient, t0() - TimeDelta::days(60), t0(), false)
            .unwrap();
        assert_eq!(stored.len() as u64, total, "every entry once");
        assert_eq!(
            n.state
                .storage()
                .device(dev.device)
                .unwrap()
                .unwrap()
                .last_batch_seq,
            Some(12)
        );
    }
}

#[test]
fn nodes_starting_together_migrate_once_and_share_the_key() {
    let db = ilot_testpg::fresh_database("migrate_race");
    let keys: Vec<_> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    let st = ilot_server::storage::open(&db, &crate::support::key()).unwrap();
                    st.server_secret(ilot_wire::ServerSecret::generate(&mut rand::rng()))
                        .unwrap()
                        .public_key()
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(keys.windows(2).all(|w| w[0] == w[1]), "one key: {keys:?}");
}

#[test]
fn a_database_that_cannot_be_reached_is_named_without_its_password() {
    let err = ilot_server::storage::open(
        "postgres://ilot:hunter2@127.0.0.1:1/ilot",
        &crate::support::key(),
    )
    .err()
    .unwrap()
    .to_string();
    assert!(
        err.contains("cannot connect to PostgreSQL at postgres://ilot:***@127.0.0.1:1/ilot"),
        "{err}"
    );
    assert!(!err.contains("hunter2"), "{err}");
    let err = ilot_server::storage::open("mysql://root:hunter2@db/x", &crate::support::key())
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("postgres://") && !err.contains("hunter2"),
        "{err}"
    );
}

/// Regression: each node counted failed logins in its own memory, so behind a load balancer
/// with N nodes the limit was N times looser. The count is now in the database: 10 wrong
/// guesses spread over two nodes use up the user name's 10, and of 40 guesses sent at once to
/// both nodes, 10 are evaluated.
#[test]
fn two_nodes_on_one_database_share_the_failed_login_count() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let db = ilot_testpg::fresh_database("login_limit");
    let a = node(&rt, &db);
    let b = node(&rt, &db);
    let hash = ilot_server::auth::hash_password(crate::support::PASSWORD).unwrap();
    for user in ["dr", "ide"] {
        a.state
            .storage()
            .create_operator(user, user, CareRole::Physician, &hash, t0())
            .unwrap();
    }
    for i in 0..10 {
        let to = if i % 2 == 0 { &a.url } else { &b.url };
        let r = crate::support::login_at(to, None, "dr", "wrong password!!", "000000");
        assert_eq!(r.status(), 401, "guess {i} to {to}");
    }
    for to in [&a.url, &b.url] {
        let r = crate::support::login_at(to, None, "dr", "wrong password!!", "000000");
        assert_eq!(r.status(), 429, "the 11th guess, to {to}");
    }

    let statuses = crate::login_limits::guesses_at_once(&[&a.url, &b.url], 40, "ide");
    let evaluated = statuses.iter().filter(|&&st| st != 429).count();
    assert_eq!(
        evaluated, 10,
        "of 40 guesses at once on two nodes: {statuses:?}"
    );
    assert_eq!(
        a.state.passwords().checks() + b.state.passwords().checks(),
        20,
        "Argon2 verifications on both nodes"
    );
}
