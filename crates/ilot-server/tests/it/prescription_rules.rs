//! The server's prescription edit refuses what the domain refuses (SPEC §2–3: thresholds checked
//! against each other, weekly data, readings a day), with the domain's message, and keeps the
//! prescription in force.

use ilot_domain::{Monitoring, Prescription};
use serde_json::{Value, json};

use crate::support::*;

fn refused(change: fn(&mut Prescription)) -> (u16, String) {
    let s = start();
    let c = reqwest::blocking::Client::new();
    let dr = login(&s, "dr");
    let r: Value = c
        .post(format!("{}/v1/operator/patients", s.url))
        .bearer_auth(&dr)
        .json(&json!({"pseudonym": "P1", "prescription": prescription()}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let id = r["patient_id"].as_str().unwrap().to_string();
    let mut bad = prescription();
    change(&mut bad);
    let r = c
        .put(format!("{}/v1/operator/patients/{id}/prescription", s.url))
        .bearer_auth(&dr)
        .json(&json!({ "prescription": bad }))
        .send()
        .unwrap();
    let status = r.status().as_u16();
    let body: Value = r.json().unwrap();
    // Nothing changed: the enrolment's prescription is still in force.
    let patient: Value = c
        .get(format!("{}/v1/operator/patients/{id}", s.url))
        .bearer_auth(&dr)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(
        patient["prescription"]["prescription"]["policy"],
        serde_json::to_value(prescription().policy).unwrap(),
        "{patient:#}"
    );
    // A new patient with the same prescription is refused too.
    let r = c
        .post(format!("{}/v1/operator/patients", s.url))
        .bearer_auth(&dr)
        .json(&json!({"pseudonym": "P2", "prescription": bad}))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), status);
    (
        status,
        body["message"].as_str().unwrap_or_default().to_string(),
    )
}

#[test]
fn a_severe_threshold_above_level_1_is_refused() {
    let (status, message) = refused(|p| p.policy.severe_mg_dl = 80.0);
    assert_eq!(status, 400);
    assert!(
        message.contains("the severe-hypo threshold (80 mg/dL) must be below hypo level 1"),
        "{message}"
    );
}

#[test]
fn a_no_data_delay_over_a_week_is_refused() {
    let (status, message) = refused(|p| p.policy.no_data_hours = u32::MAX);
    assert_eq!(status, 400);
    assert!(message.contains("must be at most 7 days"), "{message}");
}

#[test]
fn too_few_flash_scans_are_refused() {
    let (status, message) = refused(|p| {
        p.monitoring = Monitoring::Flash;
        p.expected_readings_per_day = 3.0;
    });
    assert_eq!(status, 400);
    assert!(
        message.contains("scanned at least 4 times a day"),
        "{message}"
    );
}
