//! The server's error type: storage failures and refusals, each mapped to the wire's stable
//! [`ErrorCode`] and a message a person can act on. Messages never carry health data.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use ilot_wire::api::{ErrorBody, ErrorCode};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ServerError {
    #[error("database error: {0}")]
    Storage(String),
    #[error(
        "unsupported database URL {0:?}: use sqlite:PATH (or sqlite::memory:) or postgres://user@host/db"
    )]
    UnsupportedDatabase(String),
    #[error("TLS: {0}")]
    Tls(String),
    /// The server key is missing, malformed or not the database's (`crate::atrest`).
    #[error("server key: {0}")]
    Key(String),
    #[error("{message}")]
    Refused {
        code: ErrorCode,
        message: String,
        retry_after_s: Option<u64>,
    },
}

pub type Result<T, E = ServerError> = std::result::Result<T, E>;

impl ServerError {
    pub fn refused(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::Refused {
            code,
            message: message.into(),
            retry_after_s: None,
        }
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Storage(_) => ErrorCode::Unavailable,
            Self::UnsupportedDatabase(_) | Self::Tls(_) | Self::Key(_) => ErrorCode::Internal,
            Self::Refused { code, .. } => *code,
        }
    }

    pub fn body(&self) -> ErrorBody {
        match self {
            Self::Refused {
                code,
                message,
                retry_after_s,
            } => ErrorBody {
                error: *code,
                message: message.clone(),
                retry_after_s: *retry_after_s,
            },
            // Details of a database failure stay in the server log, not in the answer.
            Self::Storage(_) => ErrorBody {
                error: ErrorCode::Unavailable,
                message: "the server cannot store or read data right now; try again later".into(),
                retry_after_s: Some(30),
            },
            Self::UnsupportedDatabase(_) | Self::Tls(_) | Self::Key(_) => {
                ErrorBody::new(ErrorCode::Internal, "the server is misconfigured")
            }
        }
    }
}

impl From<rusqlite::Error> for ServerError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Storage(e.to_string())
    }
}

impl From<postgres::Error> for ServerError {
    fn from(e: postgres::Error) -> Self {
        Self::Storage(crate::storage::postgres_message(&e))
    }
}

impl From<r2d2::Error> for ServerError {
    fn from(e: r2d2::Error) -> Self {
        Self::Storage(format!("no database connection available: {e}"))
    }
}

impl From<serde_json::Error> for ServerError {
    fn from(e: serde_json::Error) -> Self {
        Self::Storage(format!("stored JSON: {e}"))
    }
}

impl From<&ilot_wire::WireError> for ServerError {
    fn from(e: &ilot_wire::WireError) -> Self {
        let b = ErrorBody::from(e);
        Self::refused(b.error, b.message)
    }
}

impl IntoResponse for ServerError {
    fn into_response(self) -> Response {
        if let Self::Storage(e) = &self {
            tracing::error!("storage: {e}");
        }
        let body = self.body();
        let status = StatusCode::from_u16(body.error.http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut resp = (status, axum::Json(&body)).into_response();
        if let Some(s) = body.retry_after_s
            && let Ok(v) = s.to_string().parse()
        {
            resp.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, v);
        }
        resp
    }
}
