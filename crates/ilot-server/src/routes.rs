//! The one table of the server's routes. Each row holds what the router needs (method, path,
//! handler) and what the OpenAPI document says (summary, who may call it, bodies, every status
//! it answers). `http::router` is built from this table only and `openapi::document` is
//! written from it, so a route cannot be served without being documented; the scoping test
//! (`tests/it/scoping.rs`) and the cross-patient test (`ilot-sync/tests/it/cross_patient.rs`)
//! walk the same table and fail on a row they have no case for.

use axum::handler::Handler;
use axum::routing::{MethodFilter, MethodRouter, on};
use serde_json::{Value, json};

use crate::http::AppState;
use crate::{billing, device, openapi, operator, patient, triage};

/// Who may call a route, and how the server knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone; serves no data (the OpenAPI document).
    Open,
    /// Operators' credentials in the body (password and TOTP code).
    Credentials,
    /// A device with a one-time enrolment code in the body.
    EnrolmentCode,
    /// A device, by the sealed envelope only its keys open.
    Sealed,
    /// An operator's session (`Authorization: Bearer …`, or the console's cookie), scoped to its
    /// care team.
    Session,
    /// The national OpenID provider, Pro Santé Connect (`psc.rs`): the browser is sent to it, and
    /// brings back its answer (`state`, `code`) checked with the provider itself. 404 when the
    /// server has no PSC configured.
    Federation,
}

/// A request or response body.
#[derive(Debug, Clone)]
pub enum Body {
    Json(Value),
    /// `application/vnd.ilot.sealed`: opaque bytes only the right keys open.
    Sealed,
    /// `text/csv` (UTF-8 with a byte-order mark, `;`-separated: `billing::export`).
    Csv,
    /// No body (a 204).
    Empty,
    /// `application/pdf`: a document (the AGP report).
    Pdf,
    /// No body: a 303 to the `Location` the browser follows.
    Redirect,
}

/// One route: what the router serves and what the document says about it.
pub struct Route {
    /// Lower case, as in OpenAPI: `get`, `post`, `put`, `delete`.
    pub method: &'static str,
    pub path: &'static str,
    pub summary: &'static str,
    pub access: Access,
    pub request: Option<Body>,
    /// The success answer (200, or 204 for [`Body::Empty`]).
    pub response: Body,
    /// Refusals particular to this route, beyond those its access and body imply
    /// (see [`Route::statuses`]).
    pub errors: &'static [u16],
    pub(crate) handler: MethodRouter<AppState>,
}

impl std::fmt::Debug for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Route")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("access", &self.access)
            .finish_non_exhaustive()
    }
}

impl Route {
    fn new<H, T>(
        method: &'static str,
        path: &'static str,
        access: Access,
        summary: &'static str,
        response: Body,
        handler: H,
    ) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let filter = match method {
            "get" => MethodFilter::GET,
            "post" => MethodFilter::POST,
            "put" => MethodFilter::PUT,
            "delete" => MethodFilter::DELETE,
            other => panic!("route {path}: method {other:?} is not one the table knows"),
        };
        Self {
            method,
            path,
            summary,
            access,
            request: None,
            response,
            errors: &[],
            handler: on(filter, handler),
        }
    }

    fn body(mut self, b: Body) -> Self {
        self.request = Some(b);
        self
    }

    fn errors(mut self, e: &'static [u16]) -> Self {
        self.errors = e;
        self
    }

    /// Every status this route answers, success first. Derived from what answers them: the
    /// session extractor (401 no or expired session, 403 no care team), a JSON body (400), a
    /// sealed envelope (400 malformed, 401 unknown or revoked device / not authentic, 403 wrong
    /// patient or consent withdrawn, 413 too large), a path id (404: missing or another
    /// team's), the storage (503 when the database cannot answer), plus the route's own.
    pub fn statuses(&self) -> Vec<u16> {
        let mut s = vec![match self.response {
            Body::Empty => 204,
            Body::Redirect => 303,
            _ => 200,
        }];
        match self.access {
            Access::Open => {}
            Access::Federation => s.push(404),
            Access::Session => s.extend([401, 403]),
            Access::Sealed => s.extend([400, 401, 403, 413]),
            Access::Credentials | Access::EnrolmentCode => {}
        }
        if matches!(self.request, Some(Body::Json(_))) {
            // 415: a body without `Content-Type: application/json` (`headers.rs`).
            s.extend([400, 415]);
        }
        if self.path.contains("{id}") {
            s.push(404);
        }
        if self.honours_restriction() {
            // 451: the patient's record is restricted (`record::guard`); on a read, 400 for an
            // empty or too long `exceptional_reason`.
            s.push(451);
            if self.method == "get" {
                s.push(400);
            }
        }
        if self.access != Access::Open {
            s.push(503);
        }
        s.extend_from_slice(self.errors);
        s.sort_unstable();
        s.dedup();
        s
    }
}

impl Route {
    /// Whether the route reaches one patient's data, so that a restriction closes it (all but
    /// the closure and restriction routes, which a restricted record must still take).
    pub fn honours_restriction(&self) -> bool {
        self.access == Access::Session
            && self.path.contains("{id}")
            && !self.path.ends_with("/closure")
            && !self.path.ends_with("/restriction")
    }
}

fn r(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn list(name: &str) -> Value {
    json!({ "type": "array", "items": r(name) })
}

/// The table. Bodies holding domain types (a prescription, an appointment) are checked by the
/// domain's own validation beyond what a JSON Schema can say, so their schema stays an object
/// with its required members.
pub fn routes() -> Vec<Route> {
    use Access::*;
    use Body::{Json, Sealed as SealedBody};
    use ilot_wire::api::paths;
    let object = || json!({ "type": "object" });
    let mut rows = vec![
        Route::new(
            "post",
            paths::ENROL,
            EnrolmentCode,
            "Enrol a device with a one-time code",
            Json(r("EnrolResponse")),
            device::enrol,
        )
        .body(Json(r("EnrolRequest")))
        // 404 unknown code, 410 expired/used/replaced code, 429 too many attempts; in place
        // (`reenrol.rs`): 401 unproven, 409 code for another patient or device still enrolled.
        .errors(&[401, 404, 409, 410, 429]),
        Route::new(
            "post",
            paths::PUSH,
            Sealed,
            "Push a sealed batch; answered with a sealed acknowledgement",
            SealedBody,
            device::push,
        )
        .body(SealedBody)
        // 409: a batch number reused for other content.
        .errors(&[409]),
        Route::new(
            "post",
            paths::PULL,
            Sealed,
            "Pull what the care team changed; sealed",
            SealedBody,
            device::pull,
        )
        .body(SealedBody),
        Route::new(
            "post",
            "/v1/operator/login",
            Credentials,
            "Log in with user name, password and the current TOTP code (`totp`); 429 after repeated failures",
            Json(r("LoginResponse")),
            operator::login,
        )
        .body(Json(r("LoginRequest")))
        .errors(&[401, 429]),
        Route::new(
            "post",
            "/v1/operator/logout",
            Session,
            "End this session now (the token is refused from then on)",
            Body::Empty,
            operator::logout,
        ),
        Route::new(
            "get",
            "/v1/operator/patients",
            Session,
            "Patients triaged by their worst open alert; those whose telesurveillance ended only with `closed=true`, restricted records never",
            Json(list("TriageRow")),
            operator::list_patients,
        )
        // 400: a malformed `closed`.
        .errors(&[400]),
        Route::new(
            "post",
            "/v1/operator/patients",
            Session,
            "Create a patient with a prescription (physician); returns an enrolment code",
            Json(r("Enrolment")),
            operator::create_patient,
        )
        .body(Json(json!({
            "type": "object", "required": ["pseudonym", "prescription"],
            "properties": {
                "pseudonym": { "type": "string", "minLength": 1 },
                "ins": { "type": ["string", "null"] },
                "tz": { "type": ["string", "null"] },
                "prescription": { "type": "object" }
            }
        }))),
        Route::new(
            "get",
            "/v1/operator/patients/{id}",
            Session,
            "A patient, the current prescription and the record's closure, restriction and past interruptions of the telesurveillance (each closure undone by a reopening: days not monitored, who ended and reopened it, by name and role, and why; oldest first)",
            Json(json!({
                "type": "object", "required": ["patient", "prescription", "record"],
                "properties": {
                    "patient": r("Patient"), "prescription": { "type": ["object", "null"] },
                    "record": r("RecordStatus")
                }
            })),
            operator::patient,
        ),
        Route::new(
            "get",
            "/v1/operator/patients/{id}/entries",
            Session,
            "A patient's entries (latest version of each, deleted ones included) whose time is in `[from, to)`, newest first; paginated by `cursor` (`limit` 1–5,000, default 1,000); 400 for a malformed cursor, a limit out of range or `from` not before `to`",
            Json(json!({
                "type": "object", "required": ["count", "entries", "next_cursor"],
                "properties": {
                    "count": { "type": "integer", "minimum": 0 },
                    "entries": { "type": "array", "items": { "type": "object" } },
                    "next_cursor": { "type": ["string", "null"] }
                }
            })),
            patient::entries,
        )
        .errors(&[400]),
        Route::new(
            "get",
            "/v1/operator/patients/{id}/metrics",
            Session,
            "Glucose metrics over the last days",
            Json(object()),
            operator::metrics,
        ),
        Route::new(
            "get",
            "/v1/operator/patients/{id}/report.pdf",
            Session,
            "The one-page AGP report (PDF) of the last `days` days (default 14, at most 90) in `lang` (fr, default, or en); 400 for another value of either",
            Body::Pdf,
            operator::report::report_pdf,
        )
        .errors(&[400]),
        Route::new(
            "get",
            "/v1/operator/patients/{id}/alerts",
            Session,
            "A patient's alerts",
            Json(list("Alert")),
            operator::patient_alerts,
        ),
        Route::new(
            "get",
            "/v1/operator/patients/{id}/observance",
            Session,
            "Observance and billing per 30-day period",
            Json(object()),
            operator::observance,
        ),
        Route::new(
            "get",
            "/v1/operator/patients/{id}/periods",
            Session,
            "Observance per 30-day period: expected, received, ratio, billable or not and every reason why (no prescription, no consent, in progress, interrupted, previous period insufficient or interrupted, no accompaniment in the first month), billing series of at most 6 periods",
            Json(r("PatientPeriods")),
            billing::periods,
        ),
        Route::new(
            "put",
            "/v1/operator/patients/{id}/prescription",
            Session,
            "New prescription version (physician)",
            Json(json!({
                "type": "object", "required": ["version", "policy_version"],
                "properties": {
                    "version": { "type": "integer", "minimum": 1 },
                    "policy_version": { "type": "integer", "minimum": 0 }
                }
            })),
            operator::set_prescription,
        )
        .body(Json(json!({
            "type": "object", "required": ["prescription"],
            "properties": { "prescription": { "type": "object" } }
        }))),
        Route::new(
            "post",
            "/v1/operator/patients/{id}/messages",
            Session,
            "Send a message to the patient",
            Json(object()),
            operator::message,
        )
        .body(Json(json!({
            "type": "object", "required": ["text"],
            "properties": { "text": { "type": "string", "minLength": 1 } }
        }))),
        Route::new(
            "post",
            "/v1/operator/patients/{id}/appointments",
            Session,
            "Set an education session or consultation, or change or cancel one (same `id`); 400 for one that would start in the past, last under 5 minutes or over 8 hours, or carry a blank or overlong (200 characters) topic, place or link",
            Json(object()),
            operator::appointment,
        )
        .body(Json(object()))
        .errors(&[400]),
        Route::new(
            "post",
            "/v1/operator/patients/{id}/enrolment-code",
            Session,
            "A new one-time enrolment code (physician or nurse); the patient's pending codes stop working",
            Json(r("Enrolment")),
            operator::new_code,
        ),
        Route::new(
            "get",
            "/v1/operator/patients/{id}/devices",
            Session,
            "The patient's devices, revoked ones included",
            Json(list("Device")),
            operator::devices::list,
        ),
        Route::new(
            "post",
            "/v1/operator/devices/{id}/revoke",
            Session,
            "Revoke a device (lost or replaced phone): its pushes and pulls are refused from now on",
            Json(r("Device")),
            operator::devices::revoke,
        ),
        Route::new(
            "get",
            "/v1/operator/alerts",
            Session,
            "Open alerts of every patient, worst first",
            Json(list("Alert")),
            operator::all_alerts,
        ),
        Route::new(
            "post",
            "/v1/operator/alerts/{id}/ack",
            Session,
            "Acknowledge an alert with a note",
            Json(r("Alert")),
            operator::ack_alert,
        )
        .body(Json(json!({
            "type": "object",
            "properties": { "note": { "type": ["string", "null"] } }
        }))),
        Route::new(
            "get",
            "/v1/operator/audit",
            Session,
            "The audit log (physician)",
            Json(list("AuditRow")),
            operator::audit,
        ),
        // The console's patient page (`patient/`): every clinical number from ilot-rules; lists
        // in cursor pages. 400: a query parameter out of its range or a malformed cursor.
        Route::new(
            "get",
            "/v1/operator/patients/{id}/summary",
            Session,
            "AGP (percentiles 5/25/50/75/95 by time of day, target range) and consensus metrics over `days` (7, 14, 30, 90), with the metrics of the `days` before (ilot-rules over the stored points)",
            Json(patient::schema::summary()),
            patient::summary,
        )
        .errors(&[400]),
        Route::new(
            "get",
            "/v1/operator/patients/{id}/days",
            Session,
            "Daily curves (glucose) with insulin, carbohydrates, hypo reports and activity, for the `days` (1–14) local days up to `until`, newest first; `earlier` is the next page's `until`",
            Json(patient::schema::days()),
            patient::days,
        )
        .errors(&[400]),
        Route::new(
            "get",
            "/v1/operator/patients/{id}/logbook",
            Session,
            "The logbook: every entry but sensor readings, newest first, values as entered, with the earlier versions of corrected or deleted entries; paginated by `cursor`",
            Json(patient::schema::logbook()),
            patient::logbook,
        )
        .errors(&[400]),
        Route::new(
            "get",
            "/v1/operator/patients/{id}/feed",
            Session,
            "What the care team sent the patient, one `kind` at a time (message, appointment, prescription, alert-ack), oldest first, with whether the patient's device confirmed it has it; paginated by `cursor`",
            Json(patient::schema::feed()),
            patient::feed,
        )
        .errors(&[400]),
        Route::new(
            "get",
            "/v1/operator/patients/{id}/audit",
            Session,
            "Who read or changed this patient's data and when, newest first (physician); paginated by `cursor`",
            Json(patient::schema::audit()),
            patient::audit,
        )
        .errors(&[400]),
        // The care team's console (`console.rs`, `triage.rs`). Its page and files are served
        // beside this table (`console::pages`): no data, no session, no operation.
        Route::new(
            "get",
            "/v1/operator/triage",
            Session,
            "The team's patients by triage category (urgent alert, no data, time below 54 > 1 %, below 70 > 4 %, TIR drop > 15 points, TIR < 70 %, CGM worn < 70 %, capillary readings below the prescription, on target), with ilot-rules metrics over `days` (1, 7, 14, 30); paginated by `cursor`",
            Json(r("TriagePage")),
            triage::triage,
        )
        // 400: a query parameter out of its range or a malformed cursor.
        .errors(&[400]),
        Route::new(
            "get",
            "/v1/operator/billing",
            Session,
            "The 30-day periods of the team's patients due in `month` (their last day in it; default: this month in Europe/Paris), billable or not with the reasons, series and forfait lines (physician)",
            Json(r("BillingMonth")),
            billing::month,
        )
        // 400: a malformed month.
        .errors(&[400]),
        Route::new(
            "get",
            "/v1/operator/billing.csv",
            Session,
            "The same table as a CSV for a spreadsheet: UTF-8 with BOM, `;` separator, decimal comma, ISO dates, CRLF (physician)",
            Body::Csv,
            billing::month_csv,
        )
        .errors(&[400]),
        Route::new(
            "post",
            "/v1/operator/patients/{id}/review",
            Session,
            "Mark the patient reviewed (\"Marquer comme revu\") by the caller now; the triage shows the latest mark (with the cookie: needs X-CSRF-Token, else 403)",
            Json(r("Review")),
            triage::review,
        ),
        Route::new(
            "delete",
            "/v1/operator/patients/{id}/review",
            Session,
            "Undo the caller's latest review mark of the patient (404 when the caller has none: another operator's mark is theirs to undo)",
            Json(r("Review")),
            triage::undo_review,
        ),
        Route::new(
            "get",
            "/openapi.json",
            Open,
            "This document",
            Json(json!({ "type": "object", "required": ["openapi", "paths"] })),
            openapi::serve,
        ),
    ];
    rows.extend(console_rows::rows());
    rows.extend(rights::rows());
    rows.extend(identity::rows());
    rows
}

#[path = "routes/console.rs"]
mod console_rows;
#[path = "routes/identity.rs"]
mod identity;
#[path = "routes/rights.rs"]
mod rights;

#[cfg(test)]
#[path = "routes/tests.rs"]
mod tests;
