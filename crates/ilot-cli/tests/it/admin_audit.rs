//! The administration commands leave a trace (issue 10, item 12): creating a team or an
//! operator, resetting an operator's authenticator, creating a patient and reading the audit
//! log, linking and unlinking an RPPS are audited with `cli:<system user>` as the client; a user name too long and a
//! `--trusted-proxy` that is not an address are refused with a clear message.

use crate::support::Env;
use crate::sync::{operator, server_cmd};

/// Regression: `create-operator` and `reset-totp` wrote nothing in the audit log.
#[test]
fn administration_commands_are_audited_with_the_cli_client() {
    let env = Env::new();
    let sdb = format!("sqlite:{}", env.dir.path().join("server.db").display());
    operator(&sdb, &["create-team", "--name", "B"]);
    operator(
        &sdb,
        &["create-operator", "--username", "dr", "--name", "Dr Martin"],
    );
    operator(&sdb, &["reset-totp", "--username", "dr"]);
    operator(
        &sdb,
        &[
            "create-patient",
            "--pseudonym",
            "P-1",
            "--by",
            "dr",
            "--json",
        ],
    );
    operator(
        &sdb,
        &["link-rpps", "--username", "dr", "--rpps", "10001234567"],
    );
    let said = operator(&sdb, &["unlink-rpps", "--username", "dr"]);
    assert!(said.contains("RPPS 10001234567 unlinked from dr"), "{said}");
    let shown = operator(&sdb, &["audit"]);
    assert!(shown.contains("reset-totp"), "{shown}");

    // The same server key as `server_cmd` gives the commands (ILOT_SERVER_KEY).
    let key = ilot_server::atrest::ServerKey::parse(&"ab".repeat(32)).unwrap();
    let st = ilot_server::storage::open(&sdb, &key).unwrap();
    let log = st.audit_log(100).unwrap();
    let actions: Vec<&str> = log.iter().map(|r| r.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "read-audit-log",
            "unlink-rpps",
            "link-rpps",
            "create-patient",
            "reset-totp",
            "create-operator",
            "create-team"
        ],
        "newest first"
    );
    for r in &log {
        let client = r.client.as_deref().unwrap_or_default();
        assert!(client.starts_with("cli:"), "{r:?}");
    }
    let dr = st.operator_by_username("dr").unwrap().unwrap().id;
    assert_eq!(log[1].detail.as_ref().unwrap()["rpps"], "10001234567");
    assert_eq!(log[1].detail.as_ref().unwrap()["operator_id"], dr);
    assert_eq!(log[4].detail.as_ref().unwrap()["operator_id"], dr);
    assert_eq!(log[5].detail.as_ref().unwrap()["username"], "dr");
    assert_eq!(log[3].operator_id, Some(dr), "the prescribing physician");
}

#[test]
fn a_long_user_name_and_a_bad_trusted_proxy_are_refused() {
    let env = Env::new();
    let sdb = format!("sqlite:{}", env.dir.path().join("server.db").display());
    let out = server_cmd(&sdb)
        .args(["operator", "create-operator", "--name", "X", "--username"])
        .arg("u".repeat(65))
        .env("ILOT_PASSWORD", "a long enough password")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(e.contains("1 to 64 characters"), "{e}");

    let out = server_cmd(&sdb)
        .args([
            "server",
            "--listen",
            "127.0.0.1:0",
            "--trusted-proxy",
            "proxy.lan",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(
        e.contains("--trusted-proxy \"proxy.lan\" is not an address"),
        "{e}"
    );
}
