//! Dexcom Clarity for an account in French: the real English sample rewritten with Clarity's
//! French column names and event words (no French export with a public licence was found), plus
//! insulin, carbs and out-of-range rows in both languages. The French file must read exactly as
//! the English one; an unknown word refuses its row by name.

use ilot_domain::EntryKind;
use ilot_import::{Format, Import, parse};

use crate::real_files::{opts, shared};

const FR_HEADER: &str = "Index,Horodatage (AAAA-MM-JJThh:mm:ss),Type d'événement,Sous-type \
d'événement,Informations sur le patient,Informations sur l'appareil,ID de l'appareil source,\
Valeur du glucose (mg/dL),Valeur d'insuline (u),Valeur des glucides (grammes),Durée (hh:mm:ss),\
Taux de variation du glucose (mg/dL/min)";

/// Extra rows after the sample's last one: (English, French).
const EXTRA: [(&str, &str); 6] = [
    (
        "2016-10-25T08:00:00,Insulin,Fast-Acting,,,iPhone G6,,4.5,,,",
        "2016-10-25T08:00:00,Insuline,Action rapide,,,iPhone G6,,4.5,,,",
    ),
    (
        "2016-10-25T08:01:00,Insulin,Long-Acting,,,iPhone G6,,18,,,",
        "2016-10-25T08:01:00,Insuline,Action lente,,,iPhone G6,,18,,,",
    ),
    (
        "2016-10-25T08:02:00,Carbs,,,,iPhone G6,,,45,,",
        "2016-10-25T08:02:00,Glucides,,,,iPhone G6,,,45,,",
    ),
    (
        "2016-10-25T08:03:00,EGV,,,,iPhone G6,Low,,,,",
        "2016-10-25T08:03:00,EGV,,,,iPhone G6,Bas,,,,",
    ),
    (
        "2016-10-25T08:08:00,EGV,,,,iPhone G6,High,,,,",
        "2016-10-25T08:08:00,EGV,,,,iPhone G6,Élevé,,,,",
    ),
    (
        "2016-10-25T08:10:00,Exercise,Medium,,,iPhone G6,,,,0:30:00,",
        "2016-10-25T08:10:00,Exercice,Moyen,,,iPhone G6,,,,0:30:00,",
    ),
];

fn english_file() -> String {
    let mut s = String::from_utf8(shared("dexcom-clarity-g6-mgdl.csv")).unwrap();
    let first = s.lines().count();
    for (n, (en, _)) in (first..).zip(EXTRA) {
        s.push_str(&format!("{n},{en}\n"));
    }
    s
}

fn french_file() -> String {
    let en = english_file();
    let mut out = format!("\u{feff}{FR_HEADER}\n");
    for line in en.lines().skip(1) {
        let mut f: Vec<String> = line.split(',').map(str::to_string).collect();
        f[2] = match f[2].as_str() {
            "FirstName" => "Prénom".into(),
            "LastName" => "Nom".into(),
            "DateOfBirth" => "Date de naissance".into(),
            "Device" => "Appareil".into(),
            "Alert" => "Alerte".into(),
            other => other.into(),
        };
        out.push_str(&f.join(","));
        out.push('\n');
    }
    for (en, fr) in EXTRA {
        out = out.replacen(en, fr, 1);
    }
    out
}

fn kinds(i: &Import) -> Vec<(String, EntryKind)> {
    i.rows
        .iter()
        .map(|r| (r.entry.at.to_rfc3339(), r.entry.kind.clone()))
        .collect()
}

#[test]
fn a_french_clarity_export_reads_as_the_english_one() {
    let en = parse(english_file().as_bytes(), &opts()).unwrap();
    let fr = parse(french_file().as_bytes(), &opts()).unwrap();
    assert_eq!(fr.format, Format::DexcomClarity);
    assert!(en.rejected.is_empty(), "{:?}", en.rejected);
    assert!(fr.rejected.is_empty(), "{:?}", fr.rejected);
    let c = fr.counts();
    assert_eq!((c.glucose, c.insulin, c.carbs, c.other), (290, 2, 1, 1));
    assert_eq!(kinds(&fr), kinds(&en));
    assert_eq!(fr.device.as_deref(), Some("Dexcom G6 Mobile App"));
    assert_eq!(fr.skipped_total(), en.skipped_total());
}

#[test]
fn a_french_word_outside_the_table_refuses_its_row_by_name() {
    let fr = french_file().replacen("Action rapide", "Action ultra-rapide", 1);
    let i = parse(fr.as_bytes(), &opts()).unwrap();
    assert_eq!(i.rejected.len(), 1, "{:?}", i.rejected);
    assert!(
        i.rejected[0].reason.contains("\"Action ultra-rapide\""),
        "{:?}",
        i.rejected
    );
}
