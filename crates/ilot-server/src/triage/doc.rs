//! What `/openapi.json` says about the triage's routes.

const CATEGORIES: [&str; 9] = [
    "urgent-alert",
    "no-data",
    "very-low",
    "low",
    "tir-drop",
    "low-tir",
    "cgm-wear",
    "capillary-readings",
    "on-target",
];

/// The JSON Schema of a review mark ([`crate::storage::ReviewRow`]).
pub fn review_schema() -> serde_json::Value {
    serde_json::json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["id", "patient_id", "operator_id", "by", "at"],
        "properties": {
            "id": { "type": "integer" },
            "patient_id": { "$ref": "#/components/schemas/PatientId" },
            "operator_id": { "type": "integer" },
            "by": { "type": "string" },
            "at": { "type": "string", "format": "date-time" }
        }
    })
}

/// The query parameters of `GET /v1/operator/triage`, for `/openapi.json`.
pub fn query_parameters(path: &str) -> Option<serde_json::Value> {
    (path == "/v1/operator/triage").then(|| {
        serde_json::json!([
            { "name": "days", "in": "query", "required": false,
              "schema": { "type": "integer", "enum": [1, 7, 14, 30], "default": 14 } },
            { "name": "limit", "in": "query", "required": false,
              "schema": { "type": "integer", "minimum": 1, "maximum": 200, "default": 50 } },
            { "name": "cursor", "in": "query", "required": false,
              "schema": { "type": "string", "pattern": "^[0-9a-f]+$" } },
            { "name": "category", "in": "query", "required": false,
              "schema": { "enum": CATEGORIES } },
            { "name": "not_reviewed", "in": "query", "required": false,
              "description": "only patients without a review mark in the last 7 days",
              "schema": { "type": "boolean", "default": false } },
            { "name": "mine", "in": "query", "required": false,
              "description": "only the caller's patients: those it marked reviewed in the last 90 days",
              "schema": { "type": "boolean", "default": false } },
            closed_parameter()
        ])
    })
}

/// `closed`: the patients whose telesurveillance ended ("clôturés") instead of those in
/// monitoring.
pub fn closed_parameter() -> serde_json::Value {
    serde_json::json!({ "name": "closed", "in": "query", "required": false,
        "description": "only the patients whose telesurveillance ended (hidden otherwise)",
        "schema": { "type": "boolean", "default": false } })
}

/// The JSON Schema of [`TriagePage`], for `/openapi.json`.
pub fn schema() -> serde_json::Value {
    let pct = serde_json::json!({ "type": ["number", "null"] });
    let mut doc = serde_json::json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["as_of", "days", "thresholds", "total", "items", "next_cursor"],
        "properties": {
            "as_of": { "type": "string", "format": "date-time" },
            "days": { "enum": [1, 7, 14, 30] },
            "thresholds": {
                "type": "object",
                "required": ["below_54_percent", "below_70_percent", "tir_drop_points",
                             "tir_drop_previous_days", "tir_percent", "cgm_active_percent"],
                "properties": {
                    "below_54_percent": { "type": "number" },
                    "below_70_percent": { "type": "number" },
                    "tir_drop_points": { "type": "number" },
                    "tir_drop_previous_days": { "type": "integer" },
                    "tir_percent": { "type": "number" },
                    "cgm_active_percent": { "type": "number" }
                }
            },
            "total": { "type": "integer", "minimum": 0 },
            "next_cursor": { "type": ["string", "null"] },
            "items": { "type": "array", "items": {
                "type": "object",
                "additionalProperties": false,
                "required": ["patient_id", "pseudonym", "ins", "category", "last_data_at",
                             "transmitting", "monitoring", "open_alerts", "worst_alert", "metrics",
                             "previous_tir_percent", "capillary_per_day",
                             "expected_readings_per_day", "period", "window_from", "window_to",
                             "last_review"],
                "properties": {
                    "patient_id": { "$ref": "#/components/schemas/PatientId" },
                    "pseudonym": { "type": "string" },
                    "ins": { "type": ["string", "null"], "description": "The qualified INS only (null unless the identity is qualifiée)" },
                    "category": { "enum": CATEGORIES },
                    "window_from": { "type": "string", "format": "date-time" },
                    "window_to": { "type": "string", "format": "date-time" },
                    "last_review": {
                        "type": ["object", "null"],
                        "additionalProperties": false,
                        "required": ["by", "at", "mine"],
                        "properties": {
                            "by": { "type": "string" },
                            "at": { "type": "string", "format": "date-time" },
                            "mine": { "type": "boolean" }
                        }
                    },
                    "last_data_at": { "type": ["string", "null"], "format": "date-time" },
                    "transmitting": { "type": "boolean" },
                    "monitoring": { "enum": ["capillary", "flash", "cgm"] },
                    "open_alerts": { "type": "integer", "minimum": 0 },
                    "worst_alert": { "type": ["string", "null"] },
                    "metrics": {
                        "type": "object",
                        "required": ["n_readings", "tir_percent", "below_54_percent", "below_70_percent",
                                     "gmi_percent", "cv_percent", "active_percent"],
                        "properties": {
                            "n_readings": { "type": "integer", "minimum": 0 },
                            "tir_percent": pct, "below_54_percent": pct, "below_70_percent": pct,
                            "gmi_percent": pct, "cv_percent": pct, "active_percent": pct
                        }
                    },
                    "previous_tir_percent": pct,
                    "capillary_per_day": { "type": "number", "minimum": 0 },
                    "expected_readings_per_day": { "type": "number", "minimum": 0 },
                    "period": { "type": ["object", "null"] }
                }
            }}
        }
    });
    // Beside the macro, whose recursion limit the whole page reaches.
    let item = &mut doc["properties"]["items"]["items"];
    item["properties"]["closed_on"] =
        serde_json::json!({ "type": ["string", "null"], "format": "date" });
    if let Some(required) = item["required"].as_array_mut() {
        required.push("closed_on".into());
    }
    doc
}
