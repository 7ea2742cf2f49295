//! The OpenAPI 3.1 document of the server, written from the route table (`routes.rs`): the
//! router serves exactly the rows documented here. The shared schemas (components) are below.

use axum::Json;
use serde_json::{Value, json};

use crate::routes::{Access, Body, routes};

const SEALED: &str = ilot_wire::api::SEALED_MEDIA_TYPE;

/// The schema of a route's `{id}`: alerts are numbered by the server, devices and patients
/// carry 128-bit random ids. `None` for a path whose parameter is not described (a test of the
/// table refuses such a row).
pub fn path_parameter(path: &str) -> Option<Value> {
    if !path.contains("{id}") {
        return None;
    }
    if path.starts_with("/v1/operator/alerts/") {
        Some(json!({ "type": "integer", "format": "int64", "minimum": 1 }))
    } else if path.starts_with("/v1/operator/devices/") {
        Some(json!({ "$ref": "#/components/schemas/DeviceId" }))
    } else if path.starts_with("/v1/operator/patients/") {
        Some(json!({ "$ref": "#/components/schemas/PatientId" }))
    } else {
        None
    }
}

fn content(b: &Body) -> Value {
    match b {
        Body::Json(schema) => json!({ "application/json": { "schema": schema } }),
        Body::Sealed => json!({ SEALED: { "schema": { "type": "string", "format": "binary" } } }),
        Body::Csv => json!({ "text/csv": { "schema": { "type": "string" } } }),
        Body::Empty | Body::Redirect => json!({}),
        Body::Pdf => {
            json!({ "application/pdf": { "schema": { "type": "string", "format": "binary" } } })
        }
    }
}

pub fn document() -> Value {
    let mut paths = serde_json::Map::new();
    for route in routes() {
        let mut responses = serde_json::Map::new();
        for status in route.statuses() {
            let r = match status {
                200 => json!({ "description": "success", "content": content(&route.response) }),
                204 => json!({ "description": "done" }),
                303 => json!({
                    "description": "see the Location header",
                    "headers": { "Location": { "required": true, "schema": { "type": "string" } } }
                }),
                s => json!({
                    "description": error_description(s),
                    "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ErrorBody" } } }
                }),
            };
            responses.insert(status.to_string(), r);
        }
        let mut op = json!({ "summary": route.summary, "responses": responses });
        if let Some(b) = &route.request {
            op["requestBody"] = json!({ "required": true, "content": content(b) });
        }
        if let Some(schema) = path_parameter(route.path) {
            op["parameters"] =
                json!([{ "name": "id", "in": "path", "required": true, "schema": schema }]);
        }
        if let Some(q) = crate::triage::query_parameters(route.path)
            .or_else(|| crate::billing::query_parameters(route.path))
            .or_else(|| crate::psc::query_parameters(route.path))
        {
            op["parameters"] = q;
        }
        if let Some(q) = crate::patient::query_parameters(route.path) {
            let mut all = op["parameters"].as_array().cloned().unwrap_or_default();
            all.extend(q);
            op["parameters"] = Value::Array(all);
        }
        if route.path == "/v1/operator/patients/{id}/report.pdf"
            && let (Some(p), Some(q)) = (
                op["parameters"].as_array_mut(),
                crate::operator::report::query_parameters().as_array(),
            )
        {
            p.extend(q.iter().cloned());
        }
        if route.honours_restriction() && route.method == "get" {
            let mut all = op["parameters"].as_array().cloned().unwrap_or_default();
            all.push(json!({
                "name": crate::record::EXCEPTIONAL_REASON, "in": "query", "required": false,
                "description": "a physician's reason to read a restricted record (written to the audit log)",
                "schema": { "type": "string", "minLength": 1, "maxLength": crate::record::MAX_REASON }
            }));
            op["parameters"] = Value::Array(all);
        }
        if route.path == "/v1/operator/patients" && route.method == "get" {
            op["parameters"] = json!([crate::triage::closed_parameter()]);
        }
        if route.access == Access::Session {
            // Either the bearer token or the console's session cookie (unsafe requests made
            // with the cookie also need `X-CSRF-Token`, see `console.rs`).
            op["security"] = json!([{ "bearer": [] }, { "console_cookie": [] }]);
        }
        let entry = paths
            .entry(route.path.to_string())
            .or_insert_with(|| json!({}));
        entry[route.method] = op;
    }
    json!({
        "openapi": "3.1.0",
        "info": { "title": "Ilot operator server", "version": env!("CARGO_PKG_VERSION") },
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": { "type": "http", "scheme": "bearer" },
                "console_cookie": {
                    "type": "apiKey", "in": "cookie", "name": "ilot_session",
                    "description": "The console's session cookie set by POST /v1/console/login (named __Host-ilot_session when the server's public address is https). Unsafe requests made with it must carry X-CSRF-Token (the token GET /v1/console/session answers) and a same-site Origin, else 403."
                }
            },
            "schemas": {
                "PatientId": { "type": "string", "pattern": "^[0-9a-fA-F]{32}$" },
                "DeviceId": { "type": "string", "pattern": "^[0-9a-fA-F]{32}$" },
                "Time": { "type": "string", "format": "date-time" },
                "LoginRequest": {
                    "type": "object",
                    "required": ["username", "password", "totp"],
                    "properties": {
                        "username": { "type": "string", "minLength": 1, "maxLength": 64 },
                        "password": { "type": "string" },
                        "totp": { "type": "string", "pattern": "^[0-9]{6}$" }
                    }
                },
                "LoginResponse": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["token", "expires_at", "name", "role"],
                    "properties": {
                        "token": { "type": "string", "pattern": "^[0-9a-f]{64}$" },
                        "expires_at": { "$ref": "#/components/schemas/Time" },
                        "name": { "type": "string" },
                        "role": { "enum": ["physician", "nurse"] }
                    }
                },
                "EnrolRequest": {
                    "type": "object",
                    "required": ["code", "device_public_key", "app_version"],
                    "properties": {
                        "code": { "type": "string" },
                        "device_public_key": { "type": "string" },
                        "device_label": { "type": ["string", "null"] },
                        "app_version": { "type": "string" },
                        "replaces": {
                            "type": "object",
                            "required": ["patient_id", "device_id", "proof"],
                            "properties": {
                                "patient_id": { "$ref": "#/components/schemas/PatientId" },
                                "device_id": { "type": "string", "pattern": "^[0-9a-f]{32}$" },
                                "proof": { "type": "string", "pattern": "^[0-9a-f]{64}$" }
                            }
                        }
                    }
                },
                "EnrolResponse": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["patient_id", "device_id", "server_public_key", "key_confirmation", "pseudonym", "prescription", "enrolled_at"],
                    "properties": {
                        "patient_id": { "$ref": "#/components/schemas/PatientId" },
                        "device_id": { "type": "string", "pattern": "^[0-9a-f]{32}$" },
                        "server_public_key": { "type": "string" },
                        "key_confirmation": { "type": "string" },
                        "pseudonym": { "type": "string" },
                        "prescription": { "type": ["object", "null"] },
                        "enrolled_at": { "$ref": "#/components/schemas/Time" },
                        "replaced": { "type": "string", "pattern": "^[0-9a-f]{32}$" }
                    }
                },
                "Enrolment": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["patient_id", "code", "link", "expires_at"],
                    "properties": {
                        "patient_id": { "$ref": "#/components/schemas/PatientId" },
                        "code": { "type": "string" },
                        "link": { "type": "string", "pattern": "^ilot://enrol" },
                        "expires_at": { "$ref": "#/components/schemas/Time" }
                    }
                },
                "Patient": {
                    "type": "object",
                    "required": ["id", "pseudonym", "ins", "tz", "created_at", "enrolled_at", "last_data_at", "consent_granted", "consent_at"],
                    "properties": {
                        "id": { "$ref": "#/components/schemas/PatientId" },
                        "pseudonym": { "type": "string" },
                        "ins": { "type": ["string", "null"], "description": "The qualified INS (matricule) of the current identity, null unless the identity is qualifiée" },
                        "tz": { "type": "string" },
                        "created_at": { "$ref": "#/components/schemas/Time" },
                        "enrolled_at": { "type": ["string", "null"], "format": "date-time" },
                        "last_data_at": { "type": ["string", "null"], "format": "date-time" },
                        "consent_granted": { "type": ["boolean", "null"] },
                        "consent_at": { "type": ["string", "null"], "format": "date-time" }
                    }
                },
                "RecordStatus": crate::record::schema(),
                "TriageRow": {
                    "allOf": [{ "$ref": "#/components/schemas/Patient" }],
                    "type": "object",
                    "required": ["open_alerts", "worst_severity", "worst_kind", "transmitting", "closed_on"],
                    "properties": {
                        "closed_on": { "type": ["string", "null"], "format": "date" },
                        "open_alerts": { "type": "integer", "minimum": 0 },
                        "worst_severity": { "enum": ["urgent", "warning", "info", null] },
                        "worst_kind": { "type": ["string", "null"] },
                        "transmitting": { "type": "boolean" }
                    }
                },
                "Alert": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["id", "patient_id", "key", "kind", "severity", "severity_rank", "started_at", "ended_at", "detail", "acknowledged_at", "acknowledged_by", "note"],
                    "properties": {
                        "id": { "type": "integer", "minimum": 1 },
                        "patient_id": { "$ref": "#/components/schemas/PatientId" },
                        "key": { "type": "string" },
                        "kind": { "type": "string" },
                        "severity": { "enum": ["urgent", "warning", "info"] },
                        "severity_rank": { "type": "integer", "minimum": 0, "maximum": 2 },
                        "started_at": { "$ref": "#/components/schemas/Time" },
                        "ended_at": { "type": ["string", "null"], "format": "date-time" },
                        "detail": {},
                        "acknowledged_at": { "type": ["string", "null"], "format": "date-time" },
                        "acknowledged_by": { "type": ["string", "null"] },
                        "note": { "type": ["string", "null"] }
                    }
                },
                "Device": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["id", "patient_id", "label", "enrolled_at", "last_push_at", "revoked_at"],
                    "properties": {
                        "id": { "$ref": "#/components/schemas/DeviceId" },
                        "patient_id": { "$ref": "#/components/schemas/PatientId" },
                        "label": { "type": ["string", "null"] },
                        "enrolled_at": { "$ref": "#/components/schemas/Time" },
                        "last_push_at": { "type": ["string", "null"], "format": "date-time" },
                        "revoked_at": { "type": ["string", "null"], "format": "date-time" }
                    }
                },
                "AuditRow": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["id", "operator_id", "action", "patient_id", "at", "client", "detail"],
                    "properties": {
                        "id": { "type": "integer" },
                        "operator_id": { "type": ["integer", "null"] },
                        "action": { "type": "string" },
                        "patient_id": { "oneOf": [{ "$ref": "#/components/schemas/PatientId" }, { "type": "null" }] },
                        "at": { "$ref": "#/components/schemas/Time" },
                        "client": { "type": ["string", "null"] },
                        "detail": {}
                    }
                },
                "ConsoleSession": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["name", "role", "csrf_token"],
                    "properties": {
                        "name": { "type": "string" },
                        "role": { "enum": ["physician", "nurse"] },
                        "csrf_token": { "type": "string", "pattern": "^[0-9a-f]{64}$" }
                    }
                },
                "TriagePage": crate::triage::schema(),
                "PatientPeriods": crate::billing::schemas().0,
                "BillingMonth": crate::billing::schemas().1,
                "Review": crate::triage::review_schema(),
                "ErrorBody": {
                    "type": "object",
                    "required": ["error", "message"],
                    "properties": {
                        "error": { "type": "string" },
                        "message": { "type": "string" },
                        "retry_after_s": { "type": "integer", "minimum": 0 }
                    }
                }
            }
        }
    })
}

fn error_description(status: u16) -> &'static str {
    match status {
        400 => "the request is not what this operation takes (the message says what)",
        401 => {
            "not authenticated: no or expired session, wrong credentials, unknown or revoked device"
        }
        403 => {
            "authenticated, but not allowed (role, no care team, another patient's ids, consent withdrawn, monitoring ended)"
        }
        404 => {
            "no such resource (another care team's answers the same; Pro Santé Connect when it is not configured)"
        }
        409 => "a batch number reused for other content",
        410 => "the enrolment code expired, was used or was replaced by a newer one",
        413 => "the body is too large",
        429 => "too many attempts; wait `retry_after_s` seconds",
        451 => {
            "the patient's record is restricted (erasure request); a physician may read it with `exceptional_reason`"
        }
        503 => "the database (or Pro Santé Connect) cannot answer now; try again later",
        _ => "refused",
    }
}

/// The document, made once.
pub async fn serve() -> Json<Value> {
    static DOC: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    Json(DOC.get_or_init(document).clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `default` response makes any status "documented": schemathesis' status check would
    /// pass whatever the server answers. Every operation lists its real statuses instead.
    #[test]
    fn every_operation_lists_its_statuses_and_no_default() {
        let doc = document();
        let mut n = 0;
        for route in routes() {
            let op = &doc["paths"][route.path][route.method];
            let responses = op["responses"].as_object().unwrap();
            let listed: Vec<&str> = responses.keys().map(String::as_str).collect();
            let expected: Vec<String> = route.statuses().iter().map(u16::to_string).collect();
            assert_eq!(listed, expected, "{} {}", route.method, route.path);
            for (status, r) in responses {
                if status.starts_with('4') || status.starts_with('5') {
                    assert_eq!(
                        r["content"]["application/json"]["schema"]["$ref"],
                        "#/components/schemas/ErrorBody",
                        "{} {} {status}",
                        route.method,
                        route.path
                    );
                }
            }
            n += 1;
        }
        assert_eq!(n, routes().len());
    }
}
