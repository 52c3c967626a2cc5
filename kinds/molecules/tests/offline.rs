//! Tests that need no external tool: tasks and calibration, block reading, the SMILES syntax
//! check, xtb output parsers (checked-in outputs), geometry helpers, process time limits.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use ansatz_molecules::block::{extract, syntax_problem};
use ansatz_molecules::geometry::{connectivity_change, parse_molblock, sdf_record};
use ansatz_molecules::process::{TempDir, run};
use ansatz_molecules::xtb::{check_log, parse_json, parse_xyz};
use ansatz_molecules::{Property, Rejection, Task, TaskError, ToolError};

use crate::data;

#[test]
fn gap_minus_two_is_4_247_ev_on_the_b3lyp_scale() {
    let task = Task::builtin("gap_minus2").expect("built-in task");
    assert_eq!(task.property, Property::Gap);
    assert!(
        (task.target_ev() - 4.2467).abs() < 5e-4,
        "{}",
        task.target_ev()
    );
    let homo = Task::builtin("molecule_homo").expect("built-in task");
    assert!((homo.target_ev() + 6.5301).abs() < 5e-4);
    let lumo = Task::builtin("lumo").expect("built-in task");
    assert!((lumo.target_ev() - 0.3027).abs() < 5e-4);
    let gap = Task::builtin("gap").expect("built-in task");
    assert!((gap.target_ev() - 6.8328).abs() < 5e-4);
}

#[test]
fn score_is_calibrate_then_normalise() {
    let task = Task::builtin("gap_minus2").expect("built-in task");
    // Raw GFN2 gap whose calibrated value is the target: (4.2467 - 3.77) / 0.517.
    let raw = (task.target_ev() - task.calibration.intercept_ev) / task.calibration.slope;
    let (cal, z, loss) = task.score(raw);
    assert!((cal - task.target_ev()).abs() < 1e-9);
    assert!((z + 2.0).abs() < 1e-9 && loss < 1e-9);
    // One QM9 standard deviation (1.2931 eV) above on the calibrated scale: loss 1.
    let (_, z1, loss1) = task.score(raw + 1.2931 / task.calibration.slope);
    assert!(
        (z1 + 1.0).abs() < 1e-3 && (loss1 - 1.0).abs() < 1e-3,
        "{z1} {loss1}"
    );
    assert!((task.normalisation.value_ev(task.normalisation.z(-5.0)) + 5.0).abs() < 1e-12);
}

#[test]
fn task_files_are_checked() {
    let good = include_str!("../tasks/molecule_homo.toml");
    assert!(Task::from_toml_str(good).is_ok());
    let bad = good.replace("opt_level = \"normal\"", "opt_level = \"ultra\"");
    assert!(matches!(
        Task::from_toml_str(&bad),
        Err(TaskError::Invalid(_))
    ));
    assert!(matches!(
        Task::from_toml_str("name = 3"),
        Err(TaskError::Toml(_))
    ));
    assert!(matches!(
        Task::builtin("entropy"),
        Err(TaskError::Unknown(_))
    ));
    assert_eq!(Task::builtin_names().len(), 4);
}

#[test]
fn block_with_coordinates() {
    let reply = "I think a quinone works.\n```molecule\nSMILES: O=C1C=CC(=O)C=C1\ncoordinates:\n\
                 O 0 0 0\nC 0 0 1.2\nC 1 0 1.9\n```\nDone.";
    let b = extract(reply).expect("block");
    assert_eq!(b.smiles, "O=C1C=CC(=O)C=C1");
    let c = b.coordinates.expect("coordinates");
    assert_eq!(c.len(), 3);
    assert_eq!(c[1].0.as_deref(), Some("C"));
    assert_eq!(c[2].1, [1.0, 0.0, 1.9]);
}

#[test]
fn block_fallbacks_and_errors() {
    assert_eq!(extract("SMILES: CCO").expect("line").smiles, "CCO");
    assert_eq!(
        extract("```\nSMILES: CCN\n```").expect("fence").smiles,
        "CCN"
    );
    assert!(
        extract("```molecule\nCCCC\n```")
            .expect("bare")
            .coordinates
            .is_none()
    );
    assert!(matches!(
        extract("no molecule here"),
        Err(Rejection::NoBlock(_))
    ));
    assert!(matches!(
        extract("```molecule\nSMILES: CCO\nC 1 2\n```"),
        Err(Rejection::Coordinates(_))
    ));
    assert!(matches!(
        extract("```molecule\nSMILES: CCO\nC 1 2 x\n```"),
        Err(Rejection::Coordinates(_))
    ));
    let long = format!("SMILES: {}", "C".repeat(1000));
    assert!(matches!(extract(&long), Err(Rejection::TooLarge { .. })));
}

#[test]
fn syntax_errors_have_positions() {
    let pos = |s: &str| syntax_problem(s).map(|(p, _)| p);
    assert_eq!(pos("c1ccccc1C("), Some(9));
    assert_eq!(pos("C1CC"), Some(1));
    assert_eq!(pos("C==C"), Some(2));
    assert_eq!(pos("CXC"), Some(1));
    assert_eq!(pos(")CC"), Some(0));
    assert_eq!(pos("CC[NH"), Some(2));
    assert_eq!(pos("CC="), Some(2));
    assert_eq!(pos("C()C"), Some(1));
    for ok in [
        "Cc1ccccc1O",
        "C[N+](=O)[O-]",
        "ClC(Br)C%12CC%12",
        "C/C=C\\C",
        "N#Cc1ccccn1",
    ] {
        assert_eq!(syntax_problem(ok), None, "{ok}");
    }
}

#[test]
fn xtb_json_gives_homo_and_lumo() {
    let o = parse_json(&data("cresol_xtbout.json")).expect("valid xtbout.json");
    assert!((o.homo_ev + 10.22006451).abs() < 1e-8);
    assert!((o.lumo_ev + 5.89658874).abs() < 1e-8);
    assert!((o.gap_ev() - 4.32347577).abs() < 1e-6);
    assert!((o.energy_eh + 23.12411737).abs() < 1e-8);
    let open = data("cresol_xtbout.json").replace(
        "\"number of unpaired electrons\": 0",
        "\"number of unpaired electrons\": 1",
    );
    assert_ne!(open, data("cresol_xtbout.json"), "fixture format changed");
    assert!(matches!(parse_json(&open), Err(ToolError::Failed { .. })));
    assert!(matches!(parse_json("{}"), Err(ToolError::Protocol { .. })));
    assert!(matches!(
        parse_json("not json"),
        Err(ToolError::Protocol { .. })
    ));
}

#[test]
fn xtb_logs_success_non_convergence_and_abnormal_termination() {
    assert_eq!(check_log(Some(0), &data("cresol_opt.stdout"), ""), Ok(()));
    match check_log(
        Some(0),
        &data("not_converged.stdout"),
        "normal termination of xtb",
    ) {
        Err(ToolError::Failed { message, .. }) => {
            assert!(message.contains("FAILED TO CONVERGE"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    match check_log(Some(1), &data("abnormal.stdout"), &data("abnormal.stderr")) {
        Err(ToolError::Failed { message, .. }) => {
            assert!(message.contains("abnormal termination"), "{message}");
            assert!(message.contains("[ERROR] Program stopped"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn xyz_and_molblock_round_trip() {
    let (syms, coords) = parse_xyz(&data("cresol_xtbopt.xyz")).expect("xyz");
    assert_eq!(coords.len(), 16);
    assert_eq!(syms.len(), 16);
    assert_eq!(syms.iter().filter(|s| *s == "H").count(), 8);
    assert!(parse_xyz("3\n\nC 0 0 0\n").is_err());
    let bonds = vec![(0, 1, 1u8), (1, 2, 2)];
    let s3 = vec!["C".to_string(), "C".into(), "O".into()];
    let c3 = vec![[0.0, 0.0, 0.0], [1.5, 0.0, 0.0], [2.2, 1.0, 0.0]];
    let rec = sdf_record("t", &s3, &c3, &bonds, &[("loss".into(), "0.1".into())]);
    assert!(rec.ends_with("$$$$\n") && rec.contains("> <loss>\n0.1"));
    let back = parse_molblock(&rec).expect("own SDF parses");
    assert_eq!(back.symbols, s3);
    assert_eq!(back.bonds, bonds);
    assert_eq!(back.conformers[0], c3);
}

#[test]
fn connectivity_changes_are_named() {
    let s = vec!["C".to_string(), "C".into(), "O".into(), "H".into()];
    let expected: BTreeSet<(usize, usize)> = [(0, 1), (1, 2), (2, 3)].into_iter().collect();
    let ok = [
        [0.0, 0.0, 0.0],
        [1.5, 0.0, 0.0],
        [2.2, 1.2, 0.0],
        [3.1, 1.0, 0.0],
    ];
    assert_eq!(connectivity_change(&s, &ok, &expected), None);
    let moved = [
        [0.0, 0.0, 0.0],
        [1.5, 0.0, 0.0],
        [2.2, 1.2, 0.0],
        [0.0, 1.0, 0.0],
    ];
    let msg = connectivity_change(&s, &moved, &expected).expect("H moved from O to C");
    assert!(msg.contains("O2-H3") && msg.contains("C0-H3"), "{msg}");
}

#[test]
fn a_process_over_its_time_limit_is_killed() {
    let dir = TempDir::new("ansatz-test-sleep").expect("temp dir");
    let start = Instant::now();
    let r = run(
        "sleep",
        Path::new("sleep"),
        &["30"],
        dir.path(),
        None,
        Duration::from_millis(300),
    );
    assert!(
        matches!(r, Err(ToolError::Timeout { tool: "sleep", .. })),
        "{r:?}"
    );
    assert!(start.elapsed() < Duration::from_secs(5));
    let path = dir.path().to_path_buf();
    drop(dir);
    assert!(!path.exists(), "temp dir removed on drop");
}

#[test]
fn short_one_three_contacts_are_not_new_bonds() {
    // A strained three-atom chain bent to 1.8 Å between its ends: geometry, not a bond.
    let s = vec!["C".to_string(), "C".into(), "C".into()];
    let expected: BTreeSet<(usize, usize)> = [(0, 1), (1, 2)].into_iter().collect();
    let bent = [[0.0, 0.0, 0.0], [0.9, 1.2, 0.0], [1.8, 0.0, 0.0]];
    assert_eq!(connectivity_change(&s, &bent, &expected), None);
}
