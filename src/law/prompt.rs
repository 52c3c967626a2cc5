//! The parts of a prompt that every law problem shares: the system prompt, the round's
//! task, the law language's reference card (from `grammar/GRAMMAR.md`, or the scalar card
//! for scalar tables) with a worked example of the problem's own signature, and the format
//! requirements of an answer.

use ansatz_engine::Brief;

const SYSTEM: &str = include_str!("prompts/system.md");
const SYSTEM_TABLE: &str = include_str!("prompts/system_table.md");
const CARD_SCALAR: &str = include_str!("prompts/card_scalar.md");
const EXAMPLE_ELASTIC: &str = include_str!("prompts/example_elastic.md");
const TASK: &str = include_str!("prompts/task.md");
const FORMAT: &str = include_str!("prompts/format.md");
const GRAMMAR: &str = include_str!("../../grammar/GRAMMAR.md");

/// The reference card and worked example of `grammar/GRAMMAR.md` (from "## Reference card"
/// up to the notes meant for people).
pub fn reference_card() -> &'static str {
    let start = GRAMMAR.find("## Reference card").unwrap_or(0);
    let end = GRAMMAR[start..]
        .find("## Semantics notes")
        .map_or(GRAMMAR.len(), |e| start + e);
    GRAMMAR[start..end].trim()
}

/// Which reference card and worked example a problem's prompt carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Card {
    /// The full card (scalars, vectors, matrices) with an elastic example (F to stress).
    Elastic,
    /// The full card with a plastic example (F to corrected F).
    Plastic,
    /// Scalars only, with a scalar example: no matrices, no one-letter notation that could
    /// clash with a column's name.
    Scalar,
}

/// The card of `card`, with its worked example.
pub fn card(card: Card) -> String {
    match card {
        Card::Plastic => reference_card().to_string(),
        Card::Elastic => {
            let full = reference_card();
            let cut = full.find("## Worked example").unwrap_or(full.len());
            format!("{}\n\n{}", full[..cut].trim_end(), EXAMPLE_ELASTIC.trim())
        }
        Card::Scalar => CARD_SCALAR.trim().to_string(),
    }
}

/// A law as the model sees a law it did not write: a `### Code` section with a `law` block.
pub fn code_section(law: &str) -> String {
    ansatz_engine::prompt::code_section("law", law)
}

/// When two laws are the same (the deduplication rule of [`super::screen`]: the e-graph's
/// canonical hash or the numeric fingerprint, which evaluates a law with fixed parameter
/// values assigned by role).
pub const SAME_LAW: &str = "they are equal up to algebra and to the names and values of \
                            their parameters (changing only a default value or a name does \
                            not make a new law)";

/// A brief for a law problem: the law system prompt and round task around `setup` and
/// `format`.
pub fn brief(setup: String, format: String) -> Brief {
    Brief {
        system: SYSTEM.trim_end().to_string(),
        setup,
        task: TASK.trim_end().to_string(),
        format,
        block: "law".into(),
        noun: "law".into(),
        same_form: SAME_LAW.into(),
    }
}

/// A brief for a law found from data (a table): the data system prompt.
pub fn data_brief(setup: String, format: String) -> Brief {
    Brief {
        system: SYSTEM_TABLE.trim_end().to_string(),
        setup,
        task: TASK.trim_end().to_string(),
        format,
        block: "law".into(),
        noun: "law".into(),
        same_form: SAME_LAW.into(),
    }
}

/// The format requirements of a law problem whose law takes `F` and returns `output`
/// (`extra`: further numbered requirements, from 5): [`law_requirements`] and
/// [`solution_requirements`] around them.
pub fn format_requirements(card_of: Card, output: &str, extra: &str) -> String {
    FORMAT
        .replace("{card}", &demote(&card(card_of)))
        .replace("{output}", output)
        .replace("{extra}", extra)
        .trim_end()
        .to_string()
}

/// The start of a `### Law Requirements` section: its heading and requirement 1 (write the
/// law in the law language), with the reference card nested under it. A problem adds its
/// own numbered requirements (from 2) after it.
pub fn law_requirements(card_of: Card) -> String {
    let end = FORMAT
        .find("{card}")
        .map_or(FORMAT.len(), |i| i + "{card}".len());
    FORMAT[..end].replace("{card}", &demote(&card(card_of)))
}

/// The `### Solution Requirements` section: the three sections of an answer (analysis,
/// plan, one `law` block), the same for every problem.
pub fn solution_requirements() -> &'static str {
    let start = FORMAT.find("### Solution Requirements").unwrap_or(0);
    FORMAT[start..].trim_end()
}

/// Headings of the card move two levels down so that they nest under the requirements.
fn demote(card: &str) -> String {
    let mut in_code = false;
    card.lines()
        .map(|line| {
            if line.starts_with("```") {
                in_code = !in_code;
            }
            if !in_code && line.starts_with("## ") {
                format!("####{}", &line[2..])
            } else {
                line.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_card_holds_every_function_and_the_worked_example() {
        let card = reference_card();
        assert!(card.starts_with("## Reference card"));
        assert!(card.contains("## Worked example"));
        assert!(!card.contains("Semantics notes"));
        for f in ansatz_grammar::function_names() {
            assert!(card.contains(f), "the card misses {f}");
        }
    }

    #[test]
    fn each_card_carries_an_example_of_its_own_signature() {
        let elastic = card(Card::Elastic);
        assert!(elastic.contains("Kirchhoff stress") && !elastic.contains("von Mises"));
        assert!(card(Card::Plastic).contains("von Mises plasticity: F -> corrected F"));
        let scalar = card(Card::Scalar);
        for matrix_word in ["mat3", "vec3", "svd", "`F`", "`s` scalar", "@"] {
            assert!(
                !scalar.contains(matrix_word),
                "{matrix_word} in the scalar card"
            );
        }
        // The examples are laws of the language: they parse.
        for c in [elastic, card(Card::Plastic), scalar] {
            let start = c.find("## Worked example").expect("example") + "## Worked example".len();
            let body = &c[start..];
            let open = body.find("```\n").expect("block") + 4;
            let close = body[open..].find("```").expect("end") + open;
            ansatz_grammar::parse(&body[open..close])
                .unwrap_or_else(|e| panic!("{}", e.with_source(&body[open..close]).render()));
        }
    }

    #[test]
    fn the_format_requirements_are_made_of_the_shared_parts() {
        for (output, extra) in [("the stress", ""), ("F", "5. More.\n")] {
            let format = format_requirements(Card::Plastic, output, extra);
            assert!(format.starts_with(&law_requirements(Card::Plastic)));
            assert!(format.ends_with(solution_requirements()));
        }
        assert!(law_requirements(Card::Plastic).ends_with("```"));
        assert!(solution_requirements().starts_with("### Solution Requirements"));
    }
}
