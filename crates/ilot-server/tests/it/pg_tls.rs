//! PostgreSQL over TLS (issue 10, item 6), against a throwaway cluster with `ssl=on` and a
//! certificate for `localhost`/`127.0.0.1` signed by a test CA: the certificate is checked
//! (CA and, with verify-full, the host name), and plain text to another machine is refused.

use ilot_server::storage::Storage;

use crate::support::key;

struct TlsDb {
    cluster: ilot_testpg::Cluster,
    /// `postgres://postgres@127.0.0.1:PORT/DB`, no parameters.
    url: String,
    db: String,
    port: u16,
}

fn tls_db() -> TlsDb {
    let cluster = ilot_testpg::Cluster::start_tls().unwrap();
    let url = cluster.fresh_database("tls").unwrap();
    let db = url.rsplit('/').next().unwrap().to_string();
    let port = url
        .split("127.0.0.1:")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .unwrap()
        .parse()
        .unwrap();
    TlsDb {
        cluster,
        url,
        db,
        port,
    }
}

fn open(url: &str) -> Result<Box<dyn Storage>, String> {
    ilot_server::storage::open(url, &key()).map_err(|e| e.to_string())
}

/// Connections to `db` that use TLS, seen from the server.
fn tls_connections(t: &TlsDb) -> i64 {
    let mut c = postgres::Client::connect(&t.url, postgres::NoTls).unwrap();
    c.query_one(
        "SELECT count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)
         WHERE a.datname = $1 AND s.ssl",
        &[&t.db],
    )
    .unwrap()
    .get(0)
}

fn other_ca(dir: &std::path::Path) -> std::path::PathBuf {
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let key = rcgen::KeyPair::generate().unwrap();
    let pem = params.self_signed(&key).unwrap().pem();
    let p = dir.join("other-ca.pem");
    std::fs::write(&p, pem).unwrap();
    p
}

#[test]
fn verify_full_with_the_ca_file_connects_over_tls() {
    let t = tls_db();
    let ca = t.cluster.ca_file().unwrap().display().to_string();
    for host in ["127.0.0.1", "localhost"] {
        let url = format!(
            "postgres://postgres@{host}:{}/{}?sslmode=verify-full&sslrootcert={ca}",
            t.port, t.db
        );
        let s = open(&url).unwrap_or_else(|e| panic!("{url}: {e}"));
        s.server_secret(ilot_wire::ServerSecret::generate(&mut rand::rng()))
            .unwrap();
        assert!(
            tls_connections(&t) >= 1,
            "{url}: the pool's connections use TLS"
        );
        drop(s);
    }
}

#[test]
fn a_certificate_from_another_ca_is_refused_with_a_clear_error() {
    let t = tls_db();
    let dir = tempfile::tempdir().unwrap();
    let wrong = other_ca(dir.path());
    for url in [
        format!(
            "{}?sslmode=verify-full&sslrootcert={}",
            t.url,
            wrong.display()
        ),
        format!(
            "{}?sslmode=verify-ca&sslrootcert={}",
            t.url,
            wrong.display()
        ),
        format!("{}?sslmode=require", t.url),
        // Only the system's roots: the test CA is not one of them.
        format!("{}?sslmode=verify-full", t.url),
    ] {
        let e = open(&url)
            .err()
            .unwrap_or_else(|| panic!("{url}: accepted"));
        assert!(
            e.contains("certificate") && e.contains("trusted root"),
            "{url}: {e}"
        );
    }
    assert_eq!(tls_connections(&t), 0, "nothing stayed connected");
}

#[test]
fn verify_full_checks_the_host_name_and_verify_ca_does_not() {
    let t = tls_db();
    let ca = t.cluster.ca_file().unwrap().display().to_string();
    // The connection goes to 127.0.0.1 (hostaddr) but the name checked is the host's.
    let url = |mode: &str| {
        format!(
            "postgres://postgres@db.example:{}/{}?hostaddr=127.0.0.1&sslmode={mode}&sslrootcert={ca}",
            t.port, t.db
        )
    };
    let e = open(&url("verify-full"))
        .err()
        .expect("a certificate for another name");
    assert!(e.contains("certificate"), "{e}");
    open(&url("verify-ca")).unwrap();
}

#[test]
fn plain_text_to_another_machine_is_refused_before_connecting() {
    for url in [
        "postgres://ilot:hunter2@10.255.255.1:5432/ilot?sslmode=disable",
        "postgres://ilot:hunter2@db.example/ilot?sslmode=prefer",
        // A name that starts like a loopback address is still a name.
        "postgres://ilot:hunter2@127.attacker.example/ilot?sslmode=disable",
    ] {
        let e = open(url).err().unwrap_or_else(|| panic!("{url}: accepted"));
        assert!(
            e.contains("plain text") && e.contains("ILOT_DB_ALLOW_PLAINTEXT"),
            "{url}: {e}"
        );
        assert!(!e.contains("hunter2"), "{e}");
    }
}
