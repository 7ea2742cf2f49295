//! How connections are accepted and held, for plain HTTP ([`crate::serve`]) and HTTPS
//! ([`crate::serve_tls`]) alike, so that anonymous clients cannot hold the server's resources:
//!
//! - a connection is accepted only while fewer than [`Limits::max_connections`] are open; the
//!   others wait in the kernel's listen queue (a limited accept loop, not a refusal);
//! - the TLS handshake (within the idle timeout too) and, on HTTP/1, each request's line and
//!   headers must arrive within [`Limits::header_read`] (hyper's header-read timeout, which also bounds the wait for the
//!   next request on a kept-alive connection);
//! - a connection with no request in flight for [`Limits::idle`] is closed gracefully, HTTP/1
//!   and HTTP/2 alike (and dropped if it does not end within the request timeout);
//! - each request must be over within [`Limits::request`], body upload included;
//! - a request body larger than its route allows ([`Limits::sealed_body`] for push and pull,
//!   [`Limits::json_body`] for everything else) is refused with 413 before it is read when its
//!   `Content-Length` says so, and as soon as it passes the bound otherwise.
//!
//! The body is read here, once, into the buffer the handler gets (a push's sealed bytes are not
//! copied again before they are decrypted).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::http::header::CONTENT_LENGTH;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use ilot_wire::api::{ErrorCode, paths};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use crate::error::ServerError;
use crate::http::AppState;

/// What one server lets its clients hold. The defaults suit a server facing phones on mobile
/// networks; `ilot server` exposes the connection cap and the timeouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most bytes of a JSON request body (operator API, enrolment): 16 KiB. The largest real
    /// one, a prescription or a message, is a few KiB.
    pub json_body: usize,
    /// Most bytes of a sealed push or pull body: the largest sealed batch
    /// ([`ilot_wire::MAX_SEALED_BATCH_LEN`], 4 MiB + 92; see `MAX_BATCH_BODY_LEN` for why).
    pub sealed_body: usize,
    /// Time to complete the TLS handshake, and on HTTP/1 to send a request's line and headers
    /// (also the longest wait for the next request on a kept-alive HTTP/1 connection): 10 s.
    pub header_read: Duration,
    /// Time for a whole request, body upload and answer included: 60 s (a 1 MiB batch over a
    /// slow mobile link takes a few seconds).
    pub request: Duration,
    /// A connection with no request in flight for this long is closed: 60 s.
    pub idle: Duration,
    /// Most connections open at once: 512 (keep it under the process's open-file limit).
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            json_body: 16 << 10,
            sealed_body: ilot_wire::MAX_SEALED_BATCH_LEN,
            header_read: Duration::from_secs(10),
            request: Duration::from_secs(60),
            idle: Duration::from_secs(60),
            max_connections: 512,
        }
    }
}

/// Serves `state`'s router on `listener` until the process ends, over TLS when `tls` is given.
pub(crate) async fn serve(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    state: AppState,
) -> std::io::Result<()> {
    let limits = state.0.config.limits;
    let app = crate::http::router(state);
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read);
    builder.http2().timer(TokioTimer::new());
    let builder = Arc::new(builder);
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    loop {
        // A slot first: beyond the cap, connections wait in the listen queue, unaccepted.
        let slot = slots
            .clone()
            .acquire_owned()
            .await
            .map_err(std::io::Error::other)?;
        let (tcp, peer) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                accept_failed(e).await;
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        let (app, builder, tls) = (app.clone(), builder.clone(), tls.clone());
        tokio::spawn(async move {
            let _slot = slot;
            match tls {
                None => connection(tcp, peer, app, limits, &builder).await,
                Some(acceptor) => {
                    let within = limits.header_read.min(limits.idle);
                    match tokio::time::timeout(within, acceptor.accept(tcp)).await {
                        Ok(Ok(stream)) => connection(stream, peer, app, limits, &builder).await,
                        Ok(Err(e)) => tracing::debug!("TLS handshake with {peer} failed: {e}"),
                        Err(_) => tracing::debug!("TLS handshake with {peer} timed out"),
                    }
                }
            }
        });
    }
}

/// A failed accept: the client's problem (reset before it was accepted) is skipped; anything
/// else (out of file descriptors…) is logged and waited out, as axum's own loop does.
async fn accept_failed(e: std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if !matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        tracing::error!("accepting a connection failed: {e}");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Requests in flight on one connection, and when the last one ended.
struct Activity {
    in_flight: AtomicUsize,
    last: Mutex<Instant>,
}

/// Counts a request in flight until dropped (answered or abandoned).
struct Busy(Arc<Activity>);

impl Activity {
    fn busy(self: &Arc<Self>) -> Busy {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        Busy(self.clone())
    }

    fn last(&self) -> Instant {
        *self.last.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// When to look again; `None` when the connection has been idle for `idle` already.
    fn next_check(&self, idle: Duration) -> Option<Instant> {
        let now = Instant::now();
        if self.in_flight.load(Ordering::SeqCst) > 0 {
            return Some(now + idle);
        }
        let due = self.last() + idle;
        (due > now).then_some(due)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        *self.0.last.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn connection<I>(
    io: I,
    peer: SocketAddr,
    app: Router,
    limits: Limits,
    builder: &auto::Builder<TokioExecutor>,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let activity = Arc::new(Activity {
        in_flight: AtomicUsize::new(0),
        last: Mutex::new(Instant::now()),
    });
    let service = {
        let activity = activity.clone();
        hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
            let busy = activity.busy();
            let app = app.clone();
            async move {
                let mut req = req.map(Body::new);
                req.extensions_mut().insert(ConnectInfo(peer));
                let resp = guarded(app, req, limits).await;
                drop(busy);
                Ok::<_, Infallible>(resp)
            }
        })
    };
    let conn = builder.serve_connection(TokioIo::new(io), service);
    tokio::pin!(conn);
    loop {
        let Some(at) = activity.next_check(limits.idle) else {
            tracing::debug!("closing the idle connection of {peer}");
            conn.as_mut().graceful_shutdown();
            // An HTTP/1 connection between requests ends at once; one that does not end by
            // itself within the request timeout is dropped.
            let _ = tokio::time::timeout(limits.request, conn.as_mut()).await;
            return;
        };
        tokio::select! {
            r = conn.as_mut() => {
                if let Err(e) = r {
                    tracing::debug!("connection of {peer}: {e}");
                }
                return;
            }
            () = tokio::time::sleep_until(at) => {}
        }
    }
}

/// The body limit of a route: sealed bytes for push and pull, JSON (or nothing) elsewhere.
fn body_limit(path: &str, limits: &Limits) -> usize {
    if path == paths::PUSH || path == paths::PULL {
        limits.sealed_body
    } else {
        limits.json_body
    }
}

fn too_large(limit: usize) -> Response {
    ServerError::refused(
        ErrorCode::TooLarge,
        format!("the request body is larger than the {limit} bytes this endpoint accepts"),
    )
    .into_response()
}

/// Runs one request through the router with its body bound and within the request timeout.
async fn guarded(app: Router, req: Request, limits: Limits) -> Response {
    let work = async {
        let limit = body_limit(req.uri().path(), &limits);
        match read_body(req, limit).await {
            Ok(req) => match app.oneshot(req).await {
                Ok(resp) => resp,
                Err(never) => match never {},
            },
            Err(refused) => refused,
        }
    };
    match tokio::time::timeout(limits.request, work).await {
        Ok(resp) => resp,
        Err(_) => ServerError::refused(
            ErrorCode::TimedOut,
            format!(
                "the request took longer than {} seconds; send it again",
                limits.request.as_secs()
            ),
        )
        .into_response(),
    }
}

/// Reads the body into one buffer of at most `limit` bytes, refusing a larger one (by its
/// `Content-Length` before reading anything, else as soon as it passes the bound). The buffer
/// is reserved at the announced length, so it is never copied to grow; pages are only touched
/// as the bytes arrive.
async fn read_body(req: Request, limit: usize) -> Result<Request, Response> {
    let (parts, mut body) = req.into_parts();
    let announced = parts
        .headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|n| n > limit as u64) {
        return Err(too_large(limit));
    }
    let mut buf = Vec::with_capacity(announced.unwrap_or(0) as usize);
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            ServerError::refused(
                ErrorCode::BadRequest,
                format!("the request body could not be read: {e}"),
            )
            .into_response()
        })?;
        if let Ok(data) = frame.into_data() {
            if buf.len() + data.len() > limit {
                return Err(too_large(limit));
            }
            buf.extend_from_slice(&data);
        }
    }
    Ok(Request::from_parts(parts, Body::from(buf)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Bytes;
    use axum::extract::FromRequest;

    #[tokio::test]
    async fn the_handler_gets_the_buffer_the_body_was_read_into() {
        // What `device::push` does with its `Bytes`: no copy between this reader and it.
        let body = vec![7u8; 100_000];
        let req = Request::builder()
            .uri(paths::PUSH)
            .header(CONTENT_LENGTH, body.len())
            .body(Body::from(body.clone()))
            .unwrap();
        let req = read_body(req, 1 << 20).await.unwrap();
        let (parts, b) = req.into_parts();
        let read = b.collect().await.unwrap().to_bytes();
        let ptr = read.as_ptr();
        let req = Request::from_parts(parts, Body::from(read));
        let bytes = Bytes::from_request(req, &()).await.unwrap();
        assert_eq!(bytes.as_ptr(), ptr, "the extractor keeps the buffer");
        let v = Vec::from(bytes);
        assert_eq!(
            v.as_ptr(),
            ptr,
            "and so does the conversion to the sealed bytes"
        );
        assert_eq!(v, body);
    }

    #[tokio::test]
    async fn a_body_over_its_route_limit_is_refused() {
        let req = |len: usize, announce: bool| {
            let mut b = Request::builder().uri("/v1/operator/login");
            if announce {
                b = b.header(CONTENT_LENGTH, len);
            }
            b.body(Body::from(vec![b'{'; len])).unwrap()
        };
        let limits = Limits::default();
        let limit = body_limit("/v1/operator/login", &limits);
        assert_eq!(limit, 16 << 10);
        assert_eq!(body_limit(paths::PUSH, &limits), limits.sealed_body);
        for announce in [true, false] {
            assert!(read_body(req(limit, announce), limit).await.is_ok());
            let refused = read_body(req(limit + 1, announce), limit)
                .await
                .unwrap_err();
            assert_eq!(refused.status(), 413);
        }
    }
}
