//! The built-in offline proposer: [`crate::evolve::Evolve`] over the shown laws.

use crate::evolve::{Evolve, EvolveConfig, Parent};
use crate::law::LawProblem;
use ansatz_engine::{
    Candidate, Proposal, ProposeError, Proposer, ProposerKind, RoundContext, Tokens,
};
use ansatz_simulator::MaterialKind;
use std::collections::BTreeSet;

/// Proposes by mutation and recombination; deterministic for a seed (each round draws from
/// a generator seeded by the run's seed and the round, so a resumed run proposes the same).
/// Laws are of the problem's signature; their forms, terms and coefficient ranges are those
/// of `kind`.
#[derive(Debug)]
pub struct EvolveProposer {
    /// Settings of the evolutionary operators (the seed is replaced per round).
    pub config: EvolveConfig,
    /// Which library of forms and terms to draw from (a task's elastic or plastic path).
    pub kind: MaterialKind,
}

impl EvolveProposer {
    /// A proposer with the default operator settings, drawing from the library of `kind`
    /// (for a simulation task: its `kind`).
    pub fn new(kind: MaterialKind) -> EvolveProposer {
        EvolveProposer {
            config: EvolveConfig::default(),
            kind,
        }
    }
}

impl<P: LawProblem> Proposer<P> for EvolveProposer {
    fn propose(&mut self, ctx: &RoundContext<'_, P>) -> Result<Vec<Proposal>, ProposeError> {
        let shown: Vec<&Candidate<crate::law::LawDetail>> = ctx
            .shown
            .iter()
            .filter_map(|&id| ctx.candidate(id))
            .collect();
        let parents: Vec<Parent<'_>> = shown
            .iter()
            .filter_map(|c| {
                c.detail.law.as_deref().map(|source| Parent {
                    source,
                    fitness: c.fitness,
                    params: &c.detail.params,
                })
            })
            .collect();
        let ids: Vec<usize> = shown
            .iter()
            .filter(|c| c.detail.law.is_some())
            .map(|c| c.id)
            .collect();
        let config = EvolveConfig {
            seed: ctx.round_seed(),
            ..self.config
        };
        let mut evolve = Evolve::new(ctx.problem.signature().clone(), self.kind, config);
        let seen: BTreeSet<u64> = ctx
            .seen
            .iter()
            .filter_map(|h| u64::from_str_radix(h, 16).ok())
            .collect();
        let signature = ctx.problem.signature();
        let stop = ctx.stop;
        let mut gains = |program: &ansatz_grammar::Program, which: &[usize]| {
            if stop.load(std::sync::atomic::Ordering::SeqCst) {
                return None;
            }
            let law = ansatz_grammar::check(program, signature).ok()?;
            let params = law.compiled().defaults().to_vec();
            ctx.problem.gains(&law, &params, which)
        };
        let offspring = evolve.propose_with_gains(&parents, ctx.wanted(), &seen, Some(&mut gains));
        // A batch ranked with some gains missing is not the batch of an uninterrupted run:
        // it is not handed on (a resumed run proposes the round again).
        if ctx.stop.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(ProposeError {
                proposer: "evolve".into(),
                message: "stopped while ranking the terms to add".into(),
            });
        }
        Ok(offspring
            .into_iter()
            .map(|o| Proposal {
                proposer: ProposerKind::Evolve,
                how: o.operator.to_string(),
                parents: o
                    .parents
                    .iter()
                    .filter_map(|&i| ids.get(i).copied())
                    .collect(),
                text: o.source,
                tokens: Tokens::default(),
                error: None,
                cut: None,
            })
            .collect())
    }
}
