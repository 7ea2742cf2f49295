//! The sync session: consent first, then the batch in flight (if a crash left one), then the
//! outbox in bounded batches, then the pull. Every batch is sealed and saved before it is sent
//! and resent byte for byte until the server's sealed acknowledgement confirms it; only then
//! are its outbox items marked sent. A crash at any point therefore loses nothing and, since the
//! server recognises the same bytes, duplicates nothing.

use chrono::{DateTime, Utc};
use ilot_store::{OutboxOp, OutboxTarget};
use ilot_wire::api::{EnrolRequest, EnrolResponse, paths};
use ilot_wire::{
    BatchHeader, ConsentChange, DeviceSecret, EnrolmentCode, EnrolmentInvite, Expected, OpenBatch,
    OpenPullRequest, PullRequest, Replaces, SealedAck, SealedBatch, SealedPull, SeqRule, ServerUrl,
    WireEntry, WireOp, encode, open, seal, seal_encoded,
};
use rand_core::CryptoRng;

use crate::error::{Result, SyncError};
use crate::local::Outbox;
use crate::state::{Consent, Identity, InFlight, SyncState, WithdrawnPeriod};
use crate::transport::Transport;

/// Bounds of one batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most entries per batch; never more than [`ilot_wire::MAX_BATCH_ITEMS`] (the server
    /// refuses larger batches), whatever is asked.
    pub max_entries: usize,
    /// Sealed size, framing included.
    pub max_bytes: usize,
    /// Changes asked per pull.
    pub pull_limit: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_entries: ilot_wire::MAX_BATCH_ITEMS,
            max_bytes: 1 << 20,
            pull_limit: 200,
        }
    }
}

/// What a session moved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub batches: u32,
    /// Entry versions delivered (stored + duplicates).
    pub sent: u64,
    /// Of them, versions the server stored new / already had.
    pub stored: u64,
    pub duplicates: u64,
    /// Outbox items retired without sending (profile and prescription changes: the server is
    /// the authority for the prescription).
    pub retired: u64,
    pub consent_told: Option<bool>,
    /// Consent is withdrawn and the server knows: nothing was sent.
    pub withdrawn: bool,
    /// Entry versions measured while consent was withdrawn, retired without sending (kept on
    /// the device; `crate::consent`).
    pub withheld: u64,
    /// The decision recorded by the care team in consultation that the device followed in
    /// this session's pull.
    pub consent_followed: Option<ilot_wire::ConsentDecision>,
    pub prescription_version: Option<u32>,
    pub messages: usize,
    pub appointments: usize,
    pub alert_acks: usize,
    /// Access-log records received (who of the care team read or changed the data).
    pub access_log: usize,
}

/// Enrols with a code (typed: `server` needed) or an `ilot://enrol` link (checks the server key
/// fingerprint), and saves the identity. Nothing else is saved if any check fails.
///
/// A device already enrolled is refused ([`SyncError::AlreadyEnrolled`]) unless the server
/// refused it as unknown or revoked in a session ([`SyncState::refused_device`]): then it is
/// enrolled again *in place* — the request names the old device with a proof made with its
/// secret, the server gives a new device of the same patient (or refuses a code for another
/// patient, `code_for_another_patient`, and nothing changes here), and the new identity replaces
/// the old one in one transaction; the outbox stays and is sent under the new identity.
pub fn enrol<L: SyncState + Outbox>(
    local: &mut L,
    code_or_link: &str,
    server: Option<&str>,
    transport_for: impl FnOnce(&ServerUrl) -> Result<Box<dyn Transport>>,
    label: Option<String>,
    rng: &mut impl CryptoRng,
    now: DateTime<Utc>,
) -> Result<EnrolResponse> {
    let (invite, code, server) = if code_or_link
        .trim_start()
        .starts_with(EnrolmentInvite::PREFIX)
    {
        let inv: EnrolmentInvite = code_or_link.trim().parse()?;
        let code = inv.code.clone();
        let server = inv.server.clone();
        (Some(inv), code, server)
    } else {
        let code: EnrolmentCode = code_or_link.parse()?;
        let server = server.ok_or_else(|| {
            SyncError::State("a typed code needs the server address (--server URL)".into())
        })?;
        (None, code, ServerUrl::parse(server)?)
    };
    if invite.as_ref().is_some_and(|i| i.is_expired(now)) {
        return Err(SyncError::Refused {
            code: ilot_wire::api::ErrorCode::EnrolmentCodeExpired,
            message: "this enrolment code has expired; ask the care team for a new one".into(),
            retry_after_s: None,
        });
    }
    let previous = match local.identity() {
        Ok(Some(id)) if local.refused_device()? == Some(id.device_id) => Some(id),
        Ok(Some(id)) => {
            return Err(SyncError::AlreadyEnrolled {
                patient_id: id.patient_id,
                server: id.server.to_string(),
            });
        }
        Ok(None) => None,
        // A saved identity that cannot be used (its secret lost): nothing proves which patient
        // this device was for, so a new code may only give it a new identity when nothing of
        // the old one waits to be sent (else those entries could reach another patient's
        // record).
        Err(e @ SyncError::State(_)) => {
            if !local.pending(1)?.is_empty() {
                return Err(SyncError::SecretLostWithUnsent);
            }
            tracing::warn!("the saved enrolment cannot be used ({e}); enrolling anew");
            None
        }
        Err(e) => return Err(e),
    };
    let transport = transport_for(&server)?;
    let secret = DeviceSecret::generate(rng);
    let replaces = previous
        .as_ref()
        .map(|old| -> Result<Replaces> {
            Ok(Replaces {
                patient_id: old.patient_id,
                device_id: old.device_id,
                proof: old.keys()?.reenrol_proof(&code, &secret.public_key()),
            })
        })
        .transpose()?;
    let req = EnrolRequest {
        code,
        device_public_key: secret.public_key(),
        device_label: label,
        app_version: env!("CARGO_PKG_VERSION").into(),
        replaces,
    };
    let body = serde_json::to_vec(&req).map_err(|e| SyncError::State(e.to_string()))?;
    let answer = transport.post(paths::ENROL, "application/json", body)?;
    let resp: EnrolResponse =
        serde_json::from_slice(&answer).map_err(|_| SyncError::BadResponse { status: 200 })?;
    resp.session_keys(&secret, invite.as_ref())?;
    if let Some(old) = &previous {
        if resp.replaced != Some(old.device_id) {
            return Err(SyncError::ReenrolNotConfirmed(
                "no replaced device in its answer",
            ));
        }
        if resp.patient_id != old.patient_id {
            return Err(SyncError::ReenrolNotConfirmed(
                "it answered for another patient",
            ));
        }
    }
    local.set_identity(&Identity {
        server,
        patient_id: resp.patient_id,
        device_id: resp.device_id,
        server_public_key: resp.server_public_key,
        device_secret: secret,
    })?;
    if let Some(old) = &previous {
        tracing::info!(replaced = %old.device_id, device = %resp.device_id, "enrolled again in place");
    }
    if let Some(p) = &resp.prescription {
        local.apply_prescription(&p.prescription, now)?;
        local.set_prescription_version(p.version)?;
    }
    Ok(resp)
}

/// Records the patient's decision, taken in the app. A withdrawal takes effect at once: the
/// next session only tells the server, once; readings measured until consent is given again
/// never leave the device (`crate::consent`).
pub fn set_consent<L: SyncState>(
    local: &mut L,
    granted: bool,
    notice_version: u32,
    now: DateTime<Utc>,
) -> Result<()> {
    crate::consent::decide(
        local,
        &Consent {
            granted,
            at: now,
            notice_version,
            told_server: false,
            channel: ilot_wire::ConsentChannel::App,
            record: None,
        },
    )
}

/// One session: push everything pending, then pull. A refusal as unknown or revoked device
/// (`unknown_device`) is recorded ([`SyncState::refused_device`]: what allows [`enrol`] in
/// place); a session that goes through clears it.
pub fn sync_once<L: SyncState + Outbox>(
    local: &mut L,
    transport: &dyn Transport,
    limits: Limits,
    rng: &mut impl CryptoRng,
    now: DateTime<Utc>,
) -> Result<Report> {
    let out = session(local, transport, limits, rng, now);
    match &out {
        Err(SyncError::Refused {
            code: ilot_wire::api::ErrorCode::UnknownDevice,
            ..
        }) => {
            if let Some(id) = local.identity()? {
                local.set_refused_device(Some(id.device_id))?;
            }
        }
        Ok(_) if local.refused_device()?.is_some() => local.set_refused_device(None)?,
        _ => {}
    }
    out
}

fn session<L: SyncState + Outbox>(
    local: &mut L,
    transport: &dyn Transport,
    limits: Limits,
    rng: &mut impl CryptoRng,
    now: DateTime<Utc>,
) -> Result<Report> {
    let mut report = match push(local, transport, limits, rng, now) {
        Ok(r) => r,
        // The care team recorded a withdrawal or refusal: the entries stay on the device, and
        // the pull still brings the consent state the server holds, so the app can show why.
        Err(
            e @ SyncError::Refused {
                code: ilot_wire::api::ErrorCode::ConsentWithdrawn,
                ..
            },
        ) => {
            let mut r = Report::default();
            pull(local, transport, limits, rng, now, &mut r)?;
            return Err(e);
        }
        Err(e) => return Err(e),
    };
    // While consent is withdrawn the device still pulls (a pull carries no health data): the
    // care team may record consent given again in consultation, which the device follows.
    pull(local, transport, limits, rng, now, &mut report)?;
    if report.withdrawn && local.consent()?.is_some_and(|c| c.granted) {
        let again = push(local, transport, limits, rng, now)?;
        report.withdrawn = false;
        report.batches += again.batches;
        report.sent += again.sent;
        report.stored += again.stored;
        report.duplicates += again.duplicates;
        report.retired += again.retired;
        report.withheld += again.withheld;
    }
    Ok(report)
}

/// Sends the batch in flight, then the outbox, batch by batch.
pub fn push<L: SyncState + Outbox>(
    local: &mut L,
    transport: &dyn Transport,
    limits: Limits,
    rng: &mut impl CryptoRng,
    now: DateTime<Utc>,
) -> Result<Report> {
    let id = local.identity()?.ok_or(SyncError::NotEnrolled)?;
    let keys = id.keys()?;
    let consent = local.consent()?.ok_or(SyncError::ConsentRequired)?;
    let mut report = Report::default();
    if !consent.granted {
        if consent.told_server {
            report.withdrawn = true;
            return Ok(report);
        }
        // Nothing leaves the device after a withdrawal: a batch still in flight is dropped
        // (its items stay unsent), and only the notice is sent.
        if let Some(f) = local.in_flight()?
            && f.consent != Some(false)
        {
            local.finish_batch(f.seq)?;
        }
    }
    loop {
        if let Some(f) = local.in_flight()? {
            send_in_flight(local, transport, &id, &keys, &f, now, &mut report)?;
            continue;
        }
        let consent = local.consent()?.ok_or(SyncError::ConsentRequired)?;
        if !consent.granted {
            if consent.told_server {
                report.withdrawn = true;
                return Ok(report);
            }
            let f = build_batch(
                local,
                &id,
                &keys,
                Vec::new(),
                Vec::new(),
                Some(consent),
                rng,
                now,
            )?;
            local.begin_batch(&f)?;
            continue;
        }
        let tell = (!consent.told_server).then_some(consent);
        let periods = local.withdrawn_periods()?;
        let pending = local.pending(limits.max_entries.min(ilot_wire::MAX_BATCH_ITEMS))?;
        if pending.is_empty() && tell.is_none() {
            return Ok(report);
        }
        let f = build_bounded(
            local,
            &id,
            &keys,
            pending,
            tell,
            &periods,
            limits,
            rng,
            now,
            &mut report,
        )?;
        local.begin_batch(&f)?;
        tracing::debug!(
            seq = f.seq,
            items = f.outbox_seqs.len(),
            bytes = f.sealed.len(),
            "batch sealed and saved"
        );
    }
}

/// Builds the largest batch of `pending` that fits `limits.max_bytes` sealed and the wire's
/// bound on a batch's plaintext ([`ilot_wire::MAX_BATCH_BODY_LEN`], which `encode` enforces),
/// halving until it does.
#[allow(clippy::too_many_arguments)]
fn build_bounded<L: SyncState + Outbox>(
    local: &mut L,
    id: &Identity,
    keys: &ilot_wire::SessionKeys,
    pending: Vec<ilot_store::OutboxItem>,
    tell: Option<Consent>,
    periods: &[WithdrawnPeriod],
    limits: Limits,
    rng: &mut impl CryptoRng,
    now: DateTime<Utc>,
    report: &mut Report,
) -> Result<InFlight> {
    let mut items = Vec::with_capacity(pending.len());
    let mut seqs = Vec::with_capacity(pending.len());
    // Items retired because they were measured while consent was withdrawn.
    let mut held = Vec::with_capacity(pending.len());
    for it in &pending {
        seqs.push(it.seq);
        let OutboxTarget::Entry(entry_id) = it.target else {
            items.push(None);
            held.push(false);
            continue;
        };
        let stored = local.entry_version(entry_id, it.version)?.ok_or_else(|| {
            SyncError::State(format!(
                "outbox item {} names entry {entry_id} version {} which is missing",
                it.seq, it.version
            ))
        })?;
        let withheld = crate::consent::withheld(periods, stored.entry.at_utc());
        held.push(withheld);
        if withheld {
            items.push(None);
            continue;
        }
        items.push(Some(WireEntry {
            id: entry_id,
            version: stored.version,
            op: match it.op {
                OutboxOp::Insert => WireOp::Insert,
                OutboxOp::Update => WireOp::Update,
                OutboxOp::Delete => WireOp::Delete,
            },
            recorded_at: stored.recorded_at,
            entry: stored.entry,
            reason: stored.reason,
        }));
    }
    let mut n = items.len();
    loop {
        let entries: Vec<WireEntry> = items[..n].iter().flatten().cloned().collect();
        let f = match build_batch(local, id, keys, entries, seqs[..n].to_vec(), tell, rng, now) {
            Err(SyncError::Wire(ilot_wire::WireError::BodyTooLarge { .. })) if n > 1 => {
                n = n.div_ceil(2);
                continue;
            }
            r => r?,
        };
        if f.sealed.len() <= limits.max_bytes || n <= 1 {
            let w = held[..n].iter().filter(|h| **h).count() as u64;
            report.retired += items[..n].iter().filter(|i| i.is_none()).count() as u64 - w;
            report.withheld += w;
            return Ok(f);
        }
        n = n.div_ceil(2);
    }
}

#[allow(clippy::too_many_arguments)]
fn build_batch<L: SyncState>(
    local: &L,
    id: &Identity,
    keys: &ilot_wire::SessionKeys,
    items: Vec<WireEntry>,
    outbox_seqs: Vec<i64>,
    consent: Option<Consent>,
    rng: &mut impl CryptoRng,
    now: DateTime<Utc>,
) -> Result<InFlight> {
    let seq = local.next_batch_seq()?;
    let mut batch = OpenBatch::new(
        BatchHeader::new(id.patient_id, id.device_id, seq, now),
        items,
    );
    batch.consent = consent.map(|c| ConsentChange {
        granted: c.granted,
        at: c.at,
        notice_version: c.notice_version,
    });
    let sealed = seal_encoded(encode(&batch)?, &keys.to_server, rng)?;
    Ok(InFlight {
        seq,
        sealed: sealed.into_bytes(),
        outbox_seqs,
        consent: consent.map(|c| c.granted),
    })
}

fn send_in_flight<L: SyncState + Outbox>(
    local: &mut L,
    transport: &dyn Transport,
    id: &Identity,
    keys: &ilot_wire::SessionKeys,
    f: &InFlight,
    now: DateTime<Utc>,
    report: &mut Report,
) -> Result<()> {
    let sent = SealedBatch::from_bytes(f.sealed.clone())?;
    tracing::debug!(seq = f.seq, "pushing batch");
    let answer = transport.post(
        paths::PUSH,
        ilot_wire::api::SEALED_MEDIA_TYPE,
        f.sealed.clone(),
    )?;
    let ack = open(
        &SealedAck::from_bytes(answer)?,
        &keys.to_device,
        &Expected::new(id.patient_id, id.device_id, SeqRule::Exact(f.seq)),
    )?;
    ack.confirms(&sent)?;
    tracing::debug!(seq = f.seq, "batch acknowledged");
    Outbox::mark_sent(local, &f.outbox_seqs, now)?;
    tracing::debug!(seq = f.seq, "batch items marked sent");
    if let Some(granted) = f.consent {
        if let Some(mut c) = local.consent()?
            && c.granted == granted
        {
            c.told_server = true;
            local.set_consent(&c)?;
        }
        report.consent_told = Some(granted);
    }
    local.finish_batch(f.seq)?;
    tracing::debug!(seq = f.seq, "batch done");
    report.batches += 1;
    report.sent += u64::from(ack.ack.stored) + u64::from(ack.ack.duplicates);
    report.stored += u64::from(ack.ack.stored);
    report.duplicates += u64::from(ack.ack.duplicates);
    Ok(())
}

/// Pulls what the care team changed since the cursor and applies it through the store.
pub fn pull<L: SyncState + Outbox>(
    local: &mut L,
    transport: &dyn Transport,
    limits: Limits,
    rng: &mut impl CryptoRng,
    now: DateTime<Utc>,
    report: &mut Report,
) -> Result<()> {
    let id = local.identity()?.ok_or(SyncError::NotEnrolled)?;
    let keys = id.keys()?;
    // A withdrawn consent still pulls (see `sync_once`); no decision at all: nothing.
    local.consent()?.ok_or(SyncError::ConsentRequired)?;
    tracing::debug!("pulling");
    loop {
        let cursor = local.pull_cursor()?;
        let request = PullRequest {
            request_id: rng.next_u64(),
            limit: limits.pull_limit,
            rights: Some(local.rights_cursor()?),
        };
        let req = OpenPullRequest {
            header: BatchHeader::new(id.patient_id, id.device_id, cursor, now),
            request,
        };
        let sealed = seal(&req, &keys.to_server, rng)?;
        let answer = transport.post(
            paths::PULL,
            ilot_wire::api::SEALED_MEDIA_TYPE,
            sealed.into_bytes(),
        )?;
        let got = open(
            &SealedPull::from_bytes(answer)?,
            &keys.to_device,
            &Expected::new(id.patient_id, id.device_id, SeqRule::AtLeast(cursor)),
        )?;
        got.answers(&request)?;
        // Applying is idempotent (versions and ids), so a crash before the cursor is saved
        // only makes the next pull apply the same changes again.
        if let Some(p) = &got.pull.prescription
            && p.version > local.prescription_version()?
        {
            local.apply_prescription(&p.prescription, now)?;
            local.set_prescription_version(p.version)?;
            report.prescription_version = Some(p.version);
        }
        local.save_messages(&got.pull.messages)?;
        local.save_appointments(&got.pull.appointments)?;
        local.save_alert_acks(&got.pull.alert_acks)?;
        report.messages += got.pull.messages.len();
        report.appointments += got.pull.appointments.len();
        report.alert_acks += got.pull.alert_acks.len();
        if let Some(r) = &got.pull.rights {
            local.save_rights(r)?;
            report.access_log += r.access_log.len();
        }
        local.set_pull_cursor(got.cursor())?;
        if !got.pull.more {
            if let Some(d) = crate::consent::follow_team(local)? {
                report.consent_followed = Some(d);
            }
            return Ok(());
        }
    }
}
