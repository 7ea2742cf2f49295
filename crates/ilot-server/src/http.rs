//! The HTTP surface: shared state, the router and `serve`. Nodes keep no session state of their
//! own (sessions, keys and batch numbers are in the storage), so several can run behind a load
//! balancer; only the enrolment rate-limit counters are per node (see `ratelimit.rs`).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::{get, post, put};
use chrono::{DateTime, Utc};
use ilot_wire::ServerSecret;
use tokio::net::TcpListener;

use crate::error::{Result, ServerError};
use crate::ratelimit::{Limit, RateLimiter};
use crate::storage::Storage;
use crate::{device, openapi, operator};

/// Where the time comes from; tests move it to check expiry without waiting 72 hours.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// What an operator of the server may tune.
#[derive(Clone)]
pub struct Config {
    /// The address devices use, put in enrolment links (`https://…`, or `http://` on loopback).
    pub public_url: String,
    pub code_ttl: chrono::TimeDelta,
    /// Enrolment attempts per client address.
    pub enrol_per_ip: Limit,
    /// Failed enrolment attempts per code prefix (first three symbols).
    pub enrol_per_prefix: Limit,
    /// Failed logins per client address.
    pub login_per_ip: Limit,
    /// Failed logins per user name (guessing one operator's password or code from many addresses).
    pub login_per_user: Limit,
    pub session_ttl: chrono::TimeDelta,
    /// How often the scheduler looks for patients whose data stopped.
    pub no_data_every: Duration,
    pub clock: Clock,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("public_url", &self.public_url)
            .field("code_ttl", &self.code_ttl)
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
            session_ttl: chrono::TimeDelta::hours(12),
            no_data_every: Duration::from_secs(300),
            clock: Arc::new(Utc::now),
        }
    }
}

pub(crate) struct Inner {
    pub storage: Box<dyn Storage>,
    pub secret: ServerSecret,
    pub limiter: RateLimiter,
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
        Ok(Self(Arc::new(Inner {
            storage,
            secret,
            limiter: RateLimiter::default(),
            config,
        })))
    }

    pub fn storage(&self) -> &dyn Storage {
        self.0.storage.as_ref()
    }

    pub fn now(&self) -> DateTime<Utc> {
        (self.0.config.clock)()
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

pub fn router(state: AppState) -> Router {
    use ilot_wire::api::paths;
    Router::new()
        .route(paths::ENROL, post(device::enrol))
        .route(paths::PUSH, post(device::push))
        .route(paths::PULL, post(device::pull))
        .route("/v1/operator/login", post(operator::login))
        .route(
            "/v1/operator/patients",
            get(operator::list_patients).post(operator::create_patient),
        )
        .route("/v1/operator/patients/{id}", get(operator::patient))
        .route("/v1/operator/patients/{id}/entries", get(operator::entries))
        .route("/v1/operator/patients/{id}/metrics", get(operator::metrics))
        .route(
            "/v1/operator/patients/{id}/alerts",
            get(operator::patient_alerts),
        )
        .route(
            "/v1/operator/patients/{id}/observance",
            get(operator::observance),
        )
        .route(
            "/v1/operator/patients/{id}/prescription",
            put(operator::set_prescription),
        )
        .route(
            "/v1/operator/patients/{id}/messages",
            post(operator::message),
        )
        .route(
            "/v1/operator/patients/{id}/appointments",
            post(operator::appointment),
        )
        .route(
            "/v1/operator/patients/{id}/enrolment-code",
            post(operator::new_code),
        )
        .route("/v1/operator/alerts", get(operator::all_alerts))
        .route("/v1/operator/alerts/{id}/ack", post(operator::ack_alert))
        .route("/v1/operator/audit", get(operator::audit))
        .route("/openapi.json", get(openapi::serve))
        .route("/v1/operator/triage", get(crate::triage::triage))
        .merge(crate::console::routes())
        .fallback(|| async {
            ServerError::refused(
                ilot_wire::api::ErrorCode::NotFound,
                "no such endpoint; see /openapi.json",
            )
        })
        .layer(axum::extract::DefaultBodyLimit::max(
            ilot_wire::MAX_SEALED_LEN,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::console::guard,
        ))
        .with_state(state)
}

/// Binds `addr` and serves until the process ends, with the no-data scheduler running beside.
pub async fn serve(state: AppState, listener: TcpListener) -> std::io::Result<()> {
    tokio::spawn(crate::scheduler::run(state.clone()));
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await
}
