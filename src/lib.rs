//! ansatz: discovery by bilevel search. The search engine itself is the crate
//! `ansatz-engine` (re-exported as [`engine`]); this crate holds the kinds of problem it
//! solves, one folder each under [`kinds`] (constitutive laws fitted through the MPM
//! simulator, laws fitted to tables), what law problems share ([`law`]), the offline law
//! search ([`evolve`]) and symbolic regression on tables ([`regress`]).
#![warn(missing_docs)]

pub use ansatz_engine as engine;

pub mod evolve;
pub mod executor;
pub mod kinds;
pub mod law;
pub mod regress;
