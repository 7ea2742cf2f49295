//! The patient page's rights and what reaches the device: the feed says what the team sent and
//! whether the phone has it, only physicians read the access log and change the prescription (a
//! refused change says the domain's rule and saves nothing), and an acknowledgement made with
//! the console's cookie needs the CSRF token.

use chrono::TimeDelta;
use reqwest::blocking::Client;
use serde_json::{Value, json};

use crate::patient_page::{get, ok, patient};
use crate::support::*;

#[test]
fn the_feed_shows_what_the_team_sent_and_whether_the_device_has_it() {
    let s = start();
    let ide = login(&s, "ide");
    s.advance(TimeDelta::seconds(30));
    let dr = login(&s, "dr");
    let p = patient(&s, &dr, "P1");
    for text in ["Bonjour", "Pensez au capteur"] {
        let r = Client::new()
            .post(format!("{}/v1/operator/patients/{}/messages", s.url, p.id))
            .bearer_auth(&ide)
            .json(&json!({ "text": text }))
            .send()
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let path = format!("/v1/operator/patients/{}/feed?kind=message", p.id);
    let v = ok(&s, &ide, &path);
    let items = v["items"].as_array().unwrap();
    let texts: Vec<&str> = items
        .iter()
        .map(|i| i["item"]["message"]["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["Bonjour", "Pensez au capteur"]);
    assert!(items.iter().all(|i| i["delivered"] == false));
    assert_eq!(v["next_cursor"], Value::Null);
    // The device pulls and applies up to the first message: that one is delivered.
    let first = items[0]["cursor"].as_u64().unwrap();
    s.state.storage().record_pull(p.device, first).unwrap();
    // An older cursor (a replayed request) never takes the receipt back.
    s.state.storage().record_pull(p.device, 0).unwrap();
    let v = ok(&s, &ide, &path);
    let delivered: Vec<bool> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["delivered"].as_bool().unwrap())
        .collect();
    assert_eq!(delivered, [true, false]);
    // The prescription the patient was created with is in the feed too.
    let v = ok(
        &s,
        &ide,
        &format!(
            "/v1/operator/patients/{}/feed?kind=prescription&limit=1",
            p.id
        ),
    );
    assert_eq!(v["items"][0]["item"]["prescription"]["version"], 1);
    for bad in [
        "",
        "?kind=nope",
        "?kind=message&cursor=-1",
        "?kind=message&limit=0",
    ] {
        let (st, _) = get(
            &s,
            &ide,
            &format!("/v1/operator/patients/{}/feed{bad}", p.id),
        );
        assert_eq!(st, 400, "{bad}");
    }
}

#[test]
fn only_a_physician_reads_who_accessed_the_patients_data() {
    let s = start();
    let ide = login(&s, "ide");
    s.advance(TimeDelta::seconds(30));
    let dr = login(&s, "dr");
    let p = patient(&s, &dr, "P1");
    ok(&s, &ide, &format!("/v1/operator/patients/{}/logbook", p.id));
    let path = format!("/v1/operator/patients/{}/audit", p.id);
    let (st, e) = get(&s, &ide, &path);
    assert_eq!(st, 403, "{e}");
    let v = ok(&s, &dr, &format!("{path}?limit=2"));
    let items = v["items"].as_array().unwrap();
    // Newest first: the physician's reading of the log, then the nurse's logbook read.
    assert_eq!(items[0]["action"], "read-patient-audit");
    assert_eq!(items[0]["operator"], "dr");
    assert_eq!(items[1]["action"], "read-logbook");
    assert_eq!(items[1]["operator"], "ide");
    let next = v["next_cursor"].as_str().expect("more: the creation");
    let v = ok(&s, &dr, &format!("{path}?cursor={next}"));
    let actions: Vec<&str> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"create-patient"), "{actions:?}");
    assert!(
        !actions.contains(&"read-logbook"),
        "no row twice: {actions:?}"
    );
}

#[test]
fn an_acknowledgement_with_the_console_cookie_needs_the_csrf_token() {
    let s = start();
    let dr = login(&s, "dr");
    let p = patient(&s, &dr, "P1");
    let st = s.state.storage();
    let policy = st.prescription(p.id).unwrap().unwrap().prescription.policy;
    let al = ilot_rules::alerts::no_data(&policy, Some(t0()), t0() + TimeDelta::hours(49)).unwrap();
    st.upsert_alerts(p.id, &[al], t0()).unwrap();
    let alert = st.alerts(Some(p.id), true).unwrap()[0].id;
    s.advance(TimeDelta::seconds(30));
    let r = Client::new()
        .post(format!("{}/v1/console/login", s.url))
        .json(&json!({"username": "dr", "password": PASSWORD, "totp": s.code("dr")}))
        .send()
        .unwrap();
    let cookie = r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let csrf = r.json::<Value>().unwrap()["csrf_token"]
        .as_str()
        .unwrap()
        .to_string();
    let ack = |token: Option<&str>| {
        let mut b = Client::new()
            .post(format!("{}/v1/operator/alerts/{alert}/ack", s.url))
            .header("cookie", &cookie)
            .json(&json!({"note": "appelé, capteur changé"}));
        if let Some(t) = token {
            b = b.header("x-csrf-token", t);
        }
        b.send().unwrap().status().as_u16()
    };
    assert_eq!(ack(None), 403);
    assert!(st.alert(alert).unwrap().unwrap().acknowledged_at.is_none());
    let feed = st.feed(p.id, 0, 100).unwrap().len();
    assert_eq!(ack(Some(&csrf)), 200);
    let a = st.alert(alert).unwrap().unwrap();
    assert_eq!(a.note.as_deref(), Some("appelé, capteur changé"));
    assert_eq!(
        st.feed(p.id, 0, 100).unwrap().len(),
        feed + 1,
        "queued for the device"
    );
}

#[test]
fn a_prescription_change_is_the_physicians_and_a_refused_one_says_why_and_changes_nothing() {
    let s = start();
    let ide = login(&s, "ide");
    s.advance(TimeDelta::seconds(30));
    let dr = login(&s, "dr");
    let p = patient(&s, &dr, "P1");
    let put = |token: &str, rx: &ilot_domain::Prescription| {
        let r = Client::new()
            .put(format!(
                "{}/v1/operator/patients/{}/prescription",
                s.url, p.id
            ))
            .bearer_auth(token)
            .json(&json!({ "prescription": rx }))
            .send()
            .unwrap();
        (r.status().as_u16(), r.json::<Value>().unwrap())
    };
    let version = || {
        s.state
            .storage()
            .prescription(p.id)
            .unwrap()
            .unwrap()
            .version
    };
    let mut rx = prescription();
    rx.policy.hyper_mg_dl = 260.0;
    assert_eq!(put(&ide, &rx).0, 403, "a nurse does not prescribe");
    assert_eq!(version(), 1);
    let mut wrong = prescription();
    wrong.policy.hypo_l2_mg_dl = 75.0;
    let (st, e) = put(&dr, &wrong);
    assert_eq!(st, 400, "{e}");
    let msg = e["message"].as_str().unwrap();
    assert!(
        msg.contains("hypo level 2 (75 mg/dL) must be below hypo level 1 (70 mg/dL)"),
        "{msg}"
    );
    assert_eq!(version(), 1, "nothing saved");
    let (st, v) = put(&dr, &rx);
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["version"], 2);
    let feed = ok(
        &s,
        &ide,
        &format!("/v1/operator/patients/{}/feed?kind=prescription", p.id),
    );
    let versions: Vec<&Value> = feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| &i["item"]["prescription"]["version"])
        .collect();
    assert_eq!(
        versions,
        [&json!(1), &json!(2)],
        "the device pulls version 2"
    );
}
