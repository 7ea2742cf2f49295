//! Pro Santé Connect end to end over real HTTP: a real server and a real OpenID provider
//! (node-oidc-provider configured like PSC, `tests/psc/provider.mjs`), the browser's redirects
//! followed by hand through the provider's login page. The login opens the same session as
//! password + TOTP; each refusal (wrong state, replayed code, wrong audience, expired ID token,
//! wrong nonce, acr not eidas1, unknown RPPS) is audited with its reason and opens no session.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use chrono::{TimeDelta, Utc};
use ilot_server::psc::{CALLBACK_PATH, PscConfig};
use ilot_wire::CareRole;
use reqwest::Url;
use reqwest::blocking::{Client, Response};
use serde_json::Value;

use crate::support::*;

const CLIENT_ID: &str = "ilot-test";
const SECRET: &str = "a client secret for the local provider";
/// Marie MARTIN's national id (8 + RPPS) at the provider, linked to `dr`.
const MARTIN: &str = "899700000001";
/// Paul DURAND: known to the provider, linked to no operator.
const DURAND: &str = "899700000002";
/// Anne PETIT: authenticated at a lower level than eidas1.
const PETIT: &str = "899700000003";
/// Luc MOREAU, linked to `ide`: the provider's answer for him is re-signed for another audience.
const MOREAU: &str = "899700000009";

/// The provider process, stopped when dropped.
struct Provider {
    child: Child,
    issuer: String,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn provider(redirect_uri: &str) -> Provider {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/psc");
    assert!(
        std::path::Path::new(dir)
            .join("node_modules/oidc-provider")
            .is_dir(),
        "the local OpenID provider is not installed: run `npm ci --prefix crates/ilot-server/tests/psc` (scripts/test.sh does)"
    );
    let mut child = Command::new("node")
        .arg("provider.mjs")
        .current_dir(dir)
        .env("PSC_CLIENT_ID", CLIENT_ID)
        .env("PSC_CLIENT_SECRET", SECRET)
        .env("PSC_REDIRECT_URIS", redirect_uri)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("node runs provider.mjs");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let v: Value = serde_json::from_str(&line)
        .unwrap_or_else(|e| panic!("provider.mjs printed {line:?}: {e}"));
    Provider {
        child,
        issuer: v["issuer"].as_str().unwrap().to_string(),
    }
}

/// A server with `dr` (RPPS of MARTIN linked) and `ide` (MOREAU linked) in team A, Pro Santé
/// Connect configured against a fresh provider, its clock on the real time (the provider's).
fn psc_server(db: &str) -> (Srv, Provider) {
    let mut p = None;
    let s = start_configured(
        db,
        &[
            ("dr", CareRole::Physician, "A"),
            ("ide", CareRole::Nurse, "A"),
        ],
        |c| {
            let prov = provider(&format!("{}{CALLBACK_PATH}", c.public_url));
            c.psc = Some(PscConfig::new(&prov.issuer, CLIENT_ID, SECRET.into()).unwrap());
            p = Some(prov);
        },
    );
    s.clock.store(
        Utc::now().timestamp_millis(),
        std::sync::atomic::Ordering::SeqCst,
    );
    let st = s.state.storage();
    ilot_server::admin::link_rpps(st, "dr", MARTIN, s.now()).unwrap();
    ilot_server::admin::link_rpps(st, "ide", MOREAU, s.now()).unwrap();
    (s, p.unwrap())
}

/// A browser: its own cookies, redirects followed by hand.
fn browser() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn location(r: &Response) -> Url {
    assert_eq!(r.status(), 303, "expected a redirect from {}", r.url());
    let l = r.headers()["location"].to_str().unwrap();
    r.url().join(l).unwrap()
}

/// `GET /v1/console/psc/start`: the provider's authorisation URL.
fn begin(s: &Srv, b: &Client) -> Url {
    location(
        &b.get(format!("{}/v1/console/psc/start", s.url))
            .send()
            .unwrap(),
    )
}

/// At the provider: its login page, the national id typed, consent; the callback URL it sends
/// the browser back to.
fn at_provider(b: &Client, auth: Url, national_id: &str) -> Url {
    let r = b.get(auth).send().unwrap();
    let interaction = if r.status() == 303 {
        location(&r)
    } else {
        panic!(
            "the provider answered {} to the authorisation request: {}",
            r.status(),
            r.text().unwrap()
        )
    };
    let page = b.get(interaction.clone()).send().unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().unwrap().contains("Identifiant national"));
    let r = b
        .post(format!("{interaction}/login"))
        .form(&[("id", national_id)])
        .send()
        .unwrap();
    let mut next = location(&r);
    // The provider resumes the authorisation, then sends the browser to the client.
    for _ in 0..5 {
        if next.path() == CALLBACK_PATH {
            return next;
        }
        next = location(&b.get(next).send().unwrap());
    }
    panic!("the provider never sent the browser back");
}

/// What the callback answered: where it sends the browser and the session cookie it set.
fn finish(b: &Client, callback: Url) -> (String, Option<String>) {
    let r = b.get(callback).send().unwrap();
    let to = location(&r);
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("ilot_session="));
    let to = match to.query() {
        Some(q) => format!("{}?{q}", to.path()),
        None => to.path().to_string(),
    };
    (to, cookie)
}

/// The latest audit record's action and detail.
fn last_audit(s: &Srv) -> (String, Value) {
    let rows = s.state.storage().audit_log(1).unwrap();
    (
        rows[0].action.clone(),
        rows[0].detail.clone().unwrap_or(Value::Null),
    )
}

fn assert_refused(s: &Srv, answer: (String, Option<String>), kind: &str) {
    assert_eq!(answer.0, format!("/?psc_error={kind}"));
    assert_eq!(answer.1, None, "a refused login set a session cookie");
    let (action, detail) = last_audit(s);
    assert_eq!(action, "login-failed");
    assert_eq!(detail["method"], "psc");
    assert_eq!(detail["kind"], kind, "{detail}");
    assert!(!detail["reason"].as_str().unwrap().is_empty());
}

fn sessions(s: &Srv) -> usize {
    s.state
        .storage()
        .audit_log(1000)
        .unwrap()
        .iter()
        .filter(|r| r.action == "login")
        .count()
}

#[test]
fn an_operator_logs_in_with_pro_sante_connect_into_the_console_session() {
    logs_in(&psc_server("sqlite::memory:").0);
}

#[test]
fn an_operator_logs_in_with_pro_sante_connect_on_postgresql_too() {
    logs_in(&psc_server(&ilot_testpg::fresh_database("psc_login")).0);
}

fn logs_in(s: &Srv) {
    let b = browser();
    let auth = begin(s, &b);
    // What the provider is asked: PSC's scopes and level, PKCE S256, state and nonce.
    let q: std::collections::HashMap<_, _> = auth.query_pairs().into_owned().collect();
    assert_eq!(q["scope"], "openid scope_all");
    assert_eq!(q["acr_values"], "eidas1");
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["client_id"], CLIENT_ID);
    assert!(q["state"].len() >= 43 && q["nonce"].len() >= 43);
    let callback = at_provider(&b, auth, MARTIN);
    let (to, cookie) = finish(&b, callback);
    assert_eq!(to, "/");
    let cookie = cookie.expect("the session cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let (action, detail) = last_audit(s);
    assert_eq!(
        (action.as_str(), &detail["method"]),
        ("login", &Value::from("psc"))
    );
    // The same session as the password + TOTP login: the console's session and its CSRF
    // token, the triage of dr's team.
    let me: Value = b
        .get(format!("{}/v1/console/session", s.url))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(me["name"], "dr");
    assert_eq!(me["role"], "physician");
    let csrf = me["csrf_token"].as_str().unwrap().to_string();
    assert_eq!(
        b.get(format!("{}/v1/operator/triage", s.url))
            .send()
            .unwrap()
            .status(),
        200
    );
    // CSRF unchanged: logout with the cookie needs the token.
    let origin = s.url.clone();
    let no_token = b
        .post(format!("{}/v1/console/logout", s.url))
        .header("origin", &origin)
        .send()
        .unwrap();
    assert_eq!(no_token.status(), 403);
    let out = b
        .post(format!("{}/v1/console/logout", s.url))
        .header("origin", &origin)
        .header("x-csrf-token", csrf)
        .send()
        .unwrap();
    assert_eq!(out.status(), 200);
    // Password + TOTP still works beside it.
    assert_eq!(s.login_raw("dr", PASSWORD, &s.code("dr")).status(), 200);
}

#[test]
fn each_refusal_is_audited_and_opens_no_session() {
    let (s, _p) = psc_server("sqlite::memory:");
    let before = sessions(&s);

    // Wrong state: one the server never made.
    let b = browser();
    let callback = at_provider(&b, begin(&s, &b), MARTIN);
    let mut forged = callback.clone();
    let pairs: Vec<(String, String)> = callback
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "state" {
                "forged-state".to_string()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    forged.query_pairs_mut().clear().extend_pairs(pairs);
    assert_refused(&s, finish(&b, forged), "state");

    // Replayed code: the whole callback again (its state was taken), then the code with a
    // fresh state of the same browser (the provider refuses a code used once).
    let b = browser();
    let callback = at_provider(&b, begin(&s, &b), MARTIN);
    assert_eq!(finish(&b, callback.clone()).0, "/");
    assert_refused(&s, finish(&b, callback.clone()), "state");
    let fresh = begin(&s, &b);
    let fresh_state = fresh
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    let code = callback
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let mut replay = Url::parse(&format!("{}{CALLBACK_PATH}", s.url)).unwrap();
    replay
        .query_pairs_mut()
        .append_pair("code", &code)
        .append_pair("state", &fresh_state);
    assert_refused(&s, finish(&b, replay), "token");

    // Wrong audience: the ID token the token endpoint answers for MOREAU is for another client.
    let b = browser();
    let callback = at_provider(&b, begin(&s, &b), MOREAU);
    assert_refused(&s, finish(&b, callback), "audience");

    // Wrong nonce: the authorisation request's nonce replaced on the way to the provider.
    let b = browser();
    let auth = begin(&s, &b);
    let pairs: Vec<(String, String)> = auth
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "nonce" {
                "another-nonce".to_string()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    let mut swapped = auth.clone();
    swapped.query_pairs_mut().clear().extend_pairs(pairs);
    let callback = at_provider(&b, swapped, MARTIN);
    assert_refused(&s, finish(&b, callback), "nonce");

    // acr not eidas1.
    let b = browser();
    let callback = at_provider(&b, begin(&s, &b), PETIT);
    assert_refused(&s, finish(&b, callback), "acr");

    // Unknown RPPS: a real professional whose RPPS no administrator linked.
    let b = browser();
    let callback = at_provider(&b, begin(&s, &b), DURAND);
    assert_refused(&s, finish(&b, callback), "unknown_rpps");
    let (_, detail) = last_audit(&s);
    assert!(
        detail["reason"].as_str().unwrap().contains("99700000002"),
        "{detail}"
    );

    // Expired ID token: the provider's tokens live 120 s; the callback arrives (for the
    // server's clock) 5 minutes later, its state still valid (10 minutes).
    let b = browser();
    let callback = at_provider(&b, begin(&s, &b), MARTIN);
    s.advance(TimeDelta::minutes(5));
    assert_refused(&s, finish(&b, callback), "expired");

    // An expired state (over 10 minutes) is refused as well.
    let b = browser();
    let callback = at_provider(&b, begin(&s, &b), MARTIN);
    s.advance(TimeDelta::minutes(11));
    assert_refused(&s, finish(&b, callback), "state");

    // Only the one good login of the replay case opened a session.
    assert_eq!(sessions(&s), before + 1);
}

#[test]
fn psc_off_answers_404_and_a_provider_down_sends_back_to_the_login_screen() {
    let s = start();
    let b = browser();
    let opts: Value = b
        .get(format!("{}/v1/console/login-options", s.url))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(opts["psc"], false);
    for path in [
        "/v1/console/psc/start",
        "/v1/console/psc/callback?state=x&code=y",
    ] {
        assert_eq!(
            b.get(format!("{}{path}", s.url)).send().unwrap().status(),
            404
        );
    }
    // Configured, but the provider does not answer: back to the login screen, told so.
    let down = start_configured("sqlite::memory:", &[], |c| {
        let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let issuer = format!("http://{}", dead.local_addr().unwrap());
        drop(dead);
        c.psc = Some(PscConfig::new(&issuer, CLIENT_ID, SECRET.into()).unwrap());
    });
    let r = b
        .get(format!("{}/v1/console/psc/start", down.url))
        .send()
        .unwrap();
    assert_eq!(location(&r).path(), "/");
    assert_eq!(location(&r).query(), Some("psc_error=unavailable"));
    let (p, _prov) = psc_server("sqlite::memory:");
    let opts: Value = b
        .get(format!("{}/v1/console/login-options", p.url))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(opts["psc"], true);
}

#[test]
fn an_rpps_is_linked_once_on_both_backends() {
    let pg = ilot_testpg::fresh_database("psc_link");
    for db in ["sqlite::memory:".to_string(), pg] {
        let s = start_on(&db);
        let st = s.state.storage();
        // The national id form is kept as the 11 digits.
        assert_eq!(
            ilot_server::admin::link_rpps(st, "dr", "810001234567", s.now()).unwrap(),
            "10001234567"
        );
        assert_eq!(
            st.operator_by_rpps("10001234567")
                .unwrap()
                .unwrap()
                .username,
            "dr"
        );
        // Already linked (to dr or to anyone), or dr already has one: refused, nothing changes.
        for (user, rpps) in [
            ("dr", "10001234567"),
            ("ide", "10001234567"),
            ("dr", "10009999999"),
        ] {
            let e = ilot_server::admin::link_rpps(st, user, rpps, s.now()).unwrap_err();
            assert!(e.to_string().contains("linked once"), "{db}: {e}");
        }
        assert_eq!(st.operator_by_rpps("10009999999").unwrap(), None);
        assert!(ilot_server::admin::link_rpps(st, "ide", "12345", s.now()).is_err());
        assert!(ilot_server::admin::link_rpps(st, "nobody", "10009999999", s.now()).is_err());
        // A disabled operator cannot log in by its RPPS.
        ilot_server::admin::disable(st, "dr", s.now()).unwrap();
        assert_eq!(st.operator_by_rpps("10001234567").unwrap(), None);
        // Flows: taken once, not after expiry.
        let flow = ilot_server::storage::PscFlow {
            nonce: "n".into(),
            pkce_verifier: "v".into(),
            expires_at: s.now() + TimeDelta::minutes(10),
        };
        st.psc_begin(&[1; 32], &flow, s.now()).unwrap();
        st.psc_begin(&[2; 32], &flow, s.now()).unwrap();
        assert_eq!(st.psc_take(&[1; 32], s.now()).unwrap(), Some(flow.clone()));
        assert_eq!(st.psc_take(&[1; 32], s.now()).unwrap(), None);
        assert_eq!(
            st.psc_take(&[2; 32], s.now() + TimeDelta::minutes(11))
                .unwrap(),
            None
        );
        assert_eq!(
            st.psc_take(&[2; 32], s.now()).unwrap(),
            None,
            "{db}: taken even when expired"
        );
    }
}

#[test]
fn the_client_secret_never_shows_in_debug() {
    let c = PscConfig::new(
        "https://auth.esante.gouv.fr/auth/realms/esante-wallet",
        "ilot",
        SECRET.into(),
    )
    .unwrap();
    let mut config = ilot_server::Config::new("https://ilot.example");
    config.psc = Some(c);
    let shown = format!("{config:?}");
    assert!(
        shown.contains("esante-wallet") && !shown.contains(SECRET),
        "{shown}"
    );
    // Plain http only for a provider on this machine.
    assert!(PscConfig::new("http://auth.example", "ilot", SECRET.into()).is_err());
    assert!(PscConfig::new("http://127.0.0.1:9", "ilot", SECRET.into()).is_ok());
    assert!(PscConfig::new("https://auth.example", "ilot", " ".into()).is_err());
}
