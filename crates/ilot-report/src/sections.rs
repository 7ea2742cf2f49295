//! The page's lower sections: the AGP chart, the daily curves, the logbook grid and the list of
//! hypoglycaemia episodes. Each takes the y where it starts and returns the y where it ends.
//!
//! The charts span 0–350 mg/dL (the consensus AGP's scale); LO is drawn on the lower edge and HI on the upper one, as a
//! reading beyond what the meter can measure (the numbers in the table never use them).

use chrono::{Datelike, NaiveDate, NaiveTime, Timelike};
use ilot_domain::{GlucoseUnit, MealContext};
use ilot_rules::Level;
use ilot_rules::agp::Percentiles;

use crate::Report;
use crate::draw::{
    Align, BLACK, GREY, IQR_BAND, LOW, MEDIAN, OUTER_BAND, Pen, RULE, Rgb, TARGET_BAND,
};
use crate::i18n::{Lang, Strings};
use crate::page::{BODY, FOOTER_TOP, HEADING, MARGIN, RIGHT, SMALL, glucose_text};

const CHART_MAX: f64 = 350.0;
const TICKS: [f64; 4] = [54.0, 70.0, 180.0, 250.0];

/// A vertical mapping from mg/dL to the page inside `[top, top + height]`.
#[derive(Debug, Clone, Copy)]
struct Scale {
    top: f32,
    height: f32,
}

impl Scale {
    fn y(self, mg_dl: f64) -> f32 {
        let v = mg_dl.clamp(0.0, CHART_MAX);
        self.top + self.height * (1.0 - (v / CHART_MAX) as f32)
    }

    fn level(self, l: Level) -> f32 {
        match l {
            Level::MgDl(v) => self.y(v),
            Level::Lo => self.y(0.0),
            Level::Hi => self.y(CHART_MAX),
        }
    }
}

fn tick_label(mg: f64, unit: GlucoseUnit, lang: Lang) -> String {
    lang.glucose(mg, unit)
}

/// The AGP: 5–95 % and 25–75 % bands, the median, the target band, over 24 hours.
pub(crate) fn agp(pen: &mut Pen<'_, '_>, r: &Report, lang: Lang, top: f32) -> f32 {
    let s = lang.strings();
    pen.text(MARGIN, top, HEADING, Align::Left, s.agp_heading);
    legend(pen, s, top + 11.0);
    let (x0, x1) = (MARGIN + 34.0, RIGHT - 4.0);
    let scale = Scale {
        top: top + 20.0,
        height: 160.0,
    };
    let w = x1 - x0;
    pen.rect(
        x0,
        scale.y(180.0),
        w,
        scale.y(70.0) - scale.y(180.0),
        TARGET_BAND,
    );
    let bin = r.agp.bin_minutes as f32;
    let x_of = |minute: f32| x0 + w * minute / 1440.0;
    // Runs of bins with data; an empty bin breaks the bands and the median.
    let mut runs: Vec<Vec<(f32, Percentiles)>> = Vec::new();
    let mut current: Vec<(f32, Percentiles)> = Vec::new();
    for b in &r.agp.bins {
        match b.percentiles {
            Some(p) => current.push((x_of(b.start_minute as f32 + bin / 2.0), p)),
            None if !current.is_empty() => runs.push(std::mem::take(&mut current)),
            None => {}
        }
    }
    if !current.is_empty() {
        runs.push(current);
    }
    let band = |run: &[(f32, Percentiles)],
                hi: fn(&Percentiles) -> Level,
                lo: fn(&Percentiles) -> Level| {
        let mut pts: Vec<(f32, f32)> = run.iter().map(|(x, p)| (*x, scale.level(hi(p)))).collect();
        pts.extend(run.iter().rev().map(|(x, p)| (*x, scale.level(lo(p)))));
        pts
    };
    for run in &runs {
        pen.polygon(&band(run, |p| p.p95, |p| p.p5), OUTER_BAND);
    }
    for run in &runs {
        pen.polygon(&band(run, |p| p.p75, |p| p.p25), IQR_BAND);
    }
    for run in &runs {
        let line: Vec<(f32, f32)> = run.iter().map(|(x, p)| (*x, scale.level(p.p50))).collect();
        pen.polyline(&line, 1.6, MEDIAN, false);
    }
    if runs.is_empty() {
        pen.text(
            (x0 + x1) / 2.0,
            scale.top + scale.height / 2.0,
            BODY.color(GREY),
            Align::Centre,
            s.no_cgm,
        );
    }
    axes(pen, r.unit, lang, scale, x0, x1);
    scale.top + scale.height + 12.0
}

fn legend(pen: &mut Pen<'_, '_>, s: &Strings, y: f32) {
    let mut x = MARGIN + 34.0;
    let items = [
        (s.agp_legend_median, MEDIAN),
        (s.agp_legend_iqr, IQR_BAND),
        (s.agp_legend_outer, OUTER_BAND),
        (s.agp_legend_target, TARGET_BAND),
    ];
    for (label, color) in items {
        pen.rect(x, y - 5.5, 10.0, 6.0, color);
        x += 13.0;
        x += pen.text(x, y, SMALL, Align::Left, label) + 12.0;
    }
}

/// Threshold lines with their values, hours along the bottom, and the frame.
fn axes(pen: &mut Pen<'_, '_>, unit: GlucoseUnit, lang: Lang, scale: Scale, x0: f32, x1: f32) {
    for t in TICKS {
        let y = scale.y(t);
        pen.polyline(&[(x0, y), (x1, y)], 0.4, GREY, true);
        pen.text(
            x0 - 3.0,
            y + 2.2,
            SMALL,
            Align::Right,
            &tick_label(t, unit, lang),
        );
    }
    pen.text(
        x0 - 3.0,
        scale.top + 5.0,
        SMALL,
        Align::Right,
        unit.symbol(),
    );
    let bottom = scale.top + scale.height;
    for h in (0..=24).step_by(3) {
        let x = x0 + (x1 - x0) * h as f32 / 24.0;
        pen.line((x, bottom), (x, bottom + 2.0), 0.4, GREY);
        pen.text(x, bottom + 9.0, SMALL, Align::Centre, &format!("{h:02}:00"));
    }
    pen.frame(x0, scale.top, x1 - x0, scale.height, 0.5, GREY);
}

fn day_label(date: NaiveDate, lang: Lang) -> String {
    let s = lang.strings();
    let wd = s.weekdays[date.weekday().num_days_from_monday() as usize];
    match lang {
        Lang::Fr => format!("{wd} {:02}/{:02}", date.day(), date.month()),
        Lang::En => format!("{wd} {:02}-{:02}", date.month(), date.day()),
    }
}

fn minute_of(t: NaiveTime) -> f32 {
    t.num_seconds_from_midnight() as f32 / 60.0
}

/// The daily curves: the last 14 days, 7 a row, each over its 24 hours with the target band.
pub(crate) fn daily(pen: &mut Pen<'_, '_>, r: &Report, lang: Lang, top: f32) -> f32 {
    let s = lang.strings();
    pen.text(MARGIN, top, HEADING, Align::Left, s.daily_heading);
    let (gap, per_row, h) = (4.0, 7, 56.0);
    let w = (RIGHT - MARGIN - gap * (per_row as f32 - 1.0)) / per_row as f32;
    let mut bottom = top;
    for (i, day) in r.days.iter().enumerate() {
        let (col, line) = (i % per_row, i / per_row);
        let x = MARGIN + col as f32 * (w + gap);
        let y = top + 16.0 + line as f32 * (h + 14.0);
        pen.text(
            x,
            y - 2.5,
            SMALL.color(BLACK),
            Align::Left,
            &day_label(day.date, lang),
        );
        let scale = Scale { top: y, height: h };
        pen.rect(
            x,
            scale.y(180.0),
            w,
            scale.y(70.0) - scale.y(180.0),
            TARGET_BAND,
        );
        // A new line after a gap of more than 30 minutes, or when the clock goes back (DST).
        let mut segment: Vec<(f32, f32)> = Vec::new();
        let mut last: Option<f32> = None;
        for reading in &day.readings {
            let m = minute_of(reading.time);
            if last.is_some_and(|l| m < l || m - l > 30.0) {
                pen.polyline(&segment, 0.7, MEDIAN, false);
                segment.clear();
            }
            segment.push((x + w * m / 1440.0, scale.level(reading.level)));
            last = Some(m);
        }
        pen.polyline(&segment, 0.7, MEDIAN, false);
        // Lone readings (a fingerstick among sensor data) as dots.
        if day.readings.len() == 1 {
            let (px, py) = segment[0];
            pen.rect(px - 0.8, py - 0.8, 1.6, 1.6, MEDIAN);
        }
        if day.readings.is_empty() {
            pen.text(
                x + w / 2.0,
                y + h / 2.0 + 2.0,
                SMALL,
                Align::Centre,
                s.no_data,
            );
        }
        pen.polyline(
            &[(x, scale.y(54.0)), (x + w, scale.y(54.0))],
            0.3,
            LOW,
            true,
        );
        pen.frame(x, y, w, h, 0.4, GREY);
        bottom = y + h;
    }
    bottom + 4.0
}

/// The logbook grid: one row per day, one column per meal context, values in the patient's unit.
pub(crate) fn logbook(pen: &mut Pen<'_, '_>, r: &Report, lang: Lang, top: f32) -> f32 {
    let s = lang.strings();
    let heading = format!("{} ({})", s.logbook_heading, r.unit.symbol());
    pen.text(MARGIN, top, HEADING, Align::Left, &heading);
    pen.text(RIGHT, top, SMALL, Align::Right, s.logbook_legend);
    let date_w = 52.0;
    let cols = MealContext::ALL.len();
    let col_w = (RIGHT - MARGIN - date_w) / cols as f32;
    let header_y = top + 8.0;
    let row_h = 24.0;
    pen.rect(MARGIN, header_y, RIGHT - MARGIN, 14.0, RULE);
    pen.text(
        MARGIN + 3.0,
        header_y + 9.5,
        BODY.bold(),
        Align::Left,
        s.col_date,
    );
    for (c, name) in s.contexts.iter().enumerate() {
        let cx = MARGIN + date_w + col_w * (c as f32 + 0.5);
        pen.text(cx, header_y + 9.5, BODY.bold(), Align::Centre, name);
    }
    let mut y = header_y + 14.0;
    let cell = BODY;
    for day in &r.logbook.days {
        pen.line((MARGIN, y + row_h), (RIGHT, y + row_h), 0.4, RULE);
        pen.text(
            MARGIN + 3.0,
            y + 9.0,
            BODY,
            Align::Left,
            &day_label(day.date, lang),
        );
        for (c, readings) in day.cells.iter().enumerate() {
            let x = MARGIN + date_w + col_w * c as f32;
            let items: Vec<String> = readings
                .iter()
                .map(|(_, level)| logbook_value(*level, r.unit, lang))
                .collect();
            // Two lines a cell; what does not fit is counted ("+2"), never dropped silently.
            let (first, rest) = pen.fit(&items, cell, col_w - 6.0);
            pen.text(x + 3.0, y + 9.0, cell, Align::Left, &first);
            if rest > 0 {
                let (second, left) = pen.fit(&items[items.len() - rest..], cell, col_w - 6.0);
                let second = if left > 0 {
                    format!("{second} +{left}")
                } else {
                    second
                };
                pen.text(x + 3.0, y + 19.0, cell, Align::Left, &second);
            }
        }
        y += row_h;
    }
    for c in 0..=cols {
        let x = MARGIN + date_w + col_w * c as f32;
        pen.line((x, header_y), (x, y), 0.4, RULE);
    }
    pen.frame(MARGIN, header_y, RIGHT - MARGIN, y - header_y, 0.5, GREY);
    y + 4.0
}

/// A logbook value: the number in the patient's unit, marked ▼ below 70 and ▲ above 180 mg/dL
/// (a sign as well as a colour would be lost in black and white print).
fn logbook_value(level: Level, unit: GlucoseUnit, lang: Lang) -> String {
    match level {
        Level::Lo => "LO▼".into(),
        Level::Hi => "HI▲".into(),
        Level::MgDl(v) => {
            let mark = if v < 70.0 {
                "▼"
            } else if v > 180.0 {
                "▲"
            } else {
                ""
            };
            format!("{}{mark}", lang.glucose(v, unit))
        }
    }
}

/// Episodes a column lists at most (two columns, newest first).
const PER_COLUMN: usize = 5;

/// The episode counts and the newest episodes with start, duration and nadir.
pub(crate) fn hypos(pen: &mut Pen<'_, '_>, r: &Report, lang: Lang, top: f32) -> f32 {
    let s = lang.strings();
    let m = &r.metrics;
    let w = pen.text(MARGIN, top, HEADING, Align::Left, s.hypo_heading);
    let counts = format!(
        "{}   {} {}",
        m.hypo_level1_episodes, s.hypo_of_which, m.hypo_level2_episodes
    );
    pen.text(MARGIN + w + 4.0, top, HEADING, Align::Left, &counts);
    if r.hypos.is_empty() {
        pen.text(MARGIN, top + 12.0, BODY, Align::Left, s.hypo_none);
        return top + 14.0;
    }
    let half = (RIGHT - MARGIN) / 2.0;
    // Fewer rows when the sections above took more room (pregnancy ranges, LO/HI, a warning):
    // the list never runs into the footer, and the count of those left out is printed.
    let room = ((FOOTER_TOP - (top + 23.0)) / 10.5).floor().max(0.0) as usize + 1;
    let per_column = room.clamp(1, PER_COLUMN);
    let listed = 2 * per_column;
    let mut bottom = top;
    for (i, e) in r.hypos.iter().rev().take(listed).enumerate() {
        let x = MARGIN + half * (i / per_column) as f32;
        let y = top + 23.0 + (i % per_column) as f32 * 10.5;
        if i % per_column == 0 {
            let hy = top + 12.0;
            pen.text(x, hy, SMALL, Align::Left, s.col_start);
            pen.text(x + 95.0, hy, SMALL, Align::Left, s.col_duration);
            pen.text(x + 145.0, hy, SMALL, Align::Left, s.col_nadir);
        }
        let start = e.start.with_timezone(&r.tz);
        pen.text(x, y, BODY, Align::Left, &lang.date_time(&start));
        // A lone fingerstick has no duration: its episode ends at the reading itself.
        let duration = match e.end {
            Some(end) if end > e.start => duration_text((end - e.start).num_minutes()),
            Some(_) => "—".into(),
            None => s.ongoing.to_string(),
        };
        pen.text(x + 95.0, y, BODY, Align::Left, &duration);
        let nadir = match e.extreme {
            Level::MgDl(v) => glucose_text(v, r.unit, lang),
            Level::Lo => "LO".into(),
            Level::Hi => "HI".into(),
        };
        pen.text(
            x + 145.0,
            y,
            BODY.bold().color(LOW_TEXT),
            Align::Left,
            &nadir,
        );
        bottom = bottom.max(y);
    }
    let more = r.hypos.len().saturating_sub(listed);
    pen.text(
        RIGHT,
        top,
        SMALL,
        Align::Right,
        &if more > 0 {
            format!("{} · +{more} {}", s.newest_first, s.more)
        } else {
            s.newest_first.to_string()
        },
    );
    bottom + 4.0
}

/// Nadirs in a red dark enough to read on white.
const LOW_TEXT: Rgb = Rgb(0xb0, 0x1c, 0x1c);

fn duration_text(minutes: i64) -> String {
    if minutes < 60 {
        format!("{minutes} min")
    } else {
        format!("{} h {:02}", minutes / 60, minutes % 60)
    }
}
