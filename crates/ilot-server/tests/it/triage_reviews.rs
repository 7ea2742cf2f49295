//! Review marks ("Marquer comme revu") and the triage's filters through the HTTP API: a mark
//! shows as the last review (who, when, whether it is the caller's), undo takes back only the
//! caller's own latest mark, both are audited, and the filters (category, not reviewed in the
//! last 7 days, "my patients") choose the rows before paging.

use chrono::TimeDelta;
use reqwest::blocking::Client;
use serde_json::{Value, json};

use crate::support::{login, prescription, start};

fn triage(s: &crate::support::Srv, token: &str, query: &str) -> Value {
    let r = Client::new()
        .get(format!("{}/v1/operator/triage?{query}", s.url))
        .bearer_auth(token)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200, "{query}");
    r.json().unwrap()
}

fn names(v: &Value) -> Vec<String> {
    let mut n: Vec<String> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["pseudonym"].as_str().unwrap().to_string())
        .collect();
    n.sort();
    n
}

#[test]
fn review_marks_undo_and_filters() {
    let s = start();
    let dr = login(&s, "dr");
    let ide = login(&s, "ide");
    let c = Client::new();
    let mut ids = Vec::new();
    for name in ["P1", "P2", "P3"] {
        let r: Value = c
            .post(format!("{}/v1/operator/patients", s.url))
            .bearer_auth(&dr)
            .json(&json!({"pseudonym": name, "prescription": prescription()}))
            .send()
            .unwrap()
            .json()
            .unwrap();
        ids.push(r["patient_id"].as_str().unwrap().to_string());
    }
    let review = |token: &str, id: &str, method: reqwest::Method| {
        c.request(
            method,
            format!("{}/v1/operator/patients/{id}/review", s.url),
        )
        .bearer_auth(token)
        .send()
        .unwrap()
    };
    // Nobody reviewed anyone yet; nothing to undo.
    let all = triage(&s, &dr, "days=7");
    assert!(
        all["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["last_review"].is_null())
    );
    assert_eq!(review(&dr, &ids[0], reqwest::Method::DELETE).status(), 404);

    let r = review(&dr, &ids[0], reqwest::Method::POST);
    assert_eq!(r.status(), 200);
    let mark: Value = r.json().unwrap();
    assert_eq!(
        (mark["by"].as_str(), mark["patient_id"].as_str()),
        (Some("dr"), Some(ids[0].as_str()))
    );
    assert_eq!(review(&ide, &ids[1], reqwest::Method::POST).status(), 200);

    let seen = |token: &str| -> Vec<(String, Value)> {
        let v = triage(&s, token, "days=7");
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                (
                    i["pseudonym"].as_str().unwrap().to_string(),
                    i["last_review"].clone(),
                )
            })
            .collect()
    };
    let by_dr = seen(&dr);
    let p1 = &by_dr.iter().find(|(n, _)| n == "P1").unwrap().1;
    assert_eq!(
        (p1["by"].as_str(), p1["mine"].as_bool()),
        (Some("dr"), Some(true))
    );
    let p2 = &by_dr.iter().find(|(n, _)| n == "P2").unwrap().1;
    assert_eq!(
        (p2["by"].as_str(), p2["mine"].as_bool()),
        (Some("ide"), Some(false))
    );

    // Filters: not reviewed this week, mine, both, a category.
    assert_eq!(names(&triage(&s, &dr, "not_reviewed=true")), ["P3"]);
    assert_eq!(names(&triage(&s, &dr, "mine=true")), ["P1"]);
    assert_eq!(names(&triage(&s, &ide, "mine=true")), ["P2"]);
    assert_eq!(
        names(&triage(&s, &dr, "mine=true&not_reviewed=true")),
        Vec::<String>::new()
    );
    assert_eq!(triage(&s, &dr, "category=no-data")["total"], 3);
    assert_eq!(triage(&s, &dr, "category=on-target")["total"], 0);
    let bad = c
        .get(format!("{}/v1/operator/triage?category=nope", s.url))
        .bearer_auth(&dr)
        .send()
        .unwrap();
    assert_eq!(bad.status(), 400);
    // A week later the marks no longer count as "this week".
    s.advance(TimeDelta::days(7) + TimeDelta::minutes(1));
    let (dr, ide) = (login(&s, "dr"), login(&s, "ide"));
    assert_eq!(
        names(&triage(&s, &dr, "not_reviewed=true")),
        ["P1", "P2", "P3"]
    );
    assert_eq!(names(&triage(&s, &dr, "mine=true")), ["P1"]);

    // The nurse cannot undo the physician's mark; the physician can, once.
    assert_eq!(review(&ide, &ids[0], reqwest::Method::DELETE).status(), 404);
    let r = review(&dr, &ids[0], reqwest::Method::DELETE);
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().unwrap()["id"], mark["id"]);
    assert_eq!(review(&dr, &ids[0], reqwest::Method::DELETE).status(), 404);
    assert!(
        seen(&dr)
            .iter()
            .find(|(n, _)| n == "P1")
            .unwrap()
            .1
            .is_null()
    );
    assert_eq!(names(&triage(&s, &dr, "mine=true")), Vec::<String>::new());

    // Both acts are in the audit log, with the patient.
    let log = s.state.storage().audit_log(1000).unwrap();
    let acts = |a: &str| {
        log.iter()
            .filter(|r| {
                r.action == a && r.patient_id.map(|p| p.to_string()) == Some(ids[0].clone())
            })
            .count()
    };
    assert_eq!((acts("review-patient"), acts("undo-review")), (1, 1));
}
