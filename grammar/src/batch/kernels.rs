//! The loops of the batch evaluator: one instruction over the particles of one chunk.
//!
//! An operand entry is a [`Col`]: a lane of per-particle values, or one value broadcast to
//! every particle (a parameter-only value, or a scalar broadcast against a vector or
//! matrix). Each kernel is written once per operand pattern so that the loops over `f64`
//! lanes are branch-free and vectorise; every loop applies exactly the floating-point
//! operations of the per-particle evaluator (`crate::ops::exec`) in the same order.

/// One entry of an operand over the particles of a chunk.
#[derive(Clone, Copy)]
pub(super) enum Col<'a, T> {
    /// One value per particle.
    Lane(&'a [T]),
    /// The same value for every particle.
    Splat(T),
}

impl<T: Copy> Col<'_, T> {
    /// The value for particle `p`.
    #[inline(always)]
    pub(super) fn get(&self, p: usize) -> T {
        match self {
            Col::Lane(s) => s[p],
            Col::Splat(x) => *x,
        }
    }
}

/// `o[p] = f(a[p])`.
#[inline(always)]
pub(super) fn map1<T: Copy>(o: &mut [T], a: Col<'_, T>, f: impl Fn(T) -> T) {
    let n = o.len();
    match a {
        Col::Lane(a) => {
            for (o, &a) in o.iter_mut().zip(&a[..n]) {
                *o = f(a);
            }
        }
        Col::Splat(a) => o.fill(f(a)),
    }
}

/// `o[p] = a[p]` (or the broadcast value).
#[inline(always)]
pub(super) fn copy<T: Copy>(o: &mut [T], a: Col<'_, T>) {
    match a {
        Col::Lane(a) => o.copy_from_slice(&a[..o.len()]),
        Col::Splat(a) => o.fill(a),
    }
}

/// `o[p] = f(a[p], b[p])`, one loop per broadcast pattern.
#[inline(always)]
pub(super) fn map2<T: Copy>(o: &mut [T], a: Col<'_, T>, b: Col<'_, T>, f: impl Fn(T, T) -> T) {
    let n = o.len();
    match (a, b) {
        (Col::Lane(a), Col::Lane(b)) => {
            for ((o, &a), &b) in o.iter_mut().zip(&a[..n]).zip(&b[..n]) {
                *o = f(a, b);
            }
        }
        (Col::Lane(a), Col::Splat(b)) => {
            for (o, &a) in o.iter_mut().zip(&a[..n]) {
                *o = f(a, b);
            }
        }
        (Col::Splat(a), Col::Lane(b)) => {
            for (o, &b) in o.iter_mut().zip(&b[..n]) {
                *o = f(a, b);
            }
        }
        (Col::Splat(a), Col::Splat(b)) => o.fill(f(a, b)),
    }
}

/// `o[p] = f(o[p], b[p])`.
#[inline(always)]
pub(super) fn update<T: Copy>(o: &mut [T], b: Col<'_, T>, f: impl Fn(T, T) -> T) {
    let n = o.len();
    match b {
        Col::Lane(b) => {
            for (o, &b) in o.iter_mut().zip(&b[..n]) {
                *o = f(*o, b);
            }
        }
        Col::Splat(b) => {
            for o in o.iter_mut() {
                *o = f(*o, b);
            }
        }
    }
}

/// `o[p] = f(o[p], a[p], b[p])`, one loop per broadcast pattern.
#[inline(always)]
pub(super) fn update2<T: Copy>(
    o: &mut [T],
    a: Col<'_, T>,
    b: Col<'_, T>,
    f: impl Fn(T, T, T) -> T,
) {
    let n = o.len();
    match (a, b) {
        (Col::Lane(a), Col::Lane(b)) => {
            for ((o, &a), &b) in o.iter_mut().zip(&a[..n]).zip(&b[..n]) {
                *o = f(*o, a, b);
            }
        }
        (Col::Lane(a), Col::Splat(b)) => {
            for (o, &a) in o.iter_mut().zip(&a[..n]) {
                *o = f(*o, a, b);
            }
        }
        (Col::Splat(a), Col::Lane(b)) => {
            for (o, &b) in o.iter_mut().zip(&b[..n]) {
                *o = f(*o, a, b);
            }
        }
        (Col::Splat(a), Col::Splat(b)) => {
            for o in o.iter_mut() {
                *o = f(*o, a, b);
            }
        }
    }
}

/// The lanes of `cols` if none is broadcast.
#[inline(always)]
pub(super) fn all_lanes<'a, T, const K: usize>(cols: &[Col<'a, T>; K]) -> Option<[&'a [T]; K]> {
    if cols.iter().all(|c| matches!(c, Col::Lane(_))) {
        Some(std::array::from_fn(|k| match cols[k] {
            Col::Lane(l) => l,
            Col::Splat(_) => &[],
        }))
    } else {
        None
    }
}

/// `o[p] = f([cols[0][p], ..., cols[K-1][p]])`: a tight loop when every operand is a
/// lane, a loop over broadcast-aware reads otherwise.
#[inline(always)]
pub(super) fn map_cols<T: Copy, const K: usize>(
    o: &mut [T],
    cols: [Col<'_, T>; K],
    f: impl Fn([T; K]) -> T,
) {
    let n = o.len();
    if let Some(lanes) = all_lanes(&cols) {
        let lanes = lanes.map(|l| &l[..n]);
        for (p, o) in o.iter_mut().enumerate() {
            *o = f(std::array::from_fn(|k| lanes[k][p]));
        }
    } else {
        for (p, o) in o.iter_mut().enumerate() {
            *o = f(std::array::from_fn(|k| cols[k].get(p)));
        }
    }
}
