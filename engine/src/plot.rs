//! Small self-contained SVG line charts (loss curves, best loss per round): no fonts, no
//! system libraries; any browser or image viewer shows them.

use std::fmt::Write;

/// One named line of a chart.
#[derive(Clone, Debug)]
pub struct Series {
    /// Legend text.
    pub name: String,
    /// Points `(x, y)`; non-finite `y` break the line.
    pub points: Vec<(f64, f64)>,
}

const W: f64 = 640.0;
const H: f64 = 400.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 50.0;
const COLOURS: [&str; 6] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
];

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Tick values covering `[lo, hi]` on a 1-2-5 linear scale.
fn linear_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let span = (hi - lo).max(f64::MIN_POSITIVE);
    let raw = span / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| span / s <= 6.0)
        .unwrap_or(10.0 * mag);
    let mut t = (lo / step).ceil() * step;
    let mut ticks = Vec::new();
    while t <= hi + step * 1e-9 && ticks.len() < 20 {
        ticks.push(t);
        t += step;
    }
    ticks
}

fn label(v: f64) -> String {
    if v == 0.0 {
        "0".into()
    } else if v.abs() >= 1e4 || v.abs() < 1e-2 {
        format!("{v:.1e}")
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// An SVG line chart; the y axis is logarithmic when `log_y` and every finite y is positive.
pub fn line_chart(
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
    log_y: bool,
) -> String {
    let finite: Vec<(f64, f64)> = series
        .iter()
        .flat_map(|s| s.points.iter().copied())
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect();
    let log_y = log_y && !finite.is_empty() && finite.iter().all(|&(_, y)| y > 0.0);
    let ty = |y: f64| if log_y { y.log10() } else { y };
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(x, y) in &finite {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(ty(y));
        y1 = y1.max(ty(y));
    }
    if finite.is_empty() {
        (x0, x1, y0, y1) = (0.0, 1.0, 0.0, 1.0);
    }
    if x1 - x0 < 1e-12 {
        x1 = x0 + 1.0;
    }
    if y1 - y0 < 1e-12 * y0.abs().max(1.0) {
        let pad = if log_y {
            0.5
        } else {
            0.5 * y0.abs().max(1e-12)
        };
        y0 -= pad;
        y1 += pad;
    }
    let px = |x: f64| LEFT + (x - x0) / (x1 - x0) * (W - LEFT - RIGHT);
    let py = |y: f64| TOP + (y1 - y) / (y1 - y0) * (H - TOP - BOTTOM);

    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="{W}" height="{H}" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{}" y="22" text-anchor="middle" font-size="15">{}</text>"#,
        W / 2.0,
        escape(title)
    );
    // Axes and ticks.
    let (bx, by) = (H - BOTTOM, W - RIGHT);
    let _ = writeln!(
        s,
        r#"<path d="M{LEFT},{TOP} V{bx} H{by}" stroke="black" fill="none"/>"#
    );
    for t in linear_ticks(x0, x1) {
        let x = px(t);
        let _ = writeln!(
            s,
            r#"<line x1="{x:.1}" y1="{bx}" x2="{x:.1}" y2="{}" stroke="black"/><text x="{x:.1}" y="{}" text-anchor="middle">{}</text>"#,
            bx + 5.0,
            bx + 18.0,
            label(t)
        );
    }
    let y_ticks: Vec<f64> = if log_y {
        (y0.ceil() as i32..=y1.floor() as i32)
            .map(f64::from)
            .collect()
    } else {
        linear_ticks(y0, y1)
    };
    for t in y_ticks {
        let y = py(t);
        let text = if log_y {
            format!("1e{}", t as i32)
        } else {
            label(t)
        };
        let _ = writeln!(
            s,
            r##"<line x1="{}" y1="{y:.1}" x2="{by}" y2="{y:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end">{text}</text>"##,
            LEFT,
            LEFT - 6.0,
            y + 4.0
        );
    }
    let _ = writeln!(
        s,
        r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
        (LEFT + W - RIGHT) / 2.0,
        H - 10.0,
        escape(x_label)
    );
    let _ = writeln!(
        s,
        r#"<text x="16" y="{}" text-anchor="middle" transform="rotate(-90 16 {})">{}{}</text>"#,
        (TOP + H - BOTTOM) / 2.0,
        (TOP + H - BOTTOM) / 2.0,
        escape(y_label),
        if log_y { " (log scale)" } else { "" }
    );
    // Lines, broken at non-finite values, and the legend.
    for (k, series) in series.iter().enumerate() {
        let colour = COLOURS[k % COLOURS.len()];
        let mut d = String::new();
        let mut pen_down = false;
        for &(x, y) in &series.points {
            if x.is_finite() && y.is_finite() && (!log_y || y > 0.0) {
                let _ = write!(
                    d,
                    "{}{:.2},{:.2} ",
                    if pen_down { "L" } else { "M" },
                    px(x),
                    py(ty(y))
                );
                pen_down = true;
            } else {
                pen_down = false;
            }
        }
        let _ = writeln!(
            s,
            r#"<path d="{}" stroke="{colour}" stroke-width="2" fill="none"/>"#,
            d.trim_end()
        );
        let ly = TOP + 8.0 + 16.0 * k as f64;
        let _ = writeln!(
            s,
            r#"<line x1="{}" y1="{ly}" x2="{}" y2="{ly}" stroke="{colour}" stroke-width="2"/><text x="{}" y="{}">{}</text>"#,
            W - RIGHT - 150.0,
            W - RIGHT - 130.0,
            W - RIGHT - 125.0,
            ly + 4.0,
            escape(&series.name)
        );
    }
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chart_has_a_line_per_series_and_breaks_at_nan() {
        let svg = line_chart(
            "loss",
            "evaluation",
            "loss",
            &[Series {
                name: "position <a&b>".into(),
                points: vec![(0.0, 1.0), (1.0, 0.1), (2.0, f64::NAN), (3.0, 0.01)],
            }],
            true,
        );
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains("position &lt;a&amp;b&gt;"));
        assert!(svg.contains("(log scale)"));
        // Two pen-down moves: the NaN breaks the line.
        let path = svg
            .lines()
            .find(|l| l.contains("stroke-width=\"2\" fill"))
            .unwrap();
        assert_eq!(path.matches('M').count(), 2, "{path}");
    }

    #[test]
    fn ticks_cover_the_range() {
        let t = linear_ticks(0.0, 30.0);
        assert_eq!(t.first(), Some(&0.0));
        assert!(*t.last().unwrap() >= 25.0);
    }
}
