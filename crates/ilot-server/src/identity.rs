//! A patient's identity (the INS, issue 14) on the server: read, entered, amended and proven by a
//! physician of the patient's team, every read and change in the audit log; the FHIR export that
//! carries the INS only when the identity is *qualifiée*. The rules are the domain's
//! (`ilot_domain::ins`): the key check, traits kept exactly as given, the RNIV statuses and
//! transitions. Each change is a new stored version (`storage::identity`). Nothing of it goes
//! to a device: the device knows the patient by the pseudonym only.

use axum::Json;
use axum::extract::{Path, State};
use chrono::NaiveDate;
use ilot_domain::ins::{
    Identity, IdentityProof, IdentityStatus, Ins, InsSex, InsTraits, InsiQuery, InsiResponse,
    Matricule,
};
use ilot_wire::CareRole;
use ilot_wire::api::ErrorCode;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub mod insi;

use crate::error::{Result, ServerError};
use crate::http::AppState;
use crate::operator::{Session, bad, existing, parse_json, patient_id, read_patient};
use crate::storage::{IdentityVersion, NewIdentityVersion};

fn physician_only(op: &Session) -> Result<()> {
    if op.role != CareRole::Physician {
        return Err(ServerError::refused(
            ErrorCode::Forbidden,
            "only a physician can read or change a patient's identity",
        ));
    }
    Ok(())
}

const STALE: &str = "the identity changed since it was read (another professional edited it): reload it and try again";

const NO_REASON: &str = "say why the identity changes (reason): the change is kept in its history";
const NO_DOCUMENT: &str =
    "say which document was checked: passport, identity-card or residence-permit";

fn conflict(msg: impl Into<String>) -> ServerError {
    ServerError::refused(ErrorCode::Conflict, msg)
}

/// The INS as the API shows it.
#[derive(Debug, Serialize)]
pub struct InsView {
    /// 15 characters, no spaces.
    pub matricule: String,
    /// Grouped as on a Vitale card.
    pub display: String,
    pub oid: &'static str,
    /// `nir`, `nia`, `nir-test`, `nia-test`.
    pub authority: ilot_domain::ins::InsAuthority,
}

impl From<&Ins> for InsView {
    fn from(i: &Ins) -> Self {
        Self {
            matricule: i.matricule.as_str().to_string(),
            display: i.matricule.to_string(),
            oid: i.authority.oid(),
            authority: i.authority,
        }
    }
}

/// One version of the identity as the API shows it.
#[derive(Debug, Serialize)]
pub struct IdentityView {
    pub version: u32,
    /// `provisoire`, `recuperee`, `validee`, `qualifiee`.
    pub status: IdentityStatus,
    pub traits: InsTraits,
    pub ins: Option<InsView>,
    /// Whether exports carry the INS (only *qualifiée*).
    pub exportable: bool,
    pub change: String,
    pub reason: Option<String>,
    pub by: Option<String>,
    pub at: chrono::DateTime<chrono::Utc>,
}

impl From<&IdentityVersion> for IdentityView {
    fn from(v: &IdentityVersion) -> Self {
        Self {
            version: v.version,
            status: v.identity.status,
            traits: v.identity.traits.clone(),
            ins: v.identity.ins.as_ref().map(InsView::from),
            exportable: v.identity.exportable_ins().is_some(),
            change: v.change.clone(),
            reason: v.reason.clone(),
            by: v.operator_name.clone(),
            at: v.at,
        }
    }
}

/// `GET /v1/operator/patients/{id}/identity` (physician; audited).
pub async fn get(
    State(state): State<AppState>,
    op: Session,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    physician_only(&op)?;
    let v = read_patient(&state, op, &id, "read-identity", |s, row| {
        let cur = s.storage().identity_versions(row.id)?.pop();
        Ok(json!({ "identity": cur.as_ref().map(IdentityView::from) }))
    })
    .await?;
    Ok(Json(v))
}

/// `GET /v1/operator/patients/{id}/identity/history` (physician; audited): newest first.
pub async fn history(
    State(state): State<AppState>,
    op: Session,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    physician_only(&op)?;
    let v = read_patient(&state, op, &id, "read-identity-history", |s, row| {
        let all = s.storage().identity_versions(row.id)?;
        let views: Vec<IdentityView> = all.iter().rev().map(IdentityView::from).collect();
        Ok(json!({ "versions": views }))
    })
    .await?;
    Ok(Json(v))
}

/// The body of `PUT …/identity`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetIdentity {
    /// The version this edit builds on (0 for a first entry).
    pub expected_version: u32,
    pub birth_name: String,
    pub first_names: String,
    /// `YYYY-MM-DD`.
    pub birth_date: String,
    /// `M` or `F`.
    pub sex: String,
    pub birth_place: String,
    pub matricule: Option<String>,
    pub oid: Option<String>,
    /// Why the identity changes (required for an amendment).
    pub reason: Option<String>,
}

fn birth_date(s: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
        bad(format!(
            "the date of birth must be a date as YYYY-MM-DD, got {s:?}"
        ))
    })
}

fn domain(e: ilot_domain::ins::InsError) -> ServerError {
    bad(e.to_string())
}

impl SetIdentity {
    fn parse(&self) -> Result<(InsTraits, Option<Ins>)> {
        let sex: InsSex = self.sex.parse().map_err(domain)?;
        let traits = InsTraits::new(
            self.birth_name.clone(),
            self.first_names.clone(),
            birth_date(&self.birth_date)?,
            sex,
            self.birth_place.clone(),
        )
        .map_err(domain)?;
        let blank = |o: &Option<String>| o.as_deref().is_none_or(|s| s.trim().is_empty());
        let ins = match (blank(&self.matricule), blank(&self.oid)) {
            (true, true) => None,
            (false, true) => {
                // Check the matricule first: a wrong key is the more useful message.
                Matricule::parse(self.matricule.as_deref().unwrap_or_default()).map_err(domain)?;
                return Err(bad(
                    "give the OID of the matricule (NIR, NIA, or their test OIDs)",
                ));
            }
            (true, false) => return Err(bad("an OID was given without a matricule")),
            (false, false) => Some(
                Ins::new(
                    self.matricule.as_deref().unwrap_or_default(),
                    self.oid.as_deref().unwrap_or_default(),
                )
                .map_err(domain)?,
            ),
        };
        Ok((traits, ins))
    }
}

/// `PUT /v1/operator/patients/{id}/identity` (physician): a first entry (provisoire) or an
/// amendment; a real change drops the status back to provisoire and needs the proofs again.
pub async fn put(
    State(state): State<AppState>,
    op: Session,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<Value>> {
    physician_only(&op)?;
    let req: SetIdentity = parse_json(&body)?;
    let id = patient_id(&id)?;
    let v = state
        .blocking(move |s| {
            existing(s, id, &op)?;
            let (traits, ins) = req.parse()?;
            let reason = req
                .reason
                .as_deref()
                .map(str::trim)
                .filter(|r| !r.is_empty());
            let current = s.storage().identity_versions(id)?.pop();
            if current.as_ref().map_or(0, |c| c.version) != req.expected_version {
                return Err(conflict(STALE));
            }
            let (identity, change) = match &current {
                None => (Identity::provisional(traits, ins), "created"),
                Some(cur) => {
                    let next = cur.identity.amend(traits, ins);
                    if next == cur.identity {
                        return Ok(
                            json!({ "identity": IdentityView::from(cur), "changed": false }),
                        );
                    }
                    if reason.is_none() {
                        return Err(bad(NO_REASON));
                    }
                    (next, "amended")
                }
            };
            let written = write(s, &op, id, req.expected_version, &identity, change, reason)?;
            Ok(json!({ "identity": IdentityView::from(&written), "changed": true }))
        })
        .await?;
    Ok(Json(v))
}

fn write(
    s: &AppState,
    op: &Session,
    id: ilot_wire::PatientId,
    after: u32,
    identity: &Identity,
    change: &str,
    reason: Option<&str>,
) -> Result<IdentityVersion> {
    let v = NewIdentityVersion {
        patient: id,
        after,
        identity,
        change,
        reason,
        operator_id: op.id,
        at: s.now(),
    };
    let written = s
        .storage()
        .add_identity_version(&v)?
        .ok_or_else(|| conflict(STALE))?;
    s.storage()
        .record_audit(&op.event("change-identity", s.now()).patient(id).detail(
            json!({ "version": written.version, "change": change, "status": identity.status }),
        ))?;
    Ok(written)
}

/// A high-trust identity document (RNIV).
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Document {
    Passport,
    IdentityCard,
    ResidencePermit,
}

/// The body of `POST …/identity/proofs`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Proof {
    pub expected_version: u32,
    pub proof: IdentityProof,
    /// Which document was checked (for `document-checked`).
    pub document: Option<Document>,
}

/// `POST /v1/operator/patients/{id}/identity/proofs` (physician): records an INSi retrieval
/// (verified now against INSi: it must return this very INS and these traits) or a document
/// checked; the status follows the domain's transitions.
pub async fn prove(
    State(state): State<AppState>,
    op: Session,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<Value>> {
    physician_only(&op)?;
    let req: Proof = parse_json(&body)?;
    let id = patient_id(&id)?;
    let v = state
        .blocking(move |s| {
            existing(s, id, &op)?;
            let Some(cur) = s.storage().identity_versions(id)?.pop() else {
                return Err(conflict(
                    "enter the patient's identity before recording a proof",
                ));
            };
            if cur.version != req.expected_version {
                return Err(conflict(STALE));
            }
            let next = cur.identity.prove(req.proof).map_err(domain)?;
            if next.status == cur.identity.status {
                let already = cur.identity.status;
                return Err(conflict(format!(
                    "this proof is already part of the status {already}"
                )));
            }
            let change = match (req.proof, req.document) {
                (IdentityProof::DocumentChecked, None) => return Err(bad(NO_DOCUMENT)),
                (IdentityProof::DocumentChecked, Some(d)) => {
                    let d = serde_json::to_value(d)?;
                    format!("proof:document-checked:{}", d.as_str().unwrap_or_default())
                }
                (IdentityProof::InsiRetrieved, _) => {
                    verify_with_insi(s, &cur.identity)?;
                    "proof:insi-retrieved".to_string()
                }
            };
            let written = write(s, &op, id, cur.version, &next, &change, None)?;
            Ok(json!({ "identity": IdentityView::from(&written) }))
        })
        .await?;
    Ok(Json(v))
}

/// INSi must return exactly this INS and these traits (asked by matricule and birth date, as
/// INSi's verification does).
fn verify_with_insi(s: &AppState, identity: &Identity) -> Result<()> {
    let Some(ins) = &identity.ins else {
        return Err(bad(
            "an INSi retrieval gives an INS: record the matricule and its OID with it",
        ));
    };
    let q = InsiQuery::VitaleCard {
        matricule: ins.matricule.clone(),
        birth_date: identity.traits.birth_date,
    };
    match s.insi().lookup(&q).map_err(insi_error)? {
        InsiResponse::Found { ins: got, traits } if &got == ins && traits == identity.traits => {
            Ok(())
        }
        InsiResponse::Found { .. } => Err(conflict(
            "INSi returns other traits or another OID for this matricule: copy them exactly as INSi gives them (INSi lookup) before recording the retrieval",
        )),
        InsiResponse::NotFound => Err(conflict(
            "INSi: aucune identité trouvée for this matricule and date of birth",
        )),
        InsiResponse::Several => Err(conflict(
            "INSi: plusieurs identités for this matricule and date of birth",
        )),
    }
}

fn insi_error(e: insi::InsiError) -> ServerError {
    ServerError::refused(ErrorCode::Unavailable, e.to_string())
}

/// The body of `POST …/identity/insi`.
#[derive(Debug, Deserialize)]
#[serde(tag = "by", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Lookup {
    /// The patient's Vitale card (or the matricule typed from it) and date of birth.
    Matricule {
        matricule: String,
        birth_date: String,
    },
    /// Typed traits.
    Traits {
        birth_name: String,
        first_name: String,
        sex: String,
        birth_date: String,
        birth_place: Option<String>,
    },
}

impl Lookup {
    fn query(&self) -> Result<InsiQuery> {
        Ok(match self {
            Self::Matricule {
                matricule,
                birth_date: d,
            } => InsiQuery::VitaleCard {
                matricule: Matricule::parse(matricule).map_err(domain)?,
                birth_date: birth_date(d)?,
            },
            Self::Traits {
                birth_name,
                first_name,
                sex,
                birth_date: d,
                birth_place,
            } => {
                if birth_name.trim().is_empty() || first_name.trim().is_empty() {
                    return Err(bad(
                        "INSi needs at least the birth name, a first name, the sex and the date of birth",
                    ));
                }
                InsiQuery::Traits {
                    birth_name: birth_name.clone(),
                    first_name: first_name.clone(),
                    sex: sex.parse().map_err(domain)?,
                    birth_date: birth_date(d)?,
                    birth_place: birth_place.clone().filter(|p| !p.trim().is_empty()),
                }
            }
        })
    }
}

/// `POST /v1/operator/patients/{id}/identity/insi` (physician; audited): asks INSi; changes
/// nothing. One identity: its INS and traits exactly, to enter with `PUT …/identity`; none or
/// several: said so, and no identity is picked.
pub async fn lookup(
    State(state): State<AppState>,
    op: Session,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<Value>> {
    physician_only(&op)?;
    let req: Lookup = parse_json(&body)?;
    let q = req.query()?;
    let v = read_patient(&state, op, &id, "insi-lookup", move |s, _| {
        Ok(match s.insi().lookup(&q).map_err(insi_error)? {
            InsiResponse::Found { ins, traits } => {
                json!({ "result": "found", "ins": InsView::from(&ins), "traits": traits })
            }
            InsiResponse::NotFound => json!({
                "result": "not-found",
                "message": "aucune identité trouvée: check the traits, or query with the Vitale card"
            }),
            InsiResponse::Several => json!({
                "result": "several",
                "message": "plusieurs identités: add the place of birth or the other first names"
            }),
        })
    })
    .await?;
    Ok(Json(v))
}

/// The INS that may label what leaves the server besides FHIR (the AGP report PDF, the billing
/// rows and their CSV): the matricule of the current identity when it is *qualifiée*, nothing
/// otherwise. The free-text `ins` a patient record may carry from its creation never labels
/// exported data (INS rules: only a qualified identity is referenced).
pub fn exported_ins(
    storage: &dyn crate::storage::Storage,
    patient: ilot_wire::PatientId,
) -> Result<Option<String>> {
    Ok(storage
        .identity_versions(patient)?
        .last()
        .and_then(|v| v.identity.exportable_ins())
        .map(|ins| ins.matricule.as_str().to_string()))
}

/// The qualified INS of every patient that has one (for the lists: triage, patients), by
/// [`exported_ins`]'s rule, in one storage query.
pub fn exported_ins_all(
    storage: &dyn crate::storage::Storage,
) -> Result<std::collections::HashMap<ilot_wire::PatientId, String>> {
    Ok(storage
        .qualified_identities()?
        .into_iter()
        .filter_map(|(id, identity)| {
            identity
                .exportable_ins()
                .map(|ins| (id, ins.matricule.as_str().to_string()))
        })
        .collect())
}

/// `GET /v1/operator/patients/{id}/fhir` (physician or nurse; audited): the patient's entries
/// as the domain's FHIR `collection` bundle (ANS profiles); the Patient carries the INS only
/// when the identity is *qualifiée*, otherwise the pseudonym only.
pub async fn fhir(
    State(state): State<AppState>,
    op: Session,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    let v = read_patient(&state, op, &id, "read-fhir", |s, row| {
        let identity = s
            .storage()
            .identity_versions(row.id)?
            .pop()
            .map(|v| v.identity);
        let now = s.now();
        let stored = s.storage().entries(
            row.id,
            chrono::DateTime::<chrono::Utc>::MIN_UTC,
            now + chrono::TimeDelta::days(1),
            false,
        )?;
        let exported = stored.iter().map(|e| ilot_domain::fhir::Exported {
            id: e.entry_id,
            version: e.version,
            entry: &e.entry,
        });
        ilot_domain::fhir::collection_with_identity(
            &row.pseudonym,
            identity.as_ref(),
            exported,
            None,
            now,
        )
        .map_err(|e| ServerError::Storage(format!("FHIR export: {e}")))
    })
    .await?;
    Ok(Json(v))
}
