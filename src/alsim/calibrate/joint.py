"""Joint calibration of the free parameters to published targets, with uncertainty.

1. Design: `n_points` parameter sets from a scrambled Sobol sequence (scipy.stats.qmc) over the
   central 99% of each free parameter's prior (standardised scale `u`, prior N(0, 1) per
   parameter, truncated to the design box |u| <= 2.576).
2. Simulation with common random numbers: every parameter set simulates the same replicates of
   each study (same seed), so simulated statistics change smoothly with the parameters. Per
   target: the mean over replicates on the likelihood scale (`alsim.calibrate.targets`) and the
   replicate-to-replicate SD (the sampling error of one trial of that size).
3. Emulation: a Gaussian process per target mean and per log SD (`alsim.calibrate.emulator`),
   each mean's predictive variance calibrated on its leave-one-out errors.
4. Posterior: published value ~ Normal(emulated mean, se^2 + sd^2/R + emulator variance), with
   se from the published CI, or the emulated simulated SD where no CI is published; sd^2/R is the
   Monte Carlo error the common random numbers leave in every emulated mean. Sampled by the affine
   invariant ensemble sampler (emcee), started from the best design point.
5. Products: posterior draws, diagnostics (split R-hat over walkers, integrated autocorrelation
   time, effective sample size; emulator leave-one-out), posterior predictive checks, the
   out-of-sample predictions of left-out groups, and Sobol indices of headline outputs.

Everything runs single-threaded in linear algebra and draws from seeded generators, so the same
seed gives the same bytes on the same machine, whatever the number of simulation workers.
"""

import hashlib
import json
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.stats import norm, qmc

from alsim.calibrate.emulator import Emulator, fit_emulator
from alsim.calibrate.targets import (
    CalibrationTarget,
    calibration_groups,
    cross_validation_groups,
    from_scale,
    to_scale,
)
from alsim.errors import AlsimError
from alsim.evidence.compare import Target, target_values
from alsim.model.parameters import TABLE, FreeQuantity, ParameterSet, Prior

FloatArray = NDArray[np.float64]
BOX = float(norm.ppf(0.995))
HEADLINE_OLE = "ole_week52_alsfrsr_diff"
HEADLINE_OUTPUTS = {
    "valor_alsfrsr_fast_diff": "VALOR week 28, faster stratum: ALSFRS-R difference (points)",
    "valor_plasma_nfl_ratio_itt": "VALOR week 28, ITT: plasma NfL ratio tofersen/placebo (log)",
    HEADLINE_OLE: "Extension week 52: ALSFRS-R early minus delayed start (points)",
}
_OLE_TARGET = Target(
    quantity="ancova_diff", paramcd="ALSFRSR", visit="WEEK 52", arm="TOFERSEN 100 MG"
)
CALIBRATED_BLOCKS = ("biomarker", "progression")
WEAK_IDENTIFICATION = 0.5  # posterior SD / prior SD above which a parameter is weakly identified


@dataclass(frozen=True, slots=True, kw_only=True)
class CalibrationSettings:
    """Sizes of one calibration run. `quick()` is for tests (seconds)."""

    n_points: int = 512
    n_replicates: int = 32
    headline_replicates: int = 16
    n_imputations: int = 5
    n_walkers: int = 48
    n_steps: int = 4000
    n_draws: int = 2000
    sobol_base: int = 1024
    emulator_restarts: int = 1
    emulator_points: int = 256
    seed: int = 1

    def __post_init__(self) -> None:
        if self.seed < 0:
            raise AlsimError(f"--seed must be >= 0, got {self.seed}")
        if self.n_points & (self.n_points - 1):
            raise AlsimError(f"n_points must be a power of 2 (Sobol design), got {self.n_points}")
        if self.n_points < 8 or self.n_replicates < 1 or self.n_steps < 20:
            raise AlsimError("a calibration needs >= 8 design points, >= 1 replicate, >= 20 steps")

    @staticmethod
    def quick(seed: int = 1) -> "CalibrationSettings":
        return CalibrationSettings(
            n_points=16,
            n_replicates=3,
            headline_replicates=2,
            n_imputations=2,
            n_walkers=20,
            n_steps=120,
            n_draws=200,
            sobol_base=64,
            emulator_restarts=0,
            emulator_points=16,
            seed=seed,
        )


@dataclass(frozen=True, slots=True)
class FreeSpace:
    """The free quantities and their priors; `u` is the standardised prior scale."""

    quantities: tuple[FreeQuantity, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(q.name for q in self.quantities)

    @property
    def priors(self) -> tuple[Prior, ...]:
        return tuple(q.prior for q in self.quantities)

    def values(self, u: FloatArray) -> FloatArray:
        """Parameter values on their own scale, (point, parameter)."""
        u = np.atleast_2d(u)
        out = np.empty_like(u)
        for j, prior in enumerate(self.priors):
            z = prior.mean + prior.sd * u[:, j]
            out[:, j] = [prior.from_unconstrained(float(v)) for v in z]
        return out

    def parameter_set(self, u: FloatArray, base: ParameterSet = TABLE) -> ParameterSet:
        values = self.values(u)[0]
        return base.with_free({n: float(v) for n, v in zip(self.names, values, strict=True)})


def free_space(parameters: ParameterSet = TABLE) -> FreeSpace:
    free = parameters.free
    if not free:
        raise AlsimError("the parameter table has no free quantity (none has fitted_to)")
    return FreeSpace(free)


def fingerprint_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def evidence_fingerprint() -> str:
    """SHA-256 of the evidence file and the targets file shipped with alsim."""
    data = files("alsim.evidence").joinpath("data")
    text = "".join(
        data.joinpath(name).read_text(encoding="utf-8")
        for name in ("tofersen.yaml", "targets.yaml")
    )
    return fingerprint_text(text)


def model_fingerprint(parameters: ParameterSet = TABLE) -> str:
    """SHA-256 of what defines the calibrated studies' numbers: name, table value, variability,
    priors and target groups (not descriptions or sources) of every parameter of the blocks those
    studies draw (biomarker and progression; not the presymptomatic "carrier" block)."""

    def number(x: float) -> float | None:
        return None if math.isnan(x) else x

    def prior(p: Prior | None) -> str | None:
        return None if p is None else p.describe()

    rows = [
        [
            p.name,
            number(p.value),
            p.variability,
            number(p.omega),
            p.block,
            prior(p.prior_distribution),
            list(p.fitted_to),
            prior(p.omega_prior),
            list(p.omega_fitted_to),
        ]
        for p in parameters.parameters
        if p.block in CALIBRATED_BLOCKS
    ]
    return fingerprint_text(json.dumps(rows, sort_keys=True))


# ------------------------------------------------------------------ simulation of the design


def all_targets() -> tuple[CalibrationTarget, ...]:
    """Every target of every group, in file order."""
    return tuple(t for g in calibration_groups().values() for t in g.targets)


def _study_design(study: str) -> Any:
    from alsim.campaign.grid import set_duration
    from alsim.design.templates import load_template

    if study == "natural_history":
        return load_template("valor")
    if study == HEADLINE_OLE:
        return set_duration(load_template("ole"), 52)
    return load_template(study)


def simulate_statistics(
    parameters: ParameterSet,
    targets: Sequence[CalibrationTarget],
    *,
    settings: CalibrationSettings,
    seed: int,
    headline: bool = True,
    first_replicate: int = 0,
) -> dict[str, FloatArray]:
    """Per output name: the per-replicate values on the likelihood scale."""
    from alsim.simulate.trial import simulate_trial

    def simulate(study: str, n_replicates: int) -> Any:
        return simulate_trial(
            _study_design(study),
            n_replicates=n_replicates,
            seed=seed,
            parameters=parameters,
            first_replicate=first_replicate,
            adverse_event_terms=(),
        )

    out: dict[str, FloatArray] = {}
    by_study: dict[str, list[CalibrationTarget]] = {}
    for t in targets:
        study = "valor" if t.study == "natural_history" else t.study
        by_study.setdefault(study, []).append(t)
    for study in sorted(by_study):
        sim = simulate(study, settings.n_replicates)
        members = by_study[study]
        values = target_values(
            sim, [t.target for t in members], n_imputations=settings.n_imputations
        )
        for t, v in zip(members, values, strict=True):
            out[t.id] = to_scale(v, t.scale)
    if headline:
        sim = simulate(HEADLINE_OLE, settings.headline_replicates)
        out[HEADLINE_OLE] = target_values(sim, [_OLE_TARGET])[0]
    return out


def output_order(targets: Sequence[CalibrationTarget], *, headline: bool = True) -> list[str]:
    """The order `simulate_statistics` returns its outputs in (by study, then target)."""
    by_study: dict[str, list[str]] = {}
    for t in targets:
        by_study.setdefault("valor" if t.study == "natural_history" else t.study, []).append(t.id)
    order = [name for study in sorted(by_study) for name in by_study[study]]
    return [*order, HEADLINE_OLE] if headline else order


def correlated_pairs(targets: Sequence[CalibrationTarget]) -> list[tuple[str, str]]:
    """Pairs of likelihood targets of the same study (the same simulated trials or cohort),
    whose replicate-to-replicate correlation the design records."""
    fitted = [t for t in targets if t.in_likelihood]
    return [
        (a.id, b.id) for i, a in enumerate(fitted) for b in fitted[i + 1 :] if a.study == b.study
    ]


def pair_key(a: str, b: str) -> str:
    return f"{a}|{b}"


PointSummary = tuple[dict[str, tuple[float, float]], dict[str, float]]


def _one_point(
    args: tuple[FreeSpace, FloatArray, tuple[CalibrationTarget, ...], CalibrationSettings],
) -> PointSummary:
    space, u, targets, settings = args
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        values = simulate_statistics(
            space.parameter_set(u), targets, settings=settings, seed=settings.seed
        )
    summary = {}
    for name, v in values.items():
        finite = v[np.isfinite(v)]
        mean = float(np.mean(finite)) if finite.size else math.nan
        sd = float(np.std(finite, ddof=1)) if finite.size > 1 else math.nan
        summary[name] = (mean, sd)
    correlation = {}
    for a, b in correlated_pairs(targets):
        ok = np.isfinite(values[a]) & np.isfinite(values[b])
        r = math.nan
        if ok.sum() > 2 and np.std(values[a][ok]) > 0 and np.std(values[b][ok]) > 0:
            r = float(np.corrcoef(values[a][ok], values[b][ok])[0, 1])
        correlation[pair_key(a, b)] = r
    return summary, correlation


@dataclass(frozen=True, slots=True)
class DesignRuns:
    """Simulated statistics at every design point: `mean[name]` and `sd[name]` over replicates,
    and `corr["a|b"]` the replicate-to-replicate correlation of two targets of the same study
    (`correlated_pairs`), each shaped (point,)."""

    u: FloatArray
    mean: dict[str, FloatArray]
    sd: dict[str, FloatArray]
    corr: dict[str, FloatArray] = field(default_factory=dict)


def trial_correlation(design: DesignRuns, names: Sequence[str]) -> FloatArray:
    """The within-trial correlation matrix of targets `names` (likelihood order): for each pair
    of the same study, the mean over design points of its replicate-to-replicate correlation
    (over the points where every pair of that study is finite); 0 across studies. A mean of
    correlation matrices, so positive semi-definite."""
    study = {t.id: t.study for t in all_targets()}
    out = np.eye(len(names))
    for trial in sorted({study[n] for n in names}):
        members = [k for k, n in enumerate(names) if study[n] == trial]
        pairs = [(i, j) for a, i in enumerate(members) for j in members[a + 1 :]]
        if not pairs:
            continue
        values = np.column_stack([design.corr[pair_key(names[i], names[j])] for i, j in pairs])
        ok = np.all(np.isfinite(values), axis=1)
        if not ok.any():
            raise AlsimError(f"no design point gives finite correlations for study {trial}")
        for (i, j), r in zip(pairs, values[ok].mean(axis=0), strict=True):
            out[i, j] = out[j, i] = float(r)
    return out


def design_points(n_points: int, n_dims: int, seed: int) -> FloatArray:
    """Scrambled Sobol points over the design box, on the standardised prior scale."""
    sampler = qmc.Sobol(d=n_dims, scramble=True, seed=np.random.default_rng(seed))
    unit = sampler.random(n_points)
    lo, hi = norm.cdf(-BOX), norm.cdf(BOX)
    out: FloatArray = norm.ppf(lo + (hi - lo) * unit)
    return out


def run_design(
    space: FreeSpace,
    settings: CalibrationSettings,
    *,
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
) -> DesignRuns:
    """Simulate every design point (in order; `workers` processes change nothing but speed)."""
    u = design_points(settings.n_points, len(space.names), settings.seed)
    targets = all_targets()
    jobs = [(space, u[i : i + 1], targets, settings) for i in range(u.shape[0])]
    results: list[PointSummary] = []
    if workers <= 1:
        for job in jobs:
            results.append(_one_point(job))
            if progress is not None:
                progress(1)
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for result in pool.map(_one_point, jobs):
                results.append(result)
                if progress is not None:
                    progress(1)
    names = list(results[0][0])
    pairs = list(results[0][1])
    return DesignRuns(
        u=u,
        mean={n: np.array([r[0][n][0] for r in results]) for n in names},
        sd={n: np.array([r[0][n][1] for r in results]) for n in names},
        corr={k: np.array([r[1][k] for r in results]) for k in pairs},
    )


# ------------------------------------------------------------------------- the posterior


@dataclass(frozen=True, slots=True)
class Likelihood:
    """The emulated likelihood of the published values of `targets`: multivariate normal, as
    targets of the same study share its patients. Sampling SDs are the published SEs where a CI
    is published, else the emulated replicate-to-replicate SD; correlations are the simulated
    within-trial ones (`trial_correlation`). To the sampling covariance add the Monte Carlo error
    of the emulated means (the simulated covariance / number of replicates) and the emulators'
    own variance."""

    emulator: Emulator
    targets: tuple[CalibrationTarget, ...]
    observed: FloatArray
    published_se: FloatArray  # NaN where no CI is published
    n_replicates: int
    correlation: FloatArray  # (target, target)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(t.id for t in self.targets)

    def moments(self, u: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Predicted published values: mean (point, target) and covariance (point, target,
        target) on the likelihood scale."""
        mean, emulator_var = self.emulator.predict(u, self.names)
        log_sd, _ = self.emulator.predict(
            u, tuple(f"logsd:{n}" for n in self.names), variance=False
        )
        sim_sd = np.exp(log_sd)
        sampling_sd = np.where(np.isnan(self.published_se), sim_sd, self.published_se)
        r = self.correlation[None, :, :]
        cov = r * (
            sampling_sd[:, :, None] * sampling_sd[:, None, :]
            + sim_sd[:, :, None] * sim_sd[:, None, :] / self.n_replicates
        )
        k = np.arange(len(self.names))
        cov[:, k, k] += emulator_var
        return mean, cov

    def log_likelihood(self, u: FloatArray) -> FloatArray:
        mean, cov = self.moments(u)
        chol = np.linalg.cholesky(cov)
        residual = np.linalg.solve(chol, (self.observed - mean)[:, :, None])[:, :, 0]
        log_det = 2.0 * np.sum(np.log(np.diagonal(chol, axis1=1, axis2=2)), axis=1)
        out: FloatArray = -0.5 * (
            np.sum(residual**2, axis=1) + log_det + len(self.names) * np.log(2 * np.pi)
        )
        return out


def likelihood(
    emulator: Emulator,
    design: DesignRuns,
    targets: Sequence[CalibrationTarget],
    n_replicates: int,
    *,
    observed: FloatArray | None = None,
    published_se: FloatArray | None = None,
) -> Likelihood:
    """The likelihood of the published values of `targets` (or synthetic `observed` values on
    the likelihood scale with their own `published_se`, NaN for the simulated SD)."""
    chosen = tuple(targets)
    return Likelihood(
        emulator=emulator,
        targets=chosen,
        observed=np.array([t.observed for t in chosen]) if observed is None else observed,
        published_se=np.array(
            [math.nan if t.published_se is None else t.published_se for t in chosen]
        )
        if published_se is None
        else published_se,
        n_replicates=n_replicates,
        correlation=trial_correlation(design, [t.id for t in chosen]),
    )


def log_posterior(like: Likelihood, u: FloatArray) -> FloatArray:
    """Log prior (standard normal, truncated to the design box) plus log likelihood."""
    u = np.atleast_2d(u)
    inside = np.all(np.abs(u) <= BOX, axis=1)
    out = np.full(u.shape[0], -np.inf)
    if inside.any():
        out[inside] = -0.5 * np.sum(u[inside] ** 2, axis=1) + like.log_likelihood(u[inside])
    return out


@dataclass(frozen=True, slots=True)
class Chain:
    """MCMC output: `draws` (draw, parameter) on the standardised scale, their log posterior,
    and diagnostics per parameter."""

    draws: FloatArray
    log_posterior: FloatArray
    rhat: FloatArray
    tau: FloatArray
    ess: FloatArray
    acceptance: float


def split_rhat(chain: FloatArray) -> FloatArray:
    """Split R-hat per parameter over walkers; `chain` is (step, walker, parameter)."""
    n = chain.shape[0] // 2
    halves = np.concatenate([chain[:n], chain[n : 2 * n]], axis=1)
    chain_means = halves.mean(axis=0)
    within = halves.var(axis=0, ddof=1).mean(axis=0)
    between = n * chain_means.var(axis=0, ddof=1)
    pooled = (n - 1) / n * within + between / n
    out: FloatArray = np.sqrt(pooled / within)
    return out


def sample_posterior(like: Likelihood, settings: CalibrationSettings, *, seed: int) -> Chain:
    """Run the ensemble sampler (emcee) on the emulated posterior, from a small ball around the
    best design point; the first half of the chain is discarded as burn-in."""
    import emcee

    n_dims = like.emulator.u.shape[1]
    n_walkers = max(settings.n_walkers, 2 * n_dims + 2)
    design_lp = log_posterior(like, like.emulator.u)
    start = like.emulator.u[int(np.argmax(design_lp))]
    rng = np.random.default_rng(seed)
    p0 = np.clip(start + 0.1 * rng.standard_normal((n_walkers, n_dims)), -BOX, BOX)
    sampler = emcee.EnsembleSampler(
        n_walkers,
        n_dims,
        lambda u: log_posterior(like, u),
        vectorize=True,
        # differential-evolution moves mix better than the stretch move in a dozen dimensions
        moves=[(emcee.moves.DEMove(), 0.8), (emcee.moves.DESnookerMove(), 0.2)],
    )
    sampler.random_state = np.random.RandomState(seed).get_state()
    sampler.run_mcmc(p0, settings.n_steps, progress=False)
    burn = settings.n_steps // 2
    chain = sampler.get_chain(discard=burn)
    lp = sampler.get_log_prob(discard=burn)
    flat = chain.reshape(-1, n_dims)
    flat_lp = lp.reshape(-1)
    keep = np.unique(np.linspace(0, flat.shape[0] - 1, min(settings.n_draws, flat.shape[0])))
    keep = keep.astype(np.int64)
    logger = logging.getLogger("emcee.autocorr")
    level = logger.level
    logger.setLevel(logging.ERROR)  # a short chain is reported through tau and ESS instead
    try:
        with np.errstate(invalid="ignore"):  # a walker that never moved: tau is NaN, not a crash
            tau = emcee.autocorr.integrated_time(chain, quiet=True)
    finally:
        logger.setLevel(level)
    return Chain(
        draws=flat[keep],
        log_posterior=flat_lp[keep],
        rhat=split_rhat(chain),
        tau=np.asarray(tau, dtype=np.float64),
        ess=chain.shape[0] * chain.shape[1] / np.asarray(tau, dtype=np.float64),
        acceptance=float(np.mean(sampler.acceptance_fraction)),
    )


def predictive(
    like: Likelihood, draws: FloatArray, *, seed: int
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Posterior predictive of each target's published value on its own scale: median, 2.5%
    and 97.5% per target."""
    mean, cov = like.moments(draws)
    sd = np.sqrt(np.diagonal(cov, axis1=1, axis2=2))
    rng = np.random.default_rng(seed)
    sampled = mean + sd * rng.standard_normal(mean.shape)
    quantiles = np.quantile(sampled, [0.5, 0.025, 0.975], axis=0)
    natural = np.array([from_scale(quantiles[:, k], t.scale) for k, t in enumerate(like.targets)]).T
    median, a, b = natural
    return median, np.minimum(a, b), np.maximum(a, b)


# ---------------------------------------------------------------------------- the result


@dataclass(frozen=True, slots=True)
class ParameterSummary:
    name: str
    unit: str
    prior: str
    median: float
    low: float
    high: float
    sd_ratio: float
    rhat: float
    ess: float
    tau: float
    groups: tuple[str, ...]
    targets: tuple[str, ...]

    @property
    def weakly_identified(self) -> bool:
        return self.sd_ratio > WEAK_IDENTIFICATION


@dataclass(frozen=True, slots=True)
class TargetCheck:
    """A published number beside the posterior predictive of the calibration (or, for a
    left-out group, the out-of-sample prediction)."""

    group: str
    target: str
    in_likelihood: bool
    published: float
    published_ci: tuple[float, float] | None
    predicted: float
    low: float
    high: float

    @property
    def inside(self) -> bool:
        return self.low <= self.published <= self.high

    @property
    def error(self) -> float:
        return self.published - self.predicted


@dataclass(frozen=True, slots=True)
class CrossValidation:
    """Fit without `group`, predict its published numbers."""

    group: str
    checks: tuple[TargetCheck, ...]

    @property
    def coverage(self) -> float:
        return float(np.mean([c.inside for c in self.checks]))


@dataclass(frozen=True, slots=True)
class CalibrationResult:
    settings: CalibrationSettings
    space: FreeSpace
    fitted_groups: tuple[str, ...]
    left_out: tuple[str, ...]
    design: DesignRuns
    emulator: Emulator
    like: Likelihood
    chain: Chain
    values: FloatArray  # posterior draws on the parameters' own scale, (draw, parameter)
    parameters: tuple[ParameterSummary, ...]
    checks: tuple[TargetCheck, ...]
    cross_validation: tuple[CrossValidation, ...]
    sobol: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    evidence_fingerprint: str = ""
    model_fingerprint: str = ""
    command: str = ""


def _checks(
    emulator: Emulator,
    design: DesignRuns,
    settings: CalibrationSettings,
    draws: FloatArray,
    targets: Sequence[CalibrationTarget],
    seed: int,
) -> tuple[TargetCheck, ...]:
    sub = likelihood(emulator, design, targets, settings.n_replicates)
    median, low, high = predictive(sub, draws, seed=seed)
    out = []
    for k, t in enumerate(targets):
        from alsim.evidence.records import evidence

        record = evidence(t.id)
        ci = (record.ci_low, record.ci_high) if record.has_ci else None
        out.append(
            TargetCheck(
                group=t.group,
                target=t.id,
                in_likelihood=t.in_likelihood,
                published=t.published,
                published_ci=None if ci is None else (float(ci[0] or 0), float(ci[1] or 0)),
                predicted=float(median[k]),
                low=float(low[k]),
                high=float(high[k]),
            )
        )
    return tuple(out)


def emulate(design: DesignRuns, settings: CalibrationSettings) -> Emulator:
    """GPs of every simulated mean and (for targets) every log SD, their variances calibrated
    on their leave-one-out errors (`Emulator.calibrated`)."""
    outputs: dict[str, FloatArray] = {}
    targets = {t.id: t for t in all_targets()}
    for name, mean in design.mean.items():
        if name == HEADLINE_OLE or targets[name].in_likelihood:
            outputs[name] = mean
    for name, sd in design.sd.items():
        if name in targets and targets[name].in_likelihood:
            with np.errstate(divide="ignore"):
                outputs[f"logsd:{name}"] = np.log(sd)
    restarts = {n: settings.emulator_restarts for n in outputs}
    emulators = [
        fit_emulator(
            design.u,
            {n: outputs[n]},
            seed=settings.seed + i,
            restarts=restarts[n],
            hyper_points=settings.emulator_points,
        )
        for i, n in enumerate(outputs)
    ]
    return Emulator(
        names=tuple(outputs),
        u=design.u,
        y=np.column_stack([outputs[n] for n in outputs]),
        models=tuple(e.models[0] for e in emulators),
    ).calibrated()


def fit_groups(
    emulator: Emulator,
    design: DesignRuns,
    groups: Sequence[str],
    settings: CalibrationSettings,
    *,
    seed: int,
    observed: Mapping[str, float] | None = None,
) -> tuple[Likelihood, Chain]:
    """Posterior given the likelihood targets of `groups` (optionally synthetic `observed`
    values on the likelihood scale, which then use the simulated SD as their sampling error)."""
    targets = [t for t in all_targets() if t.group in groups and t.in_likelihood]
    if observed is None:
        like = likelihood(emulator, design, targets, settings.n_replicates)
    else:
        like = likelihood(
            emulator,
            design,
            targets,
            settings.n_replicates,
            observed=np.array([observed[t.id] for t in targets]),
            published_se=np.full(len(targets), math.nan),
        )
    return like, sample_posterior(like, settings, seed=seed)


def _summaries(
    space: FreeSpace,
    chain: Chain,
    values: FloatArray,
    fitted_groups: Sequence[str],
) -> tuple[ParameterSummary, ...]:
    targets = all_targets()
    out = []
    for j, p in enumerate(space.quantities):
        groups = tuple(g for g in p.fitted_to if g in fitted_groups)
        prior = p.prior
        median, low, high = np.quantile(values[:, j], [0.5, 0.025, 0.975])
        out.append(
            ParameterSummary(
                name=p.name,
                unit=p.unit,
                prior=prior.describe(),
                median=float(median),
                low=float(low),
                high=float(high),
                sd_ratio=float(np.std(chain.draws[:, j])),
                rhat=float(chain.rhat[j]),
                ess=float(chain.ess[j]),
                tau=float(chain.tau[j]),
                groups=groups,
                targets=tuple(t.id for t in targets if t.group in groups),
            )
        )
    return tuple(out)


def sobol_indices(
    emulator: Emulator, space: FreeSpace, draws: FloatArray, settings: CalibrationSettings
) -> dict[str, dict[str, list[float]]]:
    """First-order and total Sobol indices of each headline output over the posterior marginals
    (taken as independent), from the emulators' means (SALib, Saltelli/Jansen estimators)."""
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import sobol as sobol_sample

    problem = {
        "num_vars": len(space.names),
        "names": list(space.names),
        "bounds": [[0.0, 1.0]] * len(space.names),
    }
    unit = sobol_sample.sample(
        problem, settings.sobol_base, calc_second_order=False, seed=settings.seed
    )
    u = np.column_stack(
        [np.quantile(draws[:, j], np.clip(unit[:, j], 0, 1)) for j in range(draws.shape[1])]
    )
    out: dict[str, dict[str, list[float]]] = {}
    for name in HEADLINE_OUTPUTS:
        if name not in emulator.names:
            continue
        y, _ = emulator.predict(u, (name,))
        result = sobol_analyze.analyze(
            problem, y[:, 0], calc_second_order=False, seed=settings.seed, print_to_console=False
        )
        out[name] = {
            "S1": [float(v) for v in result["S1"]],
            "S1_conf": [float(v) for v in result["S1_conf"]],
            "ST": [float(v) for v in result["ST"]],
            "ST_conf": [float(v) for v in result["ST_conf"]],
            "output_sd": [float(np.std(y))],
        }
    return out


def calibrate(
    settings: CalibrationSettings,
    *,
    groups: tuple[str, ...],
    left_out: tuple[str, ...] = (),
    cross_validate: tuple[str, ...] | None = None,
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
    command: str = "",
    parameters: ParameterSet = TABLE,
    design: DesignRuns | None = None,
) -> CalibrationResult:
    """The whole joint calibration: design, simulation, emulation, posterior, checks.

    `design`: the simulated design of an earlier run with the same settings (its
    design.parquet), to redo only the statistical stages.
    """
    from threadpoolctl import threadpool_limits

    if settings.n_replicates < 2:
        raise AlsimError("a calibration needs >= 2 replicates per design point (their SD)")
    space = free_space(parameters)
    if design is None:
        design = run_design(space, settings, workers=workers, progress=progress)
    with threadpool_limits(1):
        emulator = emulate(design, settings)
        like, chain = fit_groups(emulator, design, groups, settings, seed=settings.seed)
        values = space.values(chain.draws)
        every = [t for t in all_targets() if t.in_likelihood]
        checks = _checks(emulator, design, settings, chain.draws, every, settings.seed)
        folds = []
        for group in left_out:
            folds.append(
                CrossValidation(group=group, checks=tuple(c for c in checks if c.group == group))
            )
        extra = cross_validation_groups() if cross_validate is None else cross_validate
        for k, group in enumerate(g for g in extra if g in groups and g not in left_out):
            rest = tuple(g for g in groups if g != group)
            fold_seed = settings.seed + 1 + k
            _, fold_chain = fit_groups(emulator, design, rest, settings, seed=fold_seed)
            held = [t for t in every if t.group == group]
            folds.append(
                CrossValidation(
                    group=group,
                    checks=_checks(emulator, design, settings, fold_chain.draws, held, fold_seed),
                )
            )
        sobol = sobol_indices(emulator, space, chain.draws, settings)
    return CalibrationResult(
        settings=settings,
        space=space,
        fitted_groups=groups,
        left_out=left_out,
        design=design,
        emulator=emulator,
        like=like,
        chain=chain,
        values=values,
        parameters=_summaries(space, chain, values, groups),
        checks=checks,
        cross_validation=tuple(folds),
        sobol=sobol,
        evidence_fingerprint=evidence_fingerprint(),
        model_fingerprint=model_fingerprint(parameters),
        command=command,
    )
