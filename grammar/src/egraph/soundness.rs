//! Every rewrite rule checked sound: each rule is instantiated on shape-correct
//! arguments (scalars, vectors, matrices, positive values, integer constants, and
//! arguments that are undefined or zero at some points: `log x`, `0 * x`, `0`), applied
//! alone in an e-graph, and both sides are evaluated by the engine at random points; they
//! must be finite at the same points (no rule turns an undefined value into a defined
//! one, or the reverse) and agree wherever they are.

use super::analysis::{TensorAnalysis, TensorGraph};
use super::dag::Dag;
use super::lang::{Atom, Atoms, Num, Tensor, shape_of};
use super::raise::{Naming, raise};
use super::rules::{RULES, RuleSpec, build};
use crate::check::check;
use crate::types::{Signature, Type};
use crate::value::Value;
use egg::{ENodeOrVar, Id, Language, Pattern, RecExpr, Runner, Var};
use nalgebra::{Matrix3, Vector3};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// What a pattern variable is instantiated with.
#[derive(Clone, Copy, Debug)]
enum Arg {
    /// A fresh input of this type.
    Leaf(Type),
    /// `exp` of a fresh input (strictly positive).
    Positive(Type),
    /// A number.
    Number(f64),
    /// `log` of a fresh input: NaN wherever an entry of the input is negative.
    Partial(Type),
    /// `0 * x` of a fresh input: zero, but not a constant the analysis folds.
    Zero(Type),
    /// `diag(exp(v))` of a fresh vector input: a matrix known invertible.
    Invertible,
}

impl Arg {
    /// Whether the argument is undefined or zero at some points.
    fn special(self) -> bool {
        match self {
            Arg::Partial(_) | Arg::Zero(_) => true,
            Arg::Number(v) => v == 0.0,
            Arg::Leaf(_) | Arg::Positive(_) | Arg::Invertible => false,
        }
    }
}

const ARGS: &[Arg] = &[
    Arg::Leaf(Type::Scalar),
    Arg::Leaf(Type::Mat3),
    Arg::Leaf(Type::Vec3),
    Arg::Positive(Type::Scalar),
    Arg::Positive(Type::Mat3),
    Arg::Positive(Type::Vec3),
    Arg::Number(2.0),
    Arg::Number(-1.0),
    Arg::Number(3.0),
    Arg::Number(0.5),
    Arg::Partial(Type::Scalar),
    Arg::Partial(Type::Mat3),
    Arg::Partial(Type::Vec3),
    Arg::Zero(Type::Scalar),
    Arg::Zero(Type::Mat3),
    Arg::Zero(Type::Vec3),
    Arg::Number(0.0),
    Arg::Invertible,
];

/// Random points per instance, and instances (distinct argument choices) per rule
/// without a special argument (every instance with one is checked, at
/// [`SPECIAL_POINTS`] points).
const POINTS: usize = 100;
const SPECIAL_POINTS: usize = 20;
const INSTANCES: usize = 3;

/// Instantiates `pattern` with `args[v]` for variable `v` (variable `k` as input `x{k}`).
fn instantiate(pattern: &Pattern<Tensor>, vars: &[Var], args: &[Arg]) -> RecExpr<Tensor> {
    let mut out = RecExpr::default();
    let mut ids: Vec<Id> = Vec::new();
    for n in pattern.ast.as_ref() {
        let id = match n {
            ENodeOrVar::ENode(node) => {
                let node = node.clone().map_children(|c| ids[usize::from(c)]);
                out.add(node)
            }
            ENodeOrVar::Var(v) => {
                let k = vars
                    .iter()
                    .position(|w| w == v)
                    .expect("a pattern variable");
                match args[k] {
                    Arg::Leaf(_) => out.add(Tensor::Atom(Atom::Input(k as u16))),
                    Arg::Positive(_) => {
                        let x = out.add(Tensor::Atom(Atom::Input(k as u16)));
                        out.add(Tensor::Exp(x))
                    }
                    Arg::Number(v) => out.add(Tensor::Num(Num::new(v).expect("finite"))),
                    Arg::Partial(_) => {
                        let x = out.add(Tensor::Atom(Atom::Input(k as u16)));
                        out.add(Tensor::Log(x))
                    }
                    Arg::Invertible => {
                        let x = out.add(Tensor::Atom(Atom::Input(k as u16)));
                        let e = out.add(Tensor::Exp(x));
                        out.add(Tensor::Diag(e))
                    }
                    Arg::Zero(_) => {
                        let x = out.add(Tensor::Atom(Atom::Input(k as u16)));
                        let zero = out.add(Tensor::Num(Num::new(0.0).expect("finite")));
                        out.add(Tensor::Mul([zero, x]))
                    }
                }
            }
        };
        ids.push(id);
    }
    out
}

fn well_typed(expr: &RecExpr<Tensor>, atoms: &Atoms) -> bool {
    let mut types: Vec<Option<Type>> = Vec::new();
    for n in expr.as_ref() {
        types.push(shape_of(n, |c| types[usize::from(c)], atoms));
    }
    types.iter().all(Option::is_some)
}

/// A term compiled by the engine.
fn compile(expr: &RecExpr<Tensor>, atoms: &Atoms) -> crate::Compiled {
    let dag = Dag::from_recexpr(expr, atoms);
    let sig = signature(atoms, dag.shapes[dag.root()]);
    let program = raise(&dag, &sig, &[], &Naming::Canonical);
    let law = check(&program, &sig)
        .unwrap_or_else(|e| panic!("the term {expr} does not check as {program}: {e}"));
    law.compiled().clone()
}

/// The engine's value of a compiled term at the given input values.
fn evaluate(c: &crate::Compiled, inputs: &[Value<f64>]) -> Value<f64> {
    c.eval(inputs, &[], &mut c.scratch())
        .expect("inputs match the signature")
}

fn signature(atoms: &Atoms, output: Type) -> Signature {
    Signature::new(
        atoms
            .inputs
            .iter()
            .enumerate()
            .map(|(k, t)| (format!("x{k}"), *t)),
        output,
    )
}

fn random_value(rng: &mut ChaCha8Rng, ty: Type) -> Value<f64> {
    let mut r = || rng.random_range(-2.0..2.0);
    match ty {
        Type::Scalar => Value::Scalar(r()),
        Type::Vec3 => Value::Vec3(Vector3::from_fn(|_, _| r())),
        Type::Mat3 => Value::Mat3(Matrix3::from_fn(|_, _| r())),
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * (1.0 + a.abs() + b.abs())
}

/// Checks one rule; returns the number of finite comparisons made.
fn check_rule(spec: &RuleSpec, rng: &mut ChaCha8Rng) -> usize {
    let lhs: Pattern<Tensor> = spec.lhs.parse().unwrap();
    let rhs: Pattern<Tensor> = spec.rhs.parse().unwrap();
    let vars = lhs.vars();
    let rule = build(spec);
    let mut compared = 0;
    let mut instances = 0;
    let mut special_seen: std::collections::HashMap<(usize, usize), usize> =
        std::collections::HashMap::new();
    let total = ARGS.len().pow(vars.len() as u32);
    for combo in 0..total {
        let args: Vec<Arg> = (0..vars.len())
            .map(|k| ARGS[combo / ARGS.len().pow(k as u32) % ARGS.len()])
            .collect();
        let atoms = Atoms {
            inputs: args
                .iter()
                .map(|a| match a {
                    Arg::Leaf(t) | Arg::Positive(t) | Arg::Partial(t) | Arg::Zero(t) => *t,
                    Arg::Invertible => Type::Vec3,
                    Arg::Number(_) => Type::Scalar,
                })
                .collect(),
            lets: vec![],
        };
        // Each special argument at each position is checked in up to INSTANCES
        // instances (the others ordinary), which bounds the work per rule.
        let slots: Vec<(usize, usize)> = (0..vars.len())
            .map(|k| (k, combo / ARGS.len().pow(k as u32) % ARGS.len()))
            .filter(|&(_, a)| ARGS[a].special())
            .collect();
        let special = !slots.is_empty();
        if !special && instances >= INSTANCES && compared >= POINTS {
            continue;
        }
        if special
            && slots
                .iter()
                .all(|s| special_seen.get(s).copied().unwrap_or(0) >= INSTANCES)
        {
            continue;
        }
        let left = instantiate(&lhs, &vars, &args);
        if !well_typed(&left, &atoms) {
            continue;
        }
        let right = instantiate(&rhs, &vars, &args);
        let mut g = TensorGraph::new(TensorAnalysis {
            atoms: atoms.clone(),
        });
        let l = g.add_expr(&left);
        let runner: Runner<Tensor, TensorAnalysis> = Runner::default()
            .with_egraph(g)
            .with_iter_limit(1)
            .run(std::iter::once(&rule));
        let mut g = runner.egraph;
        let r = g.add_expr(&right);
        g.rebuild();
        if g.find(l) != g.find(r) {
            continue; // a condition did not hold for these arguments
        }
        assert!(
            well_typed(&right, &atoms),
            "rule {}: the right side is ill-typed for {args:?}",
            spec.name
        );
        let (cl, cr) = (compile(&left, &atoms), compile(&right, &atoms));
        for _ in 0..if special { SPECIAL_POINTS } else { POINTS } {
            let inputs: Vec<Value<f64>> =
                atoms.inputs.iter().map(|t| random_value(rng, *t)).collect();
            let a = evaluate(&cl, &inputs);
            let b = evaluate(&cr, &inputs);
            assert_eq!(a.ty(), b.ty(), "rule {}: shapes differ", spec.name);
            assert_eq!(
                a.is_all_finite(),
                b.is_all_finite(),
                "rule {} changes where the value is defined for {args:?}: {left} = {a:?} but \
                 {right} = {b:?} at {inputs:?}",
                spec.name
            );
            if a.is_all_finite() && b.is_all_finite() {
                for (x, y) in a.entries().zip(b.entries()) {
                    assert!(
                        close(x, y),
                        "rule {} unsound for {args:?}: {left} = {x} but {right} = {y} at {inputs:?}",
                        spec.name
                    );
                }
                compared += 1;
            }
        }
        if special {
            for s in slots {
                *special_seen.entry(s).or_insert(0) += 1;
            }
        } else {
            instances += 1;
        }
    }
    compared
}

#[test]
fn every_rule_is_sound_at_random_points() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let mut weak = Vec::new();
    for spec in RULES {
        let n = check_rule(spec, &mut rng);
        if n < POINTS {
            weak.push((spec.name, n));
        }
    }
    assert!(
        weak.is_empty(),
        "rules checked at fewer than {POINTS} finite points: {weak:?}"
    );
}

#[test]
fn undefined_laws_stay_undefined_where_they_were() {
    use crate::fingerprint::sample_deformation;
    let sig = Signature::elastic();
    let laws = [
        "return (F - F) / (det(F) - det(F)) + F",
        "return F + 0 * inv(F - F)",
        "x = log(det(F) - 2)\nreturn (x - x) * I + F",
        "return log(det(F) - 1) * 0 * I + F",
        "return sqrt(det(F) - 1) ** 2 * I",
        "J = det(F) - 1\nreturn J ** -1 * J * F",
        "return (F - F) / (F - F) + F",
    ];
    let mut points: Vec<Matrix3<f64>> = (0..8).map(sample_deformation).collect();
    points.extend((0..8).map(|k| -sample_deformation(k)));
    points.push(Matrix3::identity());
    for src in laws {
        let law = crate::load(src, &sig).unwrap();
        let s = super::simplify(&law);
        let simplified = check(&s.program, &sig).unwrap();
        let (a, b) = (law.compiled(), simplified.compiled());
        for f in &points {
            let x = a.eval(&[Value::Mat3(*f)], &[], &mut a.scratch()).unwrap();
            let y = b.eval(&[Value::Mat3(*f)], &[], &mut b.scratch()).unwrap();
            assert_eq!(
                x.is_all_finite(),
                y.is_all_finite(),
                "{src} simplified to {} changes where it is defined (at {f})",
                s.program
            );
        }
        let f = crate::load("return F", &sig).unwrap();
        assert_ne!(
            super::canonical(&law).hash,
            super::canonical(&f).hash,
            "{src}"
        );
    }
}
