//! Tokens of the edit format `<inc> [x]\n[y]` (notes §3.2 step 4).
//!
//! The vocabulary is the v states of the Ehrlich alphabet (token id = state) followed by five
//! format tokens. JSON's `", "` separators are implied between state tokens; [`Vocab::render`]
//! writes them back so a generated target reads exactly like `json.dumps(y)` and is parsed with
//! [`ansatz_ehrlich::parse_sequence`], as the released pipeline parses with `json.loads`.

/// Token ids for an alphabet of `num_states` symbols.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Vocab {
    num_states: u32,
}

impl Vocab {
    /// A vocabulary over symbols 0..num_states.
    pub fn new(num_states: usize) -> Self {
        Vocab {
            num_states: num_states as u32,
        }
    }
    /// Number of Ehrlich states v.
    pub fn num_states(&self) -> usize {
        self.num_states as usize
    }
    /// Total number of tokens (v + 5).
    pub fn size(&self) -> usize {
        self.num_states as usize + 5
    }
    /// `[`.
    pub fn open(&self) -> u32 {
        self.num_states
    }
    /// `]`.
    pub fn close(&self) -> u32 {
        self.num_states + 1
    }
    /// `<inc>`: the instruction "increase the score".
    pub fn inc(&self) -> u32 {
        self.num_states + 2
    }
    /// The newline between prompt and target.
    pub fn newline(&self) -> u32 {
        self.num_states + 3
    }
    /// Padding (never a training target).
    pub fn pad(&self) -> u32 {
        self.num_states + 4
    }
    /// Prompt tokens `<inc> [x]\n` (length L + 4).
    pub fn prompt(&self, x: &[u32]) -> Vec<u32> {
        let mut t = Vec::with_capacity(x.len() + 4);
        t.push(self.inc());
        t.push(self.open());
        t.extend_from_slice(x);
        t.push(self.close());
        t.push(self.newline());
        t
    }
    /// Target tokens `[y]` (length L + 2).
    pub fn target(&self, y: &[u32]) -> Vec<u32> {
        let mut t = Vec::with_capacity(y.len() + 2);
        t.push(self.open());
        t.extend_from_slice(y);
        t.push(self.close());
        t
    }
    /// Text of a token list, in the notes' format (`<inc> [3, 16]\n[3, 17]`).
    pub fn render(&self, tokens: &[u32]) -> String {
        let mut s = String::new();
        let mut prev_state = false;
        for &t in tokens {
            let is_state = t < self.num_states;
            if is_state && prev_state {
                s.push_str(", ");
            }
            match t {
                t if is_state => s.push_str(&t.to_string()),
                t if t == self.open() => s.push('['),
                t if t == self.close() => s.push(']'),
                t if t == self.inc() => s.push_str("<inc> "),
                t if t == self.newline() => s.push('\n'),
                _ => s.push_str("<pad>"),
            }
            prev_state = is_state;
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_matches_the_notes_format() {
        let v = Vocab::new(32);
        let mut t = v.prompt(&[3, 16]);
        t.extend(v.target(&[3, 17]));
        assert_eq!(v.render(&t), "<inc> [3, 16]\n[3, 17]");
        assert_eq!(v.size(), 37);
    }
}
