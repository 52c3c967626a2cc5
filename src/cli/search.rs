//! `ansatz search TASK.toml [--proposer evolve|llm|human|replay] [--model M] [--rounds N]
//! [--seed S] [--out DIR] [--resume]`: the bilevel search, recorded in a run directory.

use super::ProgressTicker;
use ansatz::engine::llm::{ClientConfig, Provider, client};
use ansatz::engine::prompt::FeedbackFormat;
use ansatz::engine::propose::{HumanProposer, LlmProposer, ReplayProposer};
use ansatz::engine::{
    Candidate, Detail, Events, Executor, LlmSettings, LocalExecutor, Outcome, Problem, Proposer,
    ProposerKind, RunDir, Search, SearchConfig, Stage,
};
use ansatz::executor::{ExecutorKind, ExecutorRecord, SlurmEvaluator, slurm_settings_of_task};
use ansatz::kinds::mpm::fit::{Optimizer, PhysicsPolicy};
use ansatz::kinds::{Kind, KindVisitor, Overrides, ProblemKind};
use anyhow::{Context, bail};
use std::fmt::Write as _;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Options of `ansatz search` (see `ansatz search --help`).
/// The language model options shared by `ansatz search` and `ansatz regress`.
#[derive(Clone, Debug, clap::Args)]
pub struct ModelArgs {
    /// The model name (with --proposer llm; for `search` it implies --proposer llm).
    #[arg(long)]
    pub model: Option<String>,
    /// The model API: openai (any OpenAI-compatible server, the default) or anthropic.
    #[arg(long)]
    pub provider: Option<Provider>,
    /// API root, e.g. http://localhost:8000/v1 (vLLM), http://127.0.0.1:8080/v1 (llama.cpp),
    /// http://localhost:11434/v1 (Ollama). Default: the provider's public API.
    #[arg(long)]
    pub base_url: Option<String>,
    /// Environment variable holding the API key ("none": send no key). Default:
    /// OPENAI_API_KEY or ANTHROPIC_API_KEY for the public APIs, none with --base-url.
    #[arg(long)]
    pub api_key_env: Option<String>,
    /// Seconds before a model request times out (default 300).
    #[arg(long)]
    pub request_timeout: Option<f64>,
}

impl ModelArgs {
    /// The options given on the command line, by flag.
    fn given(&self) -> Vec<&'static str> {
        [
            ("--model", self.model.is_some()),
            ("--provider", self.provider.is_some()),
            ("--base-url", self.base_url.is_some()),
            ("--api-key-env", self.api_key_env.is_some()),
            ("--request-timeout", self.request_timeout.is_some()),
        ]
        .into_iter()
        .filter_map(|(flag, given)| given.then_some(flag))
        .collect()
    }
}

/// Refuses options that do not apply to `proposer`: the model options without the `llm`
/// proposer, `--replay` without the `replay` proposer.
pub(crate) fn refuse_inapplicable(
    llm: &ModelArgs,
    replay: Option<&Path>,
    proposer: ProposerKind,
) -> anyhow::Result<()> {
    let given = llm.given();
    if proposer != ProposerKind::Llm && !given.is_empty() {
        return Err(super::invalid(anyhow::anyhow!(
            "{} only with --proposer llm (the proposer is {proposer})",
            given.join(", ")
        )));
    }
    if proposer != ProposerKind::Replay && replay.is_some() {
        return Err(super::invalid(anyhow::anyhow!(
            "--replay only with --proposer replay (the proposer is {proposer})"
        )));
    }
    Ok(())
}

impl Default for ModelArgs {
    /// The command-line defaults: nothing given.
    fn default() -> Self {
        ModelArgs {
            model: None,
            provider: None,
            base_url: None,
            api_key_env: None,
            request_timeout: None,
        }
    }
}

#[derive(Debug, Default, clap::Args)]
pub struct SearchArgs {
    /// The task file (tasks/*.toml). With --resume, may be omitted: the run's own is used.
    pub task: Option<PathBuf>,
    /// Who writes the solutions: evolve (offline, the default), llm, human, replay.
    #[arg(long)]
    pub proposer: Option<ProposerKind>,
    /// The model and how to reach it.
    #[command(flatten)]
    pub llm: ModelArgs,
    /// Most rounds after the starting law (default 5). Given, the run does all of them
    /// unless --patience is given too (it still stops at its target).
    #[arg(long)]
    pub rounds: Option<usize>,
    /// Stop after this many rounds in a row without a better loss (default 1; 0: never).
    #[arg(long)]
    pub patience: Option<usize>,
    /// The seed (default 0).
    #[arg(long)]
    pub seed: Option<u64>,
    /// The run directory (default runs/search/TASK-PROPOSER-sSEED).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Continue the run in --out (or the default directory) where it stopped.
    #[arg(long)]
    pub resume: bool,
    /// The recorded run (a directory or ledger.jsonl) for --proposer replay.
    #[arg(long)]
    pub replay: Option<PathBuf>,
    /// Fitting threads (default: one per core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Most candidates fitted in the run.
    #[arg(long)]
    pub max_evaluations: Option<usize>,
    /// Wall-clock budget of the run, seconds (waiting for the proposer does not count).
    #[arg(long)]
    pub max_seconds: Option<f64>,
    /// Stop when a candidate's loss is at most this (default: 1e-12 of the starting law's
    /// loss, a law that reproduces the observed motion).
    #[arg(long)]
    pub target_loss: Option<f64>,
    /// Candidates shown to the proposer per round (default 5).
    #[arg(long)]
    pub shown: Option<usize>,
    /// Proposals per round at the exploitation temperature (default 4).
    #[arg(long)]
    pub exploit: Option<usize>,
    /// Proposals per round at the exploration temperature (default 12).
    #[arg(long)]
    pub explore: Option<usize>,
    /// The inner optimiser (default: the task's).
    #[arg(long)]
    pub optimizer: Option<Optimizer>,
    /// Most rollouts per fit (default: the task's).
    #[arg(long)]
    pub fit_evaluations: Option<usize>,
    /// The feedback the prompts give: full (the default) or sga (the paper's text).
    #[arg(long)]
    pub feedback: Option<FeedbackFormat>,
    /// What happens to a law that fails a physics check at screening: warn (fit it, the
    /// failure in its feedback) or reject (default: the task's, else warn).
    #[arg(long)]
    pub physics: Option<PhysicsPolicy>,
    /// Law kinds, offline proposer: no library of classical forms; elastic laws are built
    /// by the structured operator instead (a search that cannot find a law by lookup). A
    /// resumed run keeps its own setting.
    #[arg(long)]
    pub no_library: bool,
    /// Simulation tasks: start each L-BFGS fit from the law's own values, without the
    /// short-horizon log grid of its moduli that otherwise chooses the start. A resumed run
    /// keeps its own setting.
    #[arg(long)]
    pub no_start_grid: bool,
    /// Evaluate only the N most promising of each round's candidates by the problem's cheap
    /// estimate (simulation tasks: the loss over 3 of the observed segments, at the best
    /// point of the moduli grid), most promising first; the others are recorded as set
    /// aside at the prescreen stage, with their estimate. 0: evaluate all (the default).
    #[arg(long, value_name = "N")]
    pub fit_best: Option<usize>,
    /// Sequence (ehrlich) tasks, offline proposer: operators (crossover and mutation of the
    /// shown sequences, the default), ga (the Ehrlich paper's GA, one generation per round)
    /// or LLOME (its seed-data GA for 9 rounds in the CPU preset, then a small language
    /// model trained between rounds with SFT, DPO or MargE; its weights are kept in
    /// RUN/llome/). A resumed run keeps its own.
    #[arg(long, value_enum)]
    pub sequence_search: Option<ansatz::kinds::ehrlich::search::SequenceSearch>,
    /// Where candidates are evaluated: local (this machine's cores, the default) or slurm
    /// (one job array per round on a Slurm cluster; the run directory, the task and the
    /// ansatz binary must be on a file system every node sees). A resumed run keeps its own.
    #[arg(long)]
    pub executor: Option<ExecutorKind>,
    /// Slurm: CPUs per candidate job (default: the task's [slurm] table, else 1).
    #[arg(long)]
    pub slurm_cpus_per_task: Option<u32>,
    /// Slurm: the partition (default: the task's [slurm] table, else the cluster's).
    #[arg(long)]
    pub slurm_partition: Option<String>,
    /// Slurm: the time limit of one candidate job, e.g. 00:30:00 (default: the task's
    /// [slurm] table, else the partition's).
    #[arg(long)]
    pub slurm_time: Option<String>,
    /// Slurm: the memory of one candidate job, e.g. 4G (default: the task's [slurm] table,
    /// else the partition's).
    #[arg(long)]
    pub slurm_mem: Option<String>,
    /// Slurm: a further sbatch option, passed as it is (repeat it:
    /// --slurm-arg=--account=x --slurm-arg=--qos=y).
    #[arg(long = "slurm-arg", allow_hyphen_values = true)]
    pub slurm_args: Vec<String>,
}

/// The stop flag, set by Ctrl-C or SIGTERM (or SIGHUP): the first signal stops the run
/// cleanly (report written, resumable), a second one exits at once.
pub(crate) static STOP: AtomicBool = AtomicBool::new(false);

pub(crate) fn install_ctrlc() {
    let _ = ctrlc::set_handler(|| {
        if STOP.swap(true, Ordering::SeqCst) {
            eprintln!("\nstopping now");
            std::process::exit(130);
        }
        eprintln!(
            "\nstopping within seconds: the fits in progress are cut and left pending (not in \
             the ledger; --resume fits them), the report is written (Ctrl-C again quits at once)"
        );
    });
}

/// The run's proposer from the command line (`--model` alone implies `llm`).
fn proposer_kind(args: &SearchArgs) -> ProposerKind {
    match (args.proposer, &args.llm.model) {
        (Some(p), _) => p,
        (None, Some(_)) => ProposerKind::Llm,
        (None, None) => ProposerKind::Evolve,
    }
}

/// `runs/search/TASK-PROPOSER-sSEED`.
fn default_out(task: &Path, proposer: ProposerKind, seed: u64) -> PathBuf {
    let stem = task
        .file_stem()
        .map_or("task".into(), |s| s.to_string_lossy().into_owned());
    PathBuf::from("runs/search").join(format!("{stem}-{proposer}-s{seed}"))
}

/// A new run's settings from the command line, over the kind's defaults `fit`.
fn new_config<S>(args: &SearchArgs, task: &Path, fit: S) -> anyhow::Result<SearchConfig<S>> {
    let mut c = SearchConfig::new(task, fit);
    c.proposer = proposer_kind(args);
    // The run ends by itself once it has the answer (see `apply_budgets` for the overrides).
    c.target_relative = Some(ansatz::engine::search::DEFAULT_TARGET_RELATIVE);
    c.patience = Some(ansatz::engine::search::DEFAULT_PATIENCE);
    c.seed = args.seed.unwrap_or(0);
    c.replay = args.replay.clone();
    c.feedback = args.feedback.unwrap_or_default();
    match c.proposer {
        ProposerKind::Replay => {
            // Replay as many rounds as were recorded (unless --rounds says otherwise).
            let path = c
                .replay
                .as_ref()
                .context("--proposer replay needs --replay RUN")?;
            c.rounds = ReplayProposer::open(path)?.rounds();
        }
        ProposerKind::Llm => c.llm = Some(llm_settings(&args.llm)?),
        ProposerKind::Start => bail!("`start` is not a proposer (evolve, llm, human, replay)"),
        ProposerKind::Evolve | ProposerKind::Human => {}
    }
    Ok(c)
}

/// Budgets and sizes may change on resume (e.g. more rounds); the rest is the run's.
fn apply_budgets<S>(args: &SearchArgs, config: &mut SearchConfig<S>) {
    if let Some(r) = args.rounds {
        config.rounds = r;
        // The rounds asked for are done (unless --patience says otherwise).
        config.patience = None;
    }
    if let Some(p) = args.patience {
        config.patience = Some(p);
    }
    if let Some(t) = args.threads {
        config.threads = t;
    }
    if let Some(n) = args.fit_best {
        config.fit_best = (n > 0).then_some(n);
    }
    if args.max_evaluations.is_some() {
        config.max_evaluations = args.max_evaluations;
    }
    if args.max_seconds.is_some() {
        config.max_seconds = args.max_seconds;
    }
    if args.target_loss.is_some() {
        // An explicit target replaces the relative one.
        config.target_loss = args.target_loss;
        config.target_relative = None;
    }
    if let Some(k) = args.shown {
        config.shown = k;
    }
    if let Some(n) = args.exploit {
        config.exploit = n;
    }
    if let Some(n) = args.explore {
        config.explore = n;
    }
}

/// The model settings of `--model`, `--provider`, `--base-url`, `--api-key-env` and
/// `--request-timeout`.
pub(crate) fn llm_settings(args: &ModelArgs) -> anyhow::Result<LlmSettings> {
    let provider = args.provider.unwrap_or(Provider::OpenAi);
    let model = args
        .model
        .clone()
        .context("--proposer llm needs --model")
        .map_err(super::invalid)?;
    let key = match (&args.api_key_env, &args.base_url) {
        (Some(v), _) if v == "none" => None,
        (Some(v), _) => Some(v.clone()),
        (None, Some(_)) => None,
        (None, None) => Some(provider.default_key_env().to_string()),
    };
    Ok(LlmSettings {
        provider,
        base_url: args
            .base_url
            .clone()
            .unwrap_or_else(|| provider.default_base_url().to_string()),
        model,
        api_key_env: key,
        timeout_seconds: args.request_timeout.unwrap_or(300.0),
        max_retries: 5,
        backoff_seconds: 1.0,
        max_tokens: None,
    })
}

/// The proposer a run's settings name (`evolve`: the kind's offline proposer).
pub(crate) fn proposer<K: ProblemKind>(
    config: &SearchConfig<<K::Problem as Problem>::Settings>,
    problem: &K::Problem,
) -> anyhow::Result<Box<dyn Proposer<K::Problem>>> {
    Ok(match config.proposer {
        ProposerKind::Evolve => K::offline(problem, &config.fit),
        ProposerKind::Human => Box::new(HumanProposer::default()),
        ProposerKind::Replay => {
            let path = config
                .replay
                .as_ref()
                .context("--proposer replay needs --replay RUN")?;
            Box::new(ReplayProposer::open(path)?)
        }
        ProposerKind::Llm => {
            let s = config
                .llm
                .as_ref()
                .context("--proposer llm needs --model")?;
            let client_config = ClientConfig {
                base_url: s.base_url.clone(),
                api_key_env: s.api_key_env.clone(),
                timeout: Duration::from_secs_f64(s.timeout_seconds),
                max_retries: s.max_retries,
                backoff: Duration::from_secs_f64(s.backoff_seconds),
                ..ClientConfig::new(s.provider, s.model.clone())
            };
            let mut p = LlmProposer::new(client(&client_config)?);
            p.max_tokens = s.max_tokens;
            Box::new(p)
        }
        ProposerKind::Start => bail!("`start` is not a proposer (evolve, llm, human, replay)"),
    })
}

/// Progress on standard error: a bar per round on a terminal, plain lines otherwise.
///
/// The starting fit shows its inner evaluations; each round shows `round i/N`, candidates
/// done of the round, failures, the best loss with its law on one line, the elapsed time and
/// an estimate of what is left; after each round a hall of fame of the best few.
pub(crate) struct Terminal {
    bar: Option<indicatif::ProgressBar>,
    /// Standard error is not a terminal: plain lines.
    plain: bool,
    /// The best fitness so far and the solution on one line.
    best: Option<(f64, String)>,
    rounds: usize,
    /// The run's wall-time budget (`--max-seconds`), which caps the run's estimate.
    budget: Option<f64>,
    round: usize,
    proposals: usize,
    done: usize,
    failed: usize,
    /// Candidates of the round set aside by the prescreen (`--fit-best`; not failures).
    aside: usize,
    started: Instant,
    round_started: Instant,
    /// When the last plain progress line was written.
    said: Instant,
}

/// How many candidates the hall of fame shows.
const HALL_OF_FAME: usize = 5;

/// Widest law shown on one line.
const LAW_WIDTH: usize = 72;

/// Seconds as `1h02m03s`, `2m03s` or `7s`.
fn clock(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    match (s / 3600, s / 60 % 60, s % 60) {
        (0, 0, s) => format!("{s}s"),
        (0, m, s) => format!("{m}m{s:02}s"),
        (h, m, s) => format!("{h}h{m:02}m{s:02}s"),
    }
}

/// `text` cut to `width` characters (with `…`).
fn cut(text: &str, width: usize) -> String {
    match text.char_indices().nth(width) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

impl Terminal {
    /// A terminal with nothing shown yet, for a run of at most `budget` seconds (None: no
    /// wall-time budget).
    pub(crate) fn new(budget: Option<f64>) -> Terminal {
        let now = Instant::now();
        Terminal {
            bar: None,
            plain: !std::io::stderr().is_terminal(),
            best: None,
            rounds: 0,
            budget,
            round: 0,
            proposals: 0,
            done: 0,
            failed: 0,
            aside: 0,
            started: now,
            round_started: now,
            said: now,
        }
    }

    /// Ends the progress bar.
    pub(crate) fn finish(&mut self) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
    }

    /// The best so far, as `best 1.4294e-19 (law)`.
    fn best_text(&self) -> String {
        match &self.best {
            Some((f, law)) if law.is_empty() => format!("best {f:.4e}"),
            Some((f, law)) => format!("best {f:.4e}  {}", cut(law, LAW_WIDTH)),
            None => "no finite loss yet".into(),
        }
    }

    /// Elapsed time of the run and the estimate of the round's rest (and the run's at most,
    /// if every round were done).
    fn times(&self) -> String {
        let elapsed = self.started.elapsed().as_secs_f64();
        let mut text = format!("{} elapsed", clock(elapsed));
        if self.round > 0 && self.done > 0 && self.done < self.proposals {
            let per = self.round_started.elapsed().as_secs_f64() / self.done as f64;
            let left = per * (self.proposals - self.done) as f64;
            let _ = write!(text, ", round ETA {}", clock(left));
            let later = self.rounds.saturating_sub(self.round);
            if later > 0 {
                let mut most = left + per * (self.proposals * later) as f64;
                if let Some(budget) = self.budget {
                    most = most.min((budget - elapsed).max(left));
                }
                let _ = write!(text, " (run ≤ {})", clock(most));
            }
        }
        text
    }

    /// The status of the round on one line.
    fn status(&self) -> String {
        let aside = if self.aside > 0 {
            format!(", {} set aside", self.aside)
        } else {
            String::new()
        };
        format!(
            "{}/{} done, {} failed{aside} | {} | {}",
            self.done,
            self.proposals,
            self.failed,
            self.best_text(),
            self.times()
        )
    }

    /// The round's name, `starting fit` or `round 2/5`.
    fn label(&self) -> String {
        if self.round == 0 {
            "starting fit".into()
        } else {
            format!("round {}/{}", self.round, self.rounds)
        }
    }

    /// Says a line above the bar (or plainly).
    fn say(&self, line: &str) {
        match &self.bar {
            Some(b) if !self.plain => b.println(line),
            _ => eprintln!("{line}"),
        }
    }

    /// Takes `c` into the best so far.
    fn consider<D: Detail>(&mut self, c: &Candidate<D>) {
        if c.is_ok() && self.best.as_ref().is_none_or(|(f, _)| c.fitness < *f) {
            self.best = Some((c.fitness, c.detail.summary().unwrap_or_default()));
        }
    }
}

impl<D: Detail> Events<D> for Terminal {
    fn start(&mut self, population: &[Candidate<D>], rounds: usize) {
        self.rounds = rounds;
        for c in population {
            self.consider(c);
        }
        if !population.is_empty() {
            eprintln!("{}", self.best_text());
        }
    }

    fn round(&mut self, round: usize, proposals: usize, resumed: bool) {
        self.finish();
        self.round = round;
        self.proposals = proposals;
        self.done = 0;
        self.failed = 0;
        self.aside = 0;
        self.round_started = Instant::now();
        self.said = Instant::now();
        let mut label = self.label();
        if resumed {
            label.push_str(" (resumed)");
        }
        if self.plain {
            eprintln!("{label}: {proposals} to evaluate");
        }
        let bar = indicatif::ProgressBar::new(proposals as u64).with_prefix(label);
        if let Ok(style) = indicatif::ProgressStyle::with_template("{prefix} {bar:20} {msg}") {
            bar.set_style(style);
        }
        bar.set_message(self.status());
        bar.enable_steady_tick(Duration::from_millis(500));
        if self.plain {
            bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
        }
        self.bar = Some(bar);
    }

    fn candidate(&mut self, c: &Candidate<D>) {
        self.consider(c);
        self.done += 1;
        match c.failed_stage() {
            Some(Stage::Prescreen) => self.aside += 1,
            Some(_) => self.failed += 1,
            None => {}
        }
        let status = self.status();
        if self.plain {
            let what = match c.failed_stage() {
                Some(Stage::Prescreen) => format!(
                    "#{} set aside (estimate {})",
                    c.id,
                    c.estimate.map_or("none".into(), |e| format!("{e:.4e}"))
                ),
                Some(stage) => format!("#{} failed at {stage}", c.id),
                None => format!("#{} {:.4e}", c.id, c.fitness),
            };
            eprintln!("{}: {what}; {status}", self.label());
            self.said = Instant::now();
        } else if let Some(b) = &self.bar {
            b.set_position(self.done as u64);
            b.set_message(status);
        }
    }

    fn progress(&mut self, inner: usize, budget: Option<usize>) {
        let Some(b) = &self.bar else { return };
        if self.round == 0 {
            // One fit: its inner evaluations are the bar.
            let most = budget.unwrap_or(inner).max(inner).max(1);
            let text = format!(
                "{inner}/{most} inner evaluations (most stop sooner) | {}",
                self.times()
            );
            if self.plain {
                if self.said.elapsed() >= Duration::from_secs(10) {
                    eprintln!("starting fit: {text}");
                    self.said = Instant::now();
                }
            } else {
                b.set_length(most as u64);
                b.set_position(inner as u64);
                b.set_message(text);
            }
        } else if self.plain {
            if self.said.elapsed() >= Duration::from_secs(30) {
                eprintln!("{}: {}", self.label(), self.status());
                self.said = Instant::now();
            }
        } else {
            b.set_message(self.status());
        }
    }

    fn round_done(&mut self, round: usize, population: &[Candidate<D>]) {
        self.finish();
        let ranked = ansatz::engine::report::ranking(population);
        let mut lines = vec![format!(
            "after {} ({} elapsed): best {} of {} candidates",
            if round == 0 {
                "the starting fit".to_string()
            } else {
                format!("round {round}/{}", self.rounds)
            },
            clock(self.started.elapsed().as_secs_f64()),
            ranked.len().min(HALL_OF_FAME),
            population.len()
        )];
        lines.push(format!(
            "  {:>4}  {:>12}  {:>10}  law",
            "#", "loss", "complexity"
        ));
        for c in ranked.into_iter().take(HALL_OF_FAME) {
            lines.push(format!(
                "  {:>4}  {:>12.4e}  {:>10}  {}",
                c.id,
                c.fitness,
                c.detail.complexity().map_or("-".into(), |n| n.to_string()),
                cut(&c.detail.summary().unwrap_or_default(), LAW_WIDTH)
            ));
        }
        eprintln!("{}", lines.join("\n"));
    }

    fn note(&mut self, message: &str) {
        self.say(message);
    }
}

/// Runs a search of kind `K` on `problem` in `dir` with `config` (already saved there).
pub(crate) fn run_search<'a, K: ProblemKind>(
    problem: &'a K::Problem,
    config: &'a SearchConfig<<K::Problem as Problem>::Settings>,
    dir: &Path,
    events: &mut dyn Events<<K::Problem as Problem>::Detail>,
) -> anyhow::Result<Outcome<<K::Problem as Problem>::Detail>> {
    let mut local = LocalExecutor::new(config.threads)?;
    run_search_with::<K>(problem, config, dir, &mut local, events)
}

/// [`run_search`] evaluating with `executor`.
pub(crate) fn run_search_with<'a, K: ProblemKind>(
    problem: &'a K::Problem,
    config: &'a SearchConfig<<K::Problem as Problem>::Settings>,
    dir: &Path,
    executor: &mut dyn Executor<K::Problem>,
    events: &mut dyn Events<<K::Problem as Problem>::Detail>,
) -> anyhow::Result<Outcome<<K::Problem as Problem>::Detail>> {
    let run = RunDir::open(dir)?;
    run.write_atomic(
        &run.config_path(),
        serde_json::to_string_pretty(config)?.as_bytes(),
    )?;
    let search = Search {
        problem,
        config,
        run,
        proposer: proposer::<K>(config, problem)?,
        stop: &STOP,
    };
    Ok(search.run_with(executor, events)?)
}

/// The executor of a run: the one `--executor` names, else the one the run directory
/// recorded (a resumed run), else local; Slurm settings from the task's `[slurm]` table (or
/// the run's record), overridden by the `--slurm-*` options. Recorded in the run directory.
fn choose_executor(args: &SearchArgs, task: &Path, dir: &Path) -> anyhow::Result<ExecutorRecord> {
    let saved = ExecutorRecord::load(dir).map_err(|e| anyhow::anyhow!(e))?;
    let kind = match (args.executor, &saved) {
        (Some(kind), Some(saved))
            if kind != saved.executor && saved.executor == ExecutorKind::Slurm =>
        {
            bail!(
                "{} was run with --executor slurm: its jobs may still be running or have left results; \
             resume it with --executor slurm (or remove {} to evaluate again from scratch)",
                dir.display(),
                ExecutorRecord::path(dir).display()
            )
        }
        (Some(kind), _) => kind,
        (None, Some(saved)) => saved.executor,
        (None, None) => ExecutorKind::Local,
    };
    let slurm_flags = args.slurm_cpus_per_task.is_some()
        || args.slurm_partition.is_some()
        || args.slurm_time.is_some()
        || args.slurm_mem.is_some()
        || !args.slurm_args.is_empty();
    if kind == ExecutorKind::Local {
        if slurm_flags {
            bail!("the --slurm-* options need --executor slurm");
        }
        return Ok(ExecutorRecord {
            executor: kind,
            slurm: None,
        });
    }
    let mut s = match saved.and_then(|r| r.slurm) {
        Some(s) => s,
        None => slurm_settings_of_task(task)
            .map_err(|e| anyhow::anyhow!(e))?
            .unwrap_or_default(),
    };
    if let Some(n) = args.slurm_cpus_per_task {
        s.cpus_per_task = n;
    }
    if let Some(p) = &args.slurm_partition {
        s.partition = Some(p.clone());
    }
    if let Some(t) = &args.slurm_time {
        s.time_limit = Some(t.clone());
    }
    if let Some(m) = &args.slurm_mem {
        s.memory = Some(m.clone());
    }
    if !args.slurm_args.is_empty() {
        s.extra_sbatch_args.clone_from(&args.slurm_args);
    }
    Ok(ExecutorRecord {
        executor: kind,
        slurm: Some(s),
    })
}

/// Runs the search with the executor `record` names (recorded in the run directory first).
fn run_with_record<K: ProblemKind>(
    problem: &K::Problem,
    config: &SearchConfig<<K::Problem as Problem>::Settings>,
    dir: &Path,
    record: ExecutorRecord,
    events: &mut dyn Events<<K::Problem as Problem>::Detail>,
) -> anyhow::Result<Outcome<<K::Problem as Problem>::Detail>> {
    match record.slurm.clone() {
        None => run_search::<K>(problem, config, dir, events),
        Some(settings) => {
            let program = std::env::current_exe().context("the path of the ansatz binary")?;
            let mut slurm = SlurmEvaluator::new(settings, program)
                .map_err(|e| anyhow::anyhow!("--executor slurm: {e}"))?;
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            record.save(dir).map_err(|e| anyhow::anyhow!(e))?;
            let outcome = run_search_with::<K>(problem, config, dir, &mut slurm, events);
            for round in &slurm.rounds {
                eprintln!("{round}");
            }
            outcome
        }
    }
}

/// `ansatz search` for the kind the task file names.
struct SearchCommand {
    args: SearchArgs,
    task: PathBuf,
    dir: PathBuf,
    /// The saved configuration of a resumed run.
    saved: Option<String>,
}

impl KindVisitor for SearchCommand {
    type Output = anyhow::Result<ExitCode>;

    fn visit<K: ProblemKind>(self, kind: Kind) -> anyhow::Result<ExitCode> {
        let SearchCommand {
            args,
            task,
            dir,
            saved,
        } = self;
        if !std::io::stderr().is_terminal() {
            eprintln!("loading the task {}", task.display());
        }
        let ticker = ProgressTicker::spinner("loading the task");
        let loaded = K::load(&task);
        ticker.finish();
        let (problem, settings) =
            loaded.map_err(|e| super::invalid(anyhow::anyhow!("{}: {e}", task.display())))?;
        let mut config = match &saved {
            Some(text) => serde_json::from_str(text)
                .with_context(|| format!("parsing {}", dir.join("config.json").display()))?,
            None => {
                let mut settings = settings;
                let overrides = Overrides {
                    optimizer: args.optimizer,
                    fit_evaluations: args.fit_evaluations,
                    feedback: args.feedback,
                    physics: args.physics,
                    no_library: args.no_library,
                    no_start_grid: args.no_start_grid,
                    sequence_search: args.sequence_search,
                };
                overrides
                    .check(kind)
                    .and_then(|()| K::apply(&mut settings, &overrides))
                    .map_err(|e| super::invalid(anyhow::anyhow!("{e}")))?;
                new_config(&args, &task, settings)?
            }
        };
        apply_budgets(&args, &mut config);
        let record = choose_executor(&args, &task, &dir)?;
        let mut terminal = Terminal::new(config.max_seconds);
        let outcome = run_with_record::<K>(&problem, &config, &dir, record, &mut terminal)?;
        terminal.finish();
        println!(
            "{}: {} after round {} ({} candidates; {} fitted in this invocation, {:.0} s)",
            problem.name(),
            outcome.stopped,
            outcome.rounds,
            outcome.candidates.len(),
            outcome.fitted,
            outcome.seconds
        );
        if outcome.tokens.prompt + outcome.tokens.completion > 0 {
            println!(
                "tokens: {} prompt + {} completion",
                outcome.tokens.prompt, outcome.tokens.completion
            );
        }
        let start = outcome.candidates.iter().find(|c| c.id == 0);
        match outcome.best_candidate() {
            Some(best) => {
                // A task without a starting solution (molecules, sequences) has no #0.
                let from = match start {
                    Some(s) => format!(" (start {:.6e})", s.fitness),
                    None => String::new(),
                };
                println!(
                    "best: candidate #{} (round {}, {} {}) with loss {:.6e}{from}",
                    best.id, best.round, best.proposal.proposer, best.proposal.how, best.fitness,
                );
                let answer = K::answer(&problem, best);
                if !answer.trim().is_empty() {
                    println!("{}", answer.trim_end());
                }
            }
            None => println!("no candidate has a finite loss"),
        }
        if !outcome.pending.is_empty() {
            // A round of a thousand sequences cut by a budget: the first few ids and a count.
            const LISTED: usize = 12;
            let p = &outcome.pending;
            let shown = if p.len() > 64 { LISTED } else { p.len() };
            let mut ids: Vec<String> = p.iter().take(shown).map(|id| format!("#{id}")).collect();
            if p.len() > shown {
                ids.push(format!(
                    "… {} in all, the last #{}",
                    p.len(),
                    p[p.len() - 1]
                ));
            }
            println!(
                "pending: {} (cut by the stop, not recorded; --resume evaluates them)",
                ids.join(", ")
            );
        }
        println!("run directory: {}", dir.display());
        match &outcome.stopped {
            ansatz::engine::StopReason::ProposerFailed { message } => {
                // The results so far are recorded and the run can be resumed once the cause
                // is fixed.
                eprintln!("error: the proposer could not go on: {message}");
                Ok(ExitCode::FAILURE)
            }
            ansatz::engine::StopReason::Interrupted => Ok(ExitCode::from(super::EXIT_INTERRUPTED)),
            _ => Ok(ExitCode::SUCCESS),
        }
    }
}

/// Runs `ansatz search`.
pub fn run(args: SearchArgs) -> anyhow::Result<ExitCode> {
    install_ctrlc();
    let (task, dir, saved) = if args.resume {
        let dir = match (&args.out, &args.task) {
            (Some(d), _) => d.clone(),
            (None, Some(task)) => default_out(task, proposer_kind(&args), args.seed.unwrap_or(0)),
            (None, None) => {
                return Err(super::invalid(anyhow::anyhow!(
                    "--resume needs --out RUN (or the task file of the run)"
                )));
            }
        };
        let path = dir.join("config.json");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("--resume: reading {}", path.display()))
            .map_err(super::invalid)?;
        #[derive(serde::Deserialize)]
        struct TaskOf {
            task: PathBuf,
        }
        let task = serde_json::from_str::<TaskOf>(&text)
            .with_context(|| format!("parsing {}", path.display()))?
            .task;
        (task, dir, Some(text))
    } else {
        refuse_inapplicable(&args.llm, args.replay.as_deref(), proposer_kind(&args))?;
        let task = args
            .task
            .clone()
            .context("give the task file")
            .map_err(super::invalid)?;
        let dir = args
            .out
            .clone()
            .unwrap_or_else(|| default_out(&task, proposer_kind(&args), args.seed.unwrap_or(0)));
        if dir.join("ledger.jsonl").exists() {
            return Err(super::invalid(anyhow::anyhow!(
                "{} already holds a run: add --resume to continue it, or choose another --out",
                dir.display()
            )));
        }
        (task, dir, None)
    };
    let kind = Kind::of_task_file(&task).map_err(|e| super::invalid(anyhow::anyhow!("{e}")))?;
    kind.visit(SearchCommand {
        args,
        task,
        dir,
        saved,
    })
}
