//! The database key: OS keyring when there is one, else a 0600 key file with a warning; a wrong
//! key is a clear error that touches nothing.

use std::os::unix::fs::PermissionsExt;

use crate::support::Env;

fn key_file(env: &Env) -> std::path::PathBuf {
    let mut p = env.db.clone().into_os_string();
    p.push(".key");
    p.into()
}

#[test]
fn without_a_keyring_the_key_falls_back_to_a_private_file_with_a_warning() {
    let env = Env::new();
    let out = env
        .cmd()
        .env("ILOT_KEYSTORE", "auto")
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            "unix:path=/nonexistent/ilot-test-bus",
        )
        .args(["log", "glucose", "1,10", "g/L", "--at", "2026-01-05 07:30"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("keyring") && stderr.contains(".key"),
        "the fallback must be logged: {stderr}"
    );
    let mode = std::fs::metadata(key_file(&env))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
}

#[test]
fn a_wrong_key_is_refused_and_the_file_is_untouched() {
    let env = Env::new();
    env.ok(&["log", "glucose", "1,10", "g/L", "--at", "2026-01-05 07:30"]);
    let before = std::fs::read(&env.db).unwrap();
    std::fs::write(key_file(&env), "00".repeat(32)).unwrap();
    let err = env.fails(&["entries"]);
    assert!(err.contains("cannot be opened with the key"), "{err}");
    assert_eq!(std::fs::read(&env.db).unwrap(), before);
}

#[test]
fn an_existing_database_without_its_key_is_not_given_a_new_one() {
    let env = Env::new();
    env.ok(&["log", "glucose", "1,10", "g/L", "--at", "2026-01-05 07:30"]);
    std::fs::remove_file(key_file(&env)).unwrap();
    let err = env.fails(&["entries"]);
    assert!(err.to_lowercase().contains("key"), "{err}");
    assert!(
        !key_file(&env).exists(),
        "no fresh key may be made for an existing database"
    );
}

/// Runs for real inside a Secret Service session (scripts/test.sh provides one with
/// gnome-keyring); two processes share the key only through the keyring.
#[test]
fn the_os_keyring_holds_the_key_across_processes() {
    if !keyring_session() {
        return;
    }
    let env = Env::new();
    let with_keyring = |args: &[&str]| {
        let out = env
            .cmd()
            .env("ILOT_KEYSTORE", "keyring")
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    with_keyring(&["log", "glucose", "1,10", "g/L", "--at", "2026-01-05 07:30"]);
    assert!(
        !key_file(&env).exists(),
        "the keyring path must not write a key file"
    );
    let listed = with_keyring(&["entries"]);
    assert!(listed.contains("1 entries"), "{listed}");
}

/// Whether this run has a Secret Service session (`scripts/with-keyring.sh` sets
/// `ILOT_KEYRING_TEST=1`). Without one the keyring test is skipped on a developer's machine,
/// but under `CI` (set and not `false`/`0`) it fails: CI has a keyring, and a test that quietly
/// skips there would count as passed.
fn keyring_session() -> bool {
    if std::env::var("ILOT_KEYRING_TEST").as_deref() == Ok("1") {
        return true;
    }
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
    assert!(
        !ci,
        "CI is set but there is no Secret Service session: run the tests as \
         `dbus-run-session -- bash scripts/with-keyring.sh cargo test …` (ILOT_KEYRING_TEST=1)"
    );
    eprintln!(
        "skipped: set ILOT_KEYRING_TEST=1 inside a Secret Service session (scripts/test.sh does)"
    );
    false
}
