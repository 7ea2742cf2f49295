//! `ilot operator reset-password / reset-totp / disable / enable` on a running server's
//! database: each ends the operator's sessions at once (the server keeps none of its own).

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use crate::support::Env;
use crate::sync::{Server, free_port, operator, server_cmd, totp_secret};

#[test]
fn resetting_or_disabling_an_operator_ends_its_sessions_on_the_running_server() {
    let env = Env::new();
    let db = format!("sqlite:{}", env.dir.path().join("server.db").display());
    let secret = totp_secret(&operator(
        &db,
        &["create-operator", "--username", "dr", "--name", "Dr Martin"],
    ));
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let mut child = server_cmd(&db)
        .args(["server", "--listen", &format!("127.0.0.1:{port}")])
        .args(["--session-idle-minutes", "10"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let _server = Server { child };
    assert!(line.contains("listening on"), "{line}");

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
    let token = login["token"]
        .as_str()
        .expect("a session token")
        .to_string();
    let status = || {
        c.get(format!("{url}/v1/operator/patients"))
            .bearer_auth(&token)
            .send()
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(status(), 200);
    let out = operator(&db, &["reset-password", "--username", "dr"]);
    assert!(out.contains("every session of dr was ended"), "{out}");
    assert_eq!(status(), 401, "the token died with the password");

    let out = operator(&db, &["reset-totp", "--username", "dr"]);
    assert!(out.contains("or type the secret: "), "{out}");
    assert!(out.contains("every session of dr was ended"), "{out}");
    let out = operator(&db, &["disable", "--username", "dr"]);
    assert!(out.contains("dr is disabled"), "{out}");
    let out = operator(&db, &["disable", "--username", "dr"]);
    assert!(out.contains("already disabled"), "{out}");
    let out = operator(&db, &["enable", "--username", "dr"]);
    assert!(out.contains("can log in again"), "{out}");

    let bad = server_cmd(&db)
        .args(["operator", "disable", "--username", "nobody"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("no operator named \"nobody\""),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
}
