//! The offline proposer of the Ehrlich kind: the genetic algorithm's operators (biased
//! uniform crossover of two shown sequences, then mutation of each position with
//! probability about 1/L) applied to the candidates the round shows, seeded per round.

use super::{EhrlichDetail, EhrlichProblem};
use ansatz_ehrlich::parse::to_letters;
use ansatz_engine::{
    Candidate, Proposal, ProposeError, Proposer, ProposerKind, RoundContext, Tokens,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Proposes by crossover and mutation of the shown sequences.
#[derive(Clone, Debug)]
pub struct SequenceEvolution {
    /// Probability of taking a position from the first parent in a crossover.
    pub recombine_prob: f64,
    /// Expected mutations per sequence (each position mutates with probability this / L).
    pub mutations: f64,
}

impl Default for SequenceEvolution {
    /// The reference GA's rates: p_r = p_m = 1.1 / L.
    fn default() -> Self {
        SequenceEvolution {
            recombine_prob: 0.5,
            mutations: 1.1,
        }
    }
}

impl Proposer<EhrlichProblem> for SequenceEvolution {
    fn propose(
        &mut self,
        ctx: &RoundContext<'_, EhrlichProblem>,
    ) -> Result<Vec<Proposal>, ProposeError> {
        let parents: Vec<&Candidate<EhrlichDetail>> = ctx
            .shown
            .iter()
            .filter_map(|&id| ctx.candidate(id))
            .filter(|c| c.detail.sequence.is_some())
            .collect();
        let Some(first) = parents.first() else {
            return Err(ProposeError {
                proposer: "evolve".into(),
                message: "no shown candidate holds a sequence to vary".into(),
            });
        };
        let dim = first.detail.sequence.as_ref().map_or(0, Vec::len);
        let states = ctx.problem.function.num_states() as u32;
        let p_mutate = (self.mutations / dim.max(1) as f64).min(1.0);
        let mut rng = ChaCha8Rng::seed_from_u64(ctx.round_seed());
        let mut out = Vec::new();
        let mut made = std::collections::BTreeSet::new();
        let mut tries = 0;
        while out.len() < ctx.wanted() && tries < 100 * ctx.wanted().max(1) {
            tries += 1;
            let a = rng.random_range(0..parents.len());
            let b = rng.random_range(0..parents.len());
            let (Some(xa), Some(xb)) = (&parents[a].detail.sequence, &parents[b].detail.sequence)
            else {
                continue;
            };
            let mut x: Vec<u32> = xa
                .iter()
                .zip(xb)
                .map(|(&sa, &sb)| {
                    if rng.random::<f64>() < self.recombine_prob {
                        sa
                    } else {
                        sb
                    }
                })
                .collect();
            for s in &mut x {
                if rng.random::<f64>() < p_mutate {
                    *s = rng.random_range(0..states);
                }
            }
            let Some(text) = to_letters(&x) else {
                continue;
            };
            if ctx.seen.contains(&text) || !made.insert(text.clone()) {
                continue;
            }
            let mut ids = vec![parents[a].id];
            if b != a {
                ids.push(parents[b].id);
            }
            out.push(Proposal {
                proposer: ProposerKind::Evolve,
                how: if b == a { "mutation" } else { "crossover" }.into(),
                parents: ids,
                text,
                tokens: Tokens::default(),
                error: None,
                cut: None,
            });
        }
        Ok(out)
    }
}
