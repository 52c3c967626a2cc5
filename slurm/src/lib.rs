//! Candidate evaluation as Slurm job arrays over a shared run directory (being written).
