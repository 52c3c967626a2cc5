//! Integration tests of the root package, built as one test binary.

mod cli;
mod dsl;
mod ehrlich;
mod evolve;
mod executor;
mod export;
mod fit;
mod kinds;
mod laws;
mod llm;
mod prompt;
mod regress;
mod regress_data;
mod search;
mod support;
