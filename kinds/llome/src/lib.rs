//! LLOME: a small language model trained between rounds with SFT, DPO and MargE on Ehrlich tasks (being written).
