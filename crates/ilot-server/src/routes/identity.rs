//! The rows of the route table for a patient's identity (INS) and its FHIR export
//! (`crate::identity`). Part of the one table: `routes()` appends them.

use serde_json::{Value, json};

use super::{Access, Body, Route};
use crate::identity;

fn identity_schema() -> Value {
    json!({
        "type": "object",
        "required": ["version", "status", "traits", "ins", "exportable", "change", "at"],
        "properties": {
            "version": { "type": "integer", "minimum": 1 },
            "status": { "enum": ["provisoire", "recuperee", "validee", "qualifiee"] },
            "traits": {
                "type": "object",
                "required": ["birth_name", "first_names", "birth_date", "sex", "birth_place"],
                "properties": {
                    "birth_name": { "type": "string" },
                    "first_names": { "type": "string" },
                    "birth_date": { "type": "string", "format": "date" },
                    "sex": { "enum": ["M", "F"] },
                    "birth_place": { "type": "string", "minLength": 5, "maxLength": 5 }
                }
            },
            "ins": {
                "type": ["object", "null"],
                "required": ["matricule", "display", "oid", "authority"],
                "properties": {
                    "matricule": { "type": "string", "minLength": 15, "maxLength": 15 },
                    "display": { "type": "string" },
                    "oid": { "type": "string" },
                    "authority": { "enum": ["nir", "nia", "nir-test", "nia-test"] }
                }
            },
            "exportable": { "type": "boolean" },
            "change": { "type": "string" },
            "reason": { "type": ["string", "null"] },
            "by": { "type": ["string", "null"] },
            "at": { "type": "string", "format": "date-time" }
        }
    })
}

pub(super) fn rows() -> Vec<Route> {
    use Access::*;
    use Body::Json;
    vec![
        Route::new(
            "get",
            "/v1/operator/patients/{id}/identity",
            Session,
            "The patient's identity: strict traits, INS (matricule and OID) and RNIV status, `null` before it is entered (physician; every read audited; a nurse gets 403)",
            Json(json!({
                "type": "object", "required": ["identity"],
                "properties": { "identity": { "oneOf": [identity_schema(), { "type": "null" }] } }
            })),
            identity::get,
        ),
        Route::new(
            "put",
            "/v1/operator/patients/{id}/identity",
            Session,
            "Enter or amend the identity on top of `expected_version` (0 for the first entry; a reason is required to amend): traits kept exactly as given, the INS key checked (400 says which key was expected); a real change is a new version back to provisoire; 409 when another professional changed it meanwhile (physician)",
            Json(json!({
                "type": "object", "required": ["identity", "changed"],
                "properties": { "identity": identity_schema(), "changed": { "type": "boolean" } }
            })),
            identity::put,
        )
        .body(Json(json!({
            "type": "object",
            "required": ["expected_version", "birth_name", "first_names", "birth_date", "sex", "birth_place"],
            "properties": {
                "expected_version": { "type": "integer", "minimum": 0 },
                "birth_name": { "type": "string", "minLength": 1 },
                "first_names": { "type": "string", "minLength": 1 },
                "birth_date": { "type": "string", "format": "date" },
                "sex": { "enum": ["M", "F"] },
                "birth_place": { "type": "string" },
                "matricule": { "type": ["string", "null"] },
                "oid": { "type": ["string", "null"] },
                "reason": { "type": ["string", "null"] }
            }
        })))
        .errors(&[409]),
        Route::new(
            "get",
            "/v1/operator/patients/{id}/identity/history",
            Session,
            "Every version of the identity, newest first: what changed, who, when and why (physician; audited)",
            Json(json!({
                "type": "object", "required": ["versions"],
                "properties": { "versions": { "type": "array", "items": identity_schema() } }
            })),
            identity::history,
        ),
        Route::new(
            "post",
            "/v1/operator/patients/{id}/identity/proofs",
            Session,
            "Record a proof on top of `expected_version`: `insi-retrieved` (INSi is asked now and must return this INS and these traits) or `document-checked` with the `document` (passport, identity-card, residence-permit); provisoire → récupérée or validée → qualifiée. 409: no identity yet, changed meanwhile, proof already given, or INSi returns something else; 503: INSi unavailable (physician)",
            Json(json!({
                "type": "object", "required": ["identity"],
                "properties": { "identity": identity_schema() }
            })),
            identity::prove,
        )
        .body(Json(json!({
            "type": "object", "required": ["expected_version", "proof"],
            "properties": {
                "expected_version": { "type": "integer", "minimum": 1 },
                "proof": { "enum": ["insi-retrieved", "document-checked"] },
                "document": { "enum": ["passport", "identity-card", "residence-permit", null] }
            }
        })))
        .errors(&[409]),
        Route::new(
            "post",
            "/v1/operator/patients/{id}/identity/insi",
            Session,
            "Ask the INSi teleservice by matricule (`by`: matricule) or by traits (`by`: traits); changes nothing. `found` with the INS and traits exactly as INSi gives them, `not-found` (aucune identité trouvée) or `several` (plusieurs identités: none is picked); 503 when the server has no INSi connector (physician; audited)",
            Json(json!({
                "type": "object", "required": ["result"],
                "properties": {
                    "result": { "enum": ["found", "not-found", "several"] },
                    "ins": { "type": "object" },
                    "traits": { "type": "object" },
                    "message": { "type": "string" }
                }
            })),
            identity::lookup,
        )
        .body(Json(json!({
            "type": "object", "required": ["by"],
            "properties": { "by": { "enum": ["matricule", "traits"] } }
        }))),
        Route::new(
            "get",
            "/v1/operator/patients/{id}/fhir",
            Session,
            "The patient's entries as an HL7 FHIR R4 `collection` bundle (ANS profiles); the Patient carries the fr-core INS identifier and traits only when the identity is qualifiée, otherwise the pseudonym only (physician or nurse; audited)",
            Json(json!({
                "type": "object", "required": ["resourceType", "type", "entry"],
                "properties": { "resourceType": { "const": "Bundle" }, "type": { "const": "collection" } }
            })),
            identity::fhir,
        ),
    ]
}
