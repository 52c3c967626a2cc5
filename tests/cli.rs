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

#[test]
fn check_reports_a_missing_file_without_exit_code_2() {
    let (code, _, err) = ansatz(&["check", "tasks/laws/no-such-law.law"]);
    assert_ne!(code, 0);
    assert_ne!(code, 2, "exit 2 is reserved for invalid laws");
    assert!(err.contains("no-such-law.law"), "{err}");
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
