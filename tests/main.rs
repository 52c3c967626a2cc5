//! Integration tests of the root package, built as one test binary.

mod dsl;
mod laws;
