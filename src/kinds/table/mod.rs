//! A table as a search [`Problem`]: what lets the `llm`, `human` and `replay` proposers of
//! `ansatz search` work on tabular data (`ansatz regress --proposer llm ...`, or a task file
//! with `kind = "table"`, see [`task`]).
//!
//! Laws take the input columns (scalars named by their law names, or the 3x3 group as
//! `F`) and return the target. A candidate's constants are fitted by least squares
//! ([`lsq::restarts`]: L-BFGS from the law's defaults and from scattered restarts) on the
//! training rows, evaluating the compiled law row by row in `f64` and in a dual number for
//! the gradient; its fitness is the normalised mean squared error (1 = predicting the mean).

pub mod residuals;
pub mod task;

use crate::law::prompt::{Card, law_requirements, solution_requirements};
use crate::law::record::{Evaluation, FitRecord, FitSettings};
use crate::law::{self, LawDetail};
use crate::regress::data::{self, Column, Table};
use crate::regress::gp::variance;
use crate::regress::lsq::{self, LossGrad};
use crate::regress::matrix::{self, MatrixData};
use ansatz_engine::prompt::{FeedbackFormat, num};
use ansatz_engine::{
    Brief, Candidate, GoOn, Judged, LedgerError, Problem, Proposal, RunDir, Screening, Stage,
    Verdict,
};
use ansatz_grammar::{CheckedProgram, Compiled, Signature, Type, Value};
use ansatz_linalg::{DualSVec64, Real};
use nalgebra::Matrix3;
use std::cell::{Cell, RefCell};
use std::fmt::Write as _;
use std::time::Instant;

enum Target {
    Scalar {
        columns: Vec<Vec<f64>>,
        y: Vec<f64>,
        var: f64,
    },
    Matrix {
        data: MatrixData,
        var: f64,
    },
}

/// A table to regress, as a search problem.
pub struct TableProblem {
    name: String,
    signature: Signature,
    target: Target,
    setup: String,
    start: String,
    restarts: usize,
    description: String,
    held_out: Option<Box<TableProblem>>,
}

impl TableProblem {
    /// The problem of finding `target` from `inputs` on the rows of `train`. Scalar targets
    /// take scalar inputs (a 3x3 input group enters entry by entry); a matrix target takes
    /// exactly one 3x3 input group, as `F`.
    pub fn new(
        name: &str,
        train: &Table,
        inputs: &[Column],
        target: &Column,
    ) -> Result<Self, String> {
        let mut setup = format!(
            "### Context\n\nA table of {} observed rows ({}). Find a closed-form law, as simple as possible, that gives `{}` from the inputs. Constants you declare with `param` are fitted by least squares on these rows: L-BFGS from the starting values you write, then from 3 more starts where each constant is multiplied by a random factor between 0.1 and 10 (either sign for some); the best fit is kept, so starting values of the right size and sign matter. The error reported is the normalised mean squared error (NMSE: 0 is exact, 1 is no better than the mean).\n\n### Variables\n\n| name in the law | column | unit | type | min | max |\n|---|---|---|---|---|---|\n",
            train.rows(),
            train.origin,
            target.name()
        );
        let unit = |i: usize| train.units.get(i).cloned().flatten().unwrap_or_default();
        let range = |i: usize| {
            let c = &train.columns[i];
            let lo = c.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = c.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            (lo, hi)
        };
        match target {
            Column::Scalar { index, .. } => {
                let mut names = Vec::new();
                let mut columns = Vec::new();
                for c in inputs {
                    for &i in c.indices() {
                        let law = if c.indices().len() == 1 {
                            c.law_name().to_string()
                        } else {
                            data::law_name(&train.names[i], &names.iter().cloned().collect())
                        };
                        let (lo, hi) = range(i);
                        let _ = writeln!(
                            setup,
                            "| `{law}` | {} | {} | scalar | {lo:.6} | {hi:.6} |",
                            train.names[i],
                            unit(i)
                        );
                        names.push(law);
                        columns.push(train.columns[i].clone());
                    }
                }
                let (lo, hi) = range(*index);
                let _ = writeln!(
                    setup,
                    "| (the law's value) | {} | {} | scalar | {lo:.6} | {hi:.6} |",
                    target.name(),
                    unit(*index)
                );
                let y = train.columns[*index].clone();
                let mean = y.iter().sum::<f64>() / y.len().max(1) as f64;
                let start = format!("param c0 = {}\nreturn c0", ansatz_grammar::number(mean));
                Ok(TableProblem {
                    name: name.to_string(),
                    signature: Signature::new(
                        names.iter().map(|n| (n.clone(), Type::Scalar)),
                        Type::Scalar,
                    ),
                    target: Target::Scalar {
                        var: variance(&y),
                        columns,
                        y,
                    },
                    setup,
                    start,
                    restarts: 3,
                    description: String::new(),
                    held_out: None,
                })
            }
            Column::Matrix { indices, .. } => {
                let input = match inputs {
                    [Column::Matrix { indices, .. }] => *indices,
                    _ => return Err("a 3x3 target needs exactly one 3x3 input group".into()),
                };
                let mats = |idx: &[usize; 9]| -> Vec<Matrix3<f64>> {
                    (0..train.rows())
                        .map(|r| Matrix3::from_row_slice(&idx.map(|i| train.columns[i][r])))
                        .collect()
                };
                let _ = writeln!(
                    setup,
                    "| `F` | {} (3x3, row-major) | | mat3 | | |\n| (the law's value) | {} (3x3) | | mat3 | | |",
                    inputs[0].name(),
                    target.name()
                );
                Ok(TableProblem {
                    name: name.to_string(),
                    signature: Signature::elastic(),
                    target: {
                        let data = MatrixData {
                            inputs: mats(&input),
                            targets: mats(indices),
                        };
                        Target::Matrix {
                            var: data.variance(),
                            data,
                        }
                    },
                    setup,
                    start: "param c0 = 1.0\nreturn c0 * (F @ F.T - I)".into(),
                    restarts: 3,
                    description: String::new(),
                    held_out: None,
                })
            }
        }
    }

    /// The problem with a description of the data (what was measured, how; shown in the
    /// prompt under "About the data").
    pub fn with_description(mut self, description: &str) -> Self {
        self.description = description.trim().to_string();
        self
    }

    /// The problem with `rows`, rows of the same table kept out of the fit: the default
    /// feedback reports a law's error on them.
    pub fn with_held_out(mut self, rows: TableProblem) -> Self {
        self.setup = self.setup.replacen(
            "\n\n### Variables",
            &format!(
                " Another {} rows are held out of the fit: the feedback gives the error on them \
                 too, to tell a law that generalises from one that fits noise.\n\n### Variables",
                rows.rows()
            ),
            1,
        );
        self.held_out = Some(Box::new(rows));
        self
    }

    /// The problem told that `rows` further rows are kept for the final test of the chosen
    /// law (so the rows it is told about add up to the data given).
    pub fn with_test_rows(mut self, rows: usize) -> Self {
        if rows > 0 {
            self.setup = self.setup.replacen(
                "\n\n### Variables",
                &format!(
                    " A further {rows} rows are kept for the final test of the chosen law: \
                     neither the fit nor the feedback uses them.\n\n### Variables"
                ),
                1,
            );
        }
        self
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        match &self.target {
            Target::Scalar { y, .. } => y.len(),
            Target::Matrix { data, .. } => data.inputs.len(),
        }
    }

    /// The normalised mean squared error of a law at `params` on this table's rows
    /// (`+∞` where it is not finite): 1 − R².
    pub fn nmse(&self, law: &ansatz_grammar::CheckedProgram, params: &[f64]) -> f64 {
        self.loss(law.compiled(), params, false)
            .map_or(f64::INFINITY, |(c, _)| c)
    }

    /// Law minus target on every row at `params` (scalar targets; None for a 3x3 target or
    /// where the law is not finite).
    fn residuals(&self, law: &Compiled, params: &[f64]) -> Option<Vec<f64>> {
        let Target::Scalar { y, .. } = &self.target else {
            return None;
        };
        self.predict_compiled(law, params)?
            .iter()
            .zip(y)
            .map(|(f, y)| f.is_finite().then_some(f - y))
            .collect()
    }

    /// The default format's feedback of a fitted law: NMSE, the constants with where they
    /// started, failed evaluations, and the error by quartile of each input.
    fn full_feedback(&self, law: &Compiled, record: &FitRecord) -> String {
        let constants: Vec<String> = law
            .param_names()
            .iter()
            .zip(record.best_params())
            .zip(&record.start_params)
            .map(|((n, v), s)| format!("{n} = {} (started at {})", num(*v, 6), num(*s, 6)))
            .collect();
        let failed = record.evaluations.iter().filter(|e| !e.ok()).count();
        let held_out = self.held_out.as_ref().map_or(String::new(), |h| {
            let e = h
                .loss(law, record.best_params(), false)
                .map_or(f64::INFINITY, |(c, _)| c);
            format!(
                "\nOn the {} held-out rows (not fitted): {}.",
                h.rows(),
                num(e, 4)
            )
        });
        let mut s = format!(
            "Normalised mean squared error on the training rows: {} (R² = 1 - NMSE).{held_out}\n\
             Fitted constants: {}.\n{} least-squares evaluations over {} starts{}.",
            num(record.fitness, 4),
            if constants.is_empty() {
                "none".into()
            } else {
                constants.join(", ")
            },
            record.evaluations.len(),
            self.restarts + 1,
            if failed > 0 {
                format!(", {failed} of them not finite (rejected probes)")
            } else {
                String::new()
            }
        );
        if let (Some(r), Target::Scalar { columns, var, .. }) =
            (self.residuals(law, record.best_params()), &self.target)
        {
            let inputs: Vec<(String, &[f64])> = self
                .signature
                .inputs
                .iter()
                .map(|(n, _)| n.clone())
                .zip(columns.iter().map(Vec::as_slice))
                .collect();
            let table = residuals::by_quartile(&inputs, &r, *var);
            if !table.is_empty() {
                s.push_str("\n\n");
                s.push_str(&table);
            }
        }
        s
    }

    /// The law's value at `params` on each row of a scalar target (`None` for a 3x3
    /// target; NaN where the law cannot be evaluated).
    pub fn predict(&self, law: &CheckedProgram, params: &[f64]) -> Option<Vec<f64>> {
        self.predict_compiled(law.compiled(), params)
    }

    fn predict_compiled(&self, law: &Compiled, params: &[f64]) -> Option<Vec<f64>> {
        let Target::Scalar { columns, y, .. } = &self.target else {
            return None;
        };
        let mut scratch = law.scratch::<f64>();
        let mut inputs: Vec<Value<f64>> = vec![Value::Scalar(0.0); columns.len()];
        Some(
            (0..y.len())
                .map(|r| {
                    for (v, c) in inputs.iter_mut().zip(columns) {
                        *v = Value::Scalar(c[r]);
                    }
                    law.eval(&inputs, params, &mut scratch)
                        .ok()
                        .and_then(|v| v.as_scalar())
                        .unwrap_or(f64::NAN)
                })
                .collect(),
        )
    }

    /// NMSE of `law` at `params` and its gradient.
    fn loss(&self, law: &Compiled, params: &[f64], grad: bool) -> LossGrad {
        match &self.target {
            Target::Matrix { data, var } => matrix::nmse(law, data, *var, params, grad),
            Target::Scalar { columns, y, var } => {
                let n = y.len();
                let scale = 1.0 / (n as f64 * var);
                let mut scratch = law.scratch::<f64>();
                let mut inputs: Vec<Value<f64>> = vec![Value::Scalar(0.0); columns.len()];
                let mut cost = 0.0;
                for r in 0..n {
                    for (v, c) in inputs.iter_mut().zip(columns) {
                        *v = Value::Scalar(c[r]);
                    }
                    let f = law.eval(&inputs, params, &mut scratch).ok()?.as_scalar()?;
                    cost += (f - y[r]).powi(2);
                }
                cost *= scale;
                if !cost.is_finite() {
                    return None;
                }
                if !grad {
                    return Some((cost, vec![0.0; params.len()]));
                }
                type D = DualSVec64<1>;
                let mut scratch = law.scratch::<D>();
                let mut dinputs: Vec<Value<D>> = vec![Value::Scalar(D::from(0.0)); columns.len()];
                let mut g = vec![0.0; params.len()];
                for (k, gk) in g.iter_mut().enumerate() {
                    let p: Vec<D> = params
                        .iter()
                        .enumerate()
                        .map(|(i, &v)| if i == k { D::var(v, 0) } else { D::from(v) })
                        .collect();
                    for r in 0..n {
                        for (v, c) in dinputs.iter_mut().zip(columns) {
                            *v = Value::Scalar(D::from(c[r]));
                        }
                        let f = law.eval(&dinputs, &p, &mut scratch).ok()?.as_scalar()?;
                        *gk += 2.0 * (f.re() - y[r]) * f.eps(0);
                    }
                    *gk *= scale;
                }
                g.iter().all(|v| v.is_finite()).then_some((cost, g))
            }
        }
    }
}

impl Problem for TableProblem {
    type Detail = LawDetail;
    type Solution = CheckedProgram;
    type Settings = FitSettings;

    fn name(&self) -> &str {
        &self.name
    }

    fn noun(&self) -> &str {
        "law"
    }

    fn duplicate_message(&self, first: usize) -> String {
        law::duplicate_message(first)
    }

    fn start(&self) -> Option<(String, String)> {
        Some(("the mean of the target".into(), self.start.clone()))
    }

    fn screen(&self, proposal: &Proposal) -> Screening<LawDetail, CheckedProgram> {
        law::screen(proposal, &self.signature)
    }

    fn report_section(&self, candidate: &Candidate<LawDetail>) -> String {
        law::report_section(&candidate.detail, &self.signature, |_| String::new())
    }

    fn write_best(&self, run: &RunDir, best: &Candidate<LawDetail>) -> Result<(), LedgerError> {
        law::write_best(run, &self.name, best, &self.signature)
    }

    fn evaluate(
        &self,
        checked: CheckedProgram,
        detail: &mut LawDetail,
        settings: &FitSettings,
        go_on: &mut GoOn<'_>,
    ) -> Judged {
        let started = Instant::now();
        let law = checked.compiled();
        let start: Vec<f64> = law.defaults().to_vec();
        let evaluations = RefCell::new(Vec::<Evaluation>::new());
        let stopped = Cell::new(false);
        let limit = settings.max_evaluations.max(1);
        // Each start gets `limit` evaluations, all of them `max_seconds` (at most
        // lsq::MAX_SECONDS); the line search checks both, and the stop flag, at every
        // evaluation and ends with an error rather than loop on a refused point.
        let limits = lsq::Limits {
            evaluations: limit,
            deadline: lsq::deadline_in(settings.max_seconds),
            stop: Some(&stopped),
        };
        let mut eval = |p: &[f64], grad: bool| -> LossGrad {
            if stopped.get() || evaluations.borrow().len() >= limit * (self.restarts + 1) {
                stopped.set(true);
                return None;
            }
            let t = Instant::now();
            let r = self.loss(law, p, grad);
            let e = Evaluation {
                params: p.to_vec(),
                loss: r.as_ref().map_or(f64::NAN, |(c, _)| *c),
                velocity: None,
                gradient: r.as_ref().map_or_else(Vec::new, |(_, g)| g.clone()),
                error: r
                    .is_none()
                    .then(|| "the law is not finite on some row".to_string()),
                seconds: t.elapsed().as_secs_f64(),
            };
            if !go_on() {
                stopped.set(true);
            }
            evaluations.borrow_mut().push(e);
            r
        };
        let fitted =
            lsq::restarts_within(&mut eval, &start, limit as u64, self.restarts, 0, &limits);
        let evaluations = evaluations.into_inner();
        let best = evaluations
            .iter()
            .enumerate()
            .filter(|(_, e)| e.ok())
            .min_by(|a, b| a.1.loss.total_cmp(&b.1.loss))
            .map(|(i, _)| i);
        let fitness = best.map_or(f64::INFINITY, |i| evaluations[i].loss);
        // Which bound of the fit, if any, ended it.
        let bound = if Instant::now() >= limits.deadline {
            Some(format!(
                "its wall-clock bound of {} s ran out",
                ansatz_grammar::number(settings.max_seconds.min(lsq::MAX_SECONDS))
            ))
        } else if evaluations.len() >= limit * (self.restarts + 1) {
            Some(format!("its {} evaluations were spent", evaluations.len()))
        } else {
            None
        };
        let verdict = match (best, &bound) {
            (Some(_), None) => Verdict::Ok {
                note: format!("L-BFGS with {} restarts", self.restarts),
            },
            (Some(_), Some(bound)) => Verdict::Ok {
                note: format!("L-BFGS with {} restarts, ended when {bound}", self.restarts),
            },
            (None, Some(bound)) if evaluations.is_empty() => Verdict::Failed {
                stage: Stage::Timeout,
                message: format!("the fit ended before its first evaluation: {bound}"),
            },
            (None, _) => Verdict::Failed {
                stage: Stage::Evaluate,
                message: "the law is not finite on the training rows for any parameters tried"
                    .into(),
            },
        };
        let full = settings.feedback == FeedbackFormat::Full;
        let feedback = if best.is_some() && full {
            String::new()
        } else if best.is_some() {
            let names = law.param_names();
            let params: Vec<String> = names
                .iter()
                .zip(&fitted.params)
                .map(|(n, v)| format!("{n} = {}", ansatz_grammar::number(*v)))
                .collect();
            format!(
                "Normalised mean squared error on the training rows: {fitness:.6e} (R² = {:.9}).\nFitted constants: {}.",
                1.0 - fitness,
                if params.is_empty() {
                    "none".into()
                } else {
                    params.join(", ")
                }
            )
        } else {
            "The law gave a non-finite value on some training row for every parameter tried (a log or sqrt of a negative number, a division by zero?).".into()
        };
        let record = FitRecord {
            task: self.name.clone(),
            settings: settings.clone(),
            law: checked.program().to_string(),
            param_names: law.param_names().to_vec(),
            start_params: start,
            grid: None,
            refine: None,
            best,
            fitness,
            final_params: fitted.params,
            verdict,
            evaluations,
            seconds: started.elapsed().as_secs_f64(),
        };
        let feedback = if feedback.is_empty() {
            self.full_feedback(law, &record)
        } else {
            feedback
        };
        detail.finish(record, feedback)
    }

    fn brief(&self) -> Brief {
        let what = match self.signature.output {
            Type::Mat3 => "a 3x3 matrix (`mat3`), from `F`".to_string(),
            _ => format!(
                "a scalar, from the scalar inputs {}",
                self.signature
                    .inputs
                    .iter()
                    .map(|(n, _)| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        let card = match self.signature.output {
            Type::Mat3 => Card::Elastic,
            _ => Card::Scalar,
        };
        let mut setup = self.setup.clone();
        if !self.description.is_empty() {
            setup = setup.replacen(
                "\n\n### Variables",
                &format!(
                    "\n\n### About the data\n\n{}\n\n### Variables",
                    self.description
                ),
                1,
            );
        }
        crate::law::prompt::data_brief(
            setup,
            format!(
                "{}\n2. The law returns {what}. Use only the input names listed under Variables.\n3. Declare every constant to fit with `param NAME = VALUE` (at most 8), starting near a plausible value.\n\n{}",
                law_requirements(card),
                solution_requirements()
            ),
        )
    }
}

impl law::LawProblem for TableProblem {
    fn signature(&self) -> &Signature {
        &self.signature
    }
}

/// The table kind (`kind = "table"`): laws fitted to the rows of a data file by least
/// squares.
pub struct TableKind;

impl super::ProblemKind for TableKind {
    type Problem = TableProblem;

    fn load(path: &std::path::Path) -> Result<(TableProblem, FitSettings), super::KindError> {
        let task = task::TableTask::read(path)?;
        let settings = task.fit_settings();
        Ok((task.load()?.train, settings))
    }

    fn apply(settings: &mut FitSettings, o: &super::Overrides) -> Result<(), super::KindError> {
        if let Some(n) = o.fit_evaluations {
            settings.max_evaluations = n;
        }
        if o.no_library {
            settings.library = false;
        }
        if let Some(f) = o.feedback {
            settings.feedback = f;
        }
        Ok(())
    }

    fn offline(
        _: &TableProblem,
        settings: &FitSettings,
    ) -> Box<dyn ansatz_engine::Proposer<TableProblem>> {
        let mut proposer =
            crate::evolve::EvolveProposer::new(ansatz_simulator::MaterialKind::Elastic);
        proposer.config.library = settings.library;
        Box::new(proposer)
    }

    fn answer(problem: &TableProblem, best: &Candidate<LawDetail>) -> String {
        law::fitted_law(&best.detail, &problem.signature)
            .map_or_else(String::new, |law| law.program().to_string())
    }
}
