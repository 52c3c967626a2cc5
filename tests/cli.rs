//! The `ansatz` binary as a user runs it.

use crate::support::ansatz;

#[test]
fn check_prints_canonical_form_parameters_and_types() {
    let (code, out, err) = ansatz(&[
        "check",
        "tasks/laws/plasticine.law",
        "--signature",
        "plastic",
    ]);
    assert_eq!(code, 0, "stderr: {err}");
    assert!(out.contains("U, sigma, Vh = svd(F)"), "{out}");
    assert!(out.contains("yield_stress = 30000"), "{out}");
    assert!(out.contains("sigma: vec3"), "{out}");
    assert!(out.contains("return: mat3"), "{out}");
}

#[test]
fn check_exits_2_with_a_located_error_on_a_malformed_law() {
    let dir = std::env::temp_dir().join(format!("ansatz-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let bad = dir.join("bad.law");
    std::fs::write(&bad, "param mu = 1.0\nJ = det(F)\nreturn mu * F @ sum(F)\n").expect("write");
    let (code, out, err) = ansatz(&["check", bad.to_str().expect("utf-8 path")]);
    assert_eq!(code, 2, "stdout: {out}\nstderr: {err}");
    assert!(err.contains("line 3, column"), "{err}");
    assert!(err.contains("^"), "caret excerpt expected: {err}");
    assert!(
        out.is_empty(),
        "nothing on stdout for an invalid law: {out}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// One convention for every command: 2 when what was given is wrong (a missing or invalid
/// file, an option that does not apply, as clap does for a malformed command line).
#[test]
fn every_command_exits_2_for_what_it_was_given() {
    for args in [
        &["check", "tasks/laws/no-such-law.law"][..],
        &["simplify", "tasks/laws/no-such-law.law"],
        &["export", "tasks/laws/no-such-law.law", "--to", "sympy"],
        &["fit", "nosuch-task.toml", "tasks/laws/linear.law"],
        &["simulate", "nosuch-task.toml", "--out", "nosuch-out.npz"],
        &["search", "nosuch-task.toml"],
        &["regress", "nosuch-table.csv"],
        &["check", "tasks/laws/linear.law", "--signature", "nonsense"],
        &["export", "tasks/laws/linear.law", "--to", "fortran"],
        &["check"],
    ] {
        let (code, out, err) = ansatz(args);
        assert_eq!(code, 2, "{args:?}: {out}\n{err}");
        assert!(out.is_empty(), "{args:?}: {out}");
        assert!(!err.trim().is_empty(), "{args:?}");
    }
    let (_, _, err) = ansatz(&["check", "tasks/laws/no-such-law.law"]);
    assert!(err.contains("no-such-law.law"), "{err}");
}

/// Options of another proposer are refused, naming them, before anything runs.
#[test]
fn options_of_another_proposer_are_refused() {
    for (args, flags) in [
        (
            &[
                "search",
                "tasks/jelly.toml",
                "--proposer",
                "evolve",
                "--model",
                "m",
            ][..],
            "--model",
        ),
        (
            &[
                "search",
                "tasks/jelly.toml",
                "--base-url",
                "http://127.0.0.1:9/v1",
            ][..],
            "--base-url",
        ),
        (
            &["search", "tasks/jelly.toml", "--replay", "runs/x"][..],
            "--replay",
        ),
        (
            &["regress", "nosuch-table.csv", "--model", "m"][..],
            "--model",
        ),
        (
            &["regress", "nosuch-table.csv", "--provider", "anthropic"][..],
            "--provider",
        ),
    ] {
        let (code, out, err) = ansatz(args);
        assert_eq!(code, 2, "{args:?}: {out}\n{err}");
        assert!(
            err.contains(&format!("{flags} only with --proposer")),
            "{args:?}: {err}"
        );
        assert_eq!(err.lines().count(), 1, "{err}");
    }
}

/// `--params` takes a JSON object on the command line or a file holding one.
#[test]
fn params_take_a_json_object_or_a_file() {
    let dir = crate::support::scratch("cli-params");
    let file = dir.join("p.json");
    std::fs::write(&file, r#"{"youngs_modulus_log": 11.5}"#).expect("write");
    let inline = ansatz(&[
        "export",
        "tasks/laws/linear.law",
        "--to",
        "sympy",
        "--params",
        r#"{"youngs_modulus_log": 11.5}"#,
    ]);
    let from_file = ansatz(&[
        "export",
        "tasks/laws/linear.law",
        "--to",
        "sympy",
        "--params",
        file.to_str().expect("utf-8"),
    ]);
    assert_eq!(inline.0, 0, "{}", inline.2);
    assert_eq!(inline, from_file);
    assert!(inline.1.contains("11.5"), "{}", inline.1);
    let plain = ansatz(&["export", "tasks/laws/linear.law", "--to", "sympy"]);
    assert!(!plain.1.contains("11.5"));
    for (bad, says) in [
        (r#"{"nosuch": 1}"#, "nosuch"),
        (r#"{"youngs_modulus_log": "x"}"#, "not a number"),
        ("{not json", "not JSON"),
        ("nosuch-params.json", "nosuch-params.json"),
    ] {
        let (code, _, err) = ansatz(&[
            "export",
            "tasks/laws/linear.law",
            "--to",
            "sympy",
            "--params",
            bad,
        ]);
        assert_eq!(code, 2, "{bad}: {err}");
        assert!(err.contains(says), "{bad}: {err}");
    }
}

#[test]
fn an_error_is_said_once() {
    for args in [
        &["search", "nosuch-task.toml"][..],
        &["check", "nosuch-law.law"],
        &["simulate", "nosuch-task.toml", "--out", "nosuch-out.npz"],
    ] {
        let (code, _, stderr) = ansatz(args);
        assert_ne!(code, 0, "{args:?}");
        assert_eq!(
            stderr.matches("No such file or directory").count(),
            1,
            "{args:?}: {stderr}"
        );
    }
}

/// A target file is checked when the task loads, naming the file, the frame and the
/// particle; a scene that makes no sense is refused; both exit with 2 before any fit.
#[test]
fn bad_targets_and_scenes_are_refused_at_load() {
    let dir = crate::support::scratch("cli-target");
    let root = env!("CARGO_MANIFEST_DIR");
    let task = |name: &str, scene: &str, target: &str| {
        let path = dir.join(format!("{name}.toml"));
        std::fs::write(
            &path,
            format!(
                "name = \"{name}\"\nsignature = \"elastic\"\nstart = \"{root}/tasks/laws/linear.law\"\n\
                 [scene]\npreset = \"sga_cube\"\n{scene}\n[target]\n{target}\n[loss]\nteacher_every = 10\n"
            ),
        )
        .expect("task file");
        path.display().to_string()
    };
    let truth = task(
        "truth",
        "steps = 20",
        &format!("law = \"{root}/tasks/laws/neohookean.law\""),
    );
    let good = dir.join("good.npz");
    let (code, _, err) = ansatz(&["simulate", &truth, "--out", good.to_str().expect("utf-8")]);
    assert_eq!(code, 0, "{err}");
    let mut traj = ansatz_simulator::Trajectory::read_npz(&good).expect("read");
    let k = traj.frames.iter().position(|&f| f == 5).expect("frame 5");
    traj.positions[k][3][1] = f64::NAN;
    let bad = dir.join("bad.npz");
    traj.write_npz(&bad).expect("write");
    let law = format!("{root}/tasks/laws/linear.law");
    let cases = [
        (
            task("nan", "steps = 20", "file = \"bad.npz\""),
            vec!["bad.npz", "particle 3", "frame 5", "not finite"],
        ),
        (
            task("walls", "steps = 20\nbound = 100", "file = \"good.npz\""),
            vec!["bound", "grid"],
        ),
    ];
    for (path, says) in cases {
        let (code, out, err) = ansatz(&["fit", &path, &law, "--out", dir.to_str().expect("utf-8")]);
        assert_eq!(code, 2, "{path}: {out}\n{err}");
        for s in says {
            assert!(err.contains(s), "{path}: {s:?} not in {err}");
        }
        assert!(!err.contains("simulating the ground truth"), "{err}");
        assert_eq!(err.lines().count(), 1, "said once: {err}");
    }
}
