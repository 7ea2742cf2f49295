//! Walking the route table in tests (`scoping.rs`, `restriction.rs`): one fresh world per
//! operator route, every route given a case, and the body each state-changing route takes.

use ilot_server::routes::{Access, routes};
use serde_json::{Value, json};

use crate::support::prescription;

/// A body `path` accepts (by its last segment); `pseudonym` for a new patient and `restricted`
/// for the restriction route, which the walks set differently.
pub fn body_for(path: &str, pseudonym: &str, restricted: bool) -> Option<Value> {
    Some(match path.rsplit('/').next().unwrap() {
        "prescription" => json!({ "prescription": prescription() }),
        "messages" => json!({ "text": "hello" }),
        "appointments" => json!({
            "kind": "education", "starts_at": "2026-03-10T09:00:00Z", "duration_min": 30,
            "mode": "phone", "topic": "insulin"
        }),
        "ack" => json!({ "note": "called" }),
        "consent" => json!({ "decision": "refused", "notice_version": 2 }),
        "patients" => json!({ "pseudonym": pseudonym, "prescription": prescription() }),
        "identity" => crate::identity::pat_trois(0),
        "proofs" => {
            json!({ "expected_version": 1, "proof": "document-checked", "document": "passport" })
        }
        "insi" => {
            json!({ "by": "matricule", "matricule": "279035121518989", "birth_date": "1979-03-28" })
        }
        "closure" => json!({ "last_day": "2026-03-02", "reason": "fin de la prise en charge" }),
        "restriction" => json!({ "restricted": restricted, "reason": "demande d'effacement" }),
        "reopening" => json!({ "reason": "clôturée par erreur" }),
        _ => return None,
    })
}

/// Every operator (session) route in a fresh world of `db()`, through `case`; fails when a
/// route has no case (`what`: the kind of case) or fewer than `min` were checked.
pub fn every_session_route<W>(
    db: impl Fn() -> String,
    world: impl Fn(&str) -> W,
    case: impl Fn(&W, &str, &str) -> bool,
    what: &str,
    min: usize,
) {
    let mut untested = Vec::new();
    let mut n = 0;
    for route in routes() {
        if route.access != Access::Session {
            continue;
        }
        let (method, path) = (route.method, route.path);
        // A fresh world per route, so that no case depends on what another changed.
        let w = world(&db());
        if case(&w, method, path) {
            n += 1;
        } else {
            untested.push(format!("{method} {path}"));
        }
    }
    assert!(
        untested.is_empty(),
        "routes without a {what} case: {untested:?}"
    );
    assert!(n >= min, "only {n} operator routes checked");
}
