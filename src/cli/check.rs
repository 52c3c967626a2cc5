//! `ansatz check FILE.law [--signature elastic|plastic|SIG]`.

use ansatz_grammar::{BindingKind, CheckedProgram, Signature, load};
use anyhow::Context;
use std::fmt::Write;
use std::path::Path;
use std::process::ExitCode;

/// Exit status for a law that does not parse or type-check.
pub const INVALID_LAW: u8 = 2;

/// Checks `file` against `signature`, printing the report (stdout) or the error (stderr).
pub fn run(file: &Path, signature: &str) -> anyhow::Result<ExitCode> {
    let signature = Signature::named(signature).map_err(super::invalid)?;
    let bytes = std::fs::read(file)
        .with_context(|| format!("reading {}", file.display()))
        .map_err(super::invalid)?;
    match check_bytes(&bytes, &signature) {
        Ok(report) => {
            print!("{report}");
            Ok(ExitCode::SUCCESS)
        }
        Err(message) => {
            eprintln!("{}: {message}", file.display());
            Ok(ExitCode::from(INVALID_LAW))
        }
    }
}

/// The report for a valid law, or the rendered error (one-line message, caret excerpt,
/// what was expected) for an invalid one.
pub fn check_bytes(bytes: &[u8], signature: &Signature) -> Result<String, String> {
    let src = match std::str::from_utf8(bytes) {
        Ok(s) => s,
        Err(_) => {
            return Err(ansatz_grammar::parse_bytes(bytes)
                .err()
                .map(|e| e.render())
                .unwrap_or_default());
        }
    };
    load(src, signature)
        .map(|law| report(&law))
        .map_err(|e| e.render())
}

/// Canonical form, parameters with defaults, and the inferred types.
pub fn report(law: &CheckedProgram) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# canonical form\n{}\n", law.program());
    let _ = writeln!(out, "# parameters (name = default)");
    for (name, value) in law.params() {
        let _ = writeln!(out, "{name} = {}", ansatz_grammar::number(value));
    }
    let _ = writeln!(out, "\n# types (signature {})", law.signature());
    for b in law.bindings() {
        let kind = match b.kind {
            BindingKind::Input => " (input)",
            BindingKind::Param => " (param)",
            _ => "",
        };
        let _ = writeln!(out, "{}: {}{kind}", b.name, b.ty);
    }
    let _ = writeln!(out, "return: {}", law.return_type());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_a_valid_law() {
        let r = check_bytes(
            b"param mu = 2.0 # shear\nJ = det(F)\nreturn mu * (J - 1) * I\n",
            &Signature::elastic(),
        )
        .unwrap();
        assert!(
            r.contains("# canonical form\nparam mu = 2\nJ = det(F)\nreturn mu * (J - 1) * I\n"),
            "{r}"
        );
        assert!(
            r.contains("mu = 2\n")
                && r.contains("J: scalar\n")
                && r.contains("F: mat3 (input)")
                && r.contains("return: mat3")
        );
    }

    #[test]
    fn reports_an_error_with_excerpt() {
        let e = check_bytes(b"J = det(F)\nreturn F @ sum(F)\n", &Signature::elastic()).unwrap_err();
        assert!(e.starts_with("line 2, column 10: '@' needs"), "{e}");
        assert!(
            e.contains("   2 | return F @ sum(F)\n     |          ^"),
            "{e}"
        );
    }

    #[test]
    fn every_reference_law_checks() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tasks/laws");
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            let r = check_bytes(&bytes, &Signature::elastic());
            assert!(r.is_ok(), "{}: {:?}", path.display(), r.err());
        }
    }

    #[test]
    fn binary_exits_2_on_an_invalid_law() {
        // The binary itself is exercised through `run` (CARGO_BIN_EXE_* exists only for
        // integration tests, which live in the root `tests/`).
        let dir = std::env::temp_dir().join(format!("ansatz-check-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let bad = dir.join("bad.law");
        std::fs::write(&bad, "return torch.det(F)\n").unwrap();
        assert_eq!(run(&bad, "elastic").unwrap(), ExitCode::from(INVALID_LAW));
        let good = dir.join("good.law");
        std::fs::write(&good, "return F\n").unwrap();
        assert_eq!(run(&good, "plastic").unwrap(), ExitCode::SUCCESS);
        assert!(run(&good, "nonsense").is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
