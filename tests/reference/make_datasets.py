"""Generate the small, fixed-seed trial datasets the R reference scripts analyse.

Run from the repository root: ``python tests/reference/make_datasets.py``. It writes
``trial_patients.csv`` (one row per patient) and ``trial_long.csv`` (one row per patient and
observed post-baseline visit) next to this file, the Rubin's-rules inputs, and
``reference_mi.csv`` for reference-based imputation. The data are synthetic but realistic in shape:
90 patients randomised 2:1 (tofersen:placebo), two strata, five post-baseline visits with
monotone dropout, ALSFRS-R change, plasma NfL at baseline and week 28, and a time to death or
permanent ventilation with administrative and random censoring and tied times.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).parent
SEED = 20240917
N_PATIENTS = 90
VISIT_WEEKS = (4, 8, 12, 20, 28)


def make(seed: int = SEED) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (patients, long) data frames."""
    rng = np.random.default_rng(seed)
    n = N_PATIENTS
    trt = np.zeros(n, dtype=int)
    trt[rng.permutation(n)[: 2 * n // 3]] = 1
    faster = rng.random(n) < 0.4
    age = np.round(rng.normal(50, 11, n), 0)
    base = np.clip(np.round(rng.normal(37, 5, n)), 20, 47)
    slope_month = np.where(faster, -1.3, -0.5) + rng.normal(0, 0.35, n) + 0.3 * trt
    weeks = np.array(VISIT_WEEKS, dtype=float)
    # random intercept + AR-like serial noise, so visits are correlated with growing variance
    chg = (
        slope_month[:, None] * weeks[None, :] / 4.345
        + rng.normal(0, 1.2, (n, 1))
        + np.cumsum(rng.normal(0, 1.0, (n, weeks.size)), axis=1)
        - 0.05 * (base[:, None] - 37)
    )
    chg = np.round(chg, 0)
    # monotone dropout: last observed visit index (5 = completer)
    last = np.where(rng.random(n) < 0.22, rng.integers(1, 5, n), 5)
    nfl0 = np.exp(rng.normal(np.log(np.where(faster, 90.0, 45.0)), 0.4, n))
    nfl28 = nfl0 * np.exp(np.log(1.12) - trt * 0.9 + rng.normal(0, 0.35, n))
    nfl28 = np.where(last >= 5, nfl28, np.nan)
    hazard = np.where(faster, 1 / 500, 1 / 1500) * np.exp(-0.4 * trt)
    event_time = rng.exponential(1 / hazard)
    censor_time = np.where(rng.random(n) < 0.15, rng.uniform(60, 364, n), 364.0)
    time = np.minimum(event_time, censor_time)
    event = (event_time <= censor_time).astype(int)
    time = np.ceil(time / 7.0) * 7.0  # weekly resolution gives tied times
    patients = pd.DataFrame(
        {
            "id": np.arange(1, n + 1),
            "trt": trt,
            "stratum": np.where(faster, "FASTER", "SLOWER"),
            "age": age,
            "base": base,
            "last_visit": last,
            "nfl0": np.round(nfl0, 2),
            "nfl28": np.round(nfl28, 2),
            "time": time,
            "event": event,
        }
    )
    rows = []
    for i in range(n):
        for k, week in enumerate(VISIT_WEEKS, start=1):
            if k <= last[i]:
                rows.append((i + 1, k, f"WEEK {week}", chg[i, k - 1]))
    long = pd.DataFrame(rows, columns=["id", "visit_index", "visit", "chg"])
    long = long.merge(patients[["id", "trt", "stratum", "age", "base"]], on="id")
    return patients, long


def make_rubin_inputs(seed: int = SEED) -> pd.DataFrame:
    """Estimates and within-imputation variances of m = 5 imputations, two scenarios."""
    rng = np.random.default_rng(seed + 1)
    rows = []
    for scenario, (spread, var) in enumerate([(0.6, 1.1), (0.15, 0.4)], start=1):
        q = 2.0 + rng.normal(0, spread, 5)
        u = var * np.exp(rng.normal(0, 0.1, 5))
        rows += [(scenario, k + 1, round(q[k], 6), round(u[k], 6)) for k in range(5)]
    return pd.DataFrame(rows, columns=["scenario", "imputation", "estimate", "variance"])


MI_FIT_PER_ARM = 800
MI_VISITS = 4


def make_reference_mi(seed: int = SEED) -> pd.DataFrame:
    """Data for reference-based imputation: per arm, `MI_FIT_PER_ARM` complete patients (the
    imputation model is fitted on them) with arm-specific means and covariances over 4 visits,
    and 8 target patients per arm with monotone missing tails after visit 0 (baseline only), 1,
    2 or 3 (two each). Columns: id, trt, role (fit/target), base, y1..y4 (empty = missing)."""
    rng = np.random.default_rng(seed + 2)
    rows = []
    for trt in (0, 1):
        n = MI_FIT_PER_ARM + 8
        base = np.round(rng.normal(37.0, 5.0, n), 1)
        t = np.arange(1, MI_VISITS + 1)
        slope = -1.6 if trt == 0 else -0.7  # tofersen declines less
        mean = base[:, None] * (1.0 - 0.04 * t) + slope * t + 0.04 * 37.0 * t
        sd = (1.0 if trt == 0 else 1.3) * np.sqrt(t)
        corr = (0.75 if trt == 0 else 0.55) ** np.abs(np.subtract.outer(t, t))
        chol = np.linalg.cholesky(corr * np.outer(sd, sd))
        y = np.round(mean + rng.standard_normal((n, MI_VISITS)) @ chol.T, 3)
        last = np.full(n, MI_VISITS)
        last[MI_FIT_PER_ARM:] = np.repeat(np.arange(4), 2)  # targets: observed up to visit j
        y = np.where(t[None, :] <= last[:, None], y, np.nan)
        for i in range(n):
            role = "fit" if i < MI_FIT_PER_ARM else "target"
            rows.append((trt * 10_000 + i + 1, trt, role, base[i], *y[i]))
    columns = ["id", "trt", "role", "base", *(f"y{k}" for k in range(1, MI_VISITS + 1))]
    return pd.DataFrame(rows, columns=columns)


def main() -> None:
    patients, long = make()
    patients.to_csv(HERE / "trial_patients.csv", index=False)
    long.to_csv(HERE / "trial_long.csv", index=False)
    make_rubin_inputs().to_csv(HERE / "rubin_inputs.csv", index=False)
    make_reference_mi().to_csv(HERE / "reference_mi.csv", index=False)


if __name__ == "__main__":
    main()
