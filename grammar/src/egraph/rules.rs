//! The rewrite rules: scalar (elementwise) algebra, 3x3 matrix identities, log/exp, and
//! the built-ins that are shorthands (`sym`, `dev`, `mean`, ...).
//!
//! Each rule is data ([`RuleSpec`]: name, left side, right side, conditions), so that the
//! soundness test can instantiate every rule on shape-correct random values. Rules are
//! only as general as they are true: `*` is elementwise (commutative) but `@` is not;
//! identities of matrices are conditional on the shapes the analysis infers (`det(s * A)
//! = s^3 det(A)` needs a scalar `s`); rules valid only for positive arguments
//! (`log(a * b)`) are conditional on the positivity flag; identities whose two sides
//! differ on a whole region (`exp(log x) = x` for negative `x`, `x ** (1/3)` against
//! `cbrt(x)`) are left out. No rule turns an undefined value into a defined one: a rule
//! that drops or cancels a subterm (`x - x = 0`, `0 * x = 0`, `x / x = 1`,
//! `A @ inv(A) = I`, `a ** -1 * a = 1`) holds only where that subterm is known finite
//! (the analysis's total flag) or nonzero or invertible, so `(F - F) / (det(F) - det(F))`
//! stays NaN. The soundness test checks that both sides are finite at the same points.

use super::analysis::{TensorAnalysis, TensorGraph};
use super::lang::Tensor;
use crate::types::Type;
use egg::{ConditionalApplier, Id, Pattern, Rewrite, Subst, Var};
use std::sync::OnceLock;

/// A condition on the variables of a rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Cond {
    /// The variable is a scalar.
    Scalar(&'static str),
    /// The variable is a 3-vector.
    Vec(&'static str),
    /// The variable is a 3x3 matrix.
    Mat(&'static str),
    /// The variable is a vector or a matrix.
    NonScalar(&'static str),
    /// The two variables have the same shape.
    Same(&'static str, &'static str),
    /// Every entry of the variable is known to be strictly positive.
    Positive(&'static str),
    /// The variable is an integer constant.
    Integer(&'static str),
    /// The two variables are not both vectors (their product is not a scalar).
    NotBothVec(&'static str, &'static str),
    /// The variable is an index: 0, 1 or 2.
    Index(&'static str),
    /// The first variable is a scalar or has the shape of the second (broadcasting it
    /// against the second does not widen the second).
    Within(&'static str, &'static str),
    /// The variable is finite wherever the inputs and parameters are (the analysis's
    /// total flag).
    Total(&'static str),
    /// Every entry of the variable is a nonzero finite value: a nonzero constant, or
    /// total and strictly positive.
    NonZero(&'static str),
    /// The variable is a constant integer >= 0.
    NonNeg(&'static str),
    /// The variable is a constant integer <= 0.
    NonPos(&'static str),
    /// The variable is a matrix known invertible: `I`, a `diag` of nonzero entries, or a
    /// matrix whose `det` is in the e-graph and nonzero in the sense of [`Cond::NonZero`].
    Invertible(&'static str),
}

/// One rewrite rule: `lhs => rhs` when every condition holds.
#[derive(Clone, Copy, Debug)]
pub struct RuleSpec {
    /// Unique name.
    pub name: &'static str,
    /// Left-hand side pattern (egg s-expression; `?x` are variables).
    pub lhs: &'static str,
    /// Right-hand side pattern.
    pub rhs: &'static str,
    /// Conditions on the variables.
    pub conds: &'static [Cond],
}

const fn r(name: &'static str, lhs: &'static str, rhs: &'static str) -> RuleSpec {
    RuleSpec {
        name,
        lhs,
        rhs,
        conds: &[],
    }
}

const fn rc(
    name: &'static str,
    lhs: &'static str,
    rhs: &'static str,
    conds: &'static [Cond],
) -> RuleSpec {
    RuleSpec {
        name,
        lhs,
        rhs,
        conds,
    }
}

use Cond::{
    Index, Integer as Int, Invertible, Mat, NonNeg, NonPos, NonScalar, NonZero, Positive as Pos,
    Same, Scalar, Total, Vec as V, Within,
};

/// Every rule of the layer.
pub const RULES: &[RuleSpec] = &[
    // Elementwise algebra (valid for any shapes under scalar broadcasting).
    r("add-comm", "(+ ?a ?b)", "(+ ?b ?a)"),
    r("add-assoc", "(+ ?a (+ ?b ?c))", "(+ (+ ?a ?b) ?c)"),
    r("add-assoc-rev", "(+ (+ ?a ?b) ?c)", "(+ ?a (+ ?b ?c))"),
    r("mul-comm", "(* ?a ?b)", "(* ?b ?a)"),
    r("mul-assoc", "(* ?a (* ?b ?c))", "(* (* ?a ?b) ?c)"),
    r("mul-assoc-rev", "(* (* ?a ?b) ?c)", "(* ?a (* ?b ?c))"),
    r("sub-to-add", "(- ?a ?b)", "(+ ?a (neg ?b))"),
    r("add-neg-to-sub", "(+ ?a (neg ?b))", "(- ?a ?b)"),
    r("sub-sub", "(- ?a (- ?b ?c))", "(+ (- ?a ?b) ?c)"),
    r("sub-add", "(- (+ ?a ?b) ?c)", "(+ ?a (- ?b ?c))"),
    r("neg-neg", "(neg (neg ?a))", "?a"),
    r("neg-sub", "(neg (- ?a ?b))", "(- ?b ?a)"),
    r("neg-add", "(neg (+ ?a ?b))", "(- (neg ?a) ?b)"),
    r("neg-mul", "(* (neg ?a) ?b)", "(neg (* ?a ?b))"),
    r("neg-mul-rev", "(neg (* ?a ?b))", "(* (neg ?a) ?b)"),
    r("neg-to-mul", "(neg ?a)", "(* -1 ?a)"),
    r("mul-to-neg", "(* -1 ?a)", "(neg ?a)"),
    r("sub-neg", "(- ?a (neg ?b))", "(+ ?a ?b)"),
    r("add-0", "(+ ?a 0)", "?a"),
    r("sub-0", "(- ?a 0)", "?a"),
    r("mul-1", "(* ?a 1)", "?a"),
    r("div-1", "(/ ?a 1)", "?a"),
    rc("mul-0", "(* ?a 0)", "0", &[Scalar("?a"), Total("?a")]),
    rc(
        "add-zero-term",
        "(+ ?a (* 0 ?b))",
        "?a",
        &[Within("?b", "?a"), Total("?b")],
    ),
    rc(
        "sub-zero-term",
        "(- ?a (* 0 ?b))",
        "?a",
        &[Within("?b", "?a"), Total("?b")],
    ),
    rc("sub-self", "(- ?a ?a)", "0", &[Scalar("?a"), Total("?a")]),
    rc("div-self", "(/ ?a ?a)", "1", &[Scalar("?a"), NonZero("?a")]),
    r("div-to-mul", "(/ ?a ?b)", "(* ?a (pow ?b -1))"),
    r("mul-to-div", "(* ?a (pow ?b -1))", "(/ ?a ?b)"),
    r("div-div", "(/ (/ ?a ?b) ?c)", "(/ ?a (* ?b ?c))"),
    r("div-of-div", "(/ ?a (/ ?b ?c))", "(/ (* ?a ?c) ?b)"),
    r("mul-div", "(* ?a (/ ?b ?c))", "(/ (* ?a ?b) ?c)"),
    rc(
        "div-mul-cancel",
        "(/ (* ?a ?b) ?b)",
        "?a",
        &[Scalar("?b"), NonZero("?b")],
    ),
    rc(
        "div-mul-cancel-same",
        "(/ (* ?a ?b) ?b)",
        "?a",
        &[Same("?a", "?b"), NonZero("?b")],
    ),
    r("div-neg", "(/ (neg ?a) ?b)", "(neg (/ ?a ?b))"),
    r("pow-1", "(pow ?a 1)", "?a"),
    rc("pow-0", "(pow ?a 0)", "1", &[Scalar("?a"), Total("?a")]),
    r("mul-self", "(* ?a ?a)", "(pow ?a 2)"),
    r("pow-2", "(pow ?a 2)", "(* ?a ?a)"),
    // Exponents of one sign only (a ** -1 * a ** 1 is NaN at 0, a ** 0 is 1), unless
    // the base is known nonzero.
    rc(
        "pow-mul",
        "(* (pow ?a ?b) (pow ?a ?c))",
        "(pow ?a (+ ?b ?c))",
        &[Int("?b"), Int("?c"), NonNeg("?b"), NonNeg("?c")],
    ),
    rc(
        "pow-mul-neg",
        "(* (pow ?a ?b) (pow ?a ?c))",
        "(pow ?a (+ ?b ?c))",
        &[Int("?b"), Int("?c"), NonPos("?b"), NonPos("?c")],
    ),
    rc(
        "pow-mul-nonzero",
        "(* (pow ?a ?b) (pow ?a ?c))",
        "(pow ?a (+ ?b ?c))",
        &[Int("?b"), Int("?c"), NonZero("?a")],
    ),
    rc(
        "pow-mul-base",
        "(* ?a (pow ?a ?c))",
        "(pow ?a (+ ?c 1))",
        &[Int("?c"), NonNeg("?c")],
    ),
    rc(
        "pow-mul-base-nonzero",
        "(* ?a (pow ?a ?c))",
        "(pow ?a (+ ?c 1))",
        &[Int("?c"), NonZero("?a")],
    ),
    rc(
        "pow-pow",
        "(pow (pow ?a ?b) ?c)",
        "(pow ?a (* ?b ?c))",
        &[Int("?b"), Int("?c")],
    ),
    rc(
        "pow-pow-positive",
        "(pow (pow ?a ?b) ?c)",
        "(pow ?a (* ?b ?c))",
        &[Int("?c"), Pos("?a")],
    ),
    rc(
        "pow-of-mul",
        "(pow (* ?a ?b) ?c)",
        "(* (pow ?a ?c) (pow ?b ?c))",
        &[Int("?c")],
    ),
    rc(
        "mul-of-pow",
        "(* (pow ?a ?c) (pow ?b ?c))",
        "(pow (* ?a ?b) ?c)",
        &[Int("?c")],
    ),
    rc("pow-neg-base", "(pow (neg ?a) 2)", "(pow ?a 2)", &[]),
    r("distribute", "(* ?a (+ ?b ?c))", "(+ (* ?a ?b) (* ?a ?c))"),
    r("factor", "(+ (* ?a ?b) (* ?a ?c))", "(* ?a (+ ?b ?c))"),
    r(
        "distribute-sub",
        "(* ?a (- ?b ?c))",
        "(- (* ?a ?b) (* ?a ?c))",
    ),
    r("factor-sub", "(- (* ?a ?b) (* ?a ?c))", "(* ?a (- ?b ?c))"),
    r("add-self", "(+ ?a ?a)", "(* 2 ?a)"),
    r("like-terms", "(+ (* ?b ?a) ?a)", "(* (+ ?b 1) ?a)"),
    r("like-terms-sub", "(- (* ?b ?a) ?a)", "(* (- ?b 1) ?a)"),
    r(
        "div-distribute",
        "(/ (+ ?a ?b) ?c)",
        "(+ (/ ?a ?c) (/ ?b ?c))",
    ),
    r("div-factor", "(+ (/ ?a ?c) (/ ?b ?c))", "(/ (+ ?a ?b) ?c)"),
    // log and exp.
    r("exp-add", "(exp (+ ?a ?b))", "(* (exp ?a) (exp ?b))"),
    r("exp-mul-exp", "(* (exp ?a) (exp ?b))", "(exp (+ ?a ?b))"),
    r("exp-neg", "(exp (neg ?a))", "(/ 1 (exp ?a))"),
    r("log-exp", "(log (exp ?a))", "?a"),
    rc("exp-log", "(exp (log ?a))", "?a", &[Pos("?a")]),
    rc(
        "log-mul",
        "(log (* ?a ?b))",
        "(+ (log ?a) (log ?b))",
        &[Pos("?a"), Pos("?b")],
    ),
    rc(
        "log-add-log",
        "(+ (log ?a) (log ?b))",
        "(log (* ?a ?b))",
        &[Pos("?a"), Pos("?b")],
    ),
    rc(
        "log-div",
        "(log (/ ?a ?b))",
        "(- (log ?a) (log ?b))",
        &[Pos("?a"), Pos("?b")],
    ),
    rc(
        "log-pow",
        "(log (pow ?a ?b))",
        "(* ?b (log ?a))",
        &[Pos("?a")],
    ),
    rc(
        "exp-mul-log",
        "(exp (* ?b (log ?a)))",
        "(pow ?a ?b)",
        &[Pos("?a")],
    ),
    r("sqrt-to-pow", "(sqrt ?a)", "(pow ?a 0.5)"),
    r("pow-to-sqrt", "(pow ?a 0.5)", "(sqrt ?a)"),
    rc("cbrt-to-pow", "(cbrt ?a)", "(pow ?a (/ 1 3))", &[Pos("?a")]),
    rc(
        "pow-third-to-cbrt",
        "(pow ?a 0.3333333333333333)",
        "(cbrt ?a)",
        &[Pos("?a")],
    ),
    r("abs-neg", "(abs (neg ?a))", "(abs ?a)"),
    r("abs-abs", "(abs (abs ?a))", "(abs ?a)"),
    rc("abs-pos", "(abs ?a)", "?a", &[Pos("?a")]),
    // The engine's max and min keep their first operand when the second is NaN.
    rc(
        "max-comm",
        "(max ?a ?b)",
        "(max ?b ?a)",
        &[Total("?a"), Total("?b")],
    ),
    rc(
        "min-comm",
        "(min ?a ?b)",
        "(min ?b ?a)",
        &[Total("?a"), Total("?b")],
    ),
    r("max-self", "(max ?a ?a)", "?a"),
    r("min-self", "(min ?a ?a)", "?a"),
    rc(
        "where-lt-same",
        "(where-lt ?l ?r ?a ?a)",
        "?a",
        &[Within("?l", "?a"), Within("?r", "?a")],
    ),
    rc(
        "where-le-same",
        "(where-le ?l ?r ?a ?a)",
        "?a",
        &[Within("?l", "?a"), Within("?r", "?a")],
    ),
    rc(
        "where-eq-same",
        "(where-eq ?l ?r ?a ?a)",
        "?a",
        &[Within("?l", "?a"), Within("?r", "?a")],
    ),
    rc(
        "where-ne-same",
        "(where-ne ?l ?r ?a ?a)",
        "?a",
        &[Within("?l", "?a"), Within("?r", "?a")],
    ),
    r(
        "where-eq-comm",
        "(where-eq ?l ?r ?a ?b)",
        "(where-eq ?r ?l ?a ?b)",
    ),
    r(
        "where-ne-comm",
        "(where-ne ?l ?r ?a ?b)",
        "(where-ne ?r ?l ?a ?b)",
    ),
    // Transpose.
    r("T-T", "(T (T ?a))", "?a"),
    rc(
        "T-matmul",
        "(T (@ ?a ?b))",
        "(@ (T ?b) (T ?a))",
        &[Mat("?a"), Mat("?b")],
    ),
    rc(
        "matmul-T",
        "(@ (T ?b) (T ?a))",
        "(T (@ ?a ?b))",
        &[Mat("?a"), Mat("?b")],
    ),
    rc(
        "T-add",
        "(T (+ ?a ?b))",
        "(+ (T ?a) (T ?b))",
        &[Mat("?a"), Mat("?b")],
    ),
    rc(
        "add-T",
        "(+ (T ?a) (T ?b))",
        "(T (+ ?a ?b))",
        &[Mat("?a"), Mat("?b")],
    ),
    rc(
        "T-sub",
        "(T (- ?a ?b))",
        "(- (T ?a) (T ?b))",
        &[Mat("?a"), Mat("?b")],
    ),
    rc(
        "T-scale",
        "(T (* ?s ?a))",
        "(* ?s (T ?a))",
        &[Scalar("?s"), Mat("?a")],
    ),
    rc(
        "scale-T",
        "(* ?s (T ?a))",
        "(T (* ?s ?a))",
        &[Scalar("?s"), Mat("?a")],
    ),
    r("T-neg", "(T (neg ?a))", "(neg (T ?a))"),
    r("T-I", "(T I)", "I"),
    r("T-inv", "(T (inv ?a))", "(inv (T ?a))"),
    r("inv-T", "(inv (T ?a))", "(T (inv ?a))"),
    r("T-diag", "(T (diag ?v))", "(diag ?v)"),
    r("T-sym", "(T (sym ?a))", "(sym ?a)"),
    r("T-skew", "(T (skew ?a))", "(neg (skew ?a))"),
    r("T-outer", "(T (outer ?a ?b))", "(outer ?b ?a)"),
    // Matrix products (not commutative).
    // Only with a matrix in the middle: `v @ B` is `B.T @ v`, so `A @ (v @ B)` is
    // `A @ B.T @ v` but `(A @ v) @ B` is `B.T @ A @ v`.
    rc(
        "matmul-assoc",
        "(@ ?a (@ ?b ?c))",
        "(@ (@ ?a ?b) ?c)",
        &[Mat("?b")],
    ),
    rc(
        "matmul-assoc-rev",
        "(@ (@ ?a ?b) ?c)",
        "(@ ?a (@ ?b ?c))",
        &[Mat("?b")],
    ),
    r("I-matmul", "(@ I ?a)", "?a"),
    r("matmul-I", "(@ ?a I)", "?a"),
    rc(
        "matmul-scale-left",
        "(@ (* ?s ?a) ?b)",
        "(* ?s (@ ?a ?b))",
        &[Scalar("?s")],
    ),
    rc(
        "matmul-scale-right",
        "(@ ?a (* ?s ?b))",
        "(* ?s (@ ?a ?b))",
        &[Scalar("?s")],
    ),
    rc(
        "scale-matmul",
        "(* ?s (@ ?a ?b))",
        "(@ (* ?s ?a) ?b)",
        &[Scalar("?s")],
    ),
    r("matmul-neg-left", "(@ (neg ?a) ?b)", "(neg (@ ?a ?b))"),
    r("matmul-neg-right", "(@ ?a (neg ?b))", "(neg (@ ?a ?b))"),
    rc(
        "matmul-distribute-right",
        "(@ ?a (+ ?b ?c))",
        "(+ (@ ?a ?b) (@ ?a ?c))",
        &[NonScalar("?b"), NonScalar("?c")],
    ),
    rc(
        "matmul-factor-right",
        "(+ (@ ?a ?b) (@ ?a ?c))",
        "(@ ?a (+ ?b ?c))",
        &[Same("?b", "?c")],
    ),
    rc(
        "matmul-distribute-left",
        "(@ (+ ?a ?b) ?c)",
        "(+ (@ ?a ?c) (@ ?b ?c))",
        &[NonScalar("?a"), NonScalar("?b")],
    ),
    rc(
        "matmul-factor-left",
        "(+ (@ ?a ?c) (@ ?b ?c))",
        "(@ (+ ?a ?b) ?c)",
        &[Same("?a", "?b")],
    ),
    rc(
        "matmul-distribute-right-sub",
        "(@ ?a (- ?b ?c))",
        "(- (@ ?a ?b) (@ ?a ?c))",
        &[NonScalar("?b"), NonScalar("?c")],
    ),
    rc(
        "matmul-factor-right-sub",
        "(- (@ ?a ?b) (@ ?a ?c))",
        "(@ ?a (- ?b ?c))",
        &[Same("?b", "?c")],
    ),
    rc(
        "matmul-distribute-left-sub",
        "(@ (- ?a ?b) ?c)",
        "(- (@ ?a ?c) (@ ?b ?c))",
        &[NonScalar("?a"), NonScalar("?b")],
    ),
    rc(
        "matmul-factor-left-sub",
        "(- (@ ?a ?c) (@ ?b ?c))",
        "(@ (- ?a ?b) ?c)",
        &[Same("?a", "?b")],
    ),
    rc("matmul-vv", "(@ ?a ?b)", "(dot ?a ?b)", &[V("?a"), V("?b")]),
    r("diag-matmul", "(@ (diag ?a) (diag ?b))", "(diag (* ?a ?b))"),
    // Inverse.
    rc("inv-inv", "(inv (inv ?a))", "?a", &[Invertible("?a")]),
    rc(
        "inv-matmul",
        "(inv (@ ?a ?b))",
        "(@ (inv ?b) (inv ?a))",
        &[Mat("?a"), Mat("?b")],
    ),
    r("inv-I", "(inv I)", "I"),
    rc(
        "matmul-inv",
        "(@ ?a (inv ?a))",
        "I",
        &[Mat("?a"), Invertible("?a")],
    ),
    rc(
        "inv-matmul-self",
        "(@ (inv ?a) ?a)",
        "I",
        &[Mat("?a"), Invertible("?a")],
    ),
    rc(
        "inv-scale",
        "(inv (* ?s ?a))",
        "(* (pow ?s -1) (inv ?a))",
        &[Scalar("?s"), Mat("?a")],
    ),
    r("inv-neg", "(inv (neg ?a))", "(neg (inv ?a))"),
    r("inv-diag", "(inv (diag ?v))", "(diag (pow ?v -1))"),
    // Determinant.
    rc(
        "det-matmul",
        "(det (@ ?a ?b))",
        "(* (det ?a) (det ?b))",
        &[Mat("?a"), Mat("?b")],
    ),
    r("det-mul-det", "(* (det ?a) (det ?b))", "(det (@ ?a ?b))"),
    r("det-T", "(det (T ?a))", "(det ?a)"),
    r("det-inv", "(det (inv ?a))", "(pow (det ?a) -1)"),
    r("det-I", "(det I)", "1"),
    rc(
        "det-scale",
        "(det (* ?s ?a))",
        "(* (pow ?s 3) (det ?a))",
        &[Scalar("?s"), Mat("?a")],
    ),
    r("det-neg", "(det (neg ?a))", "(neg (det ?a))"),
    r("det-diag", "(det (diag ?v))", "(prod ?v)"),
    r("svd-prod", "(prod (svd-s ?a))", "(det ?a)"),
    r("polar-r-svd", "(polar-r ?a)", "(@ (svd-u ?a) (svd-vh ?a))"),
    r("svd-polar-r", "(@ (svd-u ?a) (svd-vh ?a))", "(polar-r ?a)"),
    // Trace.
    r("trace-T", "(trace (T ?a))", "(trace ?a)"),
    rc(
        "trace-add",
        "(trace (+ ?a ?b))",
        "(+ (trace ?a) (trace ?b))",
        &[Mat("?a"), Mat("?b")],
    ),
    r(
        "trace-add-rev",
        "(+ (trace ?a) (trace ?b))",
        "(trace (+ ?a ?b))",
    ),
    rc(
        "trace-sub",
        "(trace (- ?a ?b))",
        "(- (trace ?a) (trace ?b))",
        &[Mat("?a"), Mat("?b")],
    ),
    rc(
        "trace-scale",
        "(trace (* ?s ?a))",
        "(* ?s (trace ?a))",
        &[Scalar("?s"), Mat("?a")],
    ),
    rc(
        "scale-trace",
        "(* ?s (trace ?a))",
        "(trace (* ?s ?a))",
        &[Scalar("?s")],
    ),
    r("trace-neg", "(trace (neg ?a))", "(neg (trace ?a))"),
    r("trace-I", "(trace I)", "3"),
    rc(
        "trace-cyclic",
        "(trace (@ ?a ?b))",
        "(trace (@ ?b ?a))",
        &[Mat("?a"), Mat("?b")],
    ),
    rc(
        "trace-TA-B",
        "(trace (@ (T ?a) ?b))",
        "(dot ?a ?b)",
        &[Mat("?a"), Mat("?b")],
    ),
    rc(
        "dot-trace",
        "(dot ?a ?b)",
        "(trace (@ (T ?a) ?b))",
        &[Mat("?a"), Mat("?b")],
    ),
    r("trace-diag", "(trace (diag ?v))", "(sum ?v)"),
    r("trace-outer", "(trace (outer ?a ?b))", "(dot ?a ?b)"),
    r("trace-diagonal", "(trace ?a)", "(sum (diagonal ?a))"),
    r("sum-diagonal", "(sum (diagonal ?a))", "(trace ?a)"),
    // Vectors and reductions.
    r("dot-comm", "(dot ?a ?b)", "(dot ?b ?a)"),
    r("dot-sum", "(dot ?a ?b)", "(sum (* ?a ?b))"),
    rc(
        "sum-dot",
        "(sum (* ?a ?b))",
        "(dot ?a ?b)",
        &[Same("?a", "?b")],
    ),
    r("norm-dot", "(norm ?a)", "(sqrt (dot ?a ?a))"),
    r("dot-norm", "(sqrt (dot ?a ?a))", "(norm ?a)"),
    rc("mean-vec", "(mean ?a)", "(/ (sum ?a) 3)", &[V("?a")]),
    rc("mean-mat", "(mean ?a)", "(/ (sum ?a) 9)", &[Mat("?a")]),
    r("diagonal-diag", "(diagonal (diag ?v))", "?v"),
    r("sum-diag", "(sum (diag ?v))", "(sum ?v)"),
    rc(
        "diag-scale",
        "(diag (* ?s ?v))",
        "(* ?s (diag ?v))",
        &[Scalar("?s")],
    ),
    rc(
        "diag-add",
        "(diag (+ ?a ?b))",
        "(+ (diag ?a) (diag ?b))",
        &[V("?a"), V("?b")],
    ),
    r(
        "diag-add-rev",
        "(+ (diag ?a) (diag ?b))",
        "(diag (+ ?a ?b))",
    ),
    r("prod-vec3", "(prod (vec3 ?a ?b ?c))", "(* (* ?a ?b) ?c)"),
    r("sum-vec3", "(sum (vec3 ?a ?b ?c))", "(+ (+ ?a ?b) ?c)"),
    r("at0-vec3", "(at (vec3 ?a ?b ?c) 0)", "?a"),
    r("at1-vec3", "(at (vec3 ?a ?b ?c) 1)", "?b"),
    r("at2-vec3", "(at (vec3 ?a ?b ?c) 2)", "?c"),
    rc(
        "at2-T",
        "(at2 (T ?a) ?i ?j)",
        "(at2 ?a ?j ?i)",
        &[Index("?i"), Index("?j")],
    ),
    // Shorthands.
    r("sym-def", "(sym ?a)", "(* 0.5 (+ ?a (T ?a)))"),
    r("skew-def", "(skew ?a)", "(* 0.5 (- ?a (T ?a)))"),
    r("dev-def", "(dev ?a)", "(- ?a (* (/ (trace ?a) 3) I))"),
    r("half-sum-sym", "(/ (+ ?a (T ?a)) 2)", "(sym ?a)"),
    r("sym-fold", "(* 0.5 (+ ?a (T ?a)))", "(sym ?a)"),
    r("skew-fold", "(* 0.5 (- ?a (T ?a)))", "(skew ?a)"),
    r("half-diff-skew", "(/ (- ?a (T ?a)) 2)", "(skew ?a)"),
    r("dev-fold", "(- ?a (* (/ (trace ?a) 3) I))", "(dev ?a)"),
];

/// The rules as egg rewrites (built once).
pub fn rewrites() -> &'static [Rewrite<Tensor, TensorAnalysis>] {
    static RULE_SET: OnceLock<Vec<Rewrite<Tensor, TensorAnalysis>>> = OnceLock::new();
    RULE_SET.get_or_init(|| RULES.iter().map(build).collect())
}

/// One rule as an egg rewrite.
pub fn build(spec: &RuleSpec) -> Rewrite<Tensor, TensorAnalysis> {
    let lhs: Pattern<Tensor> = spec.lhs.parse().expect("rule patterns parse");
    let rhs: Pattern<Tensor> = spec.rhs.parse().expect("rule patterns parse");
    let var = |v: &str| -> Var { v.parse().expect("rule variables parse") };
    let checks: Vec<(Cond, Var, Option<Var>)> = spec
        .conds
        .iter()
        .map(|c| match *c {
            Cond::Same(a, b) | Cond::NotBothVec(a, b) | Cond::Within(a, b) => {
                (*c, var(a), Some(var(b)))
            }
            Cond::Scalar(a)
            | Cond::Vec(a)
            | Cond::Mat(a)
            | Cond::NonScalar(a)
            | Cond::Positive(a)
            | Cond::Index(a)
            | Cond::Integer(a)
            | Cond::Total(a)
            | Cond::NonZero(a)
            | Cond::NonNeg(a)
            | Cond::NonPos(a)
            | Cond::Invertible(a) => (*c, var(a), None),
        })
        .collect();
    let condition = move |g: &mut TensorGraph, _: Id, s: &Subst| {
        checks
            .iter()
            .all(|(c, a, b)| holds(g, *c, s[*a], b.map(|b| s[b])))
    };
    Rewrite::new(
        spec.name,
        lhs,
        ConditionalApplier {
            condition,
            applier: rhs,
        },
    )
    .expect("rules are well-formed")
}

fn holds(g: &TensorGraph, c: Cond, a: Id, b: Option<Id>) -> bool {
    let data = &g[a].data;
    match c {
        Cond::Scalar(_) => data.shape == Some(Type::Scalar),
        Cond::Vec(_) => data.shape == Some(Type::Vec3),
        Cond::Mat(_) => data.shape == Some(Type::Mat3),
        Cond::NonScalar(_) => matches!(data.shape, Some(Type::Vec3 | Type::Mat3)),
        Cond::Same(..) => b.is_some_and(|b| g[b].data.shape == data.shape),
        Cond::Index(_) => data
            .konst
            .is_some_and(|k| [0.0, 1.0, 2.0].contains(&k.value())),
        Cond::Within(..) => {
            data.shape == Some(Type::Scalar) || b.is_some_and(|b| g[b].data.shape == data.shape)
        }
        Cond::NotBothVec(..) => {
            !(data.shape == Some(Type::Vec3)
                && b.is_some_and(|b| g[b].data.shape == Some(Type::Vec3)))
        }
        Cond::Positive(_) => data.positive,
        Cond::Integer(_) => data
            .konst
            .is_some_and(|k| k.value().fract() == 0.0 && k.value().abs() <= 1024.0),
        Cond::Total(_) => data.total,
        Cond::NonZero(_) => nonzero(data),
        Cond::NonNeg(_) => data.konst.is_some_and(|k| k.value() >= 0.0),
        Cond::NonPos(_) => data.konst.is_some_and(|k| k.value() <= 0.0),
        Cond::Invertible(_) => {
            data.shape == Some(Type::Mat3)
                && (g
                    .lookup(Tensor::Det(a))
                    .is_some_and(|d| nonzero(&g[d].data))
                    || g[a].nodes.iter().any(|n| match n {
                        Tensor::Identity => true,
                        Tensor::Diag(v) => nonzero(&g[*v].data),
                        _ => false,
                    }))
        }
    }
}

/// Every entry is a nonzero finite value.
fn nonzero(data: &super::analysis::Data) -> bool {
    data.konst.is_some_and(|k| k.value() != 0.0) || (data.total && data.positive)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_names_are_unique_and_rules_build() {
        let mut names: Vec<&str> = RULES.iter().map(|r| r.name).collect();
        names.sort_unstable();
        let n = names.len();
        names.dedup();
        assert_eq!(names.len(), n, "duplicate rule names");
        assert_eq!(rewrites().len(), RULES.len());
    }
}
