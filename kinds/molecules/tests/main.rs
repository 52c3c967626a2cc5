//! Tests of ansatz-molecules. `offline` needs no external tool; the other modules run the real
//! RDKit helper, xtb and obabel (install them with `.ci/setup-molecules.sh`).

mod evaluation;
mod offline;
mod proposer;
mod screening;

use ansatz_molecules::Tools;

/// The installed tools; a missing tool fails the test with the install command.
pub fn tools() -> Tools {
    match Tools::from_env() {
        Ok(t) => t,
        Err(e) => panic!("{e} (run .ci/setup-molecules.sh)"),
    }
}

/// A test data file's text.
pub fn data(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"))
}
