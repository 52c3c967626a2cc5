//! Array code shared by the NumPy and PyTorch exports: every value carries leading batch
//! axes (a scalar has shape `(...)`, a vector `(..., 3)`, a matrix `(..., 3, 3)`), and a
//! scalar meeting a vector or a matrix is given trailing axes to broadcast.

use super::float_literal;
use super::typing::type_of;
use crate::ast::{BinOp, CmpOp, Expr, ExprKind};
use crate::types::Type;
use std::collections::HashMap;

/// The array library.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Backend {
    Numpy,
    Torch,
}

/// Python code of a value: its text, its type, and whether it is a plain Python number.
pub(crate) struct Code {
    pub(crate) text: String,
    pub(crate) ty: Type,
    pub(crate) number: bool,
}

/// Writes expressions of one law.
pub(crate) struct Emitter<'a> {
    pub(crate) backend: Backend,
    /// Types of the law's names.
    pub(crate) env: &'a HashMap<String, Type>,
    /// Python names of the law's names.
    pub(crate) names: &'a HashMap<String, String>,
    /// The Python name of the first input (for dtype and device in PyTorch).
    pub(crate) first_input: String,
}

fn axes(ty: Type) -> &'static str {
    match ty {
        Type::Scalar => "",
        Type::Vec3 => "-1",
        Type::Mat3 => "(-2, -1)",
    }
}

impl Emitter<'_> {
    fn lib(&self) -> &'static str {
        match self.backend {
            Backend::Numpy => "np",
            Backend::Torch => "torch",
        }
    }

    /// `c` broadcast against a value of type `to`.
    fn lift(&self, c: &Code, to: Type) -> String {
        if c.ty == to || c.number {
            return c.text.clone();
        }
        let tail = match to {
            Type::Mat3 => "[..., None, None]",
            Type::Vec3 => "[..., None]",
            Type::Scalar => "",
        };
        match self.backend {
            Backend::Numpy => format!("np.asarray({}){tail}", c.text),
            Backend::Torch => format!("{}{tail}", c.text),
        }
    }

    /// `c` as an array of the backend (Python numbers become tensors in PyTorch).
    fn tensor(&self, c: &Code) -> String {
        if c.number && self.backend == Backend::Torch {
            format!(
                "torch.as_tensor({}, dtype={f}.dtype, device={f}.device)",
                c.text,
                f = self.first_input
            )
        } else {
            c.text.clone()
        }
    }

    fn code(text: String, ty: Type, number: bool) -> Code {
        Code { text, ty, number }
    }

    /// The code of an expression.
    pub(crate) fn expr(&self, e: &Expr) -> Code {
        let ty = type_of(e, self.env);
        match &e.kind {
            ExprKind::Num(v) => Self::code(float_literal(*v), ty, true),
            ExprKind::Var(name) => match (self.names.get(name), name.as_str()) {
                (Some(n), _) => Self::code(n.clone(), ty, false),
                (None, "I") => Self::code("_I".to_string(), Type::Mat3, false),
                (None, "pi") => Self::code("math.pi".to_string(), Type::Scalar, true),
                (None, other) => Self::code(other.to_string(), ty, false),
            },
            ExprKind::Neg(a) => {
                let a = self.expr(a);
                Self::code(format!("(-{})", a.text), ty, a.number)
            }
            ExprKind::Binary(op, a, b) => {
                let (a, b) = (self.expr(a), self.expr(b));
                self.binary(*op, &a, &b, ty)
            }
            ExprKind::Compare(op, a, b) => {
                let (a, b) = (self.expr(a), self.expr(b));
                let text = format!(
                    "({} {} {})",
                    self.lift(&a, ty),
                    op.symbol(),
                    self.lift(&b, ty)
                );
                Self::code(text, ty, false)
            }
            ExprKind::Transpose(a) => {
                let a = self.expr(a);
                Self::code(self.transpose(&a.text), Type::Mat3, false)
            }
            ExprKind::Index(a, idx) => {
                let a = self.expr(a);
                let k = |i: i64| if i < 0 { i + 3 } else { i };
                let text = match (a.ty, idx.as_slice()) {
                    (Type::Mat3, [i, j]) => format!("{}[..., {}, {}]", a.text, k(*i), k(*j)),
                    (Type::Mat3, [i]) => format!("{}[..., {}, :]", a.text, k(*i)),
                    (_, [i]) => format!("{}[..., {}]", a.text, k(*i)),
                    _ => unreachable!("checked indices"),
                };
                Self::code(text, ty, false)
            }
            ExprKind::Call(name, args) => self.call(name, args, ty),
        }
    }

    fn transpose(&self, a: &str) -> String {
        match self.backend {
            Backend::Numpy => format!("np.swapaxes({a}, -1, -2)"),
            Backend::Torch => format!("{a}.transpose(-1, -2)"),
        }
    }

    fn binary(&self, op: BinOp, a: &Code, b: &Code, ty: Type) -> Code {
        if op == BinOp::MatMul {
            let (x, y) = (&a.text, &b.text);
            let lib = self.lib();
            let text = match (a.ty, b.ty) {
                (Type::Mat3, Type::Mat3) => format!("({x} @ {y})"),
                (Type::Mat3, _) => format!("{lib}.einsum('...ij,...j->...i', {x}, {y})"),
                (_, Type::Mat3) => format!("{lib}.einsum('...i,...ij->...j', {x}, {y})"),
                _ => self.reduce_sum(&format!("{x} * {y}"), Type::Vec3),
            };
            return Self::code(text, ty, false);
        }
        let (x, y) = (self.lift(a, ty), self.lift(b, ty));
        let number = a.number && b.number;
        let text = match op {
            BinOp::Add => format!("({x} + {y})"),
            BinOp::Sub => format!("({x} - {y})"),
            BinOp::Mul => format!("({x} * {y})"),
            BinOp::Div => format!("({x} / {y})"),
            BinOp::Pow if number => format!("_pow({x}, {y})"),
            BinOp::Pow => format!("({x} ** {y})"),
            BinOp::MatMul => unreachable!("handled above"),
        };
        Self::code(text, ty, number)
    }

    fn reduce_sum(&self, x: &str, over: Type) -> String {
        match self.backend {
            Backend::Numpy => format!("np.sum({x}, axis={})", axes(over)),
            Backend::Torch => format!("torch.sum({x}, dim={})", axes(over)),
        }
    }

    fn call(&self, name: &str, args: &[Expr], ty: Type) -> Code {
        if name == "where" {
            let ExprKind::Compare(op, l, r) = &args[0].kind else {
                unreachable!("checked where")
            };
            let (l, r) = (self.expr(l), self.expr(r));
            let (a, b) = (self.expr(&args[1]), self.expr(&args[2]));
            let cond = format!(
                "({} {} {})",
                self.tensor_lift(&l, ty),
                cmp_symbol(*op),
                self.tensor_lift(&r, ty)
            );
            let text = format!(
                "{}.where({cond}, {}, {})",
                self.lib(),
                self.tensor_lift(&a, ty),
                self.tensor_lift(&b, ty)
            );
            return Self::code(text, ty, false);
        }
        let c: Vec<Code> = args.iter().map(|a| self.expr(a)).collect();
        let lib = self.lib();
        let elementwise = |f: &str| -> Code {
            let a = &c[0];
            Self::code(format!("{lib}.{f}({})", self.tensor(a)), ty, false)
        };
        let arg = |k: usize| self.tensor(&c[k]);
        let text = match (name, c.len()) {
            ("exp" | "log" | "sqrt" | "abs" | "tanh" | "log1p" | "expm1" | "sin" | "cos", 1) => {
                return elementwise(name);
            }
            ("cbrt", 1) => match self.backend {
                Backend::Numpy => format!("np.cbrt({})", arg(0)),
                Backend::Torch => format!("_cbrt({})", arg(0)),
            },
            ("sigmoid", 1) => format!("_sigmoid({})", arg(0)),
            ("pow", 2) => return self.binary(BinOp::Pow, &c[0], &c[1], ty),
            ("min" | "max", 2) => format!(
                "_{name}({}, {})",
                self.tensor_lift(&c[0], ty),
                self.tensor_lift(&c[1], ty)
            ),
            ("clamp", 3) => format!(
                "_min(_max({}, {}), {})",
                self.tensor_lift(&c[0], ty),
                self.tensor_lift(&c[1], ty),
                self.tensor_lift(&c[2], ty)
            ),
            ("min" | "max", 1) => match self.backend {
                Backend::Numpy => format!("np.{name}({}, axis={})", c[0].text, axes(c[0].ty)),
                Backend::Torch => format!("torch.a{name}({}, dim={})", c[0].text, axes(c[0].ty)),
            },
            ("det", 1) => format!("_det({})", c[0].text),
            ("inv", 1) => format!("_inv({})", c[0].text),
            ("trace", 1) => match self.backend {
                Backend::Numpy => format!("np.trace({}, axis1=-2, axis2=-1)", c[0].text),
                Backend::Torch => {
                    format!("torch.diagonal({}, dim1=-2, dim2=-1).sum(-1)", c[0].text)
                }
            },
            ("transpose", 1) => self.transpose(&c[0].text),
            ("diag", 1) => format!("_diag({})", c[0].text),
            ("diagonal", 1) => match self.backend {
                Backend::Numpy => format!("np.diagonal({}, axis1=-2, axis2=-1)", c[0].text),
                Backend::Torch => format!("torch.diagonal({}, dim1=-2, dim2=-1)", c[0].text),
            },
            ("sum", 1) => self.reduce_sum(&c[0].text, c[0].ty),
            ("mean", 1) => format!(
                "({} / {})",
                self.reduce_sum(&c[0].text, c[0].ty),
                float_literal(c[0].ty.len() as f64)
            ),
            ("norm", 1) => format!(
                "{lib}.sqrt({})",
                self.reduce_sum(&format!("{x} * {x}", x = c[0].text), c[0].ty)
            ),
            ("prod", 1) => format!("({x}[..., 0] * {x}[..., 1] * {x}[..., 2])", x = c[0].text),
            ("dot", 2) => self.reduce_sum(&format!("{} * {}", c[0].text, c[1].text), c[0].ty),
            ("outer", 2) => format!(
                "({}[..., :, None] * {}[..., None, :])",
                c[0].text, c[1].text
            ),
            ("vec3", 3) => format!("_vec3({}, {}, {})", arg(0), arg(1), arg(2)),
            ("sym", 1) => format!(
                "(0.5 * ({x} + {}))",
                self.transpose(&c[0].text),
                x = c[0].text
            ),
            ("skew", 1) => format!(
                "(0.5 * ({x} - {}))",
                self.transpose(&c[0].text),
                x = c[0].text
            ),
            ("dev", 1) => {
                let tr = self.call("trace", &args[..1], Type::Scalar).text;
                let third = Self::code(format!("({tr} / 3.0)"), Type::Scalar, false);
                format!("({} - {} * _I)", c[0].text, self.lift(&third, Type::Mat3))
            }
            _ => unreachable!("checked call {name}"),
        };
        Self::code(text, ty, false)
    }

    /// Lifted to `ty` and made an array (for `where`, `min`, `max`).
    fn tensor_lift(&self, c: &Code, ty: Type) -> String {
        if c.number {
            self.tensor(c)
        } else {
            self.lift(c, ty)
        }
    }
}

fn cmp_symbol(op: CmpOp) -> &'static str {
    op.symbol()
}

/// Python code of the body of a law: one line per statement, then `return`. `ret_wrap`
/// turns the returned expression's code into the returned value.
pub(crate) fn body(
    e: &Emitter<'_>,
    program: &crate::ast::Program,
    indent: &str,
    ret_wrap: impl Fn(&str) -> String,
) -> String {
    let mut out = String::new();
    for s in &program.stmts {
        let names: Vec<String> = s
            .names
            .iter()
            .map(|n| {
                e.names
                    .get(&n.name)
                    .cloned()
                    .unwrap_or_else(|| n.name.clone())
            })
            .collect();
        let value = if s.names.len() > 1 {
            let ExprKind::Call(call, args) = &s.value.kind else {
                unreachable!("checked destructuring")
            };
            format!("_{call}({})", e.expr(&args[0]).text)
        } else {
            e.expr(&s.value).text
        };
        out.push_str(&format!("{indent}{} = {value}\n", names.join(", ")));
    }
    let ret = e.expr(&program.ret);
    out.push_str(&format!("{indent}return {}\n", ret_wrap(&ret.text)));
    out
}
