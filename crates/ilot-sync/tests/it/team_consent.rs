//! The device follows the consent decisions the care team records in consultation, through a
//! real server: after a pull that brings a withdrawal the device's own consent is withdrawn (when,
//! by whom, "consultation") and no push is attempted; consent given again — in the app or in
//! consultation — resumes ingest, and the readings measured while consent was withdrawn never
//! leave the device (docs/privacy.md §6).

use std::cell::RefCell;

use chrono::{DateTime, FixedOffset, TimeDelta, Utc};
use ilot_domain::{Entry, EntryKind, Glucose, GlucoseReading, Source, SourceKind};
use ilot_sync::{HttpTransport, Limits, SyncError, SyncState, Transport, sync_once};
use ilot_wire::api::{ErrorCode, paths};
use ilot_wire::{ConsentChannel, ConsentDecision};
use serde_json::json;

use crate::rights::login;
use crate::support::*;

/// The real transport, remembering the path of every request.
struct Counting {
    inner: HttpTransport,
    paths: RefCell<Vec<String>>,
}

impl Counting {
    fn new(server: &TestServer) -> Self {
        Self {
            inner: transport(&server.url()),
            paths: RefCell::new(Vec::new()),
        }
    }

    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.paths.borrow_mut())
    }
}

impl Transport for Counting {
    fn post(&self, path: &str, content_type: &str, body: Vec<u8>) -> ilot_sync::Result<Vec<u8>> {
        self.paths.borrow_mut().push(path.to_string());
        self.inner.post(path, content_type, body)
    }
}

/// One sync session of the device through `t` at `now`.
fn session(
    dev: &mut Device,
    t: &Counting,
    now: DateTime<Utc>,
) -> ilot_sync::Result<ilot_sync::Report> {
    sync_once(dev, t, Limits::default(), &mut rand::rng(), now)
}

fn at(h: i64, m: i64) -> DateTime<Utc> {
    t0() + TimeDelta::hours(h) + TimeDelta::minutes(m)
}

/// `n` CGM readings every 5 minutes from `from`.
fn readings(from: DateTime<Utc>, n: usize, first_record: u32) -> Vec<Entry> {
    let tz = FixedOffset::east_opt(3600).unwrap();
    (0..n)
        .map(|i| {
            Entry::new(
                (from + TimeDelta::minutes(5 * i as i64)).with_timezone(&tz),
                Source::device(
                    SourceKind::Cgm,
                    ilot_domain::DeviceId::new("sim-cgm-1").unwrap(),
                    first_record + i as u32,
                ),
                EntryKind::Glucose(GlucoseReading::cgm(
                    Glucose::from_mg_dl(100.0 + i as f64).unwrap(),
                )),
                from + TimeDelta::minutes(5 * n as i64),
            )
            .unwrap()
        })
        .collect()
}

/// A new session of the physician `login` created (sessions end after 30 idle minutes).
fn relogin(server: &TestServer) -> String {
    let r: serde_json::Value = reqwest::blocking::Client::new()
        .post(format!("{}/v1/operator/login", server.url()))
        .json(&json!({"username": "dr", "password": "a long enough password", "totp": server.physician_code()}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    r["token"].as_str().unwrap().to_string()
}

fn record(server: &TestServer, token: &str, patient: ilot_wire::PatientId, decision: &str) {
    let r = reqwest::blocking::Client::new()
        .post(format!(
            "{}/v1/operator/patients/{patient}/consent",
            server.url()
        ))
        .bearer_auth(token)
        .json(&json!({ "decision": decision, "notice_version": 2 }))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().unwrap());
}

fn stored(server: &TestServer, p: ilot_wire::PatientId) -> u64 {
    server.state.storage().count_entry_versions(p).unwrap()
}

#[test]
fn a_team_withdrawal_is_followed_pushes_stop_and_consent_given_again_in_the_app_resumes_ingest() {
    let server = TestServer::start();
    // The physician Dr Martin ("dr"); its session is taken again when needed.
    login(&server);
    let e = server.new_patient("P-0200");
    let mut dev = enrolled(&server, &e.code);
    let live = Counting::new(&server);
    dev.store
        .add_batch(&readings(at(0, 10), 4, 1), at(0, 30))
        .unwrap();
    let r = session(&mut dev, &live, at(0, 30)).unwrap();
    assert_eq!(r.stored, 4);

    // The physician records the withdrawal in consultation at 09:00.
    server.advance(TimeDelta::hours(1));
    record(&server, &relogin(&server), e.patient_id, "withdrawn");

    // Readings measured after it are recorded on the device. The first session does not know
    // yet: its push is refused, and its pull brings the decision, which the device follows.
    dev.store
        .add_batch(&readings(at(1, 10), 3, 100), at(1, 30))
        .unwrap();
    live.take();
    let err = session(&mut dev, &live, at(1, 30)).unwrap_err();
    assert!(
        matches!(
            err,
            SyncError::Refused {
                code: ErrorCode::ConsentWithdrawn,
                ..
            }
        ),
        "{err:?}"
    );
    let c = dev.consent().unwrap().unwrap();
    assert!(!c.granted, "{c:?}");
    assert_eq!(
        (c.at, c.channel, c.told_server),
        (at(1, 0), ConsentChannel::Consultation, true)
    );
    let held = dev.server_consent().unwrap();
    let by = held.iter().find(|h| Some(h.id) == c.record).unwrap();
    assert_eq!(by.collected_by.as_ref().unwrap().name, "Dr Martin");
    assert!(
        dev.in_flight().unwrap().is_none(),
        "the refused batch is dropped"
    );

    // From now on no push is attempted: the session only pulls.
    live.take();
    let r = session(&mut dev, &live, at(2, 0)).unwrap();
    assert!(r.withdrawn && r.batches == 0, "{r:?}");
    let sent = live.take();
    assert!(
        !sent.is_empty() && sent.iter().all(|p| p == paths::PULL),
        "{sent:?}"
    );
    assert_eq!(stored(&server, e.patient_id), 4);
    assert_eq!(dev.store.outbox_len().unwrap(), 3, "kept on the device");

    // The patient gives consent again in the app at 11:00; a reading measured after it goes,
    // the three measured while consent was withdrawn stay on the device only.
    server.advance(TimeDelta::hours(2));
    ilot_sync::set_consent(&mut dev, true, 2, at(3, 0)).unwrap();
    dev.store
        .add_batch(&readings(at(3, 5), 2, 200), at(3, 15))
        .unwrap();
    let r = session(&mut dev, &live, at(3, 15)).unwrap();
    assert_eq!(
        (r.stored, r.withheld, r.consent_told),
        (2, 3, Some(true)),
        "{r:?}"
    );
    assert_eq!(stored(&server, e.patient_id), 6);
    assert_eq!(dev.store.outbox_len().unwrap(), 0);
    assert_eq!(dev.store.count_entries().unwrap(), 9, "all kept locally");
    let history = server
        .state
        .storage()
        .consent_history(e.patient_id)
        .unwrap();
    let last = history.last().unwrap();
    assert_eq!(
        (last.decision, last.channel),
        (ConsentDecision::Given, ConsentChannel::App)
    );
    let c = dev.consent().unwrap().unwrap();
    assert!(c.granted && c.told_server && c.channel == ConsentChannel::App);
}

#[test]
fn consent_given_again_in_consultation_reaches_the_device_and_resumes_ingest() {
    let server = TestServer::start();
    // The physician Dr Martin ("dr"); its session is taken again when needed.
    login(&server);
    let e = server.new_patient("P-0201");
    let mut dev = enrolled(&server, &e.code);
    let live = Counting::new(&server);
    server.advance(TimeDelta::hours(1));
    record(&server, &relogin(&server), e.patient_id, "withdrawn");
    // A session with nothing to push learns the withdrawal from its pull alone.
    let r = session(&mut dev, &live, at(1, 5)).unwrap();
    assert_eq!(
        r.consent_followed,
        Some(ConsentDecision::Withdrawn),
        "{r:?}"
    );
    dev.store
        .add_batch(&readings(at(1, 10), 2, 1), at(1, 30))
        .unwrap();

    server.advance(TimeDelta::hours(1));
    record(&server, &relogin(&server), e.patient_id, "given");
    dev.store
        .add_batch(&readings(at(2, 5), 3, 50), at(2, 20))
        .unwrap();
    live.take();
    let r = session(&mut dev, &live, at(2, 20)).unwrap();
    assert_eq!(r.consent_followed, Some(ConsentDecision::Given), "{r:?}");
    assert_eq!((r.stored, r.withheld), (3, 2), "{r:?}");
    assert!(live.take().iter().any(|p| p == paths::PUSH));
    let c = dev.consent().unwrap().unwrap();
    assert!(c.granted && c.channel == ConsentChannel::Consultation && c.at == at(2, 0));
    assert_eq!(stored(&server, e.patient_id), 3);
    assert_eq!(dev.store.count_entries().unwrap(), 5);
}
