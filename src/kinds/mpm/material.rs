//! A compiled law program as a simulator material: the bridge between the law language
//! (`ansatz-grammar`) and the simulator (`ansatz-simulator`), which do not know each other.

use ansatz_grammar::{Compiled, Scratch};
use ansatz_linalg::Real;
use ansatz_simulator::{Material, MaterialError, MaterialFactory, MaterialKind, StepContext};
use nalgebra::Matrix3;
use std::cell::RefCell;

/// A compiled `F: mat3 -> mat3` program with parameter values, evaluated on all particles
/// of a step at once ([`Compiled::eval_mat3_batch`]).
pub struct LawMaterial<'a, T: Real> {
    compiled: &'a Compiled,
    params: Vec<T>,
    kind: MaterialKind,
    scratch: RefCell<Scratch<T>>,
}

impl<'a, T: Real> LawMaterial<'a, T> {
    /// The program `compiled` with parameter values `params` (declaration order), as an
    /// elastic (F → τ) or plastic (F → F̃) material.
    pub fn new(
        compiled: &'a Compiled,
        params: &[T],
        kind: MaterialKind,
    ) -> Result<Self, MaterialError> {
        if params.len() != compiled.defaults().len() {
            return Err(MaterialError::ParameterCount {
                material: "law program",
                expected: compiled.defaults().len(),
                got: params.len(),
            });
        }
        Ok(LawMaterial {
            compiled,
            params: params.to_vec(),
            kind,
            scratch: RefCell::new(compiled.scratch()),
        })
    }
}

impl<T: Real> Material<T> for LawMaterial<'_, T> {
    fn kind(&self) -> MaterialKind {
        self.kind
    }

    fn apply(
        &self,
        def_grad: &[Matrix3<T>],
        out: &mut [Matrix3<T>],
        ctx: StepContext,
    ) -> Result<(), MaterialError> {
        let mut scratch = self.scratch.borrow_mut();
        scratch.set_svd(ctx.svd);
        self.compiled
            .eval_mat3_batch(def_grad, &self.params, out, &mut scratch)
            .map_err(|e| MaterialError::Law(e.to_string()))
    }
}

/// Builds [`LawMaterial`]s of one program for any scalar: the [`MaterialFactory`] the
/// fitting code hands to the simulator.
#[derive(Clone, Debug)]
pub struct LawFactory {
    compiled: Compiled,
    kind: MaterialKind,
}

impl LawFactory {
    /// A factory for `compiled` on the elastic or plastic path.
    pub fn new(compiled: Compiled, kind: MaterialKind) -> Self {
        LawFactory { compiled, kind }
    }

    /// The program.
    pub fn compiled(&self) -> &Compiled {
        &self.compiled
    }

    /// Elastic or plastic.
    pub fn kind(&self) -> MaterialKind {
        self.kind
    }
}

impl MaterialFactory for LawFactory {
    fn build<T: Real>(&self, params: &[T]) -> Result<Box<dyn Material<T> + '_>, MaterialError> {
        Ok(Box::new(LawMaterial::new(
            &self.compiled,
            params,
            self.kind,
        )?))
    }
}
