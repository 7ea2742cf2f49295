//! How the server reaches PostgreSQL: over TLS (rustls with the aws-lc-rs provider, named
//! explicitly, through `tokio-postgres-rustls`), checked against the system's roots plus an
//! optional CA file, and never in plain text to another machine unless the operator asks for it.
//!
//! `sslmode` (a URL parameter, libpq's names) means here:
//!
//! | sslmode | TLS | certificate | host name | plain text possible |
//! |---|---|---|---|---|
//! | `disable` | never | — | — | yes |
//! | `prefer` | when the server offers it | checked | checked | yes (server without TLS) |
//! | `require`, `verify-ca` | always | checked | not checked | no |
//! | `verify-full` | always | checked | checked | no |
//!
//! Unlike libpq, a certificate is never accepted unchecked: `require` is `verify-ca` (an
//! unchecked certificate lets anyone on the path read the traffic), and `prefer` checks what
//! it gets. Without `sslmode`, a database on this machine gets `prefer` and any other
//! `verify-full`. A mode that may send plain text (`disable`, `prefer`) to a host that is not
//! loopback (an IP address that parses as loopback, the literal `localhost`, or a Unix socket)
//! is refused unless `ILOT_DB_ALLOW_PLAINTEXT=1`. `sslrootcert=PATH` adds the CA certificates
//! of a PEM file to the system's roots (a private CA).

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use r2d2_postgres::postgres::{self, config::Host};
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::error::{Result, ServerError};

/// The variable an operator sets to `1` to allow plain text to a database on another machine.
pub const ALLOW_PLAINTEXT_ENV: &str = "ILOT_DB_ALLOW_PLAINTEXT";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "disable" => Self::Disable,
            "prefer" => Self::Prefer,
            "require" => Self::Require,
            "verify-ca" => Self::VerifyCa,
            "verify-full" => Self::VerifyFull,
            other => {
                return Err(ServerError::Storage(format!(
                    "sslmode={other:?} is not a mode: use disable, prefer, require, verify-ca or verify-full"
                )));
            }
        })
    }

    fn name(self) -> &'static str {
        match self {
            Self::Disable => "disable",
            Self::Prefer => "prefer",
            Self::Require => "require",
            Self::VerifyCa => "verify-ca",
            Self::VerifyFull => "verify-full",
        }
    }

    fn may_be_plain(self) -> bool {
        matches!(self, Self::Disable | Self::Prefer)
    }
}

/// What `connect.rs` needs to connect: the driver's configuration (TLS mode set) and the TLS
/// connector the pool uses.
#[derive(Debug)]
pub struct Plan {
    pub mode: SslMode,
    pub config: postgres::Config,
    pub root_file: Option<PathBuf>,
}

/// Reads `url` (`shown` is its redacted form, for messages), takes out the parameters the
/// driver does not know (`sslmode`'s verify modes, `sslrootcert`) and decides the TLS mode.
pub fn plan(url: &str, shown: &str, allow_plaintext: bool) -> Result<Plan> {
    let (head, query) = match url.split_once('?') {
        Some((h, q)) => (h, q),
        None => (url, ""),
    };
    let mut mode = None;
    let mut root_file = None;
    let mut rest = Vec::new();
    for kv in query.split('&').filter(|kv| !kv.is_empty()) {
        match kv.split_once('=') {
            Some(("sslmode", v)) => mode = Some(SslMode::parse(&percent_decode(v))?),
            Some(("sslrootcert", v)) => root_file = Some(PathBuf::from(percent_decode(v))),
            _ => rest.push(kv),
        }
    }
    let driver_url = if rest.is_empty() {
        head.to_string()
    } else {
        format!("{head}?{}", rest.join("&"))
    };
    let mut config: postgres::Config = driver_url
        .parse()
        .map_err(|e| ServerError::Storage(format!("invalid PostgreSQL URL {shown}: {e}")))?;
    let local = is_local(&config);
    let mode = mode.unwrap_or(if local {
        SslMode::Prefer
    } else {
        SslMode::VerifyFull
    });
    if mode.may_be_plain() && !local && !allow_plaintext {
        return Err(ServerError::Storage(format!(
            "the database at {shown} is not on this machine and sslmode={} may send its password and the patients' data in plain text: use sslmode=verify-full (with sslrootcert=CA.pem for a private CA), or, on a network you trust, set {ALLOW_PLAINTEXT_ENV}=1",
            mode.name()
        )));
    }
    config.ssl_mode(match mode {
        SslMode::Disable => postgres::config::SslMode::Disable,
        SslMode::Prefer => postgres::config::SslMode::Prefer,
        SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => {
            postgres::config::SslMode::Require
        }
    });
    Ok(Plan {
        mode,
        config,
        root_file,
    })
}

/// Whether every host of the configuration is this machine: a Unix socket, the literal
/// `localhost`, or an address that parses as loopback (`127.attacker.example` is a name, not
/// an address, so it is not).
fn is_local(config: &postgres::Config) -> bool {
    let hosts = config.get_hosts();
    let addrs = config.get_hostaddrs();
    if hosts.is_empty() && addrs.is_empty() {
        return false;
    }
    // A hostaddr is where the connection really goes; the host then only names the certificate.
    if !addrs.is_empty() {
        return addrs.iter().all(IpAddr::is_loopback);
    }
    hosts.iter().all(|h| match h {
        Host::Unix(_) => true,
        Host::Tcp(name) => is_loopback_name(name),
    })
}

/// `localhost`, or an IP address (IPv6 with or without brackets) in the loopback range.
pub fn is_loopback_name(name: &str) -> bool {
    if name.eq_ignore_ascii_case("localhost") {
        return true;
    }
    let bare = name
        .strip_prefix('[')
        .and_then(|n| n.strip_suffix(']'))
        .unwrap_or(name);
    bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The TLS connector for `plan`: system roots plus the CA file, checked as the mode says.
pub fn connector(plan: &Plan) -> Result<MakeRustlsConnect> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    // Unreadable system certificates are skipped: the CA file may be all this deployment needs.
    roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    if let Some(file) = &plan.root_file {
        let added = read_roots(file, &mut roots)?;
        if added == 0 {
            return Err(ServerError::Storage(format!(
                "sslrootcert {} holds no certificate (PEM)",
                file.display()
            )));
        }
    }
    let tls = |e: rustls::Error| ServerError::Storage(format!("TLS to PostgreSQL: {e}"));
    let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| {
            ServerError::Storage(format!(
                "no trusted root certificate to check the database's certificate ({e}): give sslrootcert=CA.pem"
            ))
        })?;
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(tls)?;
    let config = match plan.mode {
        SslMode::Require | SslMode::VerifyCa => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyName(verifier)))
            .with_no_client_auth(),
        _ => builder.with_webpki_verifier(verifier).with_no_client_auth(),
    };
    Ok(MakeRustlsConnect::new(config))
}

fn read_roots(file: &Path, roots: &mut rustls::RootCertStore) -> Result<usize> {
    let err = |e: &dyn std::fmt::Display| {
        ServerError::Storage(format!("cannot read sslrootcert {}: {e}", file.display()))
    };
    let mut added = 0;
    for cert in CertificateDer::pem_file_iter(file).map_err(|e| err(&e))? {
        roots.add(cert.map_err(|e| err(&e))?).map_err(|e| err(&e))?;
        added += 1;
    }
    Ok(added)
}

/// `verify-ca`: the chain must lead to a trusted root, whatever name the certificate carries.
#[derive(Debug)]
struct AnyName(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for AnyName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        // The chain is checked before the name: a name error means the chain was good.
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan_of(url: &str, allow: bool) -> Result<Plan> {
        plan(url, url, allow)
    }

    #[test]
    fn loopback_is_parsed_not_guessed() {
        for local in [
            "127.0.0.1",
            "127.9.9.9",
            "::1",
            "[::1]",
            "localhost",
            "LOCALHOST",
        ] {
            assert!(is_loopback_name(local), "{local}");
        }
        for remote in [
            "127.attacker.example",
            "localhost.example",
            "10.0.0.1",
            "db",
            "::2",
        ] {
            assert!(!is_loopback_name(remote), "{remote}");
        }
    }

    #[test]
    fn modes_default_by_place_and_plain_text_leaves_only_on_request() {
        let local = plan_of("postgres://u@127.0.0.1:5432/d", false).unwrap();
        assert_eq!(local.mode, SslMode::Prefer);
        let remote = plan_of("postgres://u@db.example/d", false).unwrap();
        assert_eq!(remote.mode, SslMode::VerifyFull);
        for mode in ["disable", "prefer"] {
            for host in ["db.example", "10.0.0.5", "127.attacker.example"] {
                let url = format!("postgres://u:pw@{host}/d?sslmode={mode}");
                let e = plan_of(&url, false).unwrap_err().to_string();
                assert!(
                    e.contains("plain text") && e.contains(ALLOW_PLAINTEXT_ENV),
                    "{url}: {e}"
                );
                assert_eq!(
                    plan_of(&url, true).unwrap().mode,
                    SslMode::parse(mode).unwrap()
                );
            }
        }
        assert_eq!(
            plan_of("postgres://u@localhost/d?sslmode=disable", false)
                .unwrap()
                .mode,
            SslMode::Disable
        );
        let e = plan_of("postgres://u@db/d?sslmode=allow", false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("verify-full"), "{e}");
    }

    #[test]
    fn our_parameters_are_taken_out_and_the_rest_kept() {
        let p = plan_of(
            "postgres://u@db.example:6432/d?sslmode=verify-ca&application_name=ilot&sslrootcert=%2Fetc%2Fca%20x.pem",
            false,
        )
        .unwrap();
        assert_eq!(p.mode, SslMode::VerifyCa);
        assert_eq!(p.root_file, Some(PathBuf::from("/etc/ca x.pem")));
        assert_eq!(p.config.get_application_name(), Some("ilot"));
        assert_eq!(p.config.get_ports(), &[6432]);
    }
}
