//! Every chart of the reports rendered to pixels: something is drawn, the text is there and
//! says what it should (ticks at any range, integer rounds, the marked law).

use super::raster::{Rendered, check, render};
use super::*;
use crate::candidate::{Candidate, Stage, Verdict};
use crate::report::{progress_chart, rounds_chart};
use crate::search::tests::Simple;

/// Renders `svg` and checks it is a chart of [`SIZE`] with lines and text.
fn shown(svg: &str) -> Rendered {
    let r = check(svg).expect("a chart");
    assert_eq!(r.size, SIZE);
    r
}

/// The texts that are numbers (tick labels), as numbers.
fn numbers(r: &Rendered) -> Vec<f64> {
    r.texts.iter().filter_map(|t| t.parse().ok()).collect()
}

#[test]
fn a_blank_picture_counts_as_blank() {
    let svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{}"><rect width="100%" height="100%" fill="white"/></svg>"#,
        SIZE.0, SIZE.1
    );
    let r = render(&svg).expect("renders");
    assert_eq!((r.ink, r.text_ink, r.texts.len()), (0, 0, 0));
    assert!(check(&svg).expect_err("blank").contains("blank"));
    assert!(render("not svg").is_err());
}

#[test]
fn a_loss_within_one_decade_has_labelled_y_ticks_and_both_losses() {
    let position: Vec<(f64, f64)> = (0..30)
        .map(|i| (f64::from(i), 1.0976 - 0.0518 * f64::from(i) / 29.0))
        .collect();
    let velocity: Vec<(f64, f64)> = position.iter().map(|&(x, y)| (x, 0.9 * y)).collect();
    let svg = line_chart(
        "jelly: adam",
        "evaluation",
        "loss",
        &[
            Series {
                name: "position loss".into(),
                points: position,
            },
            Series {
                name: "velocity loss".into(),
                points: velocity,
            },
        ],
        true,
    );
    let r = shown(&svg);
    for t in [
        "position loss",
        "velocity loss",
        "loss (log scale)",
        "evaluation",
    ] {
        assert!(r.texts.iter().any(|s| s == t), "{t} in {:?}", r.texts);
    }
    let ys: Vec<f64> = numbers(&r)
        .into_iter()
        .filter(|v| v.fract() != 0.0)
        .collect();
    assert!(ys.len() >= 3, "y ticks {:?}", r.texts);
    assert!(ys.iter().any(|&v| v < 0.9878) && ys.iter().any(|&v| v > 1.0976));
}

#[test]
fn a_nan_breaks_a_line_and_text_is_escaped() {
    let svg = line_chart(
        "a <b> & c",
        "x",
        "y",
        &[Series {
            name: "s".into(),
            points: vec![
                (0.0, 1.0),
                (1.0, 0.1),
                (2.0, f64::NAN),
                (3.0, 0.01),
                (4.0, 0.02),
            ],
        }],
        true,
    );
    // Two pieces of line and the legend's.
    let lines = svg
        .matches(r##"stroke="#1F77B4" stroke-width="2""##)
        .count();
    assert_eq!(lines, 3, "{svg}");
    let r = shown(&svg);
    assert!(r.texts.iter().any(|t| t == "a <b> & c"), "{:?}", r.texts);
}

fn candidate(id: usize, round: usize, fitness: f64, finished: Option<f64>) -> Candidate<Simple> {
    let mut c = crate::search::tests::candidate(id, fitness, 1);
    c.round = round;
    c.finished = finished;
    if !fitness.is_finite() {
        // Failed in its fit: evaluated, so it takes its place in the order.
        c.verdict = Verdict::Failed {
            stage: Stage::Fit,
            message: "diverged".into(),
        };
    }
    c
}

/// A start, then two rounds whose candidates finish out of id order, the best at 1.4e-19.
fn run() -> Vec<Candidate<Simple>> {
    vec![
        candidate(0, 0, 1.2, Some(10.0)),
        candidate(1, 1, 0.5, Some(30.0)),
        candidate(2, 1, f64::INFINITY, Some(20.0)),
        candidate(3, 1, 0.9, Some(25.0)),
        candidate(4, 2, 1.4294e-19, Some(50.0)),
        candidate(5, 2, 3e-7, Some(40.0)),
    ]
}

#[test]
fn progress_orders_by_completion_with_a_best_so_far_step_and_the_tiny_loss_inside() {
    let chart = progress_chart("jelly", &run());
    // Candidates 0, 2, 3, 1, 5, 4 in the order they finished: the failed #2 is counted but
    // not drawn.
    let (_, each) = &chart.layers[0];
    assert_eq!(
        each.points,
        [
            (1.0, 1.2),
            (3.0, 0.9),
            (4.0, 0.5),
            (5.0, 3e-7),
            (6.0, 1.4294e-19)
        ]
    );
    let (style, best) = &chart.layers[1];
    assert_eq!(*style, Style::Step);
    assert_eq!(best.points[5], (6.0, 1.4294e-19));
    assert_eq!(best.points[2], (3.0, 0.9));
    let svg = chart.svg();
    let r = shown(&svg);
    // Five markers; the step line has a corner per candidate after the first.
    assert_eq!(
        svg.matches("<circle").count(),
        5 + 1,
        "markers and the legend's"
    );
    let lowest = r
        .texts
        .iter()
        .filter_map(|t| t.strip_prefix("1e").and_then(|e| e.parse::<i32>().ok()))
        .min()
        .expect("decade ticks");
    assert!(lowest <= -19, "{:?}", r.texts);
    assert!(r.texts.iter().any(|t| t == "best so far"));
}

#[test]
fn rounds_have_integer_ticks_only() {
    let r = shown(&rounds_chart("jelly", &run()).svg());
    let xs: Vec<f64> = numbers(&r)
        .into_iter()
        .filter(|v| *v >= 0.0 && *v <= 3.0)
        .collect();
    assert!(xs.contains(&0.0) && xs.contains(&2.0), "{:?}", r.texts);
    assert!(
        !r.texts.iter().any(|t| t == "0.5" || t == "1.5"),
        "{:?}",
        r.texts
    );
    // The start alone: a dot at round 0, no negative or fractional round.
    let svg = rounds_chart("jelly", &run()[..1]).svg();
    assert_eq!(svg.matches("<circle").count(), 1, "{svg}");
    let r = shown(&svg);
    assert!(
        r.texts.iter().any(|t| t == "0") && r.texts.iter().any(|t| t == "1"),
        "{:?}",
        r.texts
    );
    assert!(!r.texts.iter().any(|t| t == "-1"), "{:?}", r.texts);
}

#[test]
fn a_pareto_front_has_markers_few_ticks_and_the_chosen_law_marked() {
    let front: Vec<(f64, f64)> = (1..=31)
        .map(|k| (f64::from(k), 10f64.powf(-f64::from(k) * 0.5)))
        .collect();
    let svg = Chart::new("y: Pareto front", "complexity", "train NMSE")
        .log_y(true)
        .integer_x()
        .series(
            Style::Points,
            Series {
                name: "best law per complexity".into(),
                points: front,
            },
        )
        .mark(Mark {
            at: (7.0, 10f64.powf(-3.5)),
            label: "chosen: 2.5 * x0 * x0 + a very long tail that is cut off at the end".into(),
        })
        .svg();
    assert_eq!(
        svg.matches("<circle").count(),
        31 + 1 + 1,
        "points, legend, mark"
    );
    let r = shown(&svg);
    assert!(numbers(&r).len() <= 16, "{:?}", r.texts);
    let mark = r
        .texts
        .iter()
        .find(|t| t.starts_with("chosen: 2.5 * x0"))
        .expect("mark");
    assert!(
        mark.ends_with('…') && mark.chars().count() == MAX_MARK_CHARS,
        "{mark}"
    );
}

#[test]
fn no_data_and_non_positive_values_still_draw_a_chart() {
    let r = shown(&Chart::new("empty", "x", "y").log_y(true).svg());
    assert!(r.texts.iter().any(|t| t == "empty"));
    let svg = line_chart(
        "zero",
        "x",
        "loss",
        &[Series {
            name: "s".into(),
            points: vec![
                (0.0, 1.0),
                (1.0, 0.0),
                (f64::INFINITY, f64::MAX),
                (2.0, -f64::MAX),
            ],
        }],
        true,
    );
    let r = shown(&svg);
    assert!(
        r.texts
            .iter()
            .any(|t| t.contains("linear: some values are not positive")),
        "{:?}",
        r.texts
    );
}

#[test]
fn an_axis_reaching_the_largest_float_still_spreads_its_ticks() {
    let axis = Ticked(ticks::linear(-f64::MAX, 1.0, false));
    let px: Vec<i32> = axis
        .0
        .ticks
        .iter()
        .map(|t| axis.map(&t.0, (0, 400)))
        .collect();
    assert!(px.len() >= 3, "{:?}", axis.0);
    assert!(px.windows(2).all(|w| w[0] < w[1]), "{px:?}");
}
