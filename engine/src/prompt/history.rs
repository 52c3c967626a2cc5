//! The default format's conversation: the shown solutions stated as "the k best of N
//! fitted so far, worst first", then one line for every other solution tried (within
//! [`OTHERS_BUDGET`]), then the format requirements with one rule for how many blocks.

use super::{Brief, FeedbackFormat, Shown, Speaker, Turn, format_with_rule};

/// Most bytes of the list of other solutions tried; the lines past it are counted, not
/// shown.
pub const OTHERS_BUDGET: usize = 12 * 1024;

/// What the default format tells besides the shown solutions.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct History {
    /// Solutions with a finite fitness so far.
    pub fitted: usize,
    /// Every solution tried so far (the starting one and the failures included).
    pub tried: usize,
    /// How many of the shown solutions failed (shown because too few were fitted).
    pub shown_failed: usize,
    /// One line for each other solution tried (Markdown, may span lines), in the order
    /// shown: the last round's failures, then the fitted ones best first, then older
    /// failures.
    pub others: Vec<String>,
    /// How many solutions each answer holds.
    pub per_reply: usize,
    /// The loss at which the run stops, if it has a target.
    pub target: Option<f64>,
    /// The lowest loss so far.
    pub best: Option<f64>,
    /// This round and the run's last round (`None`: not known).
    pub round_of: Option<(usize, usize)>,
}

impl History {
    /// The sentence that says what the shown solutions are.
    pub fn preface(&self, brief: &Brief, shown: usize) -> String {
        let noun = &brief.noun;
        let ok = shown - self.shown_failed.min(shown);
        let same = if brief.same_form.is_empty() {
            "they are identical"
        } else {
            brief.same_form.as_str()
        };
        let mut s = format!(
            "The iterations below are the {ok} best of the {} {noun}s fitted so far ({} tried in \
             all), shown worst first and best last, no two the same; a {noun} the same as one \
             tried before is not evaluated again (two {noun}s are the same when {same}).",
            self.fitted, self.tried
        );
        if self.shown_failed > 0 {
            s.push_str(&format!(
                " Since few {noun}s were fitted, the {} most recent failures are shown too.",
                self.shown_failed
            ));
        }
        if !self.others.is_empty() {
            s.push_str(&format!(
                " The other {noun}s tried are listed after them, one line each."
            ));
        }
        if let Some((round, rounds)) = self.round_of {
            s.push_str(&format!(" This is round {round} of at most {rounds}."));
        }
        if let Some(target) = self.target {
            s.push_str(&format!(
                " The search stops when a {noun}'s loss reaches {target:.3e} (its target)"
            ));
            match self.best {
                Some(best) => s.push_str(&format!("; the lowest so far is {best:.3e}.")),
                None => s.push('.'),
            }
        }
        s
    }
}

/// The whole conversation of one round in the default format (see [`History`]): the
/// system prompt; the setup, the round's task and what the shown solutions are; each shown
/// solution (worst first) and its feedback; the other solutions tried; the format
/// requirements; the trailing `## Iteration N`.
pub fn messages_full(brief: &Brief, shown: &[Shown], history: &History) -> Vec<Turn> {
    let turn = |role, content: String| Turn { role, content };
    let setup = format!(
        "## Problem Setup\n\n{}\n\n{}\n\n{}",
        brief.setup.trim_end(),
        brief.task.trim_end(),
        history.preface(brief, shown.len())
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
    if !history.others.is_empty() {
        epilogue.push_str(&format!(
            "## Other {noun}s Tried\n\nThe {} other {noun}s tried so far (#id, then the loss or \
             the failure; a {noun} is named by its first comment line or its first line):\n\n",
            history.others.len(),
            noun = brief.noun
        ));
        let mut used = 0;
        for (k, line) in history.others.iter().enumerate() {
            let line = line.trim_end();
            if used + line.len() + 3 > OTHERS_BUDGET {
                epilogue.push_str(&format!(
                    "- ... and {} more, not listed (the prompt's budget)\n",
                    history.others.len() - k
                ));
                break;
            }
            used += line.len() + 3;
            epilogue.push_str("- ");
            epilogue.push_str(line);
            epilogue.push('\n');
        }
        epilogue.push('\n');
    }
    epilogue.push_str("## Format Requirements\n\n");
    epilogue.push_str(&format_with_rule(
        brief,
        history.per_reply,
        FeedbackFormat::Full,
    ));
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
            format: "3. \"### Code\": {blocks}:".into(),
            block: "law".into(),
            noun: "law".into(),
            same_form: String::new(),
        }
    }

    #[test]
    fn the_history_states_k_of_n_and_lists_the_others_within_the_budget() {
        let shown = vec![Shown {
            content: "### Code\n\n```law\nreturn F\n```".into(),
            outcome: Ok("loss 1e-5".into()),
        }];
        let others: Vec<String> = (0..2000)
            .map(|i| format!("#{i} loss 1e-3: `# law number {i}`"))
            .collect();
        let history = History {
            fitted: 40,
            tried: 2001,
            shown_failed: 0,
            others,
            per_reply: 8,
            target: Some(2.5e-13),
            best: Some(3.25e-8),
            round_of: Some((2, 4)),
        };
        let m = messages_full(&brief(), &shown, &history);
        assert!(
            m[1].content
                .contains("the 1 best of the 40 laws fitted so far (2001 tried in all)"),
            "{}",
            m[1].content
        );
        assert!(
            m[1].content.contains(
                "This is round 2 of at most 4. The search stops when a law's loss reaches \
                 2.500e-13 (its target); the lowest so far is 3.250e-8."
            ),
            "{}",
            m[1].content
        );
        let epilogue = &m[4].content;
        assert!(epilogue.starts_with("## Other laws Tried"));
        assert!(epilogue.contains("- #0 loss 1e-3: `# law number 0`\n"));
        assert!(epilogue.contains("more, not listed"));
        assert!(epilogue.len() < OTHERS_BUDGET + 1024, "{}", epilogue.len());
        assert!(epilogue.contains("exactly 8 fenced blocks tagged `law`"));
        assert!(!epilogue.contains("exactly one"));
        assert_eq!(m[5].content, "## Iteration 2");
    }
}
