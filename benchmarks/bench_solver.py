"""Patient-trajectory throughput: alsim's vectorised solver vs a per-patient LSODA loop.

Both integrate the same model and schedule (VALOR regimen, eight doses, daily output to week 28);
agreement is checked to 1e-6 relative before timings are compared.
"""

import time

import numpy as np

from alsim.model import DEFAULT_PARAMETERS, DoseSchedule, solve, solve_reference
from alsim.population import PopulationSpec, sample_population

DOSE_T_DAYS = np.array([0.0, 14, 28, 56, 84, 112, 140, 168])
T_OUT_DAYS = np.arange(0.0, 197.0)


def main(n_batch: int = 20_000, n_loop: int = 20) -> None:
    rng = np.random.default_rng(0)
    batch = sample_population(PopulationSpec(), DEFAULT_PARAMETERS, n_batch, rng).parameters
    amounts = np.full((n_batch, DOSE_T_DAYS.size), 100.0)

    start = time.perf_counter()
    traj = solve(batch, DoseSchedule(DOSE_T_DAYS, amounts), T_OUT_DAYS)
    vectorised_s = time.perf_counter() - start

    start = time.perf_counter()
    worst = 0.0
    for i in range(n_loop):
        ind = {k: float(v[i]) for k, v in batch.items()}
        ref = solve_reference(ind, DOSE_T_DAYS, amounts[i], T_OUT_DAYS, rtol=1e-10, atol=1e-12)
        for name in ("mrna", "sod1_protein", "nfl"):
            rel = np.abs(getattr(traj, name)[i] - ref[name]) / np.abs(ref[name])
            worst = max(worst, float(rel.max()))
    loop_s = time.perf_counter() - start

    vec_rate = n_batch / vectorised_s
    loop_rate = n_loop / loop_s
    print(f"max relative difference vs LSODA: {worst:.2e} ({'OK' if worst < 1e-6 else 'FAIL'})")
    print(f"vectorised: {vec_rate:,.0f} trajectories/s ({n_batch} in {vectorised_s:.2f} s)")
    print(f"LSODA loop: {loop_rate:,.1f} trajectories/s ({n_loop} in {loop_s:.2f} s)")
    print(f"speed-up: {vec_rate / loop_rate:,.0f}x")


if __name__ == "__main__":
    main()
