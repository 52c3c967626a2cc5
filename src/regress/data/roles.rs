//! Which columns are targets and which inputs; 3x3 column groups become matrices.

use super::{DataError, Table, law_name};
use std::collections::{BTreeSet, HashMap};

/// The columns of a table sorted into inputs (in column order) and targets (in the order
/// asked for).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Roles {
    /// What a law reads.
    pub inputs: Vec<Column>,
    /// What a law must predict.
    pub targets: Vec<Column>,
}

/// One input or target: a column, or 9 columns read as a 3x3 matrix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Column {
    /// A single column (`scalar` in the law language).
    Scalar {
        /// The header name.
        name: String,
        /// The name in a law ([`law_name`]).
        law_name: String,
        /// Position of the column in the table.
        index: usize,
    },
    /// Nine columns `PREFIXij` (or `PREFIX_ij`, `PREFIX_i_j`), i, j in 0..3, as a `mat3`.
    Matrix {
        /// The prefix.
        name: String,
        /// The name in a law ([`law_name`] of the prefix).
        law_name: String,
        /// Positions of the columns in the table, row-major: entry (i, j) at `3 * i + j`.
        indices: [usize; 9],
    },
}

impl Column {
    /// The header name (a matrix's prefix).
    pub fn name(&self) -> &str {
        match self {
            Column::Scalar { name, .. } | Column::Matrix { name, .. } => name,
        }
    }

    /// The name in a law.
    pub fn law_name(&self) -> &str {
        match self {
            Column::Scalar { law_name, .. } | Column::Matrix { law_name, .. } => law_name,
        }
    }

    /// Positions of the table columns read: one, or nine row-major.
    pub fn indices(&self) -> &[usize] {
        match self {
            Column::Scalar { index, .. } => std::slice::from_ref(index),
            Column::Matrix { indices, .. } => indices,
        }
    }

    fn set_law_name(&mut self, new: String) {
        match self {
            Column::Scalar { law_name, .. } | Column::Matrix { law_name, .. } => *law_name = new,
        }
    }
}

/// Which columns are targets and which inputs. `targets` empty: the column named
/// `target` (PMLB layout), else the last column. A target name may also be a *group
/// prefix*: `--target tau` when the table has the 9 columns tau00..tau22 (names PREFIX +
/// i + j, i,j in 0..3, also accept PREFIX_ij / PREFIX_i_j) selects a 3x3 matrix target.
/// Every other column is an input; inputs that form a complete 9-column group likewise
/// become one matrix input named PREFIX.
///
/// Details: with no target given and no column `target`, a last column that completes
/// a 9-column group makes the whole group the target. A target that is a column's exact
/// name is that column, even when it is also a group prefix. Inputs keep the table's
/// order (a matrix sits where its first column is). Law names are given to the inputs,
/// then to the targets, unique across both.
///
/// Errors: [`DataError::MissingTarget`] (listing the columns),
/// [`DataError::IncompleteGroup`] (a prefix matching 1 to 8 of the 9 columns),
/// [`DataError::TargetTwice`], [`DataError::NoInputs`].
pub fn roles(table: &Table, targets: &[String]) -> Result<Roles, DataError> {
    let index: HashMap<&str, usize> = table
        .names
        .iter()
        .enumerate()
        .map(|(k, n)| (n.as_str(), k))
        .collect();
    let mut chosen = Vec::new();
    if targets.is_empty() {
        chosen.push(default_target(table, &index)?);
    }
    for target in targets {
        chosen.push(resolve(table, &index, target)?);
    }
    let mut used = vec![false; table.names.len()];
    for column in &chosen {
        for &k in column.indices() {
            if std::mem::replace(&mut used[k], true) {
                return Err(DataError::TargetTwice {
                    origin: table.origin.clone(),
                    column: table.names[k].clone(),
                });
            }
        }
    }
    let mut inputs = inputs(table, &index, used);
    if inputs.is_empty() {
        return Err(DataError::NoInputs {
            origin: table.origin.clone(),
            targets: chosen.iter().map(|c| c.name().to_string()).collect(),
        });
    }
    let mut taken = BTreeSet::new();
    for column in inputs.iter_mut().chain(chosen.iter_mut()) {
        let name = law_name(column.name(), &taken);
        taken.insert(name.clone());
        column.set_law_name(name);
    }
    Ok(Roles {
        inputs,
        targets: chosen,
    })
}

/// The column `target`, else the last column (or the complete group it ends).
fn default_target(table: &Table, index: &HashMap<&str, usize>) -> Result<Column, DataError> {
    if let Some(&k) = index.get("target") {
        return Ok(scalar(table, k));
    }
    let Some(last) = table.names.len().checked_sub(1) else {
        return Err(DataError::MissingTarget {
            origin: table.origin.clone(),
            target: "target".to_string(),
            available: Vec::new(),
        });
    };
    let group = STYLES.iter().find_map(|&style| {
        let prefix = style.prefix(&table.names[last])?;
        let members = complete(members(index, prefix, style))?;
        Some(matrix(prefix, members))
    });
    Ok(group.unwrap_or_else(|| scalar(table, last)))
}

/// A target given by name: a column, else a complete group with that prefix.
fn resolve(table: &Table, index: &HashMap<&str, usize>, target: &str) -> Result<Column, DataError> {
    if let Some(&k) = index.get(target) {
        return Ok(scalar(table, k));
    }
    if target.is_empty() {
        return Err(DataError::MissingTarget {
            origin: table.origin.clone(),
            target: String::new(),
            available: table.names.clone(),
        });
    }
    let mut best = (STYLES[0], members(index, target, STYLES[0]));
    for &style in &STYLES[1..] {
        let found = members(index, target, style);
        if count(&found) > count(&best.1) {
            best = (style, found);
        }
    }
    let (style, found) = best;
    if let Some(members) = complete(found) {
        return Ok(matrix(target, members));
    }
    if count(&found) == 0 {
        return Err(DataError::MissingTarget {
            origin: table.origin.clone(),
            target: target.to_string(),
            available: table.names.clone(),
        });
    }
    let names = |present: bool| {
        (0..9)
            .filter(|&e| found[e].is_some() == present)
            .map(|e| style.name(target, e / 3, e % 3))
            .collect()
    };
    Err(DataError::IncompleteGroup {
        origin: table.origin.clone(),
        prefix: target.to_string(),
        found: names(true),
        missing: names(false),
    })
}

/// The columns not `used` by targets, complete groups of them as matrices.
fn inputs(table: &Table, index: &HashMap<&str, usize>, mut used: Vec<bool>) -> Vec<Column> {
    let mut inputs = Vec::new();
    for k in 0..table.names.len() {
        if used[k] {
            continue;
        }
        let group = STYLES.iter().find_map(|&style| {
            let prefix = style.prefix(&table.names[k])?;
            let members = complete(members(index, prefix, style))?;
            members
                .iter()
                .all(|&m| !used[m])
                .then(|| matrix(prefix, members))
        });
        let column = group.unwrap_or_else(|| scalar(table, k));
        for &m in column.indices() {
            used[m] = true;
        }
        inputs.push(column);
    }
    inputs
}

/// The table's column `index` as a scalar (law name given later).
fn scalar(table: &Table, index: usize) -> Column {
    Column::Scalar {
        name: table.names[index].clone(),
        law_name: String::new(),
        index,
    }
}

/// A group as a matrix (law name given later).
fn matrix(prefix: &str, indices: [usize; 9]) -> Column {
    Column::Matrix {
        name: prefix.to_string(),
        law_name: String::new(),
        indices,
    }
}

/// How the columns of a group are named.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Style {
    /// `PREFIX_i_j`
    Separated,
    /// `PREFIX_ij`
    Underscore,
    /// `PREFIXij`
    Plain,
}

/// Styles in the order tried: `tau_01` is entry (0, 1) of `tau` before it is entry
/// (0, 1) of `tau_`.
const STYLES: [Style; 3] = [Style::Separated, Style::Underscore, Style::Plain];

impl Style {
    /// The name of entry (i, j) of the group `prefix`.
    fn name(self, prefix: &str, i: usize, j: usize) -> String {
        match self {
            Style::Separated => format!("{prefix}_{i}_{j}"),
            Style::Underscore => format!("{prefix}_{i}{j}"),
            Style::Plain => format!("{prefix}{i}{j}"),
        }
    }

    /// The (non-empty) prefix of `name` when it names an entry in this style.
    fn prefix(self, name: &str) -> Option<&str> {
        let b = name.as_bytes();
        let digit = |c: u8| (b'0'..=b'2').contains(&c);
        let tail = match self {
            Style::Separated => 4,
            Style::Underscore => 3,
            Style::Plain => 2,
        };
        let t = b.get(b.len().checked_sub(tail).filter(|&s| s > 0)?..)?;
        let matches = match self {
            Style::Separated => t[0] == b'_' && digit(t[1]) && t[2] == b'_' && digit(t[3]),
            Style::Underscore => t[0] == b'_' && digit(t[1]) && digit(t[2]),
            Style::Plain => digit(t[0]) && digit(t[1]),
        };
        // The tail is ASCII, so the cut is on a character boundary.
        matches.then(|| &name[..name.len() - tail])
    }
}

/// The table positions of the group's entries, row-major, where the columns exist.
fn members(index: &HashMap<&str, usize>, prefix: &str, style: Style) -> [Option<usize>; 9] {
    std::array::from_fn(|e| {
        index
            .get(style.name(prefix, e / 3, e % 3).as_str())
            .copied()
    })
}

/// How many of the nine columns exist.
fn count(members: &[Option<usize>; 9]) -> usize {
    members.iter().flatten().count()
}

/// The positions when all nine columns exist.
fn complete(members: [Option<usize>; 9]) -> Option<[usize; 9]> {
    let mut out = [0; 9];
    for (o, m) in out.iter_mut().zip(members) {
        *o = m?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A one-row table with these column names.
    fn table(names: &[&str]) -> Table {
        Table {
            names: names.iter().map(|n| n.to_string()).collect(),
            columns: vec![vec![0.0]; names.len()],
            origin: "t.csv".to_string(),
            units: vec![None; names.len()],
        }
    }

    fn group(prefix: &str, style: Style) -> Vec<String> {
        (0..9).map(|e| style.name(prefix, e / 3, e % 3)).collect()
    }

    #[test]
    fn styles_split_names_into_prefix_and_entry() {
        assert_eq!(Style::Plain.prefix("tau01"), Some("tau"));
        assert_eq!(Style::Plain.prefix("tau_01"), Some("tau_"));
        assert_eq!(Style::Underscore.prefix("tau_01"), Some("tau"));
        assert_eq!(Style::Separated.prefix("tau_0_1"), Some("tau"));
        assert_eq!(Style::Separated.prefix("σ_2_2"), Some("σ"));
        assert_eq!(Style::Plain.prefix("x13"), None);
        assert_eq!(Style::Plain.prefix("22"), None);
        assert_eq!(Style::Underscore.prefix("_01"), None);
        assert_eq!(Style::Underscore.prefix("x01"), None);
        assert_eq!(Style::Separated.prefix("é"), None);
    }

    #[test]
    fn complete_groups_become_matrices_in_every_style() {
        for style in STYLES {
            let mut names = vec!["a".to_string()];
            names.extend(group("F", style));
            names.push("y".to_string());
            let refs: Vec<&str> = names.iter().map(String::as_str).collect();
            let roles = roles(&table(&refs), &[]).unwrap();
            assert_eq!(
                roles.inputs,
                vec![
                    Column::Scalar {
                        name: "a".into(),
                        law_name: "a".into(),
                        index: 0
                    },
                    Column::Matrix {
                        name: "F".into(),
                        law_name: "F".into(),
                        indices: std::array::from_fn(|e| e + 1)
                    },
                ],
                "{style:?}"
            );
            assert_eq!(roles.targets[0].name(), "y");
        }
    }

    #[test]
    fn a_group_with_an_entry_missing_stays_scalars() {
        let mut names = group("F", Style::Plain);
        names.remove(4);
        names.push("y".to_string());
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let roles = roles(&table(&refs), &[]).unwrap();
        assert_eq!(roles.inputs.len(), 8);
        assert!(
            roles
                .inputs
                .iter()
                .all(|c| matches!(c, Column::Scalar { .. }))
        );
    }

    #[test]
    fn default_target_prefers_the_target_column_then_the_last_group() {
        let roles1 = roles(&table(&["target", "x", "y"]), &[]).unwrap();
        assert_eq!(roles1.targets[0].indices(), &[0]);
        assert_eq!(roles1.inputs.len(), 2);
        let mut names = vec!["x".to_string()];
        names.extend(group("tau", Style::Underscore));
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let roles2 = roles(&table(&refs), &[]).unwrap();
        assert!(matches!(&roles2.targets[0], Column::Matrix { name, .. } if name == "tau"));
        assert_eq!(roles2.inputs.len(), 1);
    }

    #[test]
    fn an_exact_column_name_wins_over_a_group_prefix() {
        let mut names = vec!["tau".to_string()];
        names.extend(group("tau", Style::Plain));
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let roles = roles(&table(&refs), &["tau".to_string()]).unwrap();
        assert_eq!(roles.targets[0].indices(), &[0]);
        assert!(matches!(&roles.inputs[..], [Column::Matrix { .. }]));
    }

    #[test]
    fn law_names_are_unique_across_inputs_and_targets() {
        let roles = roles(&table(&["a b", "a-b", "pi", "sum"]), &[]).unwrap();
        let names: Vec<&str> = roles
            .inputs
            .iter()
            .chain(&roles.targets)
            .map(Column::law_name)
            .collect();
        assert_eq!(names, ["a_b", "a_b_2", "pi_", "sum_"]);
    }

    #[test]
    fn an_empty_table_has_no_target() {
        let err = roles(&table(&[]), &[]).unwrap_err();
        assert!(matches!(err, DataError::MissingTarget { .. }), "{err}");
    }
}
