//! Command-line interface: argument definitions and dispatch to one module per command.

pub mod check;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// Discover interpretable physical laws.
#[derive(Debug, Parser)]
#[command(name = "ansatz", version, about)]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Parse and type-check a law file: print its canonical form, parameters and types,
    /// or the error (line, column, excerpt, what was expected) and exit with status 2.
    Check {
        /// The law file (`.law`).
        file: PathBuf,
        /// The task signature: `elastic`, `plastic` or explicit, e.g. "F: mat3 -> mat3".
        #[arg(long, default_value = "elastic")]
        signature: String,
    },
}

/// Runs a parsed command line; `Err` is for failures outside the law (I/O, bad options).
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Check { file, signature } => check::run(&file, &signature),
    }
}
