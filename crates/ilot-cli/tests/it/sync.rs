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

#[test]
fn a_patient_enrols_logs_offline_and_syncs_once_the_server_is_up() {
    let env = Env::new();
    let sdb = format!("sqlite:{}", env.dir.path().join("server.db").display());
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    operator(
        &sdb,
        &["create-operator", "--username", "dr", "--name", "Dr Martin"],
    );
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
