//! Where the ticks of an axis go and what they say: a 1-2-5 linear scale, integers only
//! when the values are counts, and on a logarithmic axis decades, 1-2-5 steps within a few
//! decades, or linear steps within one decade, so that every axis has labelled ticks.

/// One axis: its ends and its ticks, in the units drawn (log10 of the value on a
/// logarithmic axis), each tick with its label.
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    /// Lower end, drawn units.
    pub lo: f64,
    /// Upper end, drawn units.
    pub hi: f64,
    /// The ticks: position in drawn units and the label.
    pub ticks: Vec<(f64, String)>,
}

/// The most ticks an axis gets.
const MAX_TICKS: usize = 8;

/// A step of the 1-2-5 sequence (integers at least 1 when `integer`) that cuts `[lo, hi]`
/// into at most `max` pieces; finite even when the span itself is not.
fn nice_step(lo: f64, hi: f64, max: usize, integer: bool) -> f64 {
    let raw = hi / max as f64 - lo / max as f64;
    let raw = if raw.is_finite() && raw > 0.0 {
        raw
    } else {
        f64::MIN_POSITIVE
    };
    let mut mag = 10f64.powf(raw.log10().floor());
    if integer {
        mag = mag.max(1.0);
    }
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag)
}

/// The label of `v` on an axis whose ticks are `step` apart: as many digits as tell
/// neighbouring ticks apart, scientific notation for very small or large values.
pub fn label(v: f64, step: f64) -> String {
    if v == 0.0 || (step > 0.0 && v.abs() < step * 1e-9) {
        return "0".into();
    }
    let step_exp = if step > 0.0 && step.is_finite() {
        (step.log10() + 1e-9).floor()
    } else {
        0.0
    };
    let a = v.abs();
    if (1e-3..1e5).contains(&a) {
        let decimals = (-step_exp).clamp(0.0, 12.0) as usize;
        format!("{v:.decimals$}")
    } else {
        let exp = (a.log10() + 1e-12).floor();
        let digits = (exp - step_exp).clamp(0.0, 6.0) as usize;
        format!("{v:.digits$e}")
    }
}

/// A linear axis covering `[lo, hi]` (data units), its ends on ticks.
pub fn linear(lo: f64, hi: f64, integer: bool) -> Axis {
    let (mut lo, mut hi) = (lo, hi);
    if !(lo.is_finite() && hi.is_finite()) || lo > hi {
        (lo, hi) = (0.0, 1.0);
    }
    if hi - lo <= 1e-12 * lo.abs().max(hi.abs()) || hi - lo == 0.0 {
        let pad = if integer || lo == 0.0 {
            1.0
        } else {
            0.5 * lo.abs()
        };
        // Counts that start at zero do not get a negative tick.
        let below = if integer && lo >= 0.0 {
            lo.min(pad)
        } else {
            pad
        };
        (lo, hi) = (lo - below, hi + pad);
    }
    let step = nice_step(lo, hi, MAX_TICKS - 1, integer);
    let mut a = (lo / step).floor() * step;
    let mut b = (hi / step).ceil() * step;
    if !a.is_finite() {
        a = lo;
    }
    if !b.is_finite() {
        b = hi;
    }
    let mut ticks = Vec::new();
    let first = (a / step - 1e-9).ceil();
    for k in 0..=MAX_TICKS + 2 {
        let t = (first + k as f64) * step;
        if t > b + step * 1e-9 {
            break;
        }
        if t.is_finite() {
            ticks.push((t, label(t, step)));
        }
    }
    Axis {
        lo: a,
        hi: b,
        ticks,
    }
}

/// A logarithmic axis covering `[lo, hi]` (data units, both positive); positions are
/// log10 of the values.
pub fn logarithmic(lo: f64, hi: f64) -> Axis {
    let (lo, hi) = if lo > 0.0 && hi >= lo && hi.is_finite() {
        (lo, hi)
    } else {
        (1.0, 10.0)
    };
    let (l0, l1) = (lo.log10(), hi.log10());
    if l1 - l0 > 2.5 {
        // Decades, every `stride`-th one.
        let (d0, d1) = (l0.floor(), l1.ceil());
        let stride = nice_step(d0, d1, MAX_TICKS - 1, true);
        let (a, b) = (
            (d0 / stride).floor() * stride,
            (d1 / stride).ceil() * stride,
        );
        let ticks = (0..=MAX_TICKS + 2)
            .map(|k| a + k as f64 * stride)
            .take_while(|t| *t <= b + 1e-9)
            .map(|t| (t, format!("1e{}", t as i64)))
            .collect();
        return Axis {
            lo: a,
            hi: b,
            ticks,
        };
    }
    if l1 - l0 >= 0.5 {
        // 1, 2, 5 times powers of ten, from the one at or below `lo` to the one at or
        // above `hi`.
        let mut values = Vec::new();
        let mut e = l0.floor() as i32 - 1;
        while values.last().is_none_or(|v: &f64| *v < hi * (1.0 - 1e-12)) && e < 400 {
            for m in [1.0, 2.0, 5.0] {
                values.push(m * 10f64.powi(e));
            }
            e += 1;
        }
        let start = values
            .iter()
            .rposition(|v| *v <= lo * (1.0 + 1e-12))
            .unwrap_or(0);
        let end = values
            .iter()
            .position(|v| *v >= hi * (1.0 - 1e-12))
            .unwrap_or(values.len() - 1);
        let ticks: Vec<(f64, String)> = values[start..=end]
            .iter()
            .map(|v| (v.log10(), label(*v, *v)))
            .collect();
        return Axis {
            lo: values[start].log10(),
            hi: values[end].log10(),
            ticks,
        };
    }
    // Within a factor of about three: linear steps, placed on the logarithmic axis.
    let lin = linear(lo, hi, false);
    let step = lin.ticks.get(1).map_or(1.0, |t| t.0) - lin.ticks.first().map_or(0.0, |t| t.0);
    let a = if lin.lo > 0.0 {
        lin.lo
    } else {
        lo - 0.05 * (hi - lo)
    };
    let a = if a > 0.0 { a } else { lo };
    let ticks = lin
        .ticks
        .into_iter()
        .filter(|(t, _)| *t >= a * (1.0 - 1e-12) && *t > 0.0)
        .map(|(t, _)| (t.log10(), label(t, step)))
        .collect();
    Axis {
        lo: a.log10(),
        hi: lin.hi.log10(),
        ticks,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(a: &Axis) -> Vec<&str> {
        a.ticks.iter().map(|t| t.1.as_str()).collect()
    }

    #[test]
    fn a_loss_within_one_decade_has_labelled_ticks_around_it() {
        let a = logarithmic(1.0458, 1.0976);
        assert!(a.ticks.len() >= 3, "{a:?}");
        assert!(
            a.lo <= 1.0458f64.log10() && a.hi >= 1.0976f64.log10(),
            "{a:?}"
        );
        let l = labels(&a);
        assert!(l.contains(&"1.05") && l.contains(&"1.10"), "{l:?}");
    }

    #[test]
    fn a_tiny_loss_is_inside_the_axis_and_ticks_are_few() {
        let a = logarithmic(1.4294e-19, 1.2);
        assert!(a.lo <= (1.4294e-19f64).log10(), "{a:?}");
        assert!(a.hi >= 1.2f64.log10());
        assert!((3..=MAX_TICKS + 1).contains(&a.ticks.len()), "{a:?}");
        assert!(labels(&a).iter().all(|l| l.starts_with("1e")));
    }

    #[test]
    fn a_few_decades_get_one_two_five_steps() {
        let a = logarithmic(0.3, 40.0);
        assert_eq!(labels(&a), ["0.2", "0.5", "1", "2", "5", "10", "20", "50"]);
    }

    #[test]
    fn integer_axes_have_only_integer_ticks() {
        for (lo, hi) in [
            (0.0, 1.0),
            (1.0, 1.0),
            (0.0, 3.0),
            (0.0, 37.0),
            (5.0, 6.0),
            (0.0, 0.0),
        ] {
            let a = linear(lo, hi, true);
            assert!(lo < 0.0 || a.lo >= 0.0, "{lo} {hi}: {a:?}");
            assert!(a.ticks.len() >= 2, "{lo} {hi}: {a:?}");
            for (t, l) in &a.ticks {
                assert_eq!(t.fract(), 0.0, "{lo} {hi}: {a:?}");
                assert!(!l.contains('.'), "{l}");
            }
            assert!(a.lo <= lo && a.hi >= hi);
        }
    }

    #[test]
    fn extreme_and_degenerate_ranges_give_a_usable_axis() {
        for (lo, hi) in [
            (-f64::MAX, f64::MAX),
            (0.0, 0.0),
            (1e-300, 1e-300),
            (f64::NAN, 1.0),
            (3.0, -3.0),
        ] {
            let a = linear(lo, hi, false);
            assert!(a.lo.is_finite() && a.hi.is_finite() && a.lo < a.hi, "{a:?}");
            assert!(
                !a.ticks.is_empty() && a.ticks.len() <= MAX_TICKS + 3,
                "{a:?}"
            );
        }
        for (lo, hi) in [(5e-324, f64::MAX), (2.0, 2.0), (-1.0, 1.0)] {
            let a = logarithmic(lo, hi);
            assert!(a.lo.is_finite() && a.hi.is_finite() && a.lo < a.hi, "{a:?}");
            assert!(
                !a.ticks.is_empty() && a.ticks.len() <= MAX_TICKS + 3,
                "{a:?}"
            );
        }
    }

    #[test]
    fn labels_tell_close_ticks_apart() {
        assert_eq!(label(1.42943e-19, 1e-24), "1.42943e-19");
        assert_eq!(label(0.25, 0.05), "0.25");
        assert_eq!(label(30.0, 10.0), "30");
        assert_eq!(label(2e6, 1e6), "2e6");
    }
}
