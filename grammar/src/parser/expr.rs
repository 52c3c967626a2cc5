//! Expressions by precedence climbing. Levels, loosest first: comparison (non-associative),
//! `+ -` (left), `* / @` (left), unary `-`, `**` (right; `-x**2` is `-(x**2)`), postfix
//! (`.T`, `[i]`, `[i, j]`) and atoms (numbers, names, calls, parentheses).
//!
//! Internally every function returns the node and the height of its tree, so that the
//! height limit bounds the recursion of every later pass (printer, checker, drop).

use super::hints;
use super::lex;
use super::{P, PErr, PResult};
use crate::ast::{BinOp, CmpOp, Expr, ExprKind};
use crate::error::ErrorKind;
use crate::span::Span;

/// A node and the height of its tree.
type Node = (Expr, usize);

impl<'s> P<'s> {
    /// Creates a node, enforcing the node and height limits.
    fn mk(
        &self,
        at: Span,
        kind: ExprKind,
        height: usize,
        pos: &'s str,
    ) -> Result<Node, nom::Err<PErr>> {
        let n = self.nodes.get() + 1;
        self.nodes.set(n);
        if n > self.limits.max_nodes {
            return Err(self.fail(
                pos,
                ErrorKind::Limit,
                format!(
                    "the program has more than {} expression nodes; write a shorter law",
                    self.limits.max_nodes
                ),
            ));
        }
        if height > self.limits.max_depth {
            return Err(self.fail(
                pos,
                ErrorKind::Limit,
                format!(
                    "expression nested more than {} levels deep; split it into named steps (`a = ...`)",
                    self.limits.max_depth
                ),
            ));
        }
        Ok((Expr::new(kind, at), height))
    }

    /// Enters one level of recursion; fails beyond the depth limit. The tree height is
    /// limited to `max_depth` in [`P::mk`]; the recursion allows three frames per level,
    /// since printing a tree may add parentheses (`-(-x)`) that cost a frame each.
    fn enter(&self, pos: &'s str) -> Result<(), nom::Err<PErr>> {
        let d = self.depth.get() + 1;
        self.depth.set(d);
        if d > 3 * self.limits.max_depth + 3 {
            return Err(self.fail(
                pos,
                ErrorKind::Limit,
                format!(
                    "expression nested more than {} levels deep; split it into named steps (`a = ...`)",
                    self.limits.max_depth
                ),
            ));
        }
        Ok(())
    }

    fn leave(&self) {
        self.depth.set(self.depth.get().saturating_sub(1));
    }

    /// A full expression (comparison level).
    pub(crate) fn expr(&self, i: &'s str) -> PResult<'s, Node> {
        self.enter(i)?;
        let (i, lhs) = self.additive(i)?;
        let j = self.sp(i);
        let Some((op, len)) = cmp_op(j) else {
            self.leave();
            return Ok((i, lhs));
        };
        let op_span = self.span(j);
        let (k, rhs) = self.additive(&j[len..])?;
        let k2 = self.sp(k);
        if cmp_op(k2).is_some() {
            return Err(self.fail(
                k2,
                ErrorKind::Syntax,
                "chained comparisons are not supported; nest where(...) instead",
            ));
        }
        let h = lhs.1.max(rhs.1) + 1;
        let node = self.mk(
            op_span,
            ExprKind::Compare(op, Box::new(lhs.0), Box::new(rhs.0)),
            h,
            j,
        )?;
        self.leave();
        Ok((k, node))
    }

    fn additive(&self, i: &'s str) -> PResult<'s, Node> {
        let (mut i, mut lhs) = self.term(i)?;
        loop {
            let j = self.sp(i);
            let op = match j.as_bytes().first() {
                Some(b'+') if !j.starts_with("+=") => BinOp::Add,
                Some(b'-') if !j.starts_with("-=") => BinOp::Sub,
                _ => return Ok((i, lhs)),
            };
            let (k, rhs) = self.term(&j[1..])?;
            let h = lhs.1.max(rhs.1) + 1;
            lhs = self.mk(
                self.span(j),
                ExprKind::Binary(op, Box::new(lhs.0), Box::new(rhs.0)),
                h,
                j,
            )?;
            i = k;
        }
    }

    fn term(&self, i: &'s str) -> PResult<'s, Node> {
        let (mut i, mut lhs) = self.unary(i)?;
        loop {
            let j = self.sp(i);
            let op = match j.as_bytes().first() {
                Some(b'*') if !j.starts_with("*=") => BinOp::Mul,
                Some(b'/') if j.starts_with("//") => {
                    return Err(self.fail(
                        j,
                        ErrorKind::Syntax,
                        "floor division '//' is not supported; use '/'",
                    ));
                }
                Some(b'/') if !j.starts_with("/=") => BinOp::Div,
                Some(b'@') if !j.starts_with("@=") => BinOp::MatMul,
                Some(b'%') => {
                    return Err(self.fail(j, ErrorKind::Syntax, "'%' (modulo) is not supported"));
                }
                _ => return Ok((i, lhs)),
            };
            let (k, rhs) = self.unary(&j[1..])?;
            let h = lhs.1.max(rhs.1) + 1;
            lhs = self.mk(
                self.span(j),
                ExprKind::Binary(op, Box::new(lhs.0), Box::new(rhs.0)),
                h,
                j,
            )?;
            i = k;
        }
    }

    fn unary(&self, i: &'s str) -> PResult<'s, Node> {
        let j = self.sp(i);
        if let Some(rest) = j.strip_prefix('-') {
            self.enter(j)?;
            let (k, inner) = self.unary(rest)?;
            let node = self.mk(
                self.span(j),
                ExprKind::Neg(Box::new(inner.0)),
                inner.1 + 1,
                j,
            )?;
            self.leave();
            return Ok((k, node));
        }
        if let Some(rest) = j.strip_prefix('+') {
            self.enter(j)?;
            let r = self.unary(rest)?;
            self.leave();
            return Ok(r);
        }
        self.power(j)
    }

    fn power(&self, i: &'s str) -> PResult<'s, Node> {
        let (i, base) = self.postfix(i)?;
        let j = self.sp(i);
        if let Some(rest) = j.strip_prefix("**") {
            self.enter(j)?;
            let (k, exp) = self.unary(rest)?;
            let h = base.1.max(exp.1) + 1;
            let node = self.mk(
                self.span(j),
                ExprKind::Binary(BinOp::Pow, Box::new(base.0), Box::new(exp.0)),
                h,
                j,
            )?;
            self.leave();
            return Ok((k, node));
        }
        if j.starts_with('^') {
            return Err(self.fail(
                j,
                ErrorKind::Syntax,
                "'^' is not a power operator; write a ** b or pow(a, b)",
            ));
        }
        Ok((i, base))
    }

    fn postfix(&self, i: &'s str) -> PResult<'s, Node> {
        let (mut i, mut node) = self.atom(i)?;
        loop {
            let j = lex::blank(i, false);
            if let Some(rest) = j.strip_prefix('.') {
                let Ok((rest2, name)) = lex::ident(rest) else {
                    return Err(self.expected(
                        j,
                        "expected a name after '.'; the only attribute is .T (transpose)",
                        ".T",
                    ));
                };
                if name == "T" || name == "mT" {
                    let (h, at) = (node.1 + 1, node.0.span);
                    node = self.mk(at, ExprKind::Transpose(Box::new(node.0)), h, j)?;
                    i = rest2;
                    continue;
                }
                return Err(self.attribute_error(&node.0, j, rest2, name));
            }
            if let Some(rest) = j.strip_prefix('[') {
                let (rest, idx) = self.indices(j, rest)?;
                let (h, at) = (node.1 + 1, node.0.span);
                node = self.mk(at, ExprKind::Index(Box::new(node.0), idx), h, j)?;
                i = rest;
                continue;
            }
            if j.starts_with('(') && !matches!(node.0.kind, ExprKind::Var(_)) {
                return Err(self.fail(
                    j,
                    ErrorKind::Syntax,
                    "only functions can be called: '(' after an expression (missing operator?)",
                ));
            }
            return Ok((i, node));
        }
    }

    /// The error for `x.name`: module paths (`torch.det`), `self.mu`, methods (`F.t()`).
    fn attribute_error(
        &self,
        base: &Expr,
        dot: &'s str,
        mut rest: &'s str,
        name: &str,
    ) -> nom::Err<PErr> {
        let mut path = vec![name.to_string()];
        while let Some(r) = rest.strip_prefix('.') {
            match lex::ident(r) {
                Ok((r2, n)) => {
                    path.push(n.to_string());
                    rest = r2;
                }
                Err(_) => break,
            }
        }
        let called = lex::blank(rest, false).starts_with('(');
        match &base.kind {
            ExprKind::Var(head) if hints::is_module_head(head) => {
                let at = self.src.get(base.span.offset as usize..).unwrap_or(dot);
                let message = hints::dotted(head, &path, called);
                self.fail(at, ErrorKind::Syntax, message)
            }
            _ => self.fail(
                dot,
                ErrorKind::Syntax,
                hints::method(path.last().map_or(name, String::as_str), called),
            ),
        }
    }

    /// `[i]` or `[i, j]` with integer constants; `open` is the `[`.
    fn indices(&self, open: &'s str, i: &'s str) -> PResult<'s, Vec<i64>> {
        let mut out = Vec::new();
        let mut j = lex::blank(i, true);
        loop {
            let (neg, k) = match j.strip_prefix('-') {
                Some(k) => (true, lex::blank(k, true)),
                None => (false, j),
            };
            let digits: &str = &k[..k.bytes().take_while(u8::is_ascii_digit).count()];
            let tail = &k[digits.len()..];
            if digits.is_empty()
                || tail.starts_with(|c: char| c == '.' || c == '_' || c.is_ascii_alphanumeric())
            {
                let message = if k.starts_with(':') || k.starts_with("...") {
                    "slices are not supported; index one entry with constant indices, e.g. sigma[0] or F[0, 1]"
                } else {
                    "indices must be integer constants, e.g. sigma[0] or F[0, 1]"
                };
                return Err(self.expected(k, message, "an integer index"));
            }
            let after = lex::blank(tail, true);
            let v: i64 = digits.parse().unwrap_or(i64::MAX);
            if v > 8 {
                return Err(self.fail(k, ErrorKind::Type, format!("index {digits} is out of range; vectors and matrices have 3 entries per axis (0, 1, 2)")));
            }
            out.push(if neg { -v } else { v });
            if let Some(r) = after.strip_prefix(',') {
                j = lex::blank(r, true);
                if out.len() >= 2 {
                    return Err(self.fail(j, ErrorKind::Type, "at most two indices: A[i, j]"));
                }
                continue;
            }
            if let Some(r) = after.strip_prefix(']') {
                return Ok((r, out));
            }
            if after.starts_with(':') {
                return Err(self.fail(after, ErrorKind::Syntax, "slices are not supported; index one entry with constant indices, e.g. sigma[0] or F[0, 1]"));
            }
            return Err(self.expected(
                after,
                format!(
                    "expected ']' to close '[' at line {}, column {}",
                    self.span(open).line,
                    self.span(open).column
                ),
                "']'",
            ));
        }
    }

    fn atom(&self, i: &'s str) -> PResult<'s, Node> {
        let j = self.sp(i);
        let at = self.span(j);
        if let Ok((rest, text)) = lex::number_text(j) {
            if lex::starts_ident_char(rest) {
                return Err(self.fail(
                    rest,
                    ErrorKind::Syntax,
                    format!("missing operator after the number {text}; write {text} * x"),
                ));
            }
            let v = self.number_value(j, text)?;
            let node = self.mk(at, ExprKind::Num(v), 1, j)?;
            return Ok((rest, node));
        }
        if let Ok((rest, name)) = lex::ident(j) {
            if let Some(message) = hints::expression_keyword(name) {
                return Err(self.fail(j, ErrorKind::Syntax, message));
            }
            let k = lex::blank(rest, false);
            if let Some(args_start) = k.strip_prefix('(') {
                return self.call(j, name, k, args_start);
            }
            let node = self.mk(at, ExprKind::Var(name.to_string()), 1, j)?;
            return Ok((rest, node));
        }
        if let Some(rest) = j.strip_prefix('(') {
            self.parens.set(self.parens.get() + 1);
            let (k, inner) = self.expr(rest)?;
            let k = self.sp(k);
            self.parens.set(self.parens.get() - 1);
            if let Some(k) = k.strip_prefix(')') {
                return Ok((k, inner));
            }
            return Err(self.close_error(j, k, "')'", "parenthesis"));
        }
        if j.is_empty() {
            return Err(self.expected(
                j,
                "unexpected end of input; expected an expression",
                "an expression",
            ));
        }
        if j.starts_with('\n') {
            return Err(self.expected(
                j,
                "unexpected end of line; expected an expression",
                "an expression",
            ));
        }
        Err(self.expected(j, hints::not_an_expression(j), "an expression"))
    }

    /// Error for a missing closing `)` or `]`: at the opening when the input ended.
    fn close_error(&self, open: &'s str, at: &'s str, close: &str, what: &str) -> nom::Err<PErr> {
        let o = self.span(open);
        if at.is_empty() {
            return self.expected(
                open,
                format!("unbalanced '(': this {what} is never closed (expected {close} before the end of the program)"),
                close,
            );
        }
        if let Some(message) = hints::keyword_after_expression(at) {
            return self.fail(at, ErrorKind::Syntax, message);
        }
        if self.span(at).line > o.line {
            return self.expected(
                open,
                format!(
                    "unbalanced '(': this {what} is not closed before line {}",
                    self.span(at).line
                ),
                close,
            );
        }
        let message = if at.starts_with(',') {
            "tuples are not supported; use vec3(a, b, c) for a vector".to_string()
        } else {
            format!(
                "expected {close} to close the {what} opened at line {}, column {}, got {}",
                o.line,
                o.column,
                hints::describe(at)
            )
        };
        self.expected(at, message, close)
    }

    /// `name(args)`; `name_at` is the name, `open` the `(`.
    fn call(&self, name_at: &'s str, name: &str, open: &'s str, i: &'s str) -> PResult<'s, Node> {
        self.enter(open)?;
        self.parens.set(self.parens.get() + 1);
        let mut args = Vec::new();
        let mut height = 1;
        let mut j = self.sp(i);
        if let Some(rest) = j.strip_prefix(')') {
            j = rest;
        } else {
            loop {
                if let Ok((r, kw)) = lex::ident(j) {
                    let r = self.sp(r);
                    if r.starts_with('=') && !r.starts_with("==") {
                        return Err(self.fail(j, ErrorKind::Syntax, format!("keyword arguments ('{kw}=') are not supported; pass arguments by position: {name}(...)")));
                    }
                }
                let (r, (arg, h)) = self.expr(j)?;
                height = height.max(h + 1);
                args.push(arg);
                let r = self.sp(r);
                if let Some(r) = r.strip_prefix(',') {
                    j = self.sp(r);
                    if let Some(r) = j.strip_prefix(')') {
                        j = r;
                        break;
                    }
                    continue;
                }
                if let Some(r) = r.strip_prefix(')') {
                    j = r;
                    break;
                }
                if r.is_empty() {
                    return Err(self.expected(
                        open,
                        format!("unbalanced '(': the call {name}( is never closed (expected ')' before the end of the program)"),
                        "')'",
                    ));
                }
                if let Some(message) = hints::keyword_after_expression(r) {
                    return Err(self.fail(r, ErrorKind::Syntax, message));
                }
                let o = self.span(open);
                if self.span(r).line > o.line {
                    return Err(self.expected(
                        open,
                        format!(
                            "unbalanced '(': the call {name}( is not closed before line {}",
                            self.span(r).line
                        ),
                        "')'",
                    ));
                }
                return Err(self.expected(
                    r,
                    format!("expected ',' or ')' in the arguments of {name}( at line {}, column {}, got {}", o.line, o.column, hints::describe(r)),
                    "',' or ')'",
                ));
            }
        }
        self.parens.set(self.parens.get() - 1);
        let node = self.mk(
            self.span(name_at),
            ExprKind::Call(name.to_string(), args),
            height,
            name_at,
        )?;
        self.leave();
        Ok((j, node))
    }
}

/// A comparison operator at the start of `i` and its length.
fn cmp_op(i: &str) -> Option<(CmpOp, usize)> {
    let two = [
        ("<=", CmpOp::Le),
        (">=", CmpOp::Ge),
        ("==", CmpOp::Eq),
        ("!=", CmpOp::Ne),
    ];
    if let Some((_, op)) = two.iter().find(|(s, _)| i.starts_with(s)) {
        return Some((*op, 2));
    }
    match i.as_bytes().first() {
        Some(b'<') => Some((CmpOp::Lt, 1)),
        Some(b'>') => Some((CmpOp::Gt, 1)),
        _ => None,
    }
}
