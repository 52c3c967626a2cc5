//! The type checker: resolves names, infers the type of every expression against a task
//! [`Signature`], reports mismatches with both types, and lowers the program to the flat
//! instruction list of a [`Compiled`] program in the same walk. Only a checked program can
//! be compiled, so type errors are reported, never evaluated.

mod calls;

use crate::ast::{BinOp, Expr, ExprKind, Program};
use crate::builder::Builder;
use crate::builtins;
use crate::compiled::Compiled;
use crate::error::{Error, ErrorKind};
use crate::ops::{Bin, Op, Shape1, Slot, Un};
use crate::span::Span;
use crate::types::{Signature, Type};
use crate::value::Value;
use std::collections::HashMap;

/// What introduced a name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BindingKind {
    /// An input of the task signature.
    Input,
    /// A `param` declaration.
    Param,
    /// A binding `x = ...` or a destructured component.
    Let,
}

/// A name and its inferred type.
#[derive(Clone, Debug, PartialEq)]
pub struct Binding {
    /// The name.
    pub name: String,
    /// Its type.
    pub ty: Type,
    /// What introduced it.
    pub kind: BindingKind,
    /// Where it was introduced (line 0 for inputs).
    pub span: Span,
}

/// A program that passed the type checker, with the inferred types and its compiled form.
#[derive(Clone, Debug)]
pub struct CheckedProgram {
    program: Program,
    signature: Signature,
    bindings: Vec<Binding>,
    return_type: Type,
    compiled: Compiled,
}

impl CheckedProgram {
    /// The program (its `Display` is the canonical form).
    pub fn program(&self) -> &Program {
        &self.program
    }

    /// The signature it was checked against.
    pub fn signature(&self) -> &Signature {
        &self.signature
    }

    /// Inputs, parameters and bindings with their inferred types, in order.
    pub fn bindings(&self) -> &[Binding] {
        &self.bindings
    }

    /// The type of the returned expression (equal to the signature's output).
    pub fn return_type(&self) -> Type {
        self.return_type
    }

    /// Parameter names and default values in declaration order.
    pub fn params(&self) -> Vec<(String, f64)> {
        self.program.params()
    }

    /// The compiled program, ready to evaluate.
    pub fn compiled(&self) -> &Compiled {
        &self.compiled
    }

    /// Consumes the checked program, keeping the compiled form.
    pub fn into_compiled(self) -> Compiled {
        self.compiled
    }
}

/// Type-checks `program` against `signature` and compiles it.
///
/// ```
/// use ansatz_grammar::{check, parse, Signature, Type};
/// let p = parse("J = det(F)\nreturn (J - 1) * I").unwrap();
/// let checked = check(&p, &Signature::elastic()).unwrap();
/// assert_eq!(checked.bindings().last().unwrap().ty, Type::Scalar);
/// let e = check(&parse("return F @ sum(F)").unwrap(), &Signature::elastic()).unwrap_err();
/// assert!(e.to_string().contains("got mat3 @ scalar"));
/// ```
pub fn check(program: &Program, signature: &Signature) -> Result<CheckedProgram, Error> {
    // Programs built in code (mutations) may be deeper than the parser allows; the checker
    // recurses, so refuse them here with an iterative measure instead of overflowing the stack.
    let exprs = program
        .stmts
        .iter()
        .map(|s| &s.value)
        .chain(std::iter::once(&program.ret));
    for e in exprs {
        if let Some(span) = too_deep(e, MAX_CHECK_HEIGHT) {
            return Err(Error::new(
                ErrorKind::Limit,
                span,
                format!(
                    "expression nested more than {MAX_CHECK_HEIGHT} levels deep; split it into named steps"
                ),
            ));
        }
    }
    let mut c = Checker {
        b: Builder::default(),
        env: HashMap::new(),
        bindings: Vec::new(),
        later: HashMap::new(),
    };
    for s in &program.stmts {
        for n in &s.names {
            c.later.entry(n.name.clone()).or_insert(n.span);
        }
    }
    for (k, (name, ty)) in signature.inputs.iter().enumerate() {
        let slot = c.b.emit(Op::Input(k), *ty);
        c.bind(name, *ty, BindingKind::Input, Span::default(), slot);
    }
    for (k, p) in program.params.iter().enumerate() {
        c.check_new_name(&p.name, p.span, signature)?;
        let slot = c.b.emit(Op::Param(k), Type::Scalar);
        c.bind(&p.name, Type::Scalar, BindingKind::Param, p.span, slot);
    }
    for s in &program.stmts {
        for n in s.names.iter().filter(|n| n.name != "_") {
            c.check_new_name(&n.name, n.span, signature)?;
        }
        if s.names.len() == 1 {
            let (slot, ty) = c.expr(&s.value)?;
            if s.names[0].name != "_" {
                c.bind(
                    &s.names[0].name,
                    ty,
                    BindingKind::Let,
                    s.names[0].span,
                    slot,
                );
            }
        } else {
            let (first, tys) = c.tuple(&s.value, s.names.len())?;
            for (k, n) in s.names.iter().enumerate() {
                if n.name != "_" {
                    c.bind(&n.name, tys[k], BindingKind::Let, n.span, first + k as Slot);
                }
            }
        }
    }
    let (ret, ty) = c.expr(&program.ret)?;
    if ty != signature.output {
        let hint = if ty == Type::Vec3 && signature.output == Type::Mat3 {
            vector_in_product(program, &c.bindings)
                .map(|name| {
                    format!(
                        "; `{name}` is vec3, so the product gives a vector: write \
                         diag({name}) to use it as a matrix (U @ diag({name}) @ Vh)"
                    )
                })
                .unwrap_or_default()
        } else {
            String::new()
        };
        return Err(Error::ty(
            program.ret.span,
            format!(
                "the program returns {ty} but the task signature `{signature}` needs {}{hint}",
                signature.output
            ),
        ));
    }
    let defaults = program.params.iter().map(|p| p.value).collect();
    let names = program.params.iter().map(|p| p.name.clone()).collect();
    let code = c.b.finish(ret);
    let compiled = Compiled::new(code, signature.clone(), names, defaults);
    Ok(CheckedProgram {
        program: program.clone(),
        signature: signature.clone(),
        bindings: c.bindings,
        return_type: ty,
        compiled,
    })
}

/// A vec3 name used as an operand of `@` in the program (the likely slip when a matrix
/// was meant: `U @ sigma @ Vh` with `sigma` from `svd`).
fn vector_in_product(program: &Program, bindings: &[Binding]) -> Option<String> {
    let is_vec3 = |name: &str| {
        bindings
            .iter()
            .rev()
            .find(|b| b.name == name)
            .is_some_and(|b| b.ty == Type::Vec3)
    };
    let exprs = program
        .stmts
        .iter()
        .map(|s| &s.value)
        .chain(std::iter::once(&program.ret));
    for e in exprs {
        let mut stack = vec![e];
        while let Some(e) = stack.pop() {
            match &e.kind {
                ExprKind::Binary(BinOp::MatMul, a, b) => {
                    for side in [a, b] {
                        if let ExprKind::Var(n) = &side.kind
                            && is_vec3(n)
                        {
                            return Some(n.clone());
                        }
                    }
                    stack.push(a);
                    stack.push(b);
                }
                ExprKind::Num(_) | ExprKind::Var(_) => {}
                ExprKind::Neg(a) | ExprKind::Transpose(a) | ExprKind::Index(a, _) => stack.push(a),
                ExprKind::Binary(_, a, b) | ExprKind::Compare(_, a, b) => {
                    stack.push(a);
                    stack.push(b);
                }
                ExprKind::Call(_, args) => stack.extend(args.iter()),
            }
        }
    }
    None
}

/// Largest expression height the checker accepts (the parser stops at 48 by default).
const MAX_CHECK_HEIGHT: usize = 256;

/// The span of a node deeper than `limit`, found without recursion.
fn too_deep(e: &Expr, limit: usize) -> Option<Span> {
    let mut stack = vec![(e, 1usize)];
    while let Some((e, h)) = stack.pop() {
        if h > limit {
            return Some(e.span);
        }
        match &e.kind {
            ExprKind::Num(_) | ExprKind::Var(_) => {}
            ExprKind::Neg(a) | ExprKind::Transpose(a) | ExprKind::Index(a, _) => {
                stack.push((a, h + 1))
            }
            ExprKind::Binary(_, a, b) | ExprKind::Compare(_, a, b) => {
                stack.push((a, h + 1));
                stack.push((b, h + 1));
            }
            ExprKind::Call(_, args) => stack.extend(args.iter().map(|a| (a, h + 1))),
        }
    }
    None
}

struct Checker {
    b: Builder,
    env: HashMap<String, (Slot, Type, Span, BindingKind)>,
    bindings: Vec<Binding>,
    later: HashMap<String, Span>,
}

fn broadcast(a: Type, b: Type) -> Option<Type> {
    match (a, b) {
        _ if a == b => Some(a),
        (Type::Scalar, x) | (x, Type::Scalar) => Some(x),
        _ => None,
    }
}

impl Checker {
    fn bind(&mut self, name: &str, ty: Type, kind: BindingKind, span: Span, slot: Slot) {
        self.env.insert(name.to_string(), (slot, ty, span, kind));
        self.bindings.push(Binding {
            name: name.to_string(),
            ty,
            kind,
            span,
        });
    }

    fn check_new_name(&self, name: &str, span: Span, sig: &Signature) -> Result<(), Error> {
        if sig.inputs.iter().any(|(n, _)| n == name) {
            return Err(Error::name(
                span,
                format!("'{name}' is the task input and cannot be rebound; choose another name"),
            ));
        }
        if builtins::function(name).is_some() {
            return Err(Error::name(
                span,
                format!("'{name}' is a built-in function; choose another name"),
            ));
        }
        if builtins::CONSTANTS.contains(&name) {
            return Err(Error::name(
                span,
                format!("'{name}' is a built-in constant; choose another name"),
            ));
        }
        if let Some((_, _, at, _)) = self.env.get(name) {
            return Err(Error::name(
                span,
                format!(
                    "'{name}' is already bound at line {}; every name is bound once, choose a new name (e.g. {name}2)",
                    at.line
                ),
            ));
        }
        Ok(())
    }

    fn emit(&mut self, op: Op, ty: Type) -> (Slot, Type) {
        (self.b.emit(op, ty), ty)
    }

    fn expr(&mut self, e: &Expr) -> Result<(Slot, Type), Error> {
        match &e.kind {
            ExprKind::Num(v) => Ok(self.emit(Op::Const(Value::Scalar(*v)), Type::Scalar)),
            ExprKind::Var(name) => self.var(name, e.span),
            ExprKind::Neg(a) => {
                let (s, t) = self.expr(a)?;
                Ok(self.emit(Op::Unary(Un::Neg, s), t))
            }
            ExprKind::Binary(op, a, b) => {
                let (sa, ta) = self.expr(a)?;
                let (sb, tb) = self.expr(b)?;
                self.binary(*op, (sa, ta), (sb, tb), e.span)
            }
            ExprKind::Compare(op, ..) => Err(Error::ty(
                e.span,
                format!(
                    "comparison '{}' is only allowed as the first argument of where(cond, a, b)",
                    op.symbol()
                ),
            )),
            ExprKind::Call(name, args) => self.call(name, args, e.span),
            ExprKind::Transpose(a) => {
                let (s, t) = self.expr(a)?;
                if t != Type::Mat3 {
                    return Err(Error::ty(e.span, format!("'.T' needs a mat3, got {t}")));
                }
                Ok(self.emit(Op::Shape(Shape1::Transpose, s), Type::Mat3))
            }
            ExprKind::Index(a, idx) => {
                let (s, t) = self.expr(a)?;
                let norm = |i: i64| -> Result<usize, Error> {
                    let k = if i < 0 { i + 3 } else { i };
                    if (0..3).contains(&k) {
                        Ok(k as usize)
                    } else {
                        Err(Error::ty(
                            e.span,
                            format!(
                                "index {i} is out of range for {t} (use 0, 1, 2 or -1, -2, -3)"
                            ),
                        ))
                    }
                };
                match (t, idx.as_slice()) {
                    (Type::Vec3, [i]) => Ok(self.emit(Op::Entry(s, norm(*i)?), Type::Scalar)),
                    (Type::Mat3, [i]) => Ok(self.emit(Op::Row(s, norm(*i)?), Type::Vec3)),
                    (Type::Mat3, [i, j]) => {
                        Ok(self.emit(Op::Entry(s, norm(*i)? + 3 * norm(*j)?), Type::Scalar))
                    }
                    _ => Err(Error::ty(
                        e.span,
                        format!("{t} cannot be indexed with {} indices", idx.len()),
                    )),
                }
            }
        }
    }

    fn var(&mut self, name: &str, span: Span) -> Result<(Slot, Type), Error> {
        if let Some((slot, ty, ..)) = self.env.get(name) {
            return Ok((*slot, *ty));
        }
        match name {
            "I" => {
                return Ok(self.emit(
                    Op::Const(Value::Mat3(nalgebra::Matrix3::identity())),
                    Type::Mat3,
                ));
            }
            "pi" => {
                return Ok(self.emit(Op::Const(Value::Scalar(std::f64::consts::PI)), Type::Scalar));
            }
            _ => {}
        }
        if let Some(at) = self.later.get(name) {
            return Err(Error::name(
                span,
                format!(
                    "'{name}' is used before it is bound (at line {}); move its binding up",
                    at.line
                ),
            ));
        }
        if builtins::function(name).is_some() {
            return Err(Error::name(
                span,
                format!("'{name}' is a function; call it: {name}(...)"),
            ));
        }
        let message = match name {
            "self" => "unknown name 'self': there is no self; declare parameters with `param NAME = VALUE`".to_string(),
            "torch" | "np" | "numpy" | "math" => format!("unknown name '{name}': the language has no modules; functions are built in"),
            "e" => "unknown name 'e': write exp(1) for Euler's number".to_string(),
            "sigma" | "U" | "Vh" | "V" | "S" | "s" => format!("unknown name '{name}': get the signed SVD with U, sigma, Vh = svd(F)"),
            "R" => "unknown name 'R': get the rotation with R, S = polar(F)".to_string(),
            "J" => "unknown name 'J': bind it first, e.g. J = det(F)".to_string(),
            "x" | "F_" | "def_grad" | "deformation_gradient" => format!("unknown name '{name}': the input is named F"),
            _ => {
                let names: Vec<&str> = self.env.keys().map(String::as_str).collect();
                let suggestion = builtins::closest(name, names.iter().copied().chain(builtins::CONSTANTS.iter().copied()));
                match suggestion {
                    Some(s) => format!("unknown name '{name}' (did you mean '{s}'?)"),
                    None => format!("unknown name '{name}'; bind it first (`{name} = ...`) or declare `param {name} = VALUE`"),
                }
            }
        };
        Err(Error::name(span, message))
    }

    fn binary(
        &mut self,
        op: BinOp,
        (sa, ta): (Slot, Type),
        (sb, tb): (Slot, Type),
        span: Span,
    ) -> Result<(Slot, Type), Error> {
        if op == BinOp::MatMul {
            let ty = match (ta, tb) {
                (Type::Mat3, Type::Mat3) => Type::Mat3,
                (Type::Mat3, Type::Vec3) | (Type::Vec3, Type::Mat3) => Type::Vec3,
                (Type::Vec3, Type::Vec3) => Type::Scalar,
                _ => {
                    let hint = if ta == Type::Scalar || tb == Type::Scalar {
                        "; use * to scale by a scalar"
                    } else {
                        ""
                    };
                    return Err(Error::ty(
                        span,
                        format!(
                            "'@' needs mat3 @ mat3, mat3 @ vec3, vec3 @ mat3 or vec3 @ vec3, got {ta} @ {tb}{hint}"
                        ),
                    ));
                }
            };
            return Ok(self.emit(Op::MatMul(sa, sb), ty));
        }
        let Some(ty) = broadcast(ta, tb) else {
            let hint = if op == BinOp::Mul && ta == Type::Mat3 && tb == Type::Vec3 {
                "; use @ for a matrix-vector product"
            } else {
                ""
            };
            return Err(Error::ty(
                span,
                format!(
                    "'{}' needs operands of the same shape or a scalar, got {ta} {} {tb}{hint}",
                    op.symbol(),
                    op.symbol()
                ),
            ));
        };
        if op == BinOp::Pow
            && let Some(Value::Scalar(c)) = self.b.constant(sb)
        {
            return Ok(self.emit(Op::PowConst(sa, c), ty));
        }
        let f = match op {
            BinOp::Add => Bin::Add,
            BinOp::Sub => Bin::Sub,
            BinOp::Mul => Bin::Mul,
            BinOp::Div => Bin::Div,
            BinOp::Pow | BinOp::MatMul => Bin::Pow,
        };
        Ok(self.emit(Op::Binary(f, sa, sb), ty))
    }

    /// A call whose result is a tuple, destructured into `n` names.
    fn tuple(&mut self, e: &Expr, n: usize) -> Result<(Slot, Vec<Type>), Error> {
        let (name, args) = match &e.kind {
            ExprKind::Call(name, args) if name == "svd" || name == "polar" => (name.as_str(), args),
            _ => {
                return Err(Error::ty(
                    e.span,
                    format!(
                        "{n} names but one value: only svd(A) (3 values) and polar(A) (2 values) can be destructured"
                    ),
                ));
            }
        };
        let (tys, usage): (Vec<Type>, &str) = if name == "svd" {
            (
                vec![Type::Mat3, Type::Vec3, Type::Mat3],
                "U, sigma, Vh = svd(F)",
            )
        } else {
            (vec![Type::Mat3, Type::Mat3], "R, S = polar(F)")
        };
        if tys.len() != n {
            return Err(Error::ty(
                e.span,
                format!(
                    "{name} returns {} values but {n} names are given; write {usage}",
                    tys.len()
                ),
            ));
        }
        if args.len() != 1 {
            return Err(Error::ty(
                e.span,
                format!(
                    "{name} takes 1 argument (a mat3), got {}; write {usage}",
                    args.len()
                ),
            ));
        }
        let (s, t) = self.expr(&args[0])?;
        if t != Type::Mat3 {
            return Err(Error::ty(
                args[0].span,
                format!("{name} needs a mat3 argument, got {t}"),
            ));
        }
        let op = if name == "svd" {
            Op::Svd(s)
        } else {
            Op::Polar(s)
        };
        Ok((self.b.emit_multi(op, &tys), tys))
    }
}
