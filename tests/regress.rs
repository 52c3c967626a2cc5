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
    assert_eq!(lines.next(), Some(names("tau").join(",").as_str()));
    assert_eq!(lines.count(), 60);
    assert!(out.join("exports/best.sympy.py").exists());
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
