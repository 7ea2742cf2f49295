//! The team's patient list (`GET /v1/operator/patients`) and open alerts: the team's
//! patients whose record is not restricted, those in monitoring unless `closed` asks for the
//! ones whose telesurveillance ended.

use axum::Json;
use axum::extract::{Query, State};
use ilot_wire::PatientId;
use serde::{Deserialize, Serialize};

use super::{Session, bad};
use crate::error::Result;
use crate::http::AppState;
use crate::storage::{AlertRow, PatientRow};

#[derive(Debug, Serialize)]
pub struct TriageRow {
    #[serde(flatten)]
    pub patient: PatientRow,
    pub open_alerts: usize,
    /// Severity of the worst open (unacknowledged) alert: urgent, warning, info.
    pub worst_severity: Option<String>,
    pub worst_kind: Option<String>,
    /// False once the patient withdrew consent: nothing more will arrive.
    pub transmitting: bool,
    /// The last day of monitoring once the telesurveillance ended.
    pub closed_on: Option<chrono::NaiveDate>,
}

/// `closed`: the patients whose telesurveillance ended instead of those in monitoring.
#[derive(Debug, Deserialize)]
pub struct ClosedFilter {
    pub closed: Option<bool>,
}

pub async fn list_patients(
    State(state): State<AppState>,
    op: Session,
    q: std::result::Result<Query<ClosedFilter>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<TriageRow>>> {
    let Query(q) = q.map_err(|e| bad(format!("the query is not what this endpoint takes: {e}")))?;
    let closed = q.closed.unwrap_or(false);
    let rows = state
        .blocking(move |s| {
            let mut mine = team_set(s, op.team)?;
            let statuses = crate::record::statuses(s)?;
            // Restricted records are never listed; closed ones only when asked for.
            mine.retain(|id| {
                let st = statuses.get(id).cloned().unwrap_or_default();
                !st.is_restricted() && st.is_closed() == closed
            });
            let alerts = team_open_alerts(s, &mine)?;
            // The qualified INS only (identitovigilance), as every export shows it.
            let mut qualified = crate::identity::exported_ins_all(s.storage())?;
            let mut out: Vec<(u8, TriageRow)> = s
                .storage()
                .patients()?
                .into_iter()
                .filter(|p| mine.contains(&p.id))
                .map(|mut p| {
                    p.ins = qualified.remove(&p.id);
                    let mine: Vec<_> = alerts.iter().filter(|a| a.patient_id == p.id).collect();
                    // `alerts` comes sorted worst first.
                    let worst = mine.first();
                    let rank = worst.map_or(0, |a| a.severity_rank + 1);
                    let transmitting = p.consent_granted != Some(false);
                    let closed_on = statuses
                        .get(&p.id)
                        .and_then(|r| r.closure.as_ref())
                        .map(|c| c.last_day);
                    (
                        rank,
                        TriageRow {
                            closed_on,
                            open_alerts: mine.len(),
                            worst_severity: worst.map(|a| a.severity.clone()),
                            worst_kind: worst.map(|a| a.kind.clone()),
                            transmitting,
                            patient: p,
                        },
                    )
                })
                .collect();
            out.sort_by(|a, b| {
                b.0.cmp(&a.0)
                    .then(a.1.patient.pseudonym.cmp(&b.1.patient.pseudonym))
            });
            // Each patient listed sees this read in their access log.
            let shown: Vec<PatientId> = out.iter().map(|(_, r)| r.patient.id).collect();
            s.storage()
                .record_audit(&op.event("list-patients", s.now()).shows(shown))?;
            Ok(out.into_iter().map(|(_, r)| r).collect())
        })
        .await?;
    Ok(Json(rows))
}

/// The team's patients whose record is not restricted (what lists may show).
pub(crate) fn team_set(s: &AppState, team: i64) -> Result<std::collections::HashSet<PatientId>> {
    let statuses = crate::record::statuses(s)?;
    Ok(s.storage()
        .team_patients(team)?
        .into_iter()
        .filter(|id| statuses.get(id).is_none_or(|r| !r.is_restricted()))
        .collect())
}

/// Open alerts of the team's patients only, worst first.
pub(crate) fn team_open_alerts(
    s: &AppState,
    team: &std::collections::HashSet<PatientId>,
) -> Result<Vec<AlertRow>> {
    Ok(s.storage()
        .alerts(None, true)?
        .into_iter()
        .filter(|a| team.contains(&a.patient_id))
        .collect())
}
