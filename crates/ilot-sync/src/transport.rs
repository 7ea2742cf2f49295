//! HTTP to the operator server (reqwest, blocking, rustls). Any error answer becomes
//! [`SyncError::Refused`] with the server's code and message; a connection failure becomes
//! [`SyncError::Unreachable`], a certificate the device does not trust
//! [`SyncError::UntrustedServer`]. Nothing here decides what was delivered: only a sealed
//! acknowledgement does.
//!
//! HTTPS is verified against the system's roots plus, optionally, one extra root certificate
//! (a development server's, or a private CA's). Plain `http://` is only for loopback hosts:
//! [`ServerUrl`] refuses it elsewhere, and the client refuses to follow anything else.

use std::time::Duration;

use ilot_wire::ServerUrl;
use ilot_wire::api::{ErrorBody, SEALED_MEDIA_TYPE};

use crate::error::{Result, SyncError};

/// Sends a request body to a path of the server and returns the answer's body.
pub trait Transport {
    fn post(&self, path: &str, content_type: &str, body: Vec<u8>) -> Result<Vec<u8>>;
}

#[derive(Debug, Clone)]
pub struct HttpTransport {
    client: reqwest::blocking::Client,
    server: ServerUrl,
}

const TIMEOUT: Duration = Duration::from_secs(60);

impl HttpTransport {
    pub fn new(server: ServerUrl) -> Result<Self> {
        Self::build(server, TIMEOUT, None)
    }

    pub fn with_timeout(server: ServerUrl, timeout: Duration) -> Result<Self> {
        Self::build(server, timeout, None)
    }

    /// Also trusts the root certificate in `pem` (a development server's self-signed
    /// certificate, or a private CA), beside the system's roots.
    pub fn with_root_pem(server: ServerUrl, pem: &[u8]) -> Result<Self> {
        Self::build(server, TIMEOUT, Some(pem))
    }

    pub fn with_root_pem_and_timeout(
        server: ServerUrl,
        pem: &[u8],
        timeout: Duration,
    ) -> Result<Self> {
        Self::build(server, timeout, Some(pem))
    }

    fn build(server: ServerUrl, timeout: Duration, root: Option<&[u8]>) -> Result<Self> {
        let mut b = reqwest::blocking::Client::builder()
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(10))
            // A redirect could lead a sealed body to another host or to plain http.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("ilot-sync/", env!("CARGO_PKG_VERSION")));
        if let Some(pem) = root {
            let certs = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| SyncError::BadCertificate(short_reason(&e)))?;
            if certs.is_empty() {
                return Err(SyncError::BadCertificate(
                    "the file holds no PEM certificate".into(),
                ));
            }
            b = b.tls_certs_merge(certs);
        }
        let client = b.build().map_err(|e| SyncError::Unreachable {
            server: server.to_string(),
            detail: e.to_string(),
        })?;
        Ok(Self { client, server })
    }

    pub fn server(&self) -> &ServerUrl {
        &self.server
    }

    pub fn post_sealed(&self, path: &str, body: Vec<u8>) -> Result<Vec<u8>> {
        self.post(path, SEALED_MEDIA_TYPE, body)
    }
}

impl Transport for HttpTransport {
    fn post(&self, path: &str, content_type: &str, body: Vec<u8>) -> Result<Vec<u8>> {
        let unreachable = |e: reqwest::Error| {
            let (server, detail) = (self.server.to_string(), short_reason(&e));
            if is_certificate_error(&e) {
                SyncError::UntrustedServer { server, detail }
            } else {
                SyncError::Unreachable { server, detail }
            }
        };
        let resp = self
            .client
            .post(self.server.join(path))
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(body)
            .send()
            .map_err(unreachable)?;
        let status = resp.status();
        let bytes = resp.bytes().map_err(unreachable)?.to_vec();
        if status.is_success() {
            return Ok(bytes);
        }
        match serde_json::from_slice::<ErrorBody>(&bytes) {
            Ok(b) => Err(SyncError::Refused {
                code: b.error,
                message: b.message,
                retry_after_s: b.retry_after_s,
            }),
            Err(_) => Err(SyncError::BadResponse {
                status: status.as_u16(),
            }),
        }
    }
}

/// The TLS handshake failed on the server's certificate (unknown issuer, wrong name, expired).
fn is_certificate_error(e: &reqwest::Error) -> bool {
    let mut cause: Option<&dyn std::error::Error> = Some(e);
    while let Some(c) = cause {
        let text = c.to_string().to_ascii_lowercase();
        if text.contains("certificate") || text.contains("unknownissuer") {
            return true;
        }
        cause = c.source();
    }
    false
}

/// The innermost cause, which says what happened ("Connection refused") without reqwest's
/// layers of context.
fn short_reason(e: &reqwest::Error) -> String {
    let mut cause: &dyn std::error::Error = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    if e.is_timeout() {
        "no answer in time".into()
    } else {
        cause.to_string()
    }
}
