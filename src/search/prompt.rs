//! The messages a language model sees each round (SGA's message assembly, spec/sga.md 5.3,
//! adapted to the law language).
//!
//! In order: the system prompt; the problem setup (the problem's own text from its
//! [`Brief`], e.g. a simulation task's context, description and observed key-particle
//! states; then the task of the round); for each shown law, worst first and best last, an
//! assistant turn with the law (and the plan that led to it) and a user turn with its
//! feedback or its error; the format requirements (the problem's, e.g. with the language's
//! reference card); and a trailing assistant turn `## Iteration N` that the model continues.

use ansatz_simulator::MaterialKind;

const SYSTEM: &str = include_str!("prompts/system.md");
const CONTEXT_ELASTIC: &str = include_str!("prompts/context_elastic.md");
const CONTEXT_PLASTIC: &str = include_str!("prompts/context_plastic.md");
const TASK: &str = include_str!("prompts/task.md");
const FORMAT: &str = include_str!("prompts/format.md");
const GRAMMAR: &str = include_str!("../../grammar/GRAMMAR.md");

/// Who speaks a turn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Speaker {
    /// The system prompt.
    System,
    /// The engine.
    User,
    /// The model.
    Assistant,
}

/// One turn of the conversation.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Turn {
    /// Who speaks.
    pub role: Speaker,
    /// What is said.
    pub content: String,
}

/// A law shown to the model, with how it did.
#[derive(Clone, Debug)]
pub struct Shown {
    /// What the model sees of it: the plan and code section of its reply, or the law in a
    /// `law` block.
    pub content: String,
    /// The feedback text (`Ok`) or the error (`Err`, stage and message).
    pub outcome: Result<String, String>,
}

/// What the prompt says about a problem: free text, problem-neutral. A simulation task
/// builds it with [`Brief::material`]; another problem (say, a table to regress) writes its
/// own, and may compose its format requirements from [`law_requirements`] and
/// [`solution_requirements`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Brief {
    /// The problem setup: what the law describes, what was observed (Markdown under the
    /// `## Problem Setup` heading, before the round's `### Task` section).
    pub setup: String,
    /// The format requirements: how a law and an answer must be written (Markdown under
    /// the `## Format Requirements` heading).
    pub format: String,
}

impl Brief {
    /// The brief of a simulation task: SGA's context for `kind` (elastic: F to Kirchhoff
    /// stress; plastic: F to corrected F), the task's description (may be empty), the
    /// observed key-particle states (the ground-truth state block) if shown, and the format
    /// requirements for `kind`.
    pub fn material(kind: MaterialKind, description: &str, observed: Option<&str>) -> Brief {
        let context = match kind {
            MaterialKind::Plastic => CONTEXT_PLASTIC,
            _ => CONTEXT_ELASTIC,
        };
        let mut setup = context.trim_end().to_string();
        if !description.trim().is_empty() {
            setup.push_str("\n\nAbout this task: ");
            setup.push_str(description.trim());
        }
        if let Some(observed) = observed {
            setup.push_str("\n\nThe observed (ground-truth) motion:\n\n");
            setup.push_str(observed.trim_end());
        }
        Brief {
            setup,
            format: format_requirements(kind),
        }
    }
}

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
    format!("### Code\n\n```law\n{}\n```", law.trim_end())
}

/// The format requirements of a simulation task for `kind`: [`law_requirements`] (input
/// `F`, output a mat3) and [`solution_requirements`].
pub fn format_requirements(kind: MaterialKind) -> String {
    let (output, extra) = match kind {
        MaterialKind::Plastic => (
            "the corrected deformation gradient",
            "5. Consider whether plasticity is needed at all: `return F` (no correction) is a \
             valid law.\n",
        ),
        _ => ("the Kirchhoff stress", ""),
    };
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

/// The whole conversation for one round: `shown` is in display order (worst first);
/// `rejected` lists the last round's failures that are not among them (one line each), so
/// that every failure is fed back once.
pub fn messages(brief: &Brief, shown: &[Shown], rejected: &[String]) -> Vec<Turn> {
    let turn = |role, content: String| Turn { role, content };
    let setup = format!(
        "## Problem Setup\n\n{}\n\n{}",
        brief.setup.trim_end(),
        TASK.trim_end()
    );
    let mut out = vec![
        turn(Speaker::System, SYSTEM.trim_end().to_string()),
        turn(Speaker::User, setup),
    ];
    for (i, s) in shown.iter().enumerate() {
        out.push(turn(
            Speaker::Assistant,
            format!("## Iteration {}\n\n{}", i + 1, s.content.trim_end()),
        ));
        out.push(turn(
            Speaker::User,
            match &s.outcome {
                Ok(feedback) => format!("### Feedback\n\n{}", feedback.trim_end()),
                Err(error) => format!(
                    "The law was rejected or aborted because of an error or an instability:\n\n\
                     {}\n\nFix it by analysing the information above.",
                    error.trim_end()
                ),
            },
        ));
    }
    let mut epilogue = String::new();
    if !rejected.is_empty() {
        epilogue
            .push_str("## Rejected Last Round\n\nThese proposals of the last round failed:\n\n");
        for r in rejected {
            epilogue.push_str("- ");
            epilogue.push_str(r.trim_end());
            epilogue.push('\n');
        }
        epilogue.push('\n');
    }
    epilogue.push_str("## Format Requirements\n\n");
    epilogue.push_str(brief.format.trim_end());
    out.push(turn(Speaker::User, epilogue));
    out.push(turn(
        Speaker::Assistant,
        format!("## Iteration {}", shown.len() + 1),
    ));
    out
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
        for kind in [MaterialKind::Elastic, MaterialKind::Plastic] {
            let format = format_requirements(kind);
            assert!(format.starts_with(&law_requirements()));
            assert!(format.ends_with(solution_requirements()));
        }
        assert!(law_requirements().ends_with("```"));
        assert!(solution_requirements().starts_with("### Solution Requirements"));
    }

    #[test]
    fn messages_follow_the_sga_order() {
        let brief = Brief::material(
            MaterialKind::Plastic,
            "sand",
            Some("#### Representative particle trajectories"),
        );
        let shown = vec![
            Shown {
                content: code_section("return F\n"),
                outcome: Err("parse: line 1".into()),
            },
            Shown {
                content: "### Step-by-Step Plan\n1.\n\n### Code\n```law\nreturn F\n```".into(),
                outcome: Ok("#### Loss".into()),
            },
        ];
        let m = messages(&brief, &shown, &[]);
        let roles: Vec<Speaker> = m.iter().map(|t| t.role).collect();
        use Speaker::*;
        assert_eq!(
            roles,
            [
                System, User, Assistant, User, Assistant, User, User, Assistant
            ]
        );
        assert!(m[1].content.starts_with("## Problem Setup\n\n### Context"));
        assert!(m[1].content.contains("About this task: sand"));
        assert!(m[1].content.ends_with("write a better law."));
        assert_eq!(
            m[2].content,
            "## Iteration 1\n\n### Code\n\n```law\nreturn F\n```"
        );
        assert!(m[3].content.contains("parse: line 1"));
        assert_eq!(m[5].content, "### Feedback\n\n#### Loss");
        assert!(m[6].content.starts_with("## Format Requirements"));
        assert!(m[6].content.contains("plasticity is needed"));
        assert!(m[6].content.contains("#### Reference card"));
        assert!(!m[6].content.contains("{card}"));
        assert_eq!(m[7].content, "## Iteration 3");
        let m = messages(&brief, &shown, &["#7 (parse): line 2".to_string()]);
        assert!(m[6].content.starts_with("## Rejected Last Round"));
        assert!(
            m[6].content
                .contains("- #7 (parse): line 2\n\n## Format Requirements")
        );
    }
}
