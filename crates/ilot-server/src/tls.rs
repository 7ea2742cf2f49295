//! HTTPS for the server: rustls (aws-lc-rs provider, TLS 1.2 and 1.3) through tokio-rustls in
//! the server's own accept loop (`transport.rs`),
//! with the certificate and key from PEM files, and a development certificate made once with
//! rcgen for `localhost`, `127.0.0.1` and `::1`.
//!
//! The development key is written `0600`; its certificate's SHA-256 fingerprint is what a
//! person compares before trusting it. Nothing here logs a key.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};

use crate::error::{Result, ServerError};
use crate::http::AppState;

/// Where the development certificate lives under the server's data folder.
pub const DEV_CERT: &str = "tls/dev-cert.pem";
pub const DEV_KEY: &str = "tls/dev-key.pem";

/// A development certificate on disk.
#[derive(Debug, Clone)]
pub struct DevCert {
    pub cert: PathBuf,
    pub key: PathBuf,
    /// SHA-256 of the certificate (DER), as `AB:CD:…`.
    pub fingerprint: String,
    /// False when an earlier run had already made it.
    pub created: bool,
}

fn tls(msg: impl Into<String>) -> ServerError {
    ServerError::Tls(msg.into())
}

/// Makes the self-signed development certificate in `dir` unless it is already there (so that
/// devices that trusted it keep trusting it across restarts).
pub fn dev_certificate(dir: &Path) -> Result<DevCert> {
    let (cert, key) = (dir.join(DEV_CERT), dir.join(DEV_KEY));
    let created = !(cert.exists() && key.exists());
    if created {
        let parent = cert.parent().unwrap_or(dir);
        std::fs::create_dir_all(parent)
            .map_err(|e| tls(format!("cannot create {}: {e}", parent.display())))?;
        let names = vec!["localhost".into(), "127.0.0.1".into(), "::1".into()];
        let made = rcgen::generate_simple_self_signed(names)
            .map_err(|e| tls(format!("cannot make the development certificate: {e}")))?;
        write_private(&key, made.signing_key.serialize_pem().as_bytes())?;
        std::fs::write(&cert, made.cert.pem())
            .map_err(|e| tls(format!("cannot write {}: {e}", cert.display())))?;
    }
    let pem =
        std::fs::read(&cert).map_err(|e| tls(format!("cannot read {}: {e}", cert.display())))?;
    Ok(DevCert {
        fingerprint: fingerprint(&pem)?,
        cert,
        key,
        created,
    })
}

/// Writes a key readable by the owner only, created with that mode (never briefly wider).
fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o.open(path)
        .and_then(|mut f| f.write_all(bytes).and_then(|()| f.sync_all()))
        .map_err(|e| tls(format!("cannot write {}: {e}", path.display())))
}

/// SHA-256 of the first certificate of a PEM file, as colon-separated upper-case hex.
pub fn fingerprint(cert_pem: &[u8]) -> Result<String> {
    let der = CertificateDer::from_pem_slice(cert_pem)
        .map_err(|e| tls(format!("not a PEM certificate: {e}")))?;
    Ok(Sha256::digest(der.as_ref())
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":"))
}

/// A rustls server configuration from PEM files (certificate chain, private key).
pub fn server_config(cert: &Path, key: &Path) -> Result<Arc<rustls::ServerConfig>> {
    let read =
        |p: &Path| std::fs::read(p).map_err(|e| tls(format!("cannot read {}: {e}", p.display())));
    let cert_pem = read(cert)?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| tls(format!("{} is not a PEM certificate: {e}", cert.display())))?;
    if chain.is_empty() {
        return Err(tls(format!("{} holds no certificate", cert.display())));
    }
    let key = PrivateKeyDer::from_pem_slice(&read(key)?)
        .map_err(|e| tls(format!("{} is not a PEM private key: {e}", key.display())))?;
    // The provider is named, not taken from the process default, which is ambiguous when
    // several are compiled in.
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| {
            tls(format!(
                "the certificate and key do not make a usable pair: {e}"
            ))
        })?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Serves HTTPS on `listener` until the process ends, with the no-data scheduler beside (the
/// TLS twin of [`crate::serve`]).
pub async fn serve_tls(
    state: AppState,
    listener: std::net::TcpListener,
    config: Arc<rustls::ServerConfig>,
) -> std::io::Result<()> {
    listener.set_nonblocking(true)?;
    let listener = tokio::net::TcpListener::from_std(listener)?;
    tokio::spawn(crate::scheduler::run(state.clone()));
    crate::transport::serve(
        listener,
        Some(tokio_rustls::TlsAcceptor::from(config)),
        state,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dev_certificate_is_made_once_with_a_private_key() {
        let dir = tempfile::tempdir().unwrap();
        let first = dev_certificate(dir.path()).unwrap();
        assert!(first.created);
        let again = dev_certificate(dir.path()).unwrap();
        assert!(!again.created);
        assert_eq!(first.fingerprint, again.fingerprint, "kept across restarts");
        assert_eq!(first.fingerprint.len(), 32 * 3 - 1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&first.key).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        server_config(&first.cert, &first.key).unwrap();
        let err = server_config(&first.key, &first.key).unwrap_err();
        assert!(err.to_string().contains("no certificate"), "{err}");
    }
}
