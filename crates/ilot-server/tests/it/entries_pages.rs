//! `GET /v1/operator/patients/{id}/entries` in cursor pages on a real server: every latest
//! version exactly once across the pages (deleted ones included), newest first, `[from, to)`
//! honoured across page boundaries, and a query out of its range refused with a reason.

use std::collections::HashSet;

use chrono::TimeDelta;
use ilot_wire::WireOp;
use serde_json::Value;

use crate::patient_page::{cgm, get, ok, patient, push, wire};
use crate::support::*;

/// Every page from `path` (which already has its `?`), with the page sizes seen.
fn walk(s: &Srv, token: &str, path: &str) -> (Vec<Value>, Vec<usize>) {
    let (mut all, mut sizes, mut cursor) = (Vec::new(), Vec::new(), None::<String>);
    loop {
        let url = match &cursor {
            Some(c) => format!("{path}&cursor={c}"),
            None => path.to_string(),
        };
        let page = ok(s, token, &url);
        let entries = page["entries"].as_array().unwrap().clone();
        assert_eq!(page["count"].as_u64().unwrap() as usize, entries.len());
        sizes.push(entries.len());
        all.extend(entries);
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return (all, sizes),
        }
    }
}

fn at(e: &Value) -> chrono::DateTime<chrono::Utc> {
    e["entry"]["at"].as_str().unwrap().parse().unwrap()
}

#[test]
fn entries_come_in_pages_newest_first_each_once_within_the_asked_times() {
    let s = start();
    let dr = login(&s, "dr");
    let p = patient(&s, &dr, "P1");
    let start_at = s.now() - TimeDelta::days(9);
    // 2,500 readings every 5 minutes; reading 10 corrected (version 2), reading 20 deleted.
    let mut items: Vec<_> = (0..2_500)
        .map(|i| {
            wire(
                i,
                1,
                WireOp::Insert,
                cgm(100.0 + (i % 50) as f64),
                start_at + TimeDelta::minutes(5 * i),
            )
        })
        .collect();
    items.push(wire(
        10,
        2,
        WireOp::Update,
        cgm(222.0),
        start_at + TimeDelta::minutes(50),
    ));
    items.push(wire(
        20,
        2,
        WireOp::Delete,
        cgm(100.0),
        start_at + TimeDelta::minutes(100),
    ));
    push(&s, &p, &items);
    let base = format!("/v1/operator/patients/{}/entries?", p.id);

    // The default page is 1,000 entries; a page of 700 walks the 2,500 in 4 pages.
    let first = ok(&s, &dr, &base);
    assert_eq!(first["count"], 1_000);
    assert!(first["next_cursor"].is_string());
    let (all, sizes) = walk(&s, &dr, &format!("{base}limit=700"));
    assert_eq!(sizes, [700, 700, 700, 400]);
    let ids: HashSet<i64> = all
        .iter()
        .map(|e| e["entry_id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids.len(), 2_500, "every entry once");
    assert!(
        all.windows(2).all(|w| at(&w[0]) > at(&w[1])),
        "newest first"
    );
    let of = |id: i64| all.iter().find(|e| e["entry_id"] == id).unwrap();
    assert_eq!(of(10)["version"], 2, "the latest version");
    assert_eq!(of(20)["deleted"], true, "a deletion stays visible");

    // [from, to): readings 100..=199 (500 to 995 minutes after the start), in pages of 30.
    let from = start_at + TimeDelta::minutes(500);
    let to = start_at + TimeDelta::minutes(1_000);
    let q = |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let (window, sizes) = walk(
        &s,
        &dr,
        &format!("{base}from={}&to={}&limit=30", q(from), q(to)),
    );
    let mut got: Vec<i64> = window
        .iter()
        .map(|e| e["entry_id"].as_i64().unwrap())
        .collect();
    got.reverse();
    assert_eq!(got, (100..200).collect::<Vec<_>>());
    assert_eq!(sizes, [30, 30, 30, 10]);

    for (query, why) in [
        ("limit=0", "limit must be between 1 and 5000, not 0"),
        ("limit=5001", "limit must be between 1 and 5000, not 5001"),
        ("cursor=zz", "this cursor is not one this list gave"),
    ] {
        let (status, body) = get(&s, &dr, &format!("{base}{query}"));
        assert_eq!(status, 400, "{query}");
        assert!(body.to_string().contains(why), "{query}: {body}");
    }
    let (status, body) = get(&s, &dr, &format!("{base}from={}&to={}", q(to), q(from)));
    assert_eq!(status, 400);
    assert!(body.to_string().contains("must be before"), "{body}");
}
