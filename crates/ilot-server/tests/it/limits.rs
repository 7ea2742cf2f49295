//! The transport limits against a real server on a loopback socket, plain and TLS: body sizes
//! per route, the header-read, request and idle timeouts (short ones, set for the test), and
//! the connection cap. Bounds on waiting are generous: a test fails only when the server does
//! not do what it must, never because the machine is slow.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ilot_server::{AppState, Config, Limits};
use ilot_wire::api::paths;
use rstest::rstest;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};

/// Longest the tests wait for something the server must do.
const PATIENCE: Duration = Duration::from_secs(15);

trait Conn: Read + Write + Send {}
impl<T: Read + Write + Send> Conn for T {}

struct Srv {
    port: u16,
    tls: Option<Arc<rustls::ClientConfig>>,
    _dir: tempfile::TempDir,
    _rt: tokio::runtime::Runtime,
}

fn start(tls: bool, limits: Limits) -> Srv {
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut config = Config::new(format!("http://127.0.0.1:{port}"));
    config.limits = limits;
    let state = AppState::new(
        ilot_server::storage::open("sqlite::memory:", &crate::support::key()).unwrap(),
        config,
    )
    .unwrap();
    let client = if tls {
        let dev = ilot_server::tls::dev_certificate(dir.path()).unwrap();
        let server_config = ilot_server::tls::server_config(&dev.cert, &dev.key).unwrap();
        rt.spawn(ilot_server::serve_tls(state, listener, server_config));
        let mut roots = rustls::RootCertStore::empty();
        for c in CertificateDer::pem_file_iter(&dev.cert).unwrap() {
            roots.add(c.unwrap()).unwrap();
        }
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        Some(Arc::new(
            rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_root_certificates(roots)
                .with_no_client_auth(),
        ))
    } else {
        listener.set_nonblocking(true).unwrap();
        let listener = {
            let _g = rt.enter();
            tokio::net::TcpListener::from_std(listener).unwrap()
        };
        rt.spawn(ilot_server::serve(state, listener));
        None
    };
    Srv {
        port,
        tls: client,
        _dir: dir,
        _rt: rt,
    }
}

impl Srv {
    fn tcp(&self) -> TcpStream {
        let tcp = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        tcp.set_read_timeout(Some(PATIENCE)).unwrap();
        tcp
    }

    /// A connection, TLS-wrapped on a TLS server (the handshake happens on first use).
    fn connect(&self) -> Box<dyn Conn> {
        let tcp = self.tcp();
        match &self.tls {
            None => Box::new(tcp),
            Some(c) => {
                let name = ServerName::try_from("localhost").unwrap();
                let conn = rustls::ClientConnection::new(c.clone(), name).unwrap();
                Box::new(rustls::StreamOwned::new(conn, tcp))
            }
        }
    }
}

/// Reads one HTTP/1.1 answer (head and Content-Length body): status and body.
fn answer(c: &mut dyn Conn) -> (u16, String) {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        let n = c.read(&mut byte).expect("an answer");
        assert_eq!(n, 1, "the connection closed before an answer: {buf:?}");
        buf.push(byte[0]);
    }
    let head = String::from_utf8(buf).unwrap();
    let status = head[9..12].parse().unwrap();
    let len: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length: ")
                .map(|v| v.trim().parse().unwrap())
        })
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    c.read_exact(&mut body).unwrap();
    (status, String::from_utf8_lossy(&body).into_owned())
}

fn get(c: &mut dyn Conn) -> (u16, String) {
    c.write_all(b"GET /openapi.json HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    c.flush().unwrap();
    answer(c)
}

/// True when the server closed the connection (end of stream or reset) within `PATIENCE`.
fn closed_by_server(c: &mut dyn Conn) -> bool {
    let mut buf = [0u8; 256];
    let until = Instant::now() + PATIENCE;
    while Instant::now() < until {
        match c.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return false;
            }
            Err(_) => return true,
        }
    }
    false
}

fn limits() -> Limits {
    Limits {
        header_read: Duration::from_secs(60),
        request: Duration::from_secs(60),
        idle: Duration::from_secs(60),
        ..Limits::default()
    }
}

#[rstest]
fn json_bodies_over_16_kib_are_refused_with_413(#[values(false, true)] tls: bool) {
    let srv = start(tls, limits());
    let login = |body: &[u8], chunked: bool| {
        let mut c = srv.connect();
        let framing = if chunked {
            "Transfer-Encoding: chunked".to_string()
        } else {
            format!("Content-Length: {}", body.len())
        };
        write!(
            c,
            "POST /v1/operator/login HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n{framing}\r\n\r\n"
        )
        .unwrap();
        if chunked {
            // The server reads chunks until the limit is passed, then answers and closes: a
            // write after that may meet the closed connection (the answer is read below).
            let mut sent = Ok(());
            for part in body.chunks(4096) {
                if sent.is_ok() {
                    sent = write!(c, "{:x}\r\n", part.len())
                        .and_then(|()| c.write_all(part))
                        .and_then(|()| c.write_all(b"\r\n"));
                }
            }
            if sent.is_ok() {
                sent = c.write_all(b"0\r\n\r\n").and_then(|()| c.flush());
            }
            if let Err(e) = sent {
                assert!(
                    matches!(
                        e.kind(),
                        std::io::ErrorKind::BrokenPipe | std::io::ErrorKind::ConnectionReset
                    ),
                    "{e}"
                );
            }
        } else if body.len() <= 16 << 10 {
            c.write_all(body).unwrap();
            c.flush().unwrap();
        } else {
            // An announced length over the limit is answered before the body is read (the
            // body is never sent: a server that waited for it would time the test out).
            c.flush().unwrap();
        }
        answer(&mut *c)
    };
    let json = |len: usize| {
        let make = |pad: &str| format!(r#"{{"username":"{pad}","password":"p","totp":"123456"}}"#);
        let b = make(&"x".repeat(len - make("").len()));
        assert_eq!(b.len(), len);
        b.into_bytes()
    };
    for chunked in [false, true] {
        let (status, body) = login(&json(16 << 10), chunked);
        assert_ne!(status, 413, "16 KiB is allowed: {body}");
        let (status, body) = login(&json((16 << 10) + 1), chunked);
        assert_eq!(status, 413, "{body}");
        assert!(body.contains(r#""error":"too_large""#), "{body}");
    }
}

#[rstest]
fn sealed_bodies_are_bounded_by_the_largest_batch(#[values(false, true)] tls: bool) {
    let srv = start(tls, limits());
    for path in [paths::PUSH, paths::PULL] {
        let mut c = srv.connect();
        // Refused on its announced length: nothing of the body is sent.
        write!(
            c,
            "POST {path} HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n\r\n",
            ilot_wire::MAX_SEALED_BATCH_LEN + 1
        )
        .unwrap();
        c.flush().unwrap();
        let (status, body) = answer(&mut *c);
        assert_eq!(status, 413, "{path}: {body}");
        assert!(body.contains("4194396 bytes"), "{body}");
    }
    // A body of the largest batch's size is read (and refused as malformed, not too large).
    let mut c = srv.connect();
    let n = ilot_wire::MAX_SEALED_BATCH_LEN;
    write!(
        c,
        "POST {} HTTP/1.1\r\nHost: t\r\nContent-Length: {n}\r\n\r\n",
        paths::PUSH
    )
    .unwrap();
    c.write_all(&vec![0u8; n]).unwrap();
    c.flush().unwrap();
    let (status, body) = answer(&mut *c);
    assert_eq!(status, 400, "{body}");
}

#[rstest]
fn headers_sent_too_slowly_are_cut_off(#[values(false, true)] tls: bool) {
    let srv = start(
        tls,
        Limits {
            header_read: Duration::from_secs(1),
            ..limits()
        },
    );
    let mut c = srv.connect();
    c.write_all(b"POST /v1/operator/login HTTP/1.1\r\nHost: t\r\n")
        .unwrap();
    c.flush().unwrap();
    // One byte of a header every 200 ms: the connection is never idle, only slow.
    let until = Instant::now() + PATIENCE;
    let mut cut = false;
    while Instant::now() < until {
        std::thread::sleep(Duration::from_millis(200));
        if c.write_all(b"X").and_then(|()| c.flush()).is_err() {
            cut = true;
            break;
        }
    }
    assert!(
        cut || closed_by_server(&mut *c),
        "the server still waits for the headers"
    );
}

#[rstest]
fn a_stalled_upload_is_answered_408(#[values(false, true)] tls: bool) {
    let srv = start(
        tls,
        Limits {
            request: Duration::from_secs(1),
            ..limits()
        },
    );
    let mut c = srv.connect();
    c.write_all(b"POST /v1/push HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\nILOT")
        .unwrap();
    c.flush().unwrap();
    let (status, body) = answer(&mut *c);
    assert_eq!(status, 408, "{body}");
    assert!(body.contains(r#""error":"timed_out""#), "{body}");
}

#[rstest]
fn idle_connections_are_closed(#[values(false, true)] tls: bool) {
    let srv = start(
        tls,
        Limits {
            idle: Duration::from_secs(1),
            ..limits()
        },
    );
    // After a request, kept alive with nothing more to ask.
    let mut c = srv.connect();
    assert_eq!(get(&mut *c).0, 200);
    assert!(closed_by_server(&mut *c), "kept open after its request");
    // Opened and never used (no TLS handshake either: the bare socket).
    let mut silent: Box<dyn Conn> = Box::new(srv.tcp());
    assert!(
        closed_by_server(&mut *silent),
        "a silent connection kept open"
    );
}

#[rstest]
fn connections_beyond_the_cap_wait_until_one_ends(#[values(false, true)] tls: bool) {
    let srv = start(
        tls,
        Limits {
            max_connections: 2,
            ..limits()
        },
    );
    let mut a = srv.connect();
    let b = srv.connect();
    assert_eq!(get(&mut *a).0, 200, "within the cap");
    // The third is not served while two are open (the kernel queues it, unaccepted).
    let third = srv.tcp();
    third
        .set_read_timeout(Some(Duration::from_millis(1500)))
        .unwrap();
    let mut c: Box<dyn Conn> = match &srv.tls {
        None => Box::new(third),
        Some(cfg) => {
            let name = ServerName::try_from("localhost").unwrap();
            let conn = rustls::ClientConnection::new(cfg.clone(), name).unwrap();
            Box::new(rustls::StreamOwned::new(conn, third))
        }
    };
    let early = c
        .write_all(b"GET /openapi.json HTTP/1.1\r\nHost: t\r\n\r\n")
        .and_then(|()| c.flush())
        .and_then(|()| {
            let mut byte = [0u8; 1];
            c.read(&mut byte)
        });
    assert!(
        matches!(&early, Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)),
        "the third connection was served beyond the cap: {early:?}"
    );
    drop(b);
    drop(a);
    // Now it is accepted and answered (TLS: the handshake it started goes on).
    if let Some(cfg) = &srv.tls {
        // The handshake timed out on the client side above; start over on a fresh socket.
        let _ = cfg;
        let mut d = srv.connect();
        assert_eq!(get(&mut *d).0, 200);
    } else {
        let mut byte = [0u8; 1];
        let tcp_wait = Instant::now() + PATIENCE;
        let mut rest = Vec::new();
        loop {
            match c.read(&mut byte) {
                Ok(1) => {
                    rest.push(byte[0]);
                    if rest.ends_with(b"\r\n") {
                        break;
                    }
                }
                Ok(_) => panic!("closed"),
                Err(e) if Instant::now() < tcp_wait && e.kind() != ErrorKind::ConnectionReset => {
                    continue;
                }
                Err(e) => panic!("never answered: {e}"),
            }
        }
        assert!(rest.starts_with(b"HTTP/1.1 200"), "{rest:?}");
    }
}
