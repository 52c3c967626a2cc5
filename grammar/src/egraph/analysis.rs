//! The e-class analysis: the shape of every class (rules that need a shape are
//! conditional on it), scalar constant folding (a class with a known finite value gets a
//! number node and loses its other nodes), and a conservative "strictly positive" flag
//! that guards the rules valid only for positive arguments (`log(a * b)`, `exp(log a)`),
//! and a conservative "total" flag (finite wherever the inputs and parameters are) that
//! guards the rules that drop or cancel a subterm (`a - a = 0`, `0 * b = 0`, `a / a = 1`):
//! such a rule must not turn an undefined value (`0 / 0`, `log(-1)`) into a defined one.

use super::lang::{Atoms, Num, Tensor, shape_of};
use crate::ast::CmpOp;
use crate::types::Type;
use egg::{Analysis, DidMerge, EGraph, Id, Language};

/// The analysis; it knows the types of the atoms of the law.
#[derive(Clone, Debug, Default)]
pub struct TensorAnalysis {
    /// Input types and frozen bindings.
    pub atoms: Atoms,
}

/// What the analysis knows about an e-class.
#[derive(Clone, Debug, PartialEq)]
pub struct Data {
    /// The shape (`None` only for an ill-typed node, which lowering never produces).
    pub shape: Option<Type>,
    /// The value, for a scalar class whose value is a finite constant.
    pub konst: Option<Num>,
    /// True when every entry is known to be strictly positive (or NaN, never zero or
    /// negative): numbers > 0, `exp`, `sigmoid`, sums, products, quotients and powers of
    /// positive values.
    pub positive: bool,
    /// True when every entry is known to be finite wherever the law's inputs and
    /// parameters are finite: no division by a value that may be zero, no `log` or
    /// `sqrt` of a value that may be negative, no inverse of a matrix that may be
    /// singular (floating-point overflow of `exp` is not counted).
    pub total: bool,
}

/// The e-graph type of the layer.
pub type TensorGraph = EGraph<Tensor, TensorAnalysis>;

impl Analysis<Tensor> for TensorAnalysis {
    type Data = Data;

    fn make(egraph: &mut TensorGraph, enode: &Tensor, _id: Id) -> Data {
        let shape = shape_of(enode, |c| egraph[c].data.shape, &egraph.analysis.atoms);
        let konst = if shape == Some(Type::Scalar) {
            fold(enode, |c| egraph[c].data.konst.map(Num::value)).and_then(Num::new)
        } else {
            None
        };
        let positive = positive(
            enode,
            konst,
            |c| egraph[c].data.positive,
            &egraph.analysis.atoms,
        );
        let total = konst.is_some() || total(enode, |c| egraph[c].data.clone());
        Data {
            shape,
            konst,
            positive,
            total,
        }
    }

    fn merge(&mut self, to: &mut Data, from: Data) -> DidMerge {
        // Shapes of equal classes agree (every rule preserves shape; tested).
        debug_assert!(
            to.shape == from.shape,
            "merged classes of different shapes: {:?} and {:?}",
            to.shape,
            from.shape
        );
        let mut changed = DidMerge(false, false);
        match (to.konst, from.konst) {
            (None, Some(k)) => {
                to.konst = Some(k);
                changed.0 = true;
            }
            (Some(_), None) => changed.1 = true,
            // Two foldings of one value may differ in the last bit (rounding of
            // reassociated sums): keep one, deterministically the first.
            (Some(a), Some(b)) => changed.1 = a != b,
            (None, None) => {}
        }
        if from.positive && !to.positive {
            to.positive = true;
            changed.0 = true;
        } else if to.positive && !from.positive {
            changed.1 = true;
        }
        // Every rule keeps the set of points where a term is finite (tested), so one
        // member proven total makes the class total.
        if from.total && !to.total {
            to.total = true;
            changed.0 = true;
        } else if to.total && !from.total {
            changed.1 = true;
        }
        changed
    }

    fn modify(egraph: &mut TensorGraph, id: Id) {
        if let Some(k) = egraph[id].data.konst {
            let num = egraph.add(Tensor::Num(k));
            egraph.union(id, num);
            // A constant class needs no other representation.
            let id = egraph.find(id);
            egraph[id].nodes.retain(|n| matches!(n, Tensor::Num(_)));
        }
    }
}

/// Whether every entry of `node` is known to be strictly positive, from its value (if
/// constant) and the positivity of its children.
pub(crate) fn positive(
    node: &Tensor,
    konst: Option<Num>,
    pos: impl Fn(Id) -> bool,
    atoms: &Atoms,
) -> bool {
    konst.is_some_and(|k| k.value() > 0.0)
        || match node {
            Tensor::Exp(_) | Tensor::Sigmoid(_) => true,
            Tensor::Add([a, b])
            | Tensor::Mul([a, b])
            | Tensor::Div([a, b])
            | Tensor::Min([a, b])
            | Tensor::Max([a, b]) => pos(*a) && pos(*b),
            Tensor::Pow([a, _])
            | Tensor::Sqrt(a)
            | Tensor::Cbrt(a)
            | Tensor::Mean(a)
            | Tensor::Sum(a)
            | Tensor::Prod(a) => pos(*a),
            Tensor::Atom(a) => atoms.positive(*a),
            _ => false,
        }
}

/// Whether every entry of `node` is finite wherever the law's inputs and parameters are,
/// from what is known of its children (`data`). Frozen bindings are not known total.
pub(crate) fn total(node: &Tensor, data: impl Fn(Id) -> Data) -> bool {
    let t = |c: &Id| data(*c).total;
    // Total and strictly positive (so a nonzero, finite divisor or a log argument).
    let tp = |c: &Id| {
        let d = data(*c);
        d.total && d.positive
    };
    let nonzero = |c: &Id| {
        let d = data(*c);
        d.konst.is_some_and(|k| k.value() != 0.0) || (d.total && d.positive)
    };
    match node {
        Tensor::Num(_) | Tensor::Identity => true,
        Tensor::Atom(a) => !matches!(a, super::lang::Atom::Let(_)),
        Tensor::Div([a, b]) => t(a) && nonzero(b),
        Tensor::Pow([a, b]) => {
            let k = data(*b).konst.map(Num::value);
            (t(a) && (k.is_some_and(|k| k >= 0.0 && k.fract() == 0.0) || (tp(a) && t(b))))
                || (nonzero(a) && k.is_some_and(|k| k.fract() == 0.0))
        }
        Tensor::Log(a) | Tensor::Log1p(a) | Tensor::Sqrt(a) => tp(a),
        Tensor::Inv(_) => false,
        n => n.children().iter().all(t),
    }
}

/// The value of a scalar node whose scalar children are constants, computed as the
/// engine computes it; `None` when a child is not constant or the node is not foldable.
pub(crate) fn fold(node: &Tensor, k: impl Fn(Id) -> Option<f64>) -> Option<f64> {
    let un = |f: fn(f64) -> f64, a: &Id| Some(f(k(*a)?));
    Some(match node {
        Tensor::Num(n) => n.value(),
        Tensor::Add([a, b]) => k(*a)? + k(*b)?,
        Tensor::Sub([a, b]) => k(*a)? - k(*b)?,
        Tensor::Mul([a, b]) => k(*a)? * k(*b)?,
        Tensor::Div([a, b]) => k(*a)? / k(*b)?,
        Tensor::Pow([a, b]) => pow_const(k(*a)?, k(*b)?),
        Tensor::Neg(a) => -k(*a)?,
        Tensor::Exp(a) => un(f64::exp, a)?,
        Tensor::Log(a) => un(f64::ln, a)?,
        Tensor::Sqrt(a) => un(f64::sqrt, a)?,
        Tensor::Cbrt(a) => un(f64::cbrt, a)?,
        Tensor::Abs(a) => un(f64::abs, a)?,
        Tensor::Sigmoid(a) => un(|x| 1.0 / (1.0 + (-x).exp()), a)?,
        Tensor::Tanh(a) => un(f64::tanh, a)?,
        Tensor::Log1p(a) => un(f64::ln_1p, a)?,
        Tensor::Expm1(a) => un(f64::exp_m1, a)?,
        Tensor::Sin(a) => un(f64::sin, a)?,
        Tensor::Cos(a) => un(f64::cos, a)?,
        Tensor::Min([a, b]) => {
            let (x, y) = (k(*a)?, k(*b)?);
            if y < x { y } else { x }
        }
        Tensor::Max([a, b]) => {
            let (x, y) = (k(*a)?, k(*b)?);
            if y > x { y } else { x }
        }
        Tensor::Clamp([x, lo, hi]) => {
            let (x, lo, hi) = (k(*x)?, k(*lo)?, k(*hi)?);
            let m = if lo > x { lo } else { x };
            if hi < m { hi } else { m }
        }
        Tensor::WhereLt([l, r, a, b]) => select(CmpOp::Lt, k(*l)?, k(*r)?, k(*a)?, k(*b)?),
        Tensor::WhereLe([l, r, a, b]) => select(CmpOp::Le, k(*l)?, k(*r)?, k(*a)?, k(*b)?),
        Tensor::WhereEq([l, r, a, b]) => select(CmpOp::Eq, k(*l)?, k(*r)?, k(*a)?, k(*b)?),
        Tensor::WhereNe([l, r, a, b]) => select(CmpOp::Ne, k(*l)?, k(*r)?, k(*a)?, k(*b)?),
        _ => return None,
    })
}

/// `x ** c` for a constant exponent as the engine computes it: `x * x` for 2, `powi`
/// for other integers up to 1024, `powf` otherwise.
fn pow_const(x: f64, c: f64) -> f64 {
    if c == 2.0 {
        x * x
    } else if c == 1.0 {
        x
    } else if c.fract() == 0.0 && c.abs() <= 1024.0 {
        x.powi(c as i32)
    } else {
        x.powf(c)
    }
}

fn select(op: CmpOp, l: f64, r: f64, a: f64, b: f64) -> f64 {
    if op.test(l, r) { a } else { b }
}

#[cfg(test)]
mod tests {
    use super::*;
    use egg::RecExpr;

    #[test]
    fn folds_constants_and_infers_shapes() {
        let mut g = TensorGraph::new(TensorAnalysis {
            atoms: Atoms {
                inputs: vec![Type::Mat3],
                lets: vec![],
            },
        });
        let e: RecExpr<Tensor> = "(* (+ 1 (/ 1 2)) (det x0))".parse().unwrap();
        let root = g.add_expr(&e);
        assert_eq!(g[root].data.shape, Some(Type::Scalar));
        let half: RecExpr<Tensor> = "(+ 1 (/ 1 2))".parse().unwrap();
        let h = g.add_expr(&half);
        assert_eq!(g[h].data.konst.map(Num::value), Some(1.5));
        assert!(g[h].data.positive);
        let m: RecExpr<Tensor> = "(@ x0 (T x0))".parse().unwrap();
        let m = g.add_expr(&m);
        assert_eq!(g[m].data.shape, Some(Type::Mat3));
        // log(-1) is not folded (NaN), and is not positive.
        let bad: RecExpr<Tensor> = "(log -1)".parse().unwrap();
        let b = g.add_expr(&bad);
        assert_eq!(g[b].data.konst, None);
    }
}
