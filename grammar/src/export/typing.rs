//! Types of the expressions of a checked program, for the exporters (which must know
//! where a scalar is broadcast against a vector or a matrix).

use crate::ast::{BinOp, Expr, ExprKind};
use crate::check::CheckedProgram;
use crate::egraph::lang::broadcast;
use crate::types::Type;
use std::collections::HashMap;

/// The type of every name of a checked program (inputs, parameters, bindings).
pub(crate) fn env(law: &CheckedProgram) -> HashMap<String, Type> {
    law.bindings()
        .iter()
        .map(|b| (b.name.clone(), b.ty))
        .collect()
}

/// The type of an expression of a checked program.
pub(crate) fn type_of(e: &Expr, env: &HashMap<String, Type>) -> Type {
    use Type::{Mat3 as M, Scalar as S, Vec3 as V};
    let t = |a: &Expr| type_of(a, env);
    match &e.kind {
        ExprKind::Num(_) => S,
        ExprKind::Var(name) => match name.as_str() {
            _ if env.contains_key(name) => env[name],
            "I" => M,
            _ => S,
        },
        ExprKind::Neg(a) => t(a),
        ExprKind::Binary(BinOp::MatMul, a, b) => match (t(a), t(b)) {
            (M, M) => M,
            (V, V) => S,
            _ => V,
        },
        ExprKind::Binary(_, a, b) | ExprKind::Compare(_, a, b) => {
            broadcast(t(a), t(b)).unwrap_or(S)
        }
        ExprKind::Transpose(_) => M,
        ExprKind::Index(a, idx) => match (t(a), idx.len()) {
            (M, 1) => V,
            _ => S,
        },
        ExprKind::Call(name, args) => match (name.as_str(), args.len()) {
            ("min" | "max", 1) => S,
            ("det" | "trace" | "sum" | "prod" | "mean" | "norm" | "dot", _) => S,
            ("inv" | "transpose" | "diag" | "outer" | "sym" | "skew" | "dev", _) => M,
            ("diagonal" | "vec3", _) => V,
            ("where", 3) => args
                .iter()
                .map(t)
                .fold(S, |acc, x| broadcast(acc, x).unwrap_or(acc)),
            _ => args
                .iter()
                .map(t)
                .fold(S, |acc, x| broadcast(acc, x).unwrap_or(acc)),
        },
    }
}
