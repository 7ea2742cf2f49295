//! The end-to-end scenario: offline logging, server down, server up, exact delivery;
//! an operator change reaching the device and changing its alerts; crash and retry at every
//! step of a batch.

use chrono::TimeDelta;
use ilot_domain::{Entry, EntryKind, Glucose, GlucoseReading, Source};
use ilot_rules::alerts::{AlertKind, evaluate};
use ilot_sync::{Limits, SyncError, SyncState, Transport, sync_once};

use crate::support::*;

#[test]
fn ten_thousand_entries_logged_offline_arrive_exactly_once() {
    // Enrolled while the server is reachable; the sync below first goes to an address where
    // nothing listens (the server down).
    let server = TestServer::start();
    let e = server.new_patient("P-0001");
    let mut dev = enrolled(&server, &e.code);
    let down = TestServer::reserve();
    let dead = transport(&TestServer::url_of(down));

    dev.store.add_batch(&cgm_entries(10_000, 1), t0()).unwrap();
    assert_eq!(dev.store.outbox_len().unwrap(), 10_000);
    let err = sync_once(&mut dev, &dead, Limits::default(), &mut rand::rng(), t0()).unwrap_err();
    assert!(matches!(err, SyncError::Unreachable { .. }), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("cannot be reached") && msg.contains("kept on this device"),
        "{msg}"
    );
    assert_eq!(
        dev.store.outbox_len().unwrap(),
        10_000,
        "nothing marked sent"
    );

    // The batch built for the failed attempt is in flight and is resent as is.
    assert!(dev.in_flight().unwrap().is_some());
    let live = transport(&server.url());
    let r = sync_once(&mut dev, &live, Limits::default(), &mut rand::rng(), t0()).unwrap();
    assert_eq!(r.sent, 10_000);
    assert_eq!((r.stored, r.duplicates), (10_000, 0));
    assert!(r.batches >= 2, "5,000 entries a batch at most: {r:?}");
    assert_eq!(dev.store.outbox_len().unwrap(), 0);
    assert_eq!(
        server
            .state
            .storage()
            .count_entry_versions(e.patient_id)
            .unwrap(),
        10_000
    );

    // A second session moves nothing.
    let r = sync_once(&mut dev, &live, Limits::default(), &mut rand::rng(), t0()).unwrap();
    assert_eq!((r.batches, r.sent), (0, 0));
    assert_eq!(
        server
            .state
            .storage()
            .count_entry_versions(e.patient_id)
            .unwrap(),
        10_000
    );
}

#[test]
fn batches_are_bounded_in_bytes_too() {
    let server = TestServer::start();
    let e = server.new_patient("P-0002");
    let mut dev = enrolled(&server, &e.code);
    dev.store.add_batch(&cgm_entries(3_000, 1), t0()).unwrap();
    let limits = Limits {
        max_entries: 10_000,
        max_bytes: 256,
        pull_limit: 50,
    };
    let r = sync_once(
        &mut dev,
        &transport(&server.url()),
        limits,
        &mut rand::rng(),
        t0(),
    )
    .unwrap();
    assert_eq!(r.sent, 3_000);
    assert_eq!(r.duplicates, 0, "each entry in one batch only");
    assert!(r.batches > 1, "{r:?}");
    assert!(dev.in_flight().unwrap().is_none());
    assert_eq!(
        server
            .state
            .storage()
            .count_entry_versions(e.patient_id)
            .unwrap(),
        3_000
    );
}

#[test]
fn batches_are_bounded_in_plaintext_for_the_server() {
    // 2,000 long notes compress far under the 1 MiB sealed bound but are ~8 MB of plaintext,
    // more than the server accepts in one batch: the engine splits them.
    let server = TestServer::start();
    let e = server.new_patient("P-0004");
    let mut dev = enrolled(&server, &e.code);
    let tz = chrono::FixedOffset::east_opt(3600).unwrap();
    let text = "la glycémie du matin ".repeat(190);
    let notes: Vec<Entry> = (0..2_000)
        .map(|i| {
            Entry::new(
                (t0() - TimeDelta::minutes(i)).with_timezone(&tz),
                Source::manual(),
                EntryKind::Note(ilot_domain::Note::new(format!("{i} {text}")).unwrap()),
                t0(),
            )
            .unwrap()
        })
        .collect();
    dev.store.add_batch(&notes, t0()).unwrap();
    let r = sync_once(
        &mut dev,
        &transport(&server.url()),
        Limits::default(),
        &mut rand::rng(),
        t0(),
    )
    .unwrap();
    assert_eq!((r.sent, r.stored), (2_000, 2_000));
    assert!(r.batches > 1, "{r:?}");
}

/// Delivers to the server but loses the answer: the half-broken network.
struct LoseAnswers<'a>(&'a dyn Transport);
impl Transport for LoseAnswers<'_> {
    fn post(&self, path: &str, ct: &str, body: Vec<u8>) -> ilot_sync::Result<Vec<u8>> {
        self.0.post(path, ct, body)?;
        Err(SyncError::Unreachable {
            server: "test".into(),
            detail: "connection reset".into(),
        })
    }
}

#[test]
fn a_lost_acknowledgement_is_recovered_without_duplicates() {
    let server = TestServer::start();
    let e = server.new_patient("P-0003");
    let mut dev = enrolled(&server, &e.code);
    dev.store.add_batch(&cgm_entries(1_200, 1), t0()).unwrap();
    let live = transport(&server.url());
    let limits = Limits {
        max_entries: 500,
        ..Limits::default()
    };
    // The server stores the first batch, the device never hears back.
    let err = sync_once(
        &mut dev,
        &LoseAnswers(&live),
        limits,
        &mut rand::rng(),
        t0(),
    )
    .unwrap_err();
    assert!(err.is_transient());
    assert_eq!(
        server
            .state
            .storage()
            .count_entry_versions(e.patient_id)
            .unwrap(),
        500
    );
    assert_eq!(dev.store.outbox_len().unwrap(), 1_200);
    // The resent bytes get the earlier acknowledgement: the server says all 500 are stored.
    let r = sync_once(&mut dev, &live, limits, &mut rand::rng(), t0()).unwrap();
    assert_eq!(r.sent, 1_200);
    assert_eq!(
        r.stored,
        500 + 700,
        "the replayed batch reports its original count"
    );
    assert_eq!(
        r.duplicates, 0,
        "the replay is recognised, not stored again"
    );
    assert_eq!(
        server
            .state
            .storage()
            .count_entry_versions(e.patient_id)
            .unwrap(),
        1_200
    );
    assert_eq!(dev.store.outbox_len().unwrap(), 0);
}

#[test]
fn an_operator_change_reaches_the_device_and_changes_its_alerts() {
    let server = TestServer::start();
    let e = server.new_patient("P-0004");
    let mut dev = enrolled(&server, &e.code);
    let live = transport(&server.url());
    let at = (t0() - TimeDelta::hours(1)).fixed_offset();
    let reading = Entry::new(
        at,
        Source::manual(),
        EntryKind::Glucose(GlucoseReading::capillary(
            Glucose::from_mg_dl(220.0).unwrap(),
            ilot_domain::MealContext::Other,
        )),
        t0(),
    )
    .unwrap();
    dev.store.add(&reading, t0()).unwrap();
    let hypers = |dev: &Device| {
        let p = dev.store.prescription().unwrap().unwrap();
        let g = dev
            .store
            .glucose_points(Some(t0() - TimeDelta::days(1)), Some(t0()))
            .unwrap();
        let data = ilot_rules::Data {
            glucose: &g,
            ..Default::default()
        };
        evaluate(&p, chrono_tz::Europe::Paris, &data, None, p.start, t0())
            .into_iter()
            .filter(|a| a.kind == AlertKind::Hyper)
            .count()
    };
    assert_eq!(
        hypers(&dev),
        0,
        "220 mg/dL is under the default 250 threshold"
    );

    // The physician lowers the hyper threshold and writes to the patient, over the operator API.
    let http = reqwest::blocking::Client::new();
    let login: serde_json::Value = http
        .post(format!("{}/v1/operator/login", server.url()))
        .json(&serde_json::json!({"username": server.physician().username, "password": "a long enough password", "totp": server.physician_code()}))
        .send().unwrap().json().unwrap();
    let token = login["token"].as_str().unwrap().to_string();
    let mut p = dev.store.prescription().unwrap().unwrap();
    p.policy.hyper_mg_dl = 200.0;
    let r = http
        .put(format!(
            "{}/v1/operator/patients/{}/prescription",
            server.url(),
            e.patient_id
        ))
        .bearer_auth(&token)
        .json(&serde_json::json!({ "prescription": p }))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().unwrap());
    let r = http
        .post(format!(
            "{}/v1/operator/patients/{}/messages",
            server.url(),
            e.patient_id
        ))
        .bearer_auth(&token)
        .json(&serde_json::json!({ "text": "Seuil d'hyperglycémie abaissé à 2,00 g/L" }))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);

    let rep = sync_once(&mut dev, &live, Limits::default(), &mut rand::rng(), t0()).unwrap();
    assert_eq!(rep.messages, 1);
    assert_eq!(rep.prescription_version, Some(2));
    let now_p = dev.store.prescription().unwrap().unwrap();
    assert_eq!(now_p.policy.hyper_mg_dl, 200.0);
    assert_eq!(
        now_p.policy.version, 2,
        "a threshold change is a new policy version"
    );
    assert_eq!(
        dev.messages().unwrap()[0].text,
        "Seuil d'hyperglycémie abaissé à 2,00 g/L"
    );
    assert_eq!(hypers(&dev), 1, "the same reading now raises a hyper alert");

    // The server evaluated the same rules on ingest; acknowledging reaches the device too.
    let alerts = server
        .state
        .storage()
        .alerts(Some(e.patient_id), false)
        .unwrap();
    assert!(!alerts.is_empty());
    let r = http
        .post(format!(
            "{}/v1/operator/alerts/{}/ack",
            server.url(),
            alerts[0].id
        ))
        .bearer_auth(&token)
        .json(&serde_json::json!({ "note": "appelée, RAS" }))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let rep = sync_once(&mut dev, &live, Limits::default(), &mut rand::rng(), t0()).unwrap();
    assert_eq!(rep.alert_acks, 1);
    assert_eq!(
        dev.alert_acks().unwrap()[0].note.as_deref(),
        Some("appelée, RAS")
    );
    // Every read was audited.
    let audit = server.state.storage().audit_log(100).unwrap();
    assert!(
        audit
            .iter()
            .any(|a| a.action == "set-prescription" && a.patient_id == Some(e.patient_id))
    );
}

#[test]
fn nothing_leaves_without_consent_and_a_withdrawal_is_told_once() {
    let server = TestServer::start();
    let e = server.new_patient("P-0005");
    let mut dev = device();
    let url = server.url();
    ilot_sync::enrol(
        &mut dev,
        &e.code,
        Some(&url),
        |s| Ok(Box::new(transport(s.as_str())) as Box<dyn Transport>),
        None,
        &mut rand::rng(),
        t0(),
    )
    .unwrap();
    dev.store.add_batch(&cgm_entries(10, 1), t0()).unwrap();
    let live = transport(&server.url());
    let err = sync_once(&mut dev, &live, Limits::default(), &mut rand::rng(), t0()).unwrap_err();
    assert!(matches!(err, SyncError::ConsentRequired));
    assert_eq!(
        server
            .state
            .storage()
            .count_entry_versions(e.patient_id)
            .unwrap(),
        0
    );

    ilot_sync::set_consent(&mut dev, true, 1, t0()).unwrap();
    let r = sync_once(&mut dev, &live, Limits::default(), &mut rand::rng(), t0()).unwrap();
    assert_eq!((r.sent, r.retired, r.consent_told), (10, 1, Some(true)));
    assert_eq!(r.duplicates, 0);
    assert_eq!(
        server
            .state
            .storage()
            .patient(e.patient_id)
            .unwrap()
            .unwrap()
            .consent_granted,
        Some(true)
    );

    ilot_sync::set_consent(&mut dev, false, 1, t0()).unwrap();
    dev.store.add_batch(&cgm_entries(5, 100), t0()).unwrap();
    let r = sync_once(&mut dev, &live, Limits::default(), &mut rand::rng(), t0()).unwrap();
    assert_eq!((r.sent, r.consent_told), (0, Some(false)));
    assert_eq!(
        server
            .state
            .storage()
            .patient(e.patient_id)
            .unwrap()
            .unwrap()
            .consent_granted,
        Some(false)
    );
    let r = sync_once(&mut dev, &live, Limits::default(), &mut rand::rng(), t0()).unwrap();
    assert!(
        r.withdrawn && r.batches == 0 && r.consent_told.is_none(),
        "told once: {r:?}"
    );
    assert_eq!(
        server
            .state
            .storage()
            .count_entry_versions(e.patient_id)
            .unwrap(),
        10
    );
    assert_eq!(
        dev.store.outbox_len().unwrap(),
        5,
        "the new entries stay on the device"
    );
}

#[test]
fn the_server_raises_no_data_after_the_silence() {
    let server = TestServer::start();
    let e = server.new_patient("P-0006");
    let mut dev = enrolled(&server, &e.code);
    dev.store.add_batch(&cgm_entries(10, 1), t0()).unwrap();
    sync_once(
        &mut dev,
        &transport(&server.url()),
        Limits::default(),
        &mut rand::rng(),
        t0(),
    )
    .unwrap();
    let now = t0() + TimeDelta::hours(47);
    assert_eq!(
        ilot_server::rules::raise_no_data(server.state.storage(), now).unwrap(),
        0
    );
    let now = t0() + TimeDelta::hours(48);
    assert_eq!(
        ilot_server::rules::raise_no_data(server.state.storage(), now).unwrap(),
        1,
        "CGM: 48 h (SPEC §3)"
    );
    assert_eq!(
        ilot_server::rules::raise_no_data(server.state.storage(), now).unwrap(),
        0,
        "one alert per silence"
    );
    let a = server
        .state
        .storage()
        .alerts(Some(e.patient_id), true)
        .unwrap();
    assert!(a.iter().any(|a| a.kind == "no-data"));
}
