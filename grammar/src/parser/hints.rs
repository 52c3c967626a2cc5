//! Targeted messages for the Python/PyTorch habits language models bring into the
//! language: keywords, module paths, `self.`, methods, stray brackets.

use crate::builtins;

/// The Python words the parser rejects, with a hint, wherever they stand (every one has an
/// [`expression_keyword`] message; a test checks it).
pub(crate) const PYTHON_WORDS: &[&str] = &[
    "def", "import", "from", "class", "for", "while", "if", "elif", "else", "lambda", "with",
    "try", "except", "finally", "assert", "raise", "pass", "global", "nonlocal", "del", "yield",
    "async", "await", "print", "break", "continue", "and", "or", "not", "in", "True", "False",
    "None",
];

/// A message for a Python keyword that starts a statement, if `word` is one.
pub(crate) fn statement_keyword(word: &str) -> Option<String> {
    Some(match word {
        "def" => "no function definitions ('def'): write the law at top level as `param` lines, `name = expr` lines and a final `return expr`; the input is F".into(),
        "import" | "from" => format!("no '{word}': the functions (exp, log, det, svd, ...) are built in; remove this line"),
        "class" => "no classes: declare parameters with `param NAME = VALUE` and write the law at top level".into(),
        "for" | "while" => format!("no loops ('{word}'): operators act on whole vectors and matrices; write the computation elementwise or unroll it"),
        "if" | "elif" | "else" => format!("no if statements ('{word}'): select values with where(cond, a, b)"),
        "lambda" => "no lambdas or user functions: bind intermediate values with `name = expr`".into(),
        "with" | "try" | "except" | "finally" | "assert" | "raise" | "pass" | "global" | "nonlocal" | "del" | "yield" | "async" | "await" | "print" | "break" | "continue" => {
            format!("'{word}' is not part of the language: a law is `param` lines, `name = expr` lines and a final `return expr`")
        }
        _ => return None,
    })
}

/// A message for a keyword in expression position, if `word` is one.
pub(crate) fn expression_keyword(word: &str) -> Option<String> {
    Some(match word {
        "param" | "return" => format!("'{word}' can only start a statement"),
        "if" | "else" => "no conditional expressions: use where(cond, a, b)".into(),
        "and" | "or" | "not" => {
            format!("no boolean operators ('{word}'): nest where(...) to combine conditions")
        }
        "True" | "False" | "None" => {
            format!("no '{word}' values: conditions appear only inside where(a > b, x, y)")
        }
        "lambda" | "def" => {
            "no lambdas or user functions: bind intermediate values with `name = expr`".into()
        }
        "for" | "in" => {
            "no loops or comprehensions: operators act on whole vectors and matrices".into()
        }
        _ => statement_keyword(word)?,
    })
}

/// `x.a.b` where `x` is a name: module paths, `self.`, or methods on a value.
pub(crate) fn dotted(head: &str, path: &[String], called: bool) -> String {
    let full = format!("{head}.{}", path.join("."));
    let last = path.last().map_or("", String::as_str);
    match head {
        "self" => {
            format!("'{full}': there is no self; declare `param {last} = VALUE` and write {last}")
        }
        _ if is_module_head(head) => {
            let fix = if builtins::function(last).is_some() {
                format!("write {last}(...)")
            } else if let Some(alias) = builtins::alias(last) {
                format!("use {alias}")
            } else if matches!(last, "pi") {
                "write pi".to_string()
            } else if builtins::CONSTANTS.contains(&last) {
                format!("write {last}")
            } else {
                "see the reference card for the available functions".to_string()
            };
            let what = if called {
                "unknown function"
            } else {
                "unknown name"
            };
            format!("{what} '{full}': the language has no modules; {fix}")
        }
        _ => method(last, called),
    }
}

/// True for names that start a module path or `self.` in Python code.
pub(crate) fn is_module_head(head: &str) -> bool {
    matches!(
        head,
        "self"
            | "torch"
            | "np"
            | "numpy"
            | "math"
            | "linalg"
            | "nn"
            | "jnp"
            | "sp"
            | "scipy"
            | "tf"
            | "wp"
    )
}

/// `expr.name` or `expr.name(...)` where `name` is not `T`.
pub(crate) fn method(name: &str, called: bool) -> String {
    match name {
        "t" | "transpose" | "permute" | "swapaxes" => format!(
            "'.{name}{}' is not supported: write x.T for the transpose",
            if called { "()" } else { "" }
        ),
        "shape" | "size" | "dim" | "ndim" => {
            "shapes are fixed (scalar, vec3, mat3); there is no .shape/.size".into()
        }
        "view" | "reshape" | "unsqueeze" | "squeeze" | "expand" | "repeat" | "flatten" => {
            format!(
                "no reshaping ('.{name}'): values are scalar, vec3 or mat3; use diag(v), diagonal(A), vec3(a, b, c)"
            )
        }
        "item" | "float" | "double" | "detach" | "clone" | "to" | "cpu" | "contiguous" => {
            format!("'.{name}()' is not needed: remove it")
        }
        _ if called && builtins::function(name).is_some() => {
            format!("methods are not supported: write {name}(x) instead of x.{name}()")
        }
        _ if called => match builtins::alias(name) {
            Some(alias) => format!("methods are not supported ('.{name}()'): use {alias}"),
            None => format!(
                "methods are not supported ('.{name}()'); the only attribute is .T (transpose)"
            ),
        },
        _ => format!("no attribute '.{name}': the only attribute is .T (transpose)"),
    }
}

/// A stray closing bracket.
pub(crate) fn unbalanced_close(c: char) -> String {
    let open = match c {
        ')' => '(',
        ']' => '[',
        _ => '{',
    };
    if c == '}' {
        "unexpected '}': there are no blocks or braces in the language".to_string()
    } else {
        format!("unbalanced '{c}': there is no matching '{open}'")
    }
}

/// A `:` after a name (type annotation or block header).
pub(crate) fn colon() -> String {
    "unexpected ':': no type annotations or blocks; a statement is `name = expr`".to_string()
}

/// Describes the token at the start of `i` for messages.
pub(crate) fn describe(i: &str) -> String {
    match i.chars().next() {
        None => "the end of the program".to_string(),
        Some('\n') => "the end of the line".to_string(),
        Some(c) if c.is_ascii_alphabetic() || c == '_' => {
            let word: String = i
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            format!("name '{word}'")
        }
        Some(c) if c.is_ascii_digit() => "a number".to_string(),
        Some(c) if c.is_ascii_graphic() => format!("'{c}'"),
        Some(c) => format!("character {c:?} (U+{:04X})", c as u32),
    }
}

/// What is wrong when an expression was expected at `i`.
pub(crate) fn not_an_expression(i: &str) -> String {
    let c = i.chars().next().unwrap_or(' ');
    match c {
        ')' | ']' | '}' => unbalanced_close(c),
        '[' => "list literals are not supported; use vec3(a, b, c) for a vector".into(),
        '{' => "unexpected '{': there are no blocks, sets or dicts in the language".into(),
        '"' | '\'' => "strings are not supported".into(),
        '=' => "unexpected '='; an expression was expected (comparisons are ==, <, <=, >, >=, != inside where)".into(),
        '*' | '/' | '@' | '<' | '>' | '!' | '^' | '%' | '&' | '|' | ',' | '.' | ':' | ';' => {
            format!("unexpected '{c}'; expected an expression (a number, a name, a call or '(')")
        }
        c if !c.is_ascii() && c.is_alphabetic() => {
            let ascii = match c {
                'σ' | 'Σ' => "; write sigma",
                'λ' => "; write la",
                'μ' => "; write mu",
                'ν' => "; write nu",
                'ε' | 'ϵ' => "; write eps",
                'τ' => "; write tau",
                'α' => "; write alpha",
                'γ' => "; write gamma",
                'π' => "; write pi",
                _ => "",
            };
            format!("unexpected character '{c}' (U+{:04X}): names must be ASCII letters, digits and _{ascii}", c as u32)
        }
        _ => format!("unexpected {}; expected an expression", describe(i)),
    }
}

/// A message for a Python keyword found right after a complete expression, if any.
pub(crate) fn keyword_after_expression(i: &str) -> Option<String> {
    let word: String = i
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    Some(match word.as_str() {
        "if" | "else" => "no conditional expressions ('a if c else b'): use where(c, a, b)".into(),
        "and" | "or" => {
            format!("no boolean operators ('{word}'): nest where(...) to combine conditions")
        }
        "for" => "no loops or comprehensions: operators act on whole vectors and matrices".into(),
        _ => return None,
    })
}

/// What is wrong with text after a complete statement.
pub(crate) fn trailing(i: &str) -> String {
    let c = i.chars().next().unwrap_or(' ');
    let word: String = i
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    match c {
        ')' | ']' | '}' => unbalanced_close(c),
        '^' => "'^' is not a power operator; write a ** b or pow(a, b)".into(),
        ':' => colon(),
        '=' => "unexpected '=': chained assignment is not supported, and comparisons (==) only appear inside where(...)".into(),
        ',' => "unexpected ',': tuples are not supported (a binding names one value, or destructures svd/polar)".into(),
        '(' => "unexpected '(' after a complete expression (missing operator?)".into(),
        '&' | '|' | '!' | '~' => format!("'{c}' is not supported: conditions appear only inside where(a > b, x, y)"),
        _ if word == "if" || word == "else" => "no conditional expressions ('a if c else b'): use where(c, a, b)".into(),
        _ if word == "and" || word == "or" => format!("no boolean operators ('{word}'): nest where(...) to combine conditions"),
        _ if word == "for" => "no loops or comprehensions: operators act on whole vectors and matrices".into(),
        _ if !word.is_empty() => format!("unexpected {} after a complete expression (missing operator?)", describe(i)),
        _ => format!("unexpected {} after a complete expression", describe(i)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_python_word_has_a_hint() {
        for w in PYTHON_WORDS {
            assert!(expression_keyword(w).is_some(), "{w}");
        }
    }
}
