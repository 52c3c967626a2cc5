//! Measures the overhead of a round on a Slurm cluster: rounds of N trivial items (each writes its
//! result file and nothing else), from the call to `run_round` to its return, so everything is
//! overhead: the script, sbatch, Slurm's scheduling and job launch, and noticing the results.
//!
//! ```text
//! cargo run --release -p ansatz-slurm --example round_overhead -- [RUN_DIR] [N...]
//! ```
//! RUN_DIR must be on a file system the nodes share (default: a folder under /tmp, which is
//! enough on a one-node cluster); N defaults to 1 10 50.

use ansatz_slurm::{SlurmExecutor, SlurmSettings, WorkItem};
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let base = args.next().map(PathBuf::from).unwrap_or_else(|| {
        std::env::temp_dir().join(format!("ansatz-slurm-overhead-{}", std::process::id()))
    });
    let mut sizes: Vec<usize> = args.map(|a| a.parse()).collect::<Result<_, _>>()?;
    if sizes.is_empty() {
        sizes = vec![1, 10, 50];
    }
    let executor = SlurmExecutor::new(SlurmSettings {
        job_name_prefix: "ansatz-overhead".into(),
        ..SlurmSettings::default()
    });
    executor.check()?;
    let stop = AtomicBool::new(false);
    println!("items  round (s)  per item (s)");
    for n in sizes {
        let dir = base.join(format!("n{n}"));
        std::fs::create_dir_all(dir.join("results"))?;
        let items: Vec<WorkItem> = (0..n)
            .map(|k| {
                let script =
                    format!("echo {{}} > results/{k}.tmp && mv results/{k}.tmp results/{k}.json");
                WorkItem::new(
                    k.to_string(),
                    ["sh", "-c", &script],
                    format!("results/{k}.json"),
                )
            })
            .collect();
        let report = executor.run_round(&dir, &items, &stop)?;
        let done = report.done().count();
        if done != n {
            return Err(format!("only {done} of {n} items done: {report:?}").into());
        }
        let secs = report.elapsed.as_secs_f64();
        println!("{n:5}  {secs:9.2}  {:12.3}", secs / n as f64);
    }
    Ok(())
}
