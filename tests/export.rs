//! The exports of every law in `tasks/laws` run outside the engine and agree with it:
//! NumPy (batched and single), SymPy and PyTorch under python3, Rust compiled by rustc
//! against the nalgebra the tests were built with; each at 100 random F and random
//! parameters, to 1e-9 relative (max-norm per matrix). PyTorch is skipped, with a message
//! on stderr, when it is not importable. Also: `ansatz simplify` and `ansatz export` as a
//! user runs them.

use crate::support::{ansatz, scratch};
use ansatz_grammar::export::{Target, export};
use ansatz_grammar::{CheckedProgram, Signature, egraph, load};
use nalgebra::Matrix3;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

const POINTS: usize = 100;
const TOLERANCE: f64 = 1e-9;

/// One law under test: name, checked program, random inputs and parameters, and the
/// engine's values.
struct Case {
    name: String,
    law: CheckedProgram,
    fs: Vec<Matrix3<f64>>,
    params: Vec<(String, f64)>,
    expected: Vec<Matrix3<f64>>,
}

fn cases() -> Vec<Case> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tasks/laws");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tasks/laws")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "law"))
        .collect();
    paths.sort();
    let mut rng = ChaCha8Rng::seed_from_u64(2024);
    let mut out = Vec::new();
    for path in paths {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let src = std::fs::read_to_string(&path).expect("readable law");
        let law = load(&src, &Signature::elastic()).expect("reference laws check");
        // The simplified law is exported and checked too.
        let simplified = egraph::simplify(&law).program;
        let simplified = ansatz_grammar::check(&simplified, law.signature()).expect("checks");
        for (name, law) in [
            (name.clone(), law),
            (format!("{name}_simplified"), simplified),
        ] {
            let fs: Vec<Matrix3<f64>> = (0..POINTS)
                .map(|_| Matrix3::identity() + Matrix3::from_fn(|_, _| rng.random_range(-0.3..0.3)))
                .collect();
            let params: Vec<(String, f64)> = law
                .params()
                .into_iter()
                .map(|(n, v)| (n, v + rng.random_range(-0.1..0.1)))
                .collect();
            let c = law.compiled();
            let values: Vec<f64> = params.iter().map(|p| p.1).collect();
            let expected = fs
                .iter()
                .map(|f| {
                    c.eval_mat3(f, &values, &mut c.scratch())
                        .expect("evaluates")
                })
                .collect();
            out.push(Case {
                name,
                law,
                fs,
                params,
                expected,
            });
        }
    }
    out
}

/// Says something on the real stderr (not captured by the test harness).
fn notice(message: &str) {
    let _ = writeln!(std::io::stderr(), "{message}");
}

/// Parses whitespace-separated numbers as Python's `repr` writes them.
fn numbers(text: &str) -> Vec<f64> {
    text.split_whitespace()
        .map(|t| match t {
            "nan" => f64::NAN,
            "inf" => f64::INFINITY,
            "-inf" => f64::NEG_INFINITY,
            _ => t.parse().unwrap_or_else(|_| panic!("not a number: {t}")),
        })
        .collect()
}

/// Compares one case's values (9 per point, row-major) with the engine's.
fn compare(target: &str, case: &Case, got: &[f64]) {
    assert_eq!(
        got.len(),
        9 * POINTS,
        "{target} {}: wrong output size",
        case.name
    );
    let mut compared = 0;
    for (k, want) in case.expected.iter().enumerate() {
        if !want.iter().all(|v| v.is_finite()) {
            continue;
        }
        let have = Matrix3::from_row_slice(&got[9 * k..9 * k + 9]);
        let scale = want.amax().max(1e-300);
        let diff = (have - want).amax() / scale;
        assert!(
            diff <= TOLERANCE,
            "{target} export of {} differs from the engine by {diff:e} (relative) at F = {}\nengine {want}\nexport {have}",
            case.name,
            case.fs[k]
        );
        compared += 1;
    }
    assert!(
        compared >= POINTS * 9 / 10,
        "{}: only {compared} finite points",
        case.name
    );
}

fn python() -> Option<String> {
    ["python3", "python"].into_iter().find_map(|p| {
        Command::new(p)
            .arg("--version")
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|_| p.to_string())
    })
}

/// Python that imports each exported module, evaluates it on the inputs, and writes the
/// values. Arguments: target, then (module, inputs, outputs) triples.
const HARNESS: &str = r#"
import importlib.util
import json
import sys

import numpy as np

target = sys.argv[1]
if target == "pytorch":
    try:
        import torch
    except ImportError:
        import ast
        for module in sys.argv[2::3]:
            ast.parse(open(module).read(), module)
        print("SKIP: torch is not importable (the modules parse as Python)")
        sys.exit(0)
    torch.set_default_dtype(torch.float64)
args = sys.argv[2:]
for k in range(0, len(args), 3):
    module, inputs, outputs = args[k:k + 3]
    spec = importlib.util.spec_from_file_location(f"law{k}", module)
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    data = json.load(open(inputs))
    F = np.array(data["F"], dtype=np.float64)
    params = data["params"]
    if target == "numpy":
        out = m.law_batch(F, **params)
        single = m.law(F[0], **params)
        assert single.shape == (3, 3), single.shape
        assert np.array_equal(single, out[0], equal_nan=True), (single, out[0])
    elif target == "sympy":
        out = np.stack([m.evaluate(f, **params) for f in F])
    else:
        physics = m.Physics(**params)
        with torch.no_grad():
            out = physics(torch.tensor(F)).numpy()
    assert out.shape == F.shape, out.shape
    with open(outputs, "w") as f:
        f.write(" ".join(repr(float(x)) for x in out.ravel()))
"#;

fn inputs_json(case: &Case) -> String {
    let fs: Vec<String> = case
        .fs
        .iter()
        .map(|f| {
            let rows: Vec<String> = (0..3)
                .map(|i| format!("[{:?}, {:?}, {:?}]", f[(i, 0)], f[(i, 1)], f[(i, 2)]))
                .collect();
            format!("[{}]", rows.join(", "))
        })
        .collect();
    let params: Vec<String> = case
        .params
        .iter()
        .map(|(n, v)| format!("\"{n}\": {v:?}"))
        .collect();
    format!(
        "{{\"F\": [{}], \"params\": {{{}}}}}",
        fs.join(", "),
        params.join(", ")
    )
}

/// Runs the harness for `target` over every case; `false` when skipped.
fn run_python(target: Target, cases: &[Case]) -> bool {
    let python = python().expect("python3 is needed for the export tests");
    let dir = scratch(&format!("export-{}", target.name()));
    std::fs::write(dir.join("harness.py"), HARNESS).expect("write harness");
    let mut args = vec![
        dir.join("harness.py").display().to_string(),
        target.name().to_string(),
    ];
    for case in cases {
        let module = dir.join(format!("{}.py", case.name));
        std::fs::write(&module, export(&case.law, target)).expect("write module");
        let inputs = dir.join(format!("{}.json", case.name));
        std::fs::write(&inputs, inputs_json(case)).expect("write inputs");
        args.push(module.display().to_string());
        args.push(inputs.display().to_string());
        args.push(dir.join(format!("{}.out", case.name)).display().to_string());
    }
    let out = Command::new(&python)
        .args(&args)
        .output()
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if stdout.starts_with("SKIP") {
        notice(&format!(
            "export test: {} -- the {} export was NOT checked",
            stdout.trim(),
            target
        ));
        return false;
    }
    assert!(
        out.status.success(),
        "python3 failed on the {target} exports (install numpy and sympy: python3 -m pip install numpy sympy):\n{stdout}\n{stderr}\nfiles in {}",
        dir.display()
    );
    for case in cases {
        let text = std::fs::read_to_string(dir.join(format!("{}.out", case.name))).expect("output");
        compare(target.name(), case, &numbers(&text));
    }
    let _ = std::fs::remove_dir_all(&dir);
    true
}

#[test]
fn numpy_export_agrees_with_the_engine() {
    assert!(run_python(Target::Numpy, &cases()));
}

#[test]
fn sympy_export_agrees_with_the_engine() {
    assert!(run_python(Target::Sympy, &cases()));
}

#[test]
fn pytorch_export_agrees_with_the_engine_when_torch_is_importable() {
    let cases = cases();
    // The module has the SGA shape whether or not torch can run it.
    for case in &cases {
        let py = export(&case.law, Target::Pytorch);
        assert!(py.contains("class Physics(nn.Module):"), "{py}");
        assert!(
            py.contains("def forward(self, F: torch.Tensor) -> torch.Tensor:"),
            "{py}"
        );
        for (n, _) in case.law.params() {
            assert!(
                py.contains(&format!("self.{n} = nn.Parameter(torch.tensor({n}))")),
                "{py}"
            );
        }
    }
    run_python(Target::Pytorch, &cases);
}

/// The nalgebra rlibs next to this test binary (the dependency tree the tests were built
/// with), to compile exported Rust against without a network or a cargo project.
fn nalgebra_rlibs() -> (PathBuf, Vec<PathBuf>) {
    let exe = std::env::current_exe().expect("test binary path");
    let deps = exe.parent().expect("deps directory").to_path_buf();
    let mut rlibs: Vec<PathBuf> = std::fs::read_dir(&deps)
        .expect("deps directory")
        .map(|e| e.expect("entry").path())
        .filter(|p| {
            p.file_name().is_some_and(|n| {
                let n = n.to_string_lossy();
                n.starts_with("libnalgebra-") && n.ends_with(".rlib")
            })
        })
        .collect();
    rlibs.sort();
    (deps, rlibs)
}

#[test]
fn rust_export_compiles_and_agrees_with_the_engine() {
    let cases = cases();
    let dir = scratch("export-rust");
    let mut main = String::from("#![deny(warnings)]\n");
    for case in &cases {
        let file = dir.join(format!("{}.rs", case.name));
        std::fs::write(&file, export(&case.law, Target::Rust)).expect("write module");
        main.push_str(&format!("mod {} {{ include!({:?}); }}\n", case.name, file));
    }
    // The points are read at run time (one line of 9 row-major entries per F), so the
    // generated program stays small and compiles in seconds.
    main.push_str(
        "fn main() {\n    let path = std::env::args().nth(1).expect(\"points file\");\n    let text = std::fs::read_to_string(path).expect(\"points\");\n    let fs: Vec<nalgebra::Matrix3<f64>> = text.lines().map(|l| {\n        let v: Vec<f64> = l.split_whitespace().map(|t| t.parse().expect(\"number\")).collect();\n        nalgebra::Matrix3::from_row_slice(&v)\n    }).collect();\n    let mut k = 0;\n",
    );
    let mut points = String::new();
    for case in &cases {
        let fields: Vec<String> = case
            .params
            .iter()
            .map(|(n, v)| format!("{n}: {v:?}"))
            .collect();
        main.push_str(&format!(
            "    let p = {name}::Params {{ {} }};\n    print!(\"{name}\");\n    for f in &fs[k..k + {POINTS}] {{\n        for v in {name}::law(f, &p).transpose().iter() {{ print!(\" {{v:?}}\"); }}\n    }}\n    println!();\n    k += {POINTS};\n",
            fields.join(", "),
            name = case.name
        ));
        for f in &case.fs {
            let entries: Vec<String> = f.transpose().iter().map(|v| format!("{v:?}")).collect();
            points.push_str(&entries.join(" "));
            points.push('\n');
        }
    }
    main.push_str("    let _ = k;\n}\n");
    std::fs::write(dir.join("points.txt"), points).expect("write points");
    let main_rs = dir.join("main.rs");
    std::fs::write(&main_rs, main).expect("write main");
    let (deps, rlibs) = nalgebra_rlibs();
    assert!(
        !rlibs.is_empty(),
        "no libnalgebra-*.rlib in {}",
        deps.display()
    );
    let exe = dir.join("exported");
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string());
    let mut errors = String::new();
    let compiled = rlibs.iter().any(|rlib| {
        let out = Command::new(&rustc)
            .args(["--edition", "2021", "--crate-type", "bin"])
            .arg("-L")
            .arg(format!("dependency={}", deps.display()))
            .arg("--extern")
            .arg(format!("nalgebra={}", rlib.display()))
            .arg(&main_rs)
            .arg("-o")
            .arg(&exe)
            .output()
            .expect("rustc runs");
        errors.push_str(&String::from_utf8_lossy(&out.stderr));
        out.status.success()
    });
    assert!(compiled, "the exported Rust does not compile:\n{errors}");
    let out = Command::new(&exe)
        .arg(dir.join("points.txt"))
        .output()
        .expect("the compiled export runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    for (case, line) in cases.iter().zip(stdout.lines()) {
        let (name, values) = line.split_once(' ').expect("name and values");
        assert_eq!(name, case.name);
        compare("rust", case, &numbers(values));
    }
    assert_eq!(stdout.lines().count(), cases.len());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn latex_export_is_balanced_and_names_every_binding() {
    for case in cases() {
        let tex = export(&case.law, Target::Latex);
        let body: String = tex.lines().filter(|l| !l.starts_with('%')).collect();
        let depth = body.chars().try_fold(0i64, |d, c| {
            let d = d + i64::from(c == '{') - i64::from(c == '}');
            (d >= 0).then_some(d)
        });
        assert_eq!(depth, Some(0), "unbalanced braces in {}:\n{tex}", case.name);
        assert_eq!(
            body.matches(r"\left").count(),
            body.matches(r"\right").count(),
            "{tex}"
        );
        assert!(tex.contains(r"\begin{aligned}") && tex.contains(r"\operatorname{law}"));
        let lines = tex.lines().filter(|l| l.contains("&=")).count();
        assert_eq!(lines, case.law.program().stmts.len() + 1, "{tex}");
    }
}

#[test]
fn cli_simplify_prints_a_law_that_loads() {
    let (code, out, err) = ansatz(&["simplify", "tasks/laws/corotated.law"]);
    assert_eq!(code, 0, "{err}");
    let law = out
        .split("\n\n# ")
        .next()
        .expect("the law comes first")
        .to_string();
    load(&law, &Signature::elastic()).unwrap_or_else(|e| panic!("{out}\n{}", e.render()));
    assert!(out.contains("R, _ = polar(F)"), "{out}");
    assert!(out.contains("# complexity 60 -> "), "{out}");
    assert!(out.contains("# hash "), "{out}");

    let dir = scratch("export-cli");
    let bad = dir.join("bad.law");
    std::fs::write(&bad, "return F @ sum(F)\n").unwrap();
    let (code, out, err) = ansatz(&["simplify", bad.to_str().unwrap()]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("line 1, column"), "{err}");
    let (code, _, err) = ansatz(&["export", bad.to_str().unwrap(), "--to", "numpy"]);
    assert_eq!(code, 2, "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn cli_export_uses_fitted_parameters() {
    let dir = scratch("export-params");
    let fitted = dir.join("fitted.json");
    std::fs::write(&fitted, r#"{"params": {"youngs_modulus_log": 12.5}}"#).unwrap();
    let (code, out, err) = ansatz(&[
        "export",
        "tasks/laws/neohookean.law",
        "--to",
        "numpy",
        "--params",
        fitted.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("youngs_modulus_log=12.5"), "{out}");
    assert!(out.contains("poissons_ratio_sigmoid=0.0"), "{out}");

    let flat = dir.join("flat.json");
    std::fs::write(&flat, r#"{"poissons_ratio_sigmoid": -0.25}"#).unwrap();
    let target = dir.join("law.tex");
    let (code, _, err) = ansatz(&[
        "export",
        "tasks/laws/neohookean.law",
        "--to",
        "latex",
        "--params",
        flat.to_str().unwrap(),
        "--out",
        target.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let tex = std::fs::read_to_string(&target).unwrap();
    assert!(tex.contains("= -0.25"), "{tex}");

    let unknown = dir.join("unknown.json");
    std::fs::write(&unknown, r#"{"shear": 1.0}"#).unwrap();
    let (code, _, err) = ansatz(&[
        "export",
        "tasks/laws/neohookean.law",
        "--to",
        "sympy",
        "--params",
        unknown.to_str().unwrap(),
    ]);
    assert_eq!(
        code, 2,
        "a parameter the law does not have is bad input: {err}"
    );
    assert!(err.contains("shear"), "{err}");
    let (code, _, err) = ansatz(&["export", "tasks/laws/neohookean.law", "--to", "fortran"]);
    assert_ne!(code, 0);
    assert!(err.contains("fortran"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
