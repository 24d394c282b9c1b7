"""MMRM seconds per replicate, alsim's `MmrmSpec` against R's ``nlme::gls``, same data, one core.

Replicates of a 108-patient, 8-visit trial (2:1, monotone dropout of about a quarter) are
fitted by both: alsim (REML with an analytic gradient, scoring steps, Satterthwaite df) and
``nlme::gls`` with ``corSymm`` + ``varIdent`` (the same model and REML fit; no df). The
estimates and SEs of the week-8 contrast must agree to 1e-4 before the times are compared. Both
run with one BLAS thread. The R line is skipped, saying why, where R or nlme is missing.

`python -m benchmarks mmrm` runs this file only.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

N_PATIENTS = 108
N_VISITS = 8
N_REPLICATES = 20
R_REPLICATES = 5
ONE_THREAD = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}
HERE = Path(__file__).parent


def make_data(n_replicates: int, seed: int = 1) -> pd.DataFrame:
    """Long data: replicate, id, visit_index, chg, base, trt (NaN-free rows of observed visits)."""
    rng = np.random.default_rng(seed)
    treated = np.arange(N_PATIENTS) % 3 != 0
    visits = np.arange(1, N_VISITS + 1)
    corr = 0.7 ** np.abs(np.subtract.outer(visits, visits))
    chol = np.linalg.cholesky(corr * np.outer(np.sqrt(visits), np.sqrt(visits)) * 2.0)
    rows = []
    for r in range(n_replicates):
        base = np.round(rng.normal(38, 5, N_PATIENTS))
        noise = rng.standard_normal((N_PATIENTS, N_VISITS)) @ chol.T
        chg = -0.9 * visits + 0.35 * treated[:, None] * visits - 0.05 * (base[:, None] - 38)
        chg = np.round(chg + noise, 1)
        last = np.where(
            rng.random(N_PATIENTS) < 0.25, rng.integers(1, N_VISITS, N_PATIENTS), N_VISITS
        )
        for i in range(N_PATIENTS):
            for k in range(last[i]):
                rows.append((r, i + 1, k + 1, chg[i, k], base[i], int(treated[i])))
    return pd.DataFrame(rows, columns=["replicate", "id", "visit_index", "chg", "base", "trt"])


def _wide(long: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n_rep = int(long["replicate"].max()) + 1
    chg = np.full((n_rep, N_PATIENTS, N_VISITS), np.nan)
    chg[long["replicate"], long["id"] - 1, long["visit_index"] - 1] = long["chg"]
    patients = long.drop_duplicates(["replicate", "id"])
    base = np.zeros((n_rep, N_PATIENTS))
    base[patients["replicate"], patients["id"] - 1] = patients["base"]
    treated = np.zeros(N_PATIENTS, dtype=bool)
    treated[patients["id"] - 1] = patients["trt"] == 1
    return chg, base, treated


def time_alsim(path: Path) -> dict[str, object]:
    """Fit every replicate of the CSV with MmrmSpec (run in a one-thread child process)."""
    from alsim.analysis import MmrmSpec

    chg, base, treated = _wide(pd.read_csv(path))
    spec = MmrmSpec()
    spec.fit(chg[:1], baseline=base[:1], treated=treated)  # warm-up
    started = time.perf_counter()
    result = spec.fit(chg, baseline=base, treated=treated)
    seconds = time.perf_counter() - started
    return {
        "seconds_per_replicate": seconds / chg.shape[0],
        "estimate": result.estimate.tolist(),
        "std_error": result.std_error.tolist(),
        "ok": bool(result.ok.all()),
    }


def _r_missing() -> str | None:
    if shutil.which("Rscript") is None:
        return "Rscript not found"
    check = subprocess.run(
        ["Rscript", "-e", "quit(status = !requireNamespace('nlme', quietly = TRUE))"],
        capture_output=True,
    )
    return None if check.returncode == 0 else "R package nlme not installed"


def main() -> None:
    """Time both on the same data and print seconds per replicate and the ratio."""
    env = {**os.environ, **ONE_THREAD}
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "mmrm.csv"
        make_data(N_REPLICATES).to_csv(data, index=False)
        child = subprocess.run(
            [sys.executable, "-m", "benchmarks.bench_mmrm", "--alsim", str(data)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            cwd=HERE.parent,
        )
        ours = json.loads(child.stdout)
        print(
            f"bench_mmrm: {N_REPLICATES} replicates x {N_PATIENTS} patients x {N_VISITS} visits, "
            "UN covariance, REML, one thread"
        )
        alsim_s = float(ours["seconds_per_replicate"])
        print(f"  alsim MmrmSpec (with Satterthwaite df): {alsim_s:8.3f} s per replicate")
        reason = _r_missing()
        if reason is not None:
            print(f"  nlme::gls: skipped ({reason})")
            return
        r_data = Path(tmp) / "mmrm_r.csv"
        long = pd.read_csv(data)
        long[long["replicate"] < R_REPLICATES].to_csv(r_data, index=False)
        r_out = Path(tmp) / "gls.csv"
        subprocess.run(
            ["Rscript", str(HERE / "mmrm_gls.R"), str(r_data), str(r_out)], env=env, check=True
        )
        gls = pd.read_csv(r_out)
        est = np.array(ours["estimate"][:R_REPLICATES])
        se = np.array(ours["std_error"][:R_REPLICATES])
        worst = max(
            float(np.max(np.abs(est / gls["estimate"].to_numpy() - 1))),
            float(np.max(np.abs(se / gls["std_error"].to_numpy() - 1))),
        )
        r_seconds = float(gls["seconds"].mean())
        print(
            f"  nlme::gls ({R_REPLICATES} replicates, no df):     {r_seconds:8.3f} s per replicate"
        )
        print(f"  speed-up (gls / alsim):                 {r_seconds / alsim_s:8.1f}x")
        print(f"  agreement: estimate and SE within {worst:.1e} relative (required 1e-4)")
        if worst > 1e-4:
            raise SystemExit("MMRM and nlme::gls disagree by more than 1e-4")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--alsim":
        print(json.dumps(time_alsim(Path(sys.argv[2]))))
    else:
        main()
