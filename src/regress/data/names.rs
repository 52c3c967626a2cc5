//! Column names as identifiers of the law language.

use std::collections::BTreeSet;

/// True when a law cannot use `name` as an input name: the grammar's reserved names
/// ([`ansatz_grammar::reserved_names`]) and built-in functions, and `e`, which a reader of
/// the law (or a language model) would take for Euler's number.
fn reserved(name: &str) -> bool {
    name == "e"
        || ansatz_grammar::reserved_names().any(|r| r == name)
        || ansatz_grammar::function_names().any(|f| f == name)
}

/// A column name as a law-language identifier: characters outside [A-Za-z0-9_] become
/// '_', a leading digit gets a 'x' prefix, and names that collide with the language's
/// reserved words, constants or function names get a trailing '_'; results are made
/// unique.
///
/// An empty name becomes `x`. The result is not in `taken`: a clash gets the first free
/// suffix `_2`, `_3`, ... The caller adds the result to `taken` before naming the next
/// column.
///
/// ```
/// use ansatz::regress::data::law_name;
/// use std::collections::BTreeSet;
///
/// let mut taken = BTreeSet::new();
/// assert_eq!(law_name("mass (kg)", &taken), "mass__kg_");
/// assert_eq!(law_name("2theta", &taken), "x2theta");
/// assert_eq!(law_name("exp", &taken), "exp_");
/// taken.insert("a_b".to_string());
/// assert_eq!(law_name("a-b", &taken), "a_b_2");
/// ```
pub fn law_name(name: &str, taken: &BTreeSet<String>) -> String {
    let mut base: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if base.is_empty() {
        base.push('x');
    }
    if base.starts_with(|c: char| c.is_ascii_digit()) {
        base.insert(0, 'x');
    }
    if reserved(&base) {
        base.push('_');
    }
    if !taken.contains(&base) {
        return base;
    }
    let mut k = 2usize;
    loop {
        let candidate = format!("{base}_{k}");
        if !taken.contains(&candidate) {
            return candidate;
        }
        k += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ansatz_grammar::{Signature, Type};
    use proptest::prelude::*;

    fn fresh(name: &str) -> String {
        law_name(name, &BTreeSet::new())
    }

    #[test]
    fn characters_digits_and_empty_names() {
        assert_eq!(fresh("x1"), "x1");
        assert_eq!(fresh("Temp (°C)"), "Temp___C_");
        assert_eq!(fresh("a.b-c d"), "a_b_c_d");
        assert_eq!(fresh("1"), "x1");
        assert_eq!(fresh("007_bond"), "x007_bond");
        assert_eq!(fresh(""), "x");
        assert_eq!(fresh("σ"), "__");
    }

    #[test]
    fn reserved_names_get_an_underscore() {
        for name in [
            "I", "pi", "param", "return", "e", "_", "lambda", "None", "in",
        ] {
            assert_eq!(fresh(name), format!("{name}_"), "{name}");
        }
        for name in ansatz_grammar::function_names() {
            assert_eq!(fresh(name), format!("{name}_"), "{name}");
        }
        // Only exact matches are reserved.
        assert_eq!(fresh("Pi"), "Pi");
        assert_eq!(fresh("exp2"), "exp2");
        assert_eq!(fresh("sigma"), "sigma");
    }

    #[test]
    fn clashes_get_the_first_free_suffix() {
        let mut taken = BTreeSet::new();
        let mut out = Vec::new();
        for name in ["a b", "a-b", "a_b", "a_b_2", "a.b"] {
            let n = law_name(name, &taken);
            taken.insert(n.clone());
            out.push(n);
        }
        assert_eq!(out, ["a_b", "a_b_2", "a_b_3", "a_b_2_2", "a_b_4"]);
        taken.insert("pi_".into());
        assert_eq!(law_name("pi", &taken), "pi__2");
    }

    proptest! {
        /// Whatever the column names, the law names are distinct identifiers that a law
        /// can read as inputs.
        #[test]
        fn law_names_are_usable_inputs(names in proptest::collection::vec(".{0,12}", 1..6)) {
            let mut taken = BTreeSet::new();
            let mut inputs = Vec::new();
            for name in &names {
                let n = law_name(name, &taken);
                prop_assert!(!taken.contains(&n));
                prop_assert!(!reserved(&n));
                taken.insert(n.clone());
                inputs.push((n, Type::Scalar));
            }
            let body = inputs.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(" + ");
            let signature = Signature::new(inputs.clone(), Type::Scalar);
            let text = signature.to_string();
            prop_assert_eq!(text.parse::<Signature>().ok(), Some(signature.clone()));
            let law = format!("return {body}");
            prop_assert!(ansatz_grammar::load(&law, &signature).is_ok(), "{} with {}", law, text);
        }
    }
}
