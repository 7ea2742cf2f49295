//! `ilot operator …`: the care team's administration on the server database directly (first
//! operator, patients with their enrolment code, open alerts, messages). The same operations
//! exist over HTTP for the console.

use std::io::BufRead;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use chrono::NaiveDate;
use ilot_domain::{DiabetesType, Monitoring, Prescription};
use ilot_server::operator::{CreatePatient, create_patient_with_code};
use ilot_wire::{CareRole, PatientId};

use crate::server;

#[derive(Debug, clap::Subcommand)]
pub enum OperatorCmd {
    /// Create a care-team member who can log in (password read from ILOT_PASSWORD or stdin)
    CreateOperator {
        #[arg(long)]
        username: String,
        #[arg(long)]
        name: String,
        /// physician or nurse
        #[arg(long, default_value = "physician")]
        role: String,
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

fn role(s: &str) -> Result<CareRole> {
    match s {
        "physician" => Ok(CareRole::Physician),
        "nurse" => Ok(CareRole::Nurse),
        o => bail!("unknown role {o:?}: physician or nurse"),
    }
}

pub fn run(db: Option<PathBuf>, cmd: OperatorCmd) -> Result<()> {
    let url = server::db_url(db)?;
    let public = match &cmd {
        OperatorCmd::CreatePatient { public_url, .. } => public_url.clone(),
        _ => "http://127.0.0.1:8480".into(),
    };
    let state = server::state(&url, &public)?;
    let s = state.storage();
    let now = chrono::Utc::now();
    let by = |name: &str| -> Result<ilot_server::storage::Operator> {
        s.operator_by_username(name)?.with_context(|| {
            format!("no operator named {name:?}; create one with ilot operator create-operator")
        })
    };
    match cmd {
        OperatorCmd::CreateOperator {
            username,
            name,
            role: r,
        } => {
            let password = match std::env::var("ILOT_PASSWORD") {
                Ok(p) => p,
                Err(_) => {
                    let mut line = String::new();
                    std::io::stdin().lock().read_line(&mut line)?;
                    line.trim_end_matches(['\r', '\n']).to_string()
                }
            };
            let hash = ilot_server::auth::hash_password(&password)?;
            let id = s.create_operator(&username, &name, role(&r)?, &hash, now)?;
            println!("operator {username} created (id {id})");
        }
        OperatorCmd::CreatePatient {
            pseudonym,
            ins,
            diabetes,
            monitoring,
            injections,
            start,
            by: who,
            json,
            ..
        } => {
            let start =
                start.unwrap_or_else(|| now.with_timezone(&chrono_tz::Europe::Paris).date_naive());
            let prescription = Prescription::new(diabetes, monitoring, injections, start);
            let op = by(&who)?;
            let e = create_patient_with_code(
                &state,
                CreatePatient {
                    pseudonym,
                    ins,
                    tz: None,
                    prescription,
                },
                &op,
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
        OperatorCmd::Message {
            patient,
            text,
            by: who,
        } => {
            let op = by(&who)?;
            s.patient(patient)?.context("no such patient")?;
            let m = s.add_message(patient, &op.member(), &text, now)?;
            s.audit(op.id, "send-message", Some(patient), now)?;
            println!("message {} queued for the patient's next sync", m.id);
        }
    }
    Ok(())
}
