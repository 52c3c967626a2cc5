//! Symbolic regression on tables: the same engine on ordinary data.
//!
//! A table's columns are the inputs of a law (named by the headers, [`data`]), one column
//! or a group of nine columns is the target, and a law's constants are fitted by least
//! squares ([`lsq`]). Scalar targets are searched by genetic programming on expression
//! trees ([`gp`], [`expr`]); a matrix target (`F -> tau`) is searched with the law
//! language's constitutive forms ([`matrix`]). [`run`] is `ansatz regress`;
//! [`estimator`] is the same search on arrays in memory (the Python package).

pub mod data;
pub mod estimator;
pub mod expr;
pub mod gp;
pub mod lsq;
pub mod matrix;
pub mod run;
