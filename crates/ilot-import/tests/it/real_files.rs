//! Each format on real files, with exact counts. The expected numbers were counted on the files
//! with other tools (awk over the columns), not by this code: e.g. LibreView 200 rows of record
//! type 0 and 60 of type 1, 4 type-6 rows with a note and 31 without, 3 type-5 food markers.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use ilot_domain::{EntryKind, ReadingType};
use ilot_import::{Counts, Format, Import, Options, parse};

pub fn shared(name: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/exports")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn fixture(name: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

pub fn now() -> DateTime<Utc> {
    "2026-11-22T00:00:00Z".parse().unwrap()
}

pub fn opts() -> Options {
    Options::new(chrono_tz::Europe::Paris, now())
}

fn counts(glucose: usize, scans: usize, insulin: usize, carbs: usize, notes: usize) -> Counts {
    Counts {
        glucose,
        scans,
        insulin,
        carbs,
        notes,
        other: 0,
    }
}

/// Asserts that the `k`-th refusal's English reason holds each of `words`.
pub fn says(i: &Import, k: usize, words: &[&str]) {
    let reason = &i.rejected[k].reason;
    assert!(
        words.iter().all(|w| reason.contains(w)),
        "{words:?} not all in {:?}",
        i.rejected
    );
}

fn rejected_lines(i: &Import) -> Vec<u64> {
    i.rejected.iter().map(|r| r.line).collect()
}

/// Replaces whole lines (1-based) of a file, keeping its line ends.
pub fn with_lines(bytes: &[u8], changes: &[(usize, &str)]) -> Vec<u8> {
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    let crlf = text.contains("\r\n");
    let mut lines: Vec<String> = text
        .split('\n')
        .map(|l| l.trim_end_matches('\r').to_string())
        .collect();
    for (n, new) in changes {
        lines[n - 1] = new.to_string();
    }
    lines.join(if crlf { "\r\n" } else { "\n" }).into_bytes()
}

/// A comma-separated line (without quotes) with field `k` (0-based) replaced.
fn set_field(line: &str, k: usize, value: &str) -> String {
    let mut f: Vec<&str> = line.split(',').collect();
    f[k] = value;
    f.join(",")
}

fn line(bytes: &[u8], n: usize) -> String {
    String::from_utf8_lossy(bytes)
        .split('\n')
        .nth(n - 1)
        .unwrap()
        .trim_end_matches('\r')
        .to_string()
}

#[test]
fn libreview_english_mmol_day_first() {
    let i = parse(&shared("libreview-en-mmol-daymonth.csv"), &opts()).unwrap();
    assert_eq!(i.format, Format::LibreView);
    assert_eq!(i.device.as_deref(), Some("FreeStyle LibreLink"));
    assert_eq!(
        i.serial.as_deref(),
        Some("b59d4499-1a07-462b-b7da-a179f2093996")
    );
    assert_eq!(i.counts(), counts(260, 60, 0, 0, 7));
    assert!(i.rejected.is_empty(), "{:?}", i.rejected);
    assert_eq!(i.skipped_total(), 31);
    let first = &i.rows[0];
    assert_eq!(first.line, 3);
    assert_eq!(first.entry.at.to_rfc3339(), "2019-12-05T16:25:00+01:00");
    assert_eq!(
        first.entry.source.device.as_ref().unwrap().as_str(),
        "libreview:b59d4499-1a07-462b-b7da-a179f2093996:historic"
    );
    // Two different scans in one minute (06-12-2019 14:21, 4.9 then 5.0): both kept, the second
    // at second 1 of that minute.
    let scans_1421: Vec<String> = i
        .rows
        .iter()
        .filter(|r| r.record == "scan" && r.entry.at.to_rfc3339().starts_with("2019-12-06T14:21"))
        .map(|r| r.entry.at.to_rfc3339())
        .collect();
    assert_eq!(
        scans_1421,
        ["2019-12-06T14:21:00+01:00", "2019-12-06T14:21:01+01:00"]
    );
    let scan = i.rows.iter().find(|r| r.record == "scan").unwrap();
    match &scan.entry.kind {
        EntryKind::Glucose(g) => assert_eq!(g.reading_type, ReadingType::Scan),
        other => panic!("{other:?}"),
    }
}

#[test]
fn libreview_malformed_rows_are_reported_on_their_crlf_line_and_the_rest_kept() {
    let real = shared("libreview-en-mmol-daymonth.csv");
    assert!(real.windows(2).any(|w| w == b"\r\n"), "the sample is CRLF");
    let bad = with_lines(
        &real,
        &[
            (5, &line(&real, 5).replace(",0,6.5,", ",0,abc,")),
            (10, &line(&real, 10).replace("05-12-2019", "32-12-2019")),
            (20, &line(&real, 20).replace(",0,", ",9,")),
            (210, &line(&real, 210).replace(",1,,", ",1,,9")),
        ],
    );
    let i = parse(&bad, &opts()).unwrap();
    assert_eq!(rejected_lines(&i), [5, 10, 20, 210], "{:?}", i.rejected);
    says(&i, 0, &["glucose must be a number"]);
    says(&i, 1, &["no day 32 of month 12"]);
    assert_eq!(i.rejected[2].reason, "unknown record type \"9\"");
    // Each reason also has its code and values, which the app says in the patient's language.
    let codes: Vec<(&str, String)> = i
        .rejected
        .iter()
        .map(|r| (r.code, r.params.to_string()))
        .collect();
    assert_eq!(
        codes,
        [
            (
                "not-a-number",
                r#"{"got":"abc","what":"glucose"}"#.to_string()
            ),
            (
                "date-invalid",
                r#"{"value":"2019-12-32 18:13"}"#.to_string()
            ),
            ("record-type-unknown", r#"{"value":"9"}"#.to_string()),
            ("glucose-implausible", "null".to_string()),
        ]
    );
    assert!(
        i.rejected[3].reason.contains("plausible"),
        "{:?}",
        i.rejected
    );
    assert_eq!(i.counts(), counts(256, 59, 0, 0, 7));
}

/// The real English rows rewritten in the French layout (no French export with a public
/// licence was found): French preamble and header as LibreView writes them in France,
/// month-first dates with AM/PM, decimal commas in quotes, CRLF.
#[test]
fn libreview_french_month_first_decimal_commas() {
    let en = parse(&shared("libreview-en-mmol-daymonth.csv"), &opts()).unwrap();
    let real = String::from_utf8(shared("libreview-en-mmol-daymonth.csv")).unwrap();
    let mut out = String::from(
        "Valeur de glycémie,Créé le,12-13-2020 10:23 AM UTC,Créé par,X\r\n\
         Appareil,Numéro de série,Horodatage de l'appareil,Type d'enregistrement,\
         Historique de la glycémie mmol/L,Numérisation de la glycémie mmol/L,\
         Insuline à action rapide sans valeur numérique,Insuline à action rapide (unités),\
         Alimentation sans valeur numérique,Glucides (grammes),Glucides (portions),\
         Insuline à action longue sans valeur numérique,Insuline à action longue (unités),\
         Remarques,Glycémie par bandelette mmol/L,Cétone mmol/L,Insuline repas (unités),\
         Correction insuline (unités),Insuline modifiée par l'utilisateur (unités)\r\n",
    );
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(real.as_bytes());
    for r in reader.records().skip(2) {
        let r = r.unwrap();
        let mut fields: Vec<String> = r.iter().map(str::to_string).collect();
        let (d, t) = fields[2].split_once(' ').unwrap();
        let [day, month, year] = <[&str; 3]>::try_from(d.split('-').collect::<Vec<_>>()).unwrap();
        let (h, m) = t.split_once(':').unwrap();
        let h: u32 = h.parse().unwrap();
        let (h12, ampm) = match h {
            0 => (12, "AM"),
            1..=11 => (h, "AM"),
            12 => (12, "PM"),
            _ => (h - 12, "PM"),
        };
        fields[2] = format!("{month}-{day}-{year} {h12:02}:{m} {ampm}");
        for f in fields.iter_mut().skip(4) {
            if f.contains('.') {
                *f = format!("\"{}\"", f.replace('.', ","));
            }
        }
        out.push_str(&fields.join(","));
        out.push_str("\r\n");
    }
    let fr = parse(out.as_bytes(), &opts()).unwrap();
    assert_eq!(fr.format, Format::LibreView);
    assert_eq!(fr.counts(), en.counts());
    assert!(fr.rejected.is_empty(), "{:?}", fr.rejected);
    let times =
        |i: &Import| -> Vec<String> { i.rows.iter().map(|r| r.entry.at.to_rfc3339()).collect() };
    assert_eq!(times(&fr), times(&en));
    let kinds =
        |i: &Import| -> Vec<EntryKind> { i.rows.iter().map(|r| r.entry.kind.clone()).collect() };
    assert_eq!(kinds(&fr)[..260], kinds(&en)[..260], "the same readings");
}

#[test]
fn libreview_dates_that_cannot_tell_their_order_are_refused_unless_told() {
    let real = shared("libreview-en-mmol-daymonth.csv");
    // Keep the rows of days 01..12 and a creation date that cannot tell either.
    let text = String::from_utf8(real).unwrap();
    let mut kept: Vec<&str> = text.split("\r\n").take(2).collect();
    kept.extend(text.split("\r\n").skip(2).filter(|l| {
        l.split(',')
            .nth(2)
            .is_some_and(|d| d[..2].parse::<u32>().unwrap() <= 12)
    }));
    let ambiguous = kept
        .join("\r\n")
        .replace("13-12-2020 10:23 UTC", "01-12-2020 10:23 UTC");
    let e = parse(ambiguous.as_bytes(), &opts())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("cannot tell whether the dates are day-first or month-first"),
        "{e}"
    );
    let mut told = opts();
    told.date_order = Some(ilot_import::DateOrder::DayFirst);
    let i = parse(ambiguous.as_bytes(), &told).unwrap();
    assert_eq!(i.rows[0].entry.at.to_rfc3339(), "2019-12-05T16:25:00+01:00");
}

#[test]
fn dexcom_clarity_g6_mg_dl() {
    let real = shared("dexcom-clarity-g6-mgdl.csv");
    assert!(real.starts_with(b"\xEF\xBB\xBF"), "the sample has its BOM");
    let i = parse(&real, &opts()).unwrap();
    assert_eq!(i.format, Format::DexcomClarity);
    assert_eq!(i.device.as_deref(), Some("Dexcom G6 Mobile App"));
    assert_eq!(i.counts(), counts(288, 0, 0, 0, 0));
    assert!(i.rejected.is_empty());
    // FirstName, LastName, DateOfBirth, Device and 7 alert settings: never data.
    assert_eq!(i.skipped_total(), 11);
    assert_eq!(i.rows[0].line, 13);
    assert_eq!(i.rows[0].entry.at.to_rfc3339(), "2016-10-24T11:24:17+02:00");

    let bad = with_lines(
        &real,
        &[
            (20, &set_field(&line(&real, 20), 7, "abc")),
            (30, &set_field(&line(&real, 30), 7, "Low")),
            (40, &set_field(&line(&real, 40), 7, "High")),
            (50, &set_field(&line(&real, 50), 1, "2016-10-24T25:00:00")),
        ],
    );
    let i = parse(&bad, &opts()).unwrap();
    assert_eq!(rejected_lines(&i), [20, 50], "{:?}", i.rejected);
    assert_eq!(i.counts(), counts(286, 0, 0, 0, 0));
    let hi = i.rows.iter().find(|r| r.line == 40).unwrap();
    match &hi.entry.kind {
        EntryKind::Glucose(g) => assert_eq!(g.level, ilot_domain::GlucoseLevel::Hi),
        other => panic!("{other:?}"),
    }
}

#[test]
fn carelink_guardian_connect_newest_first() {
    let real = shared("carelink-guardian-connect-semicolon.csv");
    let i = parse(&real, &opts()).unwrap();
    assert_eq!(i.format, Format::CareLink);
    assert_eq!(i.device.as_deref(), Some("Guardian Connect"));
    assert_eq!(i.serial.as_deref(), Some("GCZ7PA-UYGI-AZWP-LWF1"));
    // 244 sensor glucose + 3 BG readings; 2 meal markers; 8 insulin markers and 1 "Other".
    assert_eq!(i.counts(), counts(247, 0, 0, 2, 9));
    assert!(i.rejected.is_empty(), "{:?}", i.rejected);
    assert_eq!(i.skipped_total(), 28);
    let bg: Vec<_> = i.rows.iter().filter(|r| r.record == "bg").collect();
    assert_eq!(bg.len(), 3);
    assert_eq!(bg[0].entry.at.to_rfc3339(), "2021-07-25T00:52:53+02:00");
    let carbs: Vec<f64> = i
        .rows
        .iter()
        .filter_map(|r| match &r.entry.kind {
            EntryKind::Carbs(c) => Some(c.grams()),
            _ => None,
        })
        .collect();
    assert_eq!(carbs, [60.0, 45.0]);

    let sensor_line = 60;
    let bad = with_lines(
        &real,
        &[(
            sensor_line,
            &line(&real, sensor_line).replace(";89;", ";8x9;"),
        )],
    );
    let i = parse(&bad, &opts()).unwrap();
    assert_eq!(rejected_lines(&i), [sensor_line as u64], "{:?}", i.rejected);
    assert_eq!(i.counts(), counts(246, 0, 0, 2, 9));
}

#[test]
fn nightscout_entries_csv() {
    let i = parse(&shared("nightscout-entries.csv"), &opts()).unwrap();
    assert_eq!(i.format, Format::NightscoutCsv);
    assert_eq!(i.counts(), counts(300, 0, 0, 0, 0));
    assert!(i.rejected.is_empty());
    assert_eq!(i.rows[0].entry.at.to_rfc3339(), "2026-04-05T22:30:29+02:00");
}

#[test]
fn nightscout_entries_and_treatments_json() {
    let i = parse(&fixture("nightscout-entries-ios.json"), &opts()).unwrap();
    assert_eq!(i.format, Format::NightscoutEntries);
    assert_eq!(i.counts(), counts(6, 0, 0, 0, 0));

    let i = parse(&fixture("nightscout-treatments-iaps.json"), &opts()).unwrap();
    assert_eq!(i.format, Format::NightscoutTreatments);
    assert_eq!(i.counts(), counts(0, 0, 4, 1, 0));
    assert!(i.rejected.is_empty(), "{:?}", i.rejected);
    assert_eq!(
        i.skipped
            .iter()
            .map(|(k, n)| (k.as_str(), *n))
            .collect::<Vec<_>>(),
        [
            ("Temp Basal (not a diary entry)", 1),
            ("Temporary Target (not a diary entry)", 1)
        ]
    );
    let units: Vec<f64> = i
        .rows
        .iter()
        .filter_map(|r| match &r.entry.kind {
            EntryKind::Insulin(d) => Some(d.units()),
            _ => None,
        })
        .collect();
    assert_eq!(units, [0.1, 0.2, 1.5, 0.1]);

    // A broken item is reported by its number, the rest kept.
    let text = String::from_utf8(fixture("nightscout-treatments-iaps.json")).unwrap();
    let broken = text.replace("\"insulin\": 1.5", "\"insulin\": \"lots\"");
    let i = parse(broken.as_bytes(), &opts()).unwrap();
    assert_eq!(rejected_lines(&i), [5]);
    assert_eq!(i.counts(), counts(0, 0, 3, 1, 0));
}

#[test]
fn a_simple_csv_keeps_working() {
    let file = "\"id\",\"time\",\"gl\"\n\"a\",2014-10-01 19:14:00,185.4\n\"a\",NA,180\n\"a\",2014-10-01 19:24:00,abc\n\"b\",2014-10-01 19:14:00,90\n\"a\",2014-10-01 19:29:00,4000\n\"a\",2099-01-01 00:00:00,100\n\"a\",2014-03-30 02:30:00,100\n\"a\",2014-10-01 19:34:00,LO\n";
    let mut o = opts();
    o.unit = Some(ilot_domain::GlucoseUnit::MgPerDl);
    let e = parse(file.as_bytes(), &o).unwrap_err().to_string();
    assert_eq!(
        e,
        "the file holds 2 subjects (a, b); choose one with --subject"
    );
    o.subject = Some("a".into());
    let i = parse(file.as_bytes(), &o).unwrap();
    assert_eq!(i.format, Format::SimpleCsv);
    assert_eq!(i.rows.iter().map(|r| r.line).collect::<Vec<_>>(), [2, 9]);
    assert_eq!(rejected_lines(&i), [3, 4, 6, 7, 8]);
    assert_eq!(i.rejected[0].reason, "no time (\"NA\")");
    assert!(
        i.rejected[3].reason.contains("in the future"),
        "{:?}",
        i.rejected
    );
    assert!(
        i.rejected[4].reason.contains("does not exist"),
        "{:?}",
        i.rejected
    );
    assert_eq!(
        i.rows[0].entry.source.device.as_ref().unwrap().as_str(),
        "import:a"
    );
    assert_eq!(i.rows[0].entry.at.to_rfc3339(), "2014-10-01T19:14:00+02:00");
    o.unit = None;
    let e = parse(file.as_bytes(), &o).unwrap_err().to_string();
    assert!(e.contains("give --unit"), "{e}");
}
