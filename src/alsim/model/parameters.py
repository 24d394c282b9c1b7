"""The annotated parameter table: one place for every model value, its unit, source and variability.

Read by the model, the population sampler, the report and the docs. Sources are tagged as in
SCIENCE.md: [V] read in a source, [D] derived by calculation, [A] an assumption or fitted value.

Published values are read from the evidence file (`published`), never typed in. Parameters with
`fitted_to` target groups are free in the joint calibration (`alsim calibrate`): their table value
is `CALIBRATED` and `DEFAULT_PARAMETERS` takes the posterior median from the calibration shipped in
`alsim/model/data/calibration/` (see `alsim.model.calibration`).
"""

import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from importlib.resources import files
from typing import Any, Literal

import pandas as pd
from scipy.special import expit, logit

from alsim.errors import AlsimError
from alsim.evidence.records import evidence

Variability = Literal["none", "lognormal", "logitnormal", "normal"]
Block = Literal["biomarker", "progression", "carrier"]
PriorKind = Literal["lognormal", "logitnormal", "normal"]

#: The table value of a parameter whose value comes from the shipped calibration.
CALIBRATED = math.nan
_Z95 = 1.959963984540054


def published(record_id: str) -> float:
    """A published number, read from the evidence file by record id."""
    return evidence(record_id).numeric_value


@dataclass(frozen=True, slots=True, kw_only=True)
class Prior:
    """A normal prior on a transformed scale (log, logit or the unit itself) with 95% of its
    mass between `low` and `high` on the parameter's own scale."""

    kind: PriorKind
    low: float
    high: float

    def __post_init__(self) -> None:
        if not self.low < self.high:
            raise AlsimError(f"prior range must have low < high, got ({self.low}, {self.high})")
        if self.kind == "lognormal" and self.low <= 0:
            raise AlsimError(f"a lognormal prior needs low > 0, got {self.low}")
        if self.kind == "logitnormal" and not 0 < self.low < self.high < 1:
            raise AlsimError(f"a logitnormal prior needs 0 < low < high < 1, got {self.low}")

    def to_unconstrained(self, x: float) -> float:
        """The parameter value on the scale where the prior is normal."""
        if self.kind == "lognormal":
            return math.log(x)
        if self.kind == "logitnormal":
            return float(logit(x))
        return float(x)

    def from_unconstrained(self, z: float) -> float:
        """Inverse of `to_unconstrained`."""
        if self.kind == "lognormal":
            return math.exp(z)
        if self.kind == "logitnormal":
            return float(expit(z))
        return float(z)

    @property
    def mean(self) -> float:
        """Mean on the unconstrained scale."""
        return 0.5 * (self.to_unconstrained(self.low) + self.to_unconstrained(self.high))

    @property
    def sd(self) -> float:
        """SD on the unconstrained scale."""
        return (self.to_unconstrained(self.high) - self.to_unconstrained(self.low)) / (2 * _Z95)

    def describe(self) -> str:
        return f"{self.kind}, 95% in [{self.low:.4g}, {self.high:.4g}]"


@dataclass(frozen=True, slots=True, kw_only=True)
class Posterior:
    """What the shipped calibration says about a parameter: median and 95% credible interval,
    and the evidence records (by id) its fit used."""

    median: float
    low: float
    high: float
    targets: tuple[str, ...]

    def describe(self) -> str:
        return f"{self.median:.4g} [{self.low:.4g}, {self.high:.4g}]"


@dataclass(frozen=True, slots=True, kw_only=True)
class Parameter:
    """One model parameter: typical value, unit, what it means, where it comes from, and its BSV.

    `omega` is the SD of the between-subject random effect on the scale named by `variability`
    (log for lognormal, logit for logitnormal, the parameter's own unit for normal).
    `block` says which sampler draws it: "biomarker" parameters are drawn for every patient in
    table order by `sample_population`; "progression" parameters (disease course, function,
    survival) are drawn only for designs with clinical endpoints, after every other draw, so
    biomarker-only simulations keep their random streams; "carrier" parameters (the
    presymptomatic phase) only for designs with a monitoring run-in. `sensitivity` is the
    (low, high) range to explore for a weakly identified value.

    `fitted_to` names the calibration target groups (`alsim.evidence` targets.yaml,
    `calibration_groups`) the parameter is fitted to: such a parameter is free in `alsim
    calibrate`, with `prior` (default: normal on the log scale, or logit scale for a
    logit-normal parameter, with 95% of its mass in `sensitivity`), and its value `CALIBRATED`
    comes from the shipped calibration, which also fills `posterior`.
    """

    name: str
    value: float
    unit: str
    description: str
    source: str
    assumption: bool
    variability: Variability = "none"
    omega: float = 0.0
    block: Block = "biomarker"
    sensitivity: tuple[float, float] | None = None
    prior: Prior | None = None
    fitted_to: tuple[str, ...] = ()
    posterior: Posterior | None = None

    def __post_init__(self) -> None:
        if (
            not self.fitted_to
            and self.sensitivity is not None
            and not (self.sensitivity[0] <= self.value <= self.sensitivity[1])
        ):
            raise AlsimError(
                f"parameter {self.name}: value {self.value!r} must lie inside its sensitivity "
                f"range {self.sensitivity!r}"
            )
        if self.fitted_to and self.prior_distribution is None:
            raise AlsimError(
                f"parameter {self.name}: fitted to {', '.join(self.fitted_to)} but has no prior; "
                "give sensitivity=(low, high) or prior=Prior(...)"
            )
        if self.omega < 0:
            raise AlsimError(f"parameter {self.name}: omega must be >= 0, got {self.omega!r}")
        if self.variability == "none" and self.omega != 0:
            raise AlsimError(f"parameter {self.name}: omega given without a variability model")
        if math.isnan(self.value):
            return
        if self.variability == "lognormal" and self.value <= 0:
            raise AlsimError(f"parameter {self.name}: lognormal value must be > 0")
        if self.variability == "logitnormal" and not 0 < self.value < 1:
            raise AlsimError(f"parameter {self.name}: logitnormal value must be in (0, 1)")

    @property
    def prior_distribution(self) -> Prior | None:
        """`prior`, or the default built from `sensitivity` (None without either)."""
        if self.prior is not None:
            return self.prior
        if self.sensitivity is None:
            return None
        low, high = self.sensitivity
        if self.variability == "logitnormal":
            return Prior(kind="logitnormal", low=low, high=high)
        return Prior(kind="lognormal" if low > 0 else "normal", low=low, high=high)

    @property
    def free(self) -> bool:
        """Whether `alsim calibrate` fits this parameter."""
        return bool(self.fitted_to)


_NUSI = "Luu 2017 nusinersen population PK (evidence nusi_poppk_*), used as template [V]"
_HAND_FIT = "SCIENCE.md s.2 hand fit to Phase 1/2 CSF SOD1 and VALOR ITT CSF SOD1/NfL [A]"
_JOINT_FIT = (
    "fitted jointly by alsim calibrate (posterior median; prior from the sensitivity range) [A]"
)
_CSF_SOD1_GROUPS = ("phase12_csf_sod1", "valor_csf_sod1")
_NFL_GROUPS = ("valor_nfl", "valor_nfl_faster")

_BALI_A4V = (
    "Bali 2016 A4V ALS-FRS decline mean 3.6 (SD 5) /month (evidence nh16_alsfrs_slope_a4v) as a "
    "log-normal: median 3.6/sqrt(1+(5/3.6)^2), omega sqrt(log(1+(5/3.6)^2)) [D]"
)
_BALI_OTHER = (
    "Bali 2016 all-SOD1 ALS-FRS decline mean 0.9 (SD 1.3) /month (evidence nh16_alsfrs_slope_all) "
    "read as the non-A4V course (the non-A4V value itself is a gap, nh_slope_nona4v_final; a "
    "mixture with the A4V mean cannot give 0.9), as a log-normal [A]"
)
_SURVIVAL_FIT = (
    _JOINT_FIT + " to Bali 2017 median survival by variant class; a compromise, as survival "
    "scales with 1/slope and the published class ratios of slope and survival differ; prior "
    "range: three decades [A]"
)

PROGRESSION_PARAMETERS: tuple[Parameter, ...] = (
    # --- disease course (latent D50 logistic, SCIENCE.md s.3) ----------------------------
    Parameter(
        name="prestudy_slope_a4v_per_month",
        value=2.1035,
        unit="points/month",
        description="median pre-study ALSFRS-R slope (48 - ALSFRS-R)/months since onset, A4V-like",
        source=_BALI_A4V,
        assumption=False,
        variability="lognormal",
        omega=1.0367,
        block="progression",
    ),
    Parameter(
        name="prestudy_slope_other_per_month",
        value=0.5123,
        unit="points/month",
        description="median pre-study ALSFRS-R slope, other variants",
        source=_BALI_OTHER,
        assumption=True,
        variability="lognormal",
        omega=1.0616,
        block="progression",
    ),
    Parameter(
        name="slope_persistence",
        value=0.2,
        unit="1",
        description="correlation (log scale) of the in-study slope with the pre-study slope; "
        "at the median, +1 point/month of pre-slope gives +0.2 points/month of later slope",
        source="Kimura pre-slope predicts about 0.2 points/month per point/month (SCIENCE.md s.3) "
        "[V]; used as a log-scale correlation [D]",
        assumption=False,
        block="progression",
    ),
    Parameter(
        name="in_study_slope_factor",
        value=CALIBRATED,
        unit="1",
        description="typical in-study ALSFRS-R slope of trial entrants relative to the "
        "natural-history slope of their variant class (trial selection, standard of care)",
        source=_JOINT_FIT + "; prior range: trial entrants decline between a third and 1.5 "
        "times as fast as the natural-history cohort [A]",
        assumption=True,
        block="progression",
        sensitivity=(0.3, 1.5),
        fitted_to=("valor_alsfrsr",),
    ),
    Parameter(
        name="entry_loss_points",
        value=9.0,
        unit="points",
        description="ALSFRS-R points lost since onset when a patient is screened; months since "
        "onset = loss / pre-study slope (diagnosis and referral at a similar disability)",
        source="assumption: baseline ALSFRS-R near 39, typical of ALS trials; VALOR baseline "
        "table not public (evidence valor_baseline_*) [A]",
        assumption=True,
        variability="lognormal",
        omega=0.5,
        block="progression",
        sensitivity=(5.0, 14.0),
    ),
    Parameter(
        name="sigma_alsfrsr",
        value=1.5,
        unit="points",
        description="ALSFRS-R rater and day-to-day variability (before rounding to an integer)",
        source="assumption [A]",
        assumption=True,
        block="progression",
    ),
    # --- drug effect on function ---------------------------------------------------------
    Parameter(
        name="t_half_effect_days",
        value=CALIBRATED,
        unit="d",
        description="half-life of the effect compartment linking injury to the rate of "
        "functional loss, dE/dt = k_E (I_rel - E); weakly identified by week-28 data",
        source=_JOINT_FIT + "; weakly identified: prior range from a month to a year [A]",
        assumption=True,
        block="progression",
        sensitivity=(30.0, 365.0),
        fitted_to=("valor_alsfrsr",),
    ),
    # --- death or permanent ventilation --------------------------------------------------
    Parameter(
        name="hazard_mid_per_year",
        value=CALIBRATED,
        unit="1/year",
        description="hazard of death or permanent ventilation at the disease midpoint "
        "(latent ALSFRS-R 24)",
        source=_SURVIVAL_FIT,
        assumption=True,
        block="progression",
        sensitivity=(1e-4, 0.1),
        fitted_to=("natural_history",),
    ),
    Parameter(
        name="hazard_stage_exponent",
        value=4.0,
        unit="1",
        description="hazard = hazard_mid x ((48 - F)/F)^exponent, F the latent ALSFRS-R",
        source="assumption: the hazard rises about 200-fold from ALSFRS-R 24 to 10, so death or "
        "permanent ventilation comes late in the course; survival medians barely identify it [A]",
        assumption=True,
        block="progression",
    ),
    # --- vital capacity and strength -----------------------------------------------------
    Parameter(
        name="svc_full_pct",
        value=100.0,
        unit="% predicted",
        description="slow vital capacity before any functional loss",
        source="assumption: healthy % predicted is 100 by definition, spread as in healthy "
        "adults [A]",
        assumption=True,
        variability="normal",
        omega=10.0,
        block="progression",
    ),
    Parameter(
        name="svc_per_alsfrsr_point",
        value=2.67,
        unit="% predicted/point",
        description="vital capacity lost per ALSFRS-R point lost",
        source="Bali 2016 FVC/ALS-FRS decline ratios 2.4/0.9 and 11.0/3.6 (evidence "
        "nh16_fvc_slope_*, nh16_alsfrs_slope_*) [D]",
        assumption=False,
        variability="lognormal",
        omega=0.3,
        block="progression",
    ),
    Parameter(
        name="sigma_svc",
        value=5.0,
        unit="% predicted",
        description="SVC measurement variability",
        source="assumption [A]",
        assumption=True,
        block="progression",
    ),
    Parameter(
        name="hhd_full",
        value=1.0,
        unit="megascore",
        description="HHD megascore (mean strength of 16 muscles relative to reference) before "
        "any functional loss",
        source="assumption: normalised scale [A]",
        assumption=True,
        variability="lognormal",
        omega=0.25,
        block="progression",
    ),
    Parameter(
        name="hhd_exponent",
        value=1.0,
        unit="1",
        description="HHD megascore = hhd_full x (F/48)^exponent",
        source="assumption [A]",
        assumption=True,
        block="progression",
    ),
    Parameter(
        name="sigma_hhd",
        value=0.05,
        unit="megascore",
        description="HHD megascore measurement variability",
        source="assumption [A]",
        assumption=True,
        block="progression",
    ),
    # --- baseline NfL from the progression rate ------------------------------------------
    Parameter(
        name="nfl_slope_exponent",
        value=0.527,
        unit="1",
        description="baseline plasma NfL ~ (in-study slope)^exponent, anchored at the "
        "non-A4V median NfL and slope",
        source="log(96.4/45.8)/log(ratio of median slopes A4V/other): NfL medians of fast vs "
        "slow progressors (SCIENCE.md s.3) matched to the variant-class slope medians [D]",
        assumption=False,
        block="progression",
    ),
    Parameter(
        name="nfl_slope_residual_omega",
        value=0.78,
        unit="log SD",
        description="residual log-SD of baseline NfL given the slope (gives r about 0.55 "
        "between log NfL and log slope)",
        source="r 0.5-0.65 between NfL and progression rate (evidence nfl_slope_vitality, "
        "nfl_slope_witzel) [D]",
        assumption=False,
        block="progression",
    ),
)

_PREFALS_LEAD = (
    "hand fit so that untreated A4V-like carriers' time from the NfL trigger (rise >= 10 to >= 44 "
    "pg/mL, monthly samples) to phenoconversion has a median inside the 6-12 months of evidence "
    "nh_prefals_nfl_lead (tests/simulate/test_presymptomatic.py checks it) [A]"
)

CARRIER_PARAMETERS: tuple[Parameter, ...] = (
    # --- presymptomatic carriers (alsim.model.presymptomatic) -----------------------------
    Parameter(
        name="carrier_nfl_base_pg_ml",
        value=10.0,
        unit="pg/mL",
        description="plasma NfL of a clinically presymptomatic carrier far from onset, flat "
        "until the prodromal rise",
        source="assumption: at-risk carriers resemble controls and stay stable (evidence "
        "prefals_nfl_stable_in_als); healthy-adult plasma NfL is of the order of 10 pg/mL, a "
        "value not in the evidence file [A]",
        assumption=True,
        variability="lognormal",
        omega=0.4,
        block="carrier",
        sensitivity=(5.0, 20.0),
    ),
    Parameter(
        name="onset_age_mean_years",
        value=published("nh_onset_age"),
        unit="years",
        description="mean age at symptom onset of SOD1 carriers who develop ALS (normal law)",
        source="Bali 2017 SOD1-ALS onset age, same in A4V and other variants (evidence "
        "nh_onset_age) [V]",
        assumption=False,
        block="carrier",
    ),
    Parameter(
        name="onset_age_sd_years",
        value=12.3,
        unit="years",
        description="SD of the age at symptom onset",
        source="Bali 2017 (evidence nh_onset_age, note: SD 12.3) [V]",
        assumption=False,
        block="carrier",
    ),
    Parameter(
        name="penetrance_a4v",
        value=0.9,
        unit="1",
        description="lifetime probability that an A4V-like (rapidly progressive) carrier "
        "develops ALS",
        source="assumption: ATLAS enrols variants of high or complete penetrance (evidence "
        "atlas_eligibility); no penetrance figure in the evidence file [A]",
        assumption=True,
        block="carrier",
        sensitivity=(0.7, 1.0),
    ),
    Parameter(
        name="penetrance_other",
        value=0.5,
        unit="1",
        description="lifetime probability that a carrier of another SOD1 variant develops ALS",
        source="assumption: reduced-penetrance variants exist; no figure in the evidence [A]",
        assumption=True,
        block="carrier",
        sensitivity=(0.2, 0.9),
    ),
    Parameter(
        name="prodromal_scale_a4v_days",
        value=280.0,
        unit="d",
        description="e-folding time (in disease time) of the prodromal rise of injury before "
        "phenoconversion, A4V-like variants",
        source=_PREFALS_LEAD,
        assumption=True,
        variability="lognormal",
        omega=0.25,
        block="carrier",
        sensitivity=(180.0, 400.0),
    ),
    Parameter(
        name="prodromal_scale_other_days",
        value=730.0,
        unit="d",
        description="e-folding time of the prodromal rise, other SOD1 variants",
        source="assumption: a slower, longer prodrome as in FUS and C9orf72 carriers (about 2 "
        "and 3.5 years of NfL rise, evidence prefals_nfl_lead_fus_c9); no SOD1 figure [A]",
        assumption=True,
        variability="lognormal",
        omega=0.25,
        block="carrier",
        sensitivity=(365.0, 1460.0),
    ),
)

PARAMETERS: tuple[Parameter, ...] = (
    # --- intrathecal PK -------------------------------------------------------------------
    Parameter(
        name="v_csf_l",
        value=published("nusi_poppk_VCSF"),
        unit="L",
        description="CSF volume (PK compartment)",
        source=_NUSI,
        assumption=False,
    ),
    Parameter(
        name="cl_csf_plasma_l_h",
        value=published("nusi_poppk_CLCSF"),
        unit="L/h",
        description="clearance from CSF to plasma (CSF outflow)",
        source=_NUSI,
        assumption=False,
    ),
    Parameter(
        name="q_csf_tissue_l_h",
        value=published("nusi_poppk_QCSF"),
        unit="L/h",
        description="uptake clearance from CSF into CNS tissue (the biophase)",
        source=_NUSI,
        assumption=False,
    ),
    Parameter(
        name="v_plasma_l",
        value=published("nusi_poppk_Vp"),
        unit="L",
        description="plasma volume of distribution",
        source=_NUSI,
        assumption=False,
    ),
    Parameter(
        name="cl_plasma_l_h",
        value=published("nusi_poppk_CLp"),
        unit="L/h",
        description="plasma clearance",
        source=_NUSI,
        assumption=False,
    ),
    Parameter(
        name="t_half_tissue_days",
        value=CALIBRATED,
        unit="d",
        description="half-life of tofersen in CNS tissue (biophase elimination)",
        source=_JOINT_FIT + "; prior range: weeks, as the CSF SOD1 nadir near Day 56 needs "
        "(no tofersen popPK model is public) [A]",
        assumption=True,
        variability="lognormal",
        omega=0.3,
        sensitivity=(10.0, 60.0),
        fitted_to=_CSF_SOD1_GROUPS,
    ),
    # --- SOD1 knock-down ------------------------------------------------------------------
    Parameter(
        name="s_max",
        value=3.0,
        unit="1",
        description="maximal RNase H-driven extra mRNA decay (3 = 75% maximal knock-down)",
        source="McCampbell 2018 rodents, ~75% maximal mRNA reduction (evidence aso_ec50_rat) [V]",
        assumption=False,
    ),
    Parameter(
        name="ec50_tissue_mg",
        value=CALIBRATED,
        unit="mg",
        description="tissue amount giving half-maximal knock-down",
        source=_JOINT_FIT + "; prior range: around the hand fit of 80.8 dose-mg x tissue "
        "fraction (SCIENCE.md s.2), a factor of about 5 either way [A]",
        assumption=True,
        variability="lognormal",
        omega=0.5,
        sensitivity=(5.0, 150.0),
        fitted_to=_CSF_SOD1_GROUPS,
    ),
    Parameter(
        name="hill",
        value=3.0,
        unit="1",
        description="Hill coefficient of knock-down",
        source=_HAND_FIT + " (at its bound)",
        assumption=True,
    ),
    Parameter(
        name="t_half_mrna_days",
        value=1.0,
        unit="d",
        description="SOD1 mRNA half-life",
        source="not public (evidence sod1_mrna_halflife is a gap) [A]",
        assumption=True,
    ),
    Parameter(
        name="t_half_sod1_days",
        value=published("sod1_csf_halflife_human"),
        unit="d",
        description="SOD1 protein half-life in CNS/CSF",
        source="Crisp 2015 human CSF SILK, recalled (evidence sod1_csf_halflife_human) [U]",
        assumption=True,
        variability="lognormal",
        omega=0.25,
    ),
    Parameter(
        name="f_cns",
        value=CALIBRATED,
        unit="1",
        description="fraction of CSF SOD1 that comes from suppressible CNS production",
        source=_JOINT_FIT + "; prior range: without a non-suppressible part no fit exists "
        "(SCIENCE.md s.2) [A]",
        assumption=True,
        variability="logitnormal",
        omega=0.5,
        sensitivity=(0.2, 0.9),
        fitted_to=_CSF_SOD1_GROUPS,
    ),
    Parameter(
        name="csf_sod1_base_ng_ml",
        value=140.0,
        unit="ng/mL",
        description="typical baseline CSF total SOD1 concentration",
        source="not in evidence (VALOR baseline table not public) [A]",
        assumption=True,
        variability="lognormal",
        omega=0.35,
    ),
    # --- injury and neurofilament ---------------------------------------------------------
    Parameter(
        name="gamma_injury",
        value=CALIBRATED,
        unit="1",
        description="exponent of injury on SOD1 protein, I = drift(t) * P^gamma",
        source=_JOINT_FIT + "; prior range around SCIENCE.md's hand fit of 0.76 [A]",
        assumption=True,
        sensitivity=(0.3, 1.8),
        fitted_to=_NFL_GROUPS,
    ),
    Parameter(
        name="t_half_nfl_days",
        value=10.0,
        unit="d",
        description="turnover half-life of neurofilament light in blood/CSF",
        source=_HAND_FIT,
        assumption=True,
        variability="lognormal",
        omega=0.3,
    ),
    Parameter(
        name="nfl_drift_per_day",
        value=CALIBRATED,
        unit="1/d",
        description="log-rate of NfL rise without drug (disease progression)",
        source=_JOINT_FIT + "; prior range: from no rise to doubling in a year [A]; "
        "between-patient SD an assumption [A]",
        assumption=True,
        variability="normal",
        omega=4.3e-4,
        sensitivity=(5e-5, 2e-3),
        fitted_to=_NFL_GROUPS,
    ),
    Parameter(
        name="plasma_nfl_base_other_pg_ml",
        value=45.8,
        unit="pg/mL",
        description="median baseline plasma NfL, non-A4V (slower) variants",
        source="serum NfL median of slow progressors (SCIENCE.md s.3) [V]",
        assumption=False,
        variability="lognormal",
        omega=0.5,
    ),
    Parameter(
        name="plasma_nfl_base_a4v_pg_ml",
        value=96.4,
        unit="pg/mL",
        description="median baseline plasma NfL, A4V-like (faster) variants",
        source="serum NfL median of fast progressors (SCIENCE.md s.3) [V]",
        assumption=False,
        variability="lognormal",
        omega=0.5,
    ),
    Parameter(
        name="csf_plasma_nfl_ratio",
        value=40.0,
        unit="1",
        description="CSF to plasma NfL concentration ratio",
        source="CSF NfL about 40x plasma (SCIENCE.md s.3) [V]",
        assumption=False,
        variability="lognormal",
        omega=0.3,
    ),
    # --- measurement ----------------------------------------------------------------------
    Parameter(
        name="sigma_csf_sod1",
        value=0.10,
        unit="log SD",
        description="residual (assay + within-subject) variability of CSF SOD1",
        source="assumption; sized so Phase 1/2 CI widths are plausible [A]",
        assumption=True,
    ),
    Parameter(
        name="sigma_plasma_nfl",
        value=0.12,
        unit="log SD",
        description="residual variability of plasma NfL",
        source="assumption [A]",
        assumption=True,
    ),
    Parameter(
        name="sigma_csf_nfl",
        value=0.12,
        unit="log SD",
        description="residual variability of CSF NfL",
        source="assumption [A]",
        assumption=True,
    ),
    *PROGRESSION_PARAMETERS,
    *CARRIER_PARAMETERS,
)


@dataclass(frozen=True, slots=True)
class ParameterSet(Mapping[str, Parameter]):
    """An immutable, name-indexed parameter table; `with_values` returns a modified copy."""

    parameters: tuple[Parameter, ...] = PARAMETERS
    _index: dict[str, Parameter] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index = {p.name: p for p in self.parameters}
        if len(index) != len(self.parameters):
            raise AlsimError("parameter names must be unique")
        object.__setattr__(self, "_index", index)

    def __getitem__(self, name: str) -> Parameter:
        try:
            return self._index[name]
        except KeyError:
            allowed = ", ".join(sorted(self._index))
            raise AlsimError(f"unknown parameter {name!r}; allowed: {allowed}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)

    def value(self, name: str) -> float:
        """Typical value of `name`."""
        return self[name].value

    def with_values(self, **values: float) -> "ParameterSet":
        """A copy with the typical values of the named parameters replaced."""
        for name in values:
            self[name]
        return ParameterSet(
            tuple(replace(p, value=float(values.get(p.name, p.value))) for p in self.parameters)
        )

    def with_variability(self, *, enabled: bool) -> "ParameterSet":
        """A copy with every between-subject variability switched off (or kept)."""
        if enabled:
            return self
        return ParameterSet(
            tuple(replace(p, variability="none", omega=0.0) for p in self.parameters)
        )

    def to_frame(self) -> pd.DataFrame:
        """The table as a DataFrame: one row per parameter, with source and assumption flag."""
        return pd.DataFrame(
            [
                {
                    "name": p.name,
                    "value": p.value,
                    "unit": p.unit,
                    "description": p.description,
                    "variability": p.variability,
                    "omega": p.omega,
                    "assumption": p.assumption,
                    "source": p.source,
                    "block": p.block,
                    "sensitivity": p.sensitivity,
                    "prior": ""
                    if p.prior_distribution is None
                    else p.prior_distribution.describe(),
                    "posterior": "" if p.posterior is None else p.posterior.describe(),
                    "fitted_to": ", ".join(p.posterior.targets if p.posterior else p.fitted_to),
                }
                for p in self.parameters
            ]
        )

    def to_dict(self) -> dict[str, float]:
        """Typical values by name (for manifests)."""
        return {p.name: p.value for p in self.parameters}

    @property
    def free(self) -> tuple[Parameter, ...]:
        """The parameters `alsim calibrate` fits, in table order."""
        return tuple(p for p in self.parameters if p.free)


CALIBRATION_DIR = ("data", "calibration")
CALIBRATION_SUMMARY = "summary.json"
CALIBRATION_DRAWS = "posterior.parquet"


@cache
def shipped_calibration() -> dict[str, Any] | None:
    """The calibration summary shipped with alsim (None before the first calibration)."""
    resource = files("alsim.model").joinpath(*CALIBRATION_DIR, CALIBRATION_SUMMARY)
    if not resource.is_file():
        return None
    document: dict[str, Any] = json.loads(resource.read_text(encoding="utf-8"))
    return document


def calibrated(parameters: ParameterSet, summary: Mapping[str, Any] | None) -> ParameterSet:
    """`parameters` with every free parameter at its posterior median from `summary`.

    Without a summary the free parameters keep their `CALIBRATED` (NaN) table value: only
    `alsim calibrate`, which sets them itself, can run then.
    """
    if summary is None:
        return parameters
    fitted = summary["parameters"]
    out = []
    for p in parameters.parameters:
        if not p.free:
            out.append(p)
            continue
        if p.name not in fitted:
            raise AlsimError(
                f"parameter {p.name} is fitted but the shipped calibration has no value for it; "
                "regenerate it with the command in README.md (alsim calibrate)"
            )
        entry = fitted[p.name]
        posterior = Posterior(
            median=float(entry["median"]),
            low=float(entry["low"]),
            high=float(entry["high"]),
            targets=tuple(entry["targets"]),
        )
        out.append(replace(p, value=posterior.median, posterior=posterior))
    return ParameterSet(tuple(out))


#: The uncalibrated table: free parameters hold `CALIBRATED`.
TABLE = ParameterSet(PARAMETERS)
DEFAULT_PARAMETERS = calibrated(TABLE, shipped_calibration())
