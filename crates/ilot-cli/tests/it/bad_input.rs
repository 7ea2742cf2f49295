//! Every malformed value, unit, time or file gets its precise message and changes nothing.

use rstest::rstest;

use crate::support::Env;

#[rstest]
#[case(&["log", "glucose", "0", "mg/dL"], "outside the plausible range 10–600 mg/dL")]
#[case(&["log", "glucose", "4000", "mg/dL"], "glucose 4000 mg/dL is outside the plausible range 10–600 mg/dL")]
#[case(&["log", "glucose", "126", "g/L"], "glucose 126 g/L (12600 mg/dL) is outside")]
#[case(&["log", "glucose", "1,26", "mg"], "unknown glucose unit \"mg\": use g/L, mg/dL or mmol/L")]
#[case(&["log", "glucose", "abc", "g/L"], "glucose must be a number, got \"abc\"")]
#[case(&["log", "glucose", "1,26", "g/L", "--context", "lunch"], "unknown meal context \"lunch\"")]
#[case(&["log", "glucose", "1,26", "g/L", "--at", "2099-01-01 08:00"], "is in the future")]
#[case(&["log", "glucose", "1,26", "g/L", "--at", "2026-03-29 02:30"], "does not exist in Europe/Paris")]
#[case(&["log", "glucose", "1,26", "g/L", "--at", "yesterday"], "cannot read the time \"yesterday\"")]
#[case(&["log", "insulin", "6.25", "--kind", "bolus"], "insulin dose has more precision than 0.1 U: 6.25")]
#[case(&["log", "insulin", "6", "--kind", "slow"], "unknown insulin kind \"slow\"")]
#[case(&["log", "weight", "5"], "weight 5 is outside the plausible range 20–350 kg")]
#[case(&["log", "ketones", "12"], "blood ketones 12 is outside the plausible range 0–10 mmol/L")]
#[case(&["log", "note", " "], "note must not be empty")]
#[case(&["import", "csv", "/nonexistent.csv", "--unit", "mg/dL"], "cannot open /nonexistent.csv")]
#[case(&["import", "csv", "Cargo.toml", "--unit", "mmol"], "no `time` column in the header")]
#[case(&["import", "csv", "x.csv", "--unit", "mg"], "unknown glucose unit \"mg\"")]
#[case(&["prescription", "set", "--type", "type1", "--monitoring", "cgm", "--start", "2026-01-01", "--end", "2027-06-01"], "a prescription lasts at most 1 year")]
#[case(&["prescription", "set", "--type", "type1", "--monitoring", "cgm", "--start", "2026-01-01", "--no-data-hours", "0"], "the no-data alert cannot be disabled")]
// Thresholds checked against each other, weekly data, readings a day (SPEC §2–3).
#[case(&["prescription", "set", "--type", "type1", "--monitoring", "cgm", "--start", "2026-01-01", "--severe", "80"], "the severe-hypo threshold (80 mg/dL) must be below hypo level 1 (70 mg/dL)")]
#[case(&["prescription", "set", "--type", "type1", "--monitoring", "cgm", "--start", "2026-01-01", "--hypo", "75"], "hypo level 1 (75 mg/dL) must not be above the target range's low bound (70 mg/dL)")]
#[case(&["prescription", "set", "--type", "type1", "--monitoring", "cgm", "--start", "2026-01-01", "--no-data-hours", "4294967295"], "must be at most 7 days (168 hours)")]
#[case(&["prescription", "set", "--type", "type2-insulin", "--monitoring", "capillary", "--start", "2026-01-01", "--readings-per-day", "6"], "with at most one injection a day the regulation asks for 2 to 4 readings a day")]
#[case(&["prescription", "set", "--type", "type1", "--monitoring", "capillary", "--injections", "4", "--start", "2026-01-01", "--readings-per-day", "3"], "at least 4 readings a day")]
#[case(&["prescription", "set", "--type", "type1", "--monitoring", "flash", "--start", "2026-01-01", "--readings-per-day", "3"], "a flash sensor must be scanned at least 4 times a day")]
#[case(&["export", "csv", "/nonexistent/x.csv"], "/nonexistent/x.csv: No such file or directory")]
#[case(&["export", "fhir", "/nonexistent/x.fhir.json"], "/nonexistent/x.fhir.json: No such file or directory")]
#[case(&["export", "fhir", "--feed"], "<FILE>")]
#[case(&["correct", "999", "glucose", "1", "g/L"], "no entry #999")]
#[case(&["delete", "999"], "999")]
fn bad_input_is_explained_and_changes_nothing(#[case] args: &[&str], #[case] message: &str) {
    let env = Env::new();
    env.ok(&[
        "log",
        "glucose",
        "1,10",
        "g/L",
        "--context",
        "fasting",
        "--at",
        "2026-01-05 07:30",
    ]);
    let before = env.ok(&["entries", "--deleted", "--json"]);
    let err = env
        .cmd()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .unwrap();
    assert!(!err.status.success(), "{args:?} was accepted");
    let stderr = String::from_utf8_lossy(&err.stderr);
    assert!(
        stderr.contains(message),
        "{args:?}: expected {message:?} in {stderr:?}"
    );
    assert_eq!(
        env.ok(&["entries", "--deleted", "--json"]),
        before,
        "{args:?} changed the database"
    );
}
