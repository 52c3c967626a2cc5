//! Running an external tool: its own temporary directory, one OpenMP thread, a time limit, and
//! the process killed when the limit passes.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::error::ToolError;

/// A directory under the system temp dir, removed (with its content) when dropped.
#[derive(Debug)]
pub struct TempDir {
    path: PathBuf,
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

impl TempDir {
    /// Creates a fresh, empty directory named after `prefix`, the process id and a counter.
    pub fn new(prefix: &str) -> std::io::Result<Self> {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("{prefix}-{}-{n}", std::process::id()));
        if path.exists() {
            std::fs::remove_dir_all(&path)?;
        }
        std::fs::create_dir_all(&path)?;
        Ok(Self { path })
    }

    /// The directory's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// What a finished tool run left behind.
#[derive(Debug, Clone)]
pub struct Output {
    /// Exit code (None when killed by a signal).
    pub code: Option<i32>,
    /// Captured standard output.
    pub stdout: String,
    /// Captured standard error.
    pub stderr: String,
    /// Wall-clock seconds the run took.
    pub seconds: f64,
}

impl Output {
    /// Whether the tool exited with code 0.
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }
}

/// Runs `program args` in `dir` with `stdin` fed in, `OMP_NUM_THREADS=1`,
/// `OMP_WAIT_POLICY=passive`; kills it after `limit`.
///
/// `tool` names the tool in errors. stdout and stderr go to files in `dir` (so a chatty tool
/// cannot block on a full pipe).
pub fn run(
    tool: &'static str,
    program: &Path,
    args: &[&str],
    dir: &Path,
    stdin: Option<&[u8]>,
    limit: Duration,
) -> Result<Output, ToolError> {
    let io_err = |e: std::io::Error| ToolError::Io {
        tool,
        message: e.to_string(),
    };
    let out_path = dir.join(".stdout");
    let err_path = dir.join(".stderr");
    let out_file = std::fs::File::create(&out_path).map_err(io_err)?;
    let err_file = std::fs::File::create(&err_path).map_err(io_err)?;
    let start = Instant::now();
    let mut child = Command::new(program)
        .args(args)
        .current_dir(dir)
        .env("OMP_NUM_THREADS", "1")
        .env("OMP_WAIT_POLICY", "passive")
        .env("OPENBLAS_NUM_THREADS", "1")
        .env("MKL_NUM_THREADS", "1")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(out_file)
        .stderr(err_file)
        .spawn()
        .map_err(|e| ToolError::Spawn {
            tool,
            path: program.to_path_buf(),
            message: e.to_string(),
        })?;
    if let (Some(data), Some(mut pipe)) = (stdin, child.stdin.take()) {
        // The helper reads all its input before writing, so a plain write cannot dead-lock;
        // a broken pipe means the child died, which the exit status reports below.
        let _ = pipe.write_all(data);
    }
    let code = loop {
        match child.try_wait().map_err(io_err)? {
            Some(status) => break status.code(),
            None if start.elapsed() >= limit => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(ToolError::Timeout {
                    tool,
                    seconds: limit.as_secs_f64(),
                });
            }
            None => std::thread::sleep(Duration::from_millis(5)),
        }
    };
    let seconds = start.elapsed().as_secs_f64();
    let read = |p: &Path| std::fs::read(p).map(|b| String::from_utf8_lossy(&b).into_owned());
    Ok(Output {
        code,
        stdout: read(&out_path).map_err(io_err)?,
        stderr: read(&err_path).map_err(io_err)?,
        seconds,
    })
}
