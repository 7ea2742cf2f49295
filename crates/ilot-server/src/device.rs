//! Device endpoints: enrolment (JSON, rate-limited), push and pull (sealed). A sealed request is
//! authenticated by opening it with the keys of the device its header names: only that
//! device's keys open it, and everything it reads or writes is scoped to that device's patient.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use chrono::DateTime;
use ilot_wire::api::{EnrolRequest, EnrolResponse, ErrorCode, SEALED_MEDIA_TYPE};
use ilot_wire::{
    AccessEntry, BatchHeader, DeviceId, Envelope, Expected, OpenAck, OpenPull, OpenPullRequest,
    PatientId, Pull, PushAck, Rights, RightsCursor, Sealed, SealedBatch, SealedPullRequest,
    SeqRule, SessionKeys, open, seal,
};

use serde_json::json;

use crate::client::Client;
use crate::error::{Result, ServerError};
use crate::http::AppState;
use crate::ratelimit::{self, RateKey};
use crate::storage::{AuditEvent, DeviceRow, FeedItem, IngestBatch, IngestOutcome, StoredAck};

/// Most changes one pull carries.
const PULL_MAX: u32 = 500;

fn sealed_response(bytes: Vec<u8>) -> Response {
    ([(CONTENT_TYPE, SEALED_MEDIA_TYPE)], bytes).into_response()
}

/// Redeems a one-time code for a device. Attempts are counted per client network and per code
/// prefix before the code is looked at (shared by every node); a redeemed code takes its prefix
/// count back. Every enrolment, done or refused, is audited with the client's address.
pub async fn enrol(
    State(state): State<AppState>,
    client: Client,
    body: Bytes,
) -> Result<Json<EnrolResponse>> {
    let req: EnrolRequest = serde_json::from_slice(&body).map_err(|e| {
        ServerError::refused(
            ErrorCode::BadRequest,
            format!("the enrolment request is not valid JSON: {e}"),
        )
    })?;
    let cfg = &state.0.config;
    let code = req.code.canonical();
    let ip_key = RateKey::new("enrol-ip", client.network().as_bytes(), cfg.enrol_per_ip);
    let prefix_key = RateKey::new("enrol-prefix", &code.as_bytes()[..3], cfg.enrol_per_prefix);
    if let Err(wait) = ratelimit::count(&state, vec![ip_key, prefix_key]).await? {
        return Err(rate_limited(wait));
    }
    let r = state
        .blocking(move |s| {
            let now = s.now();
            let device = DeviceRow {
                id: DeviceId::random(&mut rand::rng()),
                patient_id: ilot_wire::PatientId::from_bytes([0; 16]),
                public_key: req.device_public_key,
                label: req.device_label.clone(),
                enrolled_at: now,
                last_batch_seq: None,
            };
            // Agreeing first refuses a weak device key before the code is spent.
            let probe = ilot_wire::PatientId::from_bytes([0; 16]);
            s.0.secret
                .agree(&device.public_key, probe, device.id)
                .map_err(|e| ServerError::from(&e))?;
            if let Some(r) = &req.replaces {
                crate::reenrol::check(s, r, &req.code, &device.public_key, &client)?;
            }
            let redeemed = match &req.replaces {
                Some(r) => s
                    .storage()
                    .redeem_code_replacing(&code, &device, r.device_id, now)?,
                None => s.storage().redeem_code(&code, &device, now)?,
            };
            let replaced = req.replaces.as_ref().map(|r| r.device_id);
            let patient = match redeemed {
                Ok(p) => p,
                Err(why) => {
                    let mut detail = json!({ "reason": format!("{why:?}").to_lowercase() });
                    if let Some(old) = replaced {
                        detail["replaces"] = json!(old.to_string());
                    }
                    s.storage().record_audit(
                        &AuditEvent::new("enrol-refused", now)
                            .from(client)
                            .detail(detail),
                    )?;
                    return Ok(Err(why));
                }
            };
            match replaced {
                // "device re-enrolled, replacing <old id>"
                Some(old) => s.storage().record_audit(
                    &AuditEvent::new("reenrol-device", now)
                        .patient(patient)
                        .from(client)
                        .detail(json!({
                            "device_id": device.id.to_string(),
                            "replaces": old.to_string(),
                        })),
                )?,
                None => s.storage().record_audit(
                    &AuditEvent::new("enrol-device", now)
                        .patient(patient)
                        .from(client)
                        .detail(json!({ "device_id": device.id.to_string() })),
                )?,
            }
            let keys =
                s.0.secret
                    .agree(&device.public_key, patient, device.id)
                    .map_err(|e| ServerError::from(&e))?;
            let row = s.storage().patient(patient)?;
            Ok(Ok(EnrolResponse {
                replaced,
                patient_id: patient,
                device_id: device.id,
                server_public_key: s.server_public_key(),
                key_confirmation: keys.confirmation,
                pseudonym: row.map(|r| r.pseudonym).unwrap_or_default(),
                prescription: s.storage().prescription(patient)?,
                enrolled_at: now,
            }))
        })
        .await?;
    match r {
        Ok(resp) => {
            ratelimit::forgive(&state, vec![prefix_key]).await?;
            Ok(Json(resp))
        }
        Err(why) => Err(crate::reenrol::refusal(why)),
    }
}

/// What a revoked device hears on every push and pull; the app shows `unknown_device` as "ask
/// your care team for a new code".
fn revoked() -> ServerError {
    ServerError::refused(
        ErrorCode::UnknownDevice,
        "this device was revoked by the care team; nothing was stored; ask the care team for a new enrolment code",
    )
}

fn rate_limited(wait: u64) -> ServerError {
    ServerError::Refused {
        code: ErrorCode::RateLimited,
        message: format!(
            "too many enrolment attempts; wait {wait} seconds and check the code with the care team"
        ),
        retry_after_s: Some(wait),
    }
}

/// Finds the device a sealed message names and derives its keys. An unknown device and a
/// header whose patient is not the device's get answers that reveal nothing about others.
fn device_keys<P: Envelope>(s: &AppState, sealed: &Sealed<P>) -> Result<(DeviceRow, SessionKeys)> {
    let h = sealed.unverified_header();
    let Some(device) = s.storage().device(h.device_id)? else {
        return Err(if s.storage().device_info(h.device_id)?.is_some() {
            revoked()
        } else {
            ServerError::refused(
                ErrorCode::UnknownDevice,
                "this device is not enrolled; enrol it with a code from the care team",
            )
        });
    };
    let keys =
        s.0.secret
            .agree(&device.public_key, device.patient_id, device.id)
            .map_err(|e| ServerError::from(&e))?;
    Ok((device, keys))
}

pub async fn push(State(state): State<AppState>, body: Bytes) -> Result<Response> {
    let bytes = state
        .blocking(move |s| push_blocking(s, Vec::from(body)))
        .await?;
    Ok(sealed_response(bytes))
}

fn push_blocking(s: &AppState, bytes: Vec<u8>) -> Result<Vec<u8>> {
    let sealed = SealedBatch::from_bytes(bytes).map_err(|e| ServerError::from(&e))?;
    let (device, keys) = device_keys(s, &sealed)?;
    let expected = Expected::next_batch(device.patient_id, device.id, device.last_batch_seq);
    let seq = sealed.unverified_header().seq;
    let batch = match open(&sealed, &keys.to_server, &expected) {
        Ok(b) => b,
        Err(e) if e.is_replay() => return answer_replay(s, &device, &keys, &sealed),
        Err(e) => return Err(ServerError::from(&e)),
    };
    let now = s.now();
    let outcome = s.storage().ingest(&IngestBatch {
        patient_id: device.patient_id,
        device_id: device.id,
        seq,
        digest: sealed.digest(),
        items: &batch.items,
        consent: batch.consent,
        now,
    })?;
    let ack = match outcome {
        IngestOutcome::Stored(ack) => {
            if let Some(earliest) = batch.items.iter().map(|i| i.entry.at_utc()).min() {
                // The batch is stored and will be acknowledged whatever the rules say; a rules
                // failure is logged and the next ingest evaluates again.
                if let Err(e) = crate::rules::evaluate_after_ingest(
                    s.storage(),
                    device.patient_id,
                    earliest,
                    now,
                ) {
                    tracing::warn!("alert evaluation failed: {e}");
                }
            }
            ack
        }
        IngestOutcome::AlreadyAccepted(_) | IngestOutcome::Stale { .. } => {
            return answer_replay(s, &device, &keys, &sealed);
        }
        IngestOutcome::DeviceRevoked => return Err(revoked()),
        IngestOutcome::MonitoringEnded => {
            return Err(ServerError::refused(
                ErrorCode::MonitoringEnded,
                "the care team ended this patient's telesurveillance; nothing was stored",
            ));
        }
        IngestOutcome::ConsentWithdrawn => {
            return Err(ServerError::refused(
                ErrorCode::ConsentWithdrawn,
                "the patient withdrew consent to transmission; nothing was stored",
            ));
        }
    };
    seal_ack(&device, &keys, seq, &ack, now)
}

/// An authentic batch already accepted: the same bytes get the earlier answer again, other
/// bytes under a used number are refused.
fn answer_replay(
    s: &AppState,
    device: &DeviceRow,
    keys: &SessionKeys,
    sealed: &SealedBatch,
) -> Result<Vec<u8>> {
    let seq = sealed.unverified_header().seq;
    match s.storage().batch_ack(device.id, seq)? {
        Some(ack) if ack.digest == sealed.digest() => seal_ack(device, keys, seq, &ack, s.now()),
        _ => Err(ServerError::refused(
            ErrorCode::SeqReused,
            format!("batch number {seq} was already used for other content; nothing was stored"),
        )),
    }
}

fn seal_ack(
    device: &DeviceRow,
    keys: &SessionKeys,
    seq: u64,
    ack: &StoredAck,
    now: DateTime<chrono::Utc>,
) -> Result<Vec<u8>> {
    let open_ack = OpenAck {
        header: BatchHeader::new(device.patient_id, device.id, seq, now),
        ack: PushAck {
            accepted_seq: seq,
            batch_digest: ack.digest,
            stored: ack.stored,
            duplicates: ack.duplicates,
            received_at: ack.received_at,
        },
    };
    let sealed =
        seal(&open_ack, &keys.to_device, &mut rand::rng()).map_err(|e| ServerError::from(&e))?;
    Ok(sealed.into_bytes())
}

pub async fn pull(State(state): State<AppState>, body: Bytes) -> Result<Response> {
    let bytes = state
        .blocking(move |s| pull_blocking(s, Vec::from(body)))
        .await?;
    Ok(sealed_response(bytes))
}

/// How far back the patient's access log goes (ilot-wire `rights`).
const ACCESS_LOG_DAYS: i64 = 365;

/// The patient's rights for a device that holds them up to `have`: the whole consent history
/// when it has a newer record, the access log after `have.access_after` (last 12 months, at
/// most `limit`), and whether more access records wait.
fn rights_since(
    s: &AppState,
    patient: PatientId,
    have: RightsCursor,
    limit: u32,
) -> Result<(Rights, bool)> {
    let history = s.storage().consent_history(patient)?;
    let consent = if history.iter().any(|e| e.id as u64 > have.consent_after) {
        history.iter().map(|e| e.to_wire()).collect()
    } else {
        Vec::new()
    };
    let after = i64::try_from(have.access_after).unwrap_or(i64::MAX);
    let since = s.now() - chrono::TimeDelta::days(ACCESS_LOG_DAYS);
    let mut rows = s.storage().access_log(patient, after, since, limit + 1)?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let access_log = rows
        .into_iter()
        .map(|r| AccessEntry {
            id: r.id as u64,
            at: r.at,
            by: r.by,
            action: r.action,
        })
        .collect();
    Ok((
        Rights {
            consent,
            access_log,
        },
        more,
    ))
}

fn pull_blocking(s: &AppState, bytes: Vec<u8>) -> Result<Vec<u8>> {
    let sealed = SealedPullRequest::from_bytes(bytes).map_err(|e| ServerError::from(&e))?;
    let (device, keys) = device_keys(s, &sealed)?;
    let req: OpenPullRequest = open(
        &sealed,
        &keys.to_server,
        &Expected::new(device.patient_id, device.id, SeqRule::Any),
    )
    .map_err(|e| ServerError::from(&e))?;
    let since = req.since();
    // The device applied everything up to `since`: the care team's delivery receipt.
    s.storage().record_pull(device.id, since)?;
    let limit = req.request.limit.clamp(1, PULL_MAX);
    let mut items = s.storage().feed(device.patient_id, since, limit + 1)?;
    let more = items.len() > limit as usize;
    items.truncate(limit as usize);
    let cursor = items.last().map_or(since, |(c, _)| *c);
    let mut pull = Pull {
        in_reply_to: req.request.request_id,
        more,
        ..Pull::default()
    };
    for (_, item) in items {
        match item {
            // Only the newest prescription matters to the device.
            FeedItem::Prescription(p) => pull.prescription = Some(p),
            FeedItem::Message(m) => pull.messages.push(m),
            FeedItem::Appointment(a) => pull.appointments.push(a),
            FeedItem::AlertAck(a) => pull.alert_acks.push(a),
        }
    }
    if let Some(have) = req.request.rights {
        let (rights, more_access) = rights_since(s, device.patient_id, have, limit)?;
        pull.more |= more_access;
        pull.rights = Some(rights);
    }
    let open_pull = OpenPull {
        header: BatchHeader::new(device.patient_id, device.id, cursor, s.now()),
        pull,
    };
    let sealed =
        seal(&open_pull, &keys.to_device, &mut rand::rng()).map_err(|e| ServerError::from(&e))?;
    Ok(sealed.into_bytes())
}
