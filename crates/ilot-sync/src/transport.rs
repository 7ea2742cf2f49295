//! HTTP to the operator server (reqwest, blocking, rustls). Any error answer becomes
//! [`SyncError::Refused`] with the server's code and message; a connection failure becomes
//! [`SyncError::Unreachable`]. Nothing here decides what was delivered: only a sealed
//! acknowledgement does.

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

impl HttpTransport {
    pub fn new(server: ServerUrl) -> Result<Self> {
        Self::with_timeout(server, Duration::from_secs(60))
    }

    pub fn with_timeout(server: ServerUrl, timeout: Duration) -> Result<Self> {
        let client = reqwest::blocking::Client::builder()
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("ilot-sync/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| SyncError::Unreachable {
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
        let unreachable = |e: reqwest::Error| SyncError::Unreachable {
            server: self.server.to_string(),
            detail: short_reason(&e),
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
