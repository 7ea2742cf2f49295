//! `ilot operator …`: the care team's administration on the server database directly (care
//! teams, operators with their TOTP secret, patients with their enrolment code, open alerts,
//! messages). The same operations on patients exist over HTTP for the console.
//!
//! A TOTP secret is printed once, on the terminal that created it, and nowhere else.

use std::io::BufRead;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use chrono::NaiveDate;
use ilot_domain::{DiabetesType, Monitoring, Prescription};
use ilot_server::audit::cli_client;
use ilot_server::operator::{CreatePatient, create_patient_in_team};
use ilot_server::storage::{AuditEvent, Storage};
use ilot_server::totp::TotpSecret;
use ilot_wire::{CareRole, PatientId};

use crate::server;

#[derive(Debug, clap::Subcommand)]
pub enum OperatorCmd {
    /// Create a care team (operators see only their team's patients)
    CreateTeam {
        #[arg(long)]
        name: String,
    },
    /// Create a care-team member who can log in (password read from ILOT_PASSWORD or stdin);
    /// prints once the TOTP secret to add to an authenticator app
    CreateOperator {
        #[arg(long)]
        username: String,
        #[arg(long)]
        name: String,
        /// physician or nurse
        #[arg(long, default_value = "physician")]
        role: String,
        /// The care team (default: "default", created when missing)
        #[arg(long)]
        team: Option<String>,
    },
    /// Give an operator a new TOTP secret (lost phone); prints it once and ends every session
    /// of the operator
    ResetTotp {
        #[arg(long)]
        username: String,
    },
    /// Give an operator a new password (read from ILOT_PASSWORD or stdin); ends every session
    /// of the operator
    ResetPassword {
        #[arg(long)]
        username: String,
    },
    /// Stop an operator from logging in (left the team, lost credentials); ends its sessions
    Disable {
        #[arg(long)]
        username: String,
    },
    /// Let a disabled operator log in again
    Enable {
        #[arg(long)]
        username: String,
    },
    /// Link the operator's RPPS number (11 digits), once, so that it can log in with Pro Santé
    /// Connect; an RPPS already linked, or an operator that has one, is refused
    LinkRpps {
        #[arg(long)]
        username: String,
        #[arg(long)]
        rpps: String,
    },
    /// Remove the operator's RPPS link (a number linked to the wrong account, a card given
    /// back) and end its sessions; the RPPS can then be linked again
    UnlinkRpps {
        #[arg(long)]
        username: String,
    },
    /// Create a patient with a prescription; prints the one-time enrolment code and link
    CreatePatient {
        #[arg(long)]
        pseudonym: String,
        #[arg(long)]
        ins: Option<String>,
        /// type1, type2-insulin, gestational-insulin, gestational-no-insulin
        #[arg(long, default_value = "type1")]
        diabetes: DiabetesType,
        /// capillary, flash, cgm
        #[arg(long, default_value = "cgm")]
        monitoring: Monitoring,
        #[arg(long, default_value_t = 4)]
        injections: u8,
        /// First day of telesurveillance (YYYY-MM-DD; default today)
        #[arg(long)]
        start: Option<NaiveDate>,
        /// The prescribing physician (an operator user name)
        #[arg(long)]
        by: String,
        /// The patient's care team (default: the prescribing physician's)
        #[arg(long)]
        team: Option<String>,
        /// Server address put in the link (default http://127.0.0.1:8480)
        #[arg(long, default_value = "http://127.0.0.1:8480")]
        public_url: String,
        #[arg(long)]
        json: bool,
    },
    /// Open alerts, worst first
    Alerts {
        #[arg(long)]
        patient: Option<PatientId>,
        #[arg(long)]
        json: bool,
    },
    /// The audit log, newest first (this read is audited too)
    Audit {
        #[arg(long, default_value_t = 100)]
        limit: u32,
        #[arg(long)]
        json: bool,
    },
    /// Send a message to a patient's device (delivered at its next sync)
    Message {
        #[arg(long)]
        patient: PatientId,
        #[arg(long)]
        text: String,
        #[arg(long)]
        by: String,
    },
}

/// The team named `name`, or "default" (created when missing) so that the demo stays one
/// command. A named team must exist: a typo must not create a team nobody else is in.
fn team(s: &dyn Storage, name: Option<&str>, now: chrono::DateTime<chrono::Utc>) -> Result<i64> {
    match name {
        Some(n) => s.team_by_name(n)?.with_context(|| {
            format!(
                "no care team named {n:?}; create it with ilot operator create-team --name {n:?}"
            )
        }),
        None => match s.team_by_name("default")? {
            Some(t) => Ok(t),
            None => Ok(s.create_team("default", now)?),
        },
    }
}

/// Shows a fresh secret, once, for the operator to add to an authenticator app.
fn show_totp(secret: &TotpSecret, username: &str) {
    println!(
        "add this key to an authenticator app now (it is shown only once):
  {}
  or type the secret: {}",
        secret.uri(username).as_str(),
        secret.base32().as_str()
    );
}

/// Sets a fresh secret on a new operator and shows it once.
fn new_totp(s: &dyn Storage, op_id: i64, username: &str) -> Result<()> {
    let secret = TotpSecret::generate();
    s.set_totp_secret(op_id, &secret)?;
    show_totp(&secret, username);
    Ok(())
}

/// The password from ILOT_PASSWORD, else the first line of stdin.
fn read_password() -> Result<String> {
    Ok(match std::env::var("ILOT_PASSWORD") {
        Ok(p) => p,
        Err(_) => {
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            line.trim_end_matches(['\r', '\n']).to_string()
        }
    })
}

/// Records an administration command on an operator account, with the CLI as the client.
fn audit_admin(
    s: &dyn Storage,
    action: &str,
    username: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<()> {
    // Disabled operators included: the id says which account, even after a rename.
    let id = s.operator_state(username)?.map(|o| o.id);
    s.record_audit(
        &AuditEvent::new(action, now)
            .from(cli_client())
            .detail(serde_json::json!({ "username": username, "operator_id": id })),
    )?;
    Ok(())
}

fn role(s: &str) -> Result<CareRole> {
    match s {
        "physician" => Ok(CareRole::Physician),
        "nurse" => Ok(CareRole::Nurse),
        o => bail!("unknown role {o:?}: physician or nurse"),
    }
}

pub fn run(db: Option<PathBuf>, keystore: ilot_store::KeyMode, cmd: OperatorCmd) -> Result<()> {
    let url = server::db_url(db)?;
    let public = match &cmd {
        OperatorCmd::CreatePatient { public_url, .. } => public_url.clone(),
        _ => "http://127.0.0.1:8480".into(),
    };
    let state = server::state(&url, &public, keystore)?;
    let s = state.storage();
    let now = chrono::Utc::now();
    let by = |name: &str| -> Result<ilot_server::storage::Operator> {
        s.operator_by_username(name)?.with_context(|| {
            format!(
                "no operator named {name:?} (or it is disabled); create one with ilot operator create-operator"
            )
        })
    };
    match cmd {
        OperatorCmd::CreateTeam { name } => {
            let id = s.create_team(&name, now)?;
            s.record_audit(
                &AuditEvent::new("create-team", now)
                    .from(cli_client())
                    .detail(serde_json::json!({ "team": name, "team_id": id })),
            )?;
            println!("care team {name} created (id {id})");
        }
        OperatorCmd::ResetTotp { username } => {
            let secret = ilot_server::admin::reset_totp(s, &username)?;
            show_totp(&secret, &username);
            audit_admin(s, "reset-totp", &username, now)?;
            println!("every session of {username} was ended");
        }
        OperatorCmd::ResetPassword { username } => {
            ilot_server::admin::reset_password(s, &username, &read_password()?)?;
            audit_admin(s, "reset-password", &username, now)?;
            println!("password of {username} changed; every session of {username} was ended");
        }
        OperatorCmd::Disable { username } => {
            let changed = ilot_server::admin::disable(s, &username, now)?;
            audit_admin(s, "disable-operator", &username, now)?;
            if changed {
                println!("{username} is disabled and every session of {username} was ended");
            } else {
                println!("{username} was already disabled");
            }
        }
        OperatorCmd::LinkRpps { username, rpps } => {
            let rpps = ilot_server::admin::link_rpps(s, &username, &rpps, now)?;
            let id = s.operator_state(&username)?.map(|o| o.id);
            s.record_audit(
                &AuditEvent::new("link-rpps", now)
                    .from(cli_client())
                    .detail(serde_json::json!({
                        "username": username, "operator_id": id, "rpps": rpps
                    })),
            )?;
            println!("RPPS {rpps} linked to {username}: it can log in with Pro Santé Connect");
        }
        OperatorCmd::UnlinkRpps { username } => {
            let removed = ilot_server::admin::unlink_rpps(s, &username)?;
            let id = s.operator_state(&username)?.map(|o| o.id);
            s.record_audit(
                &AuditEvent::new("unlink-rpps", now)
                    .from(cli_client())
                    .detail(serde_json::json!({
                        "username": username, "operator_id": id, "rpps": removed
                    })),
            )?;
            match removed {
                Some(rpps) => println!(
                    "RPPS {rpps} unlinked from {username}: Pro Santé Connect no longer logs in \
                     to this account, and every session of {username} was ended"
                ),
                None => {
                    println!("{username} had no RPPS linked; every session of {username} was ended")
                }
            }
        }
        OperatorCmd::Enable { username } => {
            let changed = ilot_server::admin::enable(s, &username)?;
            audit_admin(s, "enable-operator", &username, now)?;
            if changed {
                println!("{username} can log in again");
            } else {
                println!("{username} was not disabled");
            }
        }
        OperatorCmd::CreateOperator {
            username,
            name,
            role: r,
            team: team_name,
        } => {
            let password = read_password()?;
            ilot_server::auth::check_username(&username)?;
            let hash = ilot_server::auth::hash_password(&password)?;
            let team_id = team(s, team_name.as_deref(), now)?;
            let id = s.create_operator(&username, &name, role(&r)?, &hash, now)?;
            s.set_operator_team(id, team_id)?;
            s.record_audit(
                &AuditEvent::new("create-operator", now)
                    .from(cli_client())
                    .detail(serde_json::json!({
                        "username": username, "operator_id": id, "role": r, "team_id": team_id
                    })),
            )?;
            println!(
                "operator {username} created (id {id}, team {})",
                team_name.as_deref().unwrap_or("default")
            );
            new_totp(s, id, &username)?;
        }
        OperatorCmd::CreatePatient {
            pseudonym,
            ins,
            diabetes,
            monitoring,
            injections,
            start,
            by: who,
            team: team_name,
            json,
            ..
        } => {
            let start =
                start.unwrap_or_else(|| now.with_timezone(&chrono_tz::Europe::Paris).date_naive());
            let prescription = Prescription::new(diabetes, monitoring, injections, start);
            let op = by(&who)?;
            let team_id = match team_name {
                Some(n) => team(s, Some(&n), now)?,
                None => s
                    .operator_team(op.id)?
                    .with_context(|| format!("{who} belongs to no care team: give --team"))?,
            };
            let e = create_patient_in_team(
                &state,
                CreatePatient {
                    pseudonym,
                    ins,
                    tz: None,
                    prescription,
                },
                &op,
                team_id,
                &cli_client(),
            )?;
            if json {
                println!("{}", serde_json::to_string_pretty(&e)?);
            } else {
                println!(
                    "patient {}\nenrolment code {} (expires {})\nlink {}",
                    e.patient_id, e.code, e.expires_at, e.link
                );
            }
        }
        OperatorCmd::Alerts { patient, json } => {
            let alerts = s.alerts(patient, true)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&alerts)?);
            } else if alerts.is_empty() {
                println!("no open alert");
            } else {
                for a in alerts {
                    println!(
                        "{:>4}  {:<8} {:<16} {}  patient {}",
                        a.id,
                        a.severity,
                        a.kind,
                        a.started_at.format("%Y-%m-%d %H:%M"),
                        a.patient_id
                    );
                }
            }
        }
        OperatorCmd::Audit { limit, json } => {
            let log = s.audit_log(limit)?;
            s.record_audit(&AuditEvent::new("read-audit-log", now).from(cli_client()))?;
            if json {
                println!("{}", serde_json::to_string_pretty(&log)?);
            }
            for r in log.iter().filter(|_| !json) {
                println!(
                    "{}  {:<20} operator {:<6} patient {:<32} from {}  {}",
                    r.at.format("%Y-%m-%d %H:%M:%S"),
                    r.action,
                    r.operator_id.map_or("-".into(), |o| o.to_string()),
                    r.patient_id.map_or("-".into(), |p| p.to_string()),
                    r.client.as_deref().unwrap_or("-"),
                    r.detail.as_ref().map_or(String::new(), |d| d.to_string()),
                );
            }
        }
        OperatorCmd::Message {
            patient,
            text,
            by: who,
        } => {
            let op = by(&who)?;
            // Like the HTTP API: another team's patient is "no such patient".
            if s.patient_team(patient)?.is_none()
                || s.patient_team(patient)? != s.operator_team(op.id)?
            {
                bail!("no such patient");
            }
            s.patient(patient)?.context("no such patient")?;
            let m = s.add_message(patient, &op.member(), &text, now)?;
            s.record_audit(
                &AuditEvent::new("send-message", now)
                    .by(op.id)
                    .patient(patient)
                    .from(cli_client()),
            )?;
            println!("message {} queued for the patient's next sync", m.id);
        }
    }
    Ok(())
}
