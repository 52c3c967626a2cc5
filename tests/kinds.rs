//! Problem kinds other than the simulation task, through `ansatz search`: an Ehrlich
//! sequence task (offline proposer, resume, a person's malformed reply) and the registry's
//! errors.

use crate::support::{ansatz, scratch};
use serde_json::Value;
use std::path::Path;

fn ehrlich_task(dir: &Path) -> String {
    let vectors = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/ehrlich/ehrlich_v4_L8_c1_k2_q2_s0.json");
    let path = dir.join("seq.toml");
    std::fs::write(
        &path,
        format!(
            "kind = \"ehrlich\"\nname = \"tiny\"\nvectors = \"{}\"\n",
            vectors.display()
        ),
    )
    .expect("task file");
    path.display().to_string()
}

fn ledger(dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join("ledger.jsonl"))
        .expect("ledger")
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect()
}

#[test]
fn an_ehrlich_task_is_searched_and_resumed_through_the_same_loop() {
    let dir = scratch("kinds-ehrlich");
    let task = ehrlich_task(&dir);
    let out = dir.join("run");
    let out_s = out.display().to_string();
    // No target: the tiny function's optimum may be found early, and this test is about
    // rounds being kept and added.
    let (code, stdout, stderr) = ansatz(&[
        "search",
        &task,
        "--rounds",
        "2",
        "--target-loss",
        "0",
        "--out",
        &out_s,
    ]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let first = ledger(&out);
    // The start and two rounds of 16 proposals from the sequence GA.
    assert_eq!(first.len(), 33, "{stdout}");
    assert_eq!(first[0]["proposer"], "start");
    assert!(first[1..].iter().all(|c| c["proposer"] == "evolve"));
    let letters: std::collections::BTreeSet<&str> =
        first.iter().filter_map(|c| c["letters"].as_str()).collect();
    assert_eq!(
        letters.len(),
        first.iter().filter(|c| c["letters"].is_string()).count()
    );
    let best: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("best.json")).expect("best.json"))
            .expect("json");
    let start_value = first[0]["value"].as_f64().expect("the start is feasible");
    assert!(best["value"].as_f64().expect("a value") >= start_value);
    assert!(stdout.contains("best: candidate #"), "{stdout}");
    let report = std::fs::read_to_string(out.join("report.md")).expect("report");
    assert!(report.contains("# ansatz search: tiny") && report.contains("```sequence"));
    for plot in ["progress.svg", "rounds.svg"] {
        let svg = std::fs::read_to_string(out.join(plot)).expect(plot);
        let shown = ansatz_engine::plot::raster::check(&svg).expect(plot);
        assert!(
            shown.texts.iter().any(|t| t.contains("tiny")),
            "{plot}: {:?}",
            shown.texts
        );
    }
    // Resumed with one more round: the old candidates are kept, 16 are added.
    let (code, stdout, stderr) = ansatz(&["search", "--resume", "--out", &out_s, "--rounds", "3"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let resumed = ledger(&out);
    assert_eq!(resumed.len(), 49);
    assert_eq!(resumed[..33], first[..]);
}

#[test]
fn a_malformed_sequence_from_a_person_is_one_failed_candidate() {
    let dir = scratch("kinds-ehrlich-human");
    let task = ehrlich_task(&dir);
    let out = dir.join("run");
    std::fs::create_dir_all(out.join("human")).expect("dir");
    // Too short, a letter outside the 4-state alphabet, and one good sequence.
    std::fs::write(
        out.join("human/round-001.reply.md"),
        "```sequence\nABC\n```\n```sequence\nABCDZZZZ\n```\n```sequence\nAAAAAAAB\n```\n",
    )
    .expect("reply");
    let out_s = out.display().to_string();
    let (code, stdout, stderr) = ansatz(&[
        "search",
        &task,
        "--proposer",
        "human",
        "--rounds",
        "1",
        "--out",
        &out_s,
    ]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let c = ledger(&out);
    assert_eq!(c.len(), 4);
    assert_eq!(c[1]["verdict"]["stage"], "parse");
    assert_eq!(c[2]["verdict"]["stage"], "parse");
    assert!(c[3]["letters"] == "AAAAAAAB");
    let prompt =
        std::fs::read_to_string(out.join("human/round-001.prompt.md")).expect("prompt file");
    assert!(
        prompt.contains("one ```sequence block per sequence"),
        "{prompt}"
    );
}

#[test]
fn an_unknown_kind_is_named_with_the_known_ones() {
    let dir = scratch("kinds-unknown");
    let path = dir.join("x.toml");
    std::fs::write(&path, "kind = \"crystal\"\n").expect("task");
    let (code, _, stderr) = ansatz(&["search", &path.display().to_string()]);
    assert_ne!(code, 0);
    assert!(
        stderr.contains("unknown kind \"crystal\"") && stderr.contains("mpm, table, ehrlich"),
        "{stderr}"
    );
}

#[test]
fn a_molecule_task_runs_through_the_loop_with_real_xtb_and_rdkit() {
    let dir = scratch("kinds-molecules");
    let out = dir.join("run");
    std::fs::create_dir_all(out.join("human")).expect("dir");
    // A malformed SMILES, an impossible valence, and phenol.
    std::fs::write(
        out.join("human/round-001.reply.md"),
        "```molecule\nSMILES: C1CC(\n```\n```molecule\nSMILES: C(C)(C)(C)(C)C\n```\n\
         ```molecule\nSMILES: Oc1ccccc1C\n```\n",
    )
    .expect("reply");
    let out_s = out.display().to_string();
    let (code, stdout, stderr) = ansatz(&[
        "search",
        "tasks/molecule_gap.toml",
        "--proposer",
        "human",
        "--rounds",
        "1",
        "--out",
        &out_s,
    ]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let c = ledger(&out);
    assert_eq!(c.len(), 3, "{c:?}");
    assert_eq!(c[0]["verdict"]["stage"], "parse", "{}", c[0]);
    assert_eq!(c[1]["verdict"]["stage"], "type", "{}", c[1]);
    assert_eq!(c[2]["canonical"], "Cc1ccccc1O");
    let loss = c[2]["fitness"].as_f64().expect("a finite loss from xtb");
    assert!(loss.is_finite() && loss > 0.0);
    let best: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("best.json")).expect("best"))
            .expect("json");
    assert_eq!(best["smiles"], "Oc1ccccc1C");
    assert!(stdout.contains("Oc1ccccc1C"), "{stdout}");
    // The best molecules drawn by RDKit, their 3D structures, every molecule in a table.
    let svg = std::fs::read_to_string(out.join("best.svg")).expect("best.svg");
    // RDKit draws each molecule's legend (its SMILES and loss) as paths of class 'legend'.
    assert!(
        svg.contains("<svg") && svg.contains("class='legend"),
        "{svg}"
    );
    let sdf = std::fs::read_to_string(out.join("best.sdf")).expect("best.sdf");
    assert!(sdf.contains("Cc1ccccc1O") && sdf.contains("$$$$"), "{sdf}");
    assert!(sdf.contains("gfn2_homo_eV"), "{sdf}");
    let csv = std::fs::read_to_string(out.join("molecules.csv")).expect("molecules.csv");
    assert!(csv.lines().any(|l| l.starts_with("Cc1ccccc1O,")), "{csv}");
    let report = std::fs::read_to_string(out.join("report.md")).expect("report");
    assert!(report.contains("drawn in `best.svg`"), "{report}");
}

/// The numbers of one row of `molecule eval`'s table: raw, calibrated, z.
fn property_row(stdout: &str, name: &str) -> [f64; 3] {
    let line = stdout
        .lines()
        .find(|l| l.split_whitespace().next() == Some(name))
        .unwrap_or_else(|| panic!("no {name} row in {stdout}"));
    let v: Vec<f64> = line
        .split_whitespace()
        .skip(1)
        .map(|x| x.parse().expect("a number"))
        .collect();
    [v[0], v[1], v[2]]
}

#[test]
fn molecule_eval_prints_raw_and_calibrated_properties_of_one_molecule() {
    let (code, stdout, stderr) = ansatz(&["molecule", "eval", "Oc1ccccc1C", "--conformers", "2"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.starts_with("Cc1ccccc1O (C7H8O, 8 heavy atoms"),
        "{stdout}"
    );
    let [homo, homo_cal, homo_z] = property_row(&stdout, "homo");
    let [lumo, _, _] = property_row(&stdout, "lumo");
    let [gap, gap_cal, _] = property_row(&stdout, "gap");
    // xtb is deterministic: o-cresol's HOMO is -10.2524 eV (-10.2200 in the other OH rotamer).
    assert!((-10.27..=-10.21).contains(&homo), "{homo}");
    assert!((gap - (lumo - homo)).abs() < 2e-4, "{stdout}");
    // The printed values follow the shipped calibration and QM9 normalisation.
    for (name, raw, cal) in [("homo", homo, homo_cal), ("gap", gap, gap_cal)] {
        let task = ansatz_molecules::Task::builtin(name).expect("task");
        assert!(
            (task.calibration.apply(raw) - cal).abs() < 2e-4,
            "{name}: {stdout}"
        );
    }
    let homo_task = ansatz_molecules::Task::builtin("homo").expect("task");
    assert!(
        (homo_task.normalisation.z(homo_cal) - homo_z).abs() < 2e-3,
        "{stdout}"
    );
}

#[test]
fn molecule_eval_refuses_a_bad_smiles_with_its_reason_and_exit_2() {
    for (smiles, reason) in [
        ("C1CC(", "unparsable"),
        ("CCO", "heavy atoms"),
        ("c1ccccc1[Si](C)(C)C", "Si"),
    ] {
        let (code, stdout, stderr) = ansatz(&["molecule", "eval", smiles]);
        assert_eq!(code, 2, "{smiles}: {stdout}\n{stderr}");
        assert!(stdout.is_empty(), "{smiles}: {stdout}");
        assert!(stderr.contains(reason), "{smiles}: {stderr}");
    }
}

#[test]
fn a_50_mb_reply_and_a_non_utf8_reply_are_each_one_failed_candidate() {
    let dir = scratch("kinds-hostile");
    let task = ehrlich_task(&dir);
    let out = dir.join("run");
    std::fs::create_dir_all(out.join("human")).expect("dir");
    let mut huge = String::from("```sequence\nAAAAAAAB\n```\n");
    while huge.len() < 50 * 1024 * 1024 {
        huge.push_str("filler text of a model that will not stop talking. ");
    }
    std::fs::write(out.join("human/round-001.reply.md"), &huge).expect("reply 1");
    let mut bad = b"```sequence\nAAAA".to_vec();
    bad.extend_from_slice(&[0xff, 0xfe]);
    bad.extend_from_slice(b"AAAB\n```\n");
    std::fs::write(out.join("human/round-002.reply.md"), &bad).expect("reply 2");
    std::fs::write(
        out.join("human/round-003.reply.md"),
        "```sequence\nAAAAAAAB\n```\n",
    )
    .expect("reply 3");
    let out_s = out.display().to_string();
    let (code, stdout, stderr) = ansatz(&[
        "search",
        &task,
        "--proposer",
        "human",
        "--rounds",
        "3",
        "--out",
        &out_s,
    ]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let c = ledger(&out);
    assert_eq!(c.len(), 4, "the start and one candidate per round");
    assert_eq!(c[1]["verdict"]["stage"], "propose");
    assert_eq!(c[1]["cut"]["bytes"].as_u64(), Some(huge.len() as u64));
    assert_eq!(c[2]["verdict"]["stage"], "propose");
    assert!(
        c[2]["verdict"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("offset 16")),
        "{}",
        c[2]
    );
    assert_eq!(c[3]["letters"], "AAAAAAAB", "the run went on");
    // No file the run wrote holds the reply: each stays far below the 64 KiB cut.
    let mut stack = vec![out.clone()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if !path.to_string_lossy().ends_with(".reply.md") {
                let size = std::fs::metadata(&path).expect("size").len();
                assert!(size < 64 * 1024, "{} has {size} bytes", path.display());
            }
        }
    }
}
