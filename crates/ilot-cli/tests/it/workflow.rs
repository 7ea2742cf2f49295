//! A patient's day through the CLI, and a real recording imported twice.

use crate::support::{Env, shared_cgm};

#[test]
fn log_correct_delete_keeps_every_version() {
    let env = Env::new();
    let out = env.ok(&[
        "log",
        "glucose",
        "1,26",
        "g/L",
        "--context",
        "fasting",
        "--at",
        "2026-01-05 07:30",
    ]);
    assert!(
        out.contains("glucose 1.26 g/L, capillary, fasting at 2026-01-05 07:30 +01:00"),
        "{out}"
    );
    env.ok(&[
        "log",
        "insulin",
        "6",
        "--kind",
        "bolus",
        "--at",
        "2026-01-05 07:35",
    ]);
    env.ok(&[
        "log",
        "carbs",
        "45",
        "--label",
        "petit-déjeuner",
        "--at",
        "2026-01-05 07:40",
    ]);
    env.ok(&[
        "log",
        "hypo",
        "--needed-help",
        "--glucose",
        "0,45",
        "--unit",
        "g/L",
        "--at",
        "2026-01-05 15:00",
    ]);
    env.ok(&["log", "note", "sick day", "--at", "2026-01-05 16:00"]);
    let out = env.ok(&[
        "log",
        "education",
        "--topic",
        "hypo",
        "--topic",
        "meter",
        "--understanding",
        "good",
        "--at",
        "2026-01-05 17:00",
    ]);
    assert!(
        out.contains("education session: hypo, meter, understanding: good"),
        "{out}"
    );

    let entries = env.json(&["entries", "--json"]);
    let rows = entries.as_array().unwrap();
    assert_eq!(rows.len(), 6);
    let glucose = &rows[0];
    assert_eq!(glucose["entry"]["kind"]["level"]["glucose"]["value"], 1.26);
    assert_eq!(glucose["entry"]["kind"]["level"]["glucose"]["unit"], "g/L");
    let id = glucose["id"].as_i64().unwrap().to_string();

    env.ok(&[
        "correct",
        &id,
        "glucose",
        "1,32",
        "g/L",
        "--context",
        "fasting",
        "--reason",
        "misread",
    ]);
    let history = env.json(&["history", &id, "--json"]);
    let versions = history.as_array().unwrap();
    assert_eq!(versions.len(), 2, "{history}");
    assert_eq!(
        versions[0]["entry"]["kind"]["level"]["glucose"]["value"],
        1.26
    );
    assert_eq!(
        versions[1]["entry"]["kind"]["level"]["glucose"]["value"],
        1.32
    );
    assert_eq!(versions[1]["reason"], "misread");

    env.ok(&["delete", &id, "--reason", "duplicate of the meter reading"]);
    assert_eq!(
        env.json(&["entries", "--json"]).as_array().unwrap().len(),
        5
    );
    let all = env.json(&["entries", "--deleted", "--json"]);
    assert_eq!(
        all.as_array().unwrap().len(),
        6,
        "a deleted entry stays as a tombstone"
    );
    assert_eq!(
        env.json(&["history", &id, "--json"])
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

#[test]
fn a_real_recording_imports_once_and_reports_every_metric() {
    let env = Env::new();
    let file = shared_cgm("Tsalikian2005_processed.csv");
    let file = file.to_str().unwrap();
    let args = [
        "import",
        "csv",
        file,
        "--unit",
        "mg/dL",
        "--subject",
        "24",
        "--tz",
        "Europe/Paris",
        "--json",
    ];
    let first = env.json(&args);
    assert_eq!(first["added"], 482, "{first}");
    let rejected = first["rejected"].as_array().unwrap();
    assert_eq!(
        rejected.len(),
        12,
        "the 12 rows of subject 24 without a time are listed"
    );
    assert!(
        rejected.iter().all(|r| r["reason"] == "no time (\"NA\")"),
        "{first}"
    );
    assert_eq!(rejected[0]["line"], 13652);

    let again = env.json(&args);
    assert_eq!(
        (again["added"].as_u64(), again["duplicates"].as_u64()),
        (Some(0), Some(482)),
        "{again}"
    );
    assert_eq!(env.entry_count(), 482);

    let report = env.json(&["report", "--all", "--json"]);
    assert_eq!(report["n_readings"], 482, "{report}");
    for key in [
        "mean_mg_dl",
        "sd_mg_dl",
        "cv_percent",
        "gmi_percent",
        "tir_percent",
        "below_54_percent",
        "below_70_percent",
        "above_180_percent",
        "above_250_percent",
        "active_percent",
    ] {
        assert!(
            report[key].is_number(),
            "{key} missing or not a number in {report}"
        );
    }
    let tir = report["tir_percent"].as_f64().unwrap();
    let parts = ["below_70_percent", "above_180_percent"].map(|k| report[k].as_f64().unwrap());
    assert!(
        (tir + parts[0] + parts[1] - 100.0).abs() < 1e-9,
        "TIR + TBR + TAR = 100 %: {report}"
    );
}

#[test]
fn a_file_with_several_subjects_asks_which_one() {
    let env = Env::new();
    let file = shared_cgm("Dubosson2018_processed.csv");
    let err = env.fails(&["import", "csv", file.to_str().unwrap(), "--unit", "mg/dL"]);
    assert!(
        err.contains(
            "the file holds 9 subjects (001, 002, 003, 004, 005, …); choose one with --subject"
        ),
        "{err}"
    );
    assert_eq!(env.entry_count(), 0);
}

#[test]
fn an_education_session_in_the_first_period_fulfils_the_accompaniment() {
    let env = Env::new();
    env.ok(&[
        "prescription",
        "set",
        "--type",
        "type2-insulin",
        "--monitoring",
        "capillary",
        "--start",
        "2026-01-01",
    ]);
    env.ok(&["log", "glucose", "1,10", "g/L", "--at", "2026-01-02 08:00"]);
    let status = |env: &Env| {
        env.json(&["observance", "--at", "2026-03-01", "--json"])["accompaniment"]["status"].clone()
    };
    assert_eq!(status(&env), "missed");
    env.ok(&[
        "log",
        "education",
        "--topic",
        "insulin-technique",
        "--at",
        "2026-01-10 14:00",
    ]);
    assert_eq!(status(&env), "done");
}

#[test]
fn a_low_reading_raises_a_hypo_alert_with_its_advice() {
    let env = Env::new();
    env.ok(&[
        "prescription",
        "set",
        "--type",
        "type1",
        "--monitoring",
        "capillary",
        "--injections",
        "4",
        "--start",
        "2026-01-01",
    ]);
    env.ok(&[
        "log",
        "glucose",
        "0,62",
        "g/L",
        "--context",
        "before-meal",
        "--at",
        "2026-01-05 11:40",
    ]);
    let alerts = env.json(&["alerts", "--to", "2026-01-05 12:00", "--json"]);
    let hypo = alerts
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == "hypo-l1")
        .expect("a hypo alert");
    assert_eq!(hypo["severity"], "warning");
    assert_eq!(hypo["advice"], "advice.hypo.resugar");
    let text = env.ok(&["alerts", "--to", "2026-01-05 12:00"]);
    assert!(
        text.contains("take 15 g of fast sugar (3 sugar cubes or 150 mL of fruit juice)"),
        "{text}"
    );
}

// SPEC §3: a hypo the patient reports with a glucose value counts like a capillary reading at
// that time. Through the real store: the value is written, read back and judged, and the advice
// is shown (it used to raise nothing: the store did not read the value back).
#[test]
fn a_reported_hypo_at_40_raises_a_hypo_alert_with_its_advice() {
    let env = Env::new();
    env.ok(&[
        "prescription",
        "set",
        "--type",
        "type2-insulin",
        "--monitoring",
        "capillary",
        "--start",
        "2026-01-01",
    ]);
    env.ok(&[
        "log",
        "hypo",
        "--glucose",
        "40",
        "--unit",
        "mg/dL",
        "--at",
        "2026-01-05 11:40",
    ]);
    let alerts = env.json(&["alerts", "--to", "2026-01-05 12:00", "--json"]);
    let alerts = alerts.as_array().unwrap();
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    // 40 mg/dL is below level 2 (54), which is also the default severe threshold.
    assert_eq!(alerts[0]["kind"], "severe-hypo");
    assert_eq!(alerts[0]["extreme"]["MgDl"], 40.0);
    assert_eq!(alerts[0]["advice"], "advice.hypo.severe");
    let text = env.ok(&["alerts", "--to", "2026-01-05 12:00"]);
    assert!(
        text.contains("[urgent] severe-hypo 2026-01-05 11:40"),
        "{text}"
    );
    assert!(text.contains("glucagon"), "{text}");
}

// One default, said plainly: without a prescription the alerts say that they need one and which
// thresholds they assume (the app and the command line assume the same, `ilot_rules::assumed`).
#[test]
fn alerts_without_a_prescription_say_what_they_assume() {
    let env = Env::new();
    env.ok(&["log", "glucose", "300", "mg/dL", "--at", "2026-01-05 11:40"]);
    let out = env.run(&["alerts", "--to", "2026-01-05 12:00", "--json"]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("alerts need the care team's prescription"),
        "{stderr}"
    );
    assert!(stderr.contains("type1 on a CGM"), "{stderr}");
    assert!(stderr.contains("hyper above 250"), "{stderr}");
    let alerts: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // The assumed type 1 suggests a ketone check with a hyper.
    assert_eq!(alerts[0]["kind"], "hyper");
    assert_eq!(alerts[0]["advice"], "advice.hyper.ketones");
}
