//! The HTTP surface: shared state, the router and `serve`. Nodes keep no state of their own
//! (sessions, keys, batch numbers and failed-attempt counters are in the storage), so several
//! can run behind a load balancer.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::middleware::from_fn_with_state;
use chrono::{DateTime, Utc};
use ilot_wire::ServerSecret;
use tokio::net::TcpListener;

use crate::auth::PasswordGate;
use crate::error::{Result, ServerError};
use crate::ratelimit::Limit;
use crate::storage::Storage;

/// Where the time comes from; tests move it to check expiry without waiting 72 hours.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// What an operator of the server may tune.
#[derive(Clone)]
pub struct Config {
    /// The address devices use, put in enrolment links (`https://…`, or `http://` on loopback).
    pub public_url: String,
    pub code_ttl: chrono::TimeDelta,
    /// Enrolment attempts per client network (an IPv4 address, an IPv6 /64).
    pub enrol_per_ip: Limit,
    /// Failed enrolment attempts per code prefix (first three symbols).
    pub enrol_per_prefix: Limit,
    /// Failed logins per client network (an IPv4 address, an IPv6 /64).
    pub login_per_ip: Limit,
    /// Failed logins per user name (guessing one operator's password or code from many addresses).
    pub login_per_user: Limit,
    /// Proxies (addresses or networks) whose `X-Forwarded-For` names the client; any other
    /// peer's header is ignored (`ilot server --trusted-proxy`).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Argon2 verifications running at once on this node.
    pub password_slots: usize,
    /// How long a login waits for a free Argon2 slot before it is answered 503.
    pub password_wait: Duration,
    /// The absolute limit of an operator's session.
    pub session_ttl: chrono::TimeDelta,
    /// A session unused this long ends (checked on each request).
    pub session_idle: chrono::TimeDelta,
    /// How often the scheduler looks for patients whose data stopped.
    pub no_data_every: Duration,
    /// How often the scheduler applies the retention limits (`crate::retention`).
    pub retention_every: Duration,
    /// Body sizes, timeouts and the connection cap (`transport.rs`).
    pub limits: crate::transport::Limits,
    /// The INSi teleservice (`identity::insi`); none by default.
    pub insi: crate::identity::insi::Connector,
    /// Pro Santé Connect (`psc.rs`); `None`: off, only password + TOTP.
    pub psc: Option<crate::psc::PscConfig>,
    pub clock: Clock,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("public_url", &self.public_url)
            .field("code_ttl", &self.code_ttl)
            .field("psc", &self.psc)
            .finish_non_exhaustive()
    }
}

impl Config {
    pub fn new(public_url: impl Into<String>) -> Self {
        Self {
            public_url: public_url.into(),
            code_ttl: chrono::TimeDelta::hours(72),
            enrol_per_ip: Limit {
                attempts: 10,
                window: Duration::from_secs(600),
            },
            enrol_per_prefix: Limit {
                attempts: 5,
                window: Duration::from_secs(600),
            },
            login_per_ip: Limit {
                attempts: 20,
                window: Duration::from_secs(600),
            },
            login_per_user: Limit {
                attempts: 10,
                window: Duration::from_secs(600),
            },
            trusted_proxies: Vec::new(),
            password_slots: std::thread::available_parallelism().map_or(2, |n| n.get()),
            password_wait: Duration::from_secs(5),
            session_ttl: chrono::TimeDelta::hours(12),
            session_idle: chrono::TimeDelta::minutes(30),
            no_data_every: Duration::from_secs(300),
            retention_every: Duration::from_secs(6 * 3600),
            limits: crate::transport::Limits::default(),
            insi: crate::identity::insi::Connector::unconfigured(),
            psc: None,
            clock: Arc::new(Utc::now),
        }
    }
}

pub(crate) struct Inner {
    pub storage: Box<dyn Storage>,
    pub secret: ServerSecret,
    pub passwords: PasswordGate,
    pub psc: Option<crate::psc::Psc>,
    pub config: Config,
}

/// Everything a handler needs; cheap to clone.
#[derive(Clone)]
pub struct AppState(pub(crate) Arc<Inner>);

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("config", &self.0.config)
            .finish_non_exhaustive()
    }
}

impl AppState {
    pub fn new(storage: Box<dyn Storage>, config: Config) -> Result<Self> {
        let secret = storage.server_secret(ServerSecret::generate(&mut rand::rng()))?;
        crate::operator::dummy_hash();
        let psc = config.psc.clone().map(crate::psc::Psc::new).transpose()?;
        Ok(Self(Arc::new(Inner {
            storage,
            secret,
            passwords: PasswordGate::new(config.password_slots, config.password_wait),
            psc,
            config,
        })))
    }

    pub fn insi(&self) -> &crate::identity::insi::Connector {
        &self.0.config.insi
    }

    pub fn storage(&self) -> &dyn Storage {
        self.0.storage.as_ref()
    }

    pub fn now(&self) -> DateTime<Utc> {
        (self.0.config.clock)()
    }

    /// The Pro Santé Connect relying party, when configured.
    pub fn psc(&self) -> Option<&crate::psc::Psc> {
        self.0.psc.as_ref()
    }

    /// The node's Argon2 slots and its count of password verifications.
    pub fn passwords(&self) -> &PasswordGate {
        &self.0.passwords
    }

    pub fn server_public_key(&self) -> ilot_wire::PublicKey {
        self.0.secret.public_key()
    }

    /// Runs blocking storage work off the async threads.
    pub(crate) async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&AppState) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let s = self.clone();
        tokio::task::spawn_blocking(move || f(&s))
            .await
            .map_err(|e| ServerError::Storage(format!("worker: {e}")))?
    }
}

/// The router, built from the route table only (`routes.rs`): what is not a documented row is
/// not served.
pub fn router(state: AppState) -> Router {
    let mut router = Router::new();
    for route in crate::routes::routes() {
        router = router.route(route.path, route.handler);
    }
    // The console's page and its files are not API operations: they stay outside the table
    // (and the OpenAPI document), served by `console::pages` (see that module).
    router
        .merge(crate::console::pages())
        .fallback(|| async {
            ServerError::refused(
                ilot_wire::api::ErrorCode::NotFound,
                "no such endpoint; see /openapi.json",
            )
        })
        .layer(axum::extract::DefaultBodyLimit::max(
            ilot_wire::MAX_SEALED_LEN,
        ))
        .layer(from_fn_with_state(state.clone(), crate::console::guard))
        .layer(from_fn_with_state(state.clone(), crate::headers::secure))
        .layer(from_fn_with_state(state.clone(), crate::client::scope))
        .with_state(state)
}

/// Serves plain HTTP on `listener` until the process ends, within the configured
/// [`crate::Limits`], with the no-data scheduler running beside.
pub async fn serve(state: AppState, listener: TcpListener) -> std::io::Result<()> {
    tokio::spawn(crate::scheduler::run(state.clone()));
    crate::transport::serve(listener, None, state).await
}
