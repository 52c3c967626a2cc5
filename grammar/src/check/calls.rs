//! Typing and lowering of calls to built-in functions (the checker's largest part).

use super::{Checker, broadcast};
use crate::ast::{BinOp, Expr, ExprKind};
use crate::builtins::{self, Builtin};
use crate::error::Error;
use crate::ops::{Bin, Op, Shape1, Slot, Un};
use crate::span::Span;
use crate::types::Type;

impl Checker {
    pub(super) fn call(
        &mut self,
        name: &str,
        args: &[Expr],
        span: Span,
    ) -> Result<(Slot, Type), Error> {
        let Some((f, min, max, usage)) = builtins::function(name) else {
            let message = match builtins::alias(name) {
                Some(alias) => format!("unknown function '{name}'; use {alias}"),
                None => match builtins::closest(name, builtins::FUNCTIONS.iter().map(|f| f.0)) {
                    Some(s) => format!("unknown function '{name}' (did you mean '{s}'?)"),
                    None => {
                        let all: Vec<&str> = builtins::FUNCTIONS.iter().map(|f| f.0).collect();
                        format!(
                            "unknown function '{name}'; the functions are {}",
                            all.join(", ")
                        )
                    }
                },
            };
            return Err(Error::name(span, message));
        };
        if args.len() < min || args.len() > max {
            let count = if min == max {
                format!("{min}")
            } else {
                format!("{min} or {max}")
            };
            let plural = if max == 1 { "argument" } else { "arguments" };
            return Err(Error::ty(
                span,
                format!("{name} takes {count} {plural}, got {}: {usage}", args.len()),
            ));
        }
        match f {
            Builtin::Svd | Builtin::Polar => {
                let usage = if f == Builtin::Svd {
                    "U, sigma, Vh = svd(F)"
                } else {
                    "R, S = polar(F)"
                };
                let n = if f == Builtin::Svd { 3 } else { 2 };
                return Err(Error::ty(
                    span,
                    format!(
                        "{name} returns {n} values; destructure them on their own line: {usage}"
                    ),
                ));
            }
            Builtin::Where => return self.where_(args, span),
            _ => {}
        }
        let mut vals = Vec::with_capacity(args.len());
        for a in args {
            vals.push(self.expr(a)?);
        }
        let arg_err = |k: usize, need: &str, got: Type| {
            Error::ty(
                args[k].span,
                format!("{name} needs {need}, got {got}: {usage}"),
            )
        };
        let un = |f: Un| f;
        let elementwise = match f {
            Builtin::Exp => Some(un(Un::Exp)),
            Builtin::Log => Some(Un::Log),
            Builtin::Sqrt => Some(Un::Sqrt),
            Builtin::Cbrt => Some(Un::Cbrt),
            Builtin::Abs => Some(Un::Abs),
            Builtin::Sigmoid => Some(Un::Sigmoid),
            Builtin::Tanh => Some(Un::Tanh),
            Builtin::Log1p => Some(Un::Log1p),
            Builtin::Expm1 => Some(Un::Expm1),
            Builtin::Sin => Some(Un::Sin),
            Builtin::Cos => Some(Un::Cos),
            _ => None,
        };
        if let Some(u) = elementwise {
            let (s, t) = vals[0];
            return Ok(self.emit(Op::Unary(u, s), t));
        }
        let shape1 =
            |c: &mut Self, op: Shape1, need: Type, out: Type| -> Result<(Slot, Type), Error> {
                let (s, t) = vals[0];
                if t != need {
                    return Err(arg_err(0, &format!("a {need} argument"), t));
                }
                Ok(c.emit(Op::Shape(op, s), out))
            };
        match f {
            Builtin::Pow => self.binary(BinOp::Pow, vals[0], vals[1], span),
            Builtin::Min | Builtin::Max if vals.len() == 2 => {
                let (a, b) = (vals[0], vals[1]);
                let ty = broadcast(a.1, b.1).ok_or_else(|| {
                    Error::ty(
                        span,
                        format!(
                            "{name}(a, b) needs the same shape or a scalar, got {} and {}",
                            a.1, b.1
                        ),
                    )
                })?;
                let op = if f == Builtin::Min {
                    Bin::Min
                } else {
                    Bin::Max
                };
                Ok(self.emit(Op::Binary(op, a.0, b.0), ty))
            }
            Builtin::Min | Builtin::Max => {
                let (s, t) = vals[0];
                if t == Type::Scalar {
                    return Err(arg_err(
                        0,
                        "a vec3 or mat3 (one argument: the smallest/largest entry) or two arguments",
                        t,
                    ));
                }
                let op = if f == Builtin::Min {
                    Shape1::ReduceMin
                } else {
                    Shape1::ReduceMax
                };
                Ok(self.emit(Op::Shape(op, s), Type::Scalar))
            }
            Builtin::Clamp => {
                let ty = broadcast(vals[0].1, vals[1].1)
                    .and_then(|t| broadcast(t, vals[2].1))
                    .ok_or_else(|| {
                        Error::ty(
                            span,
                            format!(
                                "clamp(x, lo, hi) needs the same shapes or scalars, got {}, {}, {}",
                                vals[0].1, vals[1].1, vals[2].1
                            ),
                        )
                    })?;
                Ok(self.emit(Op::Clamp(vals[0].0, vals[1].0, vals[2].0), ty))
            }
            Builtin::Det => shape1(self, Shape1::Det, Type::Mat3, Type::Scalar),
            Builtin::Inv => shape1(self, Shape1::Inv, Type::Mat3, Type::Mat3),
            Builtin::Trace => shape1(self, Shape1::Trace, Type::Mat3, Type::Scalar),
            Builtin::Transpose => shape1(self, Shape1::Transpose, Type::Mat3, Type::Mat3),
            Builtin::Diag => shape1(self, Shape1::Diag, Type::Vec3, Type::Mat3),
            Builtin::Diagonal => shape1(self, Shape1::Diagonal, Type::Mat3, Type::Vec3),
            Builtin::Prod => shape1(self, Shape1::Prod, Type::Vec3, Type::Scalar),
            Builtin::Sym => shape1(self, Shape1::Sym, Type::Mat3, Type::Mat3),
            Builtin::Skew => shape1(self, Shape1::Skew, Type::Mat3, Type::Mat3),
            Builtin::Dev => shape1(self, Shape1::Dev, Type::Mat3, Type::Mat3),
            Builtin::Sum | Builtin::Mean | Builtin::Norm => {
                let (s, t) = vals[0];
                if t == Type::Scalar {
                    return Err(arg_err(0, "a vec3 or mat3 argument", t));
                }
                let op = match f {
                    Builtin::Sum => Shape1::Sum,
                    Builtin::Mean => Shape1::Mean,
                    _ => Shape1::Norm,
                };
                Ok(self.emit(Op::Shape(op, s), Type::Scalar))
            }
            Builtin::Dot => {
                let ((a, ta), (b, tb)) = (vals[0], vals[1]);
                if ta != tb || ta == Type::Scalar {
                    return Err(Error::ty(
                        span,
                        format!("dot(a, b) needs two vec3 or two mat3, got {ta} and {tb}: {usage}"),
                    ));
                }
                Ok(self.emit(Op::Dot(a, b), Type::Scalar))
            }
            Builtin::Outer => {
                for (k, (_, t)) in vals.iter().enumerate() {
                    if *t != Type::Vec3 {
                        return Err(arg_err(k, "vec3 arguments", *t));
                    }
                }
                Ok(self.emit(Op::Outer(vals[0].0, vals[1].0), Type::Mat3))
            }
            Builtin::Vec3 => {
                for (k, (_, t)) in vals.iter().enumerate() {
                    if *t != Type::Scalar {
                        return Err(arg_err(k, "scalar arguments", *t));
                    }
                }
                Ok(self.emit(Op::Vec3(vals[0].0, vals[1].0, vals[2].0), Type::Vec3))
            }
            _ => Err(Error::ty(span, format!("'{name}' cannot be used here"))),
        }
    }

    fn where_(&mut self, args: &[Expr], span: Span) -> Result<(Slot, Type), Error> {
        let ExprKind::Compare(op, l, r) = &args[0].kind else {
            return Err(Error::ty(
                args[0].span,
                "the first argument of where must be a comparison, e.g. where(J > 1, a, b)",
            ));
        };
        let (sl, tl) = self.expr(l)?;
        let (sr, tr) = self.expr(r)?;
        let Some(tc) = broadcast(tl, tr) else {
            return Err(Error::ty(
                args[0].span,
                format!(
                    "comparison '{}' needs the same shape or a scalar, got {tl} {} {tr}",
                    op.symbol(),
                    op.symbol()
                ),
            ));
        };
        let (sa, ta) = self.expr(&args[1])?;
        let (sb, tb) = self.expr(&args[2])?;
        let ty = broadcast(ta, tb).and_then(|t| broadcast(t, tc)).ok_or_else(|| {
            Error::ty(span, format!("where(cond, a, b) needs the condition and both branches to have the same shape or be scalars, got {tc} condition, {ta} and {tb}"))
        })?;
        Ok(self.emit(Op::Where(*op, [sl, sr, sa, sb], ty), ty))
    }
}
