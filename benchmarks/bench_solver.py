"""Patient-trajectory throughput of alsim's solver against mrgsolve and a per-patient LSODA loop.

1. The anchor: VALOR + extension to week 156 (`designs/valor_ole.yaml`, 42 doses), output at the
   visit days, alsim's own sampled patients: mrgsolve (R/C++ LSODA, the model generated from the
   parameter table by `benchmarks.mrgsolve_anchor`) at rtol 1e-6, 1e-7 and 1e-8, and alsim's
   `solve` (`alsim.model.compiled`) in one batch and in chunks of 250 and of 7 patients, all on
   one core. Agreement with LSODA (`solve_reference`, rtol 1e-11) is checked first, at the visits
   and in the first hours after doses; the ratios are printed at the end.
   Without Rscript or mrgsolve the mrgsolve lines are skipped with a message.
2. `solve` against a per-patient LSODA loop on a daily grid, for VALOR (eight doses to week 28)
   and VALOR plus its open-label extension to week 52 (`set_duration(valor_ole, 52)`).
"""

import time

import numpy as np

from alsim.model import DEFAULT_PARAMETERS, DoseSchedule, solve, solve_reference
from alsim.population import PopulationSpec, sample_population
from benchmarks.mrgsolve_anchor import mrgsolve_available, run_mrgsolve

ANCHOR_PATIENTS = 1_000
ANCHOR_CHECK_PATIENTS = 12
ANCHOR_REPEATS = 3  # the best of each engine's repeats: other processes may share the cores
CHUNK_PATIENTS = (250, 7)
PD_STATES = ("mrna", "sod1_protein", "nfl", "effect", "effect_time_days")

DOSE_T_DAYS = np.array([0.0, 14, 28, 56, 84, 112, 140, 168])
T_OUT_DAYS = np.arange(0.0, 197.0)


def valor_extension_doses_and_visits(weeks: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Dose times and visit times (days from the first dose) of VALOR + extension
    (`designs/valor_ole.yaml`), cut at `weeks` when given."""
    from alsim.campaign import set_duration
    from alsim.design import load_template

    design = load_template("ole")
    if weeks is not None:
        design = set_duration(design, weeks)
    assert design.extension is not None
    days = design.regimen.dose_days + design.extension.regimen.dose_days
    visits = np.array([v.day for v in design.visits], dtype=np.float64) - 1.0
    return np.array(days, dtype=np.float64) - 1.0, visits


def valor_extension_schedule() -> tuple[np.ndarray, np.ndarray]:
    """Dose times and daily output times (days from the first dose) of VALOR + extension to
    week 52."""
    dose_t, visits = valor_extension_doses_and_visits(52)
    return dose_t, np.arange(0.0, visits[-1] + 1.0)


def valor_ole_156() -> tuple[np.ndarray, np.ndarray]:
    """Dose times and visit times (days from the first dose) of `designs/valor_ole.yaml`."""
    return valor_extension_doses_and_visits()


def _worst(got: dict[str, np.ndarray], ref: list[dict[str, np.ndarray]]) -> float:
    worst = 0.0
    for i, r in enumerate(ref):
        for name in PD_STATES:
            scale = np.abs(r[name])
            keep = scale > 0
            rel = np.abs(got[name][i] - r[name])[keep] / scale[keep]
            worst = max(worst, float(rel.max(initial=0.0)))
    return worst


def _states(trajectories: object) -> dict[str, np.ndarray]:
    return {name: getattr(trajectories, name) for name in PD_STATES}


def anchor(n_patients: int = ANCHOR_PATIENTS) -> None:
    """mrgsolve vs alsim on the VALOR + extension schedule (see the module docstring)."""
    dose_t, visits = valor_ole_156()
    rng = np.random.default_rng(11)
    batch = sample_population(PopulationSpec(), DEFAULT_PARAMETERS, n_patients, rng).parameters
    amounts = np.full((n_patients, dose_t.size), 100.0)
    amounts[::3, :8] = 0.0  # the placebo third starts at the extension
    doses = DoseSchedule(dose_t, amounts)
    # agreement first: visits and the first hours after four doses
    hours = np.concatenate([d + np.array([1, 3, 6, 12]) / 24 for d in dose_t[[0, 1, 8, 9]]])
    check_t = np.union1d(visits, hours)
    k = ANCHOR_CHECK_PATIENTS
    few = {name: v[:k] for name, v in batch.items()}
    ref = [
        solve_reference({n: float(v[i]) for n, v in batch.items()}, dose_t, amounts[i], check_t)
        for i in range(k)
    ]
    print(
        f"VALOR + extension to week 156 ({dose_t.size} doses), {visits.size} visits, "
        f"{n_patients:,} sampled patients, one core, best of {ANCHOR_REPEATS}; agreement vs "
        f"LSODA (rtol 1e-11) on {k} patients at the visits and 1-12 h after four doses:"
    )
    rates: dict[str, float] = {}

    def timed(label: str, run: object, agreement: float) -> None:
        seconds = np.inf
        for _ in range(ANCHOR_REPEATS):
            start = time.perf_counter()
            run()  # type: ignore[operator]
            seconds = min(seconds, time.perf_counter() - start)
        rates[label] = n_patients / seconds
        print(
            f"  {label:34s} {rates[label]:9,.0f} patients/s ({seconds:6.2f} s); "
            f"max rel. diff {agreement:.1e}"
        )

    few_doses = DoseSchedule(dose_t, amounts[:k])
    solve(few, few_doses, check_t)  # compile, or load the compiled kernels
    diff = _worst(_states(solve(few, few_doses, check_t)), ref)
    timed("alsim solve, one batch", lambda: solve(batch, doses, visits), diff)

    def chunked(size: int) -> None:
        for start in range(0, n_patients, size):
            part = slice(start, start + size)
            solve(
                {name: v[part] for name, v in batch.items()},
                DoseSchedule(dose_t, amounts[part]),
                visits,
            )

    for size in CHUNK_PATIENTS:
        timed(f"alsim solve, chunks of {size:,}", lambda size=size: chunked(size), diff)
    missing = mrgsolve_available()
    if missing is not None:
        print(f"  mrgsolve: skipped ({missing}); install R and the mrgsolve package to compare")
        return
    matched = None  # the loosest mrgsolve tolerance that agrees with LSODA to 1e-6
    for rtol in (1e-6, 1e-7, 1e-8):
        got, _ = run_mrgsolve(few, dose_t, amounts[:k], check_t, rtol=rtol, atol=rtol * 1e-2)
        diff = _worst(got, ref)
        seconds = min(
            run_mrgsolve(batch, dose_t, amounts, visits, rtol=rtol, atol=rtol * 1e-2)[1]
            for _ in range(ANCHOR_REPEATS)
        )
        label = f"mrgsolve LSODA rtol {rtol:.0e}"
        rates[label] = n_patients / seconds
        print(
            f"  {label:34s} {rates[label]:9,.0f} patients/s ({seconds:6.2f} s); "
            f"max rel. diff {diff:.1e}"
        )
        if matched is None and diff <= 1e-6:
            matched = label
    alsim = [label for label in rates if label.startswith("alsim")]
    for base in ("mrgsolve LSODA rtol 1e-06", matched):
        if base is None:
            continue
        note = " (the loosest tolerance within 1e-6 of LSODA)" if base == matched else ""
        ratios = ", ".join(f"{label[6:]} {rates[label] / rates[base]:.1f}x" for label in alsim)
        print(f"  alsim / {base}{note}: {ratios} (target >= 10x)")


def main() -> None:
    anchor()
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
    print(f"  solve: {vec_rate:,.0f} trajectories/s ({n_batch} in {vectorised_s:.2f} s)")
    print(f"  LSODA loop: {loop_rate:,.1f} trajectories/s ({n_loop} in {loop_s:.2f} s)")
    print(f"  speed-up: {vec_rate / loop_rate:,.0f}x (LSODA rtol 1e-10, the reference)")
    print(f"  LSODA loop at rtol 1e-6: {loose_rate:,.1f} trajectories/s")
    print(f"  speed-up: {vec_rate / loose_rate:,.0f}x (LSODA rtol 1e-6)")


if __name__ == "__main__":
    main()
