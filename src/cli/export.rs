//! `ansatz export FILE.law --to latex|sympy|numpy|pytorch|rust [--params fitted.json]
//! [--simplify] [--out FILE]`: the law in closed form for another tool.

use super::check::INVALID_LAW;
use super::simplify::load_file;
use ansatz_grammar::export::{Target, export};
use ansatz_grammar::{CheckedProgram, Signature, check, egraph};
use anyhow::Context;
use std::path::Path;
use std::process::ExitCode;

/// What to export and where.
#[derive(Debug)]
pub struct ExportArgs<'a> {
    /// The law file.
    pub file: &'a Path,
    /// The target (`latex`, `sympy`, `numpy`, `pytorch`, `rust`).
    pub to: &'a str,
    /// Parameter values replacing the defaults (JSON `{name: value}` or a fit result).
    pub params: Option<&'a str>,
    /// The task signature.
    pub signature: &'a str,
    /// Export the simplified law instead of the law as written.
    pub simplify: bool,
    /// Output file (default: standard output).
    pub out: Option<&'a Path>,
}

/// Exports a law file; an invalid law is reported on stderr with exit status 2.
pub fn run(args: &ExportArgs<'_>) -> anyhow::Result<ExitCode> {
    let target: Target = args.to.parse().map_err(super::invalid)?;
    let signature = Signature::named(args.signature).map_err(super::invalid)?;
    let law = match load_file(args.file, &signature)? {
        Ok(law) => law,
        Err(message) => {
            eprintln!("{}: {message}", args.file.display());
            return Ok(ExitCode::from(INVALID_LAW));
        }
    };
    let law = match args.params {
        Some(path) => {
            let values = super::read_params(path, &law)?;
            with_defaults(&law, &values).map_err(super::invalid)?
        }
        None => law,
    };
    let law = if args.simplify {
        check(&egraph::simplify(&law).program, &signature)
            .context("the simplified law does not check (a bug)")?
    } else {
        law
    };
    let text = export(&law, target);
    match args.out {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?
        }
        None => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}

/// The law with new default values for its parameters (in declaration order).
pub fn with_defaults(law: &CheckedProgram, values: &[f64]) -> anyhow::Result<CheckedProgram> {
    let mut program = law.program().clone();
    anyhow::ensure!(
        values.len() == program.params.len(),
        "expected {} parameter values, got {}",
        program.params.len(),
        values.len()
    );
    for (p, v) in program.params.iter_mut().zip(values) {
        anyhow::ensure!(v.is_finite(), "parameter `{}` is not finite: {v}", p.name);
        p.value = *v;
    }
    Ok(check(&program, law.signature())?)
}
