//! A thin pen over krilla's surface: text with the embedded DejaVu fonts (measured with skrifa,
//! so it can be centred or right-aligned), rectangles, lines and filled shapes. Coordinates are
//! PDF points from the page's top-left corner, y downwards; text is placed by its baseline.

use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::num::NormalizedF32;
use krilla::paint::{Fill, LineCap, LineJoin, Stroke, StrokeDash};
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};
use skrifa::instance::{LocationRef, Size};
use skrifa::{FontRef, MetadataProvider};

use crate::error::{Error, Result};

/// An RGB colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    fn paint(self) -> krilla::paint::Paint {
        rgb::Color::new(self.0, self.1, self.2).into()
    }
}

pub(crate) const BLACK: Rgb = Rgb(0x1a, 0x1a, 0x1a);
pub(crate) const GREY: Rgb = Rgb(0x60, 0x60, 0x60);
pub(crate) const RULE: Rgb = Rgb(0xc8, 0xc8, 0xc8);
/// The consensus colours of the five ranges (very low → very high).
pub(crate) const VERY_LOW: Rgb = Rgb(0x8b, 0x1a, 0x1a);
pub(crate) const LOW: Rgb = Rgb(0xe5, 0x39, 0x35);
pub(crate) const IN_RANGE: Rgb = Rgb(0x2e, 0x9e, 0x4f);
pub(crate) const HIGH: Rgb = Rgb(0xf5, 0xb8, 0x00);
pub(crate) const VERY_HIGH: Rgb = Rgb(0xe8, 0x6f, 0x00);
pub(crate) const TARGET_BAND: Rgb = Rgb(0xdc, 0xf1, 0xe1);
pub(crate) const OUTER_BAND: Rgb = Rgb(0xc6, 0xd9, 0xf0);
pub(crate) const IQR_BAND: Rgb = Rgb(0x6f, 0x9f, 0xd8);
pub(crate) const MEDIAN: Rgb = Rgb(0x0b, 0x3d, 0x91);

/// The two faces the report uses.
#[derive(Debug, Clone)]
pub(crate) struct Fonts {
    regular: (Font, &'static [u8]),
    bold: (Font, &'static [u8]),
}

impl Fonts {
    pub fn load() -> Result<Self> {
        let load = |data: &'static [u8]| {
            Font::new(data.into(), 0)
                .map(|f| (f, data))
                .ok_or(Error::Font)
        };
        let regular = load(dejavu::sans_condensed::regular())?;
        let bold = load(dejavu::sans_condensed::bold())?;
        // Measuring needs skrifa to read the same bytes.
        for (_, d) in [&regular, &bold] {
            FontRef::new(d).map_err(|_| Error::Font)?;
        }
        Ok(Self { regular, bold })
    }

    fn face(&self, bold: bool) -> &(Font, &'static [u8]) {
        if bold { &self.bold } else { &self.regular }
    }

    /// Advance width of `text` at `size` points (kerning aside).
    pub fn width(&self, text: &str, size: f32, bold: bool) -> f32 {
        let Ok(font) = FontRef::new(self.face(bold).1) else {
            return 0.0;
        };
        let charmap = font.charmap();
        let metrics = font.glyph_metrics(Size::new(size), LocationRef::default());
        text.chars()
            .filter_map(|c| charmap.map(c))
            .filter_map(|g| metrics.advance_width(g))
            .sum()
    }
}

/// Text style: size in points, weight, colour.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Style {
    pub size: f32,
    pub bold: bool,
    pub color: Rgb,
}

impl Style {
    pub const fn new(size: f32) -> Self {
        Self {
            size,
            bold: false,
            color: BLACK,
        }
    }

    pub const fn bold(mut self) -> Self {
        self.bold = true;
        self
    }

    pub const fn color(mut self, color: Rgb) -> Self {
        self.color = color;
        self
    }
}

/// Horizontal anchor of a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Align {
    Left,
    Centre,
    Right,
}

pub(crate) struct Pen<'a, 'b> {
    surface: &'a mut Surface<'b>,
    pub fonts: &'a Fonts,
}

impl std::fmt::Debug for Pen<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pen").finish_non_exhaustive()
    }
}

fn fill(color: Rgb) -> Fill {
    Fill {
        paint: color.paint(),
        opacity: NormalizedF32::ONE,
        rule: Default::default(),
    }
}

impl<'a, 'b> Pen<'a, 'b> {
    pub fn new(surface: &'a mut Surface<'b>, fonts: &'a Fonts) -> Self {
        Self { surface, fonts }
    }

    /// Draws `text` with its baseline at `y`; returns its width.
    pub fn text(&mut self, x: f32, y: f32, style: Style, align: Align, text: &str) -> f32 {
        let w = self.fonts.width(text, style.size, style.bold);
        let x = match align {
            Align::Left => x,
            Align::Centre => x - w / 2.0,
            Align::Right => x - w,
        };
        self.surface.set_stroke(None);
        self.surface.set_fill(Some(fill(style.color)));
        self.surface.draw_text(
            Point::from_xy(x, y),
            self.fonts.face(style.bold).0.clone(),
            style.size,
            text,
            false,
            TextDirection::Auto,
        );
        w
    }

    /// The longest prefix of `items` (joined by spaces) that fits in `width`, and how many
    /// items were left out. Used where a cell could overflow; the caller shows the count.
    pub fn fit(&self, items: &[String], style: Style, width: f32) -> (String, usize) {
        let mut shown = String::new();
        for (i, item) in items.iter().enumerate() {
            let rest = items.len() - i - 1;
            let candidate = if shown.is_empty() {
                item.clone()
            } else {
                format!("{shown} {item}")
            };
            let with_marker = if rest > 0 {
                format!("{candidate} +{rest}")
            } else {
                candidate.clone()
            };
            if self.fonts.width(&with_marker, style.size, style.bold) > width && i > 0 {
                return (shown, items.len() - i);
            }
            shown = candidate;
        }
        (shown, 0)
    }

    pub fn rect(&mut self, x: f32, y: f32, w: f32, h: f32, color: Rgb) {
        let Some(r) = Rect::from_xywh(x, y, w.max(0.01), h.max(0.01)) else {
            return;
        };
        let mut pb = PathBuilder::new();
        pb.push_rect(r);
        if let Some(path) = pb.finish() {
            self.surface.set_stroke(None);
            self.surface.set_fill(Some(fill(color)));
            self.surface.draw_path(&path);
        }
    }

    pub fn frame(&mut self, x: f32, y: f32, w: f32, h: f32, width: f32, color: Rgb) {
        self.polyline(
            &[(x, y), (x + w, y), (x + w, y + h), (x, y + h), (x, y)],
            width,
            color,
            false,
        );
    }

    pub fn line(&mut self, from: (f32, f32), to: (f32, f32), width: f32, color: Rgb) {
        self.polyline(&[from, to], width, color, false);
    }

    /// An open path through `points`; `dashed` for reference lines.
    pub fn polyline(&mut self, points: &[(f32, f32)], width: f32, color: Rgb, dashed: bool) {
        let Some(path) = path(points, false) else {
            return;
        };
        self.surface.set_fill(None);
        self.surface.set_stroke(Some(Stroke {
            paint: color.paint(),
            width,
            line_cap: LineCap::Round,
            line_join: LineJoin::Round,
            dash: dashed.then(|| StrokeDash {
                array: vec![2.0, 2.0],
                offset: 0.0,
            }),
            ..Stroke::default()
        }));
        self.surface.draw_path(&path);
        self.surface.set_stroke(None);
    }

    /// A closed, filled shape.
    pub fn polygon(&mut self, points: &[(f32, f32)], color: Rgb) {
        let Some(path) = path(points, true) else {
            return;
        };
        self.surface.set_stroke(None);
        self.surface.set_fill(Some(fill(color)));
        self.surface.draw_path(&path);
    }
}

fn path(points: &[(f32, f32)], close: bool) -> Option<krilla::geom::Path> {
    let (first, rest) = points.split_first()?;
    if rest.is_empty() {
        return None;
    }
    let mut pb = PathBuilder::new();
    pb.move_to(first.0, first.1);
    for p in rest {
        pb.line_to(p.0, p.1);
    }
    if close {
        pb.close();
    }
    pb.finish()
}
