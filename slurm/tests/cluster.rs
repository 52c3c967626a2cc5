//! Tests on a real Slurm cluster (the one-node cluster of `.ci/slurm-up`).
//!
//! They run only with `ANSATZ_SLURM_TESTS=1`; then a missing or broken cluster fails them. Without
//! it each prints that it is skipped. They run one at a time (one test downs the node), and they
//! assume a disposable cluster on which the tests may run `scontrol update` as Slurm's admin.

use ansatz_slurm::{ItemStatus, RoundEnd, SlurmExecutor, SlurmSettings, WorkItem};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// One cluster test at a time.
static CLUSTER: Mutex<()> = Mutex::new(());

/// Settings for a test, or `None` (with a message) when the cluster tests are not asked for.
fn cluster(test: &str) -> Option<SlurmSettings> {
    if !ansatz_slurm::cluster_tests_requested(test) {
        return None;
    }
    let settings = SlurmSettings {
        poll_interval: Duration::from_millis(500),
        result_grace: Duration::from_secs(5),
        deadline: Some(Duration::from_secs(300)),
        job_name_prefix: format!("ansatz-test-{test}"),
        ..SlurmSettings::default()
    };
    SlurmExecutor::new(settings.clone())
        .check()
        .expect("ANSATZ_SLURM_TESTS=1 but the Slurm tools do not run");
    let sinfo = Command::new("sinfo").args(["-h", "-o", "%T"]).output();
    let sinfo = sinfo.expect("ANSATZ_SLURM_TESTS=1 but sinfo does not run");
    assert!(
        sinfo.status.success(),
        "ANSATZ_SLURM_TESTS=1 but the cluster does not answer: {}",
        String::from_utf8_lossy(&sinfo.stderr)
    );
    Some(settings)
}

/// A fresh run directory (on one node, /tmp is shared with the node).
fn run_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ansatz-slurm-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for sub in ["results", "runs", "marks"] {
        std::fs::create_dir_all(dir.join(sub)).expect("run dir");
    }
    dir
}

/// An item running `body` in sh, counting its runs in `runs/ID` and writing `results/ID.json`
/// atomically when `body` succeeds. (Only then: Slurm's linuxproc tracking signals a job's
/// processes one by one, so a shell can outlive its killed `sleep` long enough to go on.)
fn item(id: &str, body: &str) -> WorkItem {
    let script = format!(
        "echo run >> runs/{id}; {{ {body}; }} && echo '{{\"id\":\"{id}\"}}' > results/{id}.tmp && mv results/{id}.tmp results/{id}.json"
    );
    WorkItem::new(id, ["sh", "-c", &script], format!("results/{id}.json"))
}

fn runs(dir: &Path, id: &str) -> usize {
    std::fs::read_to_string(dir.join("runs").join(id)).map_or(0, |t| t.lines().count())
}

fn wait_for(path: &Path, limit: Duration) {
    let start = Instant::now();
    while !path.exists() {
        assert!(start.elapsed() < limit, "{} did not appear", path.display());
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn status<'a>(report: &'a ansatz_slurm::RoundReport, id: &str) -> &'a ItemStatus {
    &report
        .outcomes
        .iter()
        .find(|o| o.id == id)
        .expect("outcome")
        .status
}

/// Jobs of ours the controller still has pending or running.
fn live_jobs(prefix: &str) -> Vec<String> {
    let out = Command::new("squeue")
        .args([
            "-h",
            "-r",
            "-t",
            "PENDING,RUNNING,COMPLETING",
            "-o",
            "%i %j",
        ])
        .output()
        .expect("squeue");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| {
            l.split_whitespace()
                .nth(1)
                .is_some_and(|n| n.starts_with(prefix))
        })
        .map(str::to_string)
        .collect()
}

#[test]
fn an_array_of_items_runs_each_once() {
    let _one = CLUSTER.lock().unwrap_or_else(|e| e.into_inner());
    let Some(settings) = cluster("array") else {
        return;
    };
    let dir = run_dir("array");
    let items: Vec<WorkItem> = (0..8).map(|k| item(&format!("i{k}"), "true")).collect();
    let stop = AtomicBool::new(false);
    let report = SlurmExecutor::new(settings.clone())
        .run_round(&dir, &items, &stop)
        .expect("round");
    eprintln!("8 trivial items: {:.2} s", report.elapsed.as_secs_f64());
    assert_eq!(report.end, RoundEnd::Complete);
    assert_eq!((report.done().count(), report.submitted), (8, 8));
    for it in &items {
        assert_eq!(runs(&dir, &it.id), 1, "{}", it.id);
    }
    // The same round again: every result is there, nothing is submitted.
    let again = SlurmExecutor::new(settings)
        .run_round(&dir, &items, &stop)
        .expect("again");
    assert_eq!((again.done().count(), again.submitted), (8, 0));
}

#[test]
fn timeout_exit_code_and_scancel_are_reported_and_the_round_goes_on() {
    let _one = CLUSTER.lock().unwrap_or_else(|e| e.into_inner());
    let Some(settings) = cluster("fail") else {
        return;
    };
    // Slurm's time limits are whole minutes: the TIMEOUT comes after about 60-90 s.
    let settings = SlurmSettings {
        time_limit: Some("1".into()),
        ..settings
    };
    let dir = run_dir("fail");
    let items = vec![
        item("slow", "echo sleeping; sleep 600"),
        item(
            "victim",
            "echo ${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID} > marks/victim.tmp; mv marks/victim.tmp marks/victim; sleep 600",
        ),
        item("crash", "echo boom >&2; exit 3"),
        item("fine", "true"),
    ];
    // Another party cancels one array task while it runs.
    let victim = dir.join("marks/victim");
    let canceller = std::thread::spawn(move || {
        wait_for(&victim, Duration::from_secs(60));
        let job = std::fs::read_to_string(&victim).expect("victim job id");
        let status = Command::new("scancel")
            .arg(job.trim())
            .status()
            .expect("scancel");
        assert!(status.success(), "scancel {job}");
    });
    let stop = AtomicBool::new(false);
    let report = SlurmExecutor::new(settings)
        .run_round(&dir, &items, &stop)
        .expect("round");
    canceller.join().expect("canceller");
    assert_eq!(report.end, RoundEnd::Complete);
    assert!(matches!(status(&report, "fine"), ItemStatus::Done { .. }));
    let ItemStatus::Failed(slow) = status(&report, "slow") else {
        panic!("slow: {report:?}")
    };
    assert_eq!(slow.state, "TIMEOUT", "{slow}");
    assert!(slow.log_tail.contains("sleeping"), "{slow}");
    assert!(slow.log_tail.contains("TIME LIMIT"), "{slow}");
    let ItemStatus::Failed(crash) = status(&report, "crash") else {
        panic!("crash: {report:?}")
    };
    assert_eq!(crash.state, "FAILED", "{crash}");
    assert_eq!(crash.exit.map(|e| e.code), Some(3), "{crash}");
    assert!(crash.log_tail.contains("boom"), "{crash}");
    let ItemStatus::Failed(cancelled) = status(&report, "victim") else {
        panic!("victim")
    };
    assert_eq!(cancelled.state, "CANCELLED", "{cancelled}");
    for id in ["slow", "victim", "crash", "fine"] {
        assert_eq!(runs(&dir, id), 1, "{id}");
    }
}

#[test]
fn the_stop_flag_cancels_the_rounds_jobs() {
    let _one = CLUSTER.lock().unwrap_or_else(|e| e.into_inner());
    let Some(settings) = cluster("stop") else {
        return;
    };
    let prefix = settings.job_name_prefix.clone();
    let dir = run_dir("stop");
    let items: Vec<WorkItem> = (0..4)
        .map(|k| item(&format!("s{k}"), &format!("touch marks/s{k}; sleep 600")))
        .collect();
    let stop = std::sync::Arc::new(AtomicBool::new(false));
    let raiser = {
        let (stop, mark) = (stop.clone(), dir.join("marks/s0"));
        std::thread::spawn(move || {
            wait_for(&mark, Duration::from_secs(60));
            stop.store(true, Ordering::SeqCst);
        })
    };
    let report = SlurmExecutor::new(settings)
        .run_round(&dir, &items, &stop)
        .expect("round");
    raiser.join().expect("raiser");
    assert_eq!(report.end, RoundEnd::Stopped);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    assert!(
        report
            .outcomes
            .iter()
            .all(|o| o.status == ItemStatus::Unfinished)
    );
    let start = Instant::now();
    while !live_jobs(&prefix).is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "still live: {:?}",
            live_jobs(&prefix)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The driver that `a_killed_driver_is_resumed_without_running_anything_twice` starts as a child
/// process and kills; does nothing when run as a test.
#[test]
fn driver_child() {
    let Ok(dir) = std::env::var("ANSATZ_SLURM_CHILD_DIR") else {
        return;
    };
    let settings = SlurmSettings {
        job_name_prefix: "ansatz-test-resume".into(),
        ..SlurmSettings::default()
    };
    let stop = AtomicBool::new(false);
    let _ = SlurmExecutor::new(settings).run_round(Path::new(&dir), &resume_items(), &stop);
}

fn resume_items() -> Vec<WorkItem> {
    (0..6).map(|k| item(&format!("r{k}"), "sleep 2")).collect()
}

#[test]
fn a_killed_driver_is_resumed_without_running_anything_twice() {
    let _one = CLUSTER.lock().unwrap_or_else(|e| e.into_inner());
    let Some(settings) = cluster("resume") else {
        return;
    };
    let dir = run_dir("resume");
    let exe = std::env::current_exe().expect("test binary");
    let mut child = Command::new(exe)
        .args(["driver_child", "--exact", "--test-threads=1"])
        .env("ANSATZ_SLURM_CHILD_DIR", &dir)
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("child driver");
    wait_for(&dir.join("results/r0.json"), Duration::from_secs(120));
    child.kill().expect("SIGKILL the driver");
    let _ = child.wait();
    let done_before = (0..6)
        .filter(|k| dir.join(format!("results/r{k}.json")).exists())
        .count();
    assert!(
        done_before < 6,
        "the driver was killed too late to test anything"
    );
    let settings = SlurmSettings {
        job_name_prefix: "ansatz-test-resume".into(),
        ..settings
    };
    let stop = AtomicBool::new(false);
    let report = SlurmExecutor::new(settings)
        .run_round(&dir, &resume_items(), &stop)
        .expect("resume");
    assert_eq!(report.end, RoundEnd::Complete);
    assert_eq!(report.done().count(), 6, "{report:?}");
    assert_eq!(
        report.submitted, 0,
        "everything was submitted by the killed driver"
    );
    // Items may have finished between the kill and the resume; the rest were re-attached.
    assert!(
        report.reattached >= 1 && report.reattached <= 6 - done_before,
        "{report:?}"
    );
    for k in 0..6 {
        assert_eq!(runs(&dir, &format!("r{k}")), 1, "r{k} ran more than once");
    }
}

#[test]
fn a_node_failure_is_retried() {
    let _one = CLUSTER.lock().unwrap_or_else(|e| e.into_inner());
    let Some(settings) = cluster("node") else {
        return;
    };
    let dir = run_dir("node");
    // The first run waits to be killed by the node failure; the second finishes.
    let items = vec![item(
        "survivor",
        "if [ \"$(wc -l < runs/survivor)\" -eq 1 ]; then hostname -s > marks/node.tmp; mv marks/node.tmp marks/node; sleep 600; fi",
    )];
    let mark = dir.join("marks/node");
    let downer = std::thread::spawn(move || {
        wait_for(&mark, Duration::from_secs(60));
        let node = std::fs::read_to_string(&mark).expect("node name");
        let node = format!("nodename={}", node.trim());
        let down = Command::new("scontrol")
            .args(["update", &node, "state=down", "reason=ansatz-slurm-test"])
            .status()
            .expect("scontrol");
        assert!(
            down.success(),
            "scontrol update {node} state=down (needs Slurm admin)"
        );
        std::thread::sleep(Duration::from_secs(2));
        // ReturnToService=2 may have brought it back already; then resume is refused.
        let _ = Command::new("scontrol")
            .args(["update", &node, "state=resume"])
            .status();
    });
    let stop = AtomicBool::new(false);
    let report = SlurmExecutor::new(settings)
        .run_round(&dir, &items, &stop)
        .expect("round");
    downer.join().expect("downer");
    assert!(
        matches!(status(&report, "survivor"), ItemStatus::Done { .. }),
        "{report:?}"
    );
    assert_eq!((report.node_retries, report.outcomes[0].attempts), (1, 2));
    assert_eq!(runs(&dir, "survivor"), 2);
}
