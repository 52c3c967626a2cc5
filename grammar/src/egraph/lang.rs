//! The e-graph language: one node per operator or built-in of the law language, with
//! let-bindings inlined and tuple outputs (`svd`, `polar`) as separate component nodes.
//!
//! Leaves are numbers ([`Num`]), inputs and parameters ([`Atom`], by position, never by
//! an interned symbol, so that the order of nodes never depends on what else the process
//! has interned) and the identity matrix `I`.

use crate::types::Type;
use egg::{Id, define_language};
use std::fmt;
use std::str::FromStr;

define_language! {
    /// A node of the e-graph form of a law. Children are e-class ids.
    ///
    /// Comparisons exist only inside `where`: `where-lt l r a b` is `where(l < r, a, b)`
    /// (`>` and `>=` are lowered by swapping `l` and `r`). Index nodes carry their
    /// constant indices as number children: `at v i`, `at2 A i j`, `row A i`. Each
    /// variant is named after the operator or built-in it stands for.
    #[allow(missing_docs)]
    pub enum Tensor {
        "+" = Add([Id; 2]),
        "-" = Sub([Id; 2]),
        "*" = Mul([Id; 2]),
        "/" = Div([Id; 2]),
        "pow" = Pow([Id; 2]),
        "neg" = Neg(Id),
        "@" = MatMul([Id; 2]),
        "T" = Transpose(Id),
        "exp" = Exp(Id),
        "log" = Log(Id),
        "sqrt" = Sqrt(Id),
        "cbrt" = Cbrt(Id),
        "abs" = Abs(Id),
        "sigmoid" = Sigmoid(Id),
        "tanh" = Tanh(Id),
        "log1p" = Log1p(Id),
        "expm1" = Expm1(Id),
        "sin" = Sin(Id),
        "cos" = Cos(Id),
        "min" = Min([Id; 2]),
        "max" = Max([Id; 2]),
        "clamp" = Clamp([Id; 3]),
        "where-lt" = WhereLt([Id; 4]),
        "where-le" = WhereLe([Id; 4]),
        "where-eq" = WhereEq([Id; 4]),
        "where-ne" = WhereNe([Id; 4]),
        "det" = Det(Id),
        "inv" = Inv(Id),
        "trace" = Trace(Id),
        "diag" = Diag(Id),
        "diagonal" = Diagonal(Id),
        "sum" = Sum(Id),
        "prod" = Prod(Id),
        "mean" = Mean(Id),
        "norm" = Norm(Id),
        "dot" = Dot([Id; 2]),
        "outer" = Outer([Id; 2]),
        "vec3" = Vec3([Id; 3]),
        "sym" = Sym(Id),
        "skew" = Skew(Id),
        "dev" = Dev(Id),
        "min1" = ReduceMin(Id),
        "max1" = ReduceMax(Id),
        "svd-u" = SvdU(Id),
        "svd-s" = SvdS(Id),
        "svd-vh" = SvdVh(Id),
        "polar-r" = PolarR(Id),
        "polar-s" = PolarS(Id),
        "at" = At([Id; 2]),
        "at2" = At2([Id; 3]),
        "row" = Row([Id; 2]),
        "I" = Identity,
        Num(Num),
        Atom(Atom),
    }
}

/// A finite number literal, ordered and hashed by its bits (`-0` is stored as `0`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Num(u64);

impl Num {
    /// The number, or `None` when `v` is not finite.
    pub fn new(v: f64) -> Option<Num> {
        v.is_finite()
            .then(|| Num(if v == 0.0 { 0.0f64 } else { v }.to_bits()))
    }

    /// The value.
    pub fn value(self) -> f64 {
        f64::from_bits(self.0)
    }
}

impl PartialOrd for Num {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Num {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.value().total_cmp(&other.value())
    }
}

impl fmt::Debug for Num {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Num {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::print::number(self.value()))
    }
}

impl FromStr for Num {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // Only number-looking tokens (not "inf" or "NaN", which f64 would accept).
        if !s
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_digit() || b == b'-' || b == b'.')
        {
            return Err(());
        }
        s.parse::<f64>().ok().and_then(Num::new).ok_or(())
    }
}

/// An input of the task signature, a parameter, or a frozen binding, by position
/// (`x0`, `p0`, `l0`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Atom {
    /// Input `k` of the signature.
    Input(u16),
    /// Parameter `k` in declaration order.
    Param(u16),
    /// A binding that depends only on parameters, kept opaque (see [`Atoms::lets`]).
    Let(u16),
}

impl fmt::Display for Atom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Atom::Input(k) => write!(f, "x{k}"),
            Atom::Param(k) => write!(f, "p{k}"),
            Atom::Let(k) => write!(f, "l{k}"),
        }
    }
}

/// What is known about the atoms of one law: the input types, and the frozen bindings.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Atoms {
    /// Type of each input of the signature, by position.
    pub inputs: Vec<Type>,
    /// Frozen bindings, by position: named bindings that depend only on parameters
    /// (`mu = E / (2 * (1 + nu))`), kept as opaque atoms when a law is simplified for
    /// display, so that the simplified law keeps them.
    pub lets: Vec<LetAtom>,
}

/// A frozen binding as an atom.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LetAtom {
    /// Its type.
    pub ty: Type,
    /// Whether every entry is known to be strictly positive.
    pub positive: bool,
    /// Its complexity (the size of its definition written out): what one use costs.
    pub weight: u64,
}

impl Atoms {
    /// The type of an atom (`None` for an unknown position).
    pub fn ty(&self, a: Atom) -> Option<Type> {
        match a {
            Atom::Input(k) => self.inputs.get(k as usize).copied(),
            Atom::Param(_) => Some(Type::Scalar),
            Atom::Let(k) => self.lets.get(k as usize).map(|l| l.ty),
        }
    }

    /// The complexity of one use of an atom.
    pub fn weight(&self, a: Atom) -> u64 {
        match a {
            Atom::Let(k) => self.lets.get(k as usize).map_or(1, |l| l.weight),
            _ => 1,
        }
    }

    /// Whether an atom is known to be strictly positive.
    pub fn positive(&self, a: Atom) -> bool {
        matches!(a, Atom::Let(k) if self.lets.get(k as usize).is_some_and(|l| l.positive))
    }
}

impl FromStr for Atom {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (kind, k) = s.split_at_checked(1).ok_or(())?;
        let k: u16 = k.parse().map_err(|_| ())?;
        match kind {
            "x" => Ok(Atom::Input(k)),
            "p" => Ok(Atom::Param(k)),
            "l" => Ok(Atom::Let(k)),
            _ => Err(()),
        }
    }
}

/// Same shape, or one side a scalar (NumPy broadcasting restricted to the language).
pub(crate) fn broadcast(a: Type, b: Type) -> Option<Type> {
    match (a, b) {
        _ if a == b => Some(a),
        (Type::Scalar, x) | (x, Type::Scalar) => Some(x),
        _ => None,
    }
}

/// The shape of `node` from the shapes of its children (`None`: ill-typed), by the
/// typing rules of the checker.
pub fn shape_of(node: &Tensor, child: impl Fn(Id) -> Option<Type>, atoms: &Atoms) -> Option<Type> {
    use Type::{Mat3 as M, Scalar as S, Vec3 as V};
    let one = |a: Id, need: Type, out: Type| (child(a)? == need).then_some(out);
    let reduce = |a: Id| matches!(child(a)?, V | M).then_some(S);
    Some(match node {
        Tensor::Add([a, b])
        | Tensor::Sub([a, b])
        | Tensor::Mul([a, b])
        | Tensor::Div([a, b])
        | Tensor::Pow([a, b])
        | Tensor::Min([a, b])
        | Tensor::Max([a, b]) => broadcast(child(*a)?, child(*b)?)?,
        Tensor::Neg(a)
        | Tensor::Exp(a)
        | Tensor::Log(a)
        | Tensor::Sqrt(a)
        | Tensor::Cbrt(a)
        | Tensor::Abs(a)
        | Tensor::Sigmoid(a)
        | Tensor::Tanh(a)
        | Tensor::Log1p(a)
        | Tensor::Expm1(a)
        | Tensor::Sin(a)
        | Tensor::Cos(a) => child(*a)?,
        Tensor::Clamp([x, lo, hi]) => broadcast(broadcast(child(*x)?, child(*lo)?)?, child(*hi)?)?,
        Tensor::WhereLt([l, r, a, b])
        | Tensor::WhereLe([l, r, a, b])
        | Tensor::WhereEq([l, r, a, b])
        | Tensor::WhereNe([l, r, a, b]) => {
            let c = broadcast(child(*l)?, child(*r)?)?;
            broadcast(broadcast(child(*a)?, child(*b)?)?, c)?
        }
        Tensor::MatMul([a, b]) => match (child(*a)?, child(*b)?) {
            (M, M) => M,
            (M, V) | (V, M) => V,
            (V, V) => S,
            _ => return None,
        },
        Tensor::Transpose(a)
        | Tensor::Inv(a)
        | Tensor::Sym(a)
        | Tensor::Skew(a)
        | Tensor::Dev(a)
        | Tensor::SvdU(a)
        | Tensor::SvdVh(a)
        | Tensor::PolarR(a)
        | Tensor::PolarS(a) => one(*a, M, M)?,
        Tensor::Det(a) | Tensor::Trace(a) => one(*a, M, S)?,
        Tensor::Diag(a) => one(*a, V, M)?,
        Tensor::Diagonal(a) | Tensor::SvdS(a) => one(*a, M, V)?,
        Tensor::Prod(a) => one(*a, V, S)?,
        Tensor::Sum(a)
        | Tensor::Mean(a)
        | Tensor::Norm(a)
        | Tensor::ReduceMin(a)
        | Tensor::ReduceMax(a) => reduce(*a)?,
        Tensor::Dot([a, b]) => {
            let (ta, tb) = (child(*a)?, child(*b)?);
            (ta == tb && ta != S).then_some(S)?
        }
        Tensor::Outer([a, b]) => (child(*a)? == V && child(*b)? == V).then_some(M)?,
        Tensor::Vec3([a, b, c]) => {
            (child(*a)? == S && child(*b)? == S && child(*c)? == S).then_some(V)?
        }
        Tensor::At([v, i]) => (child(*v)? == V && child(*i)? == S).then_some(S)?,
        Tensor::At2([m, i, j]) => {
            (child(*m)? == M && child(*i)? == S && child(*j)? == S).then_some(S)?
        }
        Tensor::Row([m, i]) => (child(*m)? == M && child(*i)? == S).then_some(V)?,
        Tensor::Identity => M,
        Tensor::Num(_) => S,
        Tensor::Atom(a) => atoms.ty(*a)?,
    })
}

/// True for the nodes whose operands may be swapped (elementwise `+ *`, `min`, `max`,
/// `dot`, and the comparison operands of `==` and `!=`).
pub(crate) fn is_commutative(node: &Tensor) -> bool {
    matches!(
        node,
        Tensor::Add(_) | Tensor::Mul(_) | Tensor::Min(_) | Tensor::Max(_) | Tensor::Dot(_)
    )
}

/// A hash of the operator name (or the leaf text), for structural keys: stable across
/// runs, builds and platforms, and computed without allocating.
pub(crate) fn tag(node: &Tensor) -> u64 {
    use std::fmt::Write;
    let mut h = crate::egraph::canonical::Fnv::default();
    let _ = write!(h, "{node}");
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use egg::RecExpr;

    #[test]
    fn parses_and_prints_s_expressions() {
        let e: RecExpr<Tensor> = "(+ (@ x0 (T x0)) (* p1 (log (det x0))))".parse().unwrap();
        assert_eq!(e.to_string(), "(+ (@ x0 (T x0)) (* p1 (log (det x0))))");
        let n: RecExpr<Tensor> = "(* -0.5 I)".parse().unwrap();
        assert_eq!(n.to_string(), "(* -0.5 I)");
        assert!("inf".parse::<Num>().is_err());
        assert_eq!(Num::new(-0.0), Num::new(0.0));
    }
}
