//! HTTPS between device and server: a real rustls server on loopback with the development
//! certificate. With that certificate given as an extra root, enrolment and sync work; without
//! it the device refuses the server with a clear error and sends nothing; plain http is only
//! for loopback.

use ilot_sync::{HttpTransport, SyncError, SyncState, Transport};
use ilot_wire::ServerUrl;

use crate::support::*;

fn pinned(url: &str, pem: &[u8]) -> HttpTransport {
    HttpTransport::with_root_pem_and_timeout(
        ServerUrl::parse(url).unwrap(),
        pem,
        std::time::Duration::from_secs(20),
    )
    .unwrap()
}

#[test]
fn enrolment_and_sync_over_https_with_the_dev_certificate_as_root() {
    let dir = tempfile::tempdir().unwrap();
    let (server, dev) = TestServer::start_tls(dir.path());
    let pem = std::fs::read(&dev.cert).unwrap();
    let url = server.url();
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    let e = server.new_patient("A");
    assert!(
        e.link.starts_with("ilot://enrol?"),
        "the invite names the https server"
    );

    let mut d = device();
    ilot_sync::enrol(
        &mut d,
        &e.link,
        None,
        |s| Ok(Box::new(pinned(s.as_str(), &pem)) as Box<dyn Transport>),
        None,
        &mut rand::rng(),
        t0(),
    )
    .unwrap();
    assert_eq!(d.identity().unwrap().unwrap().patient_id, e.patient_id);
    ilot_sync::set_consent(&mut d, true, 1, t0()).unwrap();
    d.store.add_batch(&cgm_entries(12, 1), t0()).unwrap();
    let r = ilot_sync::sync_once(
        &mut d,
        &pinned(&url, &pem),
        ilot_sync::Limits::default(),
        &mut rand::rng(),
        t0(),
    )
    .unwrap();
    assert_eq!((r.stored, r.duplicates), (12, 0));
    assert_eq!(
        server
            .state
            .storage()
            .count_entry_versions(e.patient_id)
            .unwrap(),
        12
    );
}

#[test]
fn without_the_certificate_the_device_refuses_the_server_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let (server, _dev) = TestServer::start_tls(dir.path());
    let e = server.new_patient("A");
    let mut d = device();
    let err = ilot_sync::enrol(
        &mut d,
        &e.link,
        None,
        |s| Ok(Box::new(transport(s.as_str())) as Box<dyn Transport>),
        None,
        &mut rand::rng(),
        t0(),
    )
    .unwrap_err();
    assert!(matches!(err, SyncError::UntrustedServer { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("did not prove") && msg.contains("--ca"),
        "{msg}"
    );
    assert!(!err.is_transient(), "retrying will not make it trusted");
    assert!(d.identity().unwrap().is_none(), "nothing saved");

    // Another certificate than the server's does not help either.
    let other = tempfile::tempdir().unwrap();
    let wrong = ilot_server::tls::dev_certificate(other.path()).unwrap();
    let pem = std::fs::read(&wrong.cert).unwrap();
    let t = pinned(&server.url(), &pem);
    let err = t
        .post(
            ilot_wire::api::paths::ENROL,
            "application/json",
            b"{}".to_vec(),
        )
        .unwrap_err();
    assert!(matches!(err, SyncError::UntrustedServer { .. }), "{err:?}");
}

#[test]
fn plain_http_is_refused_for_anything_but_loopback_and_a_bad_pem_is_named() {
    for url in [
        "http://192.168.1.10:8480",
        "http://example.org",
        "http://10.0.0.1",
    ] {
        let err = ServerUrl::parse(url).unwrap_err().to_string();
        assert!(
            err.contains("plain http is only for a server on this machine"),
            "{url}: {err}"
        );
    }
    for url in [
        "http://127.0.0.1:8480",
        "http://localhost:8480",
        "https://example.org",
    ] {
        assert!(ServerUrl::parse(url).is_ok(), "{url}");
    }
    // Enrolling with an http link to another host stops before anything is sent.
    let mut d = device();
    let mut called = false;
    let code = ilot_wire::EnrolmentCode::generate(&mut rand::rng()).to_string();
    let err = ilot_sync::enrol(
        &mut d,
        &code,
        Some("http://192.168.1.10:8480"),
        |_| {
            called = true;
            Err(SyncError::State(
                "no transport for a refused address".into(),
            ))
        },
        None,
        &mut rand::rng(),
        t0(),
    )
    .unwrap_err();
    assert!(!called);
    assert!(err.to_string().contains("plain http"), "{err}");

    let err = HttpTransport::with_root_pem(
        ServerUrl::parse("https://example.org").unwrap(),
        b"not a certificate",
    )
    .unwrap_err();
    assert!(matches!(err, SyncError::BadCertificate(_)), "{err:?}");
}
