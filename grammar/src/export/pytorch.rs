//! The PyTorch export, in the shape of the SGA reference's law templates: a
//! `Physics(nn.Module)` whose `__init__` takes every parameter with its default and
//! stores it as `nn.Parameter(torch.tensor(value))`, and whose `forward(F)` computes the
//! law over a (B, 3, 3) batch. Parameters follow `torch.get_default_dtype()` (call
//! `torch.set_default_dtype(torch.float64)` first for double precision).

use super::array::{Backend, Emitter, body};
use super::float_literal;
use super::names::{PYTHON_RESERVED, rename};
use super::numpy::{batch_shape, law_comment, tail};
use super::typing::env;
use crate::check::CheckedProgram;
use crate::types::Type;
use std::fmt::Write;

const PRELUDE: &str = r#"import math

import torch
import torch.nn as nn


def _sigmoid(x):
    return torch.sigmoid(x)


def _cbrt(x):
    return torch.sign(x) * torch.abs(x) ** (1.0 / 3.0)


def _pow(x, y):
    return float(torch.pow(torch.tensor(x, dtype=torch.float64), y))


def _min(a, b):
    return torch.where(b < a, b, a)


def _max(a, b):
    return torch.where(b > a, b, a)


def _det(a):
    return (a[..., 0, 0] * (a[..., 1, 1] * a[..., 2, 2] - a[..., 1, 2] * a[..., 2, 1])
            - a[..., 0, 1] * (a[..., 1, 0] * a[..., 2, 2] - a[..., 1, 2] * a[..., 2, 0])
            + a[..., 0, 2] * (a[..., 1, 0] * a[..., 2, 1] - a[..., 1, 1] * a[..., 2, 0]))


def _inv(a):
    def c(i, j, k, l):
        return a[..., i, j] * a[..., k, l] - a[..., i, l] * a[..., k, j]
    adj = torch.stack([
        torch.stack([c(1, 1, 2, 2), -c(0, 1, 2, 2), c(0, 1, 1, 2)], dim=-1),
        torch.stack([-c(1, 0, 2, 2), c(0, 0, 2, 2), -c(0, 0, 1, 2)], dim=-1),
        torch.stack([c(1, 0, 2, 1), -c(0, 0, 2, 1), c(0, 0, 1, 1)], dim=-1),
    ], dim=-2)
    det = a[..., 0, 0] * adj[..., 0, 0] + a[..., 0, 1] * adj[..., 1, 0] + a[..., 0, 2] * adj[..., 2, 0]
    return adj * (1.0 / det)[..., None, None]


def _diag(v):
    return torch.diag_embed(v)


def _vec3(a, b, c):
    return torch.stack(torch.broadcast_tensors(a, b, c), dim=-1)


def _svd(a):
    """Signed SVD a = U diag(sigma) Vh: U and Vh rotations, sigma[0] >= sigma[1] >= |sigma[2]|,
    the sign of det(a) on sigma[2]."""
    u, s, vh = torch.linalg.svd(a)
    fu = torch.where(torch.linalg.det(u) < 0, -1.0, 1.0).to(a.dtype)
    fv = torch.where(torch.linalg.det(vh) < 0, -1.0, 1.0).to(a.dtype)
    one = torch.ones_like(fu)
    u = u * torch.stack([one, one, fu], dim=-1)[..., None, :]
    vh = vh * torch.stack([one, one, fv], dim=-1)[..., :, None]
    s = s * torch.stack([one, one, fu * fv], dim=-1)
    return u, s, vh


def _polar(a):
    """a = R S with R = U Vh (a rotation) and S = Vh.T diag(sigma) Vh."""
    u, s, vh = _svd(a)
    return u @ vh, vh.transpose(-1, -2) @ (s[..., :, None] * vh)
"#;

pub(crate) fn export(law: &CheckedProgram) -> String {
    let names = rename(law, PYTHON_RESERVED);
    let env = env(law);
    let sig = law.signature();
    let inputs: Vec<(String, Type)> = sig
        .inputs
        .iter()
        .map(|(n, t)| (names[n].clone(), *t))
        .collect();
    let first = inputs.first().map(|i| i.0.clone()).unwrap_or_default();
    let e = Emitter {
        backend: Backend::Torch,
        env: &env,
        names: &names,
        first_input: first.clone(),
    };
    let params: Vec<(String, f64)> = law
        .params()
        .into_iter()
        .map(|(n, v)| (names[&n].clone(), v))
        .collect();
    let mut out = law_comment(law);
    out.push_str(PRELUDE);
    out.push_str("\n\nclass Physics(nn.Module):\n");
    out.push_str("    \"\"\"The law as a module: the parameters are trainable `nn.Parameter`s\n");
    out.push_str("    initialised from their defaults.\"\"\"\n\n");
    let mut init = vec!["self".to_string()];
    init.extend(
        params
            .iter()
            .map(|(n, v)| format!("{n}: float = {}", float_literal(*v))),
    );
    let _ = writeln!(out, "    def __init__({}):", init.join(", "));
    out.push_str("        super().__init__()\n");
    for (n, _) in &params {
        let _ = writeln!(out, "        self.{n} = nn.Parameter(torch.tensor({n}))");
    }
    out.push('\n');
    let args: Vec<String> = std::iter::once("self".to_string())
        .chain(inputs.iter().map(|(n, _)| format!("{n}: torch.Tensor")))
        .collect();
    let _ = writeln!(out, "    def forward({}) -> torch.Tensor:", args.join(", "));
    let ins: Vec<String> = sig
        .inputs
        .iter()
        .map(|(n, t)| format!("{n}: (B, {})", tail(*t).trim_matches(['(', ')', ','])))
        .collect();
    let _ = writeln!(
        out,
        "        \"\"\"Inputs {}; returns (B, {}).\"\"\"",
        ins.join(", "),
        tail(sig.output).trim_matches(['(', ')', ','])
    );
    let _ = writeln!(
        out,
        "        _I = torch.eye(3, dtype={first}.dtype, device={first}.device)"
    );
    for (n, _) in &params {
        let _ = writeln!(out, "        {n} = self.{n}");
    }
    let batch = inputs
        .first()
        .map(|(n, t)| batch_shape(n, *t, Backend::Torch))
        .unwrap_or_else(|| "()".to_string());
    let shape = format!("{batch} + {}", tail(sig.output));
    out.push_str(&body(&e, law.program(), "        ", |r| {
        format!("torch.broadcast_to(torch.as_tensor({r}, dtype={first}.dtype, device={first}.device), {shape})")
    }));
    out
}
