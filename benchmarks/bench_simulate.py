"""`alsim simulate` end to end: patients per second including the ADaM tables, against mrgsolve.

Runs the command on `designs/valor_ole.yaml` (108 patients, to week 156) in this process with the
default formats (Parquet, CSV, XPT) and prints patients per second of the whole command (simulate,
write, report) beside mrgsolve's patients per second on the same schedule (`bench_solver`'s
anchor, alsim's sampled patients, rtol 1e-8: the tolerance at which it agrees with LSODA to 1e-6),
timed in the same process. Target: the whole command >= 3x mrgsolve.

`python -m benchmarks simulate` runs this file only.
"""

import json
import tempfile
import time
from pathlib import Path

import numpy as np

from alsim.cli.simulate import _run
from alsim.model import DEFAULT_PARAMETERS
from alsim.population import PopulationSpec, sample_population
from benchmarks.bench_solver import valor_ole_156
from benchmarks.mrgsolve_anchor import mrgsolve_available, run_mrgsolve

DESIGN = Path(__file__).resolve().parent.parent / "designs" / "valor_ole.yaml"
N_REPLICATES = 50
N_MRGSOLVE_PATIENTS = 1_000
MRGSOLVE_REPEATS = 3  # the best of: other processes may share the cores


def whole_command(n_replicates: int = N_REPLICATES) -> float:
    """Patients per second of `alsim simulate` (all formats); prints the stages."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        start = time.perf_counter()
        _run(DESIGN, n_replicates, 0, out, False, "parquet,csv,xpt")
        seconds = time.perf_counter() - start
        timings = json.loads((out / "manifest.json").read_text())["timings_s"]
    n_patients = 108 * n_replicates
    rate = n_patients / seconds
    print(
        f"alsim simulate designs/valor_ole.yaml --replicates {n_replicates} (Parquet, CSV, XPT): "
        f"{seconds:.1f} s, {rate:,.0f} patients/s; stages: "
        + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items())
    )
    return rate


def main() -> None:
    rate = whole_command()
    missing = mrgsolve_available()
    if missing is not None:
        print(f"  mrgsolve: skipped ({missing}); install R and the mrgsolve package to compare")
        return
    dose_t, visits = valor_ole_156()
    rng = np.random.default_rng(3)
    n = N_MRGSOLVE_PATIENTS
    batch = sample_population(PopulationSpec(), DEFAULT_PARAMETERS, n, rng).parameters
    amounts = np.full((n, dose_t.size), 100.0)
    seconds = min(
        run_mrgsolve(batch, dose_t, amounts, visits, rtol=1e-8, atol=1e-10)[1]
        for _ in range(MRGSOLVE_REPEATS)
    )
    anchor = n / seconds
    print(
        f"  mrgsolve LSODA rtol 1e-8, solver alone, best of {MRGSOLVE_REPEATS}: "
        f"{anchor:,.0f} patients/s"
    )
    print(f"  alsim simulate / mrgsolve: {rate / anchor:.1f}x (target >= 3x)")


if __name__ == "__main__":
    main()
