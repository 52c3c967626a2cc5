//! `ansatz simplify FILE.law [--signature elastic|plastic|SIG]`: the law simplified in the
//! e-graph, printed in the law language, then its complexity and canonical hash.

use super::check::INVALID_LAW;
use ansatz_grammar::{CheckedProgram, Signature, egraph};
use anyhow::Context;
use std::fmt::Write;
use std::path::Path;
use std::process::ExitCode;

/// Simplifies `file`, printing the report (stdout) or the law's error (stderr, exit 2).
pub fn run(file: &Path, signature: &str) -> anyhow::Result<ExitCode> {
    let signature = Signature::named(signature).map_err(super::invalid)?;
    match load_file(file, &signature)? {
        Ok(law) => {
            print!("{}", report(&law));
            Ok(ExitCode::SUCCESS)
        }
        Err(message) => {
            eprintln!("{}: {message}", file.display());
            Ok(ExitCode::from(INVALID_LAW))
        }
    }
}

/// Reads and checks a law file: `Err` for I/O, `Ok(Err(rendered))` for an invalid law.
pub fn load_file(
    file: &Path,
    signature: &Signature,
) -> anyhow::Result<Result<CheckedProgram, String>> {
    let bytes = std::fs::read(file)
        .with_context(|| format!("reading {}", file.display()))
        .map_err(super::invalid)?;
    let Ok(src) = std::str::from_utf8(&bytes) else {
        let message = ansatz_grammar::parse_bytes(&bytes)
            .err()
            .map(|e| e.render())
            .unwrap_or_default();
        return Ok(Err(message));
    };
    Ok(ansatz_grammar::load(src, signature).map_err(|e| e.render()))
}

/// The simplified law, then comment lines with its complexity, hash and canonical form.
pub fn report(law: &CheckedProgram) -> String {
    let s = egraph::simplify(law);
    let mut out = format!("{}\n\n", s.program);
    let _ = writeln!(
        out,
        "# complexity {} -> {} (canonical form: {})",
        s.original_complexity, s.complexity, s.canonical.complexity
    );
    let _ = writeln!(out, "# hash {}", s.canonical.hash_hex());
    let _ = writeln!(
        out,
        "# e-graph: {} iterations, {} nodes, {} classes, stopped by {}",
        s.stats.iterations, s.stats.nodes, s.stats.classes, s.stats.stop
    );
    out.push_str("# canonical form:\n");
    for line in s.canonical.form.lines() {
        let _ = writeln!(out, "#   {line}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_starts_with_a_law_that_loads() {
        let law = ansatz_grammar::load(
            "param mu = 2\nreturn -(mu * (I - F @ F.T)) + 0 * F",
            &Signature::elastic(),
        )
        .unwrap();
        let r = report(&law);
        let text = r.split("\n\n#").next().unwrap();
        assert_eq!(text, "param mu = 2\nreturn (F @ F.T - I) * mu");
        assert!(r.contains("# complexity 13 -> 8"), "{r}");
    }
}
