//! Malformed programs of the kinds language models write: each gives the exact one-line
//! error below (line, column, what is wrong and how to fix it), and never evaluates.

use ansatz_grammar::{Signature, check, parse_bytes};

enum Src {
    Text(&'static str),
    Bytes(&'static [u8]),
    Big80k,
    Deep,
}

const CASES: &[(&str, Src, &str)] = &[
    (
        "missing_return",
        Src::Text("param mu = 1.0\ntau = mu * F\n"),
        "line 3, column 1: missing 'return': the program must end with `return EXPR` (e.g. `return tau`)",
    ),
    (
        "bare_last",
        Src::Text("param mu = 1.0\nmu * F\n"),
        "line 2, column 1: missing 'return': the last line is an expression; write `return` before it",
    ),
    (
        "unknown_fn",
        Src::Text("return frobnicate(F)\n"),
        "line 1, column 8: unknown function 'frobnicate'; the functions are exp, log, sqrt, cbrt, abs, sigmoid, tanh, log1p, expm1, sin, cos, pow, min, max, clamp, where, det, inv, trace, transpose, diag, diagonal, sum, prod, mean, norm, dot, outer, svd, polar, sym, skew, dev, vec3",
    ),
    (
        "shape",
        Src::Text("return F @ sum(F)\n"),
        "line 1, column 10: '@' needs mat3 @ mat3, mat3 @ vec3, vec3 @ mat3 or vec3 @ vec3, got mat3 @ scalar; use * to scale by a scalar",
    ),
    (
        "unbalanced_open",
        Src::Text("J = det(F\nreturn J * I\n"),
        "line 1, column 8: unbalanced '(': the call det( is not closed before line 2",
    ),
    (
        "unbalanced_close",
        Src::Text("J = det(F))\nreturn J * I\n"),
        "line 1, column 11: unbalanced ')': there is no matching '('",
    ),
    (
        "torch",
        Src::Text("return torch.det(F) * I\n"),
        "line 1, column 8: unknown function 'torch.det': the language has no modules; write det(...)",
    ),
    (
        "self",
        Src::Text("return self.mu * F\n"),
        "line 1, column 8: 'self.mu': there is no self; declare `param mu = VALUE` and write mu",
    ),
    (
        "too_many_params",
        Src::Text(
            "param p0 = 1.0\nparam p1 = 1.0\nparam p2 = 1.0\nparam p3 = 1.0\nparam p4 = 1.0\nparam p5 = 1.0\nparam p6 = 1.0\nparam p7 = 1.0\nparam p8 = 1.0\nreturn p0 * F\n",
        ),
        "line 9, column 1: too many parameters: at most 8 `param` declarations are allowed; turn the others into constants",
    ),
    (
        "80kB",
        Src::Big80k,
        "line 1, column 1: the program is 80015 bytes, more than the limit of 16384 bytes; write one short closed-form law",
    ),
    (
        "def",
        Src::Text("def forward(self, F):\n    return F\n"),
        "line 1, column 1: no function definitions ('def'): write the law at top level as `param` lines, `name = expr` lines and a final `return expr`; the input is F",
    ),
    (
        "import",
        Src::Text("import torch\nreturn F\n"),
        "line 1, column 1: no 'import': the functions (exp, log, det, svd, ...) are built in; remove this line",
    ),
    (
        "dot_t",
        Src::Text("return F.t()\n"),
        "line 1, column 9: '.t()' is not supported: write x.T for the transpose",
    ),
    (
        "caret",
        Src::Text("return F^2\n"),
        "line 1, column 9: '^' is not a power operator; write a ** b or pow(a, b)",
    ),
    (
        "for",
        Src::Text("for i in range(3):\n    x = 1\nreturn F\n"),
        "line 1, column 1: no loops ('for'): operators act on whole vectors and matrices; write the computation elementwise or unroll it",
    ),
    (
        "if",
        Src::Text("J = det(F)\nif J > 1:\n    J = 1\nreturn J * I\n"),
        "line 2, column 1: no if statements ('if'): select values with where(cond, a, b)",
    ),
    (
        "dup_param",
        Src::Text("param mu = 1.0\nparam mu = 2.0\nreturn mu * F\n"),
        "line 2, column 1: 'mu' is already bound at line 1; every name is bound once, choose a new name (e.g. mu2)",
    ),
    (
        "wrong_return",
        Src::Text("return det(F)\n"),
        "line 1, column 8: the program returns scalar but the task signature `F: mat3 -> mat3` needs mat3",
    ),
    (
        "svd_not_destructured",
        Src::Text("x = svd(F)\nreturn F\n"),
        "line 1, column 5: svd returns 3 values; destructure them on their own line: U, sigma, Vh = svd(F)",
    ),
    (
        "svd_arity",
        Src::Text("U, S = svd(F)\nreturn U\n"),
        "line 1, column 8: svd returns 3 values but 2 names are given; write U, sigma, Vh = svd(F)",
    ),
    (
        "stray_brace",
        Src::Text("return F }\n"),
        "line 1, column 10: unexpected '}': there are no blocks or braces in the language",
    ),
    (
        "unicode",
        Src::Text("return σ * F\n"),
        "line 1, column 8: unexpected character 'σ' (U+03C3): names must be ASCII letters, digits and _; write sigma",
    ),
    (
        "empty",
        Src::Text(""),
        "line 1, column 1: the program is empty; write `param` lines, `name = expr` lines and a final `return expr` (e.g. `return F`)",
    ),
    (
        "return_not_last",
        Src::Text("return F\nx = 1\n"),
        "line 2, column 1: 'return' must be the last statement (it is at line 1); move this line above the return",
    ),
    (
        "reuse",
        Src::Text("J = det(F)\nJ = J + 1\nreturn J * I\n"),
        "line 2, column 1: 'J' is already bound at line 1; every name is bound once, choose a new name (e.g. J2)",
    ),
    (
        "unknown_name",
        Src::Text("mu = 1\nreturn mu * F @ Fe\n"),
        "line 2, column 17: unknown name 'Fe' (did you mean 'F'?)",
    ),
    (
        "arity",
        Src::Text("return det(F, F) * I\n"),
        "line 1, column 8: det takes 1 argument, got 2: det(A: mat3) -> scalar",
    ),
    (
        "torch_linalg",
        Src::Text("return torch.linalg.svd(F)\n"),
        "line 1, column 8: unknown function 'torch.linalg.svd': the language has no modules; write svd(...)",
    ),
    (
        "transpose",
        Src::Text("return F.transpose(0, 1)\n"),
        "line 1, column 9: '.transpose()' is not supported: write x.T for the transpose",
    ),
    (
        "np",
        Src::Text("return np.exp(F)\n"),
        "line 1, column 8: unknown function 'np.exp': the language has no modules; write exp(...)",
    ),
    (
        "and",
        Src::Text("return where(det(F) > 1 and det(F) < 2, F, I)\n"),
        "line 1, column 25: no boolean operators ('and'): nest where(...) to combine conditions",
    ),
    (
        "bad_utf8",
        Src::Bytes(b"\xff\xfe"),
        "line 1, column 1: the source is not valid UTF-8 (byte 0xFF); write plain ASCII text",
    ),
    (
        "deep",
        Src::Deep,
        "line 1, column 152: expression nested more than 48 levels deep; split it into named steps (`a = ...`)",
    ),
    (
        "mat_vec_mul",
        Src::Text("mu = 1\nreturn mu * F * vec3(1,2,3)\n"),
        "line 2, column 15: '*' needs operands of the same shape or a scalar, got mat3 * vec3; use @ for a matrix-vector product",
    ),
    (
        "vec_result",
        Src::Text("return F.T.T @ exp(F)[0]\n"),
        "line 1, column 14: the program returns vec3 but the task signature `F: mat3 -> mat3` needs mat3",
    ),
    (
        "use_before",
        Src::Text("eps = log(sigma)\nreturn F\n"),
        "line 1, column 11: unknown name 'sigma': get the signed SVD with U, sigma, Vh = svd(F)",
    ),
    (
        "2F",
        Src::Text("x = 2F\nreturn F\n"),
        "line 1, column 6: missing operator after the number 2; write 2 * x",
    ),
    (
        "kwarg",
        Src::Text("return max(F, dim=0)\n"),
        "line 1, column 15: keyword arguments ('dim=') are not supported; pass arguments by position: max(...)",
    ),
];

fn error_of(src: &Src) -> String {
    let bytes: Vec<u8> = match src {
        Src::Text(t) => t.as_bytes().to_vec(),
        Src::Bytes(b) => b.to_vec(),
        Src::Deep => {
            format!("x = {}1{}\nreturn F\n", "(".repeat(200), ")".repeat(200)).into_bytes()
        }
        Src::Big80k => format!("{}1\nreturn x * F\n", "x = 1.0 + ".repeat(8000)).into_bytes(),
    };
    match parse_bytes(&bytes).and_then(|p| check(&p, &Signature::elastic())) {
        Ok(_) => "OK".to_string(),
        Err(e) => {
            let rendered = e.render();
            assert!(rendered.starts_with(&e.to_string()));
            e.to_string()
        }
    }
}

#[test]
fn malformed_programs_give_one_line_actionable_errors() {
    let mut failures = Vec::new();
    for (name, src, expected) in CASES {
        let got = error_of(src);
        assert!(!got.contains('\n'), "{name}: not one line: {got}");
        if got != *expected {
            failures.push(format!(
                "{name}:\n  expected: {expected}\n  got:      {got}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(CASES.len() >= 20);
}
