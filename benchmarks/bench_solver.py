"""Patient-trajectory throughput: alsim's vectorised solver vs a per-patient LSODA loop.

Both integrate the same model and schedule, agreement checked to 1e-6 relative before timings are
compared, for two schedules on a daily output grid: VALOR (eight doses to week 28) and VALOR plus
its open-label extension to week 52 (`set_duration(valor_ole, 52)`: eight randomised doses, then
the extension's loading and maintenance doses from Day 197, daily to Day 365).
"""

import time

import numpy as np

from alsim.model import DEFAULT_PARAMETERS, DoseSchedule, solve, solve_reference
from alsim.population import PopulationSpec, sample_population

DOSE_T_DAYS = np.array([0.0, 14, 28, 56, 84, 112, 140, 168])
T_OUT_DAYS = np.arange(0.0, 197.0)


def valor_extension_schedule() -> tuple[np.ndarray, np.ndarray]:
    """Dose times and daily output times (days from the first dose) of VALOR + extension to
    week 52."""
    from alsim.campaign import set_duration
    from alsim.design import load_template

    design = set_duration(load_template("ole"), 52)
    assert design.extension is not None
    days = design.regimen.dose_days + design.extension.regimen.dose_days
    return np.array(days, dtype=np.float64) - 1.0, np.arange(0.0, design.visits[-1].day)


def main() -> None:
    print("VALOR, 28 weeks:")
    compare(DOSE_T_DAYS, T_OUT_DAYS)
    print("VALOR + open-label extension, 52 weeks:")
    compare(*valor_extension_schedule())


def compare(
    dose_t_days: np.ndarray, t_out_days: np.ndarray, n_batch: int = 20_000, n_loop: int = 20
) -> None:
    rng = np.random.default_rng(0)
    batch = sample_population(PopulationSpec(), DEFAULT_PARAMETERS, n_batch, rng).parameters
    amounts = np.full((n_batch, dose_t_days.size), 100.0)

    start = time.perf_counter()
    traj = solve(batch, DoseSchedule(dose_t_days, amounts), t_out_days)
    vectorised_s = time.perf_counter() - start

    start = time.perf_counter()
    worst = 0.0
    for i in range(n_loop):
        ind = {k: float(v[i]) for k, v in batch.items()}
        ref = solve_reference(ind, dose_t_days, amounts[i], t_out_days, rtol=1e-10, atol=1e-12)
        for name in ("mrna", "sod1_protein", "nfl"):
            rel = np.abs(getattr(traj, name)[i] - ref[name]) / np.abs(ref[name])
            worst = max(worst, float(rel.max()))
    loop_s = time.perf_counter() - start

    # the same loop at a looser, everyday tolerance (rtol 1e-6), timed alone
    start = time.perf_counter()
    for i in range(n_loop):
        ind = {k: float(v[i]) for k, v in batch.items()}
        solve_reference(ind, dose_t_days, amounts[i], t_out_days, rtol=1e-6, atol=1e-9)
    loose_rate = n_loop / (time.perf_counter() - start)

    vec_rate = n_batch / vectorised_s
    loop_rate = n_loop / loop_s
    print(f"  max relative difference vs LSODA: {worst:.2e} ({'OK' if worst < 1e-6 else 'FAIL'})")
    print(f"  vectorised: {vec_rate:,.0f} trajectories/s ({n_batch} in {vectorised_s:.2f} s)")
    print(f"  LSODA loop: {loop_rate:,.1f} trajectories/s ({n_loop} in {loop_s:.2f} s)")
    print(f"  speed-up: {vec_rate / loop_rate:,.0f}x (LSODA rtol 1e-10, the reference)")
    print(f"  LSODA loop at rtol 1e-6: {loose_rate:,.1f} trajectories/s")
    print(f"  speed-up: {vec_rate / loose_rate:,.0f}x (LSODA rtol 1e-6)")


if __name__ == "__main__":
    main()
