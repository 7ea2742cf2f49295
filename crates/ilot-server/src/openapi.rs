//! The OpenAPI 3.1 document of the server, written by hand beside the router; a test checks
//! that every documented operation is routed and every route is documented.

use axum::Json;
use serde_json::{Value, json};

/// One documented operation: method, path, summary, request media type, success media type,
/// whether it needs an operator session.
pub type Operation = (
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
    &'static str,
    bool,
);

pub const OPERATIONS: &[Operation] = &[
    (
        "post",
        "/v1/enrol",
        "Enrol a device with a one-time code",
        Some("application/json"),
        "application/json",
        false,
    ),
    (
        "post",
        "/v1/push",
        "Push a sealed batch; answered with a sealed acknowledgement",
        Some(SEALED),
        SEALED,
        false,
    ),
    (
        "post",
        "/v1/pull",
        "Pull what the care team changed; sealed",
        Some(SEALED),
        SEALED,
        false,
    ),
    (
        "post",
        "/v1/operator/login",
        "Log in with user name, password and the current TOTP code (`totp`); 429 after repeated failures",
        Some("application/json"),
        "application/json",
        false,
    ),
    (
        "get",
        "/v1/operator/patients",
        "Patients triaged by their worst open alert",
        None,
        "application/json",
        true,
    ),
    (
        "post",
        "/v1/operator/patients",
        "Create a patient with a prescription; returns an enrolment code",
        Some("application/json"),
        "application/json",
        true,
    ),
    (
        "get",
        "/v1/operator/patients/{id}",
        "A patient and the current prescription",
        None,
        "application/json",
        true,
    ),
    (
        "get",
        "/v1/operator/patients/{id}/entries",
        "A patient's entries (latest versions)",
        None,
        "application/json",
        true,
    ),
    (
        "get",
        "/v1/operator/patients/{id}/metrics",
        "Glucose metrics over the last days",
        None,
        "application/json",
        true,
    ),
    (
        "get",
        "/v1/operator/patients/{id}/alerts",
        "A patient's alerts",
        None,
        "application/json",
        true,
    ),
    (
        "get",
        "/v1/operator/patients/{id}/observance",
        "Observance and billing per 30-day period",
        None,
        "application/json",
        true,
    ),
    (
        "put",
        "/v1/operator/patients/{id}/prescription",
        "New prescription version (physician)",
        Some("application/json"),
        "application/json",
        true,
    ),
    (
        "post",
        "/v1/operator/patients/{id}/messages",
        "Send a message to the patient",
        Some("application/json"),
        "application/json",
        true,
    ),
    (
        "post",
        "/v1/operator/patients/{id}/appointments",
        "Set an education session or consultation",
        Some("application/json"),
        "application/json",
        true,
    ),
    (
        "post",
        "/v1/operator/patients/{id}/enrolment-code",
        "A new one-time enrolment code",
        None,
        "application/json",
        true,
    ),
    (
        "get",
        "/v1/operator/alerts",
        "Open alerts of every patient, worst first",
        None,
        "application/json",
        true,
    ),
    (
        "post",
        "/v1/operator/alerts/{id}/ack",
        "Acknowledge an alert with a note",
        Some("application/json"),
        "application/json",
        true,
    ),
    (
        "get",
        "/v1/operator/audit",
        "The audit log (physician)",
        None,
        "application/json",
        true,
    ),
    (
        "get",
        "/openapi.json",
        "This document",
        None,
        "application/json",
        false,
    ),
    // The care team's console (console.rs, triage.rs).
    (
        "get",
        "/v1/operator/triage",
        "The team's patients by triage category (urgent alert, no data, time below 54 > 1 %, below 70 > 4 %, TIR drop > 15 points, TIR < 70 %, CGM worn < 70 %, capillary readings below the prescription, on target), with ilot-rules metrics over `days` (1, 7, 14, 30); paginated by `cursor`",
        None,
        "application/json",
        true,
    ),
    (
        "post",
        "/v1/console/login",
        "Log in as /v1/operator/login does; the session is set in an HttpOnly SameSite=Strict cookie (Secure over HTTPS) and the answer holds the CSRF token",
        Some("application/json"),
        "application/json",
        false,
    ),
    (
        "get",
        "/v1/console/session",
        "Who is logged in (session cookie or bearer) and the session's CSRF token",
        None,
        "application/json",
        true,
    ),
    (
        "post",
        "/v1/console/logout",
        "End the session now, server-side, and clear the cookie (with the cookie: needs X-CSRF-Token)",
        None,
        "application/json",
        true,
    ),
];

const SEALED: &str = ilot_wire::api::SEALED_MEDIA_TYPE;

pub fn document() -> Value {
    let mut paths = serde_json::Map::new();
    for &(method, path, summary, request, response, auth) in OPERATIONS {
        let mut op = json!({
            "summary": summary,
            "responses": {
                "200": { "description": "success", "content": { response: { "schema": if response == SEALED { json!({"type": "string", "format": "binary"}) } else { response_schema(method, path) } } } },
                "default": { "description": "error", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ErrorBody" } } } }
            }
        });
        if let Some(media) = request {
            let schema = if media == SEALED {
                json!({"type": "string", "format": "binary"})
            } else {
                request_schema(method, path)
            };
            op["requestBody"] =
                json!({ "required": true, "content": { media: { "schema": schema } } });
        }
        if path.contains("{id}") {
            // Alerts are numbered by the server; patients carry a 128-bit pseudonymous id.
            let id = if path.starts_with("/v1/operator/alerts/") {
                json!({ "type": "integer", "format": "int64", "minimum": 1 })
            } else {
                json!({ "$ref": "#/components/schemas/PatientId" })
            };
            op["parameters"] =
                json!([{ "name": "id", "in": "path", "required": true, "schema": id }]);
        }
        if let Some(q) = crate::triage::query_parameters(path) {
            op["parameters"] = q;
        }
        if auth {
            op["security"] = json!([{ "bearer": [] }]);
        }
        let entry = paths.entry(path.to_string()).or_insert_with(|| json!({}));
        entry[method] = op;
    }
    json!({
        "openapi": "3.1.0",
        "info": { "title": "Ilot operator server", "version": env!("CARGO_PKG_VERSION") },
        "paths": paths,
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
            "schemas": {
                "PatientId": { "type": "string", "pattern": "^[0-9a-fA-F]{32}$" },
                "Time": { "type": "string", "format": "date-time" },
                "LoginRequest": {
                    "type": "object",
                    "required": ["username", "password", "totp"],
                    "properties": {
                        "username": { "type": "string" },
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
                        "app_version": { "type": "string" }
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
                        "enrolled_at": { "$ref": "#/components/schemas/Time" }
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
                        "ins": { "type": ["string", "null"] },
                        "tz": { "type": "string" },
                        "created_at": { "$ref": "#/components/schemas/Time" },
                        "enrolled_at": { "type": ["string", "null"], "format": "date-time" },
                        "last_data_at": { "type": ["string", "null"], "format": "date-time" },
                        "consent_granted": { "type": ["boolean", "null"] },
                        "consent_at": { "type": ["string", "null"], "format": "date-time" }
                    }
                },
                "TriageRow": {
                    "allOf": [{ "$ref": "#/components/schemas/Patient" }],
                    "type": "object",
                    "required": ["open_alerts", "worst_severity", "worst_kind", "transmitting"],
                    "properties": {
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
                "AuditRow": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["id", "operator_id", "action", "patient_id", "at"],
                    "properties": {
                        "id": { "type": "integer" },
                        "operator_id": { "type": "integer" },
                        "action": { "type": "string" },
                        "patient_id": { "oneOf": [{ "$ref": "#/components/schemas/PatientId" }, { "type": "null" }] },
                        "at": { "$ref": "#/components/schemas/Time" }
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

/// The request body of an operation with a JSON body. Bodies holding domain types (a
/// prescription, an appointment) are checked by the domain's own validation beyond what a
/// JSON Schema can say, so their schema stays an object with its required members.
fn request_schema(method: &str, path: &str) -> Value {
    let r = |name: &str| json!({ "$ref": format!("#/components/schemas/{name}") });
    match (method, path) {
        ("post", "/v1/operator/login") | ("post", "/v1/console/login") => r("LoginRequest"),
        ("post", "/v1/enrol") => r("EnrolRequest"),
        ("post", "/v1/operator/patients/{id}/messages") => json!({
            "type": "object", "required": ["text"],
            "properties": { "text": { "type": "string", "minLength": 1 } }
        }),
        ("post", "/v1/operator/alerts/{id}/ack") => json!({
            "type": "object",
            "properties": { "note": { "type": ["string", "null"] } }
        }),
        ("put", "/v1/operator/patients/{id}/prescription") => json!({
            "type": "object", "required": ["prescription"],
            "properties": { "prescription": { "type": "object" } }
        }),
        _ => json!({ "type": "object" }),
    }
}

/// The JSON a successful call answers.
fn response_schema(method: &str, path: &str) -> Value {
    let r = |name: &str| json!({ "$ref": format!("#/components/schemas/{name}") });
    let list = |name: &str| json!({ "type": "array", "items": { "$ref": format!("#/components/schemas/{name}") } });
    match (method, path) {
        ("post", "/v1/operator/login") => r("LoginResponse"),
        ("post", "/v1/console/login") | ("get", "/v1/console/session") => r("ConsoleSession"),
        ("post", "/v1/console/logout") => json!({
            "type": "object", "required": ["logged_out"],
            "properties": { "logged_out": { "const": true } }
        }),
        ("get", "/v1/operator/triage") => r("TriagePage"),
        ("post", "/v1/enrol") => r("EnrolResponse"),
        ("get", "/v1/operator/patients") => list("TriageRow"),
        ("post", "/v1/operator/patients")
        | ("post", "/v1/operator/patients/{id}/enrolment-code") => r("Enrolment"),
        ("get", "/v1/operator/patients/{id}") => json!({
            "type": "object", "required": ["patient", "prescription"],
            "properties": { "patient": r("Patient"), "prescription": { "type": ["object", "null"] } }
        }),
        ("get", "/v1/operator/patients/{id}/entries") => json!({
            "type": "object", "required": ["count", "entries"],
            "properties": {
                "count": { "type": "integer", "minimum": 0 },
                "entries": { "type": "array", "items": { "type": "object" } }
            }
        }),
        ("get", "/v1/operator/patients/{id}/alerts") | ("get", "/v1/operator/alerts") => {
            list("Alert")
        }
        ("post", "/v1/operator/alerts/{id}/ack") => r("Alert"),
        ("get", "/v1/operator/audit") => list("AuditRow"),
        ("get", "/openapi.json") => json!({ "type": "object", "required": ["openapi", "paths"] }),
        _ => json!({ "type": "object" }),
    }
}

pub async fn serve() -> Json<Value> {
    Json(document())
}
