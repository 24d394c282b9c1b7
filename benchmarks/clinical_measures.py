"""Measurements of the clinical model's natural-history behaviour (the table of issue 14).

Rerun with ``python -m benchmarks.clinical_measures [--replicates R]``. Every number comes from
simulated trials built from the shipped templates and read through the public API only
(`simulate_trial`, the protocol analyses, the natural-history comparison rows), so the same script
measures any version of the model:

- 5-year designs from ``valor.yaml`` with every patient on placebo (untreated) or on tofersen
  100 mg (the label regimen), weekly visits, no withdrawal: NfL ratios to baseline, ALSFRS-R and
  SVC at death, time alive at SVC 0;
- a 20-year untreated design (4-weekly visits) for survival against the in-study slope;
- VALOR itself (the protocol GMR ANCOVAs at week 28) and its natural-history rows (Bali);
- VALOR entrants' covariates: months from onset, baseline ALSFRS-R, slopes, baseline NfL.
"""

import argparse
from typing import Any

import numpy as np
from numpy.typing import NDArray

from alsim.design import load_template
from alsim.design.io import parse_design
from alsim.design.trial import TrialDesign
from alsim.evidence.compare import compare
from alsim.evidence.protocol import gmr_ancova
from alsim.simulate import TrialSimulation, simulate_trial

FloatArray = NDArray[np.float64]
DAYS_PER_YEAR = 365.25
SVC_ZERO_PCT = 1.0


def long_design(*, dose_mg: float, years: float, visit_step_days: int) -> TrialDesign:
    """VALOR's entrants and strata, every patient on `dose_mg` for `years`, no withdrawal."""
    document: dict[str, Any] = load_template("valor").model_dump(mode="json")
    last_day = round(years * DAYS_PER_YEAR) + 1
    days = list(range(1, last_day + 1, visit_step_days))
    document["visits"] = [{"name": f"DAY {d}", "day": d} for d in days]
    document["primary_visit"] = document["visits"][-1]["name"]
    for arm in document["arms"]:
        arm["dose_mg"] = dose_mg
    regimen = document["regimen"]
    # untreated: the loading doses alone (0 mg), so the solver's short post-dose steps are few
    maintenance = (last_day - regimen["loading_days"][-1]) // regimen["interval_days"]
    regimen["n_maintenance"] = max(0, maintenance) if dose_mg > 0 else 0
    document["dropout_per_year"] = 0.0
    document["endpoints"] = ["PLNFL", "ALSFRSR", "SVCPP", "DTHPV"]
    document["analysis_plan"] = None  # VALOR's plan names visits and endpoints dropped here
    return parse_design(document)


def _alive(sim: TrialSimulation, day: float) -> NDArray[np.bool_]:
    return np.asarray(sim.event_day > day)


def _q(values: FloatArray, *qs: float) -> str:
    values = values[np.isfinite(values)]
    if values.size == 0:
        return "n/a"
    return ", ".join(f"{v:.3g}" for v in np.quantile(values, qs))


def nfl_course(sim: TrialSimulation, label: str) -> None:
    nfl = sim.true_values["PLNFL"]
    for years in (1.0, 5.0):
        day = 1.0 + years * DAYS_PER_YEAR
        k = int(np.argmin(np.abs(sim.visit_days - day)))
        ratio = nfl[:, :, k] / nfl[:, :, 0]
        alive = _alive(sim, float(sim.visit_days[k]))
        r = ratio[alive]
        print(
            f"  {label} NfL ratio to baseline at {years:g} y (alive, n={r.size}): geometric mean "
            f"{np.exp(np.mean(np.log(r))):.3g}, 5-95% {_q(r, 0.05, 0.95)}; "
            f"share below baseline {np.mean(r < 1.0):.3f}"
        )


def untreated_measures(sim: TrialSimulation) -> None:
    nfl = sim.true_values["PLNFL"]
    k1 = int(np.argmin(np.abs(sim.visit_days - (1.0 + DAYS_PER_YEAR))))
    alive = _alive(sim, float(sim.visit_days[k1]))
    drift = np.log(nfl[:, :, k1] / nfl[:, :, 0])[alive]
    slope = sim.covariates["slope_per_month"][alive]
    print(
        "  r(log NfL ratio over year 1, in-study slope), untreated: "
        f"{np.corrcoef(drift, slope)[0, 1]:.3f}"
    )
    score, svc = sim.true_values["ALSFRSR"], sim.true_values["SVCPP"]
    days = sim.visit_days.astype(np.float64)
    died = np.isfinite(sim.event_day) & (sim.event_day <= days[-1])
    before = days[None, None, :] < sim.event_day[:, :, None]
    last = np.maximum(before.sum(axis=2) - 1, 0)
    at_death = np.take_along_axis(score, last[:, :, None], axis=2)[:, :, 0][died]
    svc_at_death = np.take_along_axis(svc, last[:, :, None], axis=2)[:, :, 0][died]
    print(
        f"  ALSFRS-R at death (n={at_death.size}): median, 5%, 95% {_q(at_death, 0.5, 0.05, 0.95)}"
    )
    print(f"  SVC at death: median, 5%, 95% {_q(svc_at_death, 0.5, 0.05, 0.95)}")
    low_score = score <= 10.0
    reached = low_score.any(axis=2)
    first = np.argmax(low_score, axis=2)
    svc_at_10 = np.take_along_axis(svc, first[:, :, None], axis=2)[:, :, 0][reached]
    print(f"  SVC when ALSFRS-R first <= 10: median, 5%, 95% {_q(svc_at_10, 0.5, 0.05, 0.95)}")
    step = float(days[1] - days[0])
    at_zero = (svc <= SVC_ZERO_PCT) & before
    months_at_zero = at_zero.sum(axis=2) * step
    print(
        f"  share of patients alive >= 3 months at SVC <= {SVC_ZERO_PCT:g}% (5 y): "
        f"{np.mean(months_at_zero >= 91.0):.3f}; share of deaths after SVC reached it: "
        f"{np.mean(at_zero.any(axis=2)[died]) if died.any() else float('nan'):.3f}"
    )


def treated_measures(sim: TrialSimulation) -> None:
    nfl_course(sim, "tofersen 100 mg")
    score = sim.true_values["ALSFRSR"]
    k1 = int(np.argmin(np.abs(sim.visit_days - (1.0 + DAYS_PER_YEAR))))
    alive = _alive(sim, float(sim.visit_days[k1]))
    change = (score[:, :, k1] - score[:, :, 0])[alive]
    print(
        f"  tofersen: share with true ALSFRS-R at 1 y >= baseline {np.mean(change >= 0):.3f}; "
        f"change at 1 y median, 5%, 95% {_q(change, 0.5, 0.05, 0.95)}"
    )


def survival_vs_slope(replicates: int, seed: int) -> None:
    sim = simulate_trial(
        long_design(dose_mg=0.0, years=19.5, visit_step_days=28),
        n_replicates=replicates,
        seed=seed,
    )
    died = np.isfinite(sim.event_day)
    log_t = np.log(sim.event_day[died])
    log_slope = np.log(sim.covariates["slope_per_month"][died])
    r = np.corrcoef(log_t, log_slope)[0, 1]
    print(
        f"  R^2 of log survival from Day 1 on log in-study slope, untreated 19.5 y "
        f"({died.mean():.3f} with an event): {r**2:.3f}"
    )


def entrants(sim: TrialSimulation) -> None:
    cov = sim.covariates
    faster = np.broadcast_to(sim.group_index == 0, cov["a4v"].shape)
    months = cov["months_since_onset"]
    for name, pick in (("faster", faster), ("slower", ~faster), ("ITT", np.ones_like(faster))):
        print(
            f"  {name}: months from onset to entry median {np.median(months[pick]):.3g}, "
            f"share < 3 months {np.mean(months[pick] < 3.0):.3f}; baseline ALSFRS-R mean "
            f"{np.mean(cov['alsfrsr_baseline'][pick]):.3g}, median "
            f"{np.median(cov['alsfrsr_baseline'][pick]):.3g}; A4V share "
            f"{np.mean(cov['a4v'][pick]):.3f}"
        )
    slope = cov["slope_per_month"][faster]
    print(
        f"  faster in-study slope (points/month): 5-95% {_q(slope, 0.05, 0.95)}, median "
        f"{np.median(slope):.3g}, mean {np.mean(slope):.3g}"
    )
    slope_all = cov["slope_per_month"].ravel()
    print(
        f"  ITT in-study slope: 5-95% {_q(slope_all, 0.05, 0.95)}, median "
        f"{np.median(slope_all):.3g}, mean {np.mean(slope_all):.3g}"
    )
    nfl = np.log(cov["plasma_nfl_base_pg_ml"]).ravel()
    pre = np.log(cov["prestudy_slope_per_month"]).ravel()
    inside = np.log(cov["slope_per_month"]).ravel()
    print(
        f"  r(log baseline NfL, log pre-study slope) {np.corrcoef(nfl, pre)[0, 1]:.3f}; "
        f"r(log baseline NfL, log in-study slope) {np.corrcoef(nfl, inside)[0, 1]:.3f}; "
        f"r(log pre-study, log in-study slope) {np.corrcoef(pre, inside)[0, 1]:.3f}"
    )
    base = np.exp(nfl)
    print(
        f"  baseline plasma NfL: median {np.median(base):.3g} pg/mL, 5-95% {_q(base, 0.05, 0.95)}"
        f", share < 10 pg/mL {np.mean(base < 10.0):.4f}"
    )


def valor_measures(replicates: int, seed: int) -> None:
    design = load_template("valor")
    sim = simulate_trial(design, n_replicates=replicates, seed=seed)
    for population in ("ITT", "FASTER", "SLOWER"):
        result = gmr_ancova(sim, "PLNFL", "WEEK 28", population)
        print(
            f"  VALOR week 28 plasma NfL GMR to baseline, {population}: placebo "
            f"{np.nanmedian(result.control):.3f}, tofersen {np.nanmedian(result.treated):.3f}"
        )
    for row in compare("natural_history", sim):
        print(
            f"  {row.target}: simulated median {row.sim_median:.3g} "
            f"[{row.sim_low:.3g}, {row.sim_high:.3g}], published {row.published}"
        )
    entrants(sim)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=20)
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args(argv)
    print("VALOR and its entrants:")
    valor_measures(max(args.replicates, 20), args.seed)
    print("5 years untreated:")
    placebo = simulate_trial(
        long_design(dose_mg=0.0, years=5.0, visit_step_days=7),
        n_replicates=args.replicates,
        seed=args.seed,
    )
    nfl_course(placebo, "untreated")
    untreated_measures(placebo)
    print("5 years on tofersen 100 mg:")
    treated = simulate_trial(
        long_design(dose_mg=100.0, years=5.0, visit_step_days=7),
        n_replicates=args.replicates,
        seed=args.seed,
    )
    treated_measures(treated)
    print("Survival and slope:")
    survival_vs_slope(max(2, args.replicates // 4), args.seed)


if __name__ == "__main__":
    main()
