//! Guessing operator passwords (issue 10, items 3, 4 and 8): every attempt is counted before
//! any work, so guesses sent at once are evaluated at most the limit's worth; clients behind a
//! trusted proxy are counted apart (IPv6 by /64) while anybody else's `X-Forwarded-For` counts
//! for nothing; Argon2 runs in bounded slots; a long user name is refused before any work; and
//! the answer never tells which part of the credentials was right.

use std::sync::Barrier;
use std::time::Duration;

use chrono::TimeDelta;
use ilot_wire::CareRole;
use serde_json::Value;

use crate::support::*;

/// `n` wrong guesses for `user` sent at once (one thread each, released together), spread
/// over `urls`; the statuses answered.
pub fn guesses_at_once(urls: &[&str], n: usize, user: &str) -> Vec<u16> {
    let gate = Barrier::new(n);
    std::thread::scope(|sc| {
        let hs: Vec<_> = (0..n)
            .map(|i| {
                let (gate, url) = (&gate, urls[i % urls.len()]);
                sc.spawn(move || {
                    gate.wait();
                    login_at(url, None, user, "not the password!", "000000")
                        .status()
                        .as_u16()
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

fn nurses(n: usize) -> Vec<(String, CareRole, &'static str)> {
    (0..n)
        .map(|i| (format!("op{i}"), CareRole::Nurse, "A"))
        .collect()
}

fn start_nurses(n: usize, trusted_proxy: bool) -> Srv {
    let ops = nurses(n);
    let ops: Vec<(&str, CareRole, &str)> =
        ops.iter().map(|(u, r, t)| (u.as_str(), *r, *t)).collect();
    start_configured("sqlite::memory:", &ops, |c| {
        c.password_wait = Duration::from_secs(120);
        if trusted_proxy {
            c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
        }
    })
}

fn message(r: reqwest::blocking::Response) -> (u16, String) {
    let st = r.status().as_u16();
    let body: Value = r.json().unwrap();
    (st, body["message"].as_str().unwrap_or_default().to_string())
}

/// Regression: the limit was checked before the Argon2 work and counted after it, so 40
/// guesses sent at once were all evaluated although the limit is 10 per user name.
#[test]
fn forty_concurrent_wrong_guesses_are_evaluated_at_most_the_limit() {
    let s = start_configured(
        "sqlite::memory:",
        &[("dr", CareRole::Physician, "A")],
        |c| {
            c.password_wait = Duration::from_secs(120);
        },
    );
    let statuses = guesses_at_once(&[&s.url], 40, "dr");
    assert!(
        statuses.iter().all(|&st| st == 401 || st == 429),
        "{statuses:?}"
    );
    let evaluated = statuses.iter().filter(|&&st| st != 429).count();
    assert_eq!(
        evaluated, 10,
        "guesses evaluated of 40 (limit 10): {statuses:?}"
    );
    assert_eq!(s.state.passwords().checks(), 10, "Argon2 verifications");
    // Still limited for the right password and code.
    assert_eq!(s.login_raw("dr", PASSWORD, &s.code("dr")).status(), 429);
}

/// Regression: behind a proxy every client had the proxy's address, so one client's failures
/// locked every other one out. Now the proxy's `X-Forwarded-For` names the client, and IPv6
/// clients are counted by their /64.
#[test]
fn clients_behind_a_trusted_proxy_are_counted_apart_and_ipv6_by_its_64() {
    let s = start_nurses(21, true);
    // Client A fails 20 times over 20 user names (the per-address limit, not the per-user one).
    for i in 0..20 {
        let r = s.login_from(
            "198.51.100.7",
            &format!("op{i}"),
            "wrong password!!",
            "000000",
        );
        assert_eq!(r.status(), 401, "attempt {i}");
    }
    let r = s.login_from("198.51.100.7", "op20", PASSWORD, &s.code("op20"));
    assert_eq!(r.status(), 429, "client A is limited");
    let r = s.login_from("198.51.100.8", "op20", PASSWORD, &s.code("op20"));
    assert_eq!(r.status(), 200, "client B, behind the same proxy, is not");

    // 20 failures from 20 addresses of one /64 are one client's.
    for i in 0..20 {
        let from = format!("2001:db8:0:1::{:x}", i + 1);
        let r = s.login_from(&from, &format!("op{i}"), "wrong password!!", "000000");
        assert_eq!(r.status(), 401, "attempt {i} from {from}");
    }
    s.advance(TimeDelta::seconds(30));
    let r = s.login_from("2001:db8:0:1:ffff::9", "op20", PASSWORD, &s.code("op20"));
    assert_eq!(r.status(), 429, "another address of the same /64");
    let r = s.login_from("2001:db8:0:2::1", "op20", PASSWORD, &s.code("op20"));
    assert_eq!(r.status(), 200, "the next /64 is another client");
}

/// Without `--trusted-proxy`, a client that writes its own `X-Forwarded-For` is still counted
/// under its own address (guard: today's behaviour must survive the proxy support).
#[test]
fn forwarded_for_from_a_peer_that_is_not_a_trusted_proxy_is_ignored() {
    let s = start_nurses(21, false);
    for i in 0..20 {
        let from = format!("198.51.100.{}", i + 1);
        let r = s.login_from(&from, &format!("op{i}"), "wrong password!!", "000000");
        assert_eq!(r.status(), 401, "attempt {i}");
    }
    let r = s.login_from("203.0.113.1", "op20", PASSWORD, &s.code("op20"));
    assert_eq!(r.status(), 429, "a new header value is not a new client");
    let r = s.login_raw("op20", PASSWORD, &s.code("op20"));
    assert_eq!(r.status(), 429);
}

#[test]
fn logins_wait_for_a_free_argon2_slot_and_get_503_past_the_wait() {
    let s = start_configured(
        "sqlite::memory:",
        &[("dr", CareRole::Physician, "A")],
        |c| {
            c.password_slots = 1;
            c.password_wait = Duration::from_millis(300);
        },
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let held = rt
        .block_on(s.state.passwords().slot())
        .expect("the one slot");
    let r = s.login_raw("dr", PASSWORD, &s.code("dr"));
    assert_eq!(r.status(), 503);
    assert!(r.headers().get("retry-after").is_some());
    let (_, msg) = message(r);
    assert!(msg.contains("busy"), "{msg}");
    assert_eq!(s.state.passwords().checks(), 0, "nothing was verified");
    drop(held);
    // The attempt that was not evaluated was not counted either.
    for _ in 0..9 {
        assert_eq!(
            s.login_raw("dr", "wrong password!!", "000000").status(),
            401
        );
    }
    assert_eq!(s.login_raw("dr", PASSWORD, &s.code("dr")).status(), 200);
    assert_eq!(s.state.passwords().checks(), 10);
}

/// Regression: any user name was taken (and kept as a counter key); one longer than 64
/// characters is now refused before the database or Argon2 see it.
#[test]
fn a_user_name_too_long_is_refused_before_any_work() {
    let s = start();
    let (st, msg) = message(s.login_raw(&"d".repeat(65), "wrong password!!", "000000"));
    assert_eq!(st, 400, "{msg}");
    assert!(msg.contains("1 to 64 characters"), "{msg}");
    assert_eq!(s.state.passwords().checks(), 0);
    assert_eq!(
        s.state.storage().rate_windows().unwrap(),
        0,
        "nothing counted"
    );
    let r = s.login_raw(&"d".repeat(64), "wrong password!!", "000000");
    assert_eq!(r.status(), 401, "64 characters is still a name");
    assert_eq!(s.state.passwords().checks(), 1);
}

/// The counters keep a hash, never the user name (nor the address) in clear.
#[test]
fn counters_keep_no_user_name_in_the_database_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("server.db");
    let s = start_on(&format!("sqlite:{}", db.display()));
    let name = "someone-nobody-would-guess";
    for _ in 0..3 {
        assert_eq!(
            s.login_raw(name, "wrong password!!", "000000").status(),
            401
        );
    }
    assert_eq!(
        s.state.storage().rate_windows().unwrap(),
        2,
        "user and client"
    );
    let mut bytes = Vec::new();
    for f in ["server.db", "server.db-wal"] {
        bytes.extend(std::fs::read(dir.path().join(f)).unwrap_or_default());
    }
    assert!(bytes.len() > 4096, "the file was read");
    let found = bytes.windows(name.len()).any(|w| w == name.as_bytes());
    assert!(!found, "the user name is in the database file");
}

/// Regression: with no authenticator set up, a right password got its own message (a password
/// oracle). Now every failure is answered alike, with the same work.
#[test]
fn without_an_authenticator_a_right_password_answers_like_a_wrong_one() {
    let s = start();
    let st = s.state.storage();
    let hash = ilot_server::auth::hash_password(PASSWORD).unwrap();
    let id = st
        .create_operator("new", "New", CareRole::Nurse, &hash, t0())
        .unwrap();
    st.set_operator_team(id, st.team_by_name("A").unwrap().unwrap())
        .unwrap();
    let answer = |user: &str, password: &str| {
        let before = s.state.passwords().checks();
        let r = s.login_raw(user, password, "123456");
        let st = r.status().as_u16();
        let body: Value = r.json().unwrap();
        (st, body, s.state.passwords().checks() - before)
    };
    let right = answer("new", PASSWORD);
    let wrong = answer("new", "not the password!");
    let unknown = answer("nobody", PASSWORD);
    assert_eq!(right.0, 401);
    assert_eq!(right, wrong, "right and wrong password");
    assert_eq!(right, unknown, "known and unknown user name");
    assert_eq!(right.2, 1, "one Argon2 verification each");
    let log = st.audit_log(10).unwrap();
    let reasons: Vec<_> = log
        .iter()
        .filter(|r| r.action == "login-failed")
        .map(|r| {
            r.detail.as_ref().unwrap()["reason"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        reasons,
        [
            "unknown user name",
            "wrong password",
            "no authenticator set up"
        ],
        "the audit log says what failed"
    );
}
