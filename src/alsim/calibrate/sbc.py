"""Simulation-based calibration of the joint fit (Talts et al. 2018, in its coverage form).

For each case: draw true parameters from the prior (truncated to the design box), simulate one
trial of every study at them (a seed the design never used) to make a synthetic evidence set,
fit it with the same emulators and sampler, and ask whether the 90% credible intervals cover the
truth: per parameter (marginal intervals) and jointly (the truth inside the 90% highest
posterior density region: its log posterior above the 10% quantile of the draws'). A correct
pipeline covers about 90% of the time. Each synthetic value is one simulated trial, so its
sampling error is the simulated replicate-to-replicate SD at the truth: the fits weight every
synthetic target by the emulated simulated SD (as the real fit does for targets without a
published CI), which is what generated it. Each fit runs the sampler with the calibration's own
settings, chain length included: the check is of the pipeline that made the posterior (chains
cut to 800 steps had split R-hat up to 1.35).

Run ``python -m alsim.calibrate.sbc DIR [N_CASES] [WORKERS]`` on the output of `alsim calibrate`
(its design.parquet) to print the figures; on the output of the default calibration with seed 1
it computes exactly what the slow test computes (the same design, emulators, cases and chains).
The cases of a longer run begin with those of a shorter one (the first 20 of 40 are the 20).
``WORKERS`` processes fit cases side by side with the same results.
"""

import math
import sys
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from alsim.calibrate.emulator import Emulator
from alsim.calibrate.joint import (
    BOX,
    CalibrationSettings,
    DesignRuns,
    FreeSpace,
    all_targets,
    emulate,
    fit_groups,
    free_space,
    log_posterior,
    output_order,
    simulate_statistics,
)

FloatArray = NDArray[np.float64]
SBC_SEED_OFFSET = 1_000_003
SBC_SEED = 17
SBC_CASES = 40  # binomial SE of a pooled coverage near 0.8: 0.016 (0.023 at 20 cases)


@dataclass(frozen=True, slots=True)
class SbcResult:
    """Per case: the truth (standardised scale), whether each parameter's 90% interval covers
    it, and whether the joint 90% HPD region does."""

    names: tuple[str, ...]
    truth: FloatArray
    covered: NDArray[np.bool_]
    joint: NDArray[np.bool_]

    @property
    def marginal_coverage(self) -> float:
        return float(np.mean(self.covered))

    @property
    def joint_coverage(self) -> float:
        return float(np.mean(self.joint))

    def per_parameter(self) -> dict[str, float]:
        return {n: float(v) for n, v in zip(self.names, self.covered.mean(axis=0), strict=True)}


def _truth(rng: np.random.Generator, n_dims: int) -> FloatArray:
    while True:
        u = rng.standard_normal(n_dims)
        if np.all(np.abs(u) <= BOX):
            return u


@dataclass(frozen=True, slots=True)
class _Shared:
    """What every case's fit reads: sent once to each worker process, not once per case."""

    emulator: Emulator
    design: DesignRuns
    space: FreeSpace
    settings: CalibrationSettings
    groups: tuple[str, ...]
    seed: int


_SHARED: list[_Shared] = []


def _share(shared: _Shared) -> None:
    _SHARED[:] = [shared]


def _fit_case(
    case: int, u: FloatArray, shared: _Shared | None = None
) -> tuple[NDArray[np.bool_], bool] | None:
    """Candidate `case` (truth `u`): simulate its synthetic evidence set and fit it; None when a
    synthetic value is not finite (the case is then skipped). Seeds depend on `case` alone."""
    from threadpoolctl import threadpool_limits

    s = shared if shared is not None else _SHARED[0]
    targets = [t for t in all_targets() if t.group in s.groups and t.in_likelihood]
    with threadpool_limits(1):
        values = simulate_statistics(
            s.space.parameter_set(u),
            targets,
            settings=replace(s.settings, n_replicates=1),
            seed=s.seed + SBC_SEED_OFFSET + case,
            headline=False,
        )
        observed = {name: float(v[0]) for name, v in values.items()}
        if not all(math.isfinite(v) for v in observed.values()):
            return None
        like, chain = fit_groups(
            s.emulator, s.design, s.groups, s.settings, seed=s.seed + case + 1, observed=observed
        )
    low, high = np.quantile(chain.draws, [0.05, 0.95], axis=0)
    threshold = np.quantile(chain.log_posterior, 0.10)
    joint = bool(log_posterior(like, u[None, :])[0] >= threshold)
    return (low <= u) & (u <= high), joint


def simulation_based_calibration(
    emulator: Emulator,
    design: DesignRuns,
    space: FreeSpace,
    settings: CalibrationSettings,
    groups: tuple[str, ...],
    *,
    n_cases: int,
    seed: int,
    workers: int = 1,
) -> SbcResult:
    """Fit `n_cases` synthetic evidence sets generated at known parameters. Cases run on
    `workers` processes; each case's truth and seeds are fixed by its place in the sequence,
    and results are taken in that order, so the number of workers changes nothing but speed."""
    rng = np.random.default_rng(seed)
    candidates = [_truth(rng, len(space.names)) for _ in range(3 * n_cases)]
    shared = _Shared(emulator, design, space, settings, tuple(groups), seed)
    truths: list[FloatArray] = []
    covered: list[NDArray[np.bool_]] = []
    joint: list[bool] = []

    def keep(u: FloatArray, result: tuple[NDArray[np.bool_], bool] | None) -> None:
        if result is not None and len(truths) < n_cases:
            truths.append(u)
            covered.append(result[0])
            joint.append(result[1])

    if workers <= 1:
        for case, u in enumerate(candidates):
            if len(truths) >= n_cases:
                break
            keep(u, _fit_case(case, u, shared))
    else:
        with ProcessPoolExecutor(
            max_workers=workers, initializer=_share, initargs=(shared,)
        ) as pool:
            pending: deque[tuple[FloatArray, Future[tuple[NDArray[np.bool_], bool] | None]]]
            pending = deque()
            for case, u in enumerate(candidates):
                # at most the cases still wanted are queued; results are taken in case order
                while pending and len(truths) + len(pending) >= n_cases:
                    first, future = pending.popleft()
                    keep(first, future.result())
                if len(truths) >= n_cases:
                    break
                pending.append((u, pool.submit(_fit_case, case, u)))
            while pending:
                first, future = pending.popleft()
                keep(first, future.result())
    return SbcResult(
        names=space.names,
        truth=np.array(truths),
        covered=np.array(covered),
        joint=np.array(joint),
    )


def load_design(path: Path) -> DesignRuns:
    """The design runs written by `alsim calibrate` (design.parquet)."""
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    names = table.column_names
    u = np.column_stack([table.column(n).to_numpy() for n in names if n.startswith("u_")])
    order = output_order(all_targets())
    mean = {n: table.column(f"mean:{n}").to_numpy() for n in order}
    sd = {n: table.column(f"sd:{n}").to_numpy() for n in order}
    corr = {n[5:]: table.column(n).to_numpy() for n in names if n.startswith("corr:")}
    return DesignRuns(u=u, mean=mean, sd=sd, corr=corr)


def main(argv: list[str]) -> None:
    import json

    directory = Path(argv[0])
    n_cases = int(argv[1]) if len(argv) > 1 else SBC_CASES
    workers = int(argv[2]) if len(argv) > 2 else 1
    summary = json.loads((directory / "summary.json").read_text(encoding="utf-8"))
    settings = CalibrationSettings(seed=int(summary["seed"]), **summary["settings"])
    design = load_design(directory / "design.parquet")
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        emulator = emulate(design, settings)
    result = simulation_based_calibration(
        emulator,
        design,
        free_space(),
        settings,
        tuple(summary["fitted_groups"]),
        n_cases=n_cases,
        seed=SBC_SEED,
        workers=workers,
    )
    for k, row in enumerate(result.covered):
        print(f"case {k}: {int(row.sum())}/{row.size} covered, joint {bool(result.joint[k])}")
    print(f"cases: {result.truth.shape[0]}")
    print(f"marginal 90% CrI coverage (all parameters x cases): {result.marginal_coverage:.3f}")
    print(f"joint 90% HPD region coverage (cases): {result.joint_coverage:.3f}")
    for name, value in result.per_parameter().items():
        print(f"  {name}: {value:.2f}")


if __name__ == "__main__":
    main(sys.argv[1:])
