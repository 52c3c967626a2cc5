//! The abstract syntax tree. Every node carries a [`Span`]; spans are ignored by equality.

use crate::span::Span;

/// A whole law: parameter declarations, bindings in order, and the final return.
///
/// Its `Display` is the canonical form (see `GRAMMAR.md`).
#[derive(Clone, Debug, PartialEq)]
pub struct Program {
    /// `param NAME = VALUE` declarations, in declaration order.
    pub params: Vec<Param>,
    /// Bindings `x = expr` and destructurings `U, sigma, Vh = svd(F)`, in order.
    pub stmts: Vec<Stmt>,
    /// The expression after `return`.
    pub ret: Expr,
    /// Where `return` is.
    pub ret_span: Span,
}

impl Program {
    /// Parameter names and default values in declaration order.
    pub fn params(&self) -> Vec<(String, f64)> {
        self.params
            .iter()
            .map(|p| (p.name.clone(), p.value))
            .collect()
    }
}

/// `param NAME = VALUE`: a continuous unknown with its default (initial) value.
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    /// The name.
    pub name: String,
    /// The default value (finite).
    pub value: f64,
    /// Where the declaration starts.
    pub span: Span,
}

/// A binding statement: `names = value`, one name or a destructuring of a tuple-valued
/// call (`svd`, `polar`). A name `_` discards that component.
#[derive(Clone, Debug, PartialEq)]
pub struct Stmt {
    /// The bound names (one, or several for a destructuring).
    pub names: Vec<Name>,
    /// The bound expression.
    pub value: Expr,
    /// Where the statement starts.
    pub span: Span,
}

/// A name with its position.
#[derive(Clone, Debug, PartialEq)]
pub struct Name {
    /// The identifier.
    pub name: String,
    /// Where it is.
    pub span: Span,
}

/// An expression node.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    /// What the node is.
    pub kind: ExprKind,
    /// Where the node starts (for operators: where the operator is).
    pub span: Span,
}

/// The kinds of expression.
#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// A non-negative number literal (a negative constant is `Neg(Num)`).
    Num(f64),
    /// A name: input, parameter, binding or constant (`I`, `pi`).
    Var(String),
    /// `-x`.
    Neg(Box<Expr>),
    /// A binary operator.
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// A comparison; only valid as the first argument of `where`.
    Compare(CmpOp, Box<Expr>, Box<Expr>),
    /// A function call `name(args)`.
    Call(String, Vec<Expr>),
    /// `x.T`.
    Transpose(Box<Expr>),
    /// `x[i]` or `x[i, j]` with constant (possibly negative) indices.
    Index(Box<Expr>, Vec<i64>),
}

impl Expr {
    /// A node at `span`.
    pub fn new(kind: ExprKind, span: Span) -> Self {
        Expr { kind, span }
    }

    /// Number of nodes in this expression tree.
    pub fn size(&self) -> usize {
        1 + match &self.kind {
            ExprKind::Num(_) | ExprKind::Var(_) => 0,
            ExprKind::Neg(a) | ExprKind::Transpose(a) | ExprKind::Index(a, _) => a.size(),
            ExprKind::Binary(_, a, b) | ExprKind::Compare(_, a, b) => a.size() + b.size(),
            ExprKind::Call(_, args) => args.iter().map(Expr::size).sum(),
        }
    }
}

/// Binary operators (all elementwise with scalar broadcasting, except `@`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*` (elementwise)
    Mul,
    /// `/` (elementwise)
    Div,
    /// `@` (matrix product)
    MatMul,
    /// `**` (elementwise power)
    Pow,
}

impl BinOp {
    /// The operator's text.
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::MatMul => "@",
            BinOp::Pow => "**",
        }
    }
}

/// Comparison operators (on real parts; they select, never differentiate).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CmpOp {
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `==`
    Eq,
    /// `!=`
    Ne,
}

impl CmpOp {
    /// The operator's text.
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
        }
    }

    /// Applies the comparison to two reals.
    pub fn test(self, a: f64, b: f64) -> bool {
        match self {
            CmpOp::Lt => a < b,
            CmpOp::Le => a <= b,
            CmpOp::Gt => a > b,
            CmpOp::Ge => a >= b,
            CmpOp::Eq => a == b,
            CmpOp::Ne => a != b,
        }
    }
}
