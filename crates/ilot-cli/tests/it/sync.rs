//! `ilot server`, `ilot operator`, `ilot enroll`, `ilot consent` and `ilot sync` as separate
//! processes on loopback: the whole path a patient and a care team take.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use crate::support::Env;

pub(crate) struct Server {
    pub(crate) child: Child,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub(crate) fn server_cmd(db: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ilot"));
    c.env_remove("ILOT_DB")
        .env_remove("ILOT_LOG")
        .args(["--db", db]);
    // As a PostgreSQL deployment or a container does (nodes share one key), so that no key
    // file or keyring entry is left by the tests and they can open the database themselves;
    // the keyring and key-file paths are tested in `server_key.rs`.
    c.env("ILOT_SERVER_KEY", "ab".repeat(32));
    c
}

pub(crate) fn start_server(db: &str, port: u16) -> Server {
    let listen = format!("127.0.0.1:{port}");
    let mut child = server_cmd(db)
        .args(["server", "--listen", &listen])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.contains("listening on"), "{line}");
    Server { child }
}

pub(crate) fn operator(db: &str, args: &[&str]) -> String {
    let out = server_cmd(db)
        .arg("operator")
        .args(args)
        .env("ILOT_PASSWORD", "a long enough password")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "operator {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The secret `create-operator` printed ("or type the secret: …").
pub(crate) fn totp_secret(out: &str) -> ilot_server::totp::TotpSecret {
    let b32 = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("or type the secret: "))
        .expect("the secret is printed");
    ilot_server::totp::TotpSecret::from_base32(b32).expect("base32")
}

#[test]
fn a_patient_enrols_logs_offline_and_syncs_once_the_server_is_up() {
    let env = Env::new();
    let sdb = format!("sqlite:{}", env.dir.path().join("server.db").display());
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let created_op = operator(
        &sdb,
        &["create-operator", "--username", "dr", "--name", "Dr Martin"],
    );
    // The TOTP secret is shown once, as a URI for the authenticator app and in base32.
    assert!(
        created_op.contains("otpauth://totp/Ilot:dr?") && created_op.contains("team default"),
        "{created_op}"
    );
    let secret = totp_secret(&created_op);
    assert!(created_op.contains(&format!("secret={}", secret.base32().as_str())));
    let created: serde_json::Value = serde_json::from_str(&operator(
        &sdb,
        &[
            "create-patient",
            "--pseudonym",
            "P-42",
            "--by",
            "dr",
            "--start",
            "2026-01-01",
            "--public-url",
            &url,
            "--json",
        ],
    ))
    .unwrap();
    let link = created["link"].as_str().unwrap();
    let code = created["code"].as_str().unwrap();
    assert!(link.starts_with("ilot://enrol?v=1&s="), "{link}");

    // Enrolment needs the server.
    {
        let _server = start_server(&sdb, port);
        let out = env.ok(&["enroll", link]);
        assert!(out.contains("enrolled as P-42"), "{out}");
        // With ILOT_KEYSTORE=file the device secret sits beside the key file, not in the database.
        assert!(env.dir.path().join("patient.db.device.key").exists());
        let again = env.fails(&["enroll", code, "--server", &url]);
        assert!(again.contains("already enrolled"), "{again}");
    }
    // Offline: entries are logged, nothing can be sent, and without consent nothing would be.
    env.ok(&["log", "glucose", "1,10", "g/L", "--at", "2026-01-05 07:30"]);
    env.ok(&["log", "glucose", "2,40", "g/L", "--at", "2026-01-05 12:30"]);
    let e = env.fails(&["sync"]);
    assert!(e.contains("consent"), "{e}");
    env.ok(&["consent", "grant"]);
    let e = env.fails(&["sync"]);
    assert!(
        e.contains("cannot be reached") && e.contains("kept on this device"),
        "{e}"
    );

    let _server = start_server(&sdb, port);
    let out = env.ok(&["sync", "--json"]);
    let r: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(r["sent"], 2, "{out}");
    assert_eq!(r["duplicates"], 0, "each entry sent once: {out}");
    assert_eq!(r["pending"], 0, "{out}");
    let out = env.ok(&["sync", "--json"]);
    let r: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (r["sent"].as_u64(), r["batches"].as_u64()),
        (Some(0), Some(0)),
        "{out}"
    );

    // A message from the care team arrives at the next sync.
    let patient = created["patient_id"].as_str().unwrap();
    operator(
        &sdb,
        &[
            "message",
            "--patient",
            patient,
            "--text",
            "Bonjour",
            "--by",
            "dr",
        ],
    );
    let r: serde_json::Value = serde_json::from_str(&env.ok(&["sync", "--json"])).unwrap();
    assert_eq!(r["messages"], 1);

    env.ok(&["consent", "withdraw"]);
    let r: serde_json::Value = serde_json::from_str(&env.ok(&["sync", "--json"])).unwrap();
    assert_eq!(r["consent_told"], false);
    let r: serde_json::Value = serde_json::from_str(&env.ok(&["sync", "--json"])).unwrap();
    assert_eq!(r["withdrawn"], true);
}

/// `ilot server --dev-tls`: the certificate is made once in the database's folder; a device
/// trusts it only when given it with `--ca`, keeps it for later syncs.
#[test]
fn a_device_enrols_and_syncs_over_https_with_the_dev_certificate() {
    let env = Env::new();
    let sdb = format!("sqlite:{}", env.dir.path().join("server.db").display());
    let port = free_port();
    let url = format!("https://127.0.0.1:{port}");
    operator(
        &sdb,
        &["create-operator", "--username", "dr", "--name", "Dr Martin"],
    );
    let created: serde_json::Value = serde_json::from_str(&operator(
        &sdb,
        &[
            "create-patient",
            "--pseudonym",
            "P-7",
            "--by",
            "dr",
            "--public-url",
            &url,
            "--json",
        ],
    ))
    .unwrap();
    let code = created["code"].as_str().unwrap();

    let listen = format!("127.0.0.1:{port}");
    let mut child = server_cmd(&sdb)
        .args(["server", "--listen", &listen, "--dev-tls"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    let mut line = String::new();
    while !line.contains("listening on") {
        line.clear();
        assert!(out.read_line(&mut line).unwrap() > 0, "server stopped");
    }
    let _server = Server { child };
    assert!(line.contains("https://"), "{line}");
    assert!(
        first.contains("SHA-256") && first.contains("new"),
        "{first}"
    );
    let cert = env.dir.path().join("tls/dev-cert.pem");
    assert!(first.contains(&cert.display().to_string()), "{first}");

    let e = env.fails(&["enroll", code, "--server", &url]);
    assert!(e.contains("did not prove") && e.contains("--ca"), "{e}");
    let cert = cert.display().to_string();
    let out = env.ok(&["enroll", code, "--server", &url, "--ca", &cert]);
    assert!(out.contains("enrolled as P-7"), "{out}");
    env.ok(&["consent", "grant"]);
    env.ok(&["log", "glucose", "1,10", "g/L", "--at", "2026-01-05 07:30"]);
    let r: serde_json::Value = serde_json::from_str(&env.ok(&["sync", "--json"])).unwrap();
    assert_eq!(r["sent"], 1, "the saved certificate is used by sync: {r}");
    assert_eq!(r["duplicates"], 0, "{r}");
}

#[test]
fn plain_http_is_only_served_on_loopback() {
    let env = Env::new();
    let sdb = format!("sqlite:{}", env.dir.path().join("server.db").display());
    let out = server_cmd(&sdb)
        .args(["server", "--listen", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(
        e.contains("plain http is only served on this machine") && e.contains("--tls-cert"),
        "{e}"
    );
}

#[test]
fn the_server_and_the_operator_commands_run_on_postgresql() {
    // Trust authentication ignores the password: it is there to check it never shows.
    let db = ilot_testpg::fresh_database("cli_server").replacen(
        "postgres@",
        "postgres:pw-in-the-url@",
        1,
    );
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let secret = totp_secret(&operator(
        &db,
        &["create-operator", "--username", "dr", "--name", "Dr Martin"],
    ));
    let created: serde_json::Value = serde_json::from_str(&operator(
        &db,
        &[
            "create-patient",
            "--pseudonym",
            "P-PG",
            "--by",
            "dr",
            "--start",
            "2026-01-01",
            "--public-url",
            &url,
            "--json",
        ],
    ))
    .unwrap();
    assert!(created["code"].is_string(), "{created}");

    let listen = format!("127.0.0.1:{port}");
    let mut child = server_cmd(&db)
        .args(["server", "--listen", &listen])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let _server = Server { child };
    assert!(line.contains("listening on"), "{line}");
    assert!(line.contains("postgres:***@"), "{line}");
    assert!(!line.contains("pw-in-the-url"), "{line}");

    let c = reqwest::blocking::Client::new();
    let login: serde_json::Value = c
        .post(format!("{url}/v1/operator/login"))
        .json(&serde_json::json!({
            "username": "dr",
            "password": "a long enough password",
            "totp": secret.code_at(chrono::Utc::now().timestamp() as u64).as_str(),
        }))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let token = login["token"].as_str().expect("a session token");
    let patients: serde_json::Value = c
        .get(format!("{url}/v1/operator/patients"))
        .bearer_auth(token)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let list = patients.as_array().unwrap();
    assert_eq!(list.len(), 1, "{patients}");
    assert_eq!(list[0]["pseudonym"], "P-PG", "{patients}");
}
