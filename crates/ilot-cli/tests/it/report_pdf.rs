//! `ilot report --pdf`: the one-page AGP report read back with poppler (`pdftotext`, `pdfinfo`,
//! `pdftoppm`, installed by scripts/setup.sh). Its numbers must be those of `ilot report --json`
//! on the same database, each on the line of its own label; it must be one page; and its
//! rendering is kept in `artifacts/report/` (the README shows a copy from `docs/report/`).

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::support::{Env, shared_cgm};

/// Runs a poppler tool; `None` (with the reason printed) where poppler is missing outside CI.
fn poppler(tool: &str, args: &[&std::ffi::OsStr]) -> Option<String> {
    match Command::new(tool).args(args).output() {
        Ok(out) => {
            assert!(
                out.status.success(),
                "{tool} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            Some(String::from_utf8(out.stdout).unwrap())
        }
        Err(e) => {
            let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
            assert!(
                !ci,
                "{tool} is needed under CI (scripts/setup.sh installs poppler-utils): {e}"
            );
            eprintln!("skipped: {tool} not found ({e}); run scripts/setup.sh");
            None
        }
    }
}

/// The PDF's text in layout order, or `None` when poppler is missing (see [`poppler`]).
fn pdf_text(pdf: &Path) -> Option<String> {
    poppler(
        "pdftotext",
        &["-layout".as_ref(), pdf.as_os_str(), "-".as_ref()],
    )
}

fn page_count(pdf: &Path) -> usize {
    let info = poppler("pdfinfo", &[pdf.as_os_str()]).unwrap();
    let line = info.lines().find(|l| l.starts_with("Pages:")).unwrap();
    line["Pages:".len()..].trim().parse().unwrap()
}

/// Renders the page with `pdftoppm` into `artifacts/report/NAME.png`; returns its pixel size.
fn render(pdf: &Path, name: &str) -> (u32, u32) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../artifacts/report");
    std::fs::create_dir_all(&dir).unwrap();
    let base = dir.join(name);
    let args: [&std::ffi::OsStr; 6] = [
        "-png".as_ref(),
        "-r".as_ref(),
        "110".as_ref(),
        "-singlefile".as_ref(),
        pdf.as_os_str(),
        base.as_os_str(),
    ];
    poppler("pdftoppm", &args).unwrap();
    let png = std::fs::read(base.with_extension("png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "a PNG");
    let be = |i: usize| u32::from_be_bytes(png[i..i + 4].try_into().unwrap());
    (be(16), be(20))
}

fn strip(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// What follows `label` on the one line of `text` that holds it, spaces removed (pdftotext may
/// add or drop spaces between glyphs; the order of what is printed is what counts).
fn after(text: &str, label: &str) -> String {
    let label = strip(label);
    let lines: Vec<String> = text
        .lines()
        .map(strip)
        .filter(|l| l.contains(&label))
        .collect();
    assert_eq!(
        lines.len(),
        1,
        "{label:?} should be on exactly one line:\n{text}"
    );
    let at = lines[0].find(&label).unwrap() + label.len();
    lines[0][at..].to_string()
}

#[derive(Clone, Copy)]
enum Lang {
    Fr,
    En,
}

impl Lang {
    fn code(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::En => "en",
        }
    }

    fn num(self, v: f64, decimals: usize) -> String {
        let s = format!("{v:.decimals$}");
        match self {
            Lang::Fr => s.replace('.', ","),
            Lang::En => s,
        }
    }

    fn pct(self, json: &Value, key: &str) -> String {
        let v = json[key]
            .as_f64()
            .unwrap_or_else(|| panic!("{key} in {json}"));
        format!("{}%", self.num(v, 1))
    }

    fn pick(self, fr: &'static str, en: &'static str) -> &'static str {
        match self {
            Lang::Fr => fr,
            Lang::En => en,
        }
    }
}

/// Every number of the metrics table and the ranges bar, against `ilot report --json`.
fn assert_numbers(text: &str, json: &Value, lang: Lang, cgm: bool) {
    let l = |fr, en| lang.pick(fr, en);
    let table = [
        (
            l(
                "Temps dans la cible 70–180 mg/dL",
                "Time in range 70–180 mg/dL",
            ),
            "tir_percent",
        ),
        (
            l(
                "Temps sous la cible < 70 mg/dL",
                "Time below range < 70 mg/dL",
            ),
            "below_70_percent",
        ),
        (
            l("niveau 1 : 54–69 mg/dL", "level 1: 54–69 mg/dL"),
            "between_54_69_percent",
        ),
        (
            l("niveau 2 : < 54 mg/dL", "level 2: < 54 mg/dL"),
            "below_54_percent",
        ),
        (
            l(
                "Temps au-dessus de la cible > 180 mg/dL",
                "Time above range > 180 mg/dL",
            ),
            "above_180_percent",
        ),
        (
            l("niveau 1 : 181–250 mg/dL", "level 1: 181–250 mg/dL"),
            "between_181_250_percent",
        ),
        (
            l("niveau 2 : > 250 mg/dL", "level 2: > 250 mg/dL"),
            "above_250_percent",
        ),
        (
            l(
                "GMI (indicateur de gestion du glucose)",
                "GMI (glucose management indicator)",
            ),
            "gmi_percent",
        ),
        (
            l(
                "Coefficient de variation (CV)",
                "Coefficient of variation (CV)",
            ),
            "cv_percent",
        ),
        (l("Dans la cible 70–180", "In range 70–180"), "tir_percent"),
        (
            l("Très élevé > 250", "Very high > 250"),
            "above_250_percent",
        ),
        (
            l("Élevé 181–250", "High 181–250"),
            "between_181_250_percent",
        ),
        (l("Bas 54–69", "Low 54–69"), "between_54_69_percent"),
        (l("Très bas < 54", "Very low < 54"), "below_54_percent"),
    ];
    for (label, key) in table {
        let rest = after(text, label);
        let want = lang.pct(json, key);
        assert!(
            rest.starts_with(&want),
            "{label}: {want} expected, line has {rest:?}"
        );
    }
    let mean = json["mean_mg_dl"].as_f64().unwrap();
    let rest = after(text, l("Glucose moyen", "Mean glucose"));
    let want = format!("{}mg/dL", lang.num(mean, 0));
    assert!(
        rest.starts_with(&want),
        "mean: {want} expected, line has {rest:?}"
    );
    let sd = json["sd_mg_dl"].as_f64().unwrap();
    let rest = after(text, l("Écart type", "Standard deviation"));
    let want = format!("{}mg/dL", lang.num(sd, 1));
    assert!(
        rest.starts_with(&want),
        "SD: {want} expected, line has {rest:?}"
    );
    let rest = after(
        text,
        l(
            "Épisodes d'hypoglycémie < 70 / < 54",
            "Hypoglycaemia episodes < 70 / < 54",
        ),
    );
    let want = format!(
        "{}/{}",
        json["hypo_level1_episodes"], json["hypo_level2_episodes"]
    );
    assert!(
        rest.starts_with(&want),
        "episodes: {want} expected, line has {rest:?}"
    );
    let n = json["n_readings"].as_u64().unwrap().to_string();
    if cgm {
        let rest = after(text, l("Temps de capteur actif", "CGM active time"));
        let want = lang.pct(json, "active_percent");
        assert!(
            rest.starts_with(&want),
            "active: {want} expected, line has {rest:?}"
        );
        let rest = after(text, l("Mesures :", "Readings:"));
        assert!(
            rest.starts_with(&n),
            "readings: {n} expected, line has {rest:?}"
        );
    } else {
        let rest = after(text, l("Glycémies capillaires :", "Fingerstick readings:"));
        assert!(
            rest.starts_with(&n),
            "readings: {n} expected, line has {rest:?}"
        );
    }
}

/// The period line: the JSON window in the patient's zone (Europe/Paris here).
fn assert_period(text: &str, json: &Value, lang: Lang) {
    let local = |key: &str| {
        let t: DateTime<Utc> = json[key].as_str().unwrap().parse().unwrap();
        let t = t.with_timezone(&chrono_tz::Europe::Paris);
        match lang {
            Lang::Fr => t.format("%d/%m/%Y%H:%M").to_string(),
            Lang::En => t.format("%Y-%m-%d%H:%M").to_string(),
        }
    };
    let rest = after(text, lang.pick("Période :", "Period:"));
    let want = format!("{}–{}", local("from"), local("to"));
    assert!(
        rest.starts_with(&want),
        "period: {want} expected, line has {rest:?}"
    );
}

fn report_pdf(env: &Env, lang: Lang, name: &str) -> PathBuf {
    let pdf = env.dir.path().join(format!("{name}.pdf"));
    let out = env.ok(&[
        "report",
        "--pdf",
        pdf.to_str().unwrap(),
        "--lang",
        lang.code(),
    ]);
    assert_eq!(
        out.trim(),
        pdf.to_str().unwrap(),
        "the command names the file it wrote"
    );
    pdf
}

#[test]
fn the_pdf_of_a_real_recording_holds_the_json_numbers_on_one_page() {
    let env = Env::new();
    let file = shared_cgm("ExampleData5Subjects.csv");
    let imported = env.json(&[
        "import",
        "csv",
        file.to_str().unwrap(),
        "--unit",
        "mg/dL",
        "--subject",
        "Subject 4",
        "--tz",
        "Europe/Paris",
        "--json",
    ]);
    assert_eq!(imported["added"], 3664, "{imported}");
    let json = env.json(&["report", "--json"]);
    // The guards that make the comparison mean something: two full weeks of sensor data.
    assert_eq!(json["n_readings"], 3664);
    assert_eq!(json["sufficient"], true, "{json}");
    assert_eq!(json["hypo_level1_episodes"], 2);
    for lang in [Lang::Fr, Lang::En] {
        let pdf = report_pdf(&env, lang, &format!("agp-cgm-{}", lang.code()));
        let Some(text) = pdf_text(&pdf) else { return };
        assert_eq!(page_count(&pdf), 1);
        assert_numbers(&text, &json, lang, true);
        assert_period(&text, &json, lang);
        assert!(text.contains(lang.pick(
            "Profil glycémique ambulatoire (AGP)",
            "Ambulatory glucose profile (AGP)"
        )));
        assert!(text.contains(lang.pick(
            "Profils quotidiens (14 derniers jours)",
            "Daily glucose profiles (last 14 days)"
        )));
        // The two episodes, newest first: start, duration, nadir (68 and 50 mg/dL).
        let episodes = [
            ("2015-03-23 11:07", "23/03/2015 11:07", "20min68mg/dL"),
            ("2015-03-13 12:54", "13/03/2015 12:54", "39min50mg/dL"),
        ];
        let mut lines = Vec::new();
        for (en, fr, want) in episodes {
            let start = lang.pick(fr, en);
            let rest = after(&text, start);
            assert!(
                rest.starts_with(want),
                "{start}: {want} expected, line has {rest:?}"
            );
            lines.push(text.lines().position(|l| l.contains(start)).unwrap());
        }
        assert!(lines[0] < lines[1], "newest first");
        let (w, h) = render(&pdf, &format!("agp-cgm-{}", lang.code()));
        assert_eq!((w, h), (910, 1287), "A4 at 110 dpi");
    }
}

/// A patient on a meter: 3 or 4 fingersticks a day in their meal contexts, one LO at night.
#[test]
fn the_pdf_of_a_capillary_patient_is_a_logbook_with_the_json_numbers() {
    let env = Env::new();
    env.ok(&["profile", "set", "--pseudonym", "CAP-042"]);
    let mut days = Vec::new();
    for d in 1..=14u32 {
        let at = |hm: &str| format!("2026-11-{d:02} {hm}");
        let fasting = 90 + 3 * d;
        let before = 100 + (7 * d) % 60;
        let after = 150 + (11 * d) % 90;
        for (hm, v, ctx) in [
            ("07:30", fasting, "fasting"),
            ("11:45", before, "before-meal"),
            ("14:00", after, "after-meal-2h"),
        ] {
            env.ok(&[
                "log",
                "--at",
                &at(hm),
                "glucose",
                &v.to_string(),
                "mg/dL",
                "--context",
                ctx,
            ]);
        }
        days.push((d, [fasting, before, after]));
    }
    env.ok(&[
        "log",
        "--at",
        "2026-11-05 03:10",
        "glucose",
        "LO",
        "mg/dL",
        "--context",
        "night",
    ]);
    let json = env.json(&["report", "--json"]);
    assert_eq!(json["n_readings"], 43);
    assert_eq!(json["n_lo"], 1);
    assert_eq!(json["active_percent"], 0.0, "no sensor: {json}");
    let lang = Lang::En;
    let pdf = report_pdf(&env, lang, "agp-capillary-en");
    let Some(text) = pdf_text(&pdf) else { return };
    assert_eq!(page_count(&pdf), 1);
    assert_numbers(&text, &json, lang, false);
    assert_period(&text, &json, lang);
    assert!(
        text.contains("Fingerstick logbook by time of day (last 14 days) (g/L)"),
        "{text}"
    );
    assert!(
        !text.contains("Ambulatory glucose profile (AGP)"),
        "no AGP without a sensor"
    );
    // Each day's row: fasting, before meal, 2 h after, in the profile's unit (g/L), marked ▲
    // above 180 mg/dL.
    let weekdays = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    for (d, values) in days {
        let date = chrono::NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
        use chrono::Datelike;
        let label = format!(
            "{} 11-{d:02}",
            weekdays[date.weekday().num_days_from_monday() as usize]
        );
        let cells: String = values
            .iter()
            .map(|&v| {
                format!(
                    "{:.2}{}",
                    f64::from(v) / 100.0,
                    if v > 180 { "▲" } else { "" }
                )
            })
            .collect();
        let rest = after(&text, &label);
        assert!(
            rest.starts_with(&cells),
            "{label}: {cells} expected, row has {rest:?}"
        );
        if d == 5 {
            assert!(rest.ends_with("LO▼"), "the night LO on {label}: {rest:?}");
        }
    }
    render(&pdf, "agp-capillary-en");
}

#[test]
fn a_report_that_cannot_be_written_says_so_and_leaves_nothing() {
    let env = Env::new();
    env.ok(&["log", "--at", "2026-11-01 07:30", "glucose", "95", "mg/dL"]);
    let target = env.dir.path().join("missing-folder/report.pdf");
    let err = env.fails(&["report", "--pdf", target.to_str().unwrap()]);
    assert!(
        err.contains("cannot write") && err.contains("report.pdf"),
        "{err}"
    );
    assert!(!target.parent().unwrap().exists());
    let err = env.fails(&["report", "--pdf", "x.pdf", "--lang", "de"]);
    assert!(
        err.contains("unknown language \"de\": use fr or en"),
        "{err}"
    );
}
