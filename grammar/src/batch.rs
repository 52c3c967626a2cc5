//! Batch evaluation of a compiled `F: mat3 -> mat3` program over many inputs (all the
//! particles of a simulator step): instructions outer, particles inner, over chunks of
//! particles.
//!
//! Every entry of a varying slot (one that depends on the input) is a lane holding one
//! value per particle of the chunk (a scalar has 1 entry, a vec3 3, a mat3 9,
//! column-major). Parameter-only ("uniform") slots are computed once per parameter vector
//! by [`crate::Compiled`]; their entries are copied once per call into a small area at the
//! front of the buffer and read by broadcast. Instructions that only move entries
//! (transpose, `diag`, `diagonal`, indexing, `vec3`) compute nothing: their result's
//! entries refer to the lanes they come from. The hot instructions have tight loops
//! ([`kernels`]); the rest (`svd`, `polar`, `inv`, ...) run per particle through
//! [`crate::ops::exec`] on a small local slot array. Both apply exactly the floating-point
//! operations of the per-particle evaluator, so the results are bitwise equal to
//! [`crate::Compiled::eval_mat3`] (tested in `tests/batch.rs`).

mod kernels;
mod run;

use crate::ast::CmpOp;
use crate::ops::{Bin, Op, Shape1, Slot, Un};
use crate::types::Type;

/// Where one entry of a slot lives.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Ent {
    /// A lane: one value per particle of the chunk.
    Lane(u32),
    /// An index in the uniform area: one value for every particle.
    Uniform(u32),
    /// Zero with explicit zero derivatives, as `diag` puts off the diagonal.
    Zero,
}

/// The entries of a slot, column-major.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Arg {
    /// 1, 3 or 9.
    len: u8,
    ent: [Ent; 9],
}

impl Arg {
    fn new(len: usize, f: impl Fn(usize) -> Ent) -> Arg {
        Arg {
            len: len as u8,
            ent: std::array::from_fn(|k| if k < len { f(k) } else { Ent::Zero }),
        }
    }

    /// Entry `k`; a scalar is broadcast to every `k`.
    fn at(&self, k: usize) -> Ent {
        self.ent[if self.len == 1 { 0 } else { k }]
    }
}

/// The lanes an instruction writes: `len` lanes from `lane` on (for `svd` and `polar`,
/// those of all their results, one after the other).
#[derive(Clone, Copy, Debug, PartialEq)]
struct Dst {
    lane: u32,
    len: u8,
}

/// One computing instruction with its operands resolved to entries.
#[derive(Clone, Debug)]
enum Step {
    /// Input 0 (F), cleaned like `exec` does.
    Input(Dst),
    Unary(Un, Arg, Dst),
    PowConst(Arg, f64, Dst),
    Binary(Bin, Arg, Arg, Dst),
    Clamp([Arg; 3], Dst),
    Where(CmpOp, [Arg; 4], Dst),
    /// Output entry `k` is `Σ x * y` over the pairs of entries `(x, y)` in `terms[k]`,
    /// summed left to right: matrix products of every shape, dot and outer products.
    SumProd {
        terms: Vec<Vec<(Ent, Ent)>>,
        dst: Dst,
    },
    /// `U, sigma, Vh = svd(a)`.
    Svd(Arg, Dst),
    /// `det`, `trace`, `sum`, `mean` or `norm` to a scalar.
    Reduce(Shape1, Arg, Dst),
    /// Anything else: per particle through `exec`, with `op` reading local slots
    /// `0..args.len()` and writing from slot `args.len()` on; `outs` are the lengths of
    /// its results.
    Generic {
        op: Op,
        args: Vec<Arg>,
        outs: Vec<u8>,
        dst: Dst,
    },
}

/// A varying instruction list resolved to lanes; built once per compiled program.
#[derive(Clone, Debug, Default)]
pub(crate) struct Plan {
    steps: Vec<Step>,
    /// Uniform slots to copy into the uniform area before a call: slot, first index, length.
    uniform: Vec<(Slot, u32, u8)>,
    uniform_len: usize,
    /// Number of lanes.
    lanes: usize,
    ret: Option<Arg>,
}

impl Plan {
    /// Resolves the varying instructions `ops` (writing `dsts`) given every slot's type
    /// and whether it is uniform.
    pub(crate) fn new(
        ops: &[Op],
        dsts: &[Slot],
        types: &[Type],
        uniform_slot: &[bool],
        ret: Slot,
    ) -> Plan {
        let (mut uniform, mut uniform_len) = (Vec::new(), 0u32);
        let mut args: Vec<Arg> = types
            .iter()
            .zip(uniform_slot)
            .enumerate()
            .map(|(s, (ty, &is_uniform))| {
                let len = ty.len();
                if !is_uniform {
                    // Set when the instruction writing it is resolved.
                    return Arg::new(len, |_| Ent::Zero);
                }
                let off = uniform_len;
                uniform.push((s as Slot, off, len as u8));
                uniform_len += len as u32;
                Arg::new(len, |k| Ent::Uniform(off + k as u32))
            })
            .collect();
        let (mut steps, mut lanes) = (Vec::new(), 0u32);
        for (op, &dst) in ops.iter().zip(dsts) {
            let d = dst as usize;
            if let Some(alias) = alias(op, &args, types[d].len()) {
                args[d] = alias;
                continue;
            }
            let lens: Vec<usize> = (d..d + op.outputs()).map(|s| types[s].len()).collect();
            let total: usize = lens.iter().sum();
            let first = lanes;
            steps.push(step(
                op,
                &args,
                Dst {
                    lane: first,
                    len: total as u8,
                },
                &lens,
            ));
            for (s, len) in (d..).zip(&lens) {
                args[s] = Arg::new(*len, |k| Ent::Lane(lanes + k as u32));
                lanes += *len as u32;
            }
        }
        Plan {
            steps,
            uniform,
            uniform_len: uniform_len as usize,
            lanes: lanes as usize,
            ret: args.get(ret as usize).copied(),
        }
    }
}

/// `i + 3 j`: the column-major index of matrix entry `(i, j)`.
fn mat(i: u8, j: u8) -> u8 {
    i + 3 * j
}

/// The entries of an instruction that only moves entries, or `None`.
fn alias(op: &Op, args: &[Arg], len: usize) -> Option<Arg> {
    let a = |s: &Slot| args[*s as usize];
    let arg = match op {
        Op::Shape(Shape1::Transpose, x) if a(x).len == 9 && len == 9 => {
            Arg::new(9, |k| a(x).ent[mat(k as u8 / 3, k as u8 % 3) as usize])
        }
        Op::Shape(Shape1::Diagonal, x) if a(x).len == 9 && len == 3 => {
            Arg::new(3, |i| a(x).ent[4 * i])
        }
        Op::Shape(Shape1::Diag, x) if a(x).len == 3 && len == 9 => Arg::new(9, |k| {
            if k % 3 == k / 3 {
                a(x).ent[k % 3]
            } else {
                Ent::Zero
            }
        }),
        Op::Entry(x, k) if len == 1 && *k < a(x).len as usize => Arg::new(1, |_| a(x).ent[*k]),
        Op::Row(x, i) if a(x).len == 9 && len == 3 && *i < 3 => {
            Arg::new(3, |j| a(x).ent[mat(*i as u8, j as u8) as usize])
        }
        Op::Vec3(x, y, z) if len == 3 => {
            let xyz = [a(x).at(0), a(y).at(0), a(z).at(0)];
            Arg::new(3, |i| xyz[i])
        }
        _ => return None,
    };
    Some(arg)
}

/// Resolves one computing instruction writing `dst`, whose results have lengths `lens`.
fn step(op: &Op, args: &[Arg], dst: Dst, lens: &[usize]) -> Step {
    let a = |s: &Slot| args[*s as usize];
    let fits = |x: Arg| x.len == 1 || x.len == dst.len;
    let generic = || {
        let reads = op.reads();
        let mut local = op.clone();
        local.remap(|s| reads.iter().position(|&r| r == s).unwrap_or(0) as Slot);
        Step::Generic {
            op: local,
            args: reads.iter().map(a).collect(),
            outs: lens.iter().map(|&l| l as u8).collect(),
            dst,
        }
    };
    match op {
        Op::Input(0) if dst.len == 9 => Step::Input(dst),
        Op::Unary(f, x) if a(x).len == dst.len => Step::Unary(*f, a(x), dst),
        Op::PowConst(x, c) if a(x).len == dst.len => Step::PowConst(a(x), *c, dst),
        Op::Binary(f, x, y) if fits(a(x)) && fits(a(y)) => Step::Binary(*f, a(x), a(y), dst),
        Op::Clamp(x, lo, hi) if [x, lo, hi].iter().all(|s| fits(a(s))) => {
            Step::Clamp([a(x), a(lo), a(hi)], dst)
        }
        Op::Where(cmp, s, _) if s.iter().all(|s| fits(a(s))) => {
            Step::Where(*cmp, s.map(|s| args[s as usize]), dst)
        }
        Op::MatMul(x, y) | Op::Dot(x, y) | Op::Outer(x, y) => {
            let (x, y) = (a(x), a(y));
            let terms: Vec<Vec<(u8, u8)>> = match (op, x.len, y.len, dst.len) {
                (Op::MatMul(..), 9, 9, 9) => (0..9)
                    .map(|k| (0..3).map(|t| (mat(k % 3, t), mat(t, k / 3))).collect())
                    .collect(),
                (Op::MatMul(..), 9, 3, 3) => (0..3)
                    .map(|i| (0..3).map(|t| (mat(i, t), t)).collect())
                    .collect(),
                (Op::MatMul(..), 3, 9, 3) => (0..3)
                    .map(|j| (0..3).map(|t| (t, mat(t, j))).collect())
                    .collect(),
                (Op::MatMul(..), 3, 3, 1) => vec![(0..3).map(|t| (t, t)).collect()],
                (Op::Dot(..), n, m, 1) if n == m => vec![(0..n).map(|t| (t, t)).collect()],
                (Op::Outer(..), 3, 3, 9) => (0..9).map(|k| vec![(k % 3, k / 3)]).collect(),
                _ => return generic(),
            };
            let terms = terms
                .iter()
                .map(|t| {
                    t.iter()
                        .map(|&(i, j)| (x.at(i as usize), y.at(j as usize)))
                        .collect()
                })
                .collect();
            Step::SumProd { terms, dst }
        }
        Op::Shape(f @ (Shape1::Det | Shape1::Trace), x) if a(x).len == 9 && dst.len == 1 => {
            Step::Reduce(*f, a(x), dst)
        }
        Op::Shape(f @ (Shape1::Sum | Shape1::Mean | Shape1::Norm), x) if dst.len == 1 => {
            Step::Reduce(*f, a(x), dst)
        }
        Op::Svd(x) if a(x).len == 9 && lens == [9, 3, 9] => Step::Svd(a(x), dst),
        _ => generic(),
    }
}
