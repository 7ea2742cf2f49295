//! A real `ilot server` process facing clients that misbehave on the socket: a POST whose body
//! never ends because the client closed (a phone losing signal mid-push) or reset the
//! connection, over plain HTTP and over TLS (where a normal close makes the server write its own
//! close alert to a closed socket). The process must survive all of them and keep answering;
//! a closed stdout ends a printing command quietly.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::Arc;
use std::time::Duration;

use ilot_wire::api::paths;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};

use crate::support::Env;
use crate::sync::{Server, free_port, server_cmd, start_server};

/// How the client leaves in the middle of its request body.
#[derive(Debug, Clone, Copy)]
enum Leave {
    /// Shuts its side down (FIN) and reads what comes back.
    HalfClose,
    /// Closes the socket without reading.
    Close,
    /// Resets the connection (RST, SO_LINGER 0).
    Reset,
}

const LEAVES: [Leave; 3] = [Leave::HalfClose, Leave::Close, Leave::Reset];

/// A request head announcing `announced` bytes of body, and a first part of that body.
fn partial_post(path: &str, announced: usize) -> Vec<u8> {
    let mut req = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\nContent-Length: {announced}\r\n\r\n"
    )
    .into_bytes();
    req.extend_from_slice(b"ILOT\x01\x01\x00\x00 only the start of a sealed batch");
    req
}

fn reset(tcp: &TcpStream) {
    socket2::SockRef::from(tcp)
        .set_linger(Some(Duration::ZERO))
        .unwrap();
}

/// The server's answer to what it had time to answer, if anything (errors are expected: the
/// server may reset a connection the client abandoned).
fn drain(mut r: impl Read) {
    let mut buf = [0u8; 4096];
    while let Ok(n) = r.read(&mut buf) {
        if n == 0 {
            break;
        }
    }
}

fn plain_attack(port: u16, path: &str, leave: Leave) {
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    tcp.write_all(&partial_post(path, 100_000)).unwrap();
    // Let the server start reading the body before the client goes.
    std::thread::sleep(Duration::from_millis(50));
    match leave {
        Leave::HalfClose => {
            tcp.shutdown(Shutdown::Write).unwrap();
            drain(&tcp);
        }
        Leave::Close => drop(tcp),
        Leave::Reset => {
            reset(&tcp);
            drop(tcp);
        }
    }
}

fn tls_client(cert_pem: &Path) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(cert_pem).unwrap() {
        roots.add(c.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    Arc::new(
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

fn tls_connect(
    port: u16,
    config: &Arc<rustls::ClientConfig>,
) -> rustls::StreamOwned<rustls::ClientConnection, TcpStream> {
    let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    let conn = rustls::ClientConnection::new(config.clone(), name).unwrap();
    rustls::StreamOwned::new(conn, tcp)
}

fn tls_attack(port: u16, config: &Arc<rustls::ClientConfig>, path: &str, leave: Leave) {
    let mut s = tls_connect(port, config);
    s.write_all(&partial_post(path, 100_000)).unwrap();
    s.flush().unwrap();
    std::thread::sleep(Duration::from_millis(50));
    match leave {
        Leave::HalfClose => {
            // A normal TLS close: close_notify, FIN, then read the server's answer.
            s.conn.send_close_notify();
            let _ = s.conn.complete_io(&mut s.sock);
            let _ = s.sock.shutdown(Shutdown::Write);
            drain(&mut s);
        }
        Leave::Close => {
            s.conn.send_close_notify();
            let _ = s.conn.complete_io(&mut s.sock);
            drop(s);
        }
        Leave::Reset => {
            reset(&s.sock);
            drop(s);
        }
    }
}

/// Sends a whole request and returns the status line of the answer.
fn status_line(mut s: impl Read + Write) -> String {
    s.write_all(b"GET /openapi.json HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .unwrap();
    s.flush().unwrap();
    let mut line = String::new();
    BufReader::new(s).read_line(&mut line).unwrap();
    line
}

fn assert_alive(child: &mut Child, what: &str) {
    // Give a dying process the time to be reaped before looking.
    std::thread::sleep(Duration::from_millis(200));
    let status = child.try_wait().unwrap();
    assert!(
        status.is_none(),
        "the server died after {what}: {status:?} (141 / signal 13 is SIGPIPE)"
    );
}

/// `ilot server --dev-tls`: the certificate line, then the listening line.
fn start_tls_server(db: &str, port: u16) -> Server {
    let listen = format!("127.0.0.1:{port}");
    let mut server = Server {
        child: server_cmd(db)
            .args(["server", "--dev-tls", "--listen", &listen])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    };
    let out = BufReader::new(server.child.stdout.take().unwrap());
    let mut printed = String::new();
    for line in out.lines() {
        let line = line.unwrap();
        printed.push_str(&line);
        if line.contains("listening on https://") {
            break;
        }
    }
    assert!(printed.contains("development certificate"), "{printed}");
    assert!(printed.contains("listening on https://"), "{printed}");
    // The reader is dropped here: the server's standard output is closed from now on.
    server
}

#[test]
fn a_client_leaving_mid_body_over_plain_http_does_not_kill_the_server() {
    let env = Env::new();
    let sdb = format!("sqlite:{}", env.dir.path().join("server.db").display());
    let port = free_port();
    let mut server = start_server(&sdb, port);
    for round in 0..3 {
        for path in [paths::PUSH, paths::PULL, "/v1/operator/login"] {
            for leave in LEAVES {
                plain_attack(port, path, leave);
                assert_alive(
                    &mut server.child,
                    &format!("round {round}: {leave:?} in the body of POST {path} (plain)"),
                );
            }
        }
    }
    let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let line = status_line(tcp);
    assert!(line.starts_with("HTTP/1.1 200"), "{line}");
}

#[test]
fn a_client_leaving_mid_body_over_tls_does_not_kill_the_server() {
    let env = Env::new();
    let sdb = format!("sqlite:{}", env.dir.path().join("server.db").display());
    let port = free_port();
    let mut server = start_tls_server(&sdb, port);
    let config = tls_client(&env.dir.path().join(ilot_server::tls::DEV_CERT));
    for round in 0..3 {
        for path in [paths::PUSH, paths::PULL, "/v1/operator/login"] {
            for leave in LEAVES {
                tls_attack(port, &config, path, leave);
                assert_alive(
                    &mut server.child,
                    &format!("round {round}: {leave:?} in the body of POST {path} (TLS)"),
                );
            }
        }
    }
    let line = status_line(tls_connect(port, &config));
    assert!(line.starts_with("HTTP/1.1 200"), "{line}");
}

/// `ilot entries | head -0`: the reader is gone before anything is printed. The command ends
/// quietly with the status a closed pipe gives (141), without a panic message.
#[test]
fn a_closed_stdout_ends_a_printing_command_quietly() {
    let env = Env::new();
    env.ok(&["log", "glucose", "126", "mg/dL"]);
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = env
        .cmd()
        .args(["entries"])
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        stderr.is_empty(),
        "nothing is said about the closed pipe: {stderr}"
    );
    assert_eq!(out.status.code(), Some(141), "{:?}", out.status);
}
