//! The round driver: submit, watch, retry, cancel; a state machine over the items of one round.

use crate::cluster::Cluster;
use crate::job_state::{self, ExitStatus, StateClass};
use crate::parse::TaskRecord;
use crate::run_state::{self, Attempt, Batch, RunState};
use crate::{
    ItemOutcome, ItemStatus, JobFailure, RoundEnd, RoundReport, SlurmError, SlurmSettings, WorkItem,
};
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How long one sleep between checks may last at most (the stop flag is seen this fast).
const MAX_NAP: Duration = Duration::from_millis(50);

/// Per-item watch of its current job.
#[derive(Debug, Default, Clone, Copy)]
struct Watch {
    /// Since when neither `squeue` nor `sacct` knows the job.
    missing_since: Option<Instant>,
    /// Since when the job is `COMPLETED` with no result file.
    completed_since: Option<Instant>,
}

/// One round in progress.
struct Round<'a, C: Cluster> {
    cluster: &'a C,
    settings: &'a SlurmSettings,
    run_dir: PathBuf,
    items: &'a [WorkItem],
    state: RunState,
    status: Vec<Option<ItemStatus>>,
    watch: Vec<Watch>,
    to_submit: Vec<usize>,
    query_failures: u32,
    report: RoundReport,
}

/// Run one round to its end (see [`crate::SlurmExecutor::run_round`]).
pub(crate) fn drive<C: Cluster>(
    cluster: &C,
    settings: &SlurmSettings,
    run_dir: &Path,
    items: &[WorkItem],
    stop: &AtomicBool,
) -> Result<RoundReport, SlurmError> {
    let started = Instant::now();
    settings.validate()?;
    crate::item::validate(items)?;
    for sub in ["logs", "scripts"] {
        let dir = run_dir.join("slurm").join(sub);
        std::fs::create_dir_all(&dir).map_err(|e| SlurmError::io(&dir, e))?;
    }
    let run_dir = run_dir
        .canonicalize()
        .map_err(|e| SlurmError::io(run_dir, e))?;
    let state = RunState::load(&run_dir)?;
    let mut round = Round {
        cluster,
        settings,
        run_dir,
        items,
        state,
        status: vec![None; items.len()],
        watch: vec![Watch::default(); items.len()],
        to_submit: Vec::new(),
        query_failures: 0,
        report: RoundReport {
            outcomes: Vec::new(),
            end: RoundEnd::Complete,
            submitted: 0,
            reattached: 0,
            node_retries: 0,
            warnings: Vec::new(),
            elapsed: Duration::ZERO,
        },
    };
    round.reattach()?;
    let end = round.run(stop, started)?;
    Ok(round.finish(end, started))
}

impl<C: Cluster> Round<'_, C> {
    fn result_path(&self, i: usize) -> PathBuf {
        self.run_dir.join(&self.items[i].result)
    }

    fn current_attempt(&self, i: usize) -> Option<Attempt> {
        self.state
            .items
            .get(&self.items[i].id)
            .and_then(|r| r.attempts.last().copied())
    }

    /// Take up what an earlier driver left: find the job ids of submissions it did not record,
    /// report recorded failures again, watch recorded jobs, queue the rest for submission.
    fn reattach(&mut self) -> Result<(), SlurmError> {
        let unrecorded: Vec<Batch> = self
            .state
            .batches
            .iter()
            .filter(|b| b.job_id.is_none())
            .cloned()
            .collect();
        for batch in unrecorded {
            let found = self
                .cluster
                .tasks_by_name(std::slice::from_ref(&batch.name))?;
            if let Some(record) = found.first() {
                if let Some(b) = self
                    .state
                    .batches
                    .iter_mut()
                    .find(|b| b.number == batch.number)
                {
                    b.job_id = Some(record.array_job_id);
                }
            } else {
                // Never reached Slurm: forget it.
                self.state.batches.retain(|b| b.number != batch.number);
                for record in self.state.items.values_mut() {
                    record.attempts.retain(|a| a.batch != batch.number);
                }
            }
        }
        self.state.forget_changed(self.items);
        for i in 0..self.items.len() {
            let record = self.state.items.get(&self.items[i].id);
            if self.result_path(i).exists() {
                self.status[i] = Some(ItemStatus::Done {
                    result: self.result_path(i),
                });
            } else if let Some(failure) = record.and_then(|r| r.failure.clone()) {
                self.status[i] = Some(ItemStatus::Failed(failure));
            } else if self.current_attempt(i).is_some() {
                // Also a job a driver cancelled: it may still finish; if it ended cancelled,
                // the item is submitted again (see `query`).
                self.report.reattached += 1;
            } else {
                self.to_submit.push(i);
            }
        }
        self.state.save(&self.run_dir)
    }

    /// The loop: results, stop, deadline, submissions, queries, until every item has ended.
    fn run(&mut self, stop: &AtomicBool, started: Instant) -> Result<RoundEnd, SlurmError> {
        let mut last_query: Option<Instant> = None;
        let mut last_look: Option<Instant> = None;
        loop {
            if last_look.is_none_or(|t| t.elapsed() >= self.settings.result_check_interval) {
                last_look = Some(Instant::now());
                self.look_for_results();
            }
            if self.status.iter().all(Option::is_some) {
                return Ok(RoundEnd::Complete);
            }
            if stop.load(Ordering::SeqCst) {
                self.cancel_unfinished();
                return Ok(RoundEnd::Stopped);
            }
            if self
                .settings
                .deadline
                .is_some_and(|d| started.elapsed() >= d)
            {
                self.cancel_unfinished();
                return Ok(RoundEnd::DeadlineExceeded);
            }
            if !self.to_submit.is_empty() {
                self.submit()?;
            }
            if last_query.is_none_or(|t| t.elapsed() >= self.settings.poll_interval) {
                last_query = Some(Instant::now());
                self.query()?;
                last_look = None; // what ended may have left its result: look at once
                continue;
            }
            std::thread::sleep(self.settings.result_check_interval.min(MAX_NAP));
        }
    }

    /// Mark the items whose result file exists as done.
    fn look_for_results(&mut self) {
        for i in 0..self.items.len() {
            if self.status[i].is_none() && self.result_path(i).exists() {
                self.status[i] = Some(ItemStatus::Done {
                    result: self.result_path(i),
                });
                self.to_submit.retain(|&j| j != i);
            }
        }
    }

    /// Submit the queued items as job arrays of at most `max_array_size` tasks.
    fn submit(&mut self) -> Result<(), SlurmError> {
        let queued = std::mem::take(&mut self.to_submit);
        for chunk in queued.chunks(self.settings.max_array_size) {
            let number = self
                .state
                .batches
                .iter()
                .map(|b| b.number + 1)
                .max()
                .unwrap_or(0);
            let name = self
                .state
                .batch_name(&self.settings.job_name_prefix, number);
            let ids: Vec<String> = chunk.iter().map(|&i| self.items[i].id.clone()).collect();
            self.state.batches.push(Batch {
                number,
                name: name.clone(),
                job_id: None,
                items: ids.clone(),
            });
            for (task, (id, &i)) in ids.iter().zip(chunk).enumerate() {
                let attempt = Attempt {
                    batch: number,
                    task: task as u32,
                };
                let record = self.state.items.entry(id.clone()).or_default();
                record.command.clone_from(&self.items[i].command);
                record.result.clone_from(&self.items[i].result);
                record.attempts.push(attempt);
                record.cancelled = false;
            }
            // Recorded before sbatch runs: a driver killed in between finds the job by name.
            self.state.save(&self.run_dir)?;
            let args = crate::script::sbatch_args(
                self.settings,
                &self.run_dir,
                &name,
                number,
                chunk.len(),
            );
            let script = self
                .run_dir
                .join("slurm")
                .join("scripts")
                .join(format!("b{number}.sh"));
            let header = format!(
                "ansatz-slurm batch {number}: submitted as `sbatch {} {}`",
                args.join(" "),
                script.display()
            );
            let members: Vec<&WorkItem> = chunk.iter().map(|&i| &self.items[i]).collect();
            let text = crate::script::array_script(&members, &self.run_dir, &header);
            std::fs::write(&script, text).map_err(|e| SlurmError::io(&script, e))?;
            match self.cluster.submit(&script, &args) {
                Ok(job_id) => {
                    if let Some(b) = self.state.batches.iter_mut().find(|b| b.number == number) {
                        b.job_id = Some(job_id);
                    }
                    self.state.save(&self.run_dir)?;
                }
                Err(e) => {
                    self.state.batches.retain(|b| b.number != number);
                    for id in &ids {
                        if let Some(r) = self.state.items.get_mut(id) {
                            r.attempts.retain(|a| a.batch != number);
                        }
                    }
                    self.state.save(&self.run_dir)?;
                    return Err(e);
                }
            }
            for &i in chunk {
                self.watch[i] = Watch::default();
            }
            self.report.submitted += chunk.len();
        }
        Ok(())
    }

    /// Ask Slurm about the jobs of the items still running, and act on what ended.
    fn query(&mut self) -> Result<(), SlurmError> {
        let watched: Vec<(usize, Attempt, u64)> = (0..self.items.len())
            .filter(|&i| self.status[i].is_none() && !self.to_submit.contains(&i))
            .filter_map(|i| {
                let attempt = self.current_attempt(i)?;
                let job = self.state.batch(attempt.batch)?.job_id?;
                Some((i, attempt, job))
            })
            .collect();
        if watched.is_empty() {
            return Ok(());
        }
        let names: BTreeSet<String> = watched
            .iter()
            .filter_map(|&(_, a, _)| self.state.batch(a.batch).map(|b| b.name.clone()))
            .collect();
        let names: Vec<String> = names.into_iter().collect();
        let records = match self.cluster.tasks_by_name(&names) {
            Ok(records) => {
                self.query_failures = 0;
                records
            }
            Err(e) => {
                self.query_failures += 1;
                if self.query_failures >= self.settings.max_query_failures {
                    return Err(e);
                }
                self.report.warnings.push(e.to_string());
                return Ok(());
            }
        };
        let mut known: HashMap<(u64, u32), TaskRecord> = records
            .into_iter()
            .map(|r| ((r.array_job_id, r.task), r))
            .collect();
        let unknown: BTreeSet<u64> = watched
            .iter()
            .filter(|&&(_, a, job)| !known.contains_key(&(job, a.task)))
            .map(|&(_, _, job)| job)
            .collect();
        if !unknown.is_empty() {
            let ids: Vec<u64> = unknown.into_iter().collect();
            for r in self.cluster.tasks_from_accounting(&ids) {
                known.entry((r.array_job_id, r.task)).or_insert(r);
            }
        }
        let now = Instant::now();
        let before = self.state.clone();
        for (i, attempt, job) in watched {
            if self.result_path(i).exists() {
                continue; // seen as done on the next pass of the loop
            }
            let cancelled_by_driver = self
                .state
                .items
                .get(&self.items[i].id)
                .is_some_and(|r| r.cancelled);
            let Some(record) = known.get(&(job, attempt.task)) else {
                let since = *self.watch[i].missing_since.get_or_insert(now);
                if now.duration_since(since) >= self.settings.result_grace {
                    if cancelled_by_driver {
                        self.to_submit.push(i);
                        continue;
                    }
                    self.node_failure(
                        i,
                        attempt,
                        "UNKNOWN",
                        "no longer known to squeue or sacct",
                        None,
                    );
                }
                continue;
            };
            self.watch[i].missing_since = None;
            let word = job_state::state_word(&record.state).to_string();
            let class = job_state::classify(&record.state);
            if cancelled_by_driver
                && matches!(class, StateClass::NodeFailure | StateClass::OwnFailure)
            {
                self.to_submit.push(i); // stopped, not failed: run it now
                continue;
            }
            match class {
                StateClass::Live => {}
                StateClass::Completed => {
                    let since = *self.watch[i].completed_since.get_or_insert(now);
                    if now.duration_since(since) >= self.settings.result_grace {
                        self.fail(
                            i,
                            attempt,
                            &word,
                            "exited 0 without writing its result file",
                            record.exit,
                        );
                    }
                }
                StateClass::NodeFailure => {
                    self.node_failure(i, attempt, &word, &record.reason, record.exit);
                }
                StateClass::OwnFailure => self.fail(i, attempt, &word, &record.reason, record.exit),
            }
        }
        if self.state != before {
            self.state.save(&self.run_dir)?;
        }
        Ok(())
    }

    /// A job ended for a node reason: resubmit the item, or fail it when retries are used up.
    fn node_failure(
        &mut self,
        i: usize,
        attempt: Attempt,
        state: &str,
        reason: &str,
        exit: Option<ExitStatus>,
    ) {
        let record = self
            .state
            .items
            .entry(self.items[i].id.clone())
            .or_default();
        record.node_failures += 1;
        if record.node_failures <= self.settings.max_node_retries {
            self.report.node_retries += 1;
            self.to_submit.push(i);
        } else {
            self.fail(i, attempt, state, reason, exit);
        }
    }

    /// The item failed: record it (in the state file too, so a new driver does not rerun it).
    fn fail(
        &mut self,
        i: usize,
        attempt: Attempt,
        state: &str,
        reason: &str,
        exit: Option<ExitStatus>,
    ) {
        let log = run_state::log_path(&self.run_dir, attempt);
        let attempts = self
            .state
            .items
            .entry(self.items[i].id.clone())
            .or_default()
            .attempts
            .len();
        let failure = JobFailure {
            state: state.to_string(),
            reason: reason.to_string(),
            exit,
            job_id: self.state.job_id(attempt).unwrap_or_default(),
            log_tail: run_state::log_tail(&log, self.settings.log_tail_lines),
            log,
            attempts: attempts as u32,
        };
        if let Some(record) = self.state.items.get_mut(&self.items[i].id) {
            record.failure = Some(failure.clone());
        }
        self.status[i] = Some(ItemStatus::Failed(failure));
    }

    /// Cancel the jobs of the items still running; they end [`ItemStatus::Unfinished`].
    fn cancel_unfinished(&mut self) {
        let mut jobs = Vec::new();
        for i in 0..self.items.len() {
            if self.status[i].is_some() {
                continue;
            }
            if !self.to_submit.contains(&i)
                && let Some(job) = self.current_attempt(i).and_then(|a| self.state.job_id(a))
            {
                jobs.push(job);
            }
            if let Some(record) = self.state.items.get_mut(&self.items[i].id) {
                record.cancelled = true;
            }
            self.status[i] = Some(ItemStatus::Unfinished);
        }
        if let Err(e) = self.state.save(&self.run_dir) {
            self.report.warnings.push(e.to_string());
        }
        if let Err(e) = self.cluster.cancel(&jobs) {
            self.report.warnings.push(e.to_string());
        }
    }

    fn finish(mut self, end: RoundEnd, started: Instant) -> RoundReport {
        let mut report = std::mem::replace(
            &mut self.report,
            RoundReport {
                outcomes: Vec::new(),
                end,
                submitted: 0,
                reattached: 0,
                node_retries: 0,
                warnings: Vec::new(),
                elapsed: Duration::ZERO,
            },
        );
        report.end = end;
        report.outcomes = self
            .items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let record = self.state.items.get(&item.id);
                ItemOutcome {
                    id: item.id.clone(),
                    status: self.status[i].clone().unwrap_or(ItemStatus::Unfinished),
                    attempts: record.map_or(0, |r| r.attempts.len() as u32),
                    job_id: self.current_attempt(i).and_then(|a| self.state.job_id(a)),
                }
            })
            .collect();
        report.elapsed = started.elapsed();
        report
    }
}
