//! Symbolic regression on tables.

pub mod data;
