use super::*;

#[test]
fn every_row_is_documented_and_unique() {
    let rows = routes();
    let mut seen = std::collections::HashSet::new();
    for r in &rows {
        assert!(
            seen.insert((r.method, r.path)),
            "{} {} twice",
            r.method,
            r.path
        );
        assert!(!r.summary.trim().is_empty(), "{} {}", r.method, r.path);
        assert!(
            openapi::path_parameter(r.path).is_some() || !r.path.contains('{'),
            "{} {}: its path parameter has no schema in openapi::path_parameter",
            r.method,
            r.path
        );
        if let Body::Json(v) = &r.response {
            assert!(v.is_object(), "{} {}", r.method, r.path);
        }
    }
}

#[test]
fn statuses_follow_from_access_and_body() {
    let rows = routes();
    let find = |m: &str, p: &str| {
        rows.iter()
            .find(|r| r.method == m && r.path == p)
            .unwrap()
            .statuses()
    };
    // A route to one patient: 451 for a restricted record; a read, 400 for a bad
    // `exceptional_reason`.
    assert_eq!(
        find("get", "/v1/operator/patients/{id}"),
        [200, 400, 401, 403, 404, 451, 503]
    );
    assert_eq!(find("post", "/v1/operator/logout"), [204, 401, 403, 503]);
    assert_eq!(find("get", "/openapi.json"), [200]);
    assert_eq!(find("get", "/v1/console/login-options"), [200]);
    // Pro Santé Connect: a redirect, 404 when not configured, 503 when the database or the
    // provider cannot answer.
    assert_eq!(find("get", "/v1/console/psc/start"), [303, 404, 503]);
    assert_eq!(find("get", "/v1/console/psc/callback"), [303, 404, 503]);
    // The console's rows: a cross-site login is 403, a bad triage query 400.
    assert_eq!(
        find("post", "/v1/console/login"),
        [200, 400, 401, 403, 415, 429, 503]
    );
    assert_eq!(
        find("get", "/v1/operator/triage"),
        [200, 400, 401, 403, 503]
    );
    assert_eq!(find("post", "/v1/console/logout"), [200, 401, 403, 503]);
    // Billing: a malformed month is 400, a nurse 403.
    assert_eq!(
        find("get", "/v1/operator/billing.csv"),
        [200, 400, 401, 403, 503]
    );
    assert_eq!(
        find("get", "/v1/operator/patients/{id}/periods"),
        [200, 400, 401, 403, 404, 451, 503]
    );
    // Review marks: 404 for a patient of another team, or no mark of the caller's to undo.
    assert_eq!(
        find("post", "/v1/operator/patients/{id}/review"),
        [200, 401, 403, 404, 451, 503]
    );
    assert_eq!(
        find("delete", "/v1/operator/patients/{id}/review"),
        [200, 401, 403, 404, 451, 503]
    );
    // The record's own routes reach a restricted record: no 451.
    assert_eq!(
        find("post", "/v1/operator/patients/{id}/closure"),
        [200, 400, 401, 403, 404, 415, 503]
    );
    assert_eq!(
        find("put", "/v1/operator/patients/{id}/restriction"),
        [200, 400, 401, 403, 404, 415, 503]
    );
    // The identity (INS): a stale version or a refused proof is 409; a nurse 403; a restricted
    // record 451 like every ordinary read or change.
    assert_eq!(
        find("put", "/v1/operator/patients/{id}/identity"),
        [200, 400, 401, 403, 404, 409, 415, 451, 503]
    );
    assert_eq!(
        find("get", "/v1/operator/patients/{id}/fhir"),
        [200, 400, 401, 403, 404, 451, 503]
    );
    assert_eq!(
        find("post", "/v1/push"),
        [200, 400, 401, 403, 409, 413, 503]
    );
}
