//! The Ehrlich kind's commands and outputs: `ansatz ehrlich eval` (value, feasibility with the
//! banned transition and its position, motif presence) and the run's regret-against-oracle-calls
//! curve and per-round feasibility in `ansatz search`.

use crate::support::{ansatz, scratch};
use ansatz::kinds::ehrlich::task::EhrlichTask;
use ansatz_ehrlich::Ehrlich;
use ansatz_ehrlich::parse::to_letters;
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const TASK: &str = "tasks/ehrlich_v32_L32_c2_k4.toml";

fn task_function(task: &str) -> Ehrlich {
    EhrlichTask::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join(task))
        .expect("task loads")
        .1
}

/// Runs `ansatz` with `input` on standard input.
fn ansatz_stdin(args: &[&str], input: &str) -> (i32, String, String) {
    let mut child = crate::support::command()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the ansatz binary runs");
    // A command that refuses its arguments exits without reading its input: the pipe may be
    // closed before the write, which is not an error of the test.
    match child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
    {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        Err(e) => panic!("write stdin: {e}"),
    }
    crate::support::outcome(child.wait_with_output().expect("ansatz ends"))
}

/// The optimum with a banned pair written at positions (t−1, t): (sequence, from, to, t).
fn with_banned_pair(f: &Ehrlich, t: usize) -> (Vec<u32>, u32, u32) {
    let v = f.num_states() as u32;
    let mut x = f.optimal_solution();
    let (a, b) = (0..v)
        .flat_map(|a| (0..v).map(move |b| (a, b)))
        .find(|&(a, b)| {
            f.is_banned(a, b)
                && (t < 2 || !f.is_banned(x[t - 2], a))
                && (t + 1 >= x.len() || !f.is_banned(b, x[t + 1]))
        })
        .expect("a banned pair that fits");
    x[t - 1] = a;
    x[t] = b;
    (x, a, b)
}

#[test]
fn eval_prints_value_feasibility_and_motif_presence() {
    let f = task_function(TASK);
    let opt = f.optimal_solution();
    let start = f.initial_solution().to_vec();
    let (bad, from, to) = with_banned_pair(&f, 9);
    let input = format!(
        "# optimum, start, infeasible, too short\n{}\n\n{}\n{}\nABC\n",
        to_letters(&opt).expect("letters"),
        serde_json::to_string(&start).expect("json"),
        to_letters(&bad).expect("letters"),
    );
    let (code, stdout, stderr) = ansatz_stdin(&["ehrlich", "eval", "--task", TASK], &input);
    assert_eq!(code, 2, "one line is not a sequence: {stdout}\n{stderr}");
    assert!(stderr.contains("1 of 4 lines"), "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{stdout}");
    assert!(
        lines[0].starts_with("2: value 1 (regret 0); feasible"),
        "{stdout}"
    );
    assert_eq!(
        lines[0].matches("presence 1 (4 of 4").count(),
        2,
        "{stdout}"
    );
    let start_value = f.evaluate(&start).expect("right length");
    assert!(
        lines[1].starts_with(&format!("4: value {start_value} ")),
        "{stdout}"
    );
    assert!(
        lines[2].contains(&format!(
            "infeasible: banned transition {from}->{to} at positions 8-9"
        )),
        "{stdout}"
    );
    assert!(
        lines[3].starts_with("6: error:") && lines[3].contains("expected L = 32"),
        "{stdout}"
    );

    // The same in JSON, from a file.
    let dir = scratch("ehrlich-eval");
    let file = dir.join("seqs.txt");
    std::fs::write(&file, &input).expect("write");
    let file_s = file.display().to_string();
    let (code, stdout, _) = ansatz(&[
        "ehrlich", "eval", "--task", TASK, "--input", &file_s, "--json",
    ]);
    assert_eq!(code, 2);
    let rows: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(rows[0]["value"], 1.0);
    assert_eq!(rows[0]["feasible"], true);
    assert_eq!(rows[2]["value"], Value::Null);
    assert_eq!(rows[2]["banned"][0]["position"], 9);
    assert_eq!(rows[2]["banned"][0]["from"], from);
    let presence: Vec<f64> = f
        .explain(&bad)
        .expect("explained")
        .motifs
        .iter()
        .map(|m| m.present)
        .collect();
    let shown: Vec<f64> = rows[2]["motifs"]
        .as_array()
        .expect("motifs")
        .iter()
        .map(|m| m["presence"].as_f64().expect("number"))
        .collect();
    assert_eq!(shown, presence);
    assert!(
        rows[3]["error"]
            .as_str()
            .expect("error")
            .contains("3 symbols")
    );
}

#[test]
fn eval_takes_a_vector_file_with_another_q_or_construction_parameters() {
    let f = task_function(TASK);
    let vectors = "kinds/ehrlich/data/ehrlich_v32_L32_c2_k4_q4_s0.json";
    // A sequence with partial motifs: the start after a few edits toward the optimum.
    let mut x = f.initial_solution().to_vec();
    let opt = f.optimal_solution();
    x[..12].copy_from_slice(&opt[..12]);
    let line = format!("{}\n", to_letters(&x).expect("letters"));
    let want = f
        .with_quantization(2)
        .expect("q")
        .evaluate(&x)
        .expect("value");
    let (code, stdout, stderr) = ansatz_stdin(
        &[
            "ehrlich",
            "eval",
            "--vectors",
            vectors,
            "--quantization",
            "2",
        ],
        &line,
    );
    assert_eq!(code, 0, "{stderr}");
    if want.is_finite() {
        assert!(stdout.starts_with(&format!("1: value {want} ")), "{stdout}");
    } else {
        assert!(stdout.contains("value -inf"), "{stdout}");
    }
    assert!(stdout.contains("q = 2"), "{stdout}");

    let g = Ehrlich::generate(32, 32, 2, 4, 4, 3).expect("constructed");
    let line = format!("{}\n", to_letters(&g.optimal_solution()).expect("letters"));
    let args = [
        "ehrlich",
        "eval",
        "--states",
        "32",
        "--length",
        "32",
        "--motifs",
        "2",
        "--motif-length",
        "4",
        "--seed",
        "3",
    ];
    let (code, stdout, stderr) = ansatz_stdin(&args, &line);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.starts_with("1: value 1 "), "{stdout}");
}

#[test]
fn eval_explains_bad_functions_and_bad_input_without_panicking() {
    // L < c·k.
    let (code, _, stderr) = ansatz_stdin(
        &[
            "ehrlich",
            "eval",
            "--states",
            "32",
            "--length",
            "6",
            "--motifs",
            "2",
            "--motif-length",
            "4",
            "--seed",
            "0",
        ],
        "AAAAAA\n",
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        stderr.contains("L = 6 is too short") && stderr.contains("= 8"),
        "{stderr}"
    );
    // No function named.
    let (code, _, stderr) = ansatz_stdin(&["ehrlich", "eval"], "AAAA\n");
    assert_eq!(code, 1);
    assert!(stderr.contains("--task FILE, --vectors FILE"), "{stderr}");
    // Nothing to evaluate, and bytes that are not text.
    let (code, _, stderr) = ansatz_stdin(&["ehrlich", "eval", "--task", TASK], "# only\n\n");
    assert_eq!(code, 1);
    assert!(stderr.contains("no sequence"), "{stderr}");
    let dir = scratch("ehrlich-eval-bytes");
    let file = dir.join("bin");
    std::fs::write(&file, b"AB\xff\xfe\n").expect("write");
    let (code, _, stderr) = ansatz(&[
        "ehrlich",
        "eval",
        "--task",
        TASK,
        "--input",
        &file.display().to_string(),
    ]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("not UTF-8 (invalid byte at offset 2)"),
        "{stderr}"
    );
    // Nested lists, out-of-range numbers, text: one error line each, the rest goes on.
    let f = task_function(TASK);
    let good = to_letters(&f.optimal_solution()).expect("letters");
    let input = format!("[[1, 2]]\n[99{}]\nhello world\n{good}\n", ", 0".repeat(31));
    let (code, stdout, _) = ansatz_stdin(&["ehrlich", "eval", "--task", TASK], &input);
    assert_eq!(code, 2);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{stdout}");
    assert!(
        lines[..3].iter().all(|l| l.contains(": error:")),
        "{stdout}"
    );
    assert!(lines[3].starts_with("4: value 1 "), "{stdout}");
}

#[test]
fn every_ehrlich_task_file_loads_and_its_optimum_scores_one() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tasks");
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("tasks") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        if !(name.starts_with("ehrlich_") && name.ends_with(".toml")) {
            continue;
        }
        let (_, f) = EhrlichTask::load(&path).expect("loads");
        assert!(f.optimum_reachable(), "{name}");
        assert_eq!(f.evaluate(&f.optimal_solution()), Ok(1.0), "{name}");
        if name.ends_with("_q2.toml") {
            assert_eq!(f.quantization(), 2, "{name}");
        }
        names.push(name);
    }
    // The vector files' functions and the LLOME comparison suite (notes §2.2).
    assert_eq!(names.len(), 10, "{names:?}");
}

#[test]
fn a_search_writes_regret_against_oracle_calls_and_feasibility_per_round() {
    let dir = scratch("ehrlich-regret");
    let out = dir.join("run");
    let out_s = out.display().to_string();
    let (code, stdout, stderr) = ansatz(&[
        "search",
        "tasks/ehrlich_v20_L10_c2_k3.toml",
        "--rounds",
        "3",
        "--out",
        &out_s,
    ]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let ledger: Vec<Value> = std::fs::read_to_string(out.join("ledger.jsonl"))
        .expect("ledger")
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    // Oracle calls: candidates that reached the evaluation (feasible or not).
    let called: Vec<&Value> = ledger
        .iter()
        .filter(|c| c["verdict"]["stage"].is_null() || c["verdict"]["stage"] == "evaluate")
        .collect();
    let csv = std::fs::read_to_string(out.join("regret.csv")).expect("regret.csv");
    let rows: Vec<Vec<&str>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    assert_eq!(rows.len(), called.len(), "{csv}");
    let mut best = f64::NEG_INFINITY;
    for (i, (row, c)) in rows.iter().zip(&called).enumerate() {
        assert_eq!(row[0], (i + 1).to_string());
        assert_eq!(row[2], c["id"].to_string());
        best = best.max(c["value"].as_f64().unwrap_or(f64::NEG_INFINITY));
        let regret: f64 = row[5].parse().expect("number");
        assert!((regret - (1.0 - best)).abs() < 1e-12, "{row:?}");
    }
    let infeasible = called.iter().filter(|c| c["value"].is_null()).count();
    let report = std::fs::read_to_string(out.join("report.md")).expect("report");
    assert!(report.contains("| round | proposed | oracle calls | feasible | feasible fraction"));
    // The table's feasible counts add up to the ledger's.
    let table: Vec<Vec<String>> = report
        .lines()
        .skip_while(|l| !l.starts_with("| round | proposed"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| l.split('|').map(|c| c.trim().to_string()).collect())
        .collect();
    assert_eq!(table.len(), 4, "{report}");
    let feasible: usize = table
        .iter()
        .map(|r| r[4].parse::<usize>().expect("count"))
        .sum();
    assert_eq!(feasible + infeasible, called.len());
    for name in ["regret.svg", "feasible.svg"] {
        let svg = std::fs::read_to_string(out.join(name)).expect("svg");
        ansatz_engine::plot::raster::check(&svg).expect(name);
    }
}

/// A small constructed function with LLOME scaled down to seconds (a 1-layer model of
/// width 32, 200 GA particles with a high mutation rate, 24 labels per round).
fn tiny_llome_task(dir: &Path) -> PathBuf {
    let task = dir.join("llome-tiny.toml");
    std::fs::write(
        &task,
        r#"kind = "ehrlich"
name = "llome-tiny"

[function]
states = 8
length = 12
motifs = 2
motif_length = 3
quantization = 3
seed = 1

[llome]
ga_steps = 3
labels_per_round = 24

[llome.ga]
num_particles = 200
mutation_prob = 0.15
recombine_prob = 0.3

[llome.model]
d_model = 32
n_layers = 1
n_heads = 2
d_ff = 64

[llome.pairs]
max_pairs = 128

[llome.first_train]
epochs = 100

[llome.train]
epochs = 5

[llome.generation]
num_seeds = 8
iterations = 1
"#,
    )
    .expect("task");
    task
}

fn llome_search(task: &Path, out: &Path, extra: &[&str]) -> Command {
    let mut c = crate::support::command();
    c.args(["search", &task.display().to_string()])
        .args(["--sequence-search", "llome-marge", "--rounds", "5"])
        .args(["--seed", "3", "--threads", "1", "--out"])
        .arg(out)
        .args(extra)
        .env("RAYON_NUM_THREADS", "1");
    c
}

#[test]
fn llome_proposes_through_the_engine_and_resumes_after_sigkill_with_its_weights() {
    use std::time::{Duration, Instant};
    let dir = scratch("ehrlich-llome");
    let task = tiny_llome_task(&dir);
    // The whole run, uninterrupted.
    let whole = dir.join("whole");
    let out = llome_search(&task, &whole, &[]).output().expect("runs");
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let ledger: Vec<Value> = crate::support::timeless(&whole.join("ledger.jsonl"));
    let how = |round: u64| -> Vec<String> {
        ledger
            .iter()
            .filter(|c| c["round"] == round)
            .map(|c| c["how"].as_str().unwrap_or("").to_string())
            .collect()
    };
    // Rounds 1-2: GA generations 1-2 (generation 0 is the start); rounds 3-5: LLOME rounds
    // 1-3, the first trained with SFT, the others with MargE; at most 24 labels each.
    for (round, want) in [
        (1, "GA generation 1 (LLOME seed data)"),
        (2, "GA generation 2 (LLOME seed data)"),
        (3, "llome round 1 (sft)"),
        (4, "llome round 2 (marge)"),
        (5, "llome round 3 (marge)"),
    ] {
        let h = how(round);
        // The later rounds of so small a model may find nothing new to label.
        assert!(round > 3 || !h.is_empty(), "round {round} proposed nothing");
        assert!(h.iter().all(|x| x == want), "round {round}: {h:?}");
        if round >= 3 {
            assert!(h.len() <= 24, "round {round}: {} labels", h.len());
        }
    }
    // No sequence is proposed twice, infeasible ones included (a failed candidate's key is
    // let go by the engine, so this is the proposer's doing).
    let mut letters: Vec<&str> = ledger
        .iter()
        .filter_map(|c| c["letters"].as_str())
        .collect();
    let n = letters.len();
    letters.sort_unstable();
    letters.dedup();
    assert_eq!(letters.len(), n);
    let llome = whole.join("llome");
    for k in 1..=3 {
        for f in ["model", "optim", "train"] {
            let ext = if f == "train" { "json" } else { "safetensors" };
            assert!(llome.join(format!("{f}_{k}.{ext}")).exists(), "{f}_{k}");
        }
    }
    let records: Vec<Value> = std::fs::read_to_string(llome.join("rounds.jsonl"))
        .expect("rounds.jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert_eq!(records.len(), 3);
    assert!(
        records[0]["pairs"].as_u64().unwrap_or(0) > 0,
        "{:?}",
        records[0]
    );
    assert!(records[0]["train_loss"].is_array());
    // The oracle's answer to rounds 1 and 2 is filled in by the round after.
    assert!(records[0]["feasible_fraction"].is_number());
    assert!(records[1]["diversity"].is_number());

    // The same run killed once LLOME's second round has trained, then resumed: the same
    // ledger, and round 2's weights are loaded, not trained again.
    let killed = dir.join("killed");
    let mut child = llome_search(&task, &killed, &[])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starts");
    let marker = killed.join("llome/train_2.json");
    let started = Instant::now();
    while !marker.exists() {
        assert!(started.elapsed() < Duration::from_secs(600), "no progress");
        assert!(child.try_wait().expect("wait").is_none(), "ended too soon");
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
    let weights = killed.join("llome/model_2.safetensors");
    let written = std::fs::metadata(&weights).and_then(|m| m.modified());
    let out = llome_search(&task, &killed, &["--resume"])
        .output()
        .expect("resumes");
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if let Ok(written) = written {
        let now = std::fs::metadata(&weights).and_then(|m| m.modified());
        assert_eq!(
            now.ok(),
            Some(written),
            "round 2's weights were trained again"
        );
    }
    assert_eq!(
        crate::support::timeless(&killed.join("ledger.jsonl")),
        ledger,
        "the resumed run differs from the uninterrupted one"
    );
}

#[test]
fn a_wrong_llome_setting_fails_before_the_search_starts() {
    let dir = scratch("ehrlich-llome-bad");
    let task = tiny_llome_task(&dir);
    let text = std::fs::read_to_string(&task).expect("task");
    std::fs::write(
        &task,
        text.replace("labels_per_round = 24", "labels_per_round = 0"),
    )
    .expect("task");
    let out = llome_search(&task, &dir.join("run"), &[])
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("[llome]") && stderr.contains("labels_per_round"),
        "{stderr}"
    );
    assert!(!dir.join("run/ledger.jsonl").exists());
    // `--sequence-search` is refused on a law task.
    let (code, _, stderr) = ansatz(&[
        "search",
        "tasks/jelly.toml",
        "--sequence-search",
        "ga",
        "--rounds",
        "1",
        "--out",
        &dir.join("jelly").display().to_string(),
    ]);
    assert_ne!(code, 0);
    assert!(
        stderr.contains("--sequence-search applies to sequence"),
        "{stderr}"
    );
}

#[test]
fn the_ga_search_proposes_the_reference_ga_generations() {
    use ansatz_ehrlich::{DiscreteEvolution, GaPreset};
    use std::collections::{BTreeSet, HashMap};
    let dir = scratch("ehrlich-ga");
    let out = dir.join("run");
    let (code, stdout, stderr) = ansatz(&[
        "search",
        "tasks/ehrlich_v20_L10_c2_k3.toml",
        "--sequence-search",
        "ga",
        "--rounds",
        "3",
        "--seed",
        "4",
        "--out",
        &out.display().to_string(),
    ]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let ledger = crate::support::timeless(&out.join("ledger.jsonl"));
    // The library's GA, scored by the function itself, generation by generation.
    let f = task_function("tasks/ehrlich_v20_L10_c2_k3.toml");
    let mut ga =
        DiscreteEvolution::for_function(GaPreset::Paper.config(f.dim(), 4), &f).expect("ga");
    let mut earlier: BTreeSet<String> = BTreeSet::new();
    earlier.insert(to_letters(f.initial_solution()).expect("letters"));
    let mut values: HashMap<Vec<u32>, f64> = HashMap::new();
    for round in 1..=3u64 {
        for x in ga.particles() {
            values.insert(x.clone(), f.evaluate(x).expect("evaluates"));
        }
        ga.step(|x| values[x]);
        let want: BTreeSet<String> = ga
            .particles()
            .iter()
            .filter_map(|x| to_letters(x))
            .filter(|t| !earlier.contains(t))
            .collect();
        let got: BTreeSet<String> = ledger
            .iter()
            .filter(|c| c["round"] == round)
            .filter_map(|c| c["letters"].as_str().map(str::to_string))
            .collect();
        assert!(!want.is_empty());
        assert_eq!(got, want, "round {round}");
        earlier.extend(want);
    }
}

#[test]
fn compare_reads_runs_at_a_common_budget_and_plots_them() {
    let dir = scratch("ehrlich-compare");
    let mut runs = Vec::new();
    for (method, rounds) in [("ga", "2"), ("operators", "3")] {
        let out = dir.join(method);
        let (code, stdout, stderr) = ansatz(&[
            "search",
            "tasks/ehrlich_v20_L10_c2_k3.toml",
            "--sequence-search",
            method,
            "--rounds",
            rounds,
            "--out",
            &out.display().to_string(),
        ]);
        assert_eq!(code, 0, "{stdout}\n{stderr}");
        runs.push(out);
    }
    let report = dir.join("report");
    let mut args = vec![
        "ehrlich".to_string(),
        "compare".into(),
        "--out".into(),
        report.display().to_string(),
    ];
    args.extend(runs.iter().map(|r| r.display().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, stdout, stderr) = ansatz(&args);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let md = std::fs::read_to_string(report.join("compare.md")).expect("compare.md");
    assert_eq!(md, stdout);
    // Each run's line: its calls and best f at the end are those of its regret.csv. The
    // common budget is the fewest calls of an unsolved run (all solved: the most calls).
    let curves: Vec<Vec<(usize, f64)>> = runs
        .iter()
        .map(|r| {
            std::fs::read_to_string(r.join("regret.csv"))
                .expect("csv")
                .lines()
                .skip(1)
                .map(|l| {
                    let c: Vec<&str> = l.split(',').collect();
                    (c[0].parse().expect("calls"), c[4].parse().expect("best"))
                })
                .collect()
        })
        .collect();
    let unsolved: Vec<usize> = curves
        .iter()
        .filter(|c| c.iter().all(|p| p.1 < 1.0))
        .map(|c| c.len())
        .collect();
    let budget = unsolved
        .iter()
        .min()
        .copied()
        .unwrap_or_else(|| curves.iter().map(Vec::len).max().expect("runs"));
    assert!(
        md.contains(&format!("Common budget: {budget} oracle calls")),
        "{md}"
    );
    for (curve, method) in curves.iter().zip(["ga", "operators"]) {
        let at_budget = curve[budget.min(curve.len()) - 1].1;
        let end = curve.last().expect("calls").1;
        let line = md
            .lines()
            .find(|l| l.starts_with(&format!("| {method} | 0 |")))
            .unwrap_or_else(|| panic!("no line for {method}: {md}"));
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        assert_eq!(cells[3], curve.len().to_string(), "{line}");
        assert_eq!(cells[5], format!("{at_budget:.4}"), "{line}");
        assert_eq!(cells[6], format!("{end:.4}"), "{line}");
    }
    let svg =
        std::fs::read_to_string(report.join("regret-ehrlich_v20_L10_c2_k3.svg")).expect("svg");
    ansatz_engine::plot::raster::check(&svg).expect("renders");
    // A directory that is not a run is an error that names it.
    let (code, _, stderr) = ansatz(&[
        "ehrlich",
        "compare",
        "--out",
        &report.display().to_string(),
        &dir.display().to_string(),
    ]);
    assert_ne!(code, 0);
    assert!(stderr.contains("config.json"), "{stderr}");
}
