//! Builds the flat instruction list while the checker walks the program: constant
//! folding on the fly, and dead-code removal when finished.

use crate::ops::{Op, Slot, exec};
use crate::types::Type;
use crate::value::Value;

/// Accumulates instructions in SSA form: instruction `k` writes slot(s) starting at `dsts[k]`.
#[derive(Default)]
pub(crate) struct Builder {
    ops: Vec<Op>,
    dsts: Vec<Slot>,
    types: Vec<Type>,
    consts: Vec<Option<Value<f64>>>,
}

/// The finished instruction list.
pub(crate) struct Code {
    pub(crate) ops: Vec<Op>,
    pub(crate) dsts: Vec<Slot>,
    pub(crate) slots: usize,
    /// The type of every slot.
    pub(crate) types: Vec<Type>,
    pub(crate) ret: Slot,
}

impl Builder {
    /// The constant in a slot, if it is one.
    pub(crate) fn constant(&self, s: Slot) -> Option<Value<f64>> {
        self.consts[s as usize]
    }

    /// Emits a one-output instruction of result type `ty`; folds it if its inputs are
    /// constants.
    pub(crate) fn emit(&mut self, op: Op, ty: Type) -> Slot {
        let foldable = !matches!(
            op,
            Op::Input(_) | Op::Param(_) | Op::Const(_) | Op::Svd(_) | Op::Polar(_)
        );
        let reads = op.reads();
        if foldable && reads.iter().all(|&r| self.consts[r as usize].is_some()) {
            let mut tmp: Vec<Value<f64>> = reads
                .iter()
                .filter_map(|&r| self.consts[r as usize])
                .collect();
            tmp.push(Value::Scalar(0.0));
            let mut local = op;
            let (from, n) = (reads.clone(), reads.len());
            local.remap(|s| from.iter().position(|&r| r == s).map_or(0, |p| p as Slot));
            // `svd` and `polar` are never folded, so the method is not used.
            exec::<f64>(
                &local,
                n,
                &mut tmp,
                &[],
                &[],
                ansatz_linalg::SvdMethod::Exact,
            );
            return self.push(Op::Const(tmp[n]), &[ty]);
        }
        self.push(op, &[ty])
    }

    /// Emits an instruction writing one slot per type in `tys`; returns the first slot.
    pub(crate) fn emit_multi(&mut self, op: Op, tys: &[Type]) -> Slot {
        self.push(op, tys)
    }

    fn push(&mut self, op: Op, tys: &[Type]) -> Slot {
        let dst = self.types.len() as Slot;
        let konst = match &op {
            Op::Const(v) => Some(*v),
            _ => None,
        };
        self.ops.push(op);
        self.dsts.push(dst);
        for &t in tys {
            self.types.push(t);
            self.consts.push(konst);
        }
        dst
    }

    /// Removes instructions the result does not depend on and renumbers the slots.
    pub(crate) fn finish(self, ret: Slot) -> Code {
        let n = self.types.len();
        let mut live = vec![false; n];
        live[ret as usize] = true;
        let mut keep = vec![false; self.ops.len()];
        for k in (0..self.ops.len()).rev() {
            let d = self.dsts[k] as usize;
            if (d..d + self.ops[k].outputs()).any(|s| live[s]) {
                keep[k] = true;
                for r in self.ops[k].reads() {
                    live[r as usize] = true;
                }
            }
        }
        let mut new_slot = vec![0 as Slot; n];
        let mut next: Slot = 0;
        let mut ops = Vec::new();
        let mut dsts = Vec::new();
        let mut types = Vec::new();
        for (k, mut op) in self.ops.into_iter().enumerate() {
            if !keep[k] {
                continue;
            }
            let d = self.dsts[k] as usize;
            op.remap(|s| new_slot[s as usize]);
            for (j, slot) in new_slot.iter_mut().skip(d).take(op.outputs()).enumerate() {
                *slot = next + j as Slot;
            }
            dsts.push(next);
            types.extend_from_slice(&self.types[d..d + op.outputs()]);
            next += op.outputs() as Slot;
            ops.push(op);
        }
        Code {
            ops,
            dsts,
            slots: next as usize,
            types,
            ret: new_slot[ret as usize],
        }
    }
}
