//! Every rewrite rule checked sound: each rule is instantiated on shape-correct
//! arguments (scalars, vectors, matrices, positive values, integer constants), applied
//! alone in an e-graph, and both sides are evaluated by the engine at random points; they
//! must agree wherever both are finite.

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
];

/// Random points per instance, and instances (distinct argument choices) per rule.
const POINTS: usize = 100;
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

/// The engine's value of a term at the given input values.
fn evaluate(expr: &RecExpr<Tensor>, atoms: &Atoms, inputs: &[Value<f64>]) -> Value<f64> {
    let dag = Dag::from_recexpr(expr, atoms);
    let sig = signature(atoms, dag.shapes[dag.root()]);
    let program = raise(&dag, &sig, &[], &Naming::Canonical);
    let law = check(&program, &sig)
        .unwrap_or_else(|e| panic!("the term {expr} does not check as {program}: {e}"));
    let c = law.compiled();
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
    let total = ARGS.len().pow(vars.len() as u32);
    for combo in 0..total {
        let args: Vec<Arg> = (0..vars.len())
            .map(|k| ARGS[combo / ARGS.len().pow(k as u32) % ARGS.len()])
            .collect();
        let atoms = Atoms {
            inputs: args
                .iter()
                .map(|a| match a {
                    Arg::Leaf(t) | Arg::Positive(t) => *t,
                    Arg::Number(_) => Type::Scalar,
                })
                .collect(),
            lets: vec![],
        };
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
        for _ in 0..POINTS {
            let inputs: Vec<Value<f64>> =
                atoms.inputs.iter().map(|t| random_value(rng, *t)).collect();
            let a = evaluate(&left, &atoms, &inputs);
            let b = evaluate(&right, &atoms, &inputs);
            assert_eq!(a.ty(), b.ty(), "rule {}: shapes differ", spec.name);
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
        instances += 1;
        if instances >= INSTANCES && compared >= POINTS {
            break;
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
