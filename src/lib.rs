//! ansatz
