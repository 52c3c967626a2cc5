//! Property tests: `parse(print(p)) == p` for generated programs (well- and ill-typed),
//! arbitrary bytes never make the parser or checker panic, and checked programs evaluate
//! without panicking while ill-typed ones are rejected with a positioned error.

use ansatz_grammar::{
    BinOp, CmpOp, Expr, ExprKind, Name, Param, Program, Signature, Span, Stmt, check, parse,
    parse_bytes,
};
use nalgebra::Matrix3;
use proptest::prelude::*;

const VARS: &[&str] = &["F", "I", "pi", "p0", "p1", "v0", "v1", "U", "sigma", "Vh"];
const FUNCS: &[&str] = &[
    "exp", "log", "sqrt", "abs", "sigmoid", "tanh", "min", "max", "clamp", "where", "det", "inv",
    "trace", "diag", "diagonal", "sum", "prod", "norm", "dot", "outer", "sym", "skew", "dev",
    "vec3", "pow", "cbrt", "frob",
];

fn e(kind: ExprKind) -> Expr {
    Expr::new(kind, Span::default())
}

fn number() -> impl Strategy<Value = f64> {
    prop_oneof![
        (0u32..100).prop_map(f64::from),
        prop::num::f64::POSITIVE.prop_filter("finite", |x| x.is_finite()),
        Just(0.49),
        Just(1e-5),
        Just(3e4),
    ]
}

fn expr() -> impl Strategy<Value = Expr> {
    let leaf = prop_oneof![
        number().prop_map(|v| e(ExprKind::Num(v))),
        prop::sample::select(VARS).prop_map(|v| e(ExprKind::Var(v.to_string()))),
    ];
    leaf.prop_recursive(5, 48, 3, |inner| {
        let binop = prop::sample::select(vec![
            BinOp::Add,
            BinOp::Sub,
            BinOp::Mul,
            BinOp::Div,
            BinOp::MatMul,
            BinOp::Pow,
        ]);
        let cmp = prop::sample::select(vec![
            CmpOp::Lt,
            CmpOp::Le,
            CmpOp::Gt,
            CmpOp::Ge,
            CmpOp::Eq,
            CmpOp::Ne,
        ]);
        prop_oneof![
            inner.clone().prop_map(|a| e(ExprKind::Neg(Box::new(a)))),
            (binop, inner.clone(), inner.clone()).prop_map(|(op, a, b)| e(ExprKind::Binary(
                op,
                Box::new(a),
                Box::new(b)
            ))),
            (cmp, inner.clone(), inner.clone()).prop_map(|(op, a, b)| e(ExprKind::Compare(
                op,
                Box::new(a),
                Box::new(b)
            ))),
            (
                prop::sample::select(FUNCS),
                prop::collection::vec(inner.clone(), 0..4)
            )
                .prop_map(|(f, args)| e(ExprKind::Call(f.to_string(), args))),
            inner
                .clone()
                .prop_map(|a| e(ExprKind::Transpose(Box::new(a)))),
            (inner, prop::collection::vec(-3i64..3, 1..3))
                .prop_map(|(a, idx)| e(ExprKind::Index(Box::new(a), idx))),
        ]
    })
}

fn program() -> impl Strategy<Value = Program> {
    let params = prop::collection::vec(
        prop::num::f64::ANY
            .prop_filter("finite", |x| x.is_finite())
            .prop_map(|v| v),
        0..3,
    );
    let stmt = (prop::bool::ANY, expr()).prop_map(|(destructure, value)| (destructure, value));
    (params, prop::collection::vec(stmt, 0..3), expr()).prop_map(|(values, stmts, ret)| Program {
        params: values
            .into_iter()
            .enumerate()
            .map(|(i, value)| Param {
                name: format!("p{i}"),
                value,
                span: Span::default(),
            })
            .collect(),
        stmts: stmts
            .into_iter()
            .enumerate()
            .map(|(i, (destructure, value))| {
                let names: Vec<Name> = if destructure {
                    ["U", "sigma", "Vh"]
                        .iter()
                        .map(|n| Name {
                            name: format!("{n}{i}"),
                            span: Span::default(),
                        })
                        .collect()
                } else {
                    vec![Name {
                        name: format!("v{i}"),
                        span: Span::default(),
                    }]
                };
                Stmt {
                    names,
                    value,
                    span: Span::default(),
                }
            })
            .collect(),
        ret,
        ret_span: Span::default(),
    })
}

/// Well-typed programs built from the reference laws' vocabulary.
fn typed_program() -> impl Strategy<Value = String> {
    let scalar = prop::sample::select(vec![
        "det(F)",
        "trace(F)",
        "p0",
        "sum(sigma)",
        "norm(F)",
        "prod(sigma)",
        "2.5",
        "sigma[0]",
        "F[1, 2]",
    ]);
    let matrix = prop::sample::select(vec![
        "F",
        "I",
        "F @ F.T",
        "U @ Vh",
        "inv(F)",
        "dev(F)",
        "sym(F)",
        "U @ diag(log(max(sigma, 0.01))) @ Vh",
        "outer(sigma, sigma)",
    ]);
    (scalar.clone(), scalar, matrix.clone(), matrix, -2.0f64..2.0).prop_map(|(s1, s2, m1, m2, p)| {
        format!(
            "param p0 = {p}\nU, sigma, Vh = svd(F)\na = {s1} * {s2}\nb = where(a > 1, exp(-abs(a)), sigmoid(a))\nreturn b * ({m1}) + ({m2}) ** 2 - clamp({s1}, -1, 1) * I"
        )
    })
}

/// Regression (found by cargo-fuzz): a chain of unary minus near the height limit prints
/// with parentheses, `-(-(-x))`, and must still parse back.
#[test]
fn deep_negation_round_trips() {
    for depth in [10, 40, 47] {
        let src = format!("x = 1\nreturn {}F", "-".repeat(depth));
        let p = parse(&src).unwrap();
        let printed = p.to_string();
        assert_eq!(parse(&printed).unwrap(), p, "{printed}");
    }
    let crash = include_bytes!("regressions/fuzz-deep-negation.law");
    let p = parse_bytes(crash).unwrap();
    assert_eq!(parse(&p.to_string()).unwrap(), p);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn print_then_parse_is_identity(p in program()) {
        let text = p.to_string();
        let back = parse(&text);
        prop_assert!(back.is_ok(), "{}\n{:?}", text, back);
        prop_assert_eq!(back.unwrap(), p, "{}", text);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        if let Ok(p) = parse_bytes(&bytes) {
            let _ = check(&p, &Signature::elastic());
        }
    }

    #[test]
    fn token_soup_never_panics(tokens in prop::collection::vec(prop::sample::select(vec![
        "F", "I", "x", " = ", "(", ")", "[", "]", ",", ".T", ".", "@", "*", "**", "-", "+", "/", "<", "==", "\n", "return ",
        "param ", "1", "2.5e3", "svd(", "where(", "det(", "#", "^", ":", "torch.", "self.", "-1", "U, S, V = ",
    ]), 0..60)) {
        let src: String = tokens.concat();
        if let Ok(p) = parse(&src) {
            let text = p.to_string();
            prop_assert_eq!(parse(&text).ok(), Some(p.clone()), "{}", text);
            if let Ok(c) = check(&p, &Signature::elastic()) {
                let c = c.into_compiled();
                let _ = c.eval_mat3(&Matrix3::identity(), c.defaults(), &mut c.scratch());
            }
        }
    }

    #[test]
    fn generated_programs_are_checked_before_evaluation(p in program()) {
        match check(&p, &Signature::elastic()) {
            Ok(c) => {
                let c = c.into_compiled();
                let f = Matrix3::new(1.1, 0.1, 0.0, 0.0, 0.9, 0.2, 0.1, 0.0, 1.0);
                prop_assert!(c.eval_mat3(&f, c.defaults(), &mut c.scratch()).is_ok());
            }
            Err(e) => {
                prop_assert!(e.line >= 1 && e.column >= 1);
                prop_assert!(!e.message.is_empty() && !e.to_string().contains('\n'));
            }
        }
    }

    #[test]
    fn well_typed_programs_check_and_evaluate(src in typed_program()) {
        let p = parse(&src).unwrap();
        let c = check(&p, &Signature::elastic());
        prop_assert!(c.is_ok(), "{}\n{:?}", src, c.err());
        let c = c.unwrap().into_compiled();
        let out = c.eval_mat3(&Matrix3::identity(), c.defaults(), &mut c.scratch()).unwrap();
        prop_assert!(out.iter().all(|x| !x.is_nan()), "{}", src);
    }
}

/// A program built in code far deeper than the parser allows is refused by the checker
/// (no stack overflow).
#[test]
fn checker_refuses_very_deep_trees() {
    let mut e = Expr::new(ExprKind::Var("F".into()), Span::default());
    for _ in 0..100_000 {
        e = Expr::new(ExprKind::Neg(Box::new(e)), Span::default());
    }
    let p = Program {
        params: vec![],
        stmts: vec![],
        ret: e,
        ret_span: Span::default(),
    };
    let err = check(&p, &Signature::elastic()).unwrap_err();
    assert_eq!(err.kind, ansatz_grammar::ErrorKind::Limit);
    // Dropping a deep tree recurses too; leak it rather than overflow the test's stack.
    std::mem::forget(p);
}
