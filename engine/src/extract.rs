//! Finding the solution in a proposer's reply.
//!
//! A reply is Markdown: an analysis, a plan, and a code section holding the solution in a
//! fenced block. As in the SGA reference, the **last** solution block counts. A block is
//! fenced with three or more backticks (or tildes); its info string must be the problem's
//! tag (`law`, `smiles`) or empty. A reply with only blocks in another language (say
//! `python`) is answered with an error that says so, because that is the mistake a model
//! makes and can fix.

/// The fenced block a problem's solutions are written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fence<'a> {
    /// The block's info string (`law`).
    pub tag: &'a str,
    /// What a solution is called (`law`).
    pub noun: &'a str,
    /// The language it is written in (`the law language`).
    pub language: &'a str,
}

/// The parts of a reply the search keeps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Extracted {
    /// The solution's source (the inside of the last solution block, with a final newline).
    pub body: String,
    /// The reply from its "### Step-by-Step Plan" heading (or its "### Code" heading when
    /// there is no plan, or the law block alone) to its end: what later prompts show of it.
    pub shown: String,
}

/// A fenced block found in a reply.
struct Block<'a> {
    info: &'a str,
    body: String,
    closed: bool,
    /// Byte offset of the opening fence line.
    start: usize,
}

/// Extracts the last solution block of `reply`, or says in one line why there is none.
pub fn extract(reply: &str, fence: &Fence<'_>) -> Result<Extracted, String> {
    let Fence {
        tag,
        noun,
        language,
    } = *fence;
    let blocks = blocks(reply);
    let Some(block) = blocks
        .iter()
        .rev()
        .find(|b| b.info.is_empty() || b.info.eq_ignore_ascii_case(tag))
    else {
        return Err(match blocks.last() {
            Some(b) => format!(
                "the reply has a ```{} block but no ```{tag} block: write the {noun} in \
                 {language} inside one ```{tag} fenced block",
                b.info
            ),
            None => format!(
                "no code generated: the reply must end with the {noun} in one ```{tag} fenced \
                 block (see the format requirements)"
            ),
        });
    };
    if !block.closed {
        return Err(format!(
            "the last ```{tag} block is not closed with ``` (was the reply cut off?)"
        ));
    }
    if block.body.trim().is_empty() {
        return Err(format!("the last ```{tag} block is empty"));
    }
    let shown_from = ["### Step-by-Step Plan", "### Code"]
        .iter()
        .filter_map(|h| heading_before(reply, h, block.start))
        .min()
        .unwrap_or(block.start);
    Ok(Extracted {
        body: block.body.clone(),
        shown: reply[shown_from..].trim_end().to_string(),
    })
}

/// Byte offset of the last line equal to `heading` that starts before `limit`.
fn heading_before(reply: &str, heading: &str, limit: usize) -> Option<usize> {
    let mut found = None;
    let mut offset = 0;
    for line in reply.split_inclusive('\n') {
        if offset >= limit {
            break;
        }
        if line.trim_end() == heading {
            found = Some(offset);
        }
        offset += line.len();
    }
    found
}

/// Every fenced block, in order (CommonMark-style fences: a line starting with at least
/// three backticks or tildes, closed by a line of at least as many of the same character).
fn blocks(reply: &str) -> Vec<Block<'_>> {
    let mut out = Vec::new();
    let mut open: Option<(char, usize, Block<'_>)> = None;
    let mut offset = 0;
    for line in reply.split_inclusive('\n') {
        let here = offset;
        offset += line.len();
        let trimmed = line.trim_start_matches(' ');
        let text = trimmed.trim_end_matches(['\n', '\r']);
        let fence = |c: char| text.chars().take_while(|&x| x == c).count();
        match &mut open {
            Some((c, n, block)) => {
                let run = fence(*c);
                if run >= *n && text[run..].trim().is_empty() {
                    let (_, _, mut block) = open.take().expect("a block is open");
                    block.closed = true;
                    out.push(block);
                } else {
                    block.body.push_str(text);
                    block.body.push('\n');
                }
            }
            None => {
                for c in ['`', '~'] {
                    let run = fence(c);
                    if run >= 3 {
                        let info = text[run..].trim();
                        let info = info.split_whitespace().next().unwrap_or("");
                        if c == '`' && info.contains('`') {
                            continue;
                        }
                        open = Some((
                            c,
                            run,
                            Block {
                                info,
                                body: String::new(),
                                closed: false,
                                start: here,
                            },
                        ));
                        break;
                    }
                }
            }
        }
    }
    if let Some((_, _, block)) = open {
        out.push(block);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const LAW: Fence<'static> = Fence {
        tag: "law",
        noun: "law",
        language: "the law language",
    };

    fn extract(reply: &str) -> Result<Extracted, String> {
        super::extract(reply, &LAW)
    }

    #[test]
    fn the_last_law_block_wins_and_the_plan_is_kept() {
        let reply = "### Analysis\nblah\n\n### Step-by-Step Plan\n1. do it\n\n### Code\n\
                     ```law\nreturn F\n```\nthen\n```law\nparam k = 1\nreturn k * F\n```\n";
        let e = extract(reply).unwrap();
        assert_eq!(e.body, "param k = 1\nreturn k * F\n");
        assert!(e.shown.starts_with("### Step-by-Step Plan\n1. do it"));
        assert!(e.shown.ends_with("return k * F\n```"));
        assert!(!e.shown.contains("Analysis"));
    }

    #[test]
    fn untagged_blocks_count_and_other_languages_are_named() {
        let e = extract("text\n```\nreturn F\n```\n").unwrap();
        assert_eq!(e.body, "return F\n");
        assert_eq!(e.shown, "```\nreturn F\n```");
        let err = extract("### Code\n```python\nclass Physics: pass\n```").unwrap_err();
        assert!(err.contains("```python block but no ```law block"), "{err}");
    }

    #[test]
    fn missing_unclosed_and_empty_blocks_are_errors() {
        assert!(
            extract("I think the law is F.")
                .unwrap_err()
                .contains("no code")
        );
        assert!(
            extract("```law\nreturn F\n")
                .unwrap_err()
                .contains("not closed")
        );
        assert!(extract("```law\n\n```\n").unwrap_err().contains("empty"));
        assert!(extract("").is_err());
    }

    #[test]
    fn longer_fences_and_tildes_nest_shorter_ones() {
        let reply = "````law\n# a comment with ``` inside\nreturn F\n````\n~~~law\nreturn I\n~~~";
        let e = extract(reply).unwrap();
        assert_eq!(e.body, "return I\n");
        let e = extract("````law\nx = F\n```\nreturn x\n````").unwrap();
        assert_eq!(e.body, "x = F\n```\nreturn x\n");
    }

    #[test]
    fn arbitrary_text_never_panics() {
        for s in [
            "```",
            "````\n",
            "```law",
            "\n```law\n```",
            "~~~\n```\n~~~",
            "é```law\né\n```",
        ] {
            let _ = extract(s);
        }
    }
}
