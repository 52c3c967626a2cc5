//! A compiled program: a flat list of instructions over SSA slots, evaluated generically
//! over the scalar with a reusable scratch buffer (no allocation per call).

use crate::batch::Plan;
use crate::builder::Code;
use crate::error::EvalError;
use crate::ops::{Op, Slot, exec};
use crate::types::{Signature, Type};
use crate::value::Value;
use ansatz_linalg::{Real, SvdMethod};
use nalgebra::Matrix3;
use std::sync::atomic::{AtomicU64, Ordering};

/// A checked program compiled to instructions; obtained from [`crate::check`].
///
/// Parameters are passed as a slice in declaration order ([`Compiled::param_names`],
/// [`Compiled::defaults`]). With `T = DualSVec64<N>` seeded by [`Compiled::seed_params`]
/// the result carries the exact gradient with respect to every parameter.
#[derive(Clone, Debug)]
pub struct Compiled {
    id: u64,
    uniform: Vec<Op>,
    uniform_dsts: Vec<Slot>,
    ops: Vec<Op>,
    dsts: Vec<Slot>,
    slots: usize,
    ret: Slot,
    batch: Plan,
    signature: Signature,
    param_names: Vec<String>,
    defaults: Vec<f64>,
}

/// Reusable working memory for [`Compiled::eval`] and [`Compiled::eval_mat3_batch`]; one
/// per thread.
///
/// It also remembers the values that depend only on the parameters: they are recomputed
/// when the parameter values (including derivative parts) or the program change, so a
/// loop over particles with fixed parameters pays only for the input-dependent part.
#[derive(Clone, Debug)]
pub struct Scratch<T: Real> {
    slots: Vec<Value<T>>,
    /// The program whose parameter-only values the slots hold (0: none).
    owner: u64,
    /// The parameter values (value and derivative parts) those slots were computed with.
    key: Vec<f64>,
    /// The lanes of [`Compiled::eval_mat3_batch`].
    lanes: Vec<T>,
    /// How `svd` and `polar` decompose.
    svd: SvdMethod,
}

impl<T: Real> Default for Scratch<T> {
    fn default() -> Self {
        Scratch::new()
    }
}

impl<T: Real> Scratch<T> {
    /// An empty scratch buffer; it grows on first use. Programs evaluated with it
    /// decompose by [`SvdMethod::Exact`].
    pub fn new() -> Self {
        Scratch::with_svd(SvdMethod::Exact)
    }

    /// An empty scratch buffer whose evaluations decompose (`svd`, `polar`) by `svd`.
    pub fn with_svd(svd: SvdMethod) -> Self {
        Scratch {
            slots: Vec::new(),
            owner: 0,
            key: Vec::new(),
            lanes: Vec::new(),
            svd,
        }
    }

    /// How the programs evaluated with this buffer decompose.
    pub fn svd(&self) -> SvdMethod {
        self.svd
    }

    /// Changes how the programs evaluated with this buffer decompose; the remembered
    /// parameter-only values are recomputed on the next evaluation.
    pub fn set_svd(&mut self, svd: SvdMethod) {
        if svd != self.svd {
            self.svd = svd;
            self.owner = 0;
        }
    }

    fn key_of(params: &[T]) -> impl Iterator<Item = f64> + '_ {
        params
            .iter()
            .flat_map(|p| std::iter::once(p.re()).chain((0..T::DIRECTIONS).map(|d| p.eps(d))))
    }

    fn same_params(&self, params: &[T]) -> bool {
        self.key.len() == params.len() * (1 + T::DIRECTIONS)
            && Self::key_of(params)
                .zip(&self.key)
                .all(|(a, b)| a.to_bits() == b.to_bits())
    }

    fn set_params(&mut self, params: &[T]) {
        self.key.clear();
        self.key.extend(Self::key_of(params));
    }
}

impl Compiled {
    pub(crate) fn new(
        code: Code,
        signature: Signature,
        param_names: Vec<String>,
        defaults: Vec<f64>,
    ) -> Self {
        // Instructions that depend only on parameters and constants ("uniform") run once per
        // parameter vector; the others run for every input.
        let mut uniform_slot = vec![false; code.slots];
        let (mut uniform, mut uniform_dsts, mut ops, mut dsts) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (op, dst) in code.ops.into_iter().zip(code.dsts) {
            let is_uniform =
                !matches!(op, Op::Input(_)) && op.reads().iter().all(|&r| uniform_slot[r as usize]);
            for k in 0..op.outputs() {
                uniform_slot[dst as usize + k] = is_uniform;
            }
            if is_uniform {
                uniform.push(op);
                uniform_dsts.push(dst);
            } else {
                ops.push(op);
                dsts.push(dst);
            }
        }
        let batch = Plan::new(&ops, &dsts, &code.types, &uniform_slot, code.ret);
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        Compiled {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            uniform,
            uniform_dsts,
            ops,
            dsts,
            slots: code.slots,
            ret: code.ret,
            batch,
            signature,
            param_names,
            defaults,
        }
    }

    /// The signature the program was checked against.
    pub fn signature(&self) -> &Signature {
        &self.signature
    }

    /// Parameter names in declaration order.
    pub fn param_names(&self) -> &[String] {
        &self.param_names
    }

    /// Default parameter values in declaration order.
    pub fn defaults(&self) -> &[f64] {
        &self.defaults
    }

    /// Parameter names and default values in declaration order.
    pub fn params(&self) -> Vec<(String, f64)> {
        self.param_names
            .iter()
            .cloned()
            .zip(self.defaults.iter().copied())
            .collect()
    }

    /// Number of instructions after constant folding and dead-code removal.
    pub fn len(&self) -> usize {
        self.uniform.len() + self.ops.len()
    }

    /// Number of instructions that depend on the inputs (the others depend only on the
    /// parameters and run once per parameter vector, see [`Scratch`]).
    pub fn varying_len(&self) -> usize {
        self.ops.len()
    }

    /// True when there are no instructions (never: a program returns something).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Parameter values as independent variables: value `values[i]`, derivative 1 in
    /// direction `i` (for `f64`, just the values).
    pub fn seed_params<T: Real>(values: &[f64]) -> Vec<T> {
        ansatz_linalg::seed_params(values)
    }

    /// A scratch buffer sized for this program.
    pub fn scratch<T: Real>(&self) -> Scratch<T> {
        Scratch::new()
    }

    /// Evaluates the program on `inputs` (in signature order) with parameter values `params`.
    ///
    /// Errors only on API misuse (wrong input count or types, wrong parameter count); a
    /// program's arithmetic never fails, it gives non-finite values instead.
    pub fn eval<T: Real>(
        &self,
        inputs: &[Value<T>],
        params: &[T],
        scratch: &mut Scratch<T>,
    ) -> Result<Value<T>, EvalError> {
        if inputs.len() != self.signature.inputs.len() {
            return Err(EvalError::InputCount {
                expected: self.signature.inputs.len(),
                got: inputs.len(),
            });
        }
        for (index, (v, (_, ty))) in inputs.iter().zip(&self.signature.inputs).enumerate() {
            if v.ty() != *ty {
                return Err(EvalError::InputType {
                    index,
                    expected: *ty,
                    got: v.ty(),
                });
            }
        }
        self.check_params(params.len())?;
        Ok(self.run(inputs, params, scratch))
    }

    fn check_params(&self, got: usize) -> Result<(), EvalError> {
        if got != self.defaults.len() {
            return Err(EvalError::ParamCount {
                expected: self.defaults.len(),
                got,
            });
        }
        Ok(())
    }

    /// Computes the parameter-only slots unless `scratch` holds them for `params` already.
    #[inline]
    fn prepare<T: Real>(&self, params: &[T], scratch: &mut Scratch<T>) {
        if scratch.owner != self.id
            || scratch.slots.len() < self.slots
            || !scratch.same_params(params)
        {
            scratch.slots.clear();
            scratch.slots.resize(self.slots, Value::Scalar(T::zero()));
            scratch.owner = self.id;
            scratch.set_params(params);
            let svd = scratch.svd;
            let slots = &mut scratch.slots[..];
            for (op, &dst) in self.uniform.iter().zip(&self.uniform_dsts) {
                exec(op, dst as usize, slots, &[], params, svd);
            }
        }
    }

    #[inline]
    fn run<T: Real>(
        &self,
        inputs: &[Value<T>],
        params: &[T],
        scratch: &mut Scratch<T>,
    ) -> Value<T> {
        self.prepare(params, scratch);
        let svd = scratch.svd;
        let slots = &mut scratch.slots[..];
        for (op, &dst) in self.ops.iter().zip(&self.dsts) {
            exec(op, dst as usize, slots, inputs, params, svd);
        }
        slots[self.ret as usize]
    }

    fn check_mat3(&self) -> Result<(), EvalError> {
        let ins = &self.signature.inputs;
        if ins.len() != 1 {
            return Err(EvalError::InputCount {
                expected: ins.len(),
                got: 1,
            });
        }
        if ins[0].1 != Type::Mat3 {
            return Err(EvalError::InputType {
                index: 0,
                expected: ins[0].1,
                got: Type::Mat3,
            });
        }
        if self.signature.output != Type::Mat3 {
            return Err(EvalError::ReturnType {
                expected: Type::Mat3,
                got: self.signature.output,
            });
        }
        Ok(())
    }

    /// Evaluates a `F: mat3 -> mat3` program (an elastic or plastic law) at `f`.
    pub fn eval_mat3<T: Real>(
        &self,
        f: &Matrix3<T>,
        params: &[T],
        scratch: &mut Scratch<T>,
    ) -> Result<Matrix3<T>, EvalError> {
        self.check_mat3()?;
        self.check_params(params.len())?;
        let v = self.run(&[Value::Mat3(*f)], params, scratch);
        Ok(v.as_mat3()
            .unwrap_or_else(|| Matrix3::from_element(T::cst(f64::NAN))))
    }

    /// Evaluates a `F: mat3 -> mat3` program at every `fs[p]`, writing `out[p]`: the
    /// simulator's call, once per step with all particles.
    ///
    /// Instructions run outer and particles inner, over chunks of particles (see the
    /// `batch` module); the results are bitwise equal to [`Compiled::eval_mat3`] on each
    /// `fs[p]`.
    pub fn eval_mat3_batch<T: Real>(
        &self,
        fs: &[Matrix3<T>],
        params: &[T],
        out: &mut [Matrix3<T>],
        scratch: &mut Scratch<T>,
    ) -> Result<(), EvalError> {
        self.check_mat3()?;
        self.check_params(params.len())?;
        if fs.len() != out.len() {
            return Err(EvalError::BatchLength {
                inputs: fs.len(),
                outputs: out.len(),
            });
        }
        self.prepare(params, scratch);
        self.batch
            .run(fs, out, &scratch.slots, &mut scratch.lanes, scratch.svd);
        Ok(())
    }
}
