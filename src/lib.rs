//! ansatz: discover interpretable physical laws. The root crate joins the law language
//! (`ansatz-grammar`) and the differentiable simulator (`ansatz-simulator`): law programs
//! become materials ([`law`]), tasks say what to fit ([`task`]), and [`fit`] finds a law's
//! constants by gradient descent through the simulation.
#![warn(missing_docs)]

pub mod evolve;
pub mod feedback;
pub mod fit;
pub mod law;
pub mod llm;
pub mod plot;
pub mod regress;
pub mod search;
pub mod task;
