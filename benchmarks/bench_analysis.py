"""Batched ANCOVA + GMR + joint rank over 1,000 replicates of a 108-patient trial.

Prints the batched wall time and its ratio against a per-replicate loop of statsmodels OLS
(ANCOVA and GMR) plus per-replicate joint rank, run in the same process.
"""

from __future__ import annotations

import time

import numpy as np

from alsim.analysis import AncovaSpec, GmrSpec, JointRankSpec

N_REPLICATES = 1_000
N_PATIENTS = 108
N_VISITS = 5


def _data(seed: int = 1) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    shape = (N_REPLICATES, N_PATIENTS)
    treated = np.broadcast_to(np.arange(N_PATIENTS) % 3 != 0, shape)
    base = rng.normal(38, 5, shape)
    chg = np.cumsum(rng.normal(-1.2, 1.5, (*shape, N_VISITS)), axis=2) + treated[..., None]
    last = np.where(rng.random(shape) < 0.2, rng.integers(1, N_VISITS, shape), N_VISITS)
    chg = np.where(np.arange(N_VISITS) < last[..., None], chg, np.nan)
    nfl0 = np.exp(rng.normal(np.log(60), 0.5, shape))
    nfl = nfl0 * np.exp(np.log(1.12) - 0.9 * treated + rng.normal(0, 0.35, shape))
    time_days = np.ceil(rng.exponential(900, shape) / 7) * 7
    event = time_days < 196
    return {
        "treated": np.asarray(treated),
        "base": base,
        "chg": chg,
        "nfl0": nfl0,
        "nfl": nfl,
        "time": np.minimum(time_days, 196.0),
        "event": event,
    }


def _batched(d: dict[str, np.ndarray]) -> None:
    AncovaSpec().fit(d["chg"][..., -1], baseline=d["base"], treated=d["treated"])
    GmrSpec().fit(d["nfl"], baseline=d["nfl0"], treated=d["treated"])
    JointRankSpec().fit(d["chg"], treated=d["treated"], time_days=d["time"], event=d["event"])


def _loop(d: dict[str, np.ndarray]) -> None:
    import statsmodels.api as sm

    for r in range(N_REPLICATES):
        trt = d["treated"][r].astype(float)
        y = d["chg"][r, :, -1]
        keep = np.isfinite(y)
        X = np.column_stack([np.ones(N_PATIENTS), trt, d["base"][r]])
        fit = sm.OLS(y[keep], X[keep]).fit()
        _ = fit.params[1], fit.bse[1], fit.pvalues[1], fit.conf_int()[1]
        lx = np.column_stack([np.ones(N_PATIENTS), trt, np.log(d["nfl0"][r])])
        gfit = sm.OLS(np.log(d["nfl"][r] / d["nfl0"][r]), lx).fit()
        _ = np.exp(gfit.params[1]), gfit.pvalues[1], np.exp(gfit.conf_int()[1])
        JointRankSpec().fit(
            d["chg"][r : r + 1],
            treated=d["treated"][r],
            time_days=d["time"][r : r + 1],
            event=d["event"][r : r + 1],
        )


def main() -> None:
    """Time both paths and print the figures."""
    d = _data()
    _batched({k: v[:10] for k, v in d.items()})  # warm-up imports
    t0 = time.perf_counter()
    _batched(d)
    batched_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    _loop(d)
    loop_s = time.perf_counter() - t0
    print(
        f"bench_analysis: ANCOVA + GMR + joint rank, {N_REPLICATES} replicates x {N_PATIENTS} "
        f"patients x {N_VISITS} visits"
    )
    print(f"  batched:                  {batched_s:8.3f} s")
    print(
        f"  per-replicate loop:       {loop_s:8.3f} s (statsmodels OLS + joint rank per replicate)"
    )
    print(f"  speed-up (loop / batched): {loop_s / batched_s:7.1f}x")


if __name__ == "__main__":
    main()
