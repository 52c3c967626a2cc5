//! Size limits that keep every program small, fast to check and safe to parse.

/// Limits on a program; each one exceeded is a clear [`crate::ErrorKind::Limit`] error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Source size in bytes.
    pub max_bytes: usize,
    /// Statements (parameters, bindings and the return).
    pub max_statements: usize,
    /// Expression nodes in the whole program.
    pub max_nodes: usize,
    /// Declared parameters (gradients use `DualSVec64<N>` with N at most 8).
    pub max_params: usize,
    /// Nesting depth of expressions (parentheses, calls, operators).
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 16 * 1024,
            max_statements: 200,
            max_nodes: 4000,
            max_params: 8,
            max_depth: 48,
        }
    }
}

impl Limits {
    /// The default limits with a different parameter cap.
    pub fn with_max_params(mut self, max_params: usize) -> Self {
        self.max_params = max_params;
        self
    }
}
