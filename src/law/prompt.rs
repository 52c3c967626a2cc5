//! The parts of a prompt that every law problem shares: the system prompt, the round's
//! task, the law language's reference card (from `grammar/GRAMMAR.md`) and the format
//! requirements of an answer.

use ansatz_engine::Brief;

const SYSTEM: &str = include_str!("prompts/system.md");
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

/// A law as the model sees a law it did not write: a `### Code` section with a `law` block.
pub fn code_section(law: &str) -> String {
    ansatz_engine::prompt::code_section("law", law)
}

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
    }
}

/// The format requirements of a law problem whose law takes `F` and returns `output`
/// (`extra`: further numbered requirements, from 5): [`law_requirements`] and
/// [`solution_requirements`] around them.
pub fn format_requirements(output: &str, extra: &str) -> String {
    FORMAT
        .replace("{card}", &demote(reference_card()))
        .replace("{output}", output)
        .replace("{extra}", extra)
        .trim_end()
        .to_string()
}

/// The start of a `### Law Requirements` section: its heading and requirement 1 (write the
/// law in the law language), with the reference card nested under it. A problem adds its
/// own numbered requirements (from 2) after it.
pub fn law_requirements() -> String {
    let end = FORMAT
        .find("{card}")
        .map_or(FORMAT.len(), |i| i + "{card}".len());
    FORMAT[..end].replace("{card}", &demote(reference_card()))
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
    fn the_format_requirements_are_made_of_the_shared_parts() {
        for (output, extra) in [("the stress", ""), ("F", "5. More.\n")] {
            let format = format_requirements(output, extra);
            assert!(format.starts_with(&law_requirements()));
            assert!(format.ends_with(solution_requirements()));
        }
        assert!(law_requirements().ends_with("```"));
        assert!(solution_requirements().starts_with("### Solution Requirements"));
    }
}
