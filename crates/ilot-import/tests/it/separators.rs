//! The same real exports with the separator of another country or of a spreadsheet that saved
//! them again: CareLink writes semicolons in Europe and commas in the US, Clarity commas, and a
//! spreadsheet set to French saves with semicolons. Each must read as the original.

use ilot_domain::EntryKind;
use ilot_import::{Format, Import, parse};

use crate::real_files::{opts, shared};

fn entries(i: &Import) -> Vec<(u64, String, EntryKind)> {
    i.rows
        .iter()
        .map(|r| (r.line, r.entry.at.to_rfc3339(), r.entry.kind.clone()))
        .collect()
}

/// Each line split on `from`, decimal commas made points when `points`, joined with `to`.
fn resave(text: &str, from: char, to: &str, points: bool) -> String {
    text.split('\n')
        .map(|l| {
            l.trim_end_matches('\r')
                .split(from)
                .map(|f| {
                    if points {
                        f.replace(',', ".")
                    } else {
                        f.to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join(to)
        })
        .collect::<Vec<_>>()
        .join("\r\n")
}

#[test]
fn a_us_carelink_export_with_commas_reads_as_the_european_one() {
    let real = String::from_utf8(shared("carelink-guardian-connect-semicolon.csv")).unwrap();
    let eu = parse(real.as_bytes(), &opts()).unwrap();
    let us = parse(resave(&real, ';', ",", true).as_bytes(), &opts()).unwrap();
    assert_eq!(us.format, Format::CareLink);
    assert!(us.rejected.is_empty(), "{:?}", us.rejected);
    assert_eq!(us.counts(), eu.counts());
    // The markers are kept as written: "Insulin: 27,00" in Europe, "Insulin: 27.00" in the US.
    let written_in_us = |e: Vec<(u64, String, EntryKind)>| -> Vec<(u64, String, String)> {
        e.into_iter()
            .map(|(l, t, k)| match k {
                EntryKind::Note(n) => (l, t, n.text().replace(',', ".")),
                other => (l, t, format!("{other:?}")),
            })
            .collect()
    };
    let (u, e) = (written_in_us(entries(&us)), written_in_us(entries(&eu)));
    assert_eq!(u.len(), e.len());
    let differ: Vec<_> = u.iter().zip(&e).filter(|(a, b)| a != b).take(3).collect();
    assert!(differ.is_empty(), "{differ:?}");
    assert_eq!(us.serial, eu.serial);
}

#[test]
fn a_clarity_export_saved_again_with_semicolons_reads_the_same() {
    let real = String::from_utf8(shared("dexcom-clarity-g6-mgdl.csv")).unwrap();
    let en = parse(real.as_bytes(), &opts()).unwrap();
    let fr = parse(resave(&real, ',', ";", false).as_bytes(), &opts()).unwrap();
    assert_eq!(fr.format, Format::DexcomClarity);
    assert!(fr.rejected.is_empty(), "{:?}", fr.rejected);
    assert_eq!(fr.rows.len(), en.rows.len());
    assert!(entries(&fr) == entries(&en), "the same entries");
}
