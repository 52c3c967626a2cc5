//! The bilevel search: a language model behind a real HTTP server (every failure kind),
//! determinism across thread counts, replay, and resuming after SIGKILL.

use crate::support::chat_server::{ChatServer, Reply, anthropic_body, openai_body};
use crate::support::{scratch, timeless};
use ansatz::engine::ledger::read_ledger;
use ansatz::engine::llm::{ClientConfig, Provider, client};
use ansatz::engine::propose::{LlmProposer, ReplayProposer};
use ansatz::engine::{Proposer, RunDir, Search, Silent, Stage};
use ansatz::evolve::EvolveProposer;
use ansatz::kinds::mpm::fit::{FitSettings, settings_of};
use ansatz::kinds::mpm::task::Task;
use ansatz::law::LawDetail;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A small copy of a shipped task (few steps, short fits), written into `dir`.
fn tiny_task(dir: &Path, task: &str, steps: usize, fit_evaluations: usize) -> PathBuf {
    let laws = root().join("tasks/laws");
    let text = std::fs::read_to_string(root().join("tasks").join(format!("{task}.toml")))
        .expect("task file")
        .replace("\"laws/", &format!("\"{}/", laws.display()))
        .replace(
            "preset = \"sga_cube\"",
            &format!("preset = \"sga_cube\"\nsteps = {steps}"),
        )
        .replace(
            "teacher_every = 100",
            &format!("teacher_every = {}", steps / 2),
        )
        .replace(
            "max_evaluations = 120",
            &format!("max_evaluations = {fit_evaluations}"),
        );
    let path = dir.join(format!("{task}-tiny.toml"));
    std::fs::write(&path, text).expect("write task");
    path
}

type Candidate = ansatz::engine::Candidate<LawDetail>;
type SearchConfig = ansatz::engine::SearchConfig<FitSettings>;
type Outcome = ansatz::engine::Outcome<LawDetail>;

fn config(task_path: &Path, task: &Task, proposer: &str) -> SearchConfig {
    let mut c = SearchConfig::new(task_path, settings_of(task).expect("fit settings"));
    c.proposer = proposer.parse().expect("a proposer");
    c
}

fn run(
    task: &Task,
    config: &SearchConfig,
    dir: &Path,
    proposer: Box<dyn Proposer<Task>>,
) -> Outcome {
    let stop = AtomicBool::new(false);
    Search {
        problem: task,
        config,
        run: RunDir::open(dir).expect("run dir"),
        proposer,
        stop: &stop,
    }
    .run(&mut Silent)
    .expect("search runs")
}

fn reply(law: &str) -> String {
    format!(
        "### Analysis\nThe linear law is too stiff.\n\n### Step-by-Step Plan\n1. Use it.\n\n\
         ### Code\n```law\n{law}```\n"
    )
}

fn law_file(name: &str) -> String {
    std::fs::read_to_string(root().join("tasks/laws").join(name)).expect("law file")
}

/// The same conversation in the OpenAI and the Anthropic shape: good replies, a reply
/// without a law, a broken law, 429 then success, 500 three times, a reply too slow, 401.
fn llm_run_survives_every_failure(provider: Provider) {
    let dir = scratch(&format!("llm-{provider}"));
    let task_path = tiny_task(&dir, "jelly", 20, 3);
    let task = Task::load(&task_path).expect("task");
    let body = |texts: &[&str], p: u64, c: u64| match provider {
        Provider::OpenAi => openai_body(texts, p, c),
        _ => anthropic_body(texts, p, c),
    };
    let neo = reply(&law_file("neohookean.law"));
    let corot = reply(&law_file("corotated.law"));
    let slow = Duration::from_millis(1500);
    let server = ChatServer::start([
        // round 1: exploit (good), explore (no law block)
        Reply::json(200, body(&[&neo], 1000, 100)),
        Reply::json(200, body(&["I would try a neo-Hookean law."], 1000, 10)),
        // round 2: a broken law; 429 then a good one
        Reply::json(200, body(&[&reply("return F @ sum(F)\n")], 1000, 20)),
        Reply::json(429, serde_json::json!({"error": {"message": "slow down"}}))
            .header("Retry-After", "0"),
        Reply::json(200, body(&[&corot], 1000, 100)),
        // round 3: 500 three times (2 retries); three replies past the timeout
        Reply::json(500, serde_json::json!({"error": {"message": "overloaded"}})),
        Reply::json(500, serde_json::json!({"error": {"message": "overloaded"}})),
        Reply::json(500, serde_json::json!({"error": {"message": "overloaded"}})),
        Reply::json(200, body(&[&neo], 1, 1)).delay(slow),
        Reply::json(200, body(&[&neo], 1, 1)).delay(slow),
        Reply::json(200, body(&[&neo], 1, 1)).delay(slow),
        // round 4: the key is refused
        Reply::json(
            401,
            serde_json::json!({"error": {"message": "invalid x-api-key"}}),
        ),
    ]);
    let key_var = format!("ANSATZ_TEST_SEARCH_KEY_{provider}");
    let key = "sk-test-search-secret-4242";
    // SAFETY: the variable name is unique to this test; no other thread reads it.
    unsafe { std::env::set_var(&key_var, key) };
    let base = match provider {
        Provider::OpenAi => format!("{}/v1", server.url()),
        _ => server.url(),
    };
    let client_config = ClientConfig {
        base_url: base,
        api_key_env: Some(key_var.clone()),
        timeout: Duration::from_millis(500),
        max_retries: 2,
        backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
        ..ClientConfig::new(provider, "test-model")
    };
    let mut c = config(&task_path, &task, "llm");
    c.exploit = 1;
    c.explore = 1;
    c.rounds = 6;
    let out = run(
        &task,
        &c,
        &dir,
        Box::new(LlmProposer::new(client(&client_config).expect("client"))),
    );

    let by_id = |id: usize| -> &Candidate {
        out.candidates
            .iter()
            .find(|c| c.id == id)
            .expect("candidate")
    };
    let stages: Vec<Option<Stage>> = (0..=6).map(|i| by_id(i).failed_stage()).collect();
    assert_eq!(
        stages,
        [
            None,
            None,
            Some(Stage::Extract),
            Some(Stage::Type),
            None,
            Some(Stage::Propose),
            Some(Stage::Propose),
        ],
        "{:#?}",
        out.candidates
            .iter()
            .map(|c| &c.verdict)
            .collect::<Vec<_>>()
    );
    assert_eq!(out.candidates.len(), 7);
    assert!(by_id(2).feedback.contains("no code generated"));
    assert!(
        by_id(3).feedback.contains("line 1"),
        "{}",
        by_id(3).feedback
    );
    assert!(
        by_id(5).feedback.contains("overloaded"),
        "{}",
        by_id(5).feedback
    );
    assert!(
        by_id(6)
            .feedback
            .contains("no reply within 0.5 s after 3 attempts"),
        "{}",
        by_id(6).feedback
    );
    assert!(
        by_id(1).fitness < by_id(0).fitness,
        "neo-Hookean beats linear"
    );
    assert!(
        out.stopped.to_string().contains("401")
            || out.stopped.to_string().to_lowercase().contains("unauthor")
    );
    assert_eq!(out.rounds, 3);
    // Tokens: the usage of every successful reply.
    assert_eq!(out.tokens.prompt, 4000);
    assert_eq!(out.tokens.completion, 230);
    // Round 2's prompt shows round 1's failure, worst first, and ends with the cue.
    let requests = server.requests();
    let round2 = requests[2].json().to_string();
    assert!(round2.contains("no code generated"), "{round2}");
    assert!(round2.contains("## Iteration 3"));
    // The key appears nowhere in the run directory.
    for entry in walk(&dir) {
        let text = std::fs::read_to_string(&entry).unwrap_or_default();
        assert!(!text.contains(key), "{} holds the key", entry.display());
    }
    assert!(dir.join("transcripts/round-003.json").exists());
    let report = std::fs::read_to_string(dir.join("report.md")).expect("report");
    assert!(report.contains("## Best law: candidate #1 "), "{report}");
    assert!(report.contains("Pareto front"), "{report}");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn an_openai_model_run_survives_every_failure() {
    llm_run_survives_every_failure(Provider::OpenAi);
}

#[test]
fn an_anthropic_model_run_survives_every_failure() {
    llm_run_survives_every_failure(Provider::Anthropic);
}

#[test]
fn evolve_runs_are_identical_across_threads_and_replay_reproduces_them() {
    let dir = scratch("search-determinism");
    let task_path = tiny_task(&dir, "jelly", 20, 4);
    let task = Task::load(&task_path).expect("task");
    let mut c = config(&task_path, &task, "evolve");
    c.rounds = 2;
    c.exploit = 2;
    c.explore = 4;
    c.seed = 11;
    let mut ledgers = Vec::new();
    for threads in [1, 2] {
        c.threads = threads;
        let d = dir.join(format!("t{threads}"));
        let out = run(&task, &c, &d, Box::new(EvolveProposer::new(task.kind)));
        assert_eq!(out.rounds, 2);
        assert!(
            out.candidates.len() > 5,
            "{} candidates",
            out.candidates.len()
        );
        ledgers.push(timeless(&d.join("ledger.jsonl")));
    }
    assert_eq!(ledgers[0], ledgers[1], "1 and 2 threads differ");

    // Replay the first run: the same proposals, verdicts and losses, exactly.
    c.threads = 2;
    c.proposer = ansatz::engine::ProposerKind::Replay;
    let replayed = dir.join("replay");
    let proposer = ReplayProposer::open(&dir.join("t1")).expect("recording");
    let out = run(&task, &c, &replayed, Box::new(proposer));
    let original: Vec<Candidate> = read_ledger(&dir.join("t1/ledger.jsonl")).expect("ledger");
    assert_eq!(out.candidates.len(), original.len());
    for (a, b) in original.iter().zip(&out.candidates) {
        assert_eq!(a.id, b.id);
        assert_eq!(a.proposal, b.proposal);
        assert_eq!(a.verdict, b.verdict, "candidate #{}", a.id);
        assert_eq!(
            a.fitness.to_bits(),
            b.fitness.to_bits(),
            "candidate #{}",
            a.id
        );
        assert_eq!(a.detail.hash, b.detail.hash);
        let bits = |c: &Candidate| {
            c.detail
                .loss_curve
                .iter()
                .map(|x| x.to_bits())
                .collect::<Vec<_>>()
        };
        assert_eq!(bits(a), bits(b), "candidate #{}", a.id);
    }
    // A different seed proposes differently.
    c.proposer = ansatz::engine::ProposerKind::Evolve;
    c.seed = 12;
    c.rounds = 1;
    let out = run(
        &task,
        &c,
        &dir.join("seed12"),
        Box::new(EvolveProposer::new(task.kind)),
    );
    let other: Vec<_> = out
        .candidates
        .iter()
        .map(|c| c.proposal.text.clone())
        .collect();
    let first: Vec<_> = original
        .iter()
        .take(other.len())
        .map(|c| c.proposal.text.clone())
        .collect();
    assert_ne!(other, first);
}

#[test]
fn a_search_killed_mid_round_resumes_without_losing_or_refitting() {
    let dir = scratch("search-resume");
    let task_path = tiny_task(&dir, "jelly", 40, 6);
    let out = dir.join("run");
    let args = |extra: &[&str]| {
        let mut a: Vec<String> = vec![
            "search".into(),
            task_path.display().to_string(),
            "--out".into(),
            out.display().to_string(),
            "--rounds".into(),
            "2".into(),
            "--exploit".into(),
            "2".into(),
            "--explore".into(),
            "6".into(),
            "--threads".into(),
            "1".into(),
            "--seed".into(),
            "5".into(),
            "--target-loss".into(),
            "0".into(),
        ];
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let mut child = crate::support::command()
        .args(args(&[]))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("ansatz search starts");
    // Wait until round 1 is under way with at least two of its candidates finished.
    let ledger = out.join("ledger.jsonl");
    let started = Instant::now();
    let lines = |p: &Path| {
        std::fs::read_to_string(p)
            .map(|t| t.lines().count())
            .unwrap_or(0)
    };
    while !(out.join("rounds/round-001.json").exists() && lines(&ledger) >= 3) {
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "the search made no progress"
        );
        assert!(
            child.try_wait().expect("wait").is_none(),
            "finished too soon"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    // SIGKILL: no chance to clean up.
    child.kill().expect("kill -9");
    child.wait().expect("reaped");
    let before = std::fs::read_to_string(&ledger).expect("ledger");
    let before: Vec<&str> = before.lines().filter(|l| l.ends_with('}')).collect();
    let round1 = std::fs::read_to_string(out.join("rounds/round-001.json")).expect("round");
    let round1: Vec<Value> = serde_json::from_str(&round1).expect("round file");
    assert!(
        before.len() < 1 + round1.len(),
        "killed after round 1 was complete: {} lines",
        before.len()
    );

    let resumed = crate::support::command()
        .args(args(&["--resume"]))
        .output()
        .expect("resume runs");
    let stdout = String::from_utf8_lossy(&resumed.stdout);
    assert!(
        resumed.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    let after = std::fs::read_to_string(&ledger).expect("ledger");
    // Every line finished before the kill is still there, byte for byte (a re-fit would
    // change at least its wall-clock fields).
    for line in &before {
        assert!(
            after.lines().any(|l| l == *line),
            "lost or refitted: {line}"
        );
    }
    let candidates: Vec<Candidate> = read_ledger(&ledger).expect("ledger");
    let ids: Vec<usize> = candidates.iter().map(|c| c.id).collect();
    assert_eq!(
        ids,
        (0..candidates.len()).collect::<Vec<_>>(),
        "ids have gaps"
    );
    assert!(candidates.iter().any(|c| c.round == 2), "round 2 ran");
    let round1_done = candidates.iter().filter(|c| c.round == 1).count();
    assert_eq!(round1_done, round1.len(), "round 1 was completed");
    // Only what was missing was fitted again.
    let fitted_before = before
        .iter()
        .filter(|l| {
            serde_json::from_str::<Candidate>(l)
                .map(|c| c.detail.fit.is_some())
                .unwrap_or(false)
        })
        .count();
    let fitted_total = candidates.iter().filter(|c| c.detail.fit.is_some()).count();
    assert!(
        stdout.contains(&format!(
            "{} fitted in this invocation",
            fitted_total - fitted_before
        )),
        "{stdout}"
    );
    // A second --resume has nothing left to do.
    let again = crate::support::command()
        .args(args(&["--resume"]))
        .output()
        .expect("resume runs");
    assert!(String::from_utf8_lossy(&again.stdout).contains("0 fitted in this invocation"));
    // Starting over in the same directory without --resume is refused.
    let refused = crate::support::command()
        .args(args(&[]))
        .output()
        .expect("runs");
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--resume"));
}

#[test]
fn offline_evolve_finds_the_true_laws_of_short_jelly_and_water() {
    for (task, start_loss_above) in [("jelly", 1e-6), ("water", 1e-6)] {
        let dir = scratch(&format!("offline-{task}"));
        // 300 steps: the cube reaches the floor and the walls, so stiffness matters.
        let task_path = tiny_task(&dir, task, 300, 40);
        let task = Task::load(&task_path).expect("task");
        let mut c = config(&task_path, &task, "evolve");
        c.rounds = 2;
        c.target_loss = Some(1e-6);
        let out = run(
            &task,
            &c,
            &dir.join("run"),
            Box::new(EvolveProposer::new(task.kind)),
        );
        let start = out.candidates.iter().find(|c| c.id == 0).expect("start");
        assert!(
            start.fitness > start_loss_above,
            "start {:e}",
            start.fitness
        );
        let best = out
            .best
            .and_then(|b| out.candidates.iter().find(|c| c.id == b))
            .expect("a best law");
        assert!(
            best.fitness < 1e-6,
            "{}: best {:e}",
            task.name(),
            best.fitness
        );
        assert!(
            out.stopped.to_string().contains("target loss"),
            "{}",
            out.stopped
        );
        assert!(dir.join("run/best.law").exists());
        let exports = dir.join("run/exports");
        for name in [
            "best.tex",
            "best.sympy.py",
            "best.numpy.py",
            "best.torch.py",
            "best.rs",
        ] {
            assert!(exports.join(name).exists(), "{name} is missing");
        }
        // The Python exports run: the NumPy module and the SymPy expression load and execute.
        let ran = std::process::Command::new("python3")
            .arg("-c")
            .arg("import runpy, sys; [runpy.run_path(p) for p in sys.argv[1:]]")
            .arg(exports.join("best.numpy.py"))
            .arg(exports.join("best.sympy.py"))
            .output()
            .expect("python3 runs (install numpy and sympy: python3 -m pip install numpy sympy)");
        assert!(
            ran.status.success(),
            "{}",
            String::from_utf8_lossy(&ran.stderr)
        );
    }
}

#[test]
fn a_person_answers_through_files() {
    use ansatz::engine::propose::HumanProposer;
    let dir = scratch("search-human");
    let task_path = tiny_task(&dir, "jelly", 20, 3);
    let task = Task::load(&task_path).expect("task");
    let mut c = config(&task_path, &task, "human");
    c.rounds = 1;
    let run_dir = dir.join("run");
    let prompt = run_dir.join("human/round-001.prompt.md");
    let reply = run_dir.join("human/round-001.reply.md");
    let answer = std::thread::spawn({
        let prompt = prompt.clone();
        let reply = reply.clone();
        move || {
            let started = Instant::now();
            while !prompt.exists() {
                assert!(started.elapsed() < Duration::from_secs(300), "no prompt");
                std::thread::sleep(Duration::from_millis(20));
            }
            let text = std::fs::read_to_string(&prompt).expect("prompt");
            let tmp = reply.with_extension("tmp");
            let laws = format!(
                "Two laws:\n```law\n{}```\nand\n```law\nreturn F @ undefined_name\n```\n",
                law_file("neohookean.law")
            );
            std::fs::write(&tmp, laws).expect("reply");
            std::fs::rename(&tmp, &reply).expect("reply in place");
            text
        }
    });
    let proposer = HumanProposer {
        timeout: Some(Duration::from_secs(300)),
        poll: Duration::from_millis(20),
    };
    let out = run(&task, &c, &run_dir, Box::new(proposer));
    let prompt_text = answer.join().expect("answered");
    assert!(prompt_text.contains("## Problem Setup"));
    assert!(prompt_text.contains("## Format Requirements"));
    assert_eq!(out.candidates.len(), 3);
    assert!(out.candidates[1].is_ok());
    assert!(out.candidates[1].fitness < out.candidates[0].fitness);
    assert_eq!(out.candidates[2].failed_stage(), Some(Stage::Type));
    assert!(out.candidates[2].feedback.contains("undefined_name"));
}

#[test]
fn ctrl_c_ends_a_search_cleanly_with_the_results_so_far() {
    a_signal_ends_a_search_cleanly("INT");
}

#[test]
fn sigterm_ends_a_search_like_ctrl_c() {
    a_signal_ends_a_search_cleanly("TERM");
}

/// Sends `signal` to a search while round 1's fits run: it stops within 5 s, says what
/// happens to the fits in progress, exits with 130, lists them as pending (not in the
/// ledger, named in the report); `--resume` starts from the true best so far and fits them.
fn a_signal_ends_a_search_cleanly(signal: &str) {
    let dir = scratch(&format!("signal-{signal}"));
    let task_path = tiny_task(&dir, "jelly", 200, 30);
    let out = dir.join("run");
    let args: Vec<String> = [
        "search",
        &task_path.display().to_string(),
        "--out",
        &out.display().to_string(),
        "--rounds",
        "1",
        "--threads",
        "1",
        "--target-loss",
        "0",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let child = crate::support::command()
        .args(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ansatz search starts");
    let ledger = out.join("ledger.jsonl");
    let lines = |p: &Path| {
        std::fs::read_to_string(p)
            .map(|t| t.lines().count())
            .unwrap_or(0)
    };
    let started = Instant::now();
    // Round 1 under way: its proposals saved and one of them recorded.
    while !(out.join("rounds/round-001.json").exists() && lines(&ledger) >= 2) {
        assert!(started.elapsed() < Duration::from_secs(600), "no round 1");
        std::thread::sleep(Duration::from_millis(5));
    }
    let status = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let signalled = Instant::now();
    let output = child.wait_with_output().expect("search ends");
    let stop_seconds = signalled.elapsed().as_secs_f64();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stop_seconds < 5.0, "stopping took {stop_seconds:.1} s");
    assert_eq!(output.status.code(), Some(130), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("stopping within seconds: the fits in progress are cut and left pending"),
        "{stderr}"
    );
    assert!(stdout.contains("interrupted"), "{stdout}");
    // The cut fits are pending: named on stdout and in the report, absent from the ledger.
    let pending: Vec<usize> = stdout
        .lines()
        .find_map(|l| l.strip_prefix("pending: "))
        .expect("a pending line")
        .split(" (")
        .next()
        .expect("ids")
        .split(", ")
        // A long list ends in "… N in all, the last #ID" after its first ids.
        .filter(|id| id.starts_with('#'))
        .map(|id| id.trim_start_matches('#').parse().expect("an id"))
        .collect();
    assert!(!pending.is_empty());
    let before: Vec<Candidate> = read_ledger(&ledger).expect("ledger");
    assert!(before.iter().all(|c| !pending.contains(&c.id)));
    let report = std::fs::read_to_string(out.join("report.md")).expect("report");
    assert!(report.contains("## Pending"), "{report}");
    assert!(report.contains(&format!("#{}", pending[0])), "{report}");
    let best_before = before
        .iter()
        .filter(|c| c.is_ok())
        .map(|c| c.fitness)
        .fold(f64::INFINITY, f64::min);
    assert!(best_before.is_finite());

    let resumed = crate::support::command()
        .args(&args)
        .arg("--resume")
        .output()
        .expect("resume");
    let stdout = String::from_utf8_lossy(&resumed.stdout);
    let stderr = String::from_utf8_lossy(&resumed.stderr);
    assert!(resumed.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("1 rounds done"), "{stdout}");
    // The resumed run starts from the best in the ledger, not from nothing.
    let first = stderr
        .lines()
        .find(|l| l.starts_with("best "))
        .expect("the best so far");
    assert!(
        first.starts_with(&format!("best {best_before:.4e}")),
        "{first} (ledger: {best_before:e})"
    );
    // Every pending candidate was evaluated and recorded.
    let after: Vec<Candidate> = read_ledger(&ledger).expect("ledger");
    for id in &pending {
        assert!(
            after.iter().any(|c| c.id == *id),
            "#{id} not fitted on resume"
        );
    }
    assert!(
        stdout.contains(&format!("{} fitted in this invocation", pending.len())),
        "{stdout}"
    );
    let best = ansatz::engine::search::best_of(&after)
        .and_then(|id| after.iter().find(|c| c.id == id))
        .expect("a best");
    assert!(best.fitness <= best_before * (1.0 + 1e-9));
    assert!(
        stdout.contains(&format!("best: candidate #{} ", best.id)),
        "{stdout}"
    );
}

#[test]
fn a_dead_model_server_ends_the_search_with_an_error() {
    let dir = scratch("search-dead-server");
    let task_path = tiny_task(&dir, "jelly", 20, 3);
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("address").port()
    };
    let started = Instant::now();
    let output = crate::support::command()
        .args(["search", &task_path.display().to_string(), "--out"])
        .arg(dir.join("run"))
        .args(["--proposer", "llm", "--model", "test-model", "--base-url"])
        .arg(format!("http://127.0.0.1:{port}/v1"))
        .args(["--threads", "1"])
        .output()
        .expect("ansatz search runs");
    let seconds = started.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success(),
        "exit {:?}: {stderr}",
        output.status
    );
    assert!(stderr.contains("cannot reach the model server"), "{stderr}");
    assert!(seconds < 30.0, "{seconds} s");
    // What was done is recorded (the starting law) and reported, with the error.
    let report = std::fs::read_to_string(dir.join("run/report.md")).expect("report");
    assert!(report.contains("cannot reach the model server"), "{report}");
}

/// `--fit-best 2`: round 1's screened laws are ranked by their short-horizon estimate; the
/// two best are fitted, the others are recorded as set aside with their estimate (none of
/// them better than a fitted one), and the progress says so.
#[test]
fn fit_best_fits_the_laws_with_the_lowest_short_horizon_estimates() {
    let dir = scratch("fit-best");
    let task_path = tiny_task(&dir, "jelly", 300, 6);
    let out = dir.join("run");
    let (code, _, err) = crate::support::ansatz(&[
        "search",
        &task_path.display().to_string(),
        "--out",
        &out.display().to_string(),
        "--rounds",
        "1",
        "--threads",
        "1",
        "--exploit",
        "2",
        "--explore",
        "4",
        "--fit-best",
        "2",
        "--target-loss",
        "0",
    ]);
    assert_eq!(code, 0, "{err}");
    let ledger: Vec<Candidate> = read_ledger(&out.join("ledger.jsonl")).expect("ledger");
    let round: Vec<&Candidate> = ledger.iter().filter(|c| c.round == 1).collect();
    let aside: Vec<&Candidate> = round
        .iter()
        .copied()
        .filter(|c| c.failed_stage() == Some(Stage::Prescreen))
        .collect();
    let fitted: Vec<&Candidate> = round
        .iter()
        .copied()
        .filter(|c| c.failed_stage().is_none_or(|s| s.reached_evaluation()))
        .collect();
    assert_eq!(fitted.len(), 2, "{round:#?}");
    assert!(!aside.is_empty(), "six proposals, two fitted: {round:#?}");
    let estimate = |c: &Candidate| c.estimate.expect("an estimate");
    let worst_fitted = fitted.iter().map(|c| estimate(c)).fold(f64::MIN, f64::max);
    for c in &aside {
        assert!(estimate(c) >= worst_fitted, "#{} {:?}", c.id, c.estimate);
        assert!(c.feedback.contains("only the 2 best"), "{}", c.feedback);
    }
    assert!(err.contains("set aside"), "{err}");
}
