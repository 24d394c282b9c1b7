"""Vectorised, seeded execution of trial designs."""

from alsim.simulate.trial import MAX_REPLICATES, TrialSimulation, replicate_rng, simulate_trial

__all__ = ["MAX_REPLICATES", "TrialSimulation", "replicate_rng", "simulate_trial"]
