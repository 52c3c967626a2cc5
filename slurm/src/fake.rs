//! A scripted cluster for unit tests of the round's state machine: each task is PENDING at the
//! first query, RUNNING at the second, then ends in the state scripted for its item and attempt
//! (COMPLETED by default, which writes the result file, as the real command would).

use crate::cluster::Cluster;
use crate::job_state::ExitStatus;
use crate::parse::TaskRecord;
use crate::round::drive;
use crate::{ItemStatus, RoundEnd, SlurmError, SlurmSettings, WorkItem};
use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

struct FakeTask {
    job: u64,
    task: u32,
    name: String,
    item: String,
    result: PathBuf,
    log: PathBuf,
    queries: u32,
    end: &'static str,
    cancelled: bool,
}

#[derive(Default)]
struct Inner {
    next_job: u64,
    tasks: Vec<FakeTask>,
    runs: HashMap<String, u32>,
    cancelled: Vec<String>,
    submissions: u32,
    query_error: bool,
    forget: Vec<String>,
}

/// The scripted cluster.
#[derive(Default)]
pub(crate) struct FakeCluster {
    /// End state of each attempt, by item id (missing: COMPLETED).
    ends: HashMap<String, Vec<&'static str>>,
    /// Whether `sbatch` rejects everything.
    reject: bool,
    /// Whether jobs stay RUNNING forever.
    never_end: bool,
    inner: RefCell<Inner>,
}

impl FakeCluster {
    fn with_ends(ends: &[(&str, &[&'static str])]) -> FakeCluster {
        FakeCluster {
            ends: ends
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_vec()))
                .collect(),
            ..FakeCluster::default()
        }
    }

    fn runs(&self, item: &str) -> u32 {
        self.inner.borrow().runs.get(item).copied().unwrap_or(0)
    }
}

/// The items and result paths of a script written by [`crate::script::array_script`].
fn script_items(script: &Path) -> Vec<(String, PathBuf)> {
    let text = std::fs::read_to_string(script).expect("script readable");
    let mut out = Vec::new();
    let mut id = None;
    for line in text.lines() {
        if let Some(rest) = line.trim().strip_prefix("# item ") {
            id = Some(rest.to_string());
        } else if let Some(rest) = line.trim().strip_prefix("if [ -e ") {
            let path = rest.split(" ]").next().expect("test paths have no spaces");
            out.push((id.take().expect("id before path"), PathBuf::from(path)));
        }
    }
    out
}

impl Cluster for FakeCluster {
    fn submit(&self, script: &Path, args: &[String]) -> Result<u64, SlurmError> {
        if self.reject {
            return Err(SlurmError::SubmitRejected {
                command: "sbatch".into(),
                status: "exit status: 1".into(),
                stderr: "sbatch: error: invalid partition specified: nope".into(),
            });
        }
        let arg = |key: &str| {
            args.iter()
                .find_map(|a| a.strip_prefix(key))
                .expect("sbatch argument present")
                .to_string()
        };
        let name = arg("--job-name=");
        let log = arg("--output=");
        let mut inner = self.inner.borrow_mut();
        inner.next_job += 1;
        inner.submissions += 1;
        let job = inner.next_job;
        for (task, (item, result)) in script_items(script).into_iter().enumerate() {
            let attempt = inner.tasks.iter().filter(|t| t.item == item).count();
            let end = self
                .ends
                .get(&item)
                .and_then(|e| e.get(attempt).copied())
                .unwrap_or("COMPLETED");
            inner.tasks.push(FakeTask {
                job,
                task: task as u32,
                name: name.clone(),
                log: PathBuf::from(log.replace("%a", &task.to_string())),
                item,
                result,
                queries: 0,
                end,
                cancelled: false,
            });
        }
        Ok(job)
    }

    fn tasks_by_name(&self, names: &[String]) -> Result<Vec<TaskRecord>, SlurmError> {
        let mut inner = self.inner.borrow_mut();
        if inner.query_error {
            return Err(SlurmError::CommandFailed {
                command: "squeue".into(),
                status: "exit status: 1".into(),
                stderr: "slurm_load_jobs error: Unable to contact slurm controller".into(),
            });
        }
        let mut records = Vec::new();
        let mut ran = Vec::new();
        let forget = inner.forget.clone();
        for t in inner.tasks.iter_mut().filter(|t| names.contains(&t.name)) {
            if forget.contains(&t.item) {
                continue;
            }
            t.queries += 1;
            let (state, exit) = if t.cancelled {
                ("CANCELLED", 15)
            } else if t.queries == 1 {
                ("PENDING", 0)
            } else if t.queries == 2 || self.never_end {
                ("RUNNING", 0)
            } else {
                if t.queries == 3 {
                    ran.push(t.item.clone());
                    std::fs::write(
                        &t.log,
                        format!("running {}\nlast line of {}\n", t.item, t.end),
                    )
                    .expect("log");
                    if t.end == "COMPLETED" {
                        std::fs::write(&t.result, "{}").expect("result");
                    }
                }
                let exit = if t.end == "FAILED" { 3 << 8 } else { 0 };
                // SILENT: completes without writing its result.
                (
                    if t.end == "SILENT" {
                        "COMPLETED"
                    } else {
                        t.end
                    },
                    exit,
                )
            };
            records.push(TaskRecord {
                array_job_id: t.job,
                task: t.task,
                state: state.to_string(),
                reason: String::new(),
                exit: Some(ExitStatus::from_wait_status(exit)),
            });
        }
        for item in ran {
            *inner.runs.entry(item).or_default() += 1;
        }
        Ok(records)
    }

    fn tasks_from_accounting(&self, _array_ids: &[u64]) -> Vec<TaskRecord> {
        Vec::new()
    }

    fn cancel(&self, job_ids: &[String]) -> Result<(), SlurmError> {
        let mut inner = self.inner.borrow_mut();
        inner.cancelled.extend(job_ids.iter().cloned());
        for t in inner.tasks.iter_mut() {
            if job_ids.contains(&format!("{}_{}", t.job, t.task)) {
                t.cancelled = true;
            }
        }
        Ok(())
    }
}

fn settings() -> SlurmSettings {
    SlurmSettings {
        poll_interval: Duration::from_millis(1),
        result_check_interval: Duration::from_millis(1),
        result_grace: Duration::from_millis(20),
        max_node_retries: 2,
        deadline: Some(Duration::from_secs(20)),
        ..SlurmSettings::default()
    }
}

fn run_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ansatz-slurm-fake-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("results")).expect("run dir");
    dir
}

fn items(ids: &[&str]) -> Vec<WorkItem> {
    ids.iter()
        .map(|id| WorkItem::new(*id, ["true"], format!("results/{id}.json")))
        .collect()
}

fn status<'a>(report: &'a crate::RoundReport, id: &str) -> &'a ItemStatus {
    &report
        .outcomes
        .iter()
        .find(|o| o.id == id)
        .expect("outcome")
        .status
}

#[test]
fn node_failures_are_retried_and_own_failures_reported() {
    let dir = run_dir("retry");
    let fake = FakeCluster::with_ends(&[
        ("flaky", &["NODE_FAIL", "COMPLETED"]),
        ("doomed", &["NODE_FAIL", "PREEMPTED", "BOOT_FAIL"]),
        ("slow", &["TIMEOUT"]),
        ("crash", &["FAILED"]),
    ]);
    let ids = ["ok", "flaky", "doomed", "slow", "crash"];
    let stop = AtomicBool::new(false);
    let report = drive(&fake, &settings(), &dir, &items(&ids), &stop).expect("round");
    assert_eq!(report.end, RoundEnd::Complete);
    assert!(matches!(status(&report, "ok"), ItemStatus::Done { .. }));
    assert!(matches!(status(&report, "flaky"), ItemStatus::Done { .. }));
    let ItemStatus::Failed(doomed) = status(&report, "doomed") else {
        panic!("doomed failed")
    };
    assert_eq!((doomed.state.as_str(), doomed.attempts), ("BOOT_FAIL", 3));
    let ItemStatus::Failed(slow) = status(&report, "slow") else {
        panic!("slow failed")
    };
    assert_eq!(slow.state, "TIMEOUT");
    assert!(slow.log_tail.contains("last line of TIMEOUT"), "{slow}");
    let ItemStatus::Failed(crash) = status(&report, "crash") else {
        panic!("crash failed")
    };
    assert_eq!(crash.exit.map(|e| e.code), Some(3));
    assert!(
        crash.to_string().contains("FAILED (exit code 3)"),
        "{crash}"
    );
    assert_eq!(report.node_retries, 3);
    assert_eq!(report.submitted, 8);
    // A new driver reports the failures again and runs nothing.
    let again = drive(&fake, &settings(), &dir, &items(&ids), &stop).expect("again");
    assert_eq!(again.submitted, 0);
    assert_eq!(again.failed().count(), 3);
    assert_eq!(fake.runs("ok"), 1);
}

#[test]
fn a_new_driver_reattaches_and_runs_nothing_twice() {
    let dir = run_dir("reattach");
    let fake = FakeCluster::default();
    let ids = ["a", "b", "c"];
    let stop = AtomicBool::new(false);
    // The first driver dies after submitting (squeue fails, the call errs with jobs in flight).
    fake.inner.borrow_mut().query_error = true;
    let s = SlurmSettings {
        max_query_failures: 1,
        ..settings()
    };
    assert!(drive(&fake, &s, &dir, &items(&ids), &stop).is_err());
    fake.inner.borrow_mut().query_error = false;
    let report = drive(&fake, &settings(), &dir, &items(&ids), &stop).expect("resume");
    assert_eq!((report.submitted, report.reattached), (0, 3));
    assert_eq!(report.done().count(), 3);
    assert_eq!(fake.inner.borrow().submissions, 1);
    for id in ids {
        assert_eq!(fake.runs(id), 1);
    }
}

#[test]
fn a_submission_the_driver_did_not_record_is_found_by_name() {
    let dir = run_dir("unrecorded");
    let fake = FakeCluster::default();
    let stop = AtomicBool::new(false);
    fake.inner.borrow_mut().query_error = true;
    let s = SlurmSettings {
        max_query_failures: 1,
        ..settings()
    };
    assert!(drive(&fake, &s, &dir, &items(&["a"]), &stop).is_err());
    fake.inner.borrow_mut().query_error = false;
    // As if the driver died between sbatch and writing the job id.
    let mut state = crate::run_state::RunState::load(&dir).expect("state");
    state.batches[0].job_id = None;
    state.save(&dir).expect("save");
    let report = drive(&fake, &settings(), &dir, &items(&["a"]), &stop).expect("resume");
    assert_eq!((report.submitted, report.reattached), (0, 1));
    assert_eq!(fake.inner.borrow().submissions, 1);
}

#[test]
fn stop_cancels_and_a_later_round_submits_again() {
    let dir = run_dir("stop");
    let fake = FakeCluster {
        never_end: true,
        ..FakeCluster::default()
    };
    let stop = AtomicBool::new(true);
    // Stop raised before anything: nothing submitted, all unfinished.
    let report = drive(&fake, &settings(), &dir, &items(&["a", "b"]), &stop).expect("stopped");
    assert_eq!((report.end, report.submitted), (RoundEnd::Stopped, 0));
    // Deadline while running: the jobs are cancelled.
    stop.store(false, std::sync::atomic::Ordering::SeqCst);
    let s = SlurmSettings {
        deadline: Some(Duration::from_millis(50)),
        ..settings()
    };
    let report = drive(&fake, &s, &dir, &items(&["a", "b"]), &stop).expect("deadline");
    assert_eq!(report.end, RoundEnd::DeadlineExceeded);
    assert!(
        report
            .outcomes
            .iter()
            .all(|o| o.status == ItemStatus::Unfinished)
    );
    assert_eq!(
        fake.inner.borrow().cancelled,
        vec!["1_0".to_string(), "1_1".to_string()]
    );
    // The cancelled items are submitted again, not reported as CANCELLED, whether Slurm still
    // shows their jobs cancelled or has forgotten them.
    let mut fake = fake;
    fake.never_end = false;
    let report = drive(&fake, &settings(), &dir, &items(&["a", "b"]), &stop).expect("again");
    assert_eq!((report.submitted, report.done().count()), (2, 2));
    assert_eq!(report.reattached, 2);
    let dir = run_dir("stop-forgotten");
    let fake = FakeCluster {
        never_end: true,
        ..FakeCluster::default()
    };
    drive(&fake, &s, &dir, &items(&["c"]), &stop).expect("deadline");
    let fresh = FakeCluster::default();
    let report = drive(&fresh, &settings(), &dir, &items(&["c"]), &stop).expect("again");
    assert_eq!((report.submitted, report.done().count()), (1, 1));
    assert_eq!(report.node_retries, 0);
}

#[test]
fn vanished_jobs_are_retried_and_silent_completions_fail() {
    let dir = run_dir("vanish");
    let fake = FakeCluster::default();
    fake.inner.borrow_mut().forget.push("gone".into());
    let stop = AtomicBool::new(false);
    let s = SlurmSettings {
        max_node_retries: 1,
        ..settings()
    };
    let report = drive(&fake, &s, &dir, &items(&["gone", "fine"]), &stop).expect("round");
    let ItemStatus::Failed(gone) = status(&report, "gone") else {
        panic!("gone failed")
    };
    assert_eq!((gone.state.as_str(), gone.attempts), ("UNKNOWN", 2));
    // A job that completes without its result file fails after the grace period.
    let dir = run_dir("silent");
    let fake = FakeCluster::with_ends(&[("x", &["SILENT"])]);
    let report = drive(&fake, &settings(), &dir, &items(&["x"]), &stop).expect("round");
    let ItemStatus::Failed(x) = status(&report, "x") else {
        panic!("x failed")
    };
    assert_eq!((x.state.as_str(), x.attempts), ("COMPLETED", 1));
    assert!(x.reason.contains("without writing its result"), "{x}");
}

#[test]
fn an_id_reused_with_another_command_is_a_new_item() {
    let dir = run_dir("reuse");
    let fake = FakeCluster::with_ends(&[("x", &["TIMEOUT", "COMPLETED"])]);
    let stop = AtomicBool::new(false);
    let first = drive(&fake, &settings(), &dir, &items(&["x"]), &stop).expect("first");
    assert!(matches!(status(&first, "x"), ItemStatus::Failed(_)));
    let mut other = items(&["x"]);
    other[0].result = PathBuf::from("results/x-round2.json");
    let second = drive(&fake, &settings(), &dir, &other, &stop).expect("second");
    assert!(
        matches!(status(&second, "x"), ItemStatus::Done { .. }),
        "{second:?}"
    );
    assert_eq!((second.submitted, second.reattached), (1, 0));
}

#[test]
fn rejection_large_rounds_and_existing_results() {
    let dir = run_dir("misc");
    let stop = AtomicBool::new(false);
    let fake = FakeCluster {
        reject: true,
        ..FakeCluster::default()
    };
    let err = drive(&fake, &settings(), &dir, &items(&["a"]), &stop).expect_err("rejected");
    assert!(err.to_string().contains("invalid partition"), "{err}");
    assert!(
        crate::run_state::RunState::load(&dir)
            .expect("state")
            .batches
            .is_empty()
    );
    // Results already there: nothing submitted.
    std::fs::write(dir.join("results/a.json"), "{}").expect("result");
    let fake = FakeCluster::default();
    let s = SlurmSettings {
        max_array_size: 2,
        ..settings()
    };
    let ids = ["a", "b", "c", "d", "e"];
    let report = drive(&fake, &s, &dir, &items(&ids), &stop).expect("round");
    assert_eq!((report.submitted, report.done().count()), (4, 5));
    assert_eq!(fake.inner.borrow().submissions, 2);
    assert_eq!(fake.runs("a"), 0);
    // Invalid items are refused.
    let twice = items(&["z", "z"]);
    assert!(matches!(
        drive(&fake, &s, &dir, &twice, &stop),
        Err(SlurmError::InvalidItem { .. })
    ));
}
