//! Executors at the command line: `ansatz evaluate` gives the local result exactly, and
//! `search --executor slurm` on a real cluster (the one-node cluster of `.ci/slurm-up`, with
//! `ANSATZ_SLURM_TESTS=1`): the same ledger as local, a cancelled job, a killed driver
//! resumed, a job past its time limit.

use crate::support::{ansatz, scratch, timeless};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One cluster test at a time (two CPUs; the timings of one must not depend on another).
static CLUSTER: Mutex<()> = Mutex::new(());

fn task(name: &str) -> String {
    format!("tests/data/slurm/{name}.toml")
}

/// The ledger's lines as JSON values, by id.
fn ledger(run: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(run.join("ledger.jsonl")).expect("ledger");
    text.lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

/// An evolve search of the tiny jelly task (4 proposals a round) into `out`: two rounds
/// unless `extra` says otherwise.
fn search_args<'a>(out: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["search", "tests/data/slurm/jelly-tiny.toml"];
    if !extra.contains(&"--rounds") {
        args.extend(["--rounds", "2"]);
    }
    args.extend([
        "--exploit",
        "2",
        "--explore",
        "2",
        "--seed",
        "3",
        "--out",
        out,
    ]);
    args.extend_from_slice(extra);
    args
}

fn run_ok(args: &[&str]) -> (String, String) {
    let (code, out, err) = ansatz(args);
    assert_eq!(code, 0, "ansatz {args:?} failed:\n{out}\n{err}");
    (out, err)
}

/// `ansatz evaluate` on every candidate of a local run gives back its ledger line exactly
/// (apart from `seconds`): the same code path, bit for bit. Bad input is a clear error.
#[test]
fn evaluate_reproduces_every_local_candidate_exactly() {
    let dir = scratch("exec-evaluate");
    let run = dir.join("run");
    run_ok(&search_args(run.to_str().unwrap(), &["--rounds", "1"]));
    let lines = ledger(&run);
    let clean = timeless(&run.join("ledger.jsonl"));
    let evaluated: Vec<(&Value, &Value)> = lines
        .iter()
        .zip(&clean)
        .filter(|(c, _)| c["verdict"]["stage"] != "duplicate")
        .collect();
    assert!(evaluated.len() >= 3, "{lines:?}");
    let config: Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("config.json")).unwrap()).unwrap();
    let fit = dir.join("fit.json");
    std::fs::write(&fit, config["fit"].to_string()).unwrap();
    for (line, clean) in evaluated {
        let id = line["id"].as_u64().unwrap();
        let candidate = dir.join(format!("c{id}.json"));
        let mut proposal = serde_json::Map::new();
        for field in [
            "proposer", "how", "parents", "text", "tokens", "error", "cut",
        ] {
            if let Some(v) = line.get(field) {
                proposal.insert(field.to_string(), v.clone());
            }
        }
        let submission = serde_json::json!({
            "id": id, "round": line["round"], "proposal": proposal,
        });
        std::fs::write(&candidate, submission.to_string()).unwrap();
        let result = dir.join(format!("r{id}.json"));
        let (out, _) = run_ok(&[
            "evaluate",
            "--task",
            &task("jelly-tiny"),
            "--settings",
            fit.to_str().unwrap(),
            "--candidate",
            candidate.to_str().unwrap(),
            "--result",
            result.to_str().unwrap(),
        ]);
        assert!(
            out.contains(&format!("evaluated candidate #{id} ")),
            "{out}"
        );
        assert_eq!(
            timeless(&result).as_slice(),
            std::slice::from_ref(clean),
            "candidate #{id}"
        );
        assert!(!result.with_extension("tmp").exists());
    }
    // Bad input: a clear error, no result, no panic.
    let bad = dir.join("bad.json");
    std::fs::write(&bad, "{\"id\": 1}").unwrap();
    let result = dir.join("none.json");
    let (code, _, err) = ansatz(&[
        "evaluate",
        "--task",
        &task("jelly-tiny"),
        "--candidate",
        bad.to_str().unwrap(),
        "--result",
        result.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("not a candidate") && !err.contains("panicked"),
        "{err}"
    );
    assert!(!result.exists());
    let (code, _, err) = ansatz(&[
        "search",
        &task("jelly-tiny"),
        "--out",
        dir.join("x").to_str().unwrap(),
        "--slurm-partition",
        "p",
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("need --executor slurm"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The cluster, or `None` when its tests were not asked for (then a broken cluster fails).
fn cluster(test: &str) -> Option<std::sync::MutexGuard<'static, ()>> {
    if !ansatz_slurm::cluster_tests_requested(test) {
        return None;
    }
    let guard = CLUSTER.lock().unwrap_or_else(|e| e.into_inner());
    let sinfo = Command::new("sinfo").args(["-h", "-o", "%T"]).output();
    let sinfo = sinfo.expect("ANSATZ_SLURM_TESTS=1 but sinfo does not run");
    assert!(
        sinfo.status.success(),
        "ANSATZ_SLURM_TESTS=1 but the cluster does not answer: {}",
        String::from_utf8_lossy(&sinfo.stderr)
    );
    Some(guard)
}

/// `ansatz ARGS` started in the background.
fn spawn(args: &[&str]) -> Child {
    crate::support::command()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ansatz starts")
}

fn finish(child: Child) -> (i32, String, String) {
    crate::support::outcome(child.wait_with_output().expect("ansatz ends"))
}

/// The job arrays of a run's `slurm/state.json`: (job id, item ids by task).
fn batches(run: &Path) -> Vec<(u64, Vec<String>)> {
    let Ok(text) = std::fs::read_to_string(run.join("slurm/state.json")) else {
        return Vec::new();
    };
    let Ok(state) = serde_json::from_str::<Value>(&text) else {
        return Vec::new(); // being renamed into place
    };
    state["batches"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|b| {
            let items = b["items"].as_array()?;
            Some((
                b["job_id"].as_u64()?,
                items
                    .iter()
                    .map(|i| i.as_str().unwrap_or("").to_string())
                    .collect(),
            ))
        })
        .collect()
}

/// Waits until a job array with an item of `round` is submitted; its job id and items.
fn wait_for_round(run: &Path, round: usize, limit: Duration) -> (u64, Vec<String>) {
    let prefix = format!("r{round:03}-");
    let start = Instant::now();
    loop {
        if let Some(b) = batches(run)
            .into_iter()
            .find(|(_, items)| items.iter().any(|i| i.starts_with(&prefix)))
        {
            return b;
        }
        assert!(start.elapsed() < limit, "round {round} was not submitted");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// How many times each candidate was evaluated, from the lines `ansatz evaluate` writes
/// into the jobs' logs.
fn evaluations(run: &Path) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for entry in std::fs::read_dir(run.join("slurm/logs")).expect("logs") {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap_or_default();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("evaluated candidate ") {
                let key = rest.split(':').next().unwrap_or("").to_string();
                *counts.entry(key).or_insert(0) += 1;
            }
        }
    }
    counts
}

/// Whether a ledger line reached its evaluation (was not rejected by the screen).
fn reached_evaluation(line: &Value) -> bool {
    line["verdict"]["status"] == "ok"
        || ["evaluate", "fit", "timeout"].contains(&line["verdict"]["stage"].as_str().unwrap_or(""))
}

fn path(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

/// A two-round evolve search on the cluster records the same ledger as on the local cores
/// (apart from `seconds`), each candidate evaluated once.
#[test]
fn slurm_search_records_the_local_ledger() {
    let Some(_cluster) = cluster("slurm_search_records_the_local_ledger") else {
        return;
    };
    let dir = scratch("exec-same");
    let (local, slurm) = (dir.join("local"), dir.join("slurm"));
    run_ok(&search_args(path(&local), &[]));
    let (out, err) = run_ok(&search_args(path(&slurm), &["--executor", "slurm"]));
    assert!(out.contains("2 rounds done"), "{out}");
    assert!(err.contains("slurm round 2:"), "{err}");
    let a = timeless(&local.join("ledger.jsonl"));
    let b = timeless(&slurm.join("ledger.jsonl"));
    assert_eq!(a.len(), 9);
    assert_eq!(a, b);
    let evaluated = a.iter().filter(|c| reached_evaluation(c)).count();
    let counts = evaluations(&slurm);
    assert_eq!(counts.len(), evaluated, "{counts:?}");
    assert!(counts.values().all(|&n| n == 1), "{counts:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `scancel` of one array task: the candidate is retried or recorded as failed naming
/// `CANCELLED`, and the run goes on to its last round. (The round's jobs start 4 s after
/// submission, so the task is cancelled while it waits: Slurm then forgets it, and without
/// an accounting database a task that vanished counts as a node failure and is retried.)
#[test]
fn a_cancelled_job_is_retried_or_a_failed_candidate_and_the_run_goes_on() {
    let Some(_cluster) =
        cluster("a_cancelled_job_is_retried_or_a_failed_candidate_and_the_run_goes_on")
    else {
        return;
    };
    let dir = scratch("exec-scancel");
    let run = dir.join("run");
    let child = spawn(&search_args(
        path(&run),
        &["--executor", "slurm", "--slurm-arg=--begin=now+4"],
    ));
    let (job, items) = wait_for_round(&run, 1, Duration::from_secs(120));
    let last = items.len() - 1;
    let cancelled = Command::new("scancel")
        .arg(format!("{job}_{last}"))
        .status()
        .expect("scancel runs");
    assert!(cancelled.success());
    let (code, out, err) = finish(child);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("2 rounds done"), "{out}");
    let id: u64 = items[last].split("-c").nth(1).unwrap().parse().unwrap();
    let lines = ledger(&run);
    let line = lines.iter().find(|c| c["id"] == id).expect("recorded");
    let state: Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("slurm/state.json")).unwrap())
            .unwrap();
    let record = &state["items"][&items[last]];
    if line["verdict"]["status"] == "ok" {
        // Retried: a second job ran it, after one counted node failure.
        assert_eq!(record["attempts"].as_array().unwrap().len(), 2, "{record}");
        assert_eq!(record["node_failures"], 1, "{record}");
    } else {
        assert_eq!(line["verdict"]["stage"], "evaluate", "{line}");
        let message = line["verdict"]["message"].as_str().unwrap();
        assert!(
            message.contains("CANCELLED") && message.contains(&format!("{job}_{last}")),
            "{message}"
        );
    }
    assert!(lines.iter().any(|c| c["round"] == 2), "{lines:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The driver is SIGKILLed while a round's jobs wait; `--resume` re-attaches to them: no
/// result is lost (the ledger is the local one), none is computed twice (counted in the
/// jobs' logs).
#[test]
fn a_killed_driver_resumes_without_losing_or_repeating_a_fit() {
    let Some(_cluster) = cluster("a_killed_driver_resumes_without_losing_or_repeating_a_fit")
    else {
        return;
    };
    let dir = scratch("exec-kill");
    let (local, run) = (dir.join("local"), dir.join("run"));
    run_ok(&search_args(path(&local), &[]));
    let mut child = spawn(&search_args(
        path(&run),
        &["--executor", "slurm", "--slurm-arg=--begin=now+3"],
    ));
    let (job, _) = wait_for_round(&run, 1, Duration::from_secs(120));
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    let before = ledger(&run).len();
    // The executor and its settings come from the run directory.
    let (out, err) = run_ok(&["search", "--resume", "--out", path(&run)]);
    assert!(out.contains("2 rounds done"), "{out}");
    let round1 = err
        .lines()
        .find(|l| l.starts_with("slurm round 1:"))
        .unwrap_or_else(|| panic!("{err}"));
    assert!(round1.contains(" 0 submitted"), "{round1}");
    assert!(!round1.contains(" 0 re-attached"), "{round1}");
    let a = timeless(&local.join("ledger.jsonl"));
    let b = timeless(&run.join("ledger.jsonl"));
    assert_eq!(a, b, "killed with {before} lines in the ledger, job {job}");
    let counts = evaluations(&run);
    assert!(counts.values().all(|&n| n == 1), "{counts:?}");
    let evaluated = a.iter().filter(|c| reached_evaluation(c)).count();
    assert_eq!(counts.len(), evaluated, "{counts:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A candidate whose job runs past its time limit (one minute, Slurm's least) ends as a
/// failed candidate naming `TIMEOUT`, with its log's tail.
#[test]
fn a_job_past_its_time_limit_is_a_failed_candidate_naming_timeout() {
    let Some(_cluster) = cluster("a_job_past_its_time_limit_is_a_failed_candidate_naming_timeout")
    else {
        return;
    };
    let dir = scratch("exec-timeout");
    let run = dir.join("run");
    let (out, err) = run_ok(&[
        "search",
        &task("jelly-long"),
        "--rounds",
        "0",
        "--out",
        path(&run),
        "--executor",
        "slurm",
        "--slurm-time",
        "1",
    ]);
    let lines = ledger(&run);
    assert_eq!(lines.len(), 1, "{out}\n{err}");
    assert_eq!(lines[0]["verdict"]["stage"], "evaluate", "{}", lines[0]);
    let message = lines[0]["verdict"]["message"].as_str().unwrap();
    assert!(message.contains("TIMEOUT"), "{message}");
    std::fs::remove_dir_all(&dir).unwrap();
}
