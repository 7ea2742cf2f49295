//! The server key (issue 10, item 7) as `ilot` finds it: made once and kept `0600` beside the
//! database without a keyring, taken from `ILOT_SERVER_KEY` without writing anything, and a
//! lost key is a clear error that leaves no new key behind (no new server identity).

use std::os::unix::fs::PermissionsExt;
use std::process::Output;

fn ilot(db: &str, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut c = crate::sync::server_cmd(db);
    c.env("ILOT_KEYSTORE", "file")
        .env_remove("ILOT_SERVER_KEY")
        .env("ILOT_PASSWORD", "a long enough password");
    for (k, v) in env {
        c.env(k, v);
    }
    c.arg("operator").args(args).output().unwrap()
}

fn create_team(db: &str, env: &[(&str, &str)], name: &str) -> Output {
    ilot(db, env, &["create-team", "--name", name])
}

#[test]
fn the_server_key_is_kept_beside_the_database_and_a_lost_one_is_not_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("server.db");
    let db = format!("sqlite:{}", path.display());
    let key_file = dir.path().join("server.db.server-key.key");

    let out = create_team(&db, &[], "A");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mode = std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{mode:04o}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("back it up"),
        "the operator is told about the new key"
    );
    let out = create_team(&db, &[], "B");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The key is lost: the sealed database is not given a new identity.
    let kept = std::fs::read(&key_file).unwrap();
    std::fs::remove_file(&key_file).unwrap();
    let out = create_team(&db, &[], "C");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("no server key was found"), "{err}");
    assert!(!key_file.exists(), "the key made on the way is forgotten");
    std::fs::write(&key_file, &kept).unwrap();
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = create_team(&db, &[], "C");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_key_from_the_environment_is_used_and_never_written() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("server.db").display());
    let key = "11".repeat(32);
    let out = create_team(&db, &[("ILOT_SERVER_KEY", &key)], "A");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.contains("key")), "{names:?}");
    let other = "22".repeat(32);
    let out = create_team(&db, &[("ILOT_SERVER_KEY", &other)], "B");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("does not open"),
        "{err}"
    );
    assert!(!err.contains(&other), "the key never shows: {err}");
}
