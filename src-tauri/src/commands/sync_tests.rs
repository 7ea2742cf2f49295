//! Enrolment, consent, the sync runner and the inbox on a real encrypted store against a real
//! operator server (`ilot_server` on a loopback port, its own runtime, SQLite in memory).

use std::collections::BTreeSet;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use chrono::{NaiveDate, TimeDelta, Utc};
use ilot_domain::{DiabetesType, Monitoring, Prescription};
use ilot_server::operator::{CreatePatient, Enrolment, create_patient_with_code};
use ilot_server::storage::Operator;
use ilot_store::KeyMode;
use ilot_wire::{CareRole, DeviceId, PatientId};
use serde_json::json;

mod gate;
mod reenrol;

use gate::{Gate, Gated};

use super::entries::add_entry_at;
use super::home::home_at;
use super::setup::{Onboarding, onboard, set_consent};
use super::sync::Inbox;
use crate::error::Error;
use crate::input::EntryInput;
use crate::settings::Settings;
use crate::state::AppState;

/// The test physician's login (a constant, so no literal here looks like an error code).
const USERNAME: &str = "dr";

struct Server {
    state: ilot_server::AppState,
    addr: SocketAddr,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Server {
    fn free() -> SocketAddr {
        TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
    }

    fn start_at(addr: SocketAddr) -> Self {
        let config = ilot_server::Config::new(format!("http://{addr}"));
        let storage = ilot_server::storage::open(
            "sqlite::memory:",
            &ilot_server::atrest::ServerKey::generate(),
        )
        .unwrap();
        let state = ilot_server::AppState::new(storage, config).unwrap();
        let runtime = Self::serve(addr, &state);
        Self {
            state,
            addr,
            runtime: Some(runtime),
        }
    }

    /// Serves `state` on `addr` from a runtime of its own (dropping it stops the server).
    fn serve(addr: SocketAddr, state: &ilot_server::AppState) -> tokio::runtime::Runtime {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind(addr))
            .unwrap();
        runtime.spawn(ilot_server::serve(state.clone(), listener));
        runtime
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn physician(&self) -> Operator {
        let s = self.state.storage();
        if let Some(o) = s.operator_by_username(USERNAME).unwrap() {
            return o;
        }
        let hash = ilot_server::auth::hash_password("a long enough password").unwrap();
        let id = s
            .create_operator(
                USERNAME,
                "Dr Martin",
                CareRole::Physician,
                &hash,
                Utc::now(),
            )
            .unwrap();
        // Operators only see their care team's patients (and create them there).
        let team = s.create_team("team A", Utc::now()).unwrap();
        s.set_operator_team(id, team).unwrap();
        s.operator_by_username(USERNAME).unwrap().unwrap()
    }

    fn patient(&self) -> Enrolment {
        let op = self.physician();
        let p = Prescription::new(
            DiabetesType::Type1,
            Monitoring::Capillary,
            4,
            NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
        );
        create_patient_with_code(
            &self.state,
            CreatePatient {
                pseudonym: "P-042".into(),
                ins: None,
                tz: None,
                prescription: p,
            },
            &op,
        )
        .unwrap()
    }

    fn versions(&self, p: PatientId) -> u64 {
        self.state.storage().count_entry_versions(p).unwrap()
    }

    /// Entry versions the server's acknowledgements to `device` counted as already stored. The
    /// server deduplicates, so its count of versions stays right even if the app sent
    /// everything twice; this is what says each entry was sent once.
    fn duplicates(&self, device: DeviceId) -> u64 {
        let s = self.state.storage();
        (0..=256)
            .filter_map(|seq| s.batch_ack(device, seq).unwrap())
            .map(|ack| u64::from(ack.duplicates))
            .sum()
    }
}

/// The enrolled device's id (for [`Server::duplicates`]).
fn device_of(state: &AppState) -> DeviceId {
    ilot_sync::SyncState::identity(&*state.store().unwrap())
        .unwrap()
        .expect("enrolled")
        .device_id
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

fn app(dir: &tempfile::TempDir) -> AppState {
    AppState::open_at(dir.path().join("ilot.db"), KeyMode::File, false).unwrap()
}

fn onboarded(dir: &tempfile::TempDir, consent: bool) -> AppState {
    let state = app(dir);
    let choices = Onboarding {
        language: "fr".into(),
        unit: ilot_domain::GlucoseUnit::GramsPerLitre,
        consent,
        pin: "2580".into(),
    };
    onboard(&state, choices, Utc::now()).unwrap();
    state
}

fn glucose(value: &str) -> EntryInput {
    serde_json::from_value(json!({"type": "glucose", "value": value, "unit": "g/L",
        "context": "before-meal"}))
    .unwrap()
}

fn code(e: Error) -> String {
    serde_json::to_value(&e).unwrap()["code"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn an_enrolled_app_with_consent_sends_its_entries_and_receives_messages() {
    let server = Server::start_at(Server::free());
    let enrolment = server.patient();
    let dir = tempfile::tempdir().unwrap();
    let state = onboarded(&dir, true);
    let now = Utc::now();

    let done = state.sync.enrol(&enrolment.link, None, None, now).unwrap();
    assert_eq!(done.pseudonym, "P-042");
    assert!(done.prescription, "the care team's prescription came along");
    add_entry_at(&state, glucose("0,55"), None, now - TimeDelta::minutes(5)).unwrap();
    add_entry_at(&state, glucose("1,20"), None, now - TimeDelta::minutes(1)).unwrap();
    assert!(home_at(&state, now).unwrap().sync.pending >= 2);

    let status = state.sync.sync_now(now).unwrap();
    assert_eq!(status.problem, None);
    assert_eq!(status.next_try_at, Some(now + crate::sync::INTERVAL));
    assert_eq!(
        server.versions(enrolment.patient_id),
        2,
        "exactly the two entries"
    );
    assert_eq!(server.duplicates(device_of(&state)), 0, "each sent once");
    let home = home_at(&state, now).unwrap();
    assert_eq!((home.sync.state, home.sync.pending), ("idle", 0));
    assert_eq!(home.sync.last_sent_at, Some(now));

    // The care team writes; the next session brings it, unread, on home and in the inbox.
    let op = server.physician();
    let s = server.state.storage();
    s.add_message(
        enrolment.patient_id,
        &op.member(),
        "Bien reçu, à jeudi.",
        now,
    )
    .unwrap();
    s.add_message(
        enrolment.patient_id,
        &op.member(),
        "Pensez au resucrage.",
        now + TimeDelta::seconds(1),
    )
    .unwrap();
    let status = state.sync.sync_now(now).unwrap();
    assert_eq!(status.received, 2);
    let home = home_at(&state, now).unwrap();
    assert_eq!(home.unread, 2);
    assert_eq!(home.latest_unread.unwrap().text, "Pensez au resucrage.");
    let inbox = Inbox::gather(&state.store().unwrap(), &BTreeSet::new(), now).unwrap();
    let texts: Vec<&str> = inbox.messages.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(
        texts,
        ["Pensez au resucrage.", "Bien reçu, à jeudi."],
        "newest first"
    );
    assert_eq!(inbox.messages[0].from.name, "Dr Martin");

    state
        .update_settings(|s| s.read_messages.extend(inbox.messages.iter().map(|m| m.id)))
        .unwrap();
    let home = home_at(&state, now).unwrap();
    assert_eq!((home.unread, home.latest_unread.is_none()), (0, true));
}

#[test]
fn without_consent_nothing_reaches_the_server_and_a_withdrawal_is_told_once() {
    let server = Server::start_at(Server::free());
    let enrolment = server.patient();
    let dir = tempfile::tempdir().unwrap();
    let state = onboarded(&dir, false);
    let now = Utc::now();
    state.sync.enrol(&enrolment.link, None, None, now).unwrap();
    add_entry_at(&state, glucose("1,10"), None, now).unwrap();

    state.sync.sync_now(now).unwrap();
    assert_eq!(server.versions(enrolment.patient_id), 0);
    assert_eq!(home_at(&state, now).unwrap().sync.state, "no-consent");

    set_consent(&state, true, now).unwrap();
    state.sync.sync_now(now).unwrap();
    assert_eq!(server.versions(enrolment.patient_id), 1);

    let c = set_consent(&state, false, now).unwrap();
    assert!(!c.granted && !c.told_server);
    add_entry_at(&state, glucose("1,30"), None, now).unwrap();
    state.sync.sync_now(now).unwrap();
    let told = ilot_sync::SyncState::consent(&*state.store().unwrap())
        .unwrap()
        .unwrap();
    assert!(told.told_server, "the withdrawal was told");
    state.sync.sync_now(now).unwrap();
    assert_eq!(server.versions(enrolment.patient_id), 1, "nothing after it");
    assert_eq!(server.duplicates(device_of(&state)), 0, "each sent once");
    let home = home_at(&state, now).unwrap();
    assert_eq!(
        (home.sync.state, home.sync.pending),
        ("consent-withdrawn", 1)
    );
}

#[test]
fn two_syncs_at_once_run_one_after_the_other_and_send_each_entry_once() {
    let server = Server::start_at(Server::free());
    let enrolment = server.patient();
    let dir = tempfile::tempdir().unwrap();
    let state = onboarded(&dir, true);
    let now = Utc::now();
    state.sync.enrol(&enrolment.link, None, None, now).unwrap();
    for i in 0..40 {
        let value = format!("1,{:02}", 10 + i);
        add_entry_at(&state, glucose(&value), None, now - TimeDelta::minutes(i)).unwrap();
    }

    // The loop and "sync now" pressed at the same moment.
    let outcomes: Vec<_> = std::thread::scope(|s| {
        let a = s.spawn(|| state.sync.sync_now(now));
        let b = s.spawn(|| state.sync.sync_now(now));
        vec![a.join().unwrap(), b.join().unwrap()]
    });
    for o in outcomes {
        assert_eq!(o.unwrap().problem, None);
    }
    assert_eq!(server.versions(enrolment.patient_id), 40);
    assert_eq!(
        server.duplicates(device_of(&state)),
        0,
        "the second session found nothing left to send"
    );
    assert_eq!(home_at(&state, now).unwrap().sync.pending, 0);
}

#[test]
fn offline_is_retried_on_the_backoff_and_goes_through_when_the_server_is_back() {
    let addr = Server::free();
    let server = Server::start_at(addr);
    let enrolment = server.patient();
    let dir = tempfile::tempdir().unwrap();
    let state = onboarded(&dir, true);
    let now = Utc::now();
    state.sync.enrol(&enrolment.link, None, None, now).unwrap();
    let patient = enrolment.patient_id;
    // The server goes away with its in-memory database: keep its storage to look at later.
    let storage_state = server.state.clone();
    drop(server);
    add_entry_at(&state, glucose("0,60"), None, now).unwrap();

    let status = state.sync.sync_now(now).unwrap();
    assert_eq!(status.problem, Some(crate::sync::Problem::Offline));
    assert_eq!(status.failures, 1);
    let next = status.next_try_at.unwrap();
    // First retry: full jitter under 15 s, never sooner than 5 s.
    assert!(next >= now + TimeDelta::seconds(5) && next <= now + TimeDelta::seconds(15));
    let home = home_at(&state, now).unwrap();
    assert_eq!(home.sync.state, "offline");
    assert!(home.sync.pending >= 1);
    assert_eq!(home.sync.next_try_at, Some(next));

    let second = state.sync.sync_now(now).unwrap();
    assert_eq!(second.failures, 2);
    assert!(second.next_try_at.unwrap() <= now + TimeDelta::seconds(30));

    // Back on the same address and storage: the next session sends everything.
    let runtime = Server::serve(addr, &storage_state);
    let status = state.sync.sync_now(now).unwrap();
    assert_eq!((status.problem, status.failures), (None, 0));
    assert_eq!(
        storage_state
            .storage()
            .count_entry_versions(patient)
            .unwrap(),
        1
    );
    assert_eq!(home_at(&state, now).unwrap().sync.pending, 0);
    runtime.shutdown_background();
}

#[test]
fn enrolment_failures_have_their_own_codes() {
    let server = Server::start_at(Server::free());
    let enrolment = server.patient();
    let now = Utc::now();

    let dir = tempfile::tempdir().unwrap();
    let state = onboarded(&dir, true);
    let e = state
        .sync
        .enrol(&enrolment.code, None, None, now)
        .unwrap_err();
    assert_eq!(code(e), "enrol-server-missing");
    let e = state.sync.enrol("", None, None, now).unwrap_err();
    assert_eq!(code(e), "enrol-empty");
    let mut typo = enrolment.code.clone();
    typo.replace_range(0..1, if typo.starts_with('A') { "B" } else { "A" });
    let e = state
        .sync
        .enrol(&typo, Some(&server.url()), None, now)
        .unwrap_err();
    assert!(
        ["enrol-code-typo", "enrol-unknown"].contains(&code(e).as_str()),
        "a mistyped code is refused"
    );
    let down = format!("http://{}", Server::free());
    let e = state
        .sync
        .enrol(&enrolment.code, Some(&down), None, now)
        .unwrap_err();
    assert_eq!(code(e), "server-unreachable");

    // The typed code and its server work once; then the code is used.
    state
        .sync
        .enrol(&enrolment.code, Some(&server.url()), None, now)
        .unwrap();
    let e = state
        .sync
        .enrol(&enrolment.link, None, None, now)
        .unwrap_err();
    assert_eq!(code(e), "already-enrolled");
    let other = tempfile::tempdir().unwrap();
    let second = onboarded(&other, true);
    let e = second
        .sync
        .enrol(&enrolment.link, None, None, now)
        .unwrap_err();
    assert_eq!(code(e), "enrol-used");

    // A link whose server key fingerprint is not this server's: refused before saving anything.
    let third_dir = tempfile::tempdir().unwrap();
    let third = onboarded(&third_dir, true);
    let fresh = server.patient();
    let mut invite: ilot_wire::EnrolmentInvite = fresh.link.parse().unwrap();
    let impostor = Server::start_at(Server::free());
    let theirs: ilot_wire::EnrolmentInvite = impostor.patient().link.parse().unwrap();
    invite.fingerprint = theirs.fingerprint;
    let e = third
        .sync
        .enrol(&invite.to_link(), None, None, now)
        .unwrap_err();
    assert_eq!(code(e), "server-key-mismatch");
    assert!(
        ilot_sync::SyncState::identity(&*third.store().unwrap())
            .unwrap()
            .is_none()
    );
}

#[test]
fn a_consent_kept_by_an_older_version_moves_to_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ilot.db");
    let settings = crate::settings::path_for(&db);
    std::fs::write(
        &settings,
        r#"{"language":"fr","onboarded":true,"consent":{"given_at":"2026-11-01T09:00:00Z","withdrawn_at":null,"text_version":1}}"#,
    )
    .unwrap();
    let state = AppState::open_at(db.clone(), KeyMode::File, false).unwrap();
    let c = ilot_sync::SyncState::consent(&*state.store().unwrap())
        .unwrap()
        .unwrap();
    assert!(c.granted && !c.told_server);
    assert_eq!(
        c.at,
        "2026-11-01T09:00:00Z"
            .parse::<chrono::DateTime<Utc>>()
            .unwrap()
    );
    let text = std::fs::read_to_string(&settings).unwrap();
    assert!(!text.contains("given_at"), "the duplicate is gone: {text}");
    assert!(Settings::load(&settings).unwrap().onboarded);
}

#[test]
fn deleting_the_local_data_forgets_the_enrolment_and_its_secret_and_sends_nothing_more() {
    let server = Server::start_at(Server::free());
    let enrolment = server.patient();
    let dir = tempfile::tempdir().unwrap();
    let state = onboarded(&dir, true);
    let now = Utc::now();
    state.sync.enrol(&enrolment.link, None, None, now).unwrap();
    let secret = ilot_store::secret_file_path(&state.db_path, "device");
    assert!(
        secret.exists(),
        "the device secret beside the store (file mode in tests)"
    );
    add_entry_at(&state, glucose("1,05"), None, now - TimeDelta::minutes(2)).unwrap();
    state.sync.sync_now(now).unwrap();
    assert_eq!(server.versions(enrolment.patient_id), 1);

    // An entry left unsent, then the patient deletes everything.
    add_entry_at(&state, glucose("1,40"), None, now - TimeDelta::minutes(1)).unwrap();
    state.reset().unwrap();
    assert!(
        !secret.exists(),
        "no secret of the old enrolment stays behind"
    );

    // The sync runner reopens the new, empty store: no consent, not enrolled, nothing sent.
    let status = state.sync.sync_now(now).unwrap();
    assert_eq!(status.last_ok_at, None);
    assert_eq!(
        server.versions(enrolment.patient_id),
        1,
        "the unsent entry went with the data"
    );
    assert_eq!(home_at(&state, now).unwrap().sync.state, "no-consent");
    assert!(
        ilot_sync::SyncState::identity(&*state.store().unwrap())
            .unwrap()
            .is_none()
    );
    // The used code cannot enrol again: the care team issues a new one.
    assert_eq!(
        code(
            state
                .sync
                .enrol(&enrolment.link, None, None, now)
                .unwrap_err()
        ),
        "enrol-used"
    );
}

#[test]
fn a_delete_waits_for_a_sync_under_way_and_no_session_sees_the_old_files() {
    let server = Server::start_at(Server::free());
    let enrolment = server.patient();
    let dir = tempfile::tempdir().unwrap();
    let mut state = onboarded(&dir, true);
    let gate = Arc::new(Gate::default());
    let g = Arc::clone(&gate);
    state.sync = crate::sync::Runner::new(
        state.db_path.clone(),
        KeyMode::File,
        Box::new(move |server, pem| {
            Ok(Box::new(Gated(crate::sync::http(server, pem)?, Arc::clone(&g))) as Box<_>)
        }),
    );
    let state = Arc::new(state);
    let now = Utc::now();
    state.sync.enrol(&enrolment.link, None, None, now).unwrap();
    for i in 0..200 {
        add_entry_at(
            &state,
            glucose("1,10"),
            None,
            now - TimeDelta::minutes(300 - i),
        )
        .unwrap();
    }
    let device = device_of(&state);

    // A session starts and its first request is held on the way: the session is under way.
    let (started, release) = gate.arm();
    let syncing = {
        let state = Arc::clone(&state);
        std::thread::spawn(move || state.sync.sync_now(Utc::now()).unwrap())
    };
    started.recv().unwrap();
    // The patient deletes everything meanwhile.
    let resetting = {
        let (state, log) = (Arc::clone(&state), Arc::clone(&gate.log));
        std::thread::spawn(move || {
            state.reset().unwrap();
            log.lock().unwrap().push("reset done");
        })
    };
    // Room for a delete that did not wait to finish first. (This pause can only let the test
    // miss such a bug, never fail a delete that waits: that one cannot finish before the
    // session's requests are answered.)
    std::thread::sleep(std::time::Duration::from_millis(300));
    release.send(()).unwrap();
    let status = syncing.join().unwrap();
    resetting.join().unwrap();

    // The session under way ended whole before the files went.
    assert_eq!(status.problem, None);
    let log = gate.log.lock().unwrap().clone();
    assert_eq!(
        log.last(),
        Some(&"reset done"),
        "the delete finished while the session was under way: {log:?}"
    );
    assert!(
        log.len() >= 2,
        "the session's requests were answered: {log:?}"
    );
    assert_eq!(server.versions(enrolment.patient_id), 200);
    assert_eq!(server.duplicates(device), 0);
    // Every later session finds the new store not enrolled: nothing more leaves.
    state.sync.sync_now(Utc::now()).unwrap();
    assert_eq!(
        gate.log.lock().unwrap().len(),
        log.len(),
        "no request after the delete"
    );
    assert_eq!(server.versions(enrolment.patient_id), 200);
    assert!(
        ilot_sync::SyncState::identity(&*state.store().unwrap())
            .unwrap()
            .is_none()
    );
    assert_eq!(home_at(&state, now).unwrap().entries, 0);
}
