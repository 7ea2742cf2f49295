//! A real server on a loopback port (its own thread and runtime), and helpers to make patients,
//! devices and entries.

use std::net::{SocketAddr, TcpListener as StdListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, FixedOffset, NaiveDate, TimeDelta, Utc};
use ilot_domain::{
    DiabetesType, Entry, EntryKind, Glucose, GlucoseReading, Monitoring, Prescription, Source,
    SourceKind,
};
use ilot_server::operator::{CreatePatient, Enrolment, create_patient_with_code};
use ilot_server::storage::Operator;
use ilot_server::{AppState, Config};
use ilot_store::Store;
use ilot_sync::{HttpTransport, Local, MemoryState, Transport};
use ilot_wire::{CareRole, ServerUrl};

pub fn t0() -> DateTime<Utc> {
    "2026-03-02T08:00:00Z".parse().unwrap()
}

/// A server whose clock the test moves.
pub struct TestServer {
    pub state: AppState,
    pub addr: SocketAddr,
    pub clock: Arc<AtomicI64>,
    /// Serving HTTPS (with the development certificate).
    pub tls: bool,
    runtime: Option<tokio::runtime::Runtime>,
}

impl TestServer {
    /// A free port with nothing listening yet (the server "down").
    pub fn reserve() -> SocketAddr {
        StdListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
    }

    pub fn url_of(addr: SocketAddr) -> String {
        format!("http://{addr}")
    }

    pub fn start() -> Self {
        Self::start_at(Self::reserve(), |_| {})
    }

    pub fn start_at(addr: SocketAddr, tune: impl FnOnce(&mut Config)) -> Self {
        Self::start_with(addr, tune, None)
    }

    /// HTTPS on loopback with a development certificate made in `dir`.
    pub fn start_tls(dir: &std::path::Path) -> (Self, ilot_server::tls::DevCert) {
        let dev = ilot_server::tls::dev_certificate(dir).unwrap();
        let config = ilot_server::tls::server_config(&dev.cert, &dev.key).unwrap();
        (Self::start_with(Self::reserve(), |_| {}, Some(config)), dev)
    }

    fn start_with(
        addr: SocketAddr,
        tune: impl FnOnce(&mut Config),
        tls: Option<Arc<rustls::ServerConfig>>,
    ) -> Self {
        let scheme = if tls.is_some() { "https" } else { "http" };
        let clock = Arc::new(AtomicI64::new(t0().timestamp_millis()));
        let c = clock.clone();
        let mut config = Config::new(format!("{scheme}://{addr}"));
        config.clock =
            Arc::new(move || DateTime::from_timestamp_millis(c.load(Ordering::SeqCst)).unwrap());
        tune(&mut config);
        let storage = ilot_server::storage::open(
            "sqlite::memory:",
            &ilot_server::atrest::ServerKey::generate(),
        )
        .unwrap();
        let state = AppState::new(storage, config).unwrap();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind(addr))
            .unwrap();
        let is_tls = tls.is_some();
        match tls {
            Some(c) => {
                let std = listener.into_std().unwrap();
                runtime.spawn(ilot_server::serve_tls(state.clone(), std, c));
            }
            None => {
                runtime.spawn(ilot_server::serve(state.clone(), listener));
            }
        }
        Self {
            state,
            addr,
            clock,
            tls: is_tls,
            runtime: Some(runtime),
        }
    }

    pub fn url(&self) -> String {
        if self.tls {
            format!("https://{}", self.addr)
        } else {
            Self::url_of(self.addr)
        }
    }

    pub fn advance(&self, by: TimeDelta) {
        self.clock
            .fetch_add(by.num_milliseconds(), Ordering::SeqCst);
    }

    pub fn physician(&self) -> Operator {
        let s = self.state.storage();
        if let Some(o) = s.operator_by_username("dr").unwrap() {
            return o;
        }
        let hash = ilot_server::auth::hash_password("a long enough password").unwrap();
        let id = s
            .create_operator("dr", "Dr Martin", CareRole::Physician, &hash, t0())
            .unwrap();
        let team = s.create_team("team A", t0()).unwrap();
        s.set_operator_team(id, team).unwrap();
        s.set_totp_secret(id, &physician_secret()).unwrap();
        s.operator_by_username("dr").unwrap().unwrap()
    }

    /// The code the physician's authenticator app shows at the server's time.
    pub fn physician_code(&self) -> String {
        let now = DateTime::from_timestamp_millis(self.clock.load(Ordering::SeqCst)).unwrap();
        physician_secret()
            .code_at(now.timestamp() as u64)
            .to_string()
    }

    pub fn new_patient(&self, pseudonym: &str) -> Enrolment {
        self.new_patient_with(
            pseudonym,
            Prescription::new(
                DiabetesType::Type1,
                Monitoring::Cgm,
                4,
                NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
            ),
        )
    }

    pub fn new_patient_with(&self, pseudonym: &str, p: Prescription) -> Enrolment {
        let op = self.physician();
        create_patient_with_code(
            &self.state,
            CreatePatient {
                pseudonym: pseudonym.into(),
                ins: None,
                tz: None,
                prescription: p,
            },
            &op,
        )
        .unwrap()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

/// The physician's TOTP secret (the RFC 6238 test secret: tests only).
pub fn physician_secret() -> ilot_server::totp::TotpSecret {
    ilot_server::totp::TotpSecret::from_bytes(b"12345678901234567890".to_vec())
}

pub fn transport(url: &str) -> HttpTransport {
    HttpTransport::with_timeout(
        ServerUrl::parse(url).unwrap(),
        std::time::Duration::from_secs(20),
    )
    .unwrap()
}

pub type Device = Local<MemoryState>;

pub fn device() -> Device {
    Local {
        store: Store::open_in_memory().unwrap(),
        state: MemoryState::default(),
    }
}

/// Enrols a fresh device with the code and grants consent.
pub fn enrolled(server: &TestServer, code: &str) -> Device {
    let mut d = device();
    let url = server.url();
    ilot_sync::enrol(
        &mut d,
        code,
        Some(&url),
        |s| Ok(Box::new(transport(s.as_str())) as Box<dyn Transport>),
        Some("test".into()),
        &mut rand::rng(),
        t0(),
    )
    .unwrap();
    ilot_sync::set_consent(&mut d, true, 1, t0()).unwrap();
    // As the app does right after enrolment: tell the server about consent and retire the
    // prescription the enrolment applied (an outbox item, never sent).
    let r = ilot_sync::sync_once(
        &mut d,
        &transport(&url),
        ilot_sync::Limits::default(),
        &mut rand::rng(),
        t0(),
    )
    .unwrap();
    assert_eq!((r.retired, r.consent_told), (1, Some(true)));
    assert_eq!(d.store.outbox_len().unwrap(), 0);
    d
}

/// `n` CGM readings every 5 minutes ending before `t0`, values cycling 90–170 mg/dL.
pub fn cgm_entries(n: usize, first_record: u32) -> Vec<Entry> {
    let start = t0() - TimeDelta::minutes(5 * n as i64);
    let tz = FixedOffset::east_opt(3600).unwrap();
    (0..n)
        .map(|i| {
            let at = (start + TimeDelta::minutes(5 * i as i64)).with_timezone(&tz);
            let v = 90.0 + (i % 81) as f64;
            let src = Source::device(
                SourceKind::Cgm,
                ilot_domain::DeviceId::new("sim-cgm-1").unwrap(),
                first_record + i as u32,
            );
            Entry::new(
                at,
                src,
                EntryKind::Glucose(GlucoseReading::cgm(Glucose::from_mg_dl(v).unwrap())),
                t0(),
            )
            .unwrap()
        })
        .collect()
}
