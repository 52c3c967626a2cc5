//! `ansatz search TASK.toml [--proposer evolve|llm|human|replay] [--model M] [--rounds N]
//! [--seed S] [--out DIR] [--resume]`: the bilevel search, recorded in a run directory.

use super::ProgressTicker;
use ansatz::fit::Optimizer;
use ansatz::llm::{ClientConfig, Provider, client};
use ansatz::search::candidate::Candidate;
use ansatz::search::propose::{
    EvolveProposer, HumanProposer, LlmProposer, Proposer, ReplayProposer,
};
use ansatz::search::{Events, LlmSettings, Search, SearchConfig, ledger::RunDir, report};
use ansatz::task::Task;
use anyhow::{Context, bail};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Options of `ansatz search` (see `ansatz search --help`).
/// The language model options shared by `ansatz search` and `ansatz regress`.
#[derive(Clone, Debug, clap::Args)]
pub struct ModelArgs {
    /// The model name (with --proposer llm; for `search` it implies --proposer llm).
    #[arg(long)]
    pub model: Option<String>,
    /// The model API: openai (any OpenAI-compatible server) or anthropic.
    #[arg(long, default_value = "openai")]
    pub provider: String,
    /// API root, e.g. http://localhost:8000/v1 (vLLM), http://127.0.0.1:8080/v1 (llama.cpp),
    /// http://localhost:11434/v1 (Ollama). Default: the provider's public API.
    #[arg(long)]
    pub base_url: Option<String>,
    /// Environment variable holding the API key ("none": send no key). Default:
    /// OPENAI_API_KEY or ANTHROPIC_API_KEY for the public APIs, none with --base-url.
    #[arg(long)]
    pub api_key_env: Option<String>,
    /// Seconds before a model request times out.
    #[arg(long, default_value_t = 300.0)]
    pub request_timeout: f64,
}

impl Default for ModelArgs {
    /// The command-line defaults: no model, the OpenAI API, a 300 s timeout.
    fn default() -> Self {
        ModelArgs {
            model: None,
            provider: "openai".into(),
            base_url: None,
            api_key_env: None,
            request_timeout: 300.0,
        }
    }
}

#[derive(Debug, Default, clap::Args)]
pub struct SearchArgs {
    /// The task file (tasks/*.toml). With --resume, may be omitted: the run's own is used.
    pub task: Option<PathBuf>,
    /// Who writes the laws: evolve (offline, the default), llm, human, replay.
    #[arg(long)]
    pub proposer: Option<String>,
    /// The model and how to reach it.
    #[command(flatten)]
    pub llm: ModelArgs,
    /// Rounds after the starting law (default 5).
    #[arg(long)]
    pub rounds: Option<usize>,
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
    /// Wall-clock budget of the run, seconds.
    #[arg(long)]
    pub max_seconds: Option<f64>,
    /// Stop when a candidate's loss is at most this.
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
            "\nstopping: the fits in progress are cut (not recorded; --resume fits them again) \
             and the report is written (Ctrl-C again to quit at once)"
        );
    });
}

fn resolve(args: &SearchArgs, resumed: Option<SearchConfig>) -> anyhow::Result<SearchConfig> {
    let mut config = match resumed {
        Some(c) => c,
        None => {
            let path = args.task.clone().context("give the task file")?;
            let task = Task::load(&path)?;
            let mut c = SearchConfig::new(path, &task).map_err(anyhow::Error::msg)?;
            c.proposer = match (&args.proposer, &args.llm.model) {
                (Some(p), _) => p.clone(),
                (None, Some(_)) => "llm".into(),
                (None, None) => "evolve".into(),
            };
            c.seed = args.seed.unwrap_or(0);
            c.replay = args.replay.clone();
            if c.proposer == "replay" {
                // Replay as many rounds as were recorded (unless --rounds says otherwise).
                let path = c
                    .replay
                    .as_ref()
                    .context("--proposer replay needs --replay RUN")?;
                c.rounds = ReplayProposer::open(path)?.rounds();
            }
            if let Some(o) = args.optimizer {
                c.fit.optimizer = o;
            }
            if let Some(n) = args.fit_evaluations {
                c.fit.max_evaluations = n;
            }
            if c.proposer == "llm" {
                c.llm = Some(llm_settings(&args.llm)?);
            }
            c
        }
    };
    // Budgets and sizes may change on resume (e.g. more rounds); the rest is the run's.
    if let Some(r) = args.rounds {
        config.rounds = r;
    }
    if let Some(t) = args.threads {
        config.threads = t;
    }
    if args.max_evaluations.is_some() {
        config.max_evaluations = args.max_evaluations;
    }
    if args.max_seconds.is_some() {
        config.max_seconds = args.max_seconds;
    }
    if args.target_loss.is_some() {
        config.target_loss = args.target_loss;
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
    Ok(config)
}

/// The model settings of `--model`, `--provider`, `--base-url`, `--api-key-env` and
/// `--request-timeout`.
pub(crate) fn llm_settings(args: &ModelArgs) -> anyhow::Result<LlmSettings> {
    let provider: Provider = args.provider.parse().map_err(anyhow::Error::msg)?;
    let model = args.model.clone().context("--proposer llm needs --model")?;
    let key = match (&args.api_key_env, &args.base_url) {
        (Some(v), _) if v == "none" => None,
        (Some(v), _) => Some(v.clone()),
        (None, Some(_)) => None,
        (None, None) => Some(provider.default_key_env().to_string()),
    };
    Ok(LlmSettings {
        provider: args.provider.clone(),
        base_url: args
            .base_url
            .clone()
            .unwrap_or_else(|| provider.default_base_url().to_string()),
        model,
        api_key_env: key,
        timeout_seconds: args.request_timeout,
        max_retries: 5,
        backoff_seconds: 1.0,
        max_tokens: None,
    })
}

/// The proposer a run's settings name (`kind` picks the evolve library).
pub(crate) fn proposer(
    config: &SearchConfig,
    kind: ansatz_simulator::MaterialKind,
) -> anyhow::Result<Box<dyn Proposer>> {
    Ok(match config.proposer.as_str() {
        "evolve" => Box::new(EvolveProposer::new(kind)),
        "human" => Box::new(HumanProposer::default()),
        "replay" => {
            let path = config
                .replay
                .as_ref()
                .context("--proposer replay needs --replay RUN")?;
            Box::new(ReplayProposer::open(path)?)
        }
        "llm" => {
            let s = config
                .llm
                .as_ref()
                .context("--proposer llm needs --model")?;
            let provider: Provider = s.provider.parse().map_err(anyhow::Error::msg)?;
            let client_config = ClientConfig {
                base_url: s.base_url.clone(),
                api_key_env: s.api_key_env.clone(),
                timeout: Duration::from_secs_f64(s.timeout_seconds),
                max_retries: s.max_retries,
                backoff: Duration::from_secs_f64(s.backoff_seconds),
                ..ClientConfig::new(provider, s.model.clone())
            };
            let mut p = LlmProposer::new(client(&client_config)?);
            p.max_tokens = s.max_tokens;
            Box::new(p)
        }
        other => bail!("unknown proposer {other:?} (evolve, llm, human, replay)"),
    })
}

/// Progress on the terminal.
struct Terminal {
    bar: Option<ProgressTicker>,
    best: f64,
}

impl Events for Terminal {
    fn round(&mut self, round: usize, proposals: usize, resumed: bool) {
        if let Some(b) = self.bar.take() {
            b.finish();
        }
        let label = if resumed {
            format!("round {round} (resumed)")
        } else {
            format!("round {round}")
        };
        self.bar = Some(ProgressTicker::bar(proposals as u64, &label));
    }

    fn candidate(&mut self, c: &Candidate) {
        if c.is_ok() && c.fitness < self.best {
            self.best = c.fitness;
        }
        let what = match c.failed_stage() {
            Some(stage) => format!("#{} {stage}", c.id),
            None => format!("#{} {:.3e}", c.id, c.fitness),
        };
        if let Some(b) = &self.bar {
            b.tick(format!("{what}   best {:.4e}", self.best));
        }
    }

    fn note(&mut self, message: &str) {
        eprintln!("{message}");
    }
}

/// Runs `ansatz search`.
pub fn run(args: SearchArgs) -> anyhow::Result<ExitCode> {
    install_ctrlc();
    let default_out = |c: &SearchConfig| {
        let stem = c
            .task
            .file_stem()
            .map_or("task".into(), |s| s.to_string_lossy().into_owned());
        PathBuf::from("runs/search").join(format!("{stem}-{}-s{}", c.proposer, c.seed))
    };
    let config = if args.resume {
        let dir = match &args.out {
            Some(d) => d.clone(),
            None => default_out(&resolve(&args, None)?),
        };
        let path = dir.join("config.json");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("--resume: reading {}", path.display()))?;
        let saved: SearchConfig =
            serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        (resolve(&args, Some(saved))?, dir)
    } else {
        let c = resolve(&args, None)?;
        let dir = args.out.clone().unwrap_or_else(|| default_out(&c));
        if dir.join("ledger.jsonl").exists() {
            bail!(
                "{} already holds a run: add --resume to continue it, or choose another --out",
                dir.display()
            );
        }
        (c, dir)
    };
    let (config, dir) = config;
    let run = RunDir::open(&dir)?;
    run.write_atomic(
        &run.config_path(),
        serde_json::to_string_pretty(&config)?.as_bytes(),
    )?;
    let ticker = ProgressTicker::spinner("loading the task (simulating the ground truth)");
    let task = Task::load(&config.task);
    ticker.finish();
    let task = task?;
    let search = Search {
        problem: &task,
        config: &config,
        run,
        proposer: proposer(&config, task.kind)?,
        stop: &STOP,
    };
    let mut terminal = Terminal {
        bar: None,
        best: f64::INFINITY,
    };
    let outcome = search.run(&mut terminal)?;
    if let Some(b) = terminal.bar.take() {
        b.finish();
    }
    println!(
        "{}: {} after round {} ({} candidates; {} fitted in this invocation, {:.0} s)",
        task.name(),
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
    match outcome
        .best
        .and_then(|id| outcome.candidates.iter().find(|c| c.id == id))
    {
        Some(best) => {
            println!(
                "best: candidate #{} (round {}, {} {}) with loss {:.6e} (start {:.6e})",
                best.id,
                best.round,
                best.proposal.proposer,
                best.proposal.how,
                best.fitness,
                start.map_or(f64::NAN, |s| s.fitness)
            );
            if let Some(law) = report::fitted_law(&task, best) {
                println!("{}", law.program());
            }
        }
        None => println!("no candidate has a finite loss"),
    }
    println!("run directory: {}", dir.display());
    if let Some(error) = &outcome.proposer_error {
        // The results so far are recorded and the run can be resumed once the cause is fixed.
        eprintln!("error: the proposer could not go on: {error}");
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}
