//! The charts of the reports (loss curves, progress of a run, best loss per round, Pareto
//! fronts), drawn with `plotters` into SVG. Text stays text (`<text>` elements in a
//! sans-serif font), so no font files or system libraries are needed to draw them, and any
//! browser or image viewer shows them.
//!
//! [`Chart`] is the one way to draw: series drawn as lines, best-so-far steps or point
//! markers, a linear or logarithmic y axis, integer x ticks for counts, and marked points
//! with a label. [`line_chart`] is the short form for plain lines. The ticks of every axis
//! are labelled whatever the range ([`ticks`]).

pub mod ticks;

#[cfg(any(test, feature = "raster"))]
pub mod raster;

use plotters::chart::SeriesAnno;
use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use ticks::Axis;

/// One named series of a chart.
#[derive(Clone, Debug)]
pub struct Series {
    /// Legend text.
    pub name: String,
    /// Points `(x, y)`; a non-finite coordinate (or a y ≤ 0 on a logarithmic axis) breaks
    /// a line and is not drawn.
    pub points: Vec<(f64, f64)>,
}

/// How a series is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// Straight segments between the points (a point with no neighbour is a dot).
    Line,
    /// A step line: each value holds until the next point's x (a best-so-far curve).
    Step,
    /// A marker at each point, no line.
    Points,
}

/// A point picked out on a chart (the chosen law on a Pareto front), with its label.
#[derive(Clone, Debug)]
pub struct Mark {
    /// Where, in data units.
    pub at: (f64, f64),
    /// The text beside it (cut to [`MAX_MARK_CHARS`] characters).
    pub label: String,
}

/// Longest label a [`Mark`] shows; longer ones end in "…".
pub const MAX_MARK_CHARS: usize = 48;

/// Width and height of every chart, pixels.
pub const SIZE: (u32, u32) = (800, 480);

const COLOURS: [RGBColor; 6] = [
    RGBColor(0x1f, 0x77, 0xb4),
    RGBColor(0xd6, 0x27, 0x28),
    RGBColor(0x2c, 0xa0, 0x2c),
    RGBColor(0xff, 0x7f, 0x0e),
    RGBColor(0x94, 0x67, 0xbd),
    RGBColor(0x8c, 0x56, 0x4b),
];
const MARK_COLOUR: RGBColor = RGBColor(0xc0, 0x00, 0x00);
const GRID: RGBColor = RGBColor(0xe4, 0xe4, 0xe4);
const FONT: &str = "sans-serif";

/// A chart: title, axis names, its series and marks. Build it, then call [`Chart::svg`].
#[derive(Clone, Debug)]
pub struct Chart {
    title: String,
    x_label: String,
    y_label: String,
    log_y: bool,
    integer_x: bool,
    layers: Vec<(Style, Series)>,
    marks: Vec<Mark>,
}

impl Chart {
    /// An empty chart with a linear y axis.
    pub fn new(title: &str, x_label: &str, y_label: &str) -> Chart {
        Chart {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            log_y: false,
            integer_x: false,
            layers: Vec::new(),
            marks: Vec::new(),
        }
    }

    /// A logarithmic y axis when `log` (drawn linear if some finite y is not positive, and
    /// the axis name says so).
    pub fn log_y(mut self, log: bool) -> Chart {
        self.log_y = log;
        self
    }

    /// Integer x ticks only (rounds, evaluations, complexities).
    pub fn integer_x(mut self) -> Chart {
        self.integer_x = true;
        self
    }

    /// Adds a series drawn in `style`.
    pub fn series(mut self, style: Style, series: Series) -> Chart {
        self.layers.push((style, series));
        self
    }

    /// Marks a point with a label; a mark at a non-finite point is left out.
    pub fn mark(mut self, mark: Mark) -> Chart {
        self.marks.push(mark);
        self
    }

    /// Whether the y axis is drawn logarithmic: asked for, and every finite y positive.
    fn drawn_log(&self) -> bool {
        let mut ys = self.finite_points().map(|p| p.1).peekable();
        self.log_y && ys.peek().is_some() && ys.all(|y| y > 0.0)
    }

    fn finite_points(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        self.layers
            .iter()
            .flat_map(|(_, s)| s.points.iter().copied())
            .chain(self.marks.iter().map(|m| m.at))
            .filter(|(x, y)| x.is_finite() && y.is_finite())
    }

    /// The axes covering every finite point.
    fn axes(&self, log: bool) -> (Axis, Axis) {
        let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
        for (x, y) in self.finite_points() {
            (x0, x1, y0, y1) = (x0.min(x), x1.max(x), y0.min(y), y1.max(y));
        }
        if x0 > x1 {
            (x0, x1, y0, y1) = (0.0, 1.0, 1.0, 10.0);
        }
        let x = ticks::linear(x0, x1, self.integer_x);
        let y = if log {
            ticks::logarithmic(y0, y1)
        } else {
            ticks::linear(y0, y1, false)
        };
        (x, y)
    }

    /// The chart as an SVG document ([`SIZE`] pixels). Drawing into a string does not fail
    /// in practice; if plotters ever reports an error, the document says so in its place.
    pub fn svg(&self) -> String {
        let mut out = String::new();
        let drawn = {
            let root = SVGBackend::with_string(&mut out, SIZE).into_drawing_area();
            self.draw(&root)
                .and_then(|()| root.present().map_err(|e| e.to_string()))
        };
        match drawn {
            Ok(()) => out,
            Err(e) => error_svg(&self.title, &e),
        }
    }

    fn draw(&self, root: &DrawingArea<SVGBackend<'_>, Shift>) -> Result<(), String> {
        let err = |e: DrawingAreaErrorKind<_>| e.to_string();
        root.fill(&WHITE).map_err(err)?;
        let log = self.drawn_log();
        let (xa, ya) = self.axes(log);
        let ty = |y: f64| if log { y.log10() } else { y };
        let widest = ya
            .ticks
            .iter()
            .map(|t| t.1.chars().count())
            .max()
            .unwrap_or(1);
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, (FONT, 20))
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(34 + 8 * widest as u32)
            .build_cartesian_2d(Ticked(xa.clone()), Ticked(ya.clone()))
            .map_err(err)?;
        let name_of = |a: &Axis, v: f64| {
            a.ticks
                .iter()
                .min_by(|p, q| (p.0 - v).abs().total_cmp(&(q.0 - v).abs()))
                .map_or(String::new(), |t| t.1.clone())
        };
        let x_name = |v: &f64| name_of(&xa, *v);
        let y_name = |v: &f64| name_of(&ya, *v);
        let y_desc = match (self.log_y, log) {
            (true, true) => format!("{} (log scale)", self.y_label),
            (true, false) => format!("{} (linear: some values are not positive)", self.y_label),
            _ => self.y_label.clone(),
        };
        chart
            .configure_mesh()
            .bold_line_style(GRID)
            .light_line_style(TRANSPARENT)
            .x_desc(self.x_label.as_str())
            .y_desc(y_desc)
            .label_style((FONT, 15))
            .axis_desc_style((FONT, 16))
            .x_label_formatter(&x_name)
            .y_label_formatter(&y_name)
            .draw()
            .map_err(err)?;
        let mut legend = false;
        for (k, (style, series)) in self.layers.iter().enumerate() {
            let colour = COLOURS[k % COLOURS.len()];
            let points: Vec<Option<(f64, f64)>> = series
                .points
                .iter()
                .map(|&(x, y)| {
                    let ok = x.is_finite() && y.is_finite() && (!log || y > 0.0);
                    ok.then(|| (x, ty(y)))
                })
                .collect();
            let mut first = !series.name.is_empty();
            match style {
                Style::Points => {
                    let anno = chart
                        .draw_series(
                            points
                                .iter()
                                .flatten()
                                .map(|&p| Circle::new(p, 4, colour.filled())),
                        )
                        .map_err(err)?;
                    if std::mem::take(&mut first) {
                        legend = true;
                        annotate(anno, &series.name, *style, colour);
                    }
                }
                Style::Line | Style::Step => {
                    for run in points.split(Option::is_none).filter(|r| !r.is_empty()) {
                        let run: Vec<(f64, f64)> = run.iter().flatten().copied().collect();
                        let path = if *style == Style::Step {
                            steps(&run)
                        } else {
                            run
                        };
                        // A point with no neighbour is drawn as a dot, or it would not show.
                        let lone = path.len() == 1;
                        let anno =
                            chart
                                .draw_series(
                                    LineSeries::new(path, colour.stroke_width(2))
                                        .point_size(if lone { 3 } else { 0 }),
                                )
                                .map_err(err)?;
                        if std::mem::take(&mut first) {
                            legend = true;
                            annotate(anno, &series.name, *style, colour);
                        }
                    }
                }
            }
        }
        for mark in &self.marks {
            let (x, y) = mark.at;
            if !(x.is_finite() && y.is_finite() && (!log || y > 0.0)) {
                continue;
            }
            let right_half = x > (xa.lo + xa.hi) / 2.0;
            let (dx, h) = if right_half {
                (-12, HPos::Right)
            } else {
                (12, HPos::Left)
            };
            let font = (FONT, 15)
                .into_font()
                .color(&MARK_COLOUR)
                .pos(Pos::new(h, VPos::Bottom));
            let element = EmptyElement::at((x, ty(y)))
                + Circle::new((0, 0), 8, MARK_COLOUR.stroke_width(2))
                + Text::new(short(&mark.label), (dx, -8), font);
            chart.draw_series(std::iter::once(element)).map_err(err)?;
        }
        if legend {
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperRight)
                .label_font((FONT, 15))
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK.mix(0.4))
                .draw()
                .map_err(err)?;
        }
        Ok(())
    }
}

/// An axis as plotters sees it: linear between its ends, its ticks the only key points
/// (labelled, with a grid line), no light grid lines.
#[derive(Clone, Debug)]
struct Ticked(Axis);

impl Ranged for Ticked {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        // Halves keep the span finite for axes reaching ±f64::MAX.
        let t = (v / 2.0 - self.0.lo / 2.0) / (self.0.hi / 2.0 - self.0.lo / 2.0);
        let px = f64::from(limit.0) + t * f64::from(limit.1 - limit.0);
        // Far outside the picture is as good as just outside it (and stays an i32).
        if px.is_finite() {
            px.round().clamp(-1e6, 1e6) as i32
        } else {
            limit.0
        }
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.0.ticks.iter().map(|t| t.0).collect()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.0.lo..self.0.hi
    }
}

/// Names a series in the legend, with a line or a marker as it is drawn.
fn annotate(anno: &mut SeriesAnno<'_, SVGBackend<'_>>, name: &str, style: Style, colour: RGBColor) {
    let anno = anno.label(name);
    match style {
        Style::Points => {
            anno.legend(move |(x, y)| Circle::new((x + 10, y), 4, colour.filled()));
        }
        Style::Line | Style::Step => {
            anno.legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2))
            });
        }
    }
}

/// The corners of a step line through `points` (sorted by x): each y holds until the next x.
fn steps(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(2 * points.len());
    for (i, &(x, y)) in points.iter().enumerate() {
        if i > 0 {
            out.push((x, points[i - 1].1));
        }
        out.push((x, y));
    }
    out
}

/// `s` cut to [`MAX_MARK_CHARS`] characters on one line.
fn short(s: &str) -> String {
    let one_line = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= MAX_MARK_CHARS {
        one_line
    } else {
        let mut t: String = one_line.chars().take(MAX_MARK_CHARS - 1).collect();
        t.push('…');
        t
    }
}

/// A chart-sized SVG saying the chart could not be drawn and why.
fn error_svg(title: &str, error: &str) -> String {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\">\
         <rect width=\"{w}\" height=\"{h}\" fill=\"white\"/>\
         <text x=\"20\" y=\"40\" font-family=\"sans-serif\">{}: the chart could not be drawn: {}</text></svg>\n",
        esc(title),
        esc(error),
        w = SIZE.0,
        h = SIZE.1
    )
}

/// An SVG chart of plain lines; the y axis is logarithmic when `log_y` and every finite y
/// is positive. The short form of [`Chart`] with [`Style::Line`] series.
pub fn line_chart(
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
    log_y: bool,
) -> String {
    series
        .iter()
        .fold(Chart::new(title, x_label, y_label).log_y(log_y), |c, s| {
            c.series(Style::Line, s.clone())
        })
        .svg()
}

#[cfg(test)]
mod tests;
