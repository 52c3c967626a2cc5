//! Ehrlich functions: closed-form, constrained test functions over discrete sequences.
