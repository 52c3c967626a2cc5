//! [`MoleculeProblem`]: a task, the tools and a budget bundled, with the few calls an engine
//! needs (brief, screen, dedup key, evaluate, feedback, exports).

use std::path::Path;

use crate::error::{Rejection, TaskError, ToolError};
use crate::evaluate::{MoleculeEvaluation, evaluate, evaluate_many};
use crate::evolution::{Evolution, EvolutionConfig};
use crate::screen::{Molecule, screen, screen_many};
use crate::task::{Budget, Task};
use crate::tools::{ToolPaths, Tools};

/// A molecule-design problem ready to run.
#[derive(Debug, Clone)]
pub struct MoleculeProblem {
    /// The task.
    pub task: Task,
    /// The tools found.
    pub tools: Tools,
    /// The evaluation budget (defaults to the task's).
    pub budget: Budget,
}

/// Errors making a [`MoleculeProblem`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ProblemError {
    /// The task could not be loaded.
    #[error(transparent)]
    Task(#[from] TaskError),
    /// A tool is missing.
    #[error(transparent)]
    Tool(#[from] ToolError),
}

impl MoleculeProblem {
    /// The built-in task `name` ("homo", "lumo", "gap", "gap_minus2") with the tools found from
    /// `paths`.
    pub fn builtin(name: &str, paths: &ToolPaths) -> Result<Self, ProblemError> {
        Self::new(Task::builtin(name)?, paths)
    }

    /// The task file at `path` with the tools found from `paths`.
    pub fn load(path: &Path, paths: &ToolPaths) -> Result<Self, ProblemError> {
        Self::new(Task::load(path)?, paths)
    }

    /// `task` with the tools found from `paths` and the task's budget.
    pub fn new(task: Task, paths: &ToolPaths) -> Result<Self, ProblemError> {
        let tools = Tools::discover(paths)?;
        let budget = task.budget.clone();
        Ok(Self {
            task,
            tools,
            budget,
        })
    }

    /// The brief for a language model.
    pub fn brief(&self) -> String {
        crate::prompt::brief(&self.task)
    }

    /// Screens one reply.
    pub fn screen(&self, reply: &str) -> Result<Molecule, Rejection> {
        screen(reply, &self.task.rules, &self.tools.python)
    }

    /// Screens many replies with one helper run.
    pub fn screen_many(&self, replies: &[&str]) -> Vec<Result<Molecule, Rejection>> {
        screen_many(replies, &self.task.rules, &self.tools.python)
    }

    /// The deduplication key of a molecule (canonical SMILES).
    pub fn dedup_key(molecule: &Molecule) -> String {
        molecule.canonical.clone()
    }

    /// Evaluates one molecule with the problem's budget.
    pub fn evaluate(&self, molecule: &Molecule) -> MoleculeEvaluation {
        evaluate(molecule, &self.task, &self.budget, &self.tools)
    }

    /// Evaluates many molecules on `threads` threads.
    pub fn evaluate_many(&self, molecules: &[Molecule], threads: usize) -> Vec<MoleculeEvaluation> {
        evaluate_many(molecules, &self.task, &self.budget, &self.tools, threads)
    }

    /// The feedback text on an evaluation.
    pub fn feedback(&self, eval: &MoleculeEvaluation) -> String {
        crate::prompt::feedback(&self.task, eval)
    }

    /// A fresh offline proposer for this problem.
    pub fn offline_proposer(&self, config: EvolutionConfig) -> Evolution {
        Evolution::new(config, self.task.rules.clone(), self.tools.python.clone())
    }
}
