//! `ansatz regress` as a user runs it: tables in, laws, fronts, exports and errors out.

use crate::support::{ansatz, scratch};
use nalgebra::Matrix3;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;
use std::fmt::Write as _;
use std::path::Path;

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("result file")).expect("json")
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

#[test]
fn a_feynman_law_is_found_exactly_with_its_front_report_and_exports() {
    // Feynman II.38.14, shear modulus: mu_S = Y / (2 (1 + sigma)), AI-Feynman ranges.
    let dir = scratch("regress-feynman");
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut csv = String::from("Y,sigma,mu_S\n");
    for _ in 0..400 {
        let y: f64 = rng.random_range(1.0..5.0);
        let sigma: f64 = rng.random_range(1.0..5.0);
        let _ = writeln!(csv, "{y},{sigma},{}", y / (2.0 * (1.0 + sigma)));
    }
    let data = dir.join("shear.csv");
    std::fs::write(&data, csv).expect("write");
    let out = dir.join("run");
    let (code, stdout, stderr) = ansatz(&[
        "regress",
        s(&data),
        "--target",
        "mu_S",
        "--time-limit",
        "60",
        "--seed",
        "3",
        "--out",
        s(&out),
    ]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let r = read_json(&out.join("result.json"));
    assert_eq!(r["target"], "mu_S");
    assert_eq!(r["rows"], serde_json::json!([300, 100]));
    let nmse = r["train_nmse"].as_f64().expect("nmse");
    assert!(nmse < 1e-24, "{r:#}");
    assert!(r["test_r2"].as_f64().expect("r2") > 1.0 - 1e-12, "{r:#}");
    // The chosen law is the smallest exact one: Y / 2 / (sigma + 1) has 7 nodes.
    assert!(r["complexity"].as_u64().expect("complexity") <= 7, "{r:#}");
    let expression = r["expression"].as_str().expect("expression");
    assert!(
        expression.contains('Y') && expression.contains("sigma"),
        "{expression}"
    );
    // The front runs by increasing size and decreasing error, and holds the chosen law.
    let front = r["front"].as_array().expect("front");
    assert!(front.len() >= 2);
    for w in front.windows(2) {
        assert!(w[0]["complexity"].as_u64() < w[1]["complexity"].as_u64());
        assert!(w[0]["train_nmse"].as_f64() > w[1]["train_nmse"].as_f64());
    }
    assert!(front.iter().any(|row| row["expression"] == r["expression"]));
    // The law program parses and checks against the table's signature.
    let law = std::fs::read_to_string(out.join("best.law")).expect("best.law");
    let sig: ansatz_grammar::Signature = "Y: scalar, sigma: scalar -> scalar".parse().expect("sig");
    ansatz_grammar::load(&law, &sig).expect("the chosen law checks");
    let report = std::fs::read_to_string(out.join("report.md")).expect("report");
    assert!(report.contains("## Pareto front"), "{report}");
    assert!(report.contains(expression), "{report}");
    let svg = std::fs::read_to_string(out.join("pareto.svg")).expect("svg");
    let shown = ansatz_engine::plot::raster::check(&svg).expect("pareto.svg shows a chart");
    // A marker per front law (and one in the legend), the chosen law circled and named.
    assert_eq!(svg.matches("<circle").count(), front.len() + 2, "{svg}");
    assert!(
        shown.texts.iter().any(|t| t.starts_with("chosen: ")),
        "{:?}",
        shown.texts
    );
    let ticks = shown
        .texts
        .iter()
        .filter(|t| t.parse::<f64>().is_ok() || t.starts_with("1e"))
        .count();
    assert!(
        (4..=20).contains(&ticks),
        "{ticks} tick labels: {:?}",
        shown.texts
    );
    let tex = std::fs::read_to_string(out.join("exports/best.tex")).expect("tex");
    assert!(tex.contains("\\sigma"), "{tex}");
    assert!(
        out.join("exports/best.sympy.py").exists() && out.join("exports/best.numpy.py").exists()
    );
    let preds = std::fs::read_to_string(out.join("predictions_test.csv")).expect("predictions");
    assert_eq!(preds.lines().count(), 101);
}

fn neo_hookean(f: &Matrix3<f64>) -> Matrix3<f64> {
    let e = 13f64.exp();
    let nu = 0.245;
    let mu = e / (2.0 * (1.0 + nu));
    let la = e * nu / ((1.0 + nu) * (1.0 - 2.0 * nu));
    mu * (f * f.transpose() - Matrix3::identity()) + la * f.determinant().ln() * Matrix3::identity()
}

#[test]
fn nine_stress_columns_are_fitted_as_one_matrix_law() {
    let dir = scratch("regress-stress");
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let names = |p: &str| -> Vec<String> {
        (0..3)
            .flat_map(|i| (0..3).map(move |j| (i, j)))
            .map(|(i, j)| format!("{p}{i}{j}"))
            .collect()
    };
    let mut csv = [names("F"), names("tau")].concat().join(",") + "\n";
    for _ in 0..240 {
        let f = Matrix3::identity() + Matrix3::from_fn(|_, _| rng.random_range(-0.15..0.15));
        let t = neo_hookean(&f);
        let row: Vec<String> = f
            .transpose()
            .iter()
            .chain(t.transpose().iter())
            .map(|v| format!("{v:e}"))
            .collect();
        let _ = writeln!(csv, "{}", row.join(","));
    }
    let data = dir.join("stress.csv");
    std::fs::write(&data, csv).expect("write");
    let out = dir.join("run");
    let (code, stdout, stderr) = ansatz(&[
        "regress",
        s(&data),
        "--target",
        "tau",
        "--time-limit",
        "120",
        "--out",
        s(&out),
    ]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let r = read_json(&out.join("result.json"));
    assert_eq!(r["kind"], "matrix");
    assert!(r["test_r2"].as_f64().expect("r2") >= 0.999, "{r:#}");
    let outputs = r["test_r2_outputs"].as_array().expect("per entry");
    assert_eq!(outputs.len(), 9);
    assert!(
        outputs.iter().all(|v| v.as_f64().expect("r2") >= 0.999),
        "{r:#}"
    );
    let law = r["law"].as_str().expect("law");
    ansatz_grammar::load(law, &ansatz_grammar::Signature::elastic()).expect("one F -> tau law");
    let preds = std::fs::read_to_string(out.join("predictions_test.csv")).expect("predictions");
    let mut lines = preds.lines();
    // The inputs, the targets, then each target entry's prediction and error.
    let mut header = names("F");
    header.extend(names("tau"));
    for t in names("tau") {
        header.push(format!("{t}_prediction"));
        header.push(format!("{t}_error"));
    }
    assert_eq!(lines.next(), Some(header.join(",").as_str()));
    let rows: Vec<Vec<f64>> = lines
        .map(|l| l.split(',').map(|c| c.parse().expect("number")).collect())
        .collect();
    assert_eq!(rows.len(), 60);
    for row in rows {
        for k in 0..9 {
            let (target, pred, err) = (row[9 + k], row[18 + 2 * k], row[19 + 2 * k]);
            assert!((err - (pred - target)).abs() <= 1e-9 * target.abs().max(1.0));
        }
    }
    assert!(out.join("exports/best.sympy.py").exists());
}

#[test]
fn every_scaling_finds_a_sum_of_products_with_an_offset_and_an_unknown_one_is_refused() {
    // Feynman I.12.11 with an offset: F = 3 + q (E + B v sin(theta)).
    let dir = scratch("regress-scaling");
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    let mut csv = String::from("q,E,B,v,theta,F\n");
    for _ in 0..300 {
        let r: Vec<f64> = (0..5).map(|_| rng.random_range(1.0..5.0)).collect();
        let f = 3.0 + r[0] * (r[1] + r[2] * r[3] * r[4].sin());
        let _ = writeln!(csv, "{},{},{},{},{},{f}", r[0], r[1], r[2], r[3], r[4]);
    }
    let data = dir.join("lorentz.csv");
    std::fs::write(&data, csv).expect("write");
    for scaling in ["terms", "affine", "none"] {
        let out = dir.join(scaling);
        let (code, stdout, stderr) = ansatz(&[
            "regress",
            s(&data),
            "--target",
            "F",
            "--scaling",
            scaling,
            "--max-fits",
            "20000",
            "--time-limit",
            "120",
            "--threads",
            "1",
            "--out",
            s(&out),
        ]);
        assert_eq!(code, 0, "{scaling}: {stdout}\n{stderr}");
        let r = read_json(&out.join("result.json"));
        // Scaled while searching, the law is written with its coefficients in it: it
        // predicts the test rows exactly.
        assert!(
            r["test_r2"].as_f64().expect("r2") > 1.0 - 1e-12,
            "{scaling}: {r:#}"
        );
        // The result says how it was obtained.
        let settings = &r["settings"];
        assert_eq!(settings["scaling"], scaling, "{r:#}");
        assert_eq!(settings["max_fits"], 20000, "{r:#}");
        assert_eq!(settings["time_limit"], 120.0, "{r:#}");
        assert_eq!(settings["islands"], 8, "{r:#}");
        assert_eq!(
            settings["operators"].as_array().map(Vec::len),
            Some(7),
            "{r:#}"
        );
    }
    // Out-of-range settings: status 2 (an error in what the user gave), nothing written.
    let refused: &[(&str, &str, &[&str])] = &[
        ("--scaling", "linear", &["linear", "terms", "affine"]),
        ("--islands", "0", &["--islands must be at least 1"]),
    ];
    for (option, value, needles) in refused {
        let (code, _, stderr) = ansatz(&[
            "regress",
            s(&data),
            *option,
            *value,
            "--out",
            s(&dir.join("bad")),
        ]);
        assert_eq!(code, 2, "{option} {value}: {stderr}");
        for n in *needles {
            assert!(stderr.contains(n), "{option} {value}: no '{n}' in {stderr}");
        }
    }
    assert!(!dir.join("bad").exists());
}

#[test]
fn malformed_tables_are_refused_naming_the_line_and_the_column() {
    let dir = scratch("regress-bad");
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "ragged.csv",
            "x,y,target\n1,2,3\n4,5\n",
            &["line 3", "expected 3", "got 2"],
        ),
        (
            "text.csv",
            "x,y,target\n1,2,3\n4,five,6\n",
            &["line 3", "'y'", "five"],
        ),
        (
            "nan.csv",
            "x,y,target\n1,2,3\n4,NaN,6\n",
            &["line 3", "'y'", "NaN"],
        ),
        ("empty.csv", "", &["empty"]),
    ];
    for (name, text, needles) in cases {
        let path = dir.join(name);
        std::fs::write(&path, text).expect("write");
        let (code, stdout, stderr) = ansatz(&["regress", s(&path), "--out", s(&dir.join("o"))]);
        assert_eq!(code, 2, "{name}: {stdout}\n{stderr}");
        assert!(stderr.contains(name), "{name}: {stderr}");
        for n in *needles {
            assert!(stderr.contains(n), "{name}: no '{n}' in {stderr}");
        }
    }
    let ok = dir.join("ok.csv");
    std::fs::write(&ok, "x,y,target\n1,2,3\n4,5,6\n7,8,9\n").expect("write");
    let (code, _, stderr) = ansatz(&[
        "regress",
        s(&ok),
        "--target",
        "z",
        "--out",
        s(&dir.join("o")),
    ]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("'z'") && stderr.contains("target"),
        "{stderr}"
    );
    assert!(
        !dir.join("o").join("result.json").exists(),
        "nothing is written for bad input"
    );
}

#[test]
fn a_language_model_proposes_laws_for_a_table_through_the_search_loop() {
    use crate::support::chat_server::{ChatServer, Reply, openai_body};
    let dir = scratch("regress-llm");
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let mut csv = String::from("q [C],v [m/s],B [T],omega [rad/s]\n");
    for _ in 0..120 {
        let (q, v, b): (f64, f64, f64) = (
            rng.random_range(1.0..5.0),
            rng.random_range(1.0..5.0),
            rng.random_range(1.0..5.0),
        );
        let _ = writeln!(csv, "{q},{v},{b},{}", 2.5 * q * v * b);
    }
    let data = dir.join("omega.csv");
    std::fs::write(&data, csv).expect("write");
    let answer = "### Analysis\nA product.\n### Step-by-Step Plan\n1. Scale.\n### Code\n```law\nparam k = 1.0\nreturn k * q * v * B\n```\n";
    let server = ChatServer::start([
        // The first request gets a reply without a law, the rest the law.
        Reply::json(200, openai_body(&["I am not sure."], 100, 5)),
    ]);
    server.set_default(Reply::json(200, openai_body(&[answer], 1000, 50)));
    let out = dir.join("run");
    let url = format!("{}/v1", server.url());
    let (code, stdout, stderr) = ansatz(&[
        "regress",
        s(&data),
        "--target",
        "omega",
        "--proposer",
        "llm",
        "--model",
        "test-model",
        "--base-url",
        &url,
        "--api-key-env",
        "none",
        "--rounds",
        "2",
        "--out",
        s(&out),
    ]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let r = read_json(&out.join("result.json"));
    assert!(r["train_nmse"].as_f64().expect("nmse") < 1e-20, "{r:#}");
    assert!(r["test_r2"].as_f64().expect("r2") > 1.0 - 1e-12, "{r:#}");
    assert!(r["law"].as_str().expect("law").contains("2.5"), "{r:#}");
    // The prompt named the variables and their ranges.
    let requests = server.requests();
    assert!(!requests.is_empty());
    let prompt = requests[0].json().to_string();
    assert!(prompt.contains("| `q` | q | C | scalar |"), "{prompt}");
    assert!(
        prompt.contains("| (the law's value) | omega | rad/s | scalar |"),
        "{prompt}"
    );
    // The ledger holds the failed extraction and the fitted law.
    let ledger = std::fs::read_to_string(out.join("ledger.jsonl")).expect("ledger");
    assert!(ledger.contains("\"extract\""), "{ledger}");
    assert!(out.join("report.md").exists());
}

#[test]
fn a_table_search_started_by_regress_is_resumed_by_search() {
    let dir = scratch("regress-resume");
    let mut csv = String::from("x,y\n");
    for i in 0..40 {
        let x = 0.1 + i as f64 * 0.05;
        let _ = writeln!(csv, "{x},{}", 3.0 * x * x);
    }
    let data = dir.join("square.csv");
    std::fs::write(&data, csv).expect("write");
    let out = dir.join("run");
    std::fs::create_dir_all(out.join("human")).expect("dir");
    std::fs::write(
        out.join("human/round-001.reply.md"),
        "```law\nparam k = 1.0\nreturn k * x\n```\n",
    )
    .expect("reply");
    let args = [
        "regress",
        s(&data),
        "--target",
        "y",
        "--proposer",
        "human",
        "--rounds",
        "1",
        "--out",
        s(&out),
        "--quiet",
    ];
    let (code, stdout, stderr) = ansatz(&args);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let lines = |p: &Path| std::fs::read_to_string(p).expect("ledger").lines().count();
    assert_eq!(lines(&out.join("ledger.jsonl")), 2);
    // Starting it again is refused, naming how to continue it.
    let (code, _, stderr) = ansatz(&args);
    assert_ne!(code, 0);
    assert!(stderr.contains("search --resume"), "{stderr}");
    // `search --resume` continues the table run (its task.toml names the kind).
    std::fs::write(
        out.join("human/round-002.reply.md"),
        "```law\nparam k = 1.0\nreturn k * x * x\n```\n",
    )
    .expect("reply");
    let (code, stdout, stderr) = ansatz(&["search", "--resume", "--out", s(&out), "--rounds", "2"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert_eq!(lines(&out.join("ledger.jsonl")), 3);
    assert!(stdout.contains("best: candidate #2"), "{stdout}");
    let best = std::fs::read_to_string(out.join("best.law")).expect("best.law");
    assert!(best.contains("3"), "{best}");
}

/// The table prompt of the default format describes the data (description, units, the rows
/// fitted, held out and kept for the test), and its feedback gives the held-out error and the
/// error by quartile of each input; the `sga` format keeps the paper's shorter text.
#[test]
fn the_table_prompt_describes_the_data_and_its_feedback_the_errors_by_region() {
    let dir = scratch("regress-table-prompt");
    let mut csv = String::from("r,v\n");
    for i in 0..200 {
        let r = 1.0 + i as f64 * 0.02;
        let _ = writeln!(csv, "{r},{}", 4.0 / (r * r) + 0.5);
    }
    let data = dir.join("field.csv");
    std::fs::write(&data, csv).expect("write");
    for (format, full) in [("full", true), ("sga", false)] {
        let out = dir.join(format!("run-{format}"));
        std::fs::create_dir_all(out.join("human")).expect("dir");
        for round in 1..=2 {
            std::fs::write(
                out.join(format!("human/round-00{round}.reply.md")),
                "```law\n# an inverse law\nparam k = 1.0\nreturn k / r\n```\n",
            )
            .expect("reply");
        }
        let (code, stdout, stderr) = ansatz(&[
            "regress",
            s(&data),
            "--target",
            "v",
            "--proposer",
            "human",
            "--rounds",
            "2",
            "--laws-per-round",
            "1",
            "--feedback",
            format,
            "--describe",
            "The potential around a charged sphere against the distance",
            "--unit",
            "r=m",
            "--unit",
            "v=V",
            "--out",
            s(&out),
            "--quiet",
        ]);
        assert_eq!(code, 0, "{stdout}\n{stderr}");
        let prompt =
            std::fs::read_to_string(out.join("human/round-002.prompt.md")).expect("prompt 2");
        assert!(prompt.contains("| `r` | r | m | scalar |"), "{prompt}");
        assert!(prompt.contains("| v | V | scalar |"), "{prompt}");
        // The rows it is told about add up to the 200 of the file.
        let test_rows = 200 / 4;
        assert!(
            prompt.contains(&format!(
                "A further {test_rows} rows are kept for the final test"
            )),
            "{prompt}"
        );
        // A description the user gives is data, shown in either format.
        assert!(prompt.contains("charged sphere"), "{format}: {prompt}");
        assert!(
            prompt.contains("held-out rows (not fitted)") == full,
            "{format}: {prompt}"
        );
        assert!(
            prompt.contains("#### Error by input region") == full,
            "{format}: {prompt}"
        );
        if full {
            assert!(prompt.contains("k = "), "{prompt}");
            assert!(!prompt.contains("0.0000"), "{prompt}");
        }
    }
}

/// A table run through the loop is SIGKILLed while round 1's laws are being fitted;
/// `search --resume` keeps every candidate finished before the kill, byte for byte, and
/// fits only the missing ones.
#[test]
fn a_table_search_killed_mid_round_resumes_without_losing_or_refitting() {
    let dir = scratch("regress-kill-resume");
    // Enough rows that one least-squares fit takes a noticeable time on one thread.
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let mut csv = String::from("a,b,y\n");
    for _ in 0..60_000 {
        let a: f64 = rng.random_range(0.5..2.0);
        let b: f64 = rng.random_range(0.5..2.0);
        let _ = writeln!(csv, "{a},{b},{}", 2.5 * a * a + b.sin());
    }
    let data = dir.join("t.csv");
    std::fs::write(&data, csv).expect("write");
    let out = dir.join("run");
    std::fs::create_dir_all(out.join("human")).expect("dir");
    let laws = [
        "param k = 1.0\nreturn k * a",
        "param k = 1.0\nreturn k * a * a",
        "param k = 1.0\nparam m = 1.0\nreturn k * a * a + m * b",
        "param k = 1.0\nparam m = 1.0\nreturn k * a * a + m * sin(b)",
        "param k = 1.0\nparam m = 1.0\nreturn k * exp(m * a)",
        "param k = 1.0\nparam m = 1.0\nreturn k * a ** m + sin(b)",
        "param k = 1.0\nparam m = 1.0\nreturn k * log(a + m) + b",
        "param k = 1.0\nparam m = 1.0\nparam n = 0.5\nreturn k * a * a + m * sin(n * b)",
    ];
    let reply: String = laws
        .iter()
        .map(|l| format!("```law\n{l}\n```\n\n"))
        .collect();
    std::fs::write(out.join("human/round-001.reply.md"), reply).expect("reply");
    let args = |resume: bool| -> Vec<String> {
        let mut a: Vec<String> = if resume {
            vec!["search".into(), "--resume".into()]
        } else {
            vec![
                "regress".into(),
                s(&data).into(),
                "--target".into(),
                "y".into(),
                "--proposer".into(),
                "human".into(),
                "--laws-per-round".into(),
                "8".into(),
                // Room for every fit on a loaded machine: the budget must not be what
                // ends the resumed run.
                "--time-limit".into(),
                "900".into(),
                "--quiet".into(),
            ]
        };
        a.extend(["--rounds", "1", "--threads", "1", "--out", s(&out)].map(String::from));
        a
    };
    let mut child = crate::support::command()
        .args(args(false))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("ansatz regress starts");
    let ledger = out.join("ledger.jsonl");
    let lines = |p: &Path| {
        std::fs::read_to_string(p)
            .map(|t| t.lines().filter(|l| l.ends_with('}')).count())
            .unwrap_or(0)
    };
    let started = std::time::Instant::now();
    // The starting law and at least one law of round 1 are in the ledger.
    while !(out.join("rounds/round-001.json").exists() && lines(&ledger) >= 2) {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(600),
            "the run made no progress"
        );
        assert!(
            child.try_wait().expect("wait").is_none(),
            "finished too soon"
        );
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    child.kill().expect("kill -9");
    child.wait().expect("reaped");
    let before = std::fs::read_to_string(&ledger).expect("ledger");
    let before: Vec<&str> = before.lines().filter(|l| l.ends_with('}')).collect();
    assert!(
        before.len() < 1 + laws.len(),
        "killed after round 1 was complete: {} lines",
        before.len()
    );
    let (code, stdout, stderr) = ansatz(&args(true).iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let after = std::fs::read_to_string(&ledger).expect("ledger");
    for line in &before {
        assert!(
            after.lines().any(|l| l == *line),
            "lost or refitted: {line}"
        );
    }
    let ids: Vec<u64> = after
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).expect("json")["id"]
                .as_u64()
                .expect("id")
        })
        .collect();
    assert_eq!(
        ids,
        (0..=laws.len() as u64).collect::<Vec<_>>(),
        "ids: {stdout}\n{stderr}"
    );
    assert!(
        stdout.contains(&format!(
            "{} fitted in this invocation",
            1 + laws.len() - before.len()
        )),
        "{stdout}"
    );
    // The best is the true law, whichever invocation fitted it.
    let best = std::fs::read_to_string(out.join("best.law")).expect("best.law");
    assert!(best.contains("sin"), "{best}");
}

/// Rows of `law` of five inputs drawn in [0.5, 3), with Gaussian-ish noise of `noise`
/// times the target's scale: a CSV text with header `x0,...,x4,y`.
fn five_input_table(rows: usize, seed: u64, noise: f64, law: impl Fn(&[f64]) -> f64) -> String {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut csv = String::from("x0,x1,x2,x3,x4,y\n");
    for _ in 0..rows {
        let x: Vec<f64> = (0..5).map(|_| rng.random_range(0.5..3.0)).collect();
        let e: f64 = (0..4).map(|_| rng.random_range(-1.0f64..1.0)).sum();
        let y = law(&x) + noise * e;
        let cells: Vec<String> = x.iter().map(|v| v.to_string()).collect();
        let _ = writeln!(csv, "{},{y}", cells.join(","));
    }
    csv
}

#[test]
fn a_time_limit_of_30_s_holds_on_a_2000_row_table_with_progress_on_the_way() {
    // A noisy law with five inputs that no search finds exactly: the run goes to its limit,
    // refits its front, writes everything, and the whole process ends within 31.5 s.
    let dir = scratch("regress-time-limit");
    let data = dir.join("growth.csv");
    let csv = five_input_table(2000, 21, 0.05, |x| {
        x[0] * (x[1] * x[2]).sin() + x[3].exp() / (1.0 + x[4] * x[0]) - 0.3 * x[2] * x[4]
    });
    std::fs::write(&data, csv).expect("write");
    let out = dir.join("run");
    let started = std::time::Instant::now();
    let (code, stdout, stderr) =
        ansatz(&["regress", s(&data), "--time-limit", "30", "--out", s(&out)]);
    let wall = started.elapsed().as_secs_f64();
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(wall < 31.5, "{wall} s wall\n{stderr}");
    let r = read_json(&out.join("result.json"));
    assert!(r["seconds"].as_f64().expect("seconds") <= 30.0, "{r:#}");
    assert!(
        r["stopped"]
            .as_str()
            .expect("stopped")
            .contains("time limit"),
        "{r:#}"
    );
    assert!(r["test_r2"].as_f64().expect("r2") > 0.5, "{r:#}");
    // Progress lines between the first and the last, each with the count of fits and the
    // best law so far, at most 5 s apart.
    let progress: Vec<&str> = stderr.lines().filter(|l| l.contains(" fits, ")).collect();
    assert!(progress.len() >= 5, "{stderr}");
    assert!(progress.iter().all(|l| l.contains("best NMSE")), "{stderr}");
    let times: Vec<f64> = progress
        .iter()
        .filter_map(|l| l.split("y: ").nth(1)?.split('/').next()?.parse().ok())
        .collect();
    assert_eq!(times.len(), progress.len(), "{stderr}");
    for w in times.windows(2) {
        assert!(w[1] - w[0] <= 6.0, "{times:?}");
    }
}

#[test]
fn compressed_tables_and_several_test_files_are_each_read_scored_and_predicted() {
    use flate2::{Compression, write::GzEncoder};
    use std::io::Write as _;
    let dir = scratch("regress-tests");
    let gz = |name: &str, text: &str| {
        let path = dir.join(name);
        let mut e = GzEncoder::new(Vec::new(), Compression::default());
        e.write_all(text.as_bytes()).expect("gzip");
        std::fs::write(&path, e.finish().expect("gzip")).expect("write");
        path
    };
    let law = |x: &[f64]| 2.5 * x[0] * x[0];
    let train = gz("train.csv.gz", &five_input_table(300, 1, 0.0, law));
    let tsv = five_input_table(50, 2, 0.0, law).replace(',', "\t");
    let first = gz("first.tsv.gz", &tsv);
    let second = dir.join("second.csv");
    std::fs::write(&second, five_input_table(70, 3, 0.0, law)).expect("write");
    let out = dir.join("run");
    let (code, stdout, stderr) = ansatz(&[
        "regress",
        s(&train),
        "--test",
        s(&first),
        "--test",
        s(&second),
        "--max-fits",
        "400",
        "--out",
        s(&out),
    ]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let r = read_json(&out.join("result.json"));
    // The constant prints as the number it is, the law in its plain form.
    assert_eq!(r["expression"], "2.5 * x0**2", "{r:#}");
    assert_eq!(r["rows"], serde_json::json!([300, 50]));
    let tests = r["tests"].as_array().expect("tests");
    let names: Vec<&str> = tests
        .iter()
        .map(|t| t["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["first", "second"]);
    for (t, rows) in tests.iter().zip([50, 70]) {
        assert_eq!(t["rows"], rows);
        assert!(t["r2"].as_f64().expect("r2") > 1.0 - 1e-12, "{t}");
    }
    assert!(stdout.contains("second: R²"), "{stdout}");
    let report = std::fs::read_to_string(out.join("report.md")).expect("report");
    assert!(report.contains("`predictions_second.csv`"), "{report}");
    // Each test set's predictions: inputs, target, prediction and error per row.
    for (name, rows) in [("first", 50), ("second", 70)] {
        let text = std::fs::read_to_string(out.join(format!("predictions_{name}.csv")))
            .expect("predictions");
        let mut lines = text.lines();
        assert_eq!(
            lines.next(),
            Some("x0,x1,x2,x3,x4,y,prediction,error"),
            "{text}"
        );
        let body: Vec<Vec<f64>> = lines
            .map(|l| l.split(',').map(|c| c.parse().expect("number")).collect())
            .collect();
        assert_eq!(body.len(), rows);
        for row in body {
            assert!((row[7] - (row[6] - row[5])).abs() < 1e-12, "{row:?}");
            assert!((row[6] - 2.5 * row[0] * row[0]).abs() < 1e-9, "{row:?}");
        }
    }
    // A file that starts as gzip but is cut short is refused, naming it.
    let bytes = std::fs::read(&train).expect("read");
    let cut = dir.join("cut.csv.gz");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).expect("write");
    let (code, _, stderr) = ansatz(&["regress", s(&cut), "--out", s(&dir.join("cut"))]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("cut.csv.gz: the file starts as gzip but does not decompress"),
        "{stderr}"
    );
}

#[test]
fn a_table_search_does_not_count_the_time_the_proposer_takes_to_answer() {
    // The human answers after 4 s; the time limit is 2 s of fitting: the laws are fitted.
    // Two laws are asked for: the third block of the reply is left out.
    let dir = scratch("regress-human-wait");
    let data = dir.join("square.csv");
    std::fs::write(&data, five_input_table(200, 4, 0.0, |x| 2.5 * x[0] * x[0])).expect("write");
    let out = dir.join("run");
    let reply = out.join("human/round-001.reply.md");
    let writer = {
        let reply = reply.clone();
        std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_secs(4));
            let dir = reply.parent().expect("dir");
            std::fs::create_dir_all(dir).expect("dir");
            let tmp = dir.join("reply.tmp");
            std::fs::write(
                &tmp,
                "```law\nparam k = 1.0\nreturn k * x0 * x0\n```\n```law\nparam k = 1.0\nreturn k * x0\n```\n```law\nparam k = 1.0\nreturn k * x1\n```\n",
            )
            .expect("reply");
            std::fs::rename(&tmp, &reply).expect("move");
        })
    };
    let (code, stdout, stderr) = ansatz(&[
        "regress",
        s(&data),
        "--proposer",
        "human",
        "--rounds",
        "1",
        "--laws-per-round",
        "2",
        "--time-limit",
        "2",
        "--out",
        s(&out),
    ]);
    writer.join().expect("writer");
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let r = read_json(&out.join("result.json"));
    assert_eq!(r["fits"], 3, "{r:#}");
    assert!(r["train_nmse"].as_f64().expect("nmse") < 1e-20, "{r:#}");
    assert_eq!(r["stopped"], "1 rounds done", "{r:#}");
    // The outputs of the GP path: the expression, test scores and predictions.
    assert_eq!(r["expression"], "2.5 * x0**2", "{r:#}");
    assert!(
        r["tests"][0]["r2"].as_f64().expect("r2") > 1.0 - 1e-12,
        "{r:#}"
    );
    let preds = std::fs::read_to_string(out.join("predictions_test.csv")).expect("predictions");
    assert_eq!(preds.lines().count(), 51, "{preds}");
    assert!(
        preds.starts_with("x0,x1,x2,x3,x4,y,prediction,error\n"),
        "{preds}"
    );
    assert!(out.join("exports/best.numpy.py").exists());
}

#[test]
fn the_laws_that_hung_fits_end_within_their_bounds_through_the_table_problem() {
    use ansatz::law::{LawDetail, LawProblem};
    use ansatz::regress::data::{Table, roles};
    use ansatz_engine::Problem;
    // Damage and temperature (issue 20): strain, temp, D and a noisy target.
    let mut csv = String::from("strain,temp,D,sigma\n");
    for i in 0..400 {
        let strain = 0.3 * f64::from(i % 40) / 39.0;
        let temp = 250.0 + 0.25 * f64::from(i);
        let d = 0.1 + 0.02 * f64::from(i % 7);
        let r = 1.0 - (-strain / 0.02).exp();
        let noise = 0.05 * (7.3 * f64::from(i)).sin();
        let y = r * (3.0 - 0.01 * temp + 2e-5 * temp * temp) * (1.0 - d * strain) + noise;
        let _ = writeln!(csv, "{strain},{temp},{d},{y}");
    }
    let table = Table::parse(&csv, "damage.csv").expect("table");
    let roles = roles(&table, &[]).expect("roles");
    let problem =
        ansatz::kinds::table::TableProblem::new("damage", &table, &roles.inputs, &roles.targets[0])
            .expect("problem");
    let laws = [
        // The law that hung (finite for every parameter value).
        "param a0 = 1.0\nparam a1 = 0.0\nparam a2 = 0.0\nparam D0 = 1.0\nparam e0 = 0.01\nr = 1 - exp(-strain / (abs(e0) + 1e-4))\nreturn r * (a0 + a1*temp + a2*temp**2) * (1 - D0*D*strain)",
        // Constant in one parameter.
        "param a = 1.0\nparam b = 1.0\nreturn a * strain + 0 * b",
        // NaN in a region of its parameters (and at the start of some rows).
        "param a = 0.5\nparam b = 1.0\nreturn sqrt(a - strain) * log(b * temp - 200)",
        // NaN everywhere.
        "param a = 1.0\nreturn sqrt(-1 - a*a) * strain",
    ];
    for (settings, bound) in [(30.0, 40.0), (0.2, 5.0)] {
        for law in laws {
            let checked =
                ansatz_grammar::load(law, LawProblem::signature(&problem)).expect("law checks");
            let fit = ansatz::law::record::FitSettings {
                max_evaluations: 50,
                max_seconds: settings,
                ..Default::default()
            };
            let started = std::time::Instant::now();
            let mut detail = LawDetail::default();
            let judged = problem.evaluate(checked, &mut detail, &fit, &mut || true);
            let seconds = started.elapsed().as_secs_f64();
            assert!(seconds < bound, "{law}: {seconds} s");
            let record = detail.fit.as_ref().expect("fit record");
            // 50 evaluations for each of the starts.
            assert!(
                record.evaluations.len() <= 50 * 4,
                "{law}: {}",
                record.evaluations.len()
            );
            if law.contains("-1 - a*a") {
                assert!(!judged.fitness.is_finite(), "{law}");
            } else {
                assert!(judged.fitness.is_finite(), "{law}: {:?}", judged.verdict);
            }
        }
    }
}
