//! Helpers shared by the integration tests.

pub mod chat_server;

use std::path::PathBuf;
use std::process::Command;

/// The `ansatz` binary as a command to be given its arguments, run in the repository root.
pub fn command() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ansatz"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

/// Runs the `ansatz` binary in the repository root: exit code, stdout, stderr.
pub fn ansatz(args: &[&str]) -> (i32, String, String) {
    outcome(
        command()
            .args(args)
            .output()
            .expect("the ansatz binary runs"),
    )
}

/// A finished command's exit code (−1: killed by a signal), stdout and stderr.
pub fn outcome(out: std::process::Output) -> (i32, String, String) {
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A fresh, empty directory for one test's files (`tag` names the test; the process id
/// keeps concurrent runs apart).
pub fn scratch(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ansatz-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// A ledger's lines as JSON without their wall-clock fields (`seconds`, at any depth).
pub fn timeless(ledger: &std::path::Path) -> Vec<serde_json::Value> {
    fn strip(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(m) => {
                m.remove("seconds");
                m.remove("finished");
                m.values_mut().for_each(strip);
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    std::fs::read_to_string(ledger)
        .expect("ledger")
        .lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).expect("ledger line");
            strip(&mut v);
            v
        })
        .collect()
}
