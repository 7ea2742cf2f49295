//! The columnar layout byte for byte (as `docs/wire-format.md` describes it), and decoding that
//! refuses malformed bodies without panicking.

use super::*;
use chrono::TimeZone;
use proptest::prelude::*;

fn cgm_item() -> WireEntry {
    let offset = FixedOffset::east_opt(3600).unwrap();
    WireEntry {
        id: 1,
        version: 1,
        op: WireOp::Insert,
        recorded_at: DateTime::from_timestamp(1000, 0).unwrap(),
        entry: Entry {
            at: offset.timestamp_opt(700, 0).unwrap(),
            source: Source::device(SourceKind::Cgm, SourceDevice::new("d").unwrap(), 5),
            kind: EntryKind::Glucose(GlucoseReading::cgm(Glucose::from_mg_dl(126.0).unwrap())),
        },
        reason: None,
    }
}

#[test]
fn an_empty_batch_is_its_header_and_nineteen_empty_columns() {
    let mut out = Vec::new();
    encode(&[], None, &mut out).unwrap();
    let mut expected = vec![0, 0, 19];
    expected.extend([0; 19]);
    assert_eq!(out, expected);
    assert_eq!(decode(&out).unwrap(), (vec![], None));
}

#[test]
fn one_cgm_reading_is_laid_out_as_documented() {
    let mut out = Vec::new();
    encode(&[cgm_item()], None, &mut out).unwrap();
    // Column by column, from the wire-format document (zigzag varints: 1 → 2, 1000 → 2000…).
    let columns: [&[u8]; 19] = [
        &[2],          // id +1
        &[1],          // version 1
        &[1],          // insert
        &[0xD0, 0x0F], // recorded +1000 s
        &[0],          // recorded ns
        &[0xF8, 0x0A], // at +700 s (UTC)
        &[0],          // at ns
        &[0xA0, 0x38], // offset +3600 s
        &[3],          // source cgm
        &[1],          // device #1 (new: read from the dictionary)
        &[11],         // record 5: zigzag(+5) + 1
        &[1],          // glucose
        &[40],         // value | mg/dL (2) << 2 | interstitial (2) << 4
        &[7],          // context other
        &[0],          // scale 0
        &[0xFC, 0x01], // mantissa +126
        &[],           // payload
        &[0],          // no reason
        &[1, b'd'],    // dictionary: "d"
    ];
    let mut expected = vec![1, 0, 19];
    expected.extend(columns.iter().map(|c| c.len() as u8));
    for c in columns {
        expected.extend_from_slice(c);
    }
    assert_eq!(out, expected);
    assert_eq!(decode(&out).unwrap(), (vec![cgm_item()], None));
}

#[test]
fn a_scan_has_its_own_reading_type_code_and_round_trips() {
    let mut scan = cgm_item();
    scan.entry.source = Source::import(SourceDevice::new("libreview:123").unwrap());
    scan.entry.kind = EntryKind::Glucose(GlucoseReading::scan(Glucose::from_mg_dl(61.0).unwrap()));
    let mut history = cgm_item();
    history.id = 2;
    let items = [scan.clone(), history.clone()];
    let mut out = Vec::new();
    encode(&items, None, &mut out).unwrap();
    // The glucose-meta column is the 13th; both items' bytes follow the 19 column lengths.
    let lens: Vec<usize> = out[3..22].iter().map(|l| usize::from(*l)).collect();
    let meta_at = 22 + lens[..G_META].iter().sum::<usize>();
    assert_eq!(lens[G_META], 2);
    // value | mg/dL (2) << 2 | scan (4) << 4, then the history reading's interstitial (2) << 4.
    assert_eq!(&out[meta_at..meta_at + 2], &[72, 40]);
    let (back, _) = decode(&out).unwrap();
    assert_eq!(back, items);
    let EntryKind::Glucose(g) = &back[0].entry.kind else {
        panic!("not glucose")
    };
    assert_eq!(g.reading_type, ReadingType::Scan);

    // A reading type no version has written is refused, not read as another one.
    out[meta_at] = 8 | 5 << 4;
    assert!(decode(&out).is_err());
}

#[test]
fn a_consent_change_rides_in_the_body_head() {
    let c = ConsentChange {
        granted: false,
        at: Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap(),
        notice_version: 3,
    };
    let mut out = Vec::new();
    encode(&[], Some(&c), &mut out).unwrap();
    assert_eq!(&out[..3], &[0, FLAG_CONSENT, 0]);
    assert_eq!(decode(&out).unwrap(), (vec![], Some(c)));
}

#[test]
fn the_domain_refuses_what_it_would_not_build() {
    // A value the domain refuses cannot be built, so corrupt an encoded one: 126 → 1260 mg/dL.
    let mut out = Vec::new();
    encode(&[cgm_item()], None, &mut out).unwrap();
    let at = out.len() - 5;
    assert_eq!(&out[at..at + 2], &[0xFC, 0x01]);
    out[at..at + 2].copy_from_slice(&[0xD8, 0x13]);
    let e = decode(&out).unwrap_err();
    assert!(matches!(e, WireError::InvalidEntry { index: 0, .. }), "{e}");
    assert!(e.to_string().contains("outside the plausible range"), "{e}");
}

#[test]
fn counts_and_lengths_must_add_up() {
    let mut out = Vec::new();
    encode(&[cgm_item()], None, &mut out).unwrap();
    let mut more_items = out.clone();
    more_items[0] = 2;
    assert!(decode(&more_items).is_err());
    let mut trailing = out.clone();
    trailing.push(0);
    assert!(decode(&trailing).is_err());
    let mut bad_flags = out;
    bad_flags[1] = 0x80;
    assert!(
        decode(&bad_flags)
            .unwrap_err()
            .to_string()
            .contains("unknown flags")
    );
}

#[test]
fn a_huge_item_count_allocates_nothing() {
    let mut out = Vec::new();
    put_varint(&mut out, u64::MAX);
    out.extend([0, 19]);
    out.extend([0; 19]);
    assert!(matches!(
        decode(&out),
        Err(WireError::TooManyItems {
            items: u64::MAX,
            max: MAX_BATCH_ITEMS
        })
    ));
    // Within the bound, a count the id column does not hold is refused before any item.
    let mut out = Vec::new();
    put_varint(&mut out, MAX_BATCH_ITEMS as u64);
    out.extend([0, 19]);
    out.extend([0; 19]);
    assert!(
        decode(&out)
            .unwrap_err()
            .to_string()
            .contains("holds fewer")
    );
}

proptest! {
    #[test]
    fn decoding_random_bytes_never_panics(body in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = decode(&body);
    }

    #[test]
    fn random_columns_never_panic(
        n in 0u64..6,
        cols in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..24), N),
    ) {
        // Consistent framing, garbage inside: reaches every decoding path.
        let mut body = Vec::new();
        put_varint(&mut body, n);
        body.extend([0, N as u8]);
        for c in &cols {
            put_varint(&mut body, c.len() as u64);
        }
        for c in &cols {
            body.extend_from_slice(c);
        }
        let _ = decode(&body);
    }

    #[test]
    fn decoding_a_mutated_body_never_panics(pos in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let mut out = Vec::new();
        let items = vec![cgm_item(); 3];
        encode(&items, None, &mut out).unwrap();
        let i = pos.index(out.len());
        out[i] = byte;
        let _ = decode(&out);
    }
}
