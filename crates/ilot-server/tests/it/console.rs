//! The care team's console on a real server: the session cookie's flags, CSRF refusals, logout
//! revoking the session server-side, the security headers, and the triage list's categories,
//! order, pagination and team scoping.

use chrono::{DateTime, TimeDelta, Utc};
use ilot_domain::{Entry, EntryKind, Glucose, GlucoseReading, Source};
use ilot_server::storage::{DeviceRow, IngestBatch};
use ilot_wire::{BatchDigest, CareRole, DeviceId, DeviceSecret, PatientId, WireEntry, WireOp};
use reqwest::blocking::{Client, RequestBuilder, Response};
use serde_json::{Value, json};

use crate::support::*;

/// Logs `user` in through the console; returns the cookie pair (`name=value`) and the answer.
fn console_login(s: &Srv, user: &str) -> (String, Value, String) {
    let r = Client::new()
        .post(format!("{}/v1/console/login", s.url))
        .json(&json!({"username": user, "password": PASSWORD, "totp": s.code(user)}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let set_cookie = r
        .headers()
        .get("set-cookie")
        .expect("a session cookie")
        .to_str()
        .unwrap()
        .to_string();
    let pair = set_cookie.split(';').next().unwrap().trim().to_string();
    (pair, r.json().unwrap(), set_cookie)
}

fn with_cookie(b: RequestBuilder, cookie: &str) -> RequestBuilder {
    b.header("cookie", cookie)
}

fn patients(s: &Srv, cookie: &str) -> u16 {
    with_cookie(
        Client::new().get(format!("{}/v1/operator/patients", s.url)),
        cookie,
    )
    .send()
    .unwrap()
    .status()
    .as_u16()
}

#[test]
fn the_console_session_is_a_strict_cookie_and_logout_ends_it_server_side() {
    let s = start();
    let (cookie, body, set) = console_login(&s, "dr");
    // Plain http is loopback only: no `Secure` (the browser would drop it), no `__Host-`.
    assert!(cookie.starts_with("ilot_session="), "{set}");
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=43200"] {
        assert!(set.contains(flag), "{flag} missing in {set}");
    }
    assert!(!set.contains("Secure"), "{set}");
    // The token stays in the cookie; the page gets the CSRF token only.
    assert_eq!(body["name"], "dr");
    assert!(body.get("token").is_none(), "{body}");
    let csrf = body["csrf_token"].as_str().unwrap().to_string();
    assert_ne!(csrf, cookie.split('=').nth(1).unwrap());

    assert_eq!(patients(&s, &cookie), 200);
    let session: Value = with_cookie(
        Client::new().get(format!("{}/v1/console/session", s.url)),
        &cookie,
    )
    .send()
    .unwrap()
    .json()
    .unwrap();
    assert_eq!(session["csrf_token"], csrf.as_str());

    let logout = |token: Option<&str>| {
        let mut b = with_cookie(
            Client::new().post(format!("{}/v1/console/logout", s.url)),
            &cookie,
        );
        if let Some(t) = token {
            b = b.header("x-csrf-token", t);
        }
        b.send().unwrap()
    };
    // Without the CSRF token the logout is refused and the session lives on.
    assert_eq!(logout(None).status(), 403);
    assert_eq!(logout(Some(&"0".repeat(64))).status(), 403);
    assert_eq!(patients(&s, &cookie), 200);
    let r = logout(Some(&csrf));
    assert_eq!(r.status(), 200);
    let cleared = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    // The old cookie is refused everywhere from now on, even replayed by hand.
    assert_eq!(patients(&s, &cookie), 401);
    assert_eq!(logout(Some(&csrf)).status(), 401);
}

#[test]
fn a_state_change_with_the_cookie_needs_the_csrf_token_and_the_same_origin() {
    let s = start();
    let bearer = login(&s, "dr");
    s.advance(TimeDelta::seconds(30));
    let (cookie, body, _) = console_login(&s, "dr");
    let csrf = body["csrf_token"].as_str().unwrap();
    let p: Value = Client::new()
        .post(format!("{}/v1/operator/patients", s.url))
        .bearer_auth(&bearer)
        .json(&json!({"pseudonym": "P1", "prescription": prescription()}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let id: PatientId = p["patient_id"].as_str().unwrap().parse().unwrap();
    let url = format!("{}/v1/operator/patients/{id}/messages", s.url);
    let feed = || s.state.storage().feed(id, 0, 1000).unwrap().len();
    let before = feed();
    let send = |headers: &[(&str, &str)]| -> Response {
        let mut b = with_cookie(Client::new().post(&url), &cookie).json(&json!({"text": "hi"}));
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.send().unwrap()
    };
    let r = send(&[]);
    assert_eq!(r.status(), 403);
    assert!(r.text().unwrap().contains("X-CSRF-Token"));
    assert_eq!(send(&[("x-csrf-token", "nope")]).status(), 403);
    // Even with the right token, a request from another site is refused.
    let evil = [("x-csrf-token", csrf), ("origin", "https://evil.example")];
    assert_eq!(send(&evil).status(), 403);
    assert_eq!(feed(), before, "nothing was sent");
    let host = s.url.trim_start_matches("http://").to_string();
    let origin = format!("http://{host}");
    assert_eq!(
        send(&[("x-csrf-token", csrf), ("origin", &origin)]).status(),
        200
    );
    assert_eq!(feed(), before + 1);
    // API clients with a bearer token are unchanged (browsers never add that header).
    let r = Client::new()
        .post(&url)
        .bearer_auth(&bearer)
        .json(&json!({"text": "hello"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    // A cross-site login form is refused before any password check.
    let r = Client::new()
        .post(format!("{}/v1/console/login", s.url))
        .header("origin", "https://evil.example")
        .json(&json!({"username": "dr", "password": PASSWORD, "totp": s.code("dr")}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = Client::new()
        .post(format!("{}/v1/console/login", s.url))
        .header("content-type", "text/plain")
        .body(json!({"username": "dr", "password": PASSWORD, "totp": s.code("dr")}).to_string())
        .send()
        .unwrap();
    // What a cross-site form could send: refused as not JSON (`headers.rs`), before any check.
    assert_eq!(r.status(), 415);
}

#[test]
fn every_answer_carries_the_security_headers_and_the_page_no_inline_script() {
    let s = start();
    for path in ["/", "/v1/operator/patients", "/openapi.json"] {
        let r = Client::new()
            .get(format!("{}{path}", s.url))
            .send()
            .unwrap();
        let h = r.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(csp.contains("script-src 'self'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
        if path != "/" {
            assert_eq!(h["cache-control"], "no-store", "{path}");
        }
        if path == "/" {
            assert_eq!(r.status(), 200);
            assert!(h["content-type"].to_str().unwrap().starts_with("text/html"));
            let html = r.text().unwrap();
            if ilot_server::console::built() {
                let scripts: Vec<&str> = html.split("<script").skip(1).collect();
                assert!(!scripts.is_empty(), "{html}");
                for tag in scripts {
                    let open = &tag[..tag.find('>').unwrap()];
                    assert!(open.contains("src=\"/assets/"), "inline script: {tag}");
                }
                let js = html
                    .split("src=\"")
                    .nth(1)
                    .unwrap()
                    .split('"')
                    .next()
                    .unwrap();
                let r = Client::new().get(format!("{}{js}", s.url)).send().unwrap();
                assert_eq!(r.status(), 200);
                assert!(
                    r.headers()["content-type"]
                        .to_str()
                        .unwrap()
                        .contains("javascript")
                );
                // Named by their hash, the files are cached for good (`headers.rs` leaves them
                // their own Cache-Control); everything else is `no-store`.
                assert_eq!(
                    r.headers()["cache-control"],
                    "public, max-age=31536000, immutable"
                );
            } else {
                assert!(html.contains("console was not built"), "{html}");
            }
        }
    }
}

// ---- Triage -----------------------------------------------------------------------------

/// Readings every 5 minutes over `[from, to)`, `f` giving each one's mg/dL (or none).
fn series(
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    f: impl Fn(usize, DateTime<Utc>) -> Option<f64>,
) -> Vec<(DateTime<Utc>, f64)> {
    let mut out = Vec::new();
    let mut at = from;
    let mut i = 0;
    while at < to {
        if let Some(v) = f(i, at) {
            out.push((at, v));
        }
        at += TimeDelta::minutes(5);
        i += 1;
    }
    out
}

/// Creates a patient of `token`'s team, enrols a device on it and stores `readings` as that
/// device would send them, then evaluates the alerts as the server does after a push.
fn patient_with(s: &Srv, token: &str, name: &str, readings: &[(DateTime<Utc>, f64)]) -> PatientId {
    let (id, code) = create_patient(s, token, name);
    let code = code.replace('-', "").to_uppercase();
    let st = s.state.storage();
    let dev = DeviceRow {
        id: DeviceId::from_bytes(*id.as_bytes()),
        patient_id: id,
        public_key: DeviceSecret::generate(&mut rand::rng()).public_key(),
        label: None,
        enrolled_at: s.now(),
        last_batch_seq: None,
    };
    st.redeem_code(&code, &dev, s.now()).unwrap().unwrap();
    if readings.is_empty() {
        return id;
    }
    let items: Vec<WireEntry> = readings
        .iter()
        .enumerate()
        .map(|(i, &(at, v))| WireEntry {
            id: i as i64,
            version: 1,
            op: WireOp::Insert,
            recorded_at: at,
            entry: Entry::new(
                at.fixed_offset(),
                Source::manual(),
                EntryKind::Glucose(GlucoseReading::cgm(Glucose::from_mg_dl(v).unwrap())),
                at,
            )
            .unwrap(),
            reason: None,
        })
        .collect();
    st.ingest(&IngestBatch {
        patient_id: id,
        device_id: dev.id,
        seq: 1,
        digest: BatchDigest::from_bytes([7; 32]),
        items: &items,
        consent: None,
        now: s.now(),
    })
    .unwrap();
    ilot_server::rules::evaluate_after_ingest(st, id, readings[0].0, s.now()).unwrap();
    id
}

fn triage(s: &Srv, token: &str, query: &str) -> Value {
    let r = Client::new()
        .get(format!("{}/v1/operator/triage?{query}", s.url))
        .bearer_auth(token)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().unwrap()
}

fn order(page: &Value) -> Vec<(String, String)> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["category"].as_str().unwrap().to_string(),
                i["pseudonym"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn triage_places_each_patient_in_the_first_matching_category_most_urgent_first() {
    let s = start_with(&[
        ("dra", CareRole::Physician, "A"),
        ("drb", CareRole::Physician, "B"),
    ]);
    let a = login(&s, "dra");
    let b = login(&s, "drb");
    let now = s.now();
    let d28 = now - TimeDelta::days(28);
    // The triage's period: the 14 complete local days before today (the patients are in Paris).
    let paris = chrono_tz::Europe::Paris;
    let d14 = ilot_rules::observance::local_midnight(
        paris,
        now.with_timezone(&paris).date_naive() - chrono::Days::new(14),
    );
    // 1 reading in 20 at 65 mg/dL: 5 % below 70, none below 54.
    let low = series(d28, now, |i, _| {
        Some(if i % 20 == 0 { 65.0 } else { 120.0 })
    });
    // 1 in 50 at 45 mg/dL for 20 minutes (severe hypo alerts), the rest in range.
    let very_low = series(d28, now, |i, _| {
        Some(if i % 400 < 8 { 45.0 } else { 120.0 })
    });
    // In range for the first 14 days, then 40 % at 220 mg/dL: TIR 100 → 60.
    let drop = series(d28, now, |i, at| {
        Some(if at >= d14 && i % 5 < 2 { 220.0 } else { 120.0 })
    });
    // 35 % at 220 mg/dL all along: TIR 65 %, no drop.
    let low_tir = series(d28, now, |i, _| {
        Some(if i % 20 < 7 { 220.0 } else { 120.0 })
    });
    // In range, but the sensor worn 1 day in 2.
    let worn = series(d28, now, |_, at| {
        ((at - d28).num_days() % 2 == 0).then_some(120.0)
    });
    let fine = series(d28, now, |_, _| Some(120.0));
    // Names sort against the category order, so the order comes from the categories.
    patient_with(&s, &a, "A-fine", &fine);
    patient_with(&s, &a, "B-worn", &worn);
    patient_with(&s, &a, "C-lowtir", &low_tir);
    patient_with(&s, &a, "D-drop", &drop);
    patient_with(&s, &a, "E-low", &low);
    patient_with(&s, &a, "F-none", &[]);
    let vl = patient_with(&s, &a, "G-verylow", &very_low);
    patient_with(&s, &b, "Z-other-team", &fine);

    let expected = |urgent: bool| {
        let mut v: Vec<(String, String)> = [
            ("no-data", "F-none"),
            ("low", "E-low"),
            ("tir-drop", "D-drop"),
            ("low-tir", "C-lowtir"),
            ("cgm-wear", "B-worn"),
            ("on-target", "A-fine"),
        ]
        .iter()
        .map(|(c, p)| (c.to_string(), p.to_string()))
        .collect();
        // With its severe hypo alerts open, G is first; acknowledged, it is "very low", after
        // "no data".
        let (at, cat) = if urgent {
            (0, "urgent-alert")
        } else {
            (1, "very-low")
        };
        v.insert(at, (cat.to_string(), "G-verylow".to_string()));
        v
    };
    let page = triage(&s, &a, "days=14");
    assert_eq!(order(&page), expected(true), "{page:#}");
    assert_eq!(page["total"], 7);
    assert_eq!(page["thresholds"]["below_54_percent"], 1.0);
    let item = &page["items"][3];
    // 2 readings in 5 out of range over the last 14 days (the series' phase moves it by 0.02).
    let tir = item["metrics"]["tir_percent"].as_f64().unwrap();
    assert!((tir - 60.0).abs() < 0.1, "{item}");
    assert_eq!(item["previous_tir_percent"], 100.0, "{item}");

    // Acknowledged, the severe hypos no longer make an urgent alert: the time below 54 remains.
    for al in s.state.storage().alerts(Some(vl), true).unwrap() {
        let r = Client::new()
            .post(format!("{}/v1/operator/alerts/{}/ack", s.url, al.id))
            .bearer_auth(&a)
            .json(&json!({"note": "called"}))
            .send()
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let page = triage(&s, &a, "days=14");
    assert_eq!(order(&page), expected(false), "{page:#}");

    // Pages of 3 follow each other exactly.
    let mut seen = Vec::new();
    let mut q = "days=14&limit=3".to_string();
    loop {
        let p = triage(&s, &a, &q);
        assert!(p["items"].as_array().unwrap().len() <= 3);
        seen.extend(order(&p));
        match p["next_cursor"].as_str() {
            Some(c) => q = format!("days=14&limit=3&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen, expected(false));

    // Team B sees only its own patient.
    assert_eq!(
        order(&triage(&s, &b, "days=7")),
        vec![("on-target".to_string(), "Z-other-team".to_string())]
    );
    // Nobody logged in: 401 first, whatever the parameters (nothing is told before that).
    for q in ["days=14", "cursor=0", "days=abc"] {
        let r = Client::new()
            .get(format!("{}/v1/operator/triage?{q}", s.url))
            .send()
            .unwrap();
        assert_eq!(r.status(), 401, "{q}");
    }
    // Bad parameters are told precisely.
    for (q, why) in [
        ("days=3", "days must be 1, 7, 14 or 30"),
        ("limit=0", "limit must be between 1 and 200"),
        ("cursor=zz", "cursor"),
        ("days=abc", "the query is not what this endpoint takes"),
    ] {
        let r = Client::new()
            .get(format!("{}/v1/operator/triage?{q}", s.url))
            .bearer_auth(&a)
            .send()
            .unwrap();
        assert_eq!(r.status(), 400, "{q}");
        assert_eq!(r.headers()["content-type"], "application/json", "{q}");
        assert!(r.text().unwrap().contains(why), "{q}");
    }
}
