//! Operators' login with **Pro Santé Connect** (PSC), the national OpenID Connect federation of
//! health professionals (CPS card or e-CPS app). Ilot is a relying party of the authorisation
//! code flow:
//!
//! 1. `GET /v1/console/psc/start` makes a `state`, a `nonce` and a PKCE verifier, keeps them
//!    server-side under the SHA-256 of `state` (taken once, [`FLOW_TTL`]), and sends the browser
//!    to the provider's authorisation endpoint (from its discovery document) with
//!    `scope=openid scope_all`, `acr_values=eidas1` and the verifier's S256 challenge.
//! 2. The provider sends the browser back to `GET /v1/console/psc/callback?state&code`. The flow
//!    of `state` is taken out (an unknown, used or expired one is refused), the code exchanged at
//!    the token endpoint (client id and secret, `code_verifier`; a replayed code is the
//!    provider's `invalid_grant`), the ID token checked ([`verify`]: RS256 signature against the
//!    provider's JWKS, `iss`, `aud`/`azp`, `exp`, `iat`, `nonce`, `acr` = `eidas1`), the
//!    userinfo read (PSC answers it as a signed JWT: same keys, `iss`, `aud`, same `sub`), and
//!    its `SubjectNameID` (the national id: `8` + RPPS) looked up among the RPPS an
//!    administrator linked to operators (`ilot operator link-rpps`, once).
//! 3. Success opens the same session as the password + TOTP login, in the same cookie
//!    (`console.rs`), and sends the browser to the console; any refusal is audited
//!    (`login-failed`, method `psc`, with its reason), opens no session, and sends the browser
//!    to the console's login screen with `?psc_error=<kind>` (the screen says why).
//!
//! PSC is off unless configured ([`PscConfig`]); then the two routes answer 404 and
//! `GET /v1/console/login-options` tells the console not to offer the button. The client
//! secret never reaches a log, `Debug` or an error.

mod verify;

use std::time::Duration;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ilot_wire::api::ErrorCode;
use jsonwebtoken::jwk::JwkSet;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::client::Client;
use crate::error::{Result, ServerError};
use crate::http::AppState;
use crate::storage::{AuditEvent, PscFlow};

pub use verify::{IdClaims, Refusal, rpps_from_subject};

/// How long a login may take between the start and the provider's answer.
pub const FLOW_TTL: chrono::TimeDelta = chrono::TimeDelta::minutes(10);

/// The scopes PSC's documentation asks for: `scope_all` brings the professional's claims
/// (`SubjectNameID`, `SubjectRefPro`, names) into the userinfo.
pub const SCOPES: &str = "openid scope_all";

/// The level of assurance PSC gives a CPS card or the e-CPS app (eIDAS substantial).
pub const ACR: &str = "eidas1";

/// The path the provider sends the browser back to (registered with the provider as
/// `<public URL>/v1/console/psc/callback`).
pub const CALLBACK_PATH: &str = "/v1/console/psc/callback";

/// How to reach Pro Santé Connect (`ilot server --psc-issuer … --psc-client-id …`, the secret
/// from a file or `ILOT_PSC_CLIENT_SECRET`).
#[derive(Clone)]
pub struct PscConfig {
    /// The issuer, e.g. `https://auth.esante.gouv.fr/auth/realms/esante-wallet`; its
    /// `/.well-known/openid-configuration` names every endpoint.
    pub issuer: String,
    pub client_id: String,
    client_secret: std::sync::Arc<Zeroizing<String>>,
}

impl std::fmt::Debug for PscConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PscConfig")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl PscConfig {
    /// Checks the issuer (HTTPS, or plain http on loopback for a local provider) and that
    /// neither the client id nor the secret is empty.
    pub fn new(issuer: &str, client_id: &str, client_secret: String) -> Result<Self> {
        let secret = Zeroizing::new(client_secret);
        let bad = |m: String| ServerError::refused(ErrorCode::BadRequest, m);
        let url = reqwest::Url::parse(issuer)
            .map_err(|_| bad(format!("the PSC issuer {issuer:?} is not a URL")))?;
        let host = url.host_str().unwrap_or_default();
        let loopback = host == "localhost"
            || host
                .trim_matches(['[', ']'])
                .parse::<std::net::IpAddr>()
                .is_ok_and(|a| a.is_loopback());
        if url.scheme() != "https" && !(url.scheme() == "http" && loopback) {
            return Err(bad(format!(
                "the PSC issuer {issuer:?} must be https:// (plain http only for a provider on this machine)"
            )));
        }
        if client_id.trim().is_empty() {
            return Err(bad("the PSC client id is empty".into()));
        }
        let secret = Zeroizing::new(secret.trim().to_string());
        if secret.is_empty() {
            return Err(bad("the PSC client secret is empty".into()));
        }
        Ok(Self {
            issuer: issuer.trim_end_matches('/').to_string(),
            client_id: client_id.to_string(),
            client_secret: std::sync::Arc::new(secret),
        })
    }
}

/// What discovery says (OpenID Connect Discovery 1.0, section 3).
#[derive(Debug, Clone, Deserialize)]
struct Metadata {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    userinfo_endpoint: String,
    jwks_uri: String,
}

#[derive(Clone)]
struct Provider {
    meta: Metadata,
    keys: JwkSet,
}

/// The relying party of one server node: its configuration, its HTTP client and what it
/// learnt of the provider (discovery and keys, fetched on first use; the keys again when a
/// token names a key it does not know, as after a key rotation).
pub struct Psc {
    config: PscConfig,
    http: reqwest::Client,
    provider: tokio::sync::Mutex<Option<Provider>>,
}

impl std::fmt::Debug for Psc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Psc")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

fn unreachable_provider(what: &str) -> ServerError {
    tracing::warn!("Pro Santé Connect: {what}");
    ServerError::Refused {
        code: ErrorCode::Unavailable,
        message: "Pro Santé Connect cannot be reached right now; try again in a moment, or log in with your password and code".into(),
        retry_after_s: Some(30),
    }
}

impl Psc {
    pub fn new(config: PscConfig) -> Result<Self> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| ServerError::Tls(format!("PSC HTTP client: {e}")))?;
        Ok(Self {
            config,
            http,
            provider: tokio::sync::Mutex::new(None),
        })
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T> {
        let r = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| unreachable_provider(&format!("GET {url}: {e}")))?;
        if !r.status().is_success() {
            return Err(unreachable_provider(&format!(
                "GET {url}: status {}",
                r.status()
            )));
        }
        r.json()
            .await
            .map_err(|e| unreachable_provider(&format!("GET {url}: {e}")))
    }

    /// The provider's endpoints and keys; `refresh_keys` fetches the keys again.
    async fn provider(&self, refresh_keys: bool) -> Result<Provider> {
        let mut cached = self.provider.lock().await;
        if let Some(p) = cached.as_mut() {
            if refresh_keys {
                p.keys = self.get_json(&p.meta.jwks_uri).await?;
            }
            return Ok(p.clone());
        }
        let url = format!("{}/.well-known/openid-configuration", self.config.issuer);
        let meta: Metadata = self.get_json(&url).await?;
        // Discovery 4.3: the document must name the issuer it was fetched from.
        if meta.issuer.trim_end_matches('/') != self.config.issuer {
            return Err(unreachable_provider(&format!(
                "the discovery document names issuer {:?}, not the configured {:?}",
                meta.issuer, self.config.issuer
            )));
        }
        let keys: JwkSet = self.get_json(&meta.jwks_uri).await?;
        let p = Provider { meta, keys };
        *cached = Some(p.clone());
        Ok(p)
    }
}

fn not_configured() -> ServerError {
    ServerError::refused(
        ErrorCode::NotFound,
        "Pro Santé Connect is not configured on this server; log in with your password and code",
    )
}

fn random_token() -> String {
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    URL_SAFE_NO_PAD.encode(b)
}

fn state_hash(state: &str) -> [u8; 32] {
    Sha256::digest(state.as_bytes()).into()
}

fn see_other(location: &str) -> Response {
    (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, location.to_string())],
    )
        .into_response()
}

/// `GET /v1/console/login-options`: which ways to log in this server offers (no data).
#[derive(Debug, Serialize)]
pub struct LoginOptions {
    pub psc: bool,
}

pub async fn login_options(State(state): State<AppState>) -> Json<LoginOptions> {
    Json(LoginOptions {
        psc: state.psc().is_some(),
    })
}

/// `GET /v1/console/psc/start`: a new flow, and the browser sent to the provider (303); back to
/// the login screen with `?psc_error=unavailable` when the provider cannot be reached.
pub async fn start(State(state): State<AppState>) -> Result<Response> {
    let psc = state.psc().ok_or_else(not_configured)?;
    // The browser is on its way to the provider: tell it on the login screen, not in JSON.
    let Ok(provider) = psc.provider(false).await else {
        return Ok(see_other("/?psc_error=unavailable"));
    };
    let st = random_token();
    let verifier = random_token();
    let flow = PscFlow {
        nonce: random_token(),
        pkce_verifier: verifier.clone(),
        expires_at: state.now() + FLOW_TTL,
    };
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let redirect_uri = format!("{}{CALLBACK_PATH}", state.0.config.public_url);
    let url = reqwest::Url::parse_with_params(
        &provider.meta.authorization_endpoint,
        [
            ("response_type", "code"),
            ("client_id", psc.config.client_id.as_str()),
            ("redirect_uri", redirect_uri.as_str()),
            ("scope", SCOPES),
            ("acr_values", ACR),
            ("state", st.as_str()),
            ("nonce", flow.nonce.as_str()),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ],
    )
    .map_err(|_| unreachable_provider("the authorization endpoint is not a URL"))?;
    let hash = state_hash(&st);
    state
        .blocking(move |s| s.storage().psc_begin(&hash, &flow, s.now()))
        .await?;
    Ok(see_other(url.as_str()))
}

/// The callback's query parameters, for the OpenAPI document.
pub fn query_parameters(path: &str) -> Option<serde_json::Value> {
    (path == CALLBACK_PATH).then(|| {
        let text = json!({ "type": "string" });
        json!([
            { "name": "state", "in": "query", "required": false, "schema": text,
              "description": "the state sent to the provider by /v1/console/psc/start" },
            { "name": "code", "in": "query", "required": false, "schema": text,
              "description": "the provider's authorisation code" },
            { "name": "error", "in": "query", "required": false, "schema": text,
              "description": "the provider's refusal (e.g. access_denied)" }
        ])
    })
}

/// What the provider puts in the callback's query.
#[derive(Deserialize)]
pub struct CallbackQuery {
    state: Option<String>,
    code: Option<String>,
    error: Option<String>,
}

impl std::fmt::Debug for CallbackQuery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The state and the code are one-time secrets of the login under way.
        f.debug_struct("CallbackQuery")
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

/// `GET /v1/console/psc/callback`: the provider's answer. 303 to the console in every case:
/// with the session cookie when the login succeeded, with `?psc_error=<kind>` and no session
/// when it was refused (audited with its reason).
pub async fn callback(
    State(state): State<AppState>,
    client: Client,
    Query(q): Query<CallbackQuery>,
) -> Result<Response> {
    let psc = state.psc().ok_or_else(not_configured)?;
    match authenticate(&state, psc, q).await? {
        Ok(rpps) => {
            let r = state
                .blocking(move |s| match s.storage().operator_by_rpps(&rpps)? {
                    Some(op) => crate::operator::open_session(s, &op, client, Some("psc")).map(Ok),
                    None => Ok(Err(Refusal::new(
                        "unknown_rpps",
                        format!("RPPS {rpps} is linked to no enabled operator account"),
                    ))),
                })
                .await?;
            match r {
                Ok(login) => {
                    let cookie =
                        crate::console::session_cookie(&state, &login.token, login.expires_at);
                    let mut resp = see_other("/");
                    if let Ok(v) = header::HeaderValue::from_str(&cookie) {
                        resp.headers_mut().insert(header::SET_COOKIE, v);
                    }
                    Ok(resp)
                }
                Err(refusal) => refuse(&state, client, refusal).await,
            }
        }
        Err(refusal) => refuse(&state, client, refusal).await,
    }
}

async fn refuse(state: &AppState, client: Client, refusal: Refusal) -> Result<Response> {
    tracing::info!(%client, kind = refusal.kind, "Pro Santé Connect login refused");
    let location = format!("/?psc_error={}", refusal.kind);
    state
        .blocking(move |s| {
            s.storage().record_audit(
                &AuditEvent::new("login-failed", s.now())
                    .from(client)
                    .detail(
                        json!({ "method": "psc", "kind": refusal.kind, "reason": refusal.reason }),
                    ),
            )
        })
        .await?;
    Ok(see_other(&location))
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    id_token: String,
}

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenResponse")
    }
}

/// The flow of the callback through to the professional's RPPS, or why it is refused.
/// `Err` only when the storage failed.
async fn authenticate(
    state: &AppState,
    psc: &Psc,
    q: CallbackQuery,
) -> Result<std::result::Result<String, Refusal>> {
    let Some(st) = q.state.filter(|s| !s.is_empty() && s.len() <= 512) else {
        return Ok(Err(Refusal::new("state", "no state in the callback")));
    };
    let hash = state_hash(&st);
    let Some(flow) = state
        .blocking(move |s| s.storage().psc_take(&hash, s.now()))
        .await?
    else {
        return Ok(Err(Refusal::new(
            "state",
            "unknown, already used or expired state",
        )));
    };
    if let Some(e) = q.error {
        let e: String = e
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .take(64)
            .collect();
        return Ok(Err(Refusal::new(
            "provider",
            format!("the provider answered {e}"),
        )));
    }
    let Some(code) = q.code.filter(|c| !c.is_empty()) else {
        return Ok(Err(Refusal::new("provider", "no code in the callback")));
    };
    let provider = match psc.provider(false).await {
        Ok(p) => p,
        Err(_) => return Ok(Err(Refusal::new("unavailable", "provider unreachable"))),
    };
    let redirect_uri = format!("{}{CALLBACK_PATH}", state.0.config.public_url);
    let sent = psc
        .http
        .post(&provider.meta.token_endpoint)
        .basic_auth(
            &psc.config.client_id,
            Some(psc.config.client_secret.as_str()),
        )
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", redirect_uri.as_str()),
            ("code_verifier", flow.pkce_verifier.as_str()),
        ])
        .send()
        .await;
    let tokens = match sent {
        Ok(r) if r.status().is_success() => match r.json::<TokenResponse>().await {
            Ok(t) => t,
            Err(_) => return Ok(Err(Refusal::new("token", "unreadable token response"))),
        },
        Ok(r) => {
            let status = r.status().as_u16();
            let err = r
                .json::<serde_json::Value>()
                .await
                .ok()
                .and_then(|v| v["error"].as_str().map(str::to_string))
                .unwrap_or_default();
            return Ok(Err(Refusal::new(
                "token",
                format!(
                    "the token endpoint refused the code ({status} {err}): replayed, expired or not issued to this client"
                ),
            )));
        }
        Err(_) => {
            return Ok(Err(Refusal::new(
                "unavailable",
                "token endpoint unreachable",
            )));
        }
    };
    let now = state.now();
    let expect = verify::Expected {
        issuer: &psc.config.issuer,
        client_id: &psc.config.client_id,
        nonce: &flow.nonce,
        now,
    };
    let claims = match verify::id_token(&tokens.id_token, &provider.keys, &expect) {
        Err(Refusal { kind: "key", .. }) => {
            // A key the provider published since: fetch the keys once more.
            let Ok(p) = psc.provider(true).await else {
                return Ok(Err(Refusal::new("unavailable", "JWKS unreachable")));
            };
            verify::id_token(&tokens.id_token, &p.keys, &expect)
        }
        other => other,
    };
    let claims = match claims {
        Ok(c) => c,
        Err(r) => return Ok(Err(r)),
    };
    let info = psc
        .http
        .get(&provider.meta.userinfo_endpoint)
        .bearer_auth(&tokens.access_token)
        .send()
        .await;
    let info = match info {
        Ok(r) if r.status().is_success() => {
            let jwt = r
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("application/jwt"));
            if !jwt {
                return Ok(Err(Refusal::new(
                    "userinfo",
                    "the userinfo is not a signed JWT (PSC signs it)",
                )));
            }
            match r.text().await {
                Ok(t) => t,
                Err(_) => return Ok(Err(Refusal::new("unavailable", "userinfo unreadable"))),
            }
        }
        Ok(r) => {
            return Ok(Err(Refusal::new(
                "userinfo",
                format!("the userinfo endpoint answered {}", r.status().as_u16()),
            )));
        }
        Err(_) => return Ok(Err(Refusal::new("unavailable", "userinfo unreachable"))),
    };
    let subject = match verify::userinfo(&info, &provider.keys, &expect, &claims.sub) {
        Ok(s) => s,
        Err(r) => return Ok(Err(r)),
    };
    Ok(rpps_from_subject(&subject).ok_or_else(|| {
        Refusal::new(
            "unknown_rpps",
            format!("SubjectNameID {subject:?} is not an RPPS national id (8 + 11 digits)"),
        )
    }))
}
