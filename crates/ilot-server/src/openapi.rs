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
];

const SEALED: &str = ilot_wire::api::SEALED_MEDIA_TYPE;

pub fn document() -> Value {
    let mut paths = serde_json::Map::new();
    for &(method, path, summary, request, response, auth) in OPERATIONS {
        let mut op = json!({
            "summary": summary,
            "responses": {
                "200": { "description": "success", "content": { response: { "schema": if response == SEALED { json!({"type": "string", "format": "binary"}) } else { json!({}) } } } },
                "default": { "description": "error", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ErrorBody" } } } }
            }
        });
        if let Some(media) = request {
            let schema = if media == SEALED {
                json!({"type": "string", "format": "binary"})
            } else {
                json!({"type": "object"})
            };
            op["requestBody"] =
                json!({ "required": true, "content": { media: { "schema": schema } } });
        }
        if path.contains("{id}") {
            op["parameters"] = json!([{ "name": "id", "in": "path", "required": true, "schema": { "type": "string" } }]);
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

pub async fn serve() -> Json<Value> {
    Json(document())
}
