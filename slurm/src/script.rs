//! The job-array script of one submission: array task `k` runs the `k`-th item's command.

use crate::WorkItem;
use std::path::Path;

/// Quote one word for a POSIX shell (`it's` -> `'it'\''s'`).
pub fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// The text of a job-array script for `items` (array task `k` runs `items[k]`). An item whose
/// result file already exists is not run again (a resubmitted or requeued task finds it).
/// `header` is written as a comment (how the script was submitted).
pub fn array_script(items: &[&WorkItem], run_dir: &Path, header: &str) -> String {
    let mut text = String::from("#!/bin/sh\n");
    for line in header.lines() {
        text.push_str("# ");
        text.push_str(line);
        text.push('\n');
    }
    text.push_str("case \"$SLURM_ARRAY_TASK_ID\" in\n");
    for (task, item) in items.iter().enumerate() {
        let result = run_dir.join(&item.result);
        let result = shell_quote(&result.to_string_lossy());
        let command: Vec<String> = item.command.iter().map(|w| shell_quote(w)).collect();
        text.push_str(&format!("{task})\n"));
        text.push_str(&format!("    # item {}\n", item.id.escape_debug()));
        text.push_str(&format!(
            "    if [ -e {result} ]; then echo \"ansatz-slurm: result exists: {}\"; exit 0; fi\n",
            item.id
                .escape_debug()
                .to_string()
                .replace(['"', '$', '`', '\\'], "_")
        ));
        text.push_str(&format!("    exec {}\n    ;;\n", command.join(" ")));
    }
    text.push_str(
        "*)\n    echo \"ansatz-slurm: no item for array task $SLURM_ARRAY_TASK_ID\" >&2\n    exit 2\n    ;;\nesac\n",
    );
    text
}

/// The `sbatch` arguments of batch `number` (job name `name`, `tasks` array tasks).
pub(crate) fn sbatch_args(
    s: &crate::SlurmSettings,
    run_dir: &Path,
    name: &str,
    number: u32,
    tasks: usize,
) -> Vec<String> {
    let log = run_dir
        .join("slurm")
        .join("logs")
        .join(format!("b{number}_%a.log"));
    let mut array = format!("--array=0-{}", tasks.saturating_sub(1));
    if let Some(n) = s.max_running {
        array.push_str(&format!("%{n}"));
    }
    let mut args = vec![
        "--parsable".to_string(),
        format!("--job-name={name}"),
        array,
        format!("--output={}", log.display()),
        format!("--chdir={}", run_dir.display()),
        format!("--cpus-per-task={}", s.cpus_per_task),
        // Retries after node failures are this crate's, counted against max_node_retries.
        "--no-requeue".to_string(),
    ];
    if let Some(p) = &s.partition {
        args.push(format!("--partition={p}"));
    }
    if let Some(t) = &s.time_limit {
        args.push(format!("--time={t}"));
    }
    if let Some(m) = &s.memory {
        args.push(format!("--mem={m}"));
    }
    args.extend(s.extra_sbatch_args.iter().cloned());
    args
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn words_are_quoted_for_the_shell() {
        assert_eq!(shell_quote("ansatz"), "ansatz");
        assert_eq!(shell_quote("--item=a/b.json"), "--item=a/b.json");
        assert_eq!(shell_quote("two words"), "'two words'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("$HOME"), "'$HOME'");
    }

    #[test]
    fn the_script_runs_each_item_by_task_index() {
        let items = [
            WorkItem::new("a", ["echo", "one two"], "results/a.json"),
            WorkItem::new("b", ["sh", "-c", "exit 3"], "/abs/b.json"),
        ];
        let refs: Vec<&WorkItem> = items.iter().collect();
        let text = array_script(&refs, &PathBuf::from("/run"), "sbatch x");
        assert!(text.starts_with("#!/bin/sh\n# sbatch x\n"));
        assert!(text.contains("0)\n    # item a\n"));
        assert!(text.contains("if [ -e /run/results/a.json ]"));
        assert!(text.contains("exec echo 'one two'\n"));
        assert!(text.contains("if [ -e /abs/b.json ]"));
        assert!(text.contains("exec sh -c 'exit 3'\n"));
        assert!(text.contains("*)\n"));
    }

    #[test]
    fn sbatch_arguments_carry_the_settings() {
        let settings = crate::SlurmSettings {
            cpus_per_task: 4,
            partition: Some("gpu".into()),
            time_limit: Some("00:30:00".into()),
            memory: Some("2G".into()),
            max_running: Some(10),
            extra_sbatch_args: vec!["--account=lab".into()],
            ..crate::SlurmSettings::default()
        };
        let args = sbatch_args(&settings, &PathBuf::from("/run"), "ansatz-t-3", 3, 5);
        for expected in [
            "--parsable",
            "--job-name=ansatz-t-3",
            "--array=0-4%10",
            "--output=/run/slurm/logs/b3_%a.log",
            "--chdir=/run",
            "--cpus-per-task=4",
            "--no-requeue",
            "--partition=gpu",
            "--time=00:30:00",
            "--mem=2G",
            "--account=lab",
        ] {
            assert!(args.iter().any(|a| a == expected), "{expected} in {args:?}");
        }
    }
}
