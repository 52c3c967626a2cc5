//! Runtime values: a scalar, a 3-vector or a 3x3 matrix of any [`Real`] scalar.

use crate::types::Type;
use ansatz_linalg::Real;
use nalgebra::{Matrix3, Vector3};

/// A value of the language at run time, over the scalar `T` (`f64` or a dual number).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value<T: Real> {
    /// A real number.
    Scalar(T),
    /// A 3-vector.
    Vec3(Vector3<T>),
    /// A 3x3 matrix.
    Mat3(Matrix3<T>),
}

impl<T: Real> Value<T> {
    /// The type of the value.
    pub fn ty(&self) -> Type {
        match self {
            Value::Scalar(_) => Type::Scalar,
            Value::Vec3(_) => Type::Vec3,
            Value::Mat3(_) => Type::Mat3,
        }
    }

    /// Entry `k` (column-major for matrices); a scalar is broadcast to every `k`.
    #[inline(always)]
    pub(crate) fn at(&self, k: usize) -> T {
        match self {
            Value::Scalar(x) => *x,
            Value::Vec3(v) => v[k],
            Value::Mat3(m) => m[k],
        }
    }

    /// The scalar, if this is one.
    pub fn as_scalar(&self) -> Option<T> {
        match self {
            Value::Scalar(x) => Some(*x),
            _ => None,
        }
    }

    /// The vector, if this is one.
    pub fn as_vec3(&self) -> Option<Vector3<T>> {
        match self {
            Value::Vec3(v) => Some(*v),
            _ => None,
        }
    }

    /// The matrix, if this is one.
    pub fn as_mat3(&self) -> Option<Matrix3<T>> {
        match self {
            Value::Mat3(m) => Some(*m),
            _ => None,
        }
    }

    /// Every entry (1, 3 or 9 of them; matrices column-major).
    pub fn entries(&self) -> impl Iterator<Item = T> + '_ {
        (0..self.ty().len()).map(move |k| self.at(k))
    }

    /// True when every entry is finite in value and in every derivative component.
    pub fn is_all_finite(&self) -> bool {
        self.entries().all(|x| x.is_all_finite())
    }

    /// The same value over another scalar type via `f` (e.g. `T::cst` from `f64`).
    pub fn map_scalar<U: Real>(&self, f: impl Fn(T) -> U) -> Value<U> {
        match self {
            Value::Scalar(x) => Value::Scalar(f(*x)),
            Value::Vec3(v) => Value::Vec3(v.map(f)),
            Value::Mat3(m) => Value::Mat3(m.map(f)),
        }
    }

    /// Applies `f` to every entry.
    #[inline(always)]
    pub(crate) fn map(&self, f: impl Fn(T) -> T) -> Value<T> {
        match self {
            Value::Scalar(x) => Value::Scalar(f(*x)),
            Value::Vec3(v) => Value::Vec3(v.map(f)),
            Value::Mat3(m) => Value::Mat3(m.map(f)),
        }
    }

    /// Applies `f` entrywise to two values of the same shape or one scalar and any shape.
    #[inline(always)]
    pub(crate) fn zip(&self, other: &Value<T>, f: impl Fn(T, T) -> T) -> Value<T> {
        match (self, other) {
            (Value::Scalar(a), Value::Scalar(b)) => Value::Scalar(f(*a, *b)),
            (Value::Scalar(a), Value::Vec3(b)) => Value::Vec3(b.map(|b| f(*a, b))),
            (Value::Scalar(a), Value::Mat3(b)) => Value::Mat3(b.map(|b| f(*a, b))),
            (Value::Vec3(a), Value::Scalar(b)) => Value::Vec3(a.map(|a| f(a, *b))),
            (Value::Mat3(a), Value::Scalar(b)) => Value::Mat3(a.map(|a| f(a, *b))),
            (Value::Vec3(a), Value::Vec3(b)) => Value::Vec3(a.zip_map(b, f)),
            (Value::Mat3(a), Value::Mat3(b)) => Value::Mat3(a.zip_map(b, f)),
            // Unreachable for checked programs (shapes are verified before compiling).
            _ => Value::Scalar(T::cst(f64::NAN)),
        }
    }

    /// A value of type `ty` whose entry `k` is `f(k)`.
    #[inline(always)]
    pub(crate) fn from_fn(ty: Type, f: impl Fn(usize) -> T) -> Value<T> {
        match ty {
            Type::Scalar => Value::Scalar(f(0)),
            Type::Vec3 => Value::Vec3(Vector3::new(f(0), f(1), f(2))),
            Type::Mat3 => Value::Mat3(Matrix3::from_fn(|i, j| f(i + 3 * j))),
        }
    }
}

impl<T: Real> From<Matrix3<T>> for Value<T> {
    fn from(m: Matrix3<T>) -> Self {
        Value::Mat3(m)
    }
}

impl<T: Real> From<Vector3<T>> for Value<T> {
    fn from(v: Vector3<T>) -> Self {
        Value::Vec3(v)
    }
}
