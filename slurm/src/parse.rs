//! Parsing what `sbatch --parsable`, `squeue -O` and `sacct -P` print.

use crate::job_state::ExitStatus;

/// One array task as `squeue` or `sacct` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskRecord {
    /// The id of the array job (what `sbatch` printed).
    pub array_job_id: u64,
    /// The task's index in the array (`SLURM_ARRAY_TASK_ID`).
    pub task: u32,
    /// The state word(s), e.g. `RUNNING`, `TIMEOUT`, `CANCELLED by 0`.
    pub state: String,
    /// Slurm's reason (`None`, `NonZeroExitCode`, `Resources`...); empty from `sacct`.
    pub reason: String,
    /// How it exited, when it has.
    pub exit: Option<ExitStatus>,
}

/// The `squeue -O` field list that [`parse_squeue`] reads (one line per array task with `-r`).
pub const SQUEUE_FORMAT: &str = "ArrayJobID:|,ArrayTaskID:|,State:|,exit_code:|,Reason:";

/// The `sacct -o` field list that [`parse_sacct`] reads (with `-P -n -X`).
pub const SACCT_FORMAT: &str = "JobID,State,ExitCode";

/// The job id from `sbatch --parsable` output: `123` or `123;cluster` on the last line.
pub fn parse_sbatch(stdout: &str) -> Option<u64> {
    let line = stdout.lines().rev().find(|l| !l.trim().is_empty())?;
    let id = line.split(';').next()?.trim();
    id.parse().ok()
}

/// Array tasks from `squeue -h -r -t all -O` with [`SQUEUE_FORMAT`]; lines that are not array
/// tasks (a plain job, a header) are skipped.
pub fn parse_squeue(stdout: &str) -> Vec<TaskRecord> {
    stdout
        .lines()
        .filter_map(|line| {
            let mut fields = line.splitn(5, '|');
            let array_job_id = fields.next()?.trim().parse().ok()?;
            let task = fields.next()?.trim().parse().ok()?;
            let state = fields.next()?.trim().to_string();
            let exit = fields
                .next()?
                .trim()
                .parse::<i64>()
                .ok()
                .map(ExitStatus::from_wait_status);
            let reason = fields.next().unwrap_or("").trim().to_string();
            if state.is_empty() {
                return None;
            }
            Some(TaskRecord {
                array_job_id,
                task,
                state,
                reason,
                exit,
            })
        })
        .collect()
}

/// Array tasks from `sacct -n -P -X -o` [`SACCT_FORMAT`]; pending ranges (`12_[3-5]`) and job
/// steps are skipped (`squeue` reports pending tasks).
pub fn parse_sacct(stdout: &str) -> Vec<TaskRecord> {
    stdout
        .lines()
        .filter_map(|line| {
            let mut fields = line.split('|');
            let job = fields.next()?.trim();
            let state = fields.next()?.trim().to_string();
            let exit = fields.next().and_then(ExitStatus::parse_pair);
            let (array, task) = job.split_once('_')?;
            let array_job_id = array.parse().ok()?;
            let task = task.parse().ok()?;
            if state.is_empty() {
                return None;
            }
            Some(TaskRecord {
                array_job_id,
                task,
                state,
                reason: String::new(),
                exit,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sbatch_ids_parse() {
        assert_eq!(parse_sbatch("1234\n"), Some(1234));
        assert_eq!(parse_sbatch("1234;cluster\n"), Some(1234));
        assert_eq!(parse_sbatch("warning: x\n77\n\n"), Some(77));
        assert_eq!(parse_sbatch("Submitted batch job 5\n"), None);
        assert_eq!(parse_sbatch(""), None);
    }

    #[test]
    fn squeue_lines_parse() {
        // As printed by Slurm 22.05 on this machine's one-node cluster.
        let out = "1|2|COMPLETED|0|None\n\
                   2|N/A|FAILED|768|NonZeroExitCode\n\
                   7|3|PENDING|0|Resources\n\
                   7|1|FAILED|768|NonZeroExitCode\n\
                   8|0|TIMEOUT|0|TimeLimit\n\
                   garbage\n";
        let records = parse_squeue(out);
        assert_eq!(records.len(), 4);
        assert_eq!(records[0].array_job_id, 1);
        assert_eq!(records[0].task, 2);
        assert_eq!(records[0].state, "COMPLETED");
        assert_eq!(records[1].task, 3);
        assert_eq!(records[1].reason, "Resources");
        assert_eq!(records[2].exit, Some(ExitStatus { code: 3, signal: 0 }));
        assert_eq!(records[3].state, "TIMEOUT");
    }

    #[test]
    fn sacct_lines_parse() {
        let out = "12_0|COMPLETED|0:0\n\
                   12_1|NODE_FAIL|0:0\n\
                   12_[2-5]|PENDING|0:0\n\
                   12_6|CANCELLED by 0|0:15\n\
                   13|FAILED|1:0\n";
        let records = parse_sacct(out);
        assert_eq!(records.len(), 3);
        assert_eq!(records[1].state, "NODE_FAIL");
        assert_eq!(records[2].task, 6);
        assert_eq!(
            records[2].exit,
            Some(ExitStatus {
                code: 0,
                signal: 15
            })
        );
    }
}
