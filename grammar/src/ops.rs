//! The flat instruction set a checked program compiles to, and what each instruction
//! computes. Unary functions apply their exact derivative through [`Real::chain`];
//! selections (`min`, `max`, `clamp`, `where`) compare real parts and pass on the
//! derivative of the selected branch.

use crate::ast::CmpOp;
use crate::types::Type;
use crate::value::Value;
use ansatz_linalg::{Real, SvdMethod, det3, inv3, mul3, trace3};
use nalgebra::{Matrix3, Vector3};

/// A slot index in the scratch buffer.
pub(crate) type Slot = u32;

/// Elementwise unary functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Un {
    Neg,
    Exp,
    Log,
    Sqrt,
    Cbrt,
    Abs,
    Sigmoid,
    Tanh,
    Log1p,
    Expm1,
    Sin,
    Cos,
}

/// Elementwise binary functions (scalar broadcasting).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Bin {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
    Min,
    Max,
}

/// Structural (shape-changing) one-argument operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Shape1 {
    Transpose,
    Det,
    Inv,
    Trace,
    Diag,
    Diagonal,
    Sum,
    Prod,
    Mean,
    Norm,
    Sym,
    Skew,
    Dev,
    ReduceMin,
    ReduceMax,
}

/// One instruction: reads slots, writes slot `dst` (and the next ones for `Svd`/`Polar`).
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Op {
    Input(usize),
    Param(usize),
    Const(Value<f64>),
    Unary(Un, Slot),
    PowConst(Slot, f64),
    Binary(Bin, Slot, Slot),
    Clamp(Slot, Slot, Slot),
    /// `where(l cmp r, a, b)` with the result type.
    Where(CmpOp, [Slot; 4], Type),
    MatMul(Slot, Slot),
    Shape(Shape1, Slot),
    Dot(Slot, Slot),
    Outer(Slot, Slot),
    Vec3(Slot, Slot, Slot),
    /// Entry `k` (column-major) of a vector or matrix.
    Entry(Slot, usize),
    /// Row `i` of a matrix.
    Row(Slot, usize),
    /// `U, sigma, Vh` into `dst, dst + 1, dst + 2`.
    Svd(Slot),
    /// `R, S` into `dst, dst + 1`.
    Polar(Slot),
}

impl Op {
    /// The slots this instruction reads.
    pub(crate) fn reads(&self) -> Vec<Slot> {
        match self {
            Op::Input(_) | Op::Param(_) | Op::Const(_) => vec![],
            Op::Unary(_, a)
            | Op::PowConst(a, _)
            | Op::Shape(_, a)
            | Op::Entry(a, _)
            | Op::Row(a, _)
            | Op::Svd(a)
            | Op::Polar(a) => vec![*a],
            Op::Binary(_, a, b) | Op::MatMul(a, b) | Op::Dot(a, b) | Op::Outer(a, b) => {
                vec![*a, *b]
            }
            Op::Clamp(a, b, c) | Op::Vec3(a, b, c) => vec![*a, *b, *c],
            Op::Where(_, s, _) => s.to_vec(),
        }
    }

    /// How many consecutive slots this instruction writes.
    pub(crate) fn outputs(&self) -> usize {
        match self {
            Op::Svd(_) => 3,
            Op::Polar(_) => 2,
            _ => 1,
        }
    }

    /// Renames the slots this instruction reads.
    pub(crate) fn remap(&mut self, f: impl Fn(Slot) -> Slot) {
        match self {
            Op::Input(_) | Op::Param(_) | Op::Const(_) => {}
            Op::Unary(_, a)
            | Op::PowConst(a, _)
            | Op::Shape(_, a)
            | Op::Entry(a, _)
            | Op::Row(a, _)
            | Op::Svd(a)
            | Op::Polar(a) => *a = f(*a),
            Op::Binary(_, a, b) | Op::MatMul(a, b) | Op::Dot(a, b) | Op::Outer(a, b) => {
                *a = f(*a);
                *b = f(*b);
            }
            Op::Clamp(a, b, c) | Op::Vec3(a, b, c) => {
                *a = f(*a);
                *b = f(*b);
                *c = f(*c);
            }
            Op::Where(_, s, _) => s.iter_mut().for_each(|x| *x = f(*x)),
        }
    }
}

/// A constant with an explicit zero derivative (for dual numbers). A dual constant made
/// by `Real::cst` has no derivative storage, and the branch-free code the compiler
/// generates for it may compute on the unused storage; when those bytes happen to be
/// subnormal floats every operation slows down by two orders of magnitude.
#[inline(always)]
pub(crate) fn clean<T: Real>(x: T) -> T {
    if T::DIRECTIONS == 0 {
        x
    } else {
        x + (T::var(0.0, 0) - T::var(0.0, 0))
    }
}

/// Applies `g` with value `value = g(re)` and slope `slope = g'(re)` to `x`, without
/// turning a zero derivative component into NaN when the slope is infinite.
#[inline(always)]
pub(crate) fn chain<T: Real>(x: T, value: f64, slope: f64) -> T {
    if T::DIRECTIONS == 0 || slope.is_finite() {
        return x.chain(value, slope);
    }
    let mut r = T::cst(value);
    for d in 0..T::DIRECTIONS {
        let e = x.eps(d);
        if e != 0.0 {
            r += T::var(0.0, d) * T::cst(e * slope);
        }
    }
    r
}

/// An elementwise unary function with its exact derivative.
#[inline(always)]
pub(crate) fn unary<T: Real>(f: Un, x: T) -> T {
    let a = x.re();
    match f {
        Un::Neg => -x,
        Un::Exp => {
            let e = a.exp();
            chain(x, e, e)
        }
        Un::Log => chain(x, a.ln(), 1.0 / a),
        Un::Sqrt => {
            let s = a.sqrt();
            chain(x, s, 0.5 / s)
        }
        Un::Cbrt => {
            let c = a.cbrt();
            chain(x, c, 1.0 / (3.0 * c * c))
        }
        Un::Abs => chain(
            x,
            a.abs(),
            if a > 0.0 {
                1.0
            } else if a < 0.0 {
                -1.0
            } else {
                0.0
            },
        ),
        Un::Sigmoid => {
            let s = 1.0 / (1.0 + (-a).exp());
            chain(x, s, s * (1.0 - s))
        }
        Un::Tanh => {
            let t = a.tanh();
            chain(x, t, 1.0 - t * t)
        }
        Un::Log1p => chain(x, a.ln_1p(), 1.0 / (1.0 + a)),
        Un::Expm1 => chain(x, a.exp_m1(), a.exp()),
        Un::Sin => chain(x, a.sin(), a.cos()),
        Un::Cos => chain(x, a.cos(), -a.sin()),
    }
}

/// `x ** c` for a constant exponent: integer exponents use `powi` (exact for negative
/// bases), others `powf`.
#[inline]
pub(crate) fn pow_const<T: Real>(x: T, c: f64) -> T {
    let a = x.re();
    if c == 2.0 {
        return x * x;
    }
    if c == 1.0 {
        return x;
    }
    if c.fract() == 0.0 && c.abs() <= 1024.0 {
        let n = c as i32;
        let slope = if n == 0 { 0.0 } else { c * a.powi(n - 1) };
        chain(x, a.powi(n), slope)
    } else {
        chain(x, a.powf(c), c * a.powf(c - 1.0))
    }
}

/// `x ** y` with both sides variable: `d = y x^(y-1) dx + x^y ln(x) dy`.
#[inline]
pub(crate) fn pow<T: Real>(x: T, y: T) -> T {
    let (a, b) = (x.re(), y.re());
    let v = a.powf(b);
    let sx = if b == 0.0 { 0.0 } else { b * a.powf(b - 1.0) };
    let sy = if v == 0.0 { 0.0 } else { v * a.ln() };
    if T::DIRECTIONS == 0 {
        return T::cst(v);
    }
    chain(x, v, sx) + chain(y, 0.0, sy)
}

#[inline(always)]
pub(crate) fn binary<T: Real>(f: Bin, a: T, b: T) -> T {
    match f {
        Bin::Add => a + b,
        Bin::Sub => a - b,
        Bin::Mul => a * b,
        Bin::Div => a / b,
        Bin::Pow => pow(a, b),
        Bin::Min => {
            if b.re() < a.re() {
                b
            } else {
                a
            }
        }
        Bin::Max => {
            if b.re() > a.re() {
                b
            } else {
                a
            }
        }
    }
}

/// Euclidean / Frobenius norm; its derivative at zero is taken as zero.
fn norm<T: Real>(v: &Value<T>) -> T {
    let mut s = T::zero();
    for x in v.entries() {
        s += x * x;
    }
    let n = s.re().sqrt();
    if n == 0.0 {
        T::zero()
    } else {
        chain(s, n, 0.5 / n)
    }
}

fn shape1<T: Real>(f: Shape1, v: &Value<T>) -> Value<T> {
    let nan = || Value::Scalar(T::cst(f64::NAN));
    let sum = |v: &Value<T>| {
        let mut it = v.entries();
        let first = it.next().unwrap_or_else(T::zero);
        it.fold(first, |s, x| s + x)
    };
    let half = T::cst(0.5);
    match (f, v) {
        (Shape1::Transpose, Value::Mat3(m)) => Value::Mat3(m.transpose()),
        (Shape1::Det, Value::Mat3(m)) => Value::Scalar(det3(m)),
        (Shape1::Inv, Value::Mat3(m)) => Value::Mat3(inv3(m)),
        (Shape1::Trace, Value::Mat3(m)) => Value::Scalar(trace3(m)),
        // Explicit zero derivatives off the diagonal (see `clean`): with num-dual's empty
        // derivative there, a dual von Mises rollout (`U @ diag(s) @ Vh`) ran 1.25x slower.
        (Shape1::Diag, Value::Vec3(d)) => Value::Mat3(Matrix3::from_fn(|i, j| {
            if i == j { d[i] } else { clean(T::zero()) }
        })),
        (Shape1::Diagonal, Value::Mat3(m)) => Value::Vec3(m.diagonal()),
        (Shape1::Sum, v) => Value::Scalar(sum(v)),
        (Shape1::Mean, v) => Value::Scalar(sum(v) / T::cst(v.ty().len() as f64)),
        (Shape1::Prod, Value::Vec3(d)) => Value::Scalar(d[0] * d[1] * d[2]),
        (Shape1::Norm, v) => Value::Scalar(norm(v)),
        (Shape1::Sym, Value::Mat3(m)) => Value::Mat3((m + m.transpose()) * half),
        (Shape1::Skew, Value::Mat3(m)) => Value::Mat3((m - m.transpose()) * half),
        (Shape1::Dev, Value::Mat3(m)) => {
            let p = trace3(m) / T::cst(3.0);
            let mut d = *m;
            for k in 0..3 {
                d[(k, k)] -= p;
            }
            Value::Mat3(d)
        }
        (Shape1::ReduceMin, v) => Value::Scalar(
            v.entries()
                .fold(v.at(0), |m, x| if x.re() < m.re() { x } else { m }),
        ),
        (Shape1::ReduceMax, v) => Value::Scalar(
            v.entries()
                .fold(v.at(0), |m, x| if x.re() > m.re() { x } else { m }),
        ),
        _ => nan(),
    }
}

fn matmul<T: Real>(a: &Value<T>, b: &Value<T>) -> Value<T> {
    match (a, b) {
        (Value::Mat3(a), Value::Mat3(b)) => Value::Mat3(mul3(a, b)),
        (Value::Mat3(a), Value::Vec3(v)) => Value::Vec3(Vector3::from_fn(|i, _| {
            a[(i, 0)] * v[0] + a[(i, 1)] * v[1] + a[(i, 2)] * v[2]
        })),
        (Value::Vec3(v), Value::Mat3(b)) => Value::Vec3(Vector3::from_fn(|j, _| {
            v[0] * b[(0, j)] + v[1] * b[(1, j)] + v[2] * b[(2, j)]
        })),
        (Value::Vec3(a), Value::Vec3(b)) => Value::Scalar(a[0] * b[0] + a[1] * b[1] + a[2] * b[2]),
        _ => Value::Scalar(T::cst(f64::NAN)),
    }
}

/// Executes `op`, writing its result(s) from `slots[dst]` on.
#[inline]
pub(crate) fn exec<T: Real>(
    op: &Op,
    dst: usize,
    slots: &mut [Value<T>],
    inputs: &[Value<T>],
    params: &[T],
    svd: SvdMethod,
) {
    let s = |k: &Slot| &slots[*k as usize];
    let out = match op {
        Op::Input(k) => inputs[*k].map(clean),
        Op::Param(k) => Value::Scalar(params[*k]),
        Op::Const(v) => v.map_scalar(|x| clean(T::cst(x))),
        Op::Unary(f, a) => s(a).map(|x| unary(*f, x)),
        Op::PowConst(a, c) => s(a).map(|x| pow_const(x, *c)),
        Op::Binary(f, a, b) => {
            let (a, b) = (s(a), s(b));
            // Dispatch once per instruction, not once per entry.
            match f {
                Bin::Add => a.zip(b, |x, y| x + y),
                Bin::Sub => a.zip(b, |x, y| x - y),
                Bin::Mul => a.zip(b, |x, y| x * y),
                Bin::Div => a.zip(b, |x, y| x / y),
                Bin::Pow => a.zip(b, pow),
                Bin::Min => a.zip(b, |x, y| binary(Bin::Min, x, y)),
                Bin::Max => a.zip(b, |x, y| binary(Bin::Max, x, y)),
            }
        }
        Op::Clamp(x, lo, hi) => {
            let (x, lo, hi) = (s(x), s(lo), s(hi));
            x.zip(lo, |x, l| binary(Bin::Max, x, l))
                .zip(hi, |x, h| binary(Bin::Min, x, h))
        }
        Op::Where(cmp, [l, r, a, b], ty) => {
            let (l, r, a, b) = (s(l), s(r), s(a), s(b));
            Value::from_fn(*ty, |k| {
                if cmp.test(l.at(k).re(), r.at(k).re()) {
                    a.at(k)
                } else {
                    b.at(k)
                }
            })
        }
        Op::MatMul(a, b) => matmul(s(a), s(b)),
        Op::Shape(f, a) => shape1(*f, s(a)),
        Op::Dot(a, b) => {
            let (a, b) = (s(a), s(b));
            let mut acc = a.at(0) * b.at(0);
            for k in 1..a.ty().len() {
                acc += a.at(k) * b.at(k);
            }
            Value::Scalar(acc)
        }
        Op::Outer(a, b) => match (s(a), s(b)) {
            (Value::Vec3(a), Value::Vec3(b)) => Value::Mat3(Matrix3::from_fn(|i, j| a[i] * b[j])),
            _ => Value::Scalar(T::cst(f64::NAN)),
        },
        Op::Vec3(a, b, c) => Value::Vec3(Vector3::new(s(a).at(0), s(b).at(0), s(c).at(0))),
        Op::Entry(a, k) => Value::Scalar(s(a).at(*k)),
        Op::Row(a, i) => match s(a) {
            Value::Mat3(m) => Value::Vec3(Vector3::new(m[(*i, 0)], m[(*i, 1)], m[(*i, 2)])),
            _ => Value::Scalar(T::cst(f64::NAN)),
        },
        Op::Svd(a) => {
            let m = s(a)
                .as_mat3()
                .unwrap_or_else(|| Matrix3::from_element(T::cst(f64::NAN)));
            let d = svd.signed(&m);
            slots[dst] = Value::Mat3(d.u);
            slots[dst + 1] = Value::Vec3(d.sigma);
            slots[dst + 2] = Value::Mat3(d.v.transpose());
            return;
        }
        Op::Polar(a) => {
            let m = s(a)
                .as_mat3()
                .unwrap_or_else(|| Matrix3::from_element(T::cst(f64::NAN)));
            let (r, sm) = svd.polar(&m);
            slots[dst] = Value::Mat3(r);
            slots[dst + 1] = Value::Mat3(sm);
            return;
        }
    };
    slots[dst] = out;
}
