//! A real server on a loopback port with a clock the test moves, operators with their TOTP
//! secret in care teams, and logins that compute the code from the secret as an app would.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use ilot_domain::{DiabetesType, Monitoring, Prescription};
use ilot_server::totp::TotpSecret;
use ilot_server::{AppState, Config};
use ilot_wire::CareRole;
use serde_json::{Value, json};

pub const PASSWORD: &str = "a long enough password";

/// The server key of every test database in this binary (several nodes and reopened files
/// must share one).
pub fn key() -> ilot_server::atrest::ServerKey {
    ilot_server::atrest::ServerKey::from_bytes(&zeroize::Zeroizing::new([7; 32]))
}

pub fn t0() -> DateTime<Utc> {
    "2026-03-02T08:00:00Z".parse().unwrap()
}

pub struct Srv {
    pub url: String,
    pub state: AppState,
    pub clock: Arc<AtomicI64>,
    pub secrets: HashMap<String, TotpSecret>,
    _rt: tokio::runtime::Runtime,
}

/// A server with physician `dr` and nurse `ide` in team "A".
pub fn start() -> Srv {
    start_with(&[
        ("dr", CareRole::Physician, "A"),
        ("ide", CareRole::Nurse, "A"),
    ])
}

/// A server with these operators (user name, role, team), each with a TOTP secret.
pub fn start_with(operators: &[(&str, CareRole, &str)]) -> Srv {
    start_with_on("sqlite::memory:", operators)
}

/// [`start`] on the database `db`.
pub fn start_on(db: &str) -> Srv {
    start_with_on(
        db,
        &[
            ("dr", CareRole::Physician, "A"),
            ("ide", CareRole::Nurse, "A"),
        ],
    )
}

/// [`start_with`] on the database `db`.
pub fn start_with_on(db: &str, operators: &[(&str, CareRole, &str)]) -> Srv {
    start_configured(db, operators, |_| {})
}

/// [`start_with_on`] with the server's configuration changed by `configure` first.
pub fn start_configured(
    db: &str,
    operators: &[(&str, CareRole, &str)],
    configure: impl FnOnce(&mut Config),
) -> Srv {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let clock = Arc::new(AtomicI64::new(t0().timestamp_millis()));
    let c = clock.clone();
    let mut config = Config::new(url.clone());
    config.clock =
        Arc::new(move || DateTime::from_timestamp_millis(c.load(Ordering::SeqCst)).unwrap());
    configure(&mut config);
    let state = AppState::new(ilot_server::storage::open(db, &key()).unwrap(), config).unwrap();
    rt.spawn(ilot_server::serve(state.clone(), listener));
    let mut secrets = HashMap::new();
    let h = ilot_server::auth::hash_password(PASSWORD).unwrap();
    for &(user, role, team) in operators {
        let s = state.storage();
        let team = match s.team_by_name(team).unwrap() {
            Some(t) => t,
            None => s.create_team(team, t0()).unwrap(),
        };
        let id = s.create_operator(user, user, role, &h, t0()).unwrap();
        s.set_operator_team(id, team).unwrap();
        let secret = TotpSecret::generate();
        s.set_totp_secret(id, &secret).unwrap();
        secrets.insert(user.to_string(), secret);
    }
    Srv {
        url,
        state,
        clock,
        secrets,
        _rt: rt,
    }
}

impl Srv {
    pub fn now(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(self.clock.load(Ordering::SeqCst)).unwrap()
    }

    pub fn advance(&self, by: TimeDelta) {
        self.clock
            .fetch_add(by.num_milliseconds(), Ordering::SeqCst);
    }

    /// The code `user`'s authenticator app shows at the server's current time.
    pub fn code(&self, user: &str) -> String {
        self.secrets[user]
            .code_at(self.now().timestamp() as u64)
            .to_string()
    }

    pub fn login_raw(&self, user: &str, password: &str, totp: &str) -> reqwest::blocking::Response {
        login_at(&self.url, None, user, password, totp)
    }

    /// [`Srv::login_raw`] with an `X-Forwarded-For` header, as a proxy in front would send it.
    pub fn login_from(
        &self,
        forwarded_for: &str,
        user: &str,
        password: &str,
        totp: &str,
    ) -> reqwest::blocking::Response {
        login_at(&self.url, Some(forwarded_for), user, password, totp)
    }
}

/// A login request to the server at `url`, with `X-Forwarded-For` when given.
pub fn login_at(
    url: &str,
    forwarded_for: Option<&str>,
    user: &str,
    password: &str,
    totp: &str,
) -> reqwest::blocking::Response {
    let mut r = reqwest::blocking::Client::new()
        .post(format!("{url}/v1/operator/login"))
        .json(&json!({"username": user, "password": password, "totp": totp}));
    if let Some(f) = forwarded_for {
        r = r.header("x-forwarded-for", f);
    }
    r.send().unwrap()
}

/// Logs `user` in with the current code and returns the session token (a second login of the
/// same operator needs the clock moved to the next step: a code is accepted once).
pub fn login(s: &Srv, user: &str) -> String {
    let r = s.login_raw(user, PASSWORD, &s.code(user));
    assert_eq!(r.status(), 200, "login of {user}");
    let r: Value = r.json().unwrap();
    r["token"].as_str().unwrap().to_string()
}

/// Creates a patient of `token`'s team through `POST /v1/operator/patients` with
/// [`prescription`]: its id and the enrolment code as the server gave it.
pub fn create_patient(s: &Srv, token: &str, pseudonym: &str) -> (ilot_wire::PatientId, String) {
    let r = reqwest::blocking::Client::new()
        .post(format!("{}/v1/operator/patients", s.url))
        .bearer_auth(token)
        .json(&json!({"pseudonym": pseudonym, "prescription": prescription()}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200, "creating {pseudonym}");
    let r: Value = r.json().unwrap();
    (
        r["patient_id"].as_str().unwrap().parse().unwrap(),
        r["code"].as_str().unwrap().to_string(),
    )
}

pub fn prescription() -> Prescription {
    Prescription::new(
        DiabetesType::Type1,
        Monitoring::Cgm,
        4,
        NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
    )
}

/// A type 1 patient on CGM, numbered `n`, created at `at` (storage conformance tests).
pub fn patient_at(
    s: &dyn ilot_server::storage::Storage,
    n: u8,
    at: DateTime<Utc>,
) -> ilot_wire::PatientId {
    let id = ilot_wire::PatientId::from_bytes([n; 16]);
    s.create_patient(
        &ilot_server::storage::NewPatient {
            pseudonym: format!("P{n}"),
            ins: None,
            tz: chrono_tz::Europe::Paris,
            prescription: Prescription::new(
                DiabetesType::Type1,
                Monitoring::Cgm,
                4,
                NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
            ),
        },
        id,
        &ilot_wire::CareTeamMember {
            name: "Dr".into(),
            role: CareRole::Physician,
        },
        at,
    )
    .unwrap();
    id
}
