//! The page: header (patient, period, sensor wear), the metrics table with the consensus
//! targets, the stacked time-in-ranges bar, then the curves (or the logbook), the hypo episodes
//! and the footer. A4 portrait, one page: every section has a fixed height budget.

use ilot_domain::GlucoseUnit;
use krilla::Document;
use krilla::metadata::Metadata;
use krilla::page::PageSettings;

use crate::draw::{
    Align, Fonts, GREY, HIGH, IN_RANGE, LOW, Pen, RULE, Rgb, Style, VERY_HIGH, VERY_LOW,
};
use crate::error::{Error, Result};
use crate::i18n::{Lang, Strings};
use crate::{Layout, Report, sections};

pub(crate) const PAGE_W: f32 = 595.28;
pub(crate) const PAGE_H: f32 = 841.89;
pub(crate) const MARGIN: f32 = 32.0;
pub(crate) const RIGHT: f32 = PAGE_W - MARGIN;
/// The footer's rule: nothing is drawn below it but the footer.
pub(crate) const FOOTER_TOP: f32 = PAGE_H - 32.0;

pub(crate) const BODY: Style = Style::new(8.0);
pub(crate) const SMALL: Style = Style::new(6.5).color(GREY);
pub(crate) const HEADING: Style = Style::new(9.5).bold();

pub(crate) fn render(r: &Report, lang: Lang) -> Result<Vec<u8>> {
    let s = lang.strings();
    let fonts = Fonts::load()?;
    let mut doc = Document::new();
    doc.set_metadata(
        Metadata::new()
            .title(format!("{} – {}", s.title, r.patient.pseudonym))
            .language(lang.code().into())
            .creator("Ilot".into()),
    );
    {
        let settings = PageSettings::from_wh(PAGE_W, PAGE_H).ok_or(Error::Font)?;
        let mut page = doc.start_page_with(settings);
        let mut surface = page.surface();
        let mut pen = Pen::new(&mut surface, &fonts);
        let y = header(&mut pen, r, lang, s);
        let y = statistics(&mut pen, r, lang, s, y + 14.0);
        let y = match r.layout {
            Layout::Cgm => {
                let y = sections::agp(&mut pen, r, lang, y + 24.0);
                sections::daily(&mut pen, r, lang, y + 10.0)
            }
            Layout::Capillary => sections::logbook(&mut pen, r, lang, y + 24.0),
        };
        sections::hypos(&mut pen, r, lang, y + 16.0);
        footer(&mut pen, r, lang, s);
        surface.finish();
        page.finish();
    }
    doc.finish().map_err(|e| Error::Pdf(format!("{e:?}")))
}

/// Title, patient, period and wear; returns the y under the box.
fn header(pen: &mut Pen<'_, '_>, r: &Report, lang: Lang, s: &Strings) -> f32 {
    pen.text(MARGIN, 44.0, Style::new(14.0).bold(), Align::Left, s.title);
    pen.text(MARGIN, 55.0, SMALL, Align::Left, s.subtitle);
    let top = 62.0;
    let bold = BODY.bold();
    let mut y = top + 13.0;
    let w = pen.text(MARGIN + 6.0, y, bold, Align::Left, s.patient);
    pen.text(
        MARGIN + 10.0 + w,
        y,
        Style::new(9.0).bold(),
        Align::Left,
        &r.patient.pseudonym,
    );
    if let Some(id) = &r.patient.identity {
        let x = 320.0;
        let w = pen.text(x, y, bold, Align::Left, s.identity);
        pen.text(x + w + 4.0, y, BODY, Align::Left, id);
    }
    y += 12.0;
    let m = &r.metrics;
    let from = r.window.from.with_timezone(&r.tz);
    let to = r.window.to.with_timezone(&r.tz);
    let period = format!(
        "{} – {} ({} {}, {})",
        lang.date_time(&from),
        lang.date_time(&to),
        lang.number(m.window_days, 1),
        s.days,
        r.tz
    );
    labelled(pen, MARGIN + 6.0, y, s.period, &period);
    y += 12.0;
    match r.layout {
        Layout::Cgm => {
            let w = labelled(
                pen,
                MARGIN + 6.0,
                y,
                s.cgm_active,
                &lang.percent(m.active_percent),
            );
            labelled(
                pen,
                MARGIN + 30.0 + w,
                y,
                s.readings,
                &m.n_readings.to_string(),
            );
        }
        Layout::Capillary => {
            let text = format!(
                "{} ({} {})",
                m.n_readings,
                per_day(m.n_readings, m.window_days, lang),
                s.per_day
            );
            labelled(pen, MARGIN + 6.0, y, s.capillary_readings, &text);
        }
    }
    if r.layout == Layout::Cgm && !m.sufficient {
        y += 12.0;
        let mut why = Vec::new();
        if m.window_days < ilot_rules::metrics::MIN_DAYS {
            why.push(s.too_short);
        }
        if m.active_percent
            .is_none_or(|a| a < ilot_rules::metrics::MIN_ACTIVE_PERCENT)
        {
            why.push(s.too_little_wear);
        }
        let text = format!("{} {}", s.insufficient, why.join(", "));
        pen.text(
            MARGIN + 6.0,
            y,
            BODY.bold().color(VERY_LOW),
            Align::Left,
            &text,
        );
    }
    let bottom = y + 6.0;
    pen.frame(MARGIN, top, RIGHT - MARGIN, bottom - top, 0.6, RULE);
    bottom
}

/// `label` in bold then `value`; returns the width taken.
fn labelled(pen: &mut Pen<'_, '_>, x: f32, y: f32, label: &str, value: &str) -> f32 {
    let w = pen.text(x, y, BODY.bold(), Align::Left, label);
    w + 4.0 + pen.text(x + w + 4.0, y, BODY, Align::Left, value)
}

fn per_day(n: usize, days: f64, lang: Lang) -> String {
    if days > 0.0 {
        lang.number(n as f64 / days, 1)
    } else {
        "—".into()
    }
}

/// A glucose in mg/dL, and in the patient's unit when that is another one.
pub(crate) fn glucose_text(mg_dl: f64, unit: GlucoseUnit, lang: Lang) -> String {
    let mg = format!("{} mg/dL", lang.number(mg_dl, 0));
    if unit == GlucoseUnit::MgPerDl {
        mg
    } else {
        format!("{mg} ({} {})", lang.glucose(mg_dl, unit), unit.symbol())
    }
}

struct Row {
    label: String,
    indent: bool,
    value: String,
    target: &'static str,
}

fn row(label: impl Into<String>, value: String, target: &'static str) -> Row {
    Row {
        label: label.into(),
        indent: false,
        value,
        target,
    }
}

fn sub(label: &'static str, value: String, target: &'static str) -> Row {
    Row {
        indent: true,
        ..row(label, value, target)
    }
}

/// The metrics table (left) and the time-in-ranges bar (right); returns the lower bottom.
fn statistics(pen: &mut Pen<'_, '_>, r: &Report, lang: Lang, s: &Strings, top: f32) -> f32 {
    let m = &r.metrics;
    let p = |v| lang.percent(v);
    let mut rows = vec![
        row(s.tir, p(m.tir_percent), "> 70 %"),
        row(s.tbr, p(m.below_70_percent), "< 4 %"),
        sub(s.tbr_l1, p(m.between_54_69_percent), "< 4 %"),
        sub(s.tbr_l2, p(m.below_54_percent), "< 1 %"),
        row(s.tar, p(m.above_180_percent), "< 25 %"),
        sub(s.tar_l1, p(m.between_181_250_percent), "< 25 %"),
        sub(s.tar_l2, p(m.above_250_percent), "< 5 %"),
        row(
            s.mean,
            m.mean_mg_dl
                .map_or("—".into(), |v| glucose_text(v, r.unit, lang)),
            "",
        ),
        row(s.gmi, p(m.gmi_percent), ""),
        row(s.cv, p(m.cv_percent), "≤ 36 %"),
        row(
            s.sd,
            m.sd_mg_dl
                .map_or("—".into(), |v| format!("{} mg/dL", lang.number(v, 1))),
            "",
        ),
    ];
    rows.push(match r.layout {
        Layout::Cgm => row(s.active, p(m.active_percent), "≥ 70 %"),
        Layout::Capillary => row(
            s.readings_per_day,
            per_day(m.n_readings, m.window_days, lang),
            "",
        ),
    });
    rows.push(row(
        s.hypo_episodes,
        format!("{} / {}", m.hypo_level1_episodes, m.hypo_level2_episodes),
        "",
    ));
    if let Some(pg) = &m.pregnancy {
        rows.push(row(s.pregnancy_tir, p(pg.tir_63_140_percent), "> 70 %"));
        rows.push(row(s.pregnancy_below, p(pg.below_63_percent), "< 4 %"));
        rows.push(row(s.pregnancy_above, p(pg.above_140_percent), "< 25 %"));
    }
    if m.n_lo + m.n_hi > 0 {
        rows.push(row(
            format!("{} ({})", s.lo_hi, s.lo_hi_note),
            format!("{} / {}", m.n_lo, m.n_hi),
            "",
        ));
    }

    pen.text(MARGIN, top, HEADING, Align::Left, s.stats_heading);
    let (value_right, target_x, table_right) = (318.0, 326.0, 360.0);
    let mut y = top + 13.0;
    pen.text(MARGIN, y, SMALL, Align::Left, s.col_metric);
    pen.text(value_right, y, SMALL, Align::Right, s.col_value);
    pen.text(target_x, y, SMALL, Align::Left, s.col_target);
    for row in &rows {
        pen.line((MARGIN, y + 3.0), (table_right, y + 3.0), 0.4, RULE);
        y += 11.5;
        let (x, style) = if row.indent {
            (MARGIN + 10.0, BODY)
        } else {
            (MARGIN, BODY.bold())
        };
        pen.text(x, y, style, Align::Left, &row.label);
        pen.text(value_right, y, BODY.bold(), Align::Right, &row.value);
        pen.text(target_x, y, BODY, Align::Left, row.target);
    }
    if r.layout == Layout::Capillary {
        y += 11.0;
        pen.text(MARGIN, y, SMALL, Align::Left, s.capillary_note);
    }
    let bar_bottom = tir_bar(pen, r, lang, s, top);
    y.max(bar_bottom)
}

/// The stacked bar of the five ranges, very high on top, each labelled with its percentage.
fn tir_bar(pen: &mut Pen<'_, '_>, r: &Report, lang: Lang, s: &Strings, top: f32) -> f32 {
    let m = &r.metrics;
    let x = 384.0;
    pen.text(x, top, HEADING, Align::Left, s.bar_heading);
    let (bar_top, bar_h, bar_w) = (top + 10.0, 150.0, 26.0);
    let ranges: [(&str, Option<f64>, Rgb); 5] = [
        (s.very_high, m.above_250_percent, VERY_HIGH),
        (s.high, m.between_181_250_percent, HIGH),
        (s.in_range, m.tir_percent, IN_RANGE),
        (s.low, m.between_54_69_percent, LOW),
        (s.very_low, m.below_54_percent, VERY_LOW),
    ];
    let mut seg_top = bar_top;
    let slot = bar_h / ranges.len() as f32;
    for (i, (label, pct, color)) in ranges.iter().enumerate() {
        let h = pct.unwrap_or(0.0) as f32 / 100.0 * bar_h;
        if h > 0.0 {
            pen.rect(x, seg_top, bar_w, h, *color);
        }
        let label_y = bar_top + slot * (i as f32 + 0.5) + 3.0;
        pen.line(
            (x + bar_w + 1.0, seg_top + h / 2.0),
            (x + bar_w + 10.0, label_y - 3.0),
            0.4,
            GREY,
        );
        pen.rect(x + bar_w + 12.0, label_y - 6.5, 7.0, 7.0, *color);
        pen.text(x + bar_w + 22.0, label_y, BODY, Align::Left, label);
        pen.text(
            RIGHT,
            label_y,
            BODY.bold(),
            Align::Right,
            &lang.percent(*pct),
        );
        seg_top += h;
    }
    pen.frame(x, bar_top, bar_w, bar_h, 0.5, GREY);
    bar_top + bar_h
}

fn footer(pen: &mut Pen<'_, '_>, r: &Report, lang: Lang, s: &Strings) {
    let y = FOOTER_TOP + 12.0;
    pen.line(
        (MARGIN, FOOTER_TOP + 3.0),
        (RIGHT, FOOTER_TOP + 3.0),
        0.4,
        RULE,
    );
    let at = r.generated_at.with_timezone(&r.tz);
    let text = format!("{} {} ({})", s.generated, lang.date_time(&at), r.tz);
    pen.text(MARGIN, y, SMALL, Align::Left, &text);
    pen.text(RIGHT, y, SMALL, Align::Right, s.page);
}
