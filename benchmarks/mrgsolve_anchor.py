"""The speed anchor: alsim's model in mrgsolve (R/C++, LSODA), generated from the parameter table.

`model_code()` writes the mrgsolve model: `$PARAM` from `alsim.model.parameters` (alsim's names,
typical values, units and descriptions) plus the two per-patient course values, the states in
`solve_reference`'s order (the transit chain as long as the table's `n_transit_effect`) and
`$ODE` as a 1:1 transcription of `alsim.model.pk`, `sod1` and `system._derivatives`. The
parameters are read from the table each time, so they cannot drift from the model; the equations
are checked, not trusted: `run_mrgsolve` results are compared with LSODA (`solve_reference`)
before any timing is shown (`bench_solver`). A change of the model's equations that is not
carried over here shows as a failed agreement check.

`run_mrgsolve` simulates a batch of alsim's own sampled patients (individual parameters passed as
mrgsolve `idata`) with one dosing schedule and returns the states at the output times and the
seconds `mrgsim` took (model compilation excluded). It needs `Rscript` with the mrgsolve package;
`mrgsolve_available()` says whether they are there.
"""

import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from alsim.model.parameters import DEFAULT_PARAMETERS, ParameterSet

# every parameter the ODE reads, in table order
ODE_PARAMETERS = (
    "v_csf_l",
    "cl_csf_plasma_l_h",
    "q_csf_tissue_l_h",
    "v_plasma_l",
    "cl_plasma_l_h",
    "t_half_tissue_days",
    "s_max",
    "ec50_tissue_mg",
    "hill",
    "t_half_mrna_days",
    "t_half_sod1_days",
    "gamma_injury",
    "t_half_nfl_days",
    "nfl_activity_exponent",
    "function_potency",
    "mtt_effect_days",
    "recovery_capacity",
)
# per-patient values of the disease course (not in the table): name -> (typical value, meaning)
COURSE_PARAMETERS = {
    "latent_baseline": (1.0, "latent ALSFRS-R logit at Day 1 (u0)"),
    "latent_speed_per_day": (0.004, "untreated latent speed (v0, 1/d)"),
}


def n_transit(parameters: ParameterSet = DEFAULT_PARAMETERS) -> int:
    """The chain length the model code is generated for (an integer shared by all patients)."""
    return round(parameters.value("n_transit_effect"))


def states(parameters: ParameterSet = DEFAULT_PARAMETERS) -> dict[str, str]:
    """mrgsolve compartment -> alsim state, in `solve_reference` order; CSF receives the doses."""
    n = n_transit(parameters)
    chain = {f"E{j + 1}": f"effect_{j + 1}" for j in range(n)}
    return {
        "CSF": "csf_mg",
        "TISSUE": "tissue_mg",
        "PLASMA": "plasma_mg",
        "ELIM": "eliminated_mg",
        "M": "mrna",
        "P": "sod1_protein",
        "N": "nfl",
        **chain,
        "Z": "effect_time_days",
    }


def initial(parameters: ParameterSet = DEFAULT_PARAMETERS) -> dict[str, float]:
    """$INIT: mRNA, protein, NfL and the chain at 1, Z at 0; the PK compartments start empty."""
    chain = {f"E{j + 1}": 1.0 for j in range(n_transit(parameters))}
    return {"M": 1.0, "P": 1.0, "N": 1.0, **chain, "Z": 0.0}


_BODY = """
$MAIN
// alsim.model.pk: pk_rates
double cl_out = cl_csf_plasma_l_h + q_csf_tissue_l_h;
double k_csf = cl_out / v_csf_l * 24.0;
double f_tissue = q_csf_tissue_l_h / cl_out;
double k_tissue = log(2.0) / t_half_tissue_days;
double k_plasma = cl_plasma_l_h / v_plasma_l * 24.0;
// alsim.model.system: _pd_rates
double k_mrna = log(2.0) / t_half_mrna_days;
double k_sod1 = log(2.0) / t_half_sod1_days;
double k_nfl = log(2.0) / t_half_nfl_days;
double k_transit = {n} / mtt_effect_days;
double a0 = fabs(latent_baseline);
double log_stage0 = -a0 - 2.0 * log1p(exp(-a0));

$ODE
// alsim.model.sod1: knockdown
double ratio = (TISSUE > 0.0 ? TISSUE : 0.0) / ec50_tissue_mg;
double powered = pow(ratio, hill);
double knockdown = s_max * powered / (1.0 + powered);
// alsim.model.system: _derivatives (relative injury R = P^gamma; latent score; NfL target)
double log_injury = gamma_injury * log(P);
double u = latent_baseline + recovery_capacity - latent_speed_per_day * Z
  - recovery_capacity * E{n};
double a = fabs(u);
double log_stage = -a - 2.0 * log1p(exp(-a));
double target = exp(nfl_activity_exponent * (log_stage - log_stage0 + log_injury));
double drive = exp(function_potency * nfl_activity_exponent * log_injury);
// alsim.model.pk: pk_derivatives
dxdt_CSF = -k_csf * CSF;
dxdt_TISSUE = f_tissue * k_csf * CSF - k_tissue * TISSUE;
dxdt_PLASMA = (1.0 - f_tissue) * k_csf * CSF - k_plasma * PLASMA;
dxdt_ELIM = k_tissue * TISSUE + k_plasma * PLASMA;
dxdt_M = k_mrna * (1.0 - M * (1.0 + knockdown));
dxdt_P = k_sod1 * (M - P);
dxdt_N = k_nfl * (target - N);
{chain}
dxdt_Z = E{n};
"""


_DRIVER = r"""
suppressMessages(library(mrgsolve))
args <- commandArgs(trailingOnly = TRUE)
dir <- args[1]
rtol <- as.numeric(args[2])
atol <- as.numeric(args[3])
mod <- mcode_cache("alsim", paste(readLines(file.path(dir, "model.cpp")), collapse = "\n"),
                   project = dir, quiet = TRUE)
idata <- read.csv(file.path(dir, "idata.csv"))
doses <- read.csv(file.path(dir, "doses.csv"))
times <- read.csv(file.path(dir, "times.csv"))$time
mod <- update(mod, rtol = rtol, atol = atol, maxsteps = 100000, end = -1, add = times)
elapsed <- system.time(
  out <- mrgsim_df(mod, data = doses, idata = idata, obsonly = TRUE, recsort = 1)
)[["elapsed"]]
write.csv(out, file.path(dir, "out.csv"), row.names = FALSE)
cat(sprintf("%.6f\n", elapsed), file = file.path(dir, "elapsed.txt"))
"""


def model_code(parameters: ParameterSet = DEFAULT_PARAMETERS) -> str:
    """The mrgsolve model specification of alsim's PK/PD model with `parameters`' typical
    values."""
    lines = ["$PROB alsim SOD1-ALS tofersen model, generated from alsim.model.parameters", ""]
    lines.append("$PARAM")
    for name in ODE_PARAMETERS:
        p = parameters[name]
        lines.append(f"{name} = {p.value!r}  // {p.unit}: {p.description}")
    for name, (value, meaning) in COURSE_PARAMETERS.items():
        lines.append(f"{name} = {value!r}  // {meaning}")
    init = initial(parameters)
    lines += ["", "$CMT " + " ".join(s for s in states(parameters) if s not in init)]
    lines.append("$INIT " + ", ".join(f"{s} = {v!r}" for s, v in init.items()))
    n = n_transit(parameters)
    chain = ["dxdt_E1 = k_transit * (drive - E1);"] + [
        f"dxdt_E{j} = k_transit * (E{j - 1} - E{j});" for j in range(2, n + 1)
    ]
    body = _BODY.replace("{n}", str(n)).replace("{chain}", "\n".join(chain))
    return "\n".join(lines) + "\n" + body


def mrgsolve_available() -> str | None:
    """None where Rscript and mrgsolve are installed, else why not."""
    rscript = shutil.which("Rscript")
    if rscript is None:
        return "Rscript is not installed"
    probe = subprocess.run(
        [rscript, "-e", "suppressMessages(library(mrgsolve))"],
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.returncode != 0:
        return "the R package mrgsolve is not installed"
    return None


def run_mrgsolve(
    individual: Mapping[str, np.ndarray],
    dose_t_days: np.ndarray,
    dose_mg: np.ndarray,
    t_out_days: np.ndarray,
    *,
    rtol: float,
    atol: float,
    workdir: Path | None = None,
) -> tuple[dict[str, np.ndarray], float]:
    """States (patient, time) at `t_out_days` and mrgsim's wall seconds, for patients whose
    individual values of `ODE_PARAMETERS` are in `individual`, dosed `dose_mg[patient, dose]` at
    `dose_t_days` (days since the first dose). Values at a dose time are pre-dose."""
    n = dose_mg.shape[0]
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        d = Path(tmp)
        (d / "model.cpp").write_text(model_code(), encoding="utf-8")
        (d / "driver.R").write_text(_DRIVER, encoding="utf-8")
        idata = {"ID": np.arange(1, n + 1)}
        for name in ODE_PARAMETERS:
            value = individual.get(name, DEFAULT_PARAMETERS.value(name))
            idata[name] = np.broadcast_to(np.asarray(value, dtype=np.float64), (n,))
        for name, (typical, _) in COURSE_PARAMETERS.items():
            value = individual.get(name, typical)
            idata[name] = np.broadcast_to(np.asarray(value, dtype=np.float64), (n,))
        pd.DataFrame(idata).to_csv(d / "idata.csv", index=False, float_format="%.17g")
        ids = np.repeat(np.arange(1, n + 1), dose_t_days.size)
        pd.DataFrame(
            {
                "ID": ids,
                "time": np.tile(dose_t_days, n),
                "amt": dose_mg.reshape(-1),
                "cmt": 1,
                "evid": 1,
            }
        ).to_csv(d / "doses.csv", index=False, float_format="%.17g")
        pd.DataFrame({"time": t_out_days}).to_csv(d / "times.csv", index=False)
        done = subprocess.run(
            ["Rscript", str(d / "driver.R"), str(d), repr(rtol), repr(atol)],
            check=False,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise RuntimeError(f"mrgsolve run failed:\n{done.stderr[-2000:]}")
        out = pd.read_csv(d / "out.csv")
        elapsed = float((d / "elapsed.txt").read_text())
    out = out.sort_values(["ID", "time"], kind="stable")
    shape = (n, t_out_days.size)
    values = {alsim: out[name].to_numpy().reshape(shape) for name, alsim in states().items()}
    values["effect"] = values[f"effect_{n_transit()}"]
    return values, elapsed
