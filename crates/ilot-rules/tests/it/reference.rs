//! Real-data check of the consensus metrics: for every subject of the four shared CGM data sets,
//! `metrics()` must agree with an independent pure-Python implementation of the definitions
//! (tests/reference/consensus_metrics.py) within 0.01 mg/dL and 0.01 percentage points.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{NaiveDateTime, TimeDelta};
use ilot_domain::MealContext;
use ilot_rules::metrics::{Metrics, Ranges, Window, metrics};
use ilot_rules::{GlucosePoint, Level};
use serde_json::Value;

const TOLERANCE: f64 = 0.01;

/// Files and subject counts, from data/cgm/README.md.
const FILES: [(&str, usize); 4] = [
    ("Hall2018_processed.csv", 57),
    ("Dubosson2018_processed.csv", 9),
    ("Tsalikian2005_processed.csv", 50),
    ("ExampleData5Subjects.csv", 5),
];

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/cgm")
}

struct Subject {
    id: String,
    points: Vec<GlucosePoint>,
}

/// Subjects in order of first appearance; rows whose time or glucose is NA are skipped.
fn read_subjects(path: &Path) -> (Vec<Subject>, usize) {
    let mut reader = csv::Reader::from_path(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut subjects: Vec<Subject> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut skipped = 0;
    for (line, row) in reader.records().enumerate() {
        let row = row.unwrap_or_else(|e| panic!("{}: bad csv row: {e}", path.display()));
        let (id, time, gl) = (&row[0], &row[1], &row[2]);
        if time == "NA" || gl == "NA" {
            skipped += 1;
            continue;
        }
        let at = NaiveDateTime::parse_from_str(time, "%Y-%m-%d %H:%M:%S")
            .unwrap_or_else(|e| panic!("{}: row {line}: time {time:?}: {e}", path.display()))
            // Naive local clock times, read as UTC: only the spacing matters here.
            .and_utc();
        let value: f64 = gl
            .parse()
            .unwrap_or_else(|e| panic!("{}: row {line}: gl {gl:?}: {e}", path.display()));
        let k = *index.entry(id.to_owned()).or_insert_with(|| {
            subjects.push(Subject {
                id: id.to_owned(),
                points: Vec::new(),
            });
            subjects.len() - 1
        });
        subjects[k].points.push(GlucosePoint {
            id: line as u64,
            at,
            level: Level::MgDl(value),
            cgm: true,
            scan: false,
            context: MealContext::Other,
        });
    }
    (subjects, skipped)
}

fn python_reference(path: &Path) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference/consensus_metrics.py");
    let out = match Command::new("python3").arg(&script).arg(path).output() {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
            "python3 not found: install Python 3 (standard library only) to run the consensus \
             reference check"
        ),
        Err(e) => panic!("cannot run python3 {}: {e}", script.display()),
    };
    assert!(
        out.status.success(),
        "{} failed: {}",
        script.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the reference script prints one json document")
}

fn compare(file: &str, id: &str, name: &str, ours: Option<f64>, theirs: &Value) -> Option<String> {
    let theirs = theirs.as_f64();
    let agree = match (ours, theirs) {
        (Some(a), Some(b)) => (a - b).abs() <= TOLERANCE,
        (None, None) => true,
        _ => false,
    };
    (!agree).then(|| format!("{file} subject {id}: {name}: rust {ours:?}, python {theirs:?}"))
}

fn check(file: &str, subject: &Subject, m: &Metrics, reference: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    if reference["n"].as_u64() != Some(m.n_readings as u64) {
        errors.push(format!(
            "{file} subject {}: n: rust {}, python {}",
            subject.id, m.n_readings, reference["n"]
        ));
    }
    let pairs = [
        ("mean", m.mean_mg_dl),
        ("sd", m.sd_mg_dl),
        ("cv", m.cv_percent),
        ("gmi", m.gmi_percent),
        ("tir", m.tir_percent),
        ("below_54", m.below_54_percent),
        ("below_70", m.below_70_percent),
        ("above_180", m.above_180_percent),
        ("above_250", m.above_250_percent),
    ];
    for (name, ours) in pairs {
        errors.extend(compare(file, &subject.id, name, ours, &reference[name]));
    }
    errors
}

#[test]
fn consensus_metrics_agree_with_the_python_reference_on_real_data() {
    let dir = data_dir();
    assert!(
        dir.is_dir(),
        "shared CGM data not found at {}; it lives beside the workspace in shared/data/cgm",
        dir.display()
    );
    let mut compared = 0;
    let mut with_hypos = 0;
    let mut errors = Vec::new();
    for (file, expected_subjects) in FILES {
        let path = dir.join(file);
        let (subjects, skipped) = read_subjects(&path);
        let reference = python_reference(&path);
        assert_eq!(
            reference["skipped_rows"].as_u64(),
            Some(skipped as u64),
            "{file}"
        );
        let by_id: HashMap<&str, &Value> = reference["subjects"]
            .as_array()
            .expect("subjects array")
            .iter()
            .map(|s| (s["id"].as_str().expect("subject id"), s))
            .collect();
        assert_eq!(
            subjects.len(),
            expected_subjects,
            "{file}: subjects in rust"
        );
        assert_eq!(by_id.len(), expected_subjects, "{file}: subjects in python");

        for subject in &subjects {
            let first = subject
                .points
                .iter()
                .map(|p| p.at)
                .min()
                .expect("a reading");
            let last = subject
                .points
                .iter()
                .map(|p| p.at)
                .max()
                .expect("a reading");
            let window = Window::new(first, last + TimeDelta::seconds(1));
            let m = metrics(&subject.points, window, &Ranges::consensus());
            let reference = by_id
                .get(subject.id.as_str())
                .unwrap_or_else(|| panic!("{file}: subject {} missing in python", subject.id));
            errors.extend(check(file, subject, &m, reference));
            compared += 1;
            with_hypos += usize::from(m.below_54_percent.is_some_and(|p| p > 0.0));
        }
    }
    assert!(
        errors.is_empty(),
        "{} disagreements:\n{}",
        errors.len(),
        errors.join("\n")
    );
    assert_eq!(compared, 121, "subjects compared across the four files");
    // The comparison must exercise the low ranges, not only zeros.
    assert!(
        with_hypos > 10,
        "only {with_hypos} subjects with readings below 54"
    );
}
