//! The table loader of `ansatz regress`: CSV/TSV parsing, error messages (file, line,
//! column), the train/test split, column roles with 3x3 groups, and no panics on any input.

use crate::support::scratch;
use ansatz::regress::data::{Column, DataError, Table, roles};
use proptest::prelude::*;

fn parse(text: &str) -> Table {
    Table::parse(text, "data.csv").unwrap_or_else(|e| panic!("{e}"))
}

/// The message of the error `text` gives; it must name the file.
fn message(text: &str) -> String {
    let err = Table::parse(text, "data.csv").expect_err("the text is not a valid table");
    let message = err.to_string();
    assert!(message.starts_with("data.csv: "), "{message}");
    message
}

fn targets(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| n.to_string()).collect()
}

#[test]
fn csv_tsv_and_semicolon_tables_parse() {
    let t = parse("x, y ,\"z, m\"\r\n1,2.5,-3e2\r\n4,5,6\r\n\r\n\n");
    assert_eq!(t.names, ["x", "y", "z, m"]);
    assert_eq!(
        t.columns,
        vec![vec![1.0, 4.0], vec![2.5, 5.0], vec![-300.0, 6.0]]
    );
    assert_eq!(t.origin, "data.csv");
    assert_eq!(t.rows(), 2);
    let tsv = parse("\u{feff}a b\tc\n1\t2\n");
    assert_eq!(tsv.names, ["a b", "c"]);
    assert_eq!(tsv.column("c"), Some(&[2.0][..]));
    let semi = parse("a;b\n1.5;2\n");
    assert_eq!(semi.columns, vec![vec![1.5], vec![2.0]]);
    let single = parse("y\n1\n2");
    assert_eq!(single.columns, vec![vec![1.0, 2.0]]);
}

#[test]
fn columns_ranges_and_row_selection() {
    let t = parse("x,y\n3,1\n-1,2\n2,3\n");
    assert_eq!(t.index("y"), Some(1));
    assert_eq!(t.index("z"), None);
    assert_eq!(t.column("z"), None);
    assert_eq!(t.range("x"), Some((-1.0, 3.0)));
    assert_eq!(t.range("z"), None);
    let picked = t.select_rows(&[2, 0, 2]);
    assert_eq!(
        picked.columns,
        vec![vec![2.0, 3.0, 2.0], vec![3.0, 1.0, 3.0]]
    );
    assert_eq!(picked.names, t.names);
    assert_eq!(t.select_rows(&[]).range("x"), None);
}

#[test]
fn load_reads_files_and_names_the_path_in_errors() {
    let dir = scratch("regress-data-load");
    let good = dir.join("good.tsv");
    std::fs::write(&good, "x\ty\n1\t2\n").unwrap();
    let t = Table::load(&good).unwrap();
    assert_eq!(t.origin, good.display().to_string());
    assert_eq!(t.columns, vec![vec![1.0], vec![2.0]]);

    let bad = dir.join("bad.csv");
    std::fs::write(&bad, "x,y\n1,2\n3,oops\n").unwrap();
    let msg = Table::load(&bad).unwrap_err().to_string();
    assert!(
        msg.starts_with(&format!("{}: line 3", bad.display())),
        "{msg}"
    );

    let missing = dir.join("no-such-file.csv");
    let err = Table::load(&missing).unwrap_err();
    assert!(matches!(err, DataError::Io { .. }));
    let msg = err.to_string();
    assert!(msg.contains(&missing.display().to_string()), "{msg}");
    assert!(msg.starts_with("cannot read "), "{msg}");

    let latin1 = dir.join("latin1.csv");
    std::fs::write(&latin1, b"x,y\n1,2\n3,\xb04\n").unwrap();
    let msg = Table::load(&latin1).unwrap_err().to_string();
    assert!(
        msg.starts_with(&format!("{}: line 3 is not UTF-8", latin1.display())),
        "{msg}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn empty_file_and_header_without_rows() {
    for text in ["", " \n\r\n", "\u{feff}"] {
        let msg = message(text);
        assert!(msg.contains("the file is empty"), "{msg}");
    }
    assert_eq!(
        message("x,y\n\n"),
        "data.csv: the header names 2 columns but no data rows follow it"
    );
    assert!(message("1,2\n3,4\n").contains("line 1 holds only numbers"));
    assert!(message("\nx,y\n1,2\n").contains("line 1 is blank"));
}

#[test]
fn header_names_must_be_present_and_unique() {
    assert_eq!(
        message("x,,y\n1,2,3\n"),
        "data.csv: line 1, column 2: empty column name; every column needs a name"
    );
    assert_eq!(
        message("x,y,x\n1,2,3\n"),
        "data.csv: line 1: column name 'x' is used twice (columns 1 and 3); column names must be unique"
    );
}

#[test]
fn ragged_rows_say_expected_and_got() {
    assert_eq!(
        message("x,y,z\n1,2,3\n4,5\n"),
        "data.csv: line 3 has 2 fields but the header has 3 columns (expected 3, got 2); no value for column 'z' (3)"
    );
    assert_eq!(
        message("x,y\r\n1,2\r\n3,4,5\r\n"),
        "data.csv: line 3 has 3 fields but the header has 2 columns (expected 2, got 3); extra field 3 \"5\""
    );
}

#[test]
fn bad_cells_name_line_column_and_what_is_wrong() {
    assert_eq!(
        message("x,y\n1,2\n3,abc\n"),
        "data.csv: line 3, column 'y' (2): \"abc\" is not a number"
    );
    assert_eq!(
        message("x,y\n1,\n"),
        "data.csv: line 2, column 'y' (2): missing value; every cell must hold a number (fill it in or remove the row)"
    );
    assert!(
        message("x\ty\n1\t2\nNA\t3\n")
            .starts_with("data.csv: line 3, column 'x' (1): missing value (\"NA\")")
    );
    assert_eq!(
        message("x,y\n1,2\n3,4\nnan,5\n"),
        "data.csv: line 4, column 'x' (1): NaN (\"nan\"); every cell must hold a finite number"
    );
    assert_eq!(
        message("x,y\n1,-inf\n"),
        "data.csv: line 2, column 'y' (2): infinite value (\"-inf\"); every cell must hold a finite number"
    );
    assert!(message("x,y\n1,1e999\n").contains("column 'y' (2): infinite value (\"1e999\")"));
}

#[test]
fn text_cells_get_hints_for_decimal_commas_and_unsniffed_separators() {
    assert!(
        message("a;b\n1,5;2\n")
            .ends_with("\"1,5\" is not a number; write the decimal point as '.'")
    );
    assert!(message("a b c\n1 2 3\n").ends_with(
        "\"1 2 3\" is not a number; the header has a single column: separate columns with tabs, commas or semicolons"
    ));
    let long = format!("x\n{}\n", "z".repeat(100));
    assert!(message(&long).contains(&format!("\"{}...\"", "z".repeat(40))));
}

#[test]
fn blank_lines_are_allowed_only_at_the_end() {
    assert_eq!(
        message("x,y\n1,2\n\n3,4\n"),
        "data.csv: line 3 is blank; blank lines are allowed only at the end of the file"
    );
    assert!(message("x,y\r\n1,2\r\n  \r\n\r\n3,4\r\n").contains("line 3 is blank"));
    assert_eq!(parse("x,y\n1,2\n\n  \n\n").rows(), 1);
}

#[test]
fn quoting_errors_name_the_line() {
    assert_eq!(
        message("x,y\n1,2\n3,\"4\n"),
        "data.csv: line 3: the quote opening field 2 is never closed"
    );
    assert!(
        message("x,y\n\"1\"2,3\n")
            .starts_with("data.csv: line 2: unexpected '2' after the closing quote of field 1")
    );
}

/// A table of rows 0..n with the row number in column `id`.
fn numbered(n: usize) -> Table {
    let mut text = String::from("id,y\n");
    for k in 0..n {
        text.push_str(&format!("{k},{}\n", 2 * k));
    }
    parse(&text)
}

fn ids(t: &Table) -> Vec<usize> {
    t.column("id")
        .unwrap()
        .iter()
        .map(|&v| v as usize)
        .collect()
}

#[test]
fn split_is_deterministic_disjoint_and_complete() {
    let t = numbered(40);
    let (train, test) = t.split(0.25, 7);
    assert_eq!((train.rows(), test.rows()), (30, 10));
    let (train2, test2) = t.split(0.25, 7);
    assert_eq!((&train, &test), (&train2, &test2));
    let mut all = ids(&train);
    all.extend(ids(&test));
    all.sort();
    assert_eq!(all, (0..40).collect::<Vec<_>>());
    // Rows keep their values and each part keeps the file's order.
    assert!(
        train.columns[1]
            .iter()
            .zip(&train.columns[0])
            .all(|(y, id)| *y == 2.0 * id)
    );
    assert!(ids(&test).windows(2).all(|w| w[0] < w[1]));
    // Another seed, another split; and the split is shuffled, not the first rows.
    let (_, test3) = t.split(0.25, 8);
    assert_ne!(ids(&test), ids(&test3));
    assert_ne!(ids(&test), (0..10).collect::<Vec<_>>());
    assert_eq!(train.origin, t.origin);
}

#[test]
fn split_sizes_round_and_keep_one_row_in_each_part() {
    let sizes = |n: usize, f: f64| {
        let (train, test) = numbered(n).split(f, 3);
        (train.rows(), test.rows())
    };
    assert_eq!(sizes(10, 0.25), (7, 3)); // round(2.5) = 3
    assert_eq!(sizes(10, 0.2), (8, 2));
    assert_eq!(sizes(10, 0.0), (9, 1));
    assert_eq!(sizes(10, 1.0), (1, 9));
    assert_eq!(sizes(10, -3.0), (9, 1));
    assert_eq!(sizes(10, f64::NAN), (9, 1));
    assert_eq!(sizes(2, 0.5), (1, 1));
    assert_eq!(sizes(1, 0.5), (1, 0));
    let (train, test) = numbered(1).select_rows(&[]).split(0.5, 0);
    assert_eq!((train.rows(), test.rows()), (0, 0));
}

/// Header names of a 3x3 group in the plain style.
fn group(prefix: &str) -> Vec<String> {
    (0..3)
        .flat_map(|i| (0..3).map(move |j| format!("{prefix}{i}{j}")))
        .collect()
}

/// A one-row table with these columns.
fn named(names: &[String]) -> Table {
    parse(&format!(
        "{}\n{}\n",
        names.join(","),
        vec!["1"; names.len()].join(",")
    ))
}

#[test]
fn nine_column_groups_become_matrix_inputs_and_targets() {
    let mut names = vec!["t".to_string()];
    names.extend(group("F"));
    names.extend((0..3).flat_map(|i| (0..3).map(move |j| format!("tau_{i}_{j}"))));
    let table = named(&names);
    let roles = roles(&table, &targets(&["tau"])).unwrap();
    assert_eq!(roles.inputs.len(), 2);
    assert_eq!(roles.inputs[0].name(), "t");
    let Column::Matrix {
        name,
        law_name,
        indices,
    } = &roles.inputs[1]
    else {
        panic!("F is a matrix: {:?}", roles.inputs[1]);
    };
    assert_eq!((name.as_str(), law_name.as_str()), ("F", "F"));
    assert_eq!(indices, &[1, 2, 3, 4, 5, 6, 7, 8, 9]);
    let Column::Matrix { name, indices, .. } = &roles.targets[0] else {
        panic!("tau is a matrix target: {:?}", roles.targets[0]);
    };
    assert_eq!(name, "tau");
    assert_eq!(table.names[indices[5]], "tau_1_2"); // row-major
    // A single entry as the target breaks the group into scalars.
    let roles = ansatz::regress::data::roles(&table, &targets(&["F12"])).unwrap();
    assert_eq!(roles.targets[0].indices(), &[6]);
    assert_eq!(roles.inputs.len(), 1 + 8 + 1);
}

#[test]
fn default_target_is_the_target_column_else_the_last() {
    let t = parse("a,target,b\n1,2,3\n");
    let r = roles(&t, &[]).unwrap();
    assert_eq!(r.targets[0].name(), "target");
    assert_eq!(
        r.inputs.iter().map(Column::name).collect::<Vec<_>>(),
        ["a", "b"]
    );
    let r = roles(&parse("a,b,c\n1,2,3\n"), &[]).unwrap();
    assert_eq!(r.targets[0].name(), "c");
    let r = roles(&parse("a,b,c\n1,2,3\n"), &targets(&["a", "c"])).unwrap();
    assert_eq!(
        r.targets.iter().map(Column::name).collect::<Vec<_>>(),
        ["a", "c"]
    );
    assert_eq!(r.inputs[0].name(), "b");
}

#[test]
fn role_errors_list_what_exists() {
    let t = parse("mass,velocity,energy\n1,2,3\n");
    assert_eq!(
        roles(&t, &targets(&["E"])).unwrap_err().to_string(),
        "data.csv: no column named 'E' (nor a 3x3 group E00..E22); the columns are: 'mass', 'velocity', 'energy'"
    );
    assert_eq!(
        roles(&t, &targets(&["mass", "velocity", "energy"]))
            .unwrap_err()
            .to_string(),
        "data.csv: no input column remains: every column is a target ('mass', 'velocity', 'energy'); the table needs at least one input column besides the targets"
    );
    assert!(matches!(
        roles(&parse("y\n1\n"), &[]),
        Err(DataError::NoInputs { .. })
    ));
    assert_eq!(
        roles(&t, &targets(&["mass", "mass"]))
            .unwrap_err()
            .to_string(),
        "data.csv: column 'mass' is chosen as a target twice"
    );

    let mut names = group("tau");
    names.retain(|n| n != "tau12" && n != "tau21");
    names.push("x".to_string());
    assert_eq!(
        roles(&named(&names), &targets(&["tau"]))
            .unwrap_err()
            .to_string(),
        "data.csv: target group 'tau' is incomplete: a 3x3 matrix needs 9 columns, found 7 ('tau00', 'tau01', 'tau02', 'tau10', 'tau11', 'tau20', 'tau22'), missing 'tau12', 'tau21'"
    );
    let mut names = group("tau");
    names.push("x".to_string());
    let t = named(&names);
    assert!(matches!(
        roles(&t, &targets(&["tau", "tau11"])),
        Err(DataError::TargetTwice { column, .. }) if column == "tau11"
    ));
}

#[test]
fn law_names_of_awkward_columns() {
    let t = parse("mass (kg),1st,exp,pi,mass__kg_,y\n1,2,3,4,5,6\n");
    let r = roles(&t, &[]).unwrap();
    let laws: Vec<&str> = r.inputs.iter().map(Column::law_name).collect();
    assert_eq!(laws, ["mass__kg_", "x1st", "exp_", "pi_", "mass__kg__2"]);
    assert_eq!(r.targets[0].law_name(), "y");
}

/// Text shaped like a table: header-ish words, numbers, separators, quotes, line ends.
fn tablish() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just("x".to_string()),
            Just("tau01".to_string()),
            Just("1.5".to_string()),
            Just("-2e3".to_string()),
            Just("nan".to_string()),
            Just("inf".to_string()),
            Just("NA".to_string()),
            "[,;\t\"\r\n ]".prop_map(|s| s.to_string()),
            "[0-9a-z]{1,3}",
            any::<char>().prop_map(|c| c.to_string()),
        ],
        0..40,
    )
    .prop_map(|parts| parts.concat())
}

/// Checks what a successful parse promises.
fn well_formed(table: &Table) -> Result<(), TestCaseError> {
    prop_assert!(!table.names.is_empty());
    prop_assert_eq!(table.names.len(), table.columns.len());
    prop_assert!(table.rows() > 0);
    for column in &table.columns {
        prop_assert_eq!(column.len(), table.rows());
        prop_assert!(column.iter().all(|v| v.is_finite()));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parse_never_panics_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(table) = Table::parse_bytes(&bytes, "fuzz.csv") {
            well_formed(&table)?;
        }
    }

    #[test]
    fn parse_never_panics_on_strings(text in ".{0,200}") {
        match Table::parse(&text, "fuzz.csv") {
            Ok(table) => well_formed(&table)?,
            Err(e) => prop_assert!(e.to_string().starts_with("fuzz.csv: ")),
        }
    }

    #[test]
    fn parse_and_roles_never_panic_on_tablish_text(text in tablish(), target in "[a-z0-9_]{0,6}", seed: u64) {
        match Table::parse(&text, "fuzz.csv") {
            Ok(table) => {
                well_formed(&table)?;
                let _ = roles(&table, &[]);
                if let Ok(r) = roles(&table, &[target]) {
                    prop_assert!(!r.inputs.is_empty());
                }
                let (train, test) = table.split(0.3, seed);
                prop_assert_eq!(train.rows() + test.rows(), table.rows());
            }
            Err(e) => prop_assert!(e.to_string().starts_with("fuzz.csv: ")),
        }
    }

    /// Finite numbers written with `{}` (shortest round-trip form) read back exactly.
    #[test]
    fn written_tables_read_back(
        rows in proptest::collection::vec(proptest::collection::vec(any::<f64>().prop_filter("finite", |v| v.is_finite()), 3), 1..20),
        tab: bool,
    ) {
        let sep = if tab { "\t" } else { "," };
        let mut text = ["a", "b", "c"].join(sep) + "\n";
        for row in &rows {
            text += &row.iter().map(f64::to_string).collect::<Vec<_>>().join(sep);
            text += "\r\n";
        }
        let table = Table::parse(&text, "round.csv").map_err(|e| TestCaseError::fail(e.to_string()))?;
        for (k, row) in rows.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                prop_assert_eq!(table.columns[c][k].to_bits(), v.to_bits());
            }
        }
    }
}
