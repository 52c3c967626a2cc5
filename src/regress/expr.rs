//! Scalar expression trees: the compact form the tabular search works on.
//!
//! An [`Expr`] is a tree over input columns ([`Node::Var`]), fitted constants
//! ([`Node::Param`], values in [`Expr::params`]) and fixed numbers ([`Node::Num`]). It is
//! evaluated column-wise (every operator over all rows at once) in `f64` or in a
//! forward-mode dual number ([`num_dual::Dual64`]), one pass per parameter for the
//! gradient. Every tree prints as a law program of the law language ([`Expr::law`]), as a
//! SymPy expression ([`Expr::sympy`]) and as LaTeX ([`Expr::latex`]), all over the column
//! names; the law program is what the ledger, the e-graph and the exports see.

use num_dual::{Dual64, DualNum};
use std::fmt::Write;
use std::hash::{Hash, Hasher};

/// One-argument operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Un {
    /// `-x`.
    Neg,
    /// `sqrt(x)`.
    Sqrt,
    /// `x ** 2`.
    Square,
    /// `exp(x)`.
    Exp,
    /// `log(x)`.
    Log,
    /// `sin(x)`.
    Sin,
    /// `cos(x)`.
    Cos,
}

/// Two-argument operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Bin {
    /// `a + b`.
    Add,
    /// `a - b`.
    Sub,
    /// `a * b`.
    Mul,
    /// `a / b`.
    Div,
}

impl Un {
    /// Every unary operator.
    pub const ALL: [Un; 7] = [
        Un::Neg,
        Un::Sqrt,
        Un::Square,
        Un::Exp,
        Un::Log,
        Un::Sin,
        Un::Cos,
    ];

    fn name(self) -> &'static str {
        match self {
            Un::Neg => "-",
            Un::Sqrt => "sqrt",
            Un::Square => "square",
            Un::Exp => "exp",
            Un::Log => "log",
            Un::Sin => "sin",
            Un::Cos => "cos",
        }
    }

    #[inline]
    fn apply<T: DualNum<Primitive = f64> + Copy>(self, x: T) -> T {
        match self {
            Un::Neg => -x,
            Un::Sqrt => x.sqrt(),
            Un::Square => x * x,
            Un::Exp => x.exp(),
            Un::Log => x.ln(),
            Un::Sin => x.sin(),
            Un::Cos => x.cos(),
        }
    }
}

impl Bin {
    /// Every binary operator.
    pub const ALL: [Bin; 4] = [Bin::Add, Bin::Sub, Bin::Mul, Bin::Div];

    fn symbol(self) -> &'static str {
        match self {
            Bin::Add => "+",
            Bin::Sub => "-",
            Bin::Mul => "*",
            Bin::Div => "/",
        }
    }

    fn precedence(self) -> u8 {
        match self {
            Bin::Add | Bin::Sub => 1,
            Bin::Mul | Bin::Div => 2,
        }
    }

    #[inline]
    fn apply<T: DualNum<Primitive = f64> + Copy>(self, a: T, b: T) -> T {
        match self {
            Bin::Add => a + b,
            Bin::Sub => a - b,
            Bin::Mul => a * b,
            Bin::Div => a / b,
        }
    }
}

/// A node of an expression tree.
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    /// Input column `i` (in the order of [`Vars`]).
    Var(usize),
    /// Fitted constant `k` (its value is `Expr::params[k]`).
    Param(usize),
    /// A fixed number.
    Num(f64),
    /// A unary operator applied to a subtree.
    Un(Un, Box<Node>),
    /// A binary operator applied to two subtrees.
    Bin(Bin, Box<Node>, Box<Node>),
}

impl Node {
    /// `a op b`.
    pub fn bin(op: Bin, a: Node, b: Node) -> Node {
        Node::Bin(op, Box::new(a), Box::new(b))
    }

    /// `op(a)`.
    pub fn un(op: Un, a: Node) -> Node {
        Node::Un(op, Box::new(a))
    }

    /// Number of nodes.
    pub fn size(&self) -> usize {
        match self {
            Node::Var(_) | Node::Param(_) | Node::Num(_) => 1,
            Node::Un(_, a) => 1 + a.size(),
            Node::Bin(_, a, b) => 1 + a.size() + b.size(),
        }
    }

    /// Depth (a leaf has depth 1).
    pub fn depth(&self) -> usize {
        match self {
            Node::Var(_) | Node::Param(_) | Node::Num(_) => 1,
            Node::Un(_, a) => 1 + a.depth(),
            Node::Bin(_, a, b) => 1 + a.depth().max(b.depth()),
        }
    }

    /// The subtree at preorder position `index` (0 is the root).
    pub fn at(&self, index: usize) -> Option<&Node> {
        let mut i = index;
        self.find(&mut i)
    }

    fn find(&self, i: &mut usize) -> Option<&Node> {
        if *i == 0 {
            return Some(self);
        }
        *i -= 1;
        match self {
            Node::Un(_, a) => a.find(i),
            Node::Bin(_, a, b) => a.find(i).or_else(|| b.find(i)),
            _ => None,
        }
    }

    /// The subtree at preorder position `index`, mutably.
    pub fn at_mut(&mut self, index: usize) -> Option<&mut Node> {
        let mut i = index;
        self.find_mut(&mut i)
    }

    fn find_mut(&mut self, i: &mut usize) -> Option<&mut Node> {
        if *i == 0 {
            return Some(self);
        }
        *i -= 1;
        match self {
            Node::Un(_, a) => a.find_mut(i),
            Node::Bin(_, a, b) => {
                let n = a.size();
                if *i < n {
                    a.find_mut(i)
                } else {
                    *i -= n;
                    b.find_mut(i)
                }
            }
            _ => None,
        }
    }

    /// Calls `f` on every leaf (input, constant, number), which it may replace.
    pub fn map_leaves(&mut self, f: &mut impl FnMut(&mut Node)) {
        match self {
            Node::Un(_, a) => a.map_leaves(f),
            Node::Bin(_, a, b) => {
                a.map_leaves(f);
                b.map_leaves(f);
            }
            _ => f(self),
        }
    }

    fn map_params(&mut self, f: &mut impl FnMut(usize) -> usize) {
        match self {
            Node::Param(k) => *k = f(*k),
            Node::Un(_, a) => a.map_params(f),
            Node::Bin(_, a, b) => {
                a.map_params(f);
                b.map_params(f);
            }
            _ => {}
        }
    }

    /// True when the subtree holds no input column.
    pub fn is_constant(&self) -> bool {
        match self {
            Node::Var(_) => false,
            Node::Param(_) | Node::Num(_) => true,
            Node::Un(_, a) => a.is_constant(),
            Node::Bin(_, a, b) => a.is_constant() && b.is_constant(),
        }
    }

    fn hash_into<H: Hasher>(&self, h: &mut H) {
        match self {
            Node::Var(i) => (0u8, *i).hash(h),
            Node::Param(_) => 1u8.hash(h),
            Node::Num(v) => (2u8, v.to_bits()).hash(h),
            Node::Un(op, a) => {
                (3u8, *op).hash(h);
                a.hash_into(h);
            }
            Node::Bin(op, a, b) => {
                (4u8, *op).hash(h);
                let (ka, kb) = (a.key(), b.key());
                // Commutative operators hash their operands in a fixed order.
                if matches!(op, Bin::Add | Bin::Mul) && kb < ka {
                    kb.hash(h);
                    ka.hash(h);
                } else {
                    ka.hash(h);
                    kb.hash(h);
                }
            }
        }
    }

    /// A structural key: equal for trees that differ only in parameter values and in the
    /// order of the operands of `+` and `*`.
    pub fn key(&self) -> u64 {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.hash_into(&mut h);
        h.finish()
    }
}

/// The names of the input columns as the law language and SymPy see them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vars {
    /// Law-language identifiers, one per input column.
    pub law: Vec<String>,
    /// Column names as given in the table (SymPy output uses these).
    pub columns: Vec<String>,
}

/// An expression with its parameter values.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    /// The tree.
    pub root: Node,
    /// Values of the parameters `Node::Param(k)`.
    pub params: Vec<f64>,
}

impl Expr {
    /// A tree and its parameters, with parameters renumbered in order of appearance and
    /// unused ones dropped.
    pub fn new(root: Node, params: Vec<f64>) -> Expr {
        let mut e = Expr { root, params };
        e.renumber();
        e
    }

    /// Renumbers parameters `0, 1, ...` in preorder; every occurrence of a parameter gets
    /// its own number (a tree never shares a parameter between two places).
    pub fn renumber(&mut self) {
        let old = std::mem::take(&mut self.params);
        let mut params = Vec::new();
        self.root.map_params(&mut |k| {
            params.push(old.get(k).copied().unwrap_or(1.0));
            params.len() - 1
        });
        self.params = params;
    }

    /// Number of nodes.
    pub fn size(&self) -> usize {
        self.root.size()
    }

    /// The values on every row: `columns[i][row]` is input `i`.
    pub fn eval(&self, columns: &[&[f64]], rows: usize) -> Vec<f64> {
        self.eval_with(&self.params, columns, rows)
    }

    /// The values with the parameters `params` in place of [`Expr::params`].
    pub fn eval_with(&self, params: &[f64], columns: &[&[f64]], rows: usize) -> Vec<f64> {
        eval_node(&self.root, columns, params, rows)
    }

    /// Values and the derivative with respect to parameter `k` on every row.
    pub fn eval_dual(&self, columns: &[&[f64]], rows: usize, k: usize) -> Vec<Dual64> {
        self.eval_dual_with(&self.params, columns, rows, k)
    }

    /// [`Expr::eval_dual`] with the parameters `params`.
    pub fn eval_dual_with(
        &self,
        params: &[f64],
        columns: &[&[f64]],
        rows: usize,
        k: usize,
    ) -> Vec<Dual64> {
        let p: Vec<Dual64> = params
            .iter()
            .enumerate()
            .map(|(i, &v)| {
                if i == k {
                    Dual64::new(v, 1.0)
                } else {
                    Dual64::from(v)
                }
            })
            .collect();
        eval_node(&self.root, columns, &p, rows)
    }

    /// Parameter names of the law program: `c0, c1, ...`.
    pub fn param_name(k: usize) -> String {
        format!("c{k}")
    }

    /// The law program: one `param` line per constant, then `return`.
    ///
    /// The law language declares at most `Limits::default().max_params` parameters: the
    /// constants after that many are written as numbers in the law (the same values).
    pub fn law(&self, vars: &Vars) -> String {
        let max = ansatz_grammar::Limits::default().max_params;
        let mut s = String::new();
        for (k, v) in self.params.iter().enumerate().take(max) {
            let _ = writeln!(s, "param {} = {}", Expr::param_name(k), law_number(*v));
        }
        let mut root = self.root.clone();
        if self.params.len() > max {
            root.map_leaves(&mut |n| {
                if let Node::Param(k) = n
                    && *k >= max
                {
                    *n = Node::Num(self.params.get(*k).copied().unwrap_or(f64::NAN));
                }
            });
        }
        let mut body = String::new();
        print(&root, &mut body, 0, &Style::Law(vars), None);
        let _ = write!(s, "return {body}");
        s
    }

    /// A SymPy-parsable expression over the column names with the values inlined.
    pub fn sympy(&self, vars: &Vars) -> String {
        let mut s = String::new();
        print(
            &self.root,
            &mut s,
            0,
            &Style::Sympy(vars),
            Some(&self.params),
        );
        s
    }

    /// The expression in LaTeX over the column names with the values inlined.
    pub fn latex(&self, vars: &Vars) -> String {
        latex(&self.root, vars, &self.params)
    }
}

/// A number as the law language writes it (a literal that parses back to the same value).
pub fn law_number(v: f64) -> String {
    ansatz_grammar::number(v)
}

/// How close (relative) a printed number must be to a simple exact form to be printed as
/// it: a few units in the last place, so only the form's own value qualifies.
pub const PRINT_TOLERANCE: f64 = 1e-14;

/// Largest denominator of a simple exact form.
const MAX_DENOMINATOR: i64 = 12;

/// A number's simplest exact form: an integer, a fraction, or a fraction times or over π.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exact {
    /// `p/q` in lowest terms, `q > 0` (`q = 1`: an integer).
    Ratio(i64, i64),
    /// `p·π/q`.
    TimesPi(i64, i64),
    /// `p/(q·π)`.
    OverPi(i64, i64),
}

impl Exact {
    /// The simplest form within `tolerance` (relative) of `v`, trying integers, then
    /// fractions with denominators up to 12, then such fractions (numerators up to 12) times
    /// and over π; `None` if none is that close.
    pub fn find(v: f64, tolerance: f64) -> Option<Exact> {
        if !v.is_finite() {
            return None;
        }
        if v == 0.0 {
            return Some(Exact::Ratio(0, 1));
        }
        let close = |w: f64| (v - w).abs() <= tolerance * v.abs();
        let pi = std::f64::consts::PI;
        for q in 1..=MAX_DENOMINATOR {
            let p = (v * q as f64).round();
            let limit = if q == 1 { 1e15 } else { 1e4 };
            if p != 0.0 && p.abs() <= limit && close(p / q as f64) {
                return Some(Exact::Ratio(p as i64, q));
            }
        }
        for (scale, make) in [
            (1.0 / pi, Exact::TimesPi as fn(i64, i64) -> Exact),
            (pi, Exact::OverPi),
        ] {
            for q in 1..=MAX_DENOMINATOR {
                let p = (v * q as f64 * scale).round();
                if p != 0.0 && p.abs() <= MAX_DENOMINATOR as f64 {
                    let e = make(p as i64, q);
                    if close(e.value()) && gcd(p as i64, q) == 1 {
                        return Some(e);
                    }
                }
            }
        }
        None
    }

    /// Its value.
    pub fn value(self) -> f64 {
        let pi = std::f64::consts::PI;
        match self {
            Exact::Ratio(p, q) => p as f64 / q as f64,
            Exact::TimesPi(p, q) => p as f64 * pi / q as f64,
            Exact::OverPi(p, q) => p as f64 / (q as f64 * pi),
        }
    }

    /// Its text in the law language and SymPy (`2.5`, `1/3`, `pi`, `3*pi/4`,
    /// `1/(4*pi)`), and whether that text is a product (needs parentheses as an operand
    /// of `**`, or on the right of `/`).
    fn text(self) -> (String, bool) {
        let times = |p: i64| match p {
            1 => String::new(),
            -1 => "-".into(),
            p => format!("{p}*"),
        };
        match self {
            Exact::Ratio(_, q) if q == 1 || decimal(q) => (law_number(self.value()), false),
            Exact::Ratio(p, q) => (format!("{p}/{q}"), true),
            Exact::TimesPi(p, 1) => (format!("{}pi", times(p)), p != 1 && p != -1),
            Exact::TimesPi(p, q) => (format!("{}pi/{q}", times(p)), true),
            Exact::OverPi(p, 1) => (format!("{p}/pi"), true),
            Exact::OverPi(p, q) => (format!("{p}/({q}*pi)"), true),
        }
    }

    /// Its LaTeX.
    fn latex(self) -> String {
        let sign = |p: i64| if p < 0 { "-" } else { "" };
        let times = |p: i64| match p.abs() {
            1 => String::new(),
            p => format!("{p} "),
        };
        match self {
            Exact::Ratio(_, q) if q == 1 || decimal(q) => float_short(self.value()),
            Exact::Ratio(p, q) => format!("{}\\frac{{{}}}{{{q}}}", sign(p), p.abs()),
            Exact::TimesPi(p, 1) => format!("{}{}\\pi", sign(p), times(p)),
            Exact::TimesPi(p, q) => format!("{}\\frac{{{}\\pi}}{{{q}}}", sign(p), times(p)),
            Exact::OverPi(p, q) => format!("{}\\frac{{{}}}{{{}\\pi}}", sign(p), p.abs(), times(q)),
        }
    }
}

/// Whether `p/q` has a short exact decimal (`q` has no prime factor but 2 and 5).
fn decimal(mut q: i64) -> bool {
    for f in [2, 5] {
        while q % f == 0 {
            q /= f;
        }
    }
    q == 1
}

fn gcd(a: i64, b: i64) -> i64 {
    let (mut a, mut b) = (a.abs(), b.abs());
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

fn eval_node<T: DualNum<Primitive = f64> + Copy>(
    node: &Node,
    columns: &[&[f64]],
    params: &[T],
    rows: usize,
) -> Vec<T> {
    match node {
        Node::Var(i) => columns[*i][..rows].iter().map(|&x| T::from(x)).collect(),
        Node::Param(k) => vec![params[*k]; rows],
        Node::Num(v) => vec![T::from(*v); rows],
        Node::Un(op, a) => {
            let mut v = eval_node(a, columns, params, rows);
            for x in &mut v {
                *x = op.apply(*x);
            }
            v
        }
        Node::Bin(op, a, b) => {
            // A constant operand is computed once, not once per row.
            if b.is_constant() {
                let mut v = eval_node(a, columns, params, rows);
                let c = eval_node(b, columns, params, 1)[0];
                for x in &mut v {
                    *x = op.apply(*x, c);
                }
                v
            } else if a.is_constant() {
                let mut v = eval_node(b, columns, params, rows);
                let c = eval_node(a, columns, params, 1)[0];
                for x in &mut v {
                    *x = op.apply(c, *x);
                }
                v
            } else {
                let mut v = eval_node(a, columns, params, rows);
                let w = eval_node(b, columns, params, rows);
                for (x, y) in v.iter_mut().zip(w) {
                    *x = op.apply(*x, y);
                }
                v
            }
        }
    }
}

enum Style<'a> {
    Law(&'a Vars),
    Sympy(&'a Vars),
}

/// Prints with the fewest parentheses that keep the tree's structure: `prec` is the
/// precedence the context needs (0 none, 1 sum, 2 product, 3 unary operand, 4 power base).
fn print(node: &Node, s: &mut String, prec: u8, style: &Style<'_>, params: Option<&[f64]>) {
    match node {
        Node::Var(i) => s.push_str(match style {
            Style::Law(v) => &v.law[*i],
            Style::Sympy(v) => &v.columns[*i],
        }),
        Node::Param(k) => match params {
            Some(p) => number(s, p[*k], prec),
            None => s.push_str(&Expr::param_name(*k)),
        },
        Node::Num(v) => number(s, *v, prec),
        Node::Un(Un::Neg, a) => {
            let paren = prec >= 2;
            if paren {
                s.push('(');
            }
            s.push('-');
            print(a, s, 3, style, params);
            if paren {
                s.push(')');
            }
        }
        Node::Un(Un::Square, a) => {
            let paren = prec >= 4;
            if paren {
                s.push('(');
            }
            print(a, s, 4, style, params);
            s.push_str("**2");
            if paren {
                s.push(')');
            }
        }
        Node::Un(op, a) => {
            s.push_str(op.name());
            s.push('(');
            print(a, s, 0, style, params);
            s.push(')');
        }
        Node::Bin(op, a, b) => {
            let p = op.precedence();
            let paren = prec > p || (prec == p && prec >= 3);
            if paren {
                s.push('(');
            }
            print(a, s, p, style, params);
            s.push(' ');
            s.push_str(op.symbol());
            s.push(' ');
            // The right operand of `-` and `/` needs parentheses at equal precedence.
            let right = if matches!(op, Bin::Sub | Bin::Div) {
                p + 1
            } else {
                p
            };
            print(b, s, right, style, params);
            if paren {
                s.push(')');
            }
        }
    }
}

fn number(s: &mut String, v: f64, prec: u8) {
    let (text, product) =
        Exact::find(v, PRINT_TOLERANCE).map_or_else(|| (law_number(v), false), Exact::text);
    if (v < 0.0 && prec >= 1) || (product && prec > 2) {
        let _ = write!(s, "({text})");
    } else {
        s.push_str(&text);
    }
}

fn latex_name(name: &str) -> String {
    const GREEK: &[&str] = &[
        "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
        "lambda", "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi",
        "omega", "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Phi", "Psi", "Omega",
    ];
    let (head, tail) = match name.split_once('_') {
        Some((h, t)) => (h, Some(t)),
        None => {
            let split = name
                .find(|c: char| c.is_ascii_digit())
                .filter(|&i| i > 0)
                .unwrap_or(name.len());
            let (h, t) = name.split_at(split);
            (h, (!t.is_empty()).then_some(t))
        }
    };
    let head = if GREEK.contains(&head) {
        format!("\\{head}")
    } else if head.len() > 1 {
        format!("\\mathrm{{{head}}}")
    } else {
        head.to_string()
    };
    match tail {
        Some(t) => format!("{head}_{{{}}}", t.replace('_', "\\_")),
        None => head,
    }
}

fn latex_number(v: f64) -> String {
    if let Some(e) = Exact::find(v, PRINT_TOLERANCE) {
        return e.latex();
    }
    let text = float_short(v);
    match text.split_once('e') {
        Some((m, e)) => format!("{m} \\cdot 10^{{{e}}}"),
        None => text,
    }
}

/// Six significant digits, trailing zeros dropped.
fn float_short(v: f64) -> String {
    if v == v.round() && v.abs() < 1e6 {
        return format!("{v}");
    }
    let s = format!("{v:.6e}");
    let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
    let m = m.trim_end_matches('0').trim_end_matches('.');
    let e: i32 = e.parse().unwrap_or(0);
    if (-3..6).contains(&e) {
        let digits = (5 - e).max(0) as usize;
        let t = format!("{v:.digits$}");
        if t.contains('.') {
            t.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            t
        }
    } else {
        format!("{m}e{e}")
    }
}

fn latex(node: &Node, vars: &Vars, p: &[f64]) -> String {
    fn go(node: &Node, vars: &Vars, p: &[f64], prec: u8) -> String {
        let wrap = |inner: String, need: bool| {
            if need {
                format!("\\left({inner}\\right)")
            } else {
                inner
            }
        };
        match node {
            Node::Var(i) => latex_name(&vars.columns[*i]),
            Node::Param(k) => wrap(latex_number(p[*k]), p[*k] < 0.0 && prec >= 1),
            Node::Num(v) => wrap(latex_number(*v), *v < 0.0 && prec >= 1),
            Node::Un(Un::Neg, a) => wrap(format!("-{}", go(a, vars, p, 3)), prec >= 2),
            Node::Un(Un::Square, a) => format!("{{{}}}^{{2}}", go(a, vars, p, 4)),
            Node::Un(Un::Sqrt, a) => format!("\\sqrt{{{}}}", go(a, vars, p, 0)),
            Node::Un(Un::Exp, a) => format!("e^{{{}}}", go(a, vars, p, 0)),
            Node::Un(op, a) => format!("\\{}\\left({}\\right)", op.name(), go(a, vars, p, 0)),
            Node::Bin(Bin::Div, a, b) => {
                format!("\\frac{{{}}}{{{}}}", go(a, vars, p, 0), go(b, vars, p, 0))
            }
            Node::Bin(op, a, b) => {
                let q = op.precedence();
                let right = if *op == Bin::Sub { q + 1 } else { q };
                let sym = match op {
                    Bin::Mul => " \\, ",
                    Bin::Add => " + ",
                    _ => " - ",
                };
                wrap(
                    format!("{}{sym}{}", go(a, vars, p, q), go(b, vars, p, right)),
                    prec > q,
                )
            }
        }
    }
    go(node, vars, p, 0)
}

/// Converts a law program over scalar inputs (parameters, `let` bindings, `return`) into an
/// expression tree, when it uses only the operators trees have. Bindings are inlined.
pub fn from_law(law: &ansatz_grammar::CheckedProgram, vars: &Vars) -> Option<Expr> {
    use ansatz_grammar::{BinOp, ExprKind};
    use std::collections::HashMap;
    let program = law.program();
    let mut params = Vec::new();
    let mut param_index: HashMap<String, usize> = HashMap::new();
    for p in &program.params {
        param_index.insert(p.name.clone(), params.len());
        params.push(p.value);
    }
    let mut env: HashMap<String, Node> = HashMap::new();
    fn conv(
        e: &ansatz_grammar::Expr,
        env: &HashMap<String, Node>,
        params: &HashMap<String, usize>,
        vars: &Vars,
    ) -> Option<Node> {
        Some(match &e.kind {
            ExprKind::Num(v) => Node::Num(*v),
            ExprKind::Var(name) => {
                if let Some(n) = env.get(name.as_str()) {
                    n.clone()
                } else if let Some(&k) = params.get(name.as_str()) {
                    Node::Param(k)
                } else if let Some(i) = vars.law.iter().position(|v| v == name.as_str()) {
                    Node::Var(i)
                } else if name.as_str() == "pi" {
                    Node::Num(std::f64::consts::PI)
                } else {
                    return None;
                }
            }
            ExprKind::Neg(a) => Node::un(Un::Neg, conv(a, env, params, vars)?),
            ExprKind::Binary(op, a, b) => {
                let a = conv(a, env, params, vars)?;
                let b = conv(b, env, params, vars)?;
                match op {
                    BinOp::Add => Node::bin(Bin::Add, a, b),
                    BinOp::Sub => Node::bin(Bin::Sub, a, b),
                    BinOp::Mul => Node::bin(Bin::Mul, a, b),
                    BinOp::Div => Node::bin(Bin::Div, a, b),
                    BinOp::Pow => match b {
                        Node::Num(2.0) => Node::un(Un::Square, a),
                        Node::Num(0.5) => Node::un(Un::Sqrt, a),
                        _ => return None,
                    },
                    _ => return None,
                }
            }
            ExprKind::Call(f, args) if args.len() == 1 => {
                let a = conv(&args[0], env, params, vars)?;
                let op = match f.as_str() {
                    "sqrt" => Un::Sqrt,
                    "exp" => Un::Exp,
                    "log" => Un::Log,
                    "sin" => Un::Sin,
                    "cos" => Un::Cos,
                    _ => return None,
                };
                Node::un(op, a)
            }
            _ => return None,
        })
    }
    for stmt in &program.stmts {
        if stmt.names.len() != 1 {
            return None;
        }
        let n = conv(&stmt.value, &env, &param_index, vars)?;
        env.insert(stmt.names[0].name.clone(), n);
    }
    let root = conv(&program.ret, &env, &param_index, vars)?;
    Some(Expr::new(root, params))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> Vars {
        Vars {
            law: vec!["x".into(), "y_".into()],
            columns: vec!["x".into(), "y".into()],
        }
    }

    #[test]
    fn prints_laws_sympy_and_latex_with_minimal_parentheses() {
        // c0 * x / (y - 1) ** 2
        let root = Node::bin(
            Bin::Div,
            Node::bin(Bin::Mul, Node::Param(0), Node::Var(0)),
            Node::un(
                Un::Square,
                Node::bin(Bin::Sub, Node::Var(1), Node::Num(1.0)),
            ),
        );
        let e = Expr::new(root, vec![0.5]);
        assert_eq!(
            e.law(&vars()),
            "param c0 = 0.5\nreturn c0 * x / (y_ - 1)**2"
        );
        assert_eq!(e.sympy(&vars()), "0.5 * x / (y - 1)**2");
        assert_eq!(
            e.latex(&vars()),
            "\\frac{0.5 \\, x}{{\\left(y - 1\\right)}^{2}}"
        );
        let law = ansatz_grammar::load(
            &e.law(&vars()),
            &"x: scalar, y_: scalar -> scalar".parse().unwrap(),
        )
        .unwrap();
        let back = from_law(&law, &vars()).unwrap();
        assert_eq!(back, e);
    }

    #[test]
    fn subtraction_and_division_keep_their_right_operands_grouped() {
        let root = Node::bin(
            Bin::Sub,
            Node::Var(0),
            Node::bin(Bin::Sub, Node::Var(1), Node::Param(0)),
        );
        let e = Expr::new(root, vec![-2.0]);
        assert_eq!(e.sympy(&vars()), "x - (y - (-2))");
        let v = e.eval(&[&[1.0], &[5.0]], 1);
        assert_eq!(v, vec![1.0 - (5.0 + 2.0)]);
    }

    #[test]
    fn dual_gradients_match_finite_differences() {
        // c0 * exp(-x / c1) + sin(c2 * y)
        let root = Node::bin(
            Bin::Add,
            Node::bin(
                Bin::Mul,
                Node::Param(0),
                Node::un(
                    Un::Exp,
                    Node::un(Un::Neg, Node::bin(Bin::Div, Node::Var(0), Node::Param(1))),
                ),
            ),
            Node::un(Un::Sin, Node::bin(Bin::Mul, Node::Param(2), Node::Var(1))),
        );
        let e = Expr::new(root, vec![1.3, 0.7, 2.1]);
        let x = [0.2, 1.5, 3.0];
        let y = [-1.0, 0.5, 2.0];
        let cols: [&[f64]; 2] = [&x, &y];
        for k in 0..3 {
            let d = e.eval_dual(&cols, 3, k);
            let h = 1e-6;
            let mut up = e.clone();
            up.params[k] += h;
            let mut down = e.clone();
            down.params[k] -= h;
            let (fu, fd) = (up.eval(&cols, 3), down.eval(&cols, 3));
            for r in 0..3 {
                let fdiff = (fu[r] - fd[r]) / (2.0 * h);
                assert!(
                    (d[r].eps - fdiff).abs() < 1e-6 * (1.0 + fdiff.abs()),
                    "{k} {r}"
                );
                assert_eq!(d[r].re, e.eval(&cols, 3)[r]);
            }
        }
    }

    #[test]
    fn keys_ignore_values_and_operand_order_of_commutative_operators() {
        let a = Node::bin(Bin::Mul, Node::Param(0), Node::Var(0));
        let b = Node::bin(Bin::Mul, Node::Var(0), Node::Param(3));
        let c = Node::bin(Bin::Div, Node::Var(0), Node::Param(0));
        let d = Node::bin(Bin::Div, Node::Param(0), Node::Var(0));
        assert_eq!(a.key(), b.key());
        assert_ne!(c.key(), d.key());
    }

    #[test]
    fn renumbering_follows_preorder_and_drops_unused_values() {
        let root = Node::bin(Bin::Add, Node::Param(2), Node::Param(0));
        let e = Expr::new(root, vec![10.0, 11.0, 12.0]);
        assert_eq!(e.params, vec![12.0, 10.0]);
        assert_eq!(e.root, Node::bin(Bin::Add, Node::Param(0), Node::Param(1)));
    }

    #[test]
    fn numbers_print_in_their_simplest_exact_form_when_one_fits() {
        let pi = std::f64::consts::PI;
        let cases: [(f64, &str, &str); 12] = [
            (2.5, "2.5", "2.5"),
            (3.0, "3", "3"),
            (-0.125, "-0.125", "-0.125"),
            (1.0 / 3.0, "1/3", "\\frac{1}{3}"),
            (-2.0 / 7.0, "-2/7", "-\\frac{2}{7}"),
            (pi, "pi", "\\pi"),
            (-pi, "-pi", "-\\pi"),
            (2.0 * pi, "2*pi", "2 \\pi"),
            (pi / 2.0, "pi/2", "\\frac{\\pi}{2}"),
            (3.0 * pi / 4.0, "3*pi/4", "\\frac{3 \\pi}{4}"),
            (1.0 / (4.0 * pi), "1/(4*pi)", "\\frac{1}{4 \\pi}"),
            (0.1234567, "0.1234567", "0.123457"),
        ];
        for (v, text, tex) in cases {
            let e = Expr::new(Node::Num(v), Vec::new());
            assert_eq!(e.sympy(&vars()), text, "{v}");
            assert_eq!(e.latex(&vars()), tex, "{v}");
        }
        // A value a little off a simple form keeps its digits.
        assert_eq!(Exact::find(1.0 / 3.0 + 1e-9, PRINT_TOLERANCE), None);
        assert_eq!(
            Exact::find(1.0 / 3.0 + 1e-11, 1e-9),
            Some(Exact::Ratio(1, 3))
        );
        assert_eq!(Exact::find(f64::NAN, 1e-9), None);
        // Fractions keep their grouping as operands, and the law still reads back.
        let root = Node::bin(
            Bin::Div,
            Node::Var(0),
            Node::un(Un::Square, Node::Num(pi / 2.0)),
        );
        let e = Expr::new(root, Vec::new());
        assert_eq!(e.sympy(&vars()), "x / (pi/2)**2");
        let law = ansatz_grammar::load(
            &e.law(&vars()),
            &"x: scalar, y_: scalar -> scalar".parse().unwrap(),
        )
        .unwrap();
        let compiled = law.compiled();
        let mut scratch = compiled.scratch::<f64>();
        let v = compiled
            .eval(
                &[
                    ansatz_grammar::Value::Scalar(2.0),
                    ansatz_grammar::Value::Scalar(0.0),
                ],
                &[],
                &mut scratch,
            )
            .unwrap()
            .as_scalar()
            .unwrap();
        assert!((v - 2.0 / (pi / 2.0).powi(2)).abs() < 1e-14, "{v}");
    }
}
