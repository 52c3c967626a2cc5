//! Evaluates one molecule and prints its raw GFN2-xTB and calibrated properties
//! (the crate's version of `ansatz molecule eval "SMILES"`).
//!
//! ```text
//! cargo run --release -p ansatz-molecules --example eval_one -- "Cc1ccccc1O" [CONFORMERS]
//! ```

use ansatz_molecules::{Budget, Task, Tools, evaluate, screen};

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let smiles = args.first().ok_or("usage: eval_one SMILES [CONFORMERS]")?;
    let conformers = match args.get(1) {
        Some(c) => c
            .parse()
            .map_err(|_| format!("bad conformer count {c:?}"))?,
        None => Budget::default().conformers,
    };
    let tools = Tools::from_env().map_err(|e| e.to_string())?;
    let homo = Task::builtin("homo").map_err(|e| e.to_string())?;
    let reply = format!("```molecule\nSMILES: {smiles}\n```");
    let mol = screen(&reply, &homo.rules, &tools.python).map_err(|e| e.to_string())?;
    // A zero energy window reports the lowest-energy minimum.
    let budget = Budget {
        conformers,
        energy_window_kcal: 0.0,
        ..homo.budget.clone()
    };
    let eval = evaluate(&mol, &homo, &budget, &tools);
    let m = eval.outcome.as_ref().map_err(|e| e.to_string())?;
    println!(
        "{} ({}, {} heavy atoms, InChIKey {}), {} starts, {} minima, {:.2} s",
        mol.canonical,
        mol.formula,
        mol.heavy_atoms(),
        eval.inchikey.as_deref().unwrap_or("?"),
        m.starts,
        m.minima,
        eval.seconds
    );
    println!("property  raw GFN2 (eV)  calibrated (eV)  z (QM9)");
    let raw = [
        ("homo", m.orbitals.homo_ev),
        ("lumo", m.orbitals.lumo_ev),
        ("gap", m.orbitals.gap_ev()),
    ];
    for (name, value) in raw {
        let task = Task::builtin(name).map_err(|e| e.to_string())?;
        let (cal, z, _) = task.score(value);
        println!("{name:<8}  {value:>13.4}  {cal:>15.4}  {z:>7.3}");
    }
    println!(
        "(lowest-energy conformer; calibration {})",
        homo.calibration.version
    );
    Ok(())
}
