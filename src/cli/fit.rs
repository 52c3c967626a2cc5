//! `ansatz fit TASK.toml LAW.law [--optimizer lbfgs|adam] [--out DIR]`: fits the law's
//! constants, prints the feedback a proposer would see, and writes `fit.json` (the record,
//! the key-particle states) and `loss.svg` into the output directory.

use super::{ProgressTicker, read_params};
use ansatz::engine::Verdict;
use ansatz::engine::plot::{Chart, Series, Style};
use ansatz::kinds::mpm::feedback::{Feedback, KeyStates};
use ansatz::kinds::mpm::fit::{self as fitting, Optimizer, fit};
use ansatz::kinds::mpm::task::{Task, TaskError};
use anyhow::Context;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Exit status when the law cannot be simulated or fitted at all.
pub const FIT_FAILED: u8 = 3;

/// Options of `ansatz fit`.
pub struct FitArgs<'a> {
    /// The task file.
    pub task: &'a Path,
    /// The law file.
    pub law: &'a Path,
    /// Optimiser override.
    pub optimizer: Option<Optimizer>,
    /// Starting parameters (JSON), overriding the law's defaults.
    pub params: Option<&'a str>,
    /// Whether L-BFGS starts from the best point of the grid of moduli.
    pub start_grid: bool,
    /// Output directory.
    pub out: Option<PathBuf>,
}

/// Runs `ansatz fit`.
pub fn run(args: FitArgs<'_>) -> anyhow::Result<ExitCode> {
    let ticker = ProgressTicker::spinner("loading the task");
    let task = Task::load(args.task);
    ticker.finish();
    let task = task.map_err(super::invalid)?;
    let (law, src) = match task.load_law(args.law) {
        Ok(x) => x,
        Err(TaskError::Law { path, message }) => {
            eprintln!("{}: {message}", path.display());
            return Ok(ExitCode::from(super::check::INVALID_LAW));
        }
        Err(e) => return Err(super::invalid(e)),
    };
    let mut settings = fitting::settings_of(&task)
        .map_err(anyhow::Error::msg)
        .map_err(super::invalid)?;
    if let Some(o) = args.optimizer {
        settings.optimizer = o;
    }
    settings.start_grid &= args.start_grid;
    let start = match args.params {
        Some(p) => Some(read_params(p, &law)?),
        None => None,
    };
    let expected = match settings.optimizer {
        _ if law.params().is_empty() => 1,
        Optimizer::Adam => settings.adam_epochs as u64 + 1,
        Optimizer::Lbfgs => settings.max_evaluations as u64,
    };
    let ticker = ProgressTicker::bar(expected, "fitting");
    let mut best = f64::INFINITY;
    let record = fit(&task, &law, start.as_deref(), &settings, &mut |e| {
        if e.loss < best {
            best = e.loss;
        }
        ticker.tick(format!("loss {:.6e}  best {best:.6e}", e.loss));
        true
    });
    ticker.finish();
    let states = if record.is_ok() {
        let ticker = ProgressTicker::spinner("free rollout of the final parameters");
        let s = KeyStates::simulate(&task, &law, &record.final_params).ok();
        ticker.finish();
        s
    } else {
        None
    };
    let feedback = Feedback {
        record,
        states,
        diagnostics: None,
    };
    println!("{}", feedback.text());

    let out = args.out.unwrap_or_else(|| {
        let stem = args
            .law
            .file_stem()
            .map_or("law".into(), |s| s.to_string_lossy().into_owned());
        let optimizer = match settings.optimizer {
            Optimizer::Lbfgs => "lbfgs",
            Optimizer::Adam => "adam",
        };
        PathBuf::from("runs/fit").join(format!("{}-{stem}-{optimizer}", task.name()))
    });
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let json = serde_json::json!({
        "task": task.name(),
        "law_file": args.law.display().to_string(),
        "law_source": src,
        "params": feedback.record.param_names.iter().cloned()
            .zip(feedback.record.final_params.iter().map(|&v| serde_json::json!(v)))
            .collect::<serde_json::Map<String, serde_json::Value>>(),
        "feedback": feedback,
        "feedback_text": feedback.text(),
    });
    let json_path = out.join("fit.json");
    std::fs::write(&json_path, serde_json::to_string_pretty(&json)? + "\n")
        .with_context(|| format!("writing {}", json_path.display()))?;
    let evaluations = &feedback.record.evaluations;
    let mut curves = vec![Series {
        name: "position loss".into(),
        points: evaluations
            .iter()
            .enumerate()
            .map(|(i, e)| (i as f64, e.loss))
            .collect(),
    }];
    if evaluations.iter().any(|e| e.velocity.is_some()) {
        curves.push(Series {
            name: "velocity loss".into(),
            points: evaluations
                .iter()
                .enumerate()
                .map(|(i, e)| (i as f64, e.velocity.unwrap_or(f64::NAN)))
                .collect(),
        });
    }
    let svg = curves
        .into_iter()
        .fold(
            Chart::new(
                &format!("{}: {}", task.name(), args.law.display()),
                "evaluation",
                "loss",
            )
            .log_y(true)
            .integer_x(),
            |chart, s| chart.series(Style::Line, s),
        )
        .svg();
    let svg_path = out.join("loss.svg");
    std::fs::write(&svg_path, svg).with_context(|| format!("writing {}", svg_path.display()))?;
    let r = &feedback.record;
    eprintln!(
        "{} evaluations in {:.1} s; fitness {:.6e}; wrote {} and {}",
        r.evaluations.len(),
        r.seconds,
        r.fitness,
        json_path.display(),
        svg_path.display()
    );
    Ok(match &r.verdict {
        Verdict::Ok { .. } => ExitCode::SUCCESS,
        Verdict::Failed { stage, message } => {
            eprintln!("fit failed at the {stage} stage: {message}");
            ExitCode::from(FIT_FAILED)
        }
    })
}
