//! Running a [`Plan`] on a batch: chunks of particles, one step after the other.

use super::kernels::{Col, all_lanes, copy, map_cols, map1, map2, update, update2};
use super::{Arg, Ent, Plan, Step};
use crate::ops::{Bin, Shape1, Un, binary, chain, clean, exec, pow, pow_const, unary};
use crate::types::Type;
use crate::value::Value;
use ansatz_linalg::{Real, SvdMethod, det3};
use nalgebra::Matrix3;

/// Particles per chunk for a scalar of `bytes` bytes. Every entry of every instruction
/// costs a loop set-up (about a hundred instructions), so longer chunks are cheaper until
/// the lanes leave the cache. Measured (instructions of a whole rollout, valgrind): for
/// `f64` neo-Hookean, 64 costs 2.6% and 16 costs 18% more than 128 (and 256 gains no
/// wall time); for dual numbers, 16 costs 2–3% more than 32 and 64 gains 1%.
fn chunk_len(bytes: usize) -> usize {
    if bytes <= 8 { 128 } else { 32 }
}

impl Plan {
    /// Evaluates the program at every `fs[p]` into `out[p]`; `uniform` holds the values
    /// of the parameter-only slots, `buf` is reused working memory, `svd` decomposes for
    /// `svd` and `polar`.
    pub(crate) fn run<T: Real>(
        &self,
        fs: &[Matrix3<T>],
        out: &mut [Matrix3<T>],
        uniform: &[Value<T>],
        buf: &mut Vec<T>,
        svd: SvdMethod,
    ) {
        let chunk = chunk_len(std::mem::size_of::<T>());
        let size = self.uniform_len + self.lanes * chunk;
        if buf.len() < size {
            buf.resize(size, T::zero());
        }
        for &(s, off, len) in &self.uniform {
            let v = &uniform[s as usize];
            for k in 0..len as usize {
                buf[off as usize + k] = v.at(k);
            }
        }
        let layout = Layout {
            uniform_len: self.uniform_len,
            chunk,
        };
        for (fs, out) in fs.chunks(chunk).zip(out.chunks_mut(chunk)) {
            for step in &self.steps {
                layout.step(step, fs, buf, svd);
            }
            let Some(ret) = self.ret.filter(|r| r.len == 9) else {
                out.fill(Matrix3::from_element(T::cst(f64::NAN)));
                continue;
            };
            let cols: [Col<'_, T>; 9] =
                std::array::from_fn(|k| layout.col(buf, ret.ent[k], out.len()));
            if let Some(lanes) = all_lanes(&cols) {
                let lanes = lanes.map(|l| &l[..out.len()]);
                for (p, o) in out.iter_mut().enumerate() {
                    *o = Matrix3::from_fn(|i, j| lanes[i + 3 * j][p]);
                }
            } else {
                for (p, o) in out.iter_mut().enumerate() {
                    *o = Matrix3::from_fn(|i, j| cols[i + 3 * j].get(p));
                }
            }
        }
    }
}

fn type_of(len: u8) -> Type {
    match len {
        1 => Type::Scalar,
        3 => Type::Vec3,
        _ => Type::Mat3,
    }
}

/// Buffer geometry of one call: the uniform area, then `chunk` values per lane.
struct Layout {
    uniform_len: usize,
    chunk: usize,
}

/// Dispatches on a unary function once per instruction, so that each arm's loop is
/// compiled for one function.
macro_rules! each_unary {
    ($f:expr, $g:ident => $body:expr) => {
        match $f {
            Un::Neg => {
                const $g: Un = Un::Neg;
                $body
            }
            Un::Exp => {
                const $g: Un = Un::Exp;
                $body
            }
            Un::Log => {
                const $g: Un = Un::Log;
                $body
            }
            Un::Sqrt => {
                const $g: Un = Un::Sqrt;
                $body
            }
            Un::Cbrt => {
                const $g: Un = Un::Cbrt;
                $body
            }
            Un::Abs => {
                const $g: Un = Un::Abs;
                $body
            }
            Un::Sigmoid => {
                const $g: Un = Un::Sigmoid;
                $body
            }
            Un::Tanh => {
                const $g: Un = Un::Tanh;
                $body
            }
            Un::Log1p => {
                const $g: Un = Un::Log1p;
                $body
            }
            Un::Expm1 => {
                const $g: Un = Un::Expm1;
                $body
            }
            Un::Sin => {
                const $g: Un = Un::Sin;
                $body
            }
            Un::Cos => {
                const $g: Un = Un::Cos;
                $body
            }
        }
    };
}

impl Layout {
    /// Entry `e` for the first `n` particles of the chunk held in `src`.
    #[inline(always)]
    fn col<'a, T: Real>(&self, src: &'a [T], e: Ent, n: usize) -> Col<'a, T> {
        match e {
            Ent::Lane(l) => {
                let b = self.uniform_len + l as usize * self.chunk;
                Col::Lane(&src[b..b + n])
            }
            Ent::Uniform(i) => Col::Splat(src[i as usize]),
            Ent::Zero => Col::Splat(clean(T::zero())),
        }
    }

    /// Runs one step on the chunk `fs`.
    fn step<T: Real>(&self, step: &Step, fs: &[Matrix3<T>], buf: &mut [T], svd: SvdMethod) {
        let n = fs.len();
        let dst = match step {
            Step::Input(d)
            | Step::Unary(_, _, d)
            | Step::PowConst(_, _, d)
            | Step::Binary(_, _, _, d)
            | Step::Clamp(_, d)
            | Step::Where(_, _, d)
            | Step::SumProd { dst: d, .. }
            | Step::Svd(_, d)
            | Step::Reduce(_, _, d)
            | Step::Generic { dst: d, .. } => *d,
        };
        // Lanes are numbered in instruction order, so every operand lies before the
        // destination.
        let c = self.chunk;
        let (src, out) = buf.split_at_mut(self.uniform_len + dst.lane as usize * c);
        let src: &[T] = src;
        let col = |a: &Arg, k: usize| self.col(src, a.at(k), n);
        // The destination lanes, `n` values each.
        let lanes = out
            .chunks_mut(c)
            .take(dst.len as usize)
            .map(|o| &mut o[..n]);
        match step {
            Step::Input(_) => {
                for (k, o) in lanes.enumerate() {
                    for (o, f) in o.iter_mut().zip(fs) {
                        *o = clean(f[k]);
                    }
                }
            }
            Step::Unary(f, a, _) => {
                for (k, o) in lanes.enumerate() {
                    each_unary!(f, G => map1(o, col(a, k), |x| unary(G, x)));
                }
            }
            Step::PowConst(a, p, _) => {
                for (k, o) in lanes.enumerate() {
                    // The branches of `pow_const`, taken once per instruction.
                    match *p {
                        2.0 => map1(o, col(a, k), |x| x * x),
                        1.0 => map1(o, col(a, k), |x| x),
                        p => map1(o, col(a, k), |x| pow_const(x, p)),
                    }
                }
            }
            Step::Binary(f, a, b, _) => {
                for (k, o) in lanes.enumerate() {
                    let (a, b) = (col(a, k), col(b, k));
                    match f {
                        Bin::Add => map2(o, a, b, |x, y| x + y),
                        Bin::Sub => map2(o, a, b, |x, y| x - y),
                        Bin::Mul => map2(o, a, b, |x, y| x * y),
                        Bin::Div => map2(o, a, b, |x, y| x / y),
                        Bin::Pow => map2(o, a, b, pow),
                        Bin::Min => map2(o, a, b, |x, y| binary(Bin::Min, x, y)),
                        Bin::Max => map2(o, a, b, |x, y| binary(Bin::Max, x, y)),
                    }
                }
            }
            Step::Clamp([x, lo, hi], _) => {
                for (k, o) in lanes.enumerate() {
                    map2(o, col(x, k), col(lo, k), |x, l| binary(Bin::Max, x, l));
                    update(o, col(hi, k), |x, h| binary(Bin::Min, x, h));
                }
            }
            Step::Where(cmp, [l, r, a, b], _) => {
                for (k, o) in lanes.enumerate() {
                    let cols = [col(l, k), col(r, k), col(a, k), col(b, k)];
                    map_cols(
                        o,
                        cols,
                        |[l, r, a, b]| {
                            if cmp.test(l.re(), r.re()) { a } else { b }
                        },
                    );
                }
            }
            Step::SumProd { terms, .. } => {
                for (o, terms) in lanes.zip(terms) {
                    let at = |(x, y): (Ent, Ent)| (self.col(src, x, n), self.col(src, y, n));
                    if let [t0, t1, t2] = terms[..] {
                        let ((x0, y0), (x1, y1), (x2, y2)) = (at(t0), at(t1), at(t2));
                        // mul3's `x0 y0 + x1 y1 + x2 y2`, in one pass when all are lanes.
                        if let Some([x0, y0, x1, y1, x2, y2]) = all_lanes(&[x0, y0, x1, y1, x2, y2])
                        {
                            let (x0, y0, x1, y1, x2, y2) =
                                (&x0[..n], &y0[..n], &x1[..n], &y1[..n], &x2[..n], &y2[..n]);
                            for (p, o) in o.iter_mut().enumerate() {
                                *o = x0[p] * y0[p] + x1[p] * y1[p] + x2[p] * y2[p];
                            }
                            continue;
                        }
                    }
                    let Some((first, rest)) = terms.split_first() else {
                        continue;
                    };
                    let (x, y) = at(*first);
                    map2(o, x, y, |x, y| x * y);
                    for &t in rest {
                        let (x, y) = at(t);
                        update2(o, x, y, |o, x, y| o + x * y);
                    }
                }
            }
            Step::Svd(a, _) => {
                let cols: [Col<'_, T>; 9] = std::array::from_fn(|k| col(a, k));
                // Several decompositions at a time (the same results as one at a time).
                svd.signed_each(
                    n,
                    |p| Matrix3::from_fn(|i, j| cols[i + 3 * j].get(p)),
                    |p, svd| {
                        // U into lanes 0..9, sigma 9..12, Vh 12..21 (indexing, not
                        // nalgebra's slower iterators).
                        let vt = svd.v.transpose();
                        for k in 0..9 {
                            out[k * c + p] = svd.u[k];
                            out[(12 + k) * c + p] = vt[k];
                        }
                        for k in 0..3 {
                            out[(9 + k) * c + p] = svd.sigma[k];
                        }
                    },
                );
            }
            Step::Reduce(f, a, _) => {
                for o in lanes {
                    reduce(*f, o, a.len as usize, |k| col(a, k));
                }
            }
            Step::Generic { op, args, outs, .. } => {
                let mut local = [Value::Scalar(T::zero()); 8];
                let m = args.len();
                for p in 0..n {
                    for (v, a) in local.iter_mut().zip(args) {
                        *v = Value::from_fn(type_of(a.len), |k| col(a, k).get(p));
                    }
                    exec(op, m, &mut local, &[], &[], svd);
                    let mut lane = 0;
                    for (v, &len) in local[m..].iter().zip(outs) {
                        for k in 0..len as usize {
                            out[(lane + k) * c + p] = v.at(k);
                        }
                        lane += len as usize;
                    }
                }
            }
        }
    }
}

/// Reduces an operand with `len` entries (`col(k)`) to a scalar, as `exec` does.
#[inline(always)]
fn reduce<'a, T: Real>(f: Shape1, o: &mut [T], len: usize, col: impl Fn(usize) -> Col<'a, T>) {
    match f {
        Shape1::Det => map_cols(o, std::array::from_fn::<_, 9, _>(&col), |m| {
            det3(&Matrix3::from_column_slice(&m))
        }),
        Shape1::Trace => map_cols(o, [col(0), col(4), col(8)], |[a, b, c]| a + b + c),
        Shape1::Sum | Shape1::Mean => {
            copy(o, col(0));
            for k in 1..len {
                update(o, col(k), |s, x| s + x);
            }
            if f == Shape1::Mean {
                update(o, Col::Splat(T::cst(len as f64)), |s, l| s / l);
            }
        }
        _ => {
            // Norm: Σ x² from zero, then the square root with its derivative (0 at 0).
            o.fill(T::zero());
            for k in 0..len {
                update(o, col(k), |s, x| s + x * x);
            }
            for s in o.iter_mut() {
                let r = s.re().sqrt();
                *s = if r == 0.0 {
                    T::zero()
                } else {
                    chain(*s, r, 0.5 / r)
                };
            }
        }
    }
}
