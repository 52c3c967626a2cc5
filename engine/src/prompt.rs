//! The messages a language model sees each round (SGA's message assembly).
//!
//! In order: the system prompt; the problem setup (the problem's own text from its
//! [`Brief`], e.g. a simulation task's context, description and observed key-particle
//! states; then the task of the round); for each shown solution, worst first and best
//! last, an assistant turn with the solution (and the plan that led to it) and a user turn
//! with its feedback or its error; the format requirements (the problem's); and a trailing
//! assistant turn `## Iteration N` that the model continues.

mod history;

pub use history::{History, OTHERS_BUDGET, messages_full};

/// Which feedback a proposer reads: the SGA paper's text, or the default that stays
/// readable near the optimum and names every solution it mentions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FeedbackFormat {
    /// The paper's text exactly (fixed decimals, every evaluation, the `shown` best alone,
    /// failures by id), kept for reproducing its results.
    Sga,
    /// Numbers with significant digits, accepted iterates only, the shown solutions chosen
    /// one per family and stated as "the k best of N", one line for every other solution
    /// tried, failures quoted by their text, diagnostics near the optimum.
    #[default]
    Full,
}

impl FeedbackFormat {
    /// The name on the command line and in files.
    pub fn as_str(self) -> &'static str {
        match self {
            FeedbackFormat::Sga => "sga",
            FeedbackFormat::Full => "full",
        }
    }
}

impl std::fmt::Display for FeedbackFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for FeedbackFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "sga" => Ok(FeedbackFormat::Sga),
            "full" | "default" => Ok(FeedbackFormat::Full),
            other => Err(format!(
                "unknown feedback format {other:?} (expected sga or full)"
            )),
        }
    }
}

/// `x` with `digits` significant digits, trailing zeros dropped: plain between 1e-3 and
/// 1e5, scientific outside (`3.1e-5`), so that no small value prints as zero; `nan`,
/// `inf`, `-inf` as such.
pub fn num(x: f64, digits: usize) -> String {
    let digits = digits.max(1);
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.into();
    }
    if x == 0.0 {
        return "0".into();
    }
    let trim = |m: &str| -> String {
        if m.contains('.') {
            m.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            m.to_string()
        }
    };
    let a = x.abs();
    if (1e-3..1e5).contains(&a) {
        let decimals = (digits as i32 - 1 - a.log10().floor() as i32).max(0) as usize;
        let plain = format!("{x:.decimals$}");
        // Rounding may carry into a new digit (99999.5 -> 100000): then scientific.
        if plain.trim_start_matches('-').len() <= digits + 7 {
            return trim(&plain);
        }
    }
    let sci = format!("{x:.prec$e}", prec = digits - 1);
    match sci.split_once('e') {
        Some((m, e)) => format!("{}e{e}", trim(m)),
        None => sci,
    }
}

/// The rule for how many solutions an answer holds and how they are written (`per_reply`
/// solutions in one reply); `format` decides the wording (SGA's sentence for one block).
pub fn block_rule(brief: &Brief, per_reply: usize, format: FeedbackFormat) -> String {
    let (block, noun) = (&brief.block, &brief.noun);
    if per_reply <= 1 || format == FeedbackFormat::Sga {
        format!(
            "exactly one fenced block tagged `{block}` holding the whole {noun}, and nothing after it"
        )
    } else {
        format!(
            "exactly {per_reply} fenced blocks tagged `{block}`, one whole {noun} in each and \
             each {noun} different (the first {per_reply} blocks are kept, any further block is \
             dropped), and nothing after the last"
        )
    }
}

/// The format requirements with the block rule in place (at `{blocks}`, or as a last
/// paragraph when the problem's text has no such place).
pub fn format_with_rule(brief: &Brief, per_reply: usize, format: FeedbackFormat) -> String {
    let rule = block_rule(brief, per_reply, format);
    if brief.format.contains("{blocks}") {
        brief
            .format
            .replace("{blocks}", &rule)
            .trim_end()
            .to_string()
    } else if format == FeedbackFormat::Sga {
        brief.format.trim_end().to_string()
    } else {
        format!("{}\n\nWrite {rule}.", brief.format.trim_end())
    }
}

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

/// A solution shown to the model, with how it did.
#[derive(Clone, Debug)]
pub struct Shown {
    /// What the model sees of it: the plan and code section of its reply, or the solution
    /// in a fenced block.
    pub content: String,
    /// The feedback text (`Ok`) or the error (`Err`, stage and message).
    pub outcome: Result<String, String>,
}

/// What the prompt says about a problem: free text, written by the problem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Brief {
    /// The system prompt.
    pub system: String,
    /// The problem setup: what the solution describes, what was observed (Markdown under
    /// the `## Problem Setup` heading).
    pub setup: String,
    /// The task of the round (after the setup: "write a better law").
    pub task: String,
    /// The format requirements: how a solution and an answer must be written (Markdown
    /// under the `## Format Requirements` heading).
    pub format: String,
    /// The info string of the fenced block that holds a solution (`law`, `smiles`).
    pub block: String,
    /// What a solution is called (`law`, `molecule`).
    pub noun: String,
    /// When two solutions count as the same (the deduplication rule, as a clause that
    /// follows "two {noun}s are the same when"); empty: identical.
    pub same_form: String,
}

/// A solution as the model sees one it did not write: a `### Code` section with a fenced
/// block tagged `block`.
pub fn code_section(block: &str, solution: &str) -> String {
    format!("### Code\n\n```{block}\n{}\n```", solution.trim_end())
}

/// The whole conversation for one round: `shown` is in display order (worst first);
/// `rejected` lists the last round's failures that are not among them (one line each), so
/// that every failure is fed back once.
pub fn messages(brief: &Brief, shown: &[Shown], rejected: &[String]) -> Vec<Turn> {
    let turn = |role, content: String| Turn { role, content };
    let setup = format!(
        "## Problem Setup\n\n{}\n\n{}",
        brief.setup.trim_end(),
        brief.task.trim_end()
    );
    let mut out = vec![
        turn(Speaker::System, brief.system.trim_end().to_string()),
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
                    "The {} was rejected or aborted because of an error or an instability:\n\n\
                     {}\n\nFix it by analysing the information above.",
                    brief.noun,
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
    epilogue.push_str(&format_with_rule(brief, 1, FeedbackFormat::Sga));
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

    fn brief() -> Brief {
        Brief {
            system: "You write laws.".into(),
            setup: "### Context\n\nsand".into(),
            task: "### Task\n\nwrite a better law.".into(),
            format: "Write one ```law block.".into(),
            block: "law".into(),
            noun: "law".into(),
            same_form: String::new(),
        }
    }

    #[test]
    fn messages_follow_the_sga_order() {
        let shown = vec![
            Shown {
                content: code_section("law", "return F\n"),
                outcome: Err("parse: line 1".into()),
            },
            Shown {
                content: "### Step-by-Step Plan\n1.\n\n### Code\n```law\nreturn F\n```".into(),
                outcome: Ok("#### Loss".into()),
            },
        ];
        let m = messages(&brief(), &shown, &[]);
        let roles: Vec<Speaker> = m.iter().map(|t| t.role).collect();
        use Speaker::*;
        assert_eq!(
            roles,
            [
                System, User, Assistant, User, Assistant, User, User, Assistant
            ]
        );
        assert_eq!(m[0].content, "You write laws.");
        assert_eq!(
            m[1].content,
            "## Problem Setup\n\n### Context\n\nsand\n\n### Task\n\nwrite a better law."
        );
        assert_eq!(
            m[2].content,
            "## Iteration 1\n\n### Code\n\n```law\nreturn F\n```"
        );
        assert!(m[3].content.starts_with("The law was rejected or aborted"));
        assert!(m[3].content.contains("parse: line 1"));
        assert_eq!(m[5].content, "### Feedback\n\n#### Loss");
        assert_eq!(
            m[6].content,
            "## Format Requirements\n\nWrite one ```law block."
        );
        assert_eq!(m[7].content, "## Iteration 3");
        let m = messages(&brief(), &shown, &["#7 (parse): line 2".to_string()]);
        assert!(m[6].content.starts_with("## Rejected Last Round"));
        assert!(
            m[6].content
                .contains("- #7 (parse): line 2\n\n## Format Requirements")
        );
    }
}
