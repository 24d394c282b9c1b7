"""The annotated parameter table: one place for every model value, its unit, source and variability.

Read by the model, the population sampler, the report and the docs. Sources are tagged as in
SCIENCE.md: [V] read in a source, [D] derived by calculation, [A] an assumption or fitted value.

Published values are read from the evidence file (`published`), never typed in. Parameters with
`fitted_to` target groups are free in the joint calibration (`alsim calibrate`): their table value
is `CALIBRATED` and `DEFAULT_PARAMETERS` takes the posterior median from the calibration shipped in
`alsim/model/data/calibration/` (`calibrated`, `shipped_calibration`).
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
    `block` says which sampler draws it: "biomarker" parameters once per patient, in table
    order, for every design; "progression" parameters (disease course, function, breathing,
    strength, survival) with each candidate patient screened, for every design, so they are
    redrawn for candidates who never reach the trial; "carrier" parameters (the presymptomatic
    phase) only for designs with a monitoring run-in. `sensitivity` is the (low, high) range the
    value can take on the evidence (its sourced plausible range), None where the value is a
    normalisation.

    `fitted_to` names the calibration target groups (`alsim.evidence` targets.yaml,
    `calibration_groups`) the parameter is fitted to: such a parameter is free in `alsim
    calibrate`, with `prior` (default: normal on the log scale, or logit scale for a
    logit-normal parameter, with 95% of its mass in `sensitivity`), and its value `CALIBRATED`
    comes from the shipped calibration, which also fills `posterior`. `omega_fitted_to` and
    `omega_prior` do the same for the between-subject SD (`omega` then `CALIBRATED`, filled with
    `omega_posterior`): the free quantity is named ``<name>.omega``.
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
    omega_prior: Prior | None = None
    omega_fitted_to: tuple[str, ...] = ()
    omega_posterior: Posterior | None = None

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
        if self.omega_fitted_to and (self.omega_prior is None or self.variability == "none"):
            raise AlsimError(
                f"parameter {self.name}: a fitted omega needs a variability model and omega_prior"
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
        """Whether `alsim calibrate` fits this parameter's typical value."""
        return bool(self.fitted_to)


OMEGA_SUFFIX = ".omega"
Quantity = Literal["value", "omega"]


@dataclass(frozen=True, slots=True)
class FreeQuantity:
    """What `alsim calibrate` fits: a parameter's typical value, or its between-subject SD."""

    parameter: Parameter
    quantity: Quantity

    @property
    def name(self) -> str:
        suffix = OMEGA_SUFFIX if self.quantity == "omega" else ""
        return self.parameter.name + suffix

    @property
    def unit(self) -> str:
        if self.quantity == "value":
            return self.parameter.unit
        return {"lognormal": "log SD", "logitnormal": "logit SD"}.get(
            self.parameter.variability, self.parameter.unit
        )

    @property
    def prior(self) -> Prior:
        prior = (
            self.parameter.prior_distribution
            if self.quantity == "value"
            else self.parameter.omega_prior
        )
        assert prior is not None  # checked by Parameter
        return prior

    @property
    def fitted_to(self) -> tuple[str, ...]:
        p = self.parameter
        return p.fitted_to if self.quantity == "value" else p.omega_fitted_to


_NUSI = "Luu 2017 nusinersen population PK (evidence nusi_poppk_*), used as template [V]"
_HAND_FIT = "SCIENCE.md s.2 hand fit to Phase 1/2 CSF SOD1 and VALOR ITT CSF SOD1/NfL [A]"
_JOINT_FIT = "fitted jointly by alsim calibrate (posterior median) [A]"
_CSF_SOD1_GROUPS = ("phase12_csf_sod1", "valor_csf_sod1")
_NFL_GROUPS = ("valor_nfl", "valor_nfl_faster")

_BALI_A4V = (
    f"{_JOINT_FIT} to Bali 2016's A4V ALS-FRS decline, mean 3.6 (SD 5) /month (evidence "
    "nh16_alsfrs_slope_a4v), as the mean pre-study slope of A4V patients reaching a first visit; "
    "omega sqrt(log(1+(5/3.6)^2)) from its SD [D]; prior range an assumption, not read from "
    "the fitted number: from the PRO-ACT all-ALS mean decline (about 1 point/month, SCIENCE.md "
    "s.3) to four times it, A4V being the fastest class [A]"
)
_BALI_OTHER = (
    "Bali 2016 all-SOD1 ALS-FRS decline mean 0.9 (SD 1.3) /month (evidence nh16_alsfrs_slope_all) "
    "read as the non-A4V course (the non-A4V value itself is a gap, nh_slope_nona4v_final; a "
    "mixture with the A4V mean cannot give 0.9): omega from its SD [D]; "
    f"{_JOINT_FIT} to Bali's "
    "survival medians; prior range an assumption: from a quarter of the PRO-ACT all-ALS mean "
    "decline (about 1 point/month, SCIENCE.md s.3) to that mean, non-A4V SOD1 ALS being "
    "slower than ALS at large [A]"
)
_SURVIVAL_FIT = (
    f"{_JOINT_FIT} to Bali 2017 median survival from onset of A4V, non-A4V and all patients "
    "(evidence nh_median_surv_a4v, nh_median_surv_nona4v, nh_median_surv_all)"
)
_VALOR_FIT = "fitted by src/alsim/calibrate/valor.py"
_NFL_R_FIT = (
    f"{_VALOR_FIT} with in_study_slope_elasticity and the NfL level's spread so that, in non-A4V "
    "trial entrants, log baseline NfL correlates with the log pre-study slope as in VITALITY "
    "(r 0.5, evidence nfl_slope_vitality) and with the log in-study slope as NfL predicts "
    "decline in Witzel 2021 (R 0.67, evidence nfl_slope_witzel), and the linear regression of "
    "the in-study on the pre-study slope has coefficient 0.2 (Kimura, SCIENCE.md s.3) [D]"
)

PROGRESSION_PARAMETERS: tuple[Parameter, ...] = (
    # --- who reaches a screening visit (SCIENCE.md s.3: generated, not drawn from a matrix) ---
    Parameter(
        name="onset_age_years",
        value=47.69,
        unit="years",
        description="age at symptom onset (normal): of patients, whose age at entry adds the "
        "time from onset, and of penetrant presymptomatic carriers (the one onset-age law)",
        source=f"{_VALOR_FIT}: the mean and SD of age at entry of VALOR entrants equal VALOR's "
        "(evidence valor_age_tof, valor_age_pbo, pooled over arms) [D]; Bali 2017's SOD1-ALS "
        "onset age (evidence nh_onset_age, same in A4V and other variants) is its check",
        assumption=False,
        variability="normal",
        omega=12.31,
        block="progression",
        sensitivity=(40.0, 55.0),
    ),
    Parameter(
        name="prestudy_slope_a4v_per_month",
        value=CALIBRATED,
        unit="points/month",
        description="median pre-study ALSFRS-R slope dFS = (48 - ALSFRS-R)/months since onset, "
        "A4V-like variants",
        source=_BALI_A4V,
        assumption=False,
        variability="lognormal",
        omega=1.0367,
        block="progression",
        sensitivity=(1.0, 4.0),
        fitted_to=("natural_history",),
    ),
    Parameter(
        name="prestudy_slope_other_per_month",
        value=CALIBRATED,
        unit="points/month",
        description="median pre-study ALSFRS-R slope, other variants",
        source=_BALI_OTHER,
        assumption=True,
        variability="lognormal",
        omega=1.0616,
        block="progression",
        sensitivity=(0.25, 1.0),
        fitted_to=("natural_history",),
    ),
    Parameter(
        name="months_onset_to_entry",
        value=15.0,
        unit="months",
        description="median time from symptom onset to the screening visit (first visit, trial "
        "screening) of a patient with the typical non-A4V pre-study slope (log-normal)",
        source="assumption informed by the median diagnostic delay of about 11-12 months in ALS "
        "(Paganoni 2014; not in the evidence file) plus a few months from diagnosis to a "
        "first visit or screening; VALOR's disease duration at baseline is a gap (evidence "
        "valor_baseline_*_disease) [A]",
        assumption=True,
        variability="lognormal",
        omega=0.5,
        block="progression",
        sensitivity=(9.0, 30.0),
    ),
    Parameter(
        name="entry_delay_elasticity",
        value=0.5,
        unit="1",
        description="time to screening scales with (pre-study slope / typical non-A4V slope) to "
        "the power -elasticity: faster disease is diagnosed and referred sooner (0: unrelated; 1: "
        "everyone screened after the same loss)",
        source="assumption: a shorter diagnostic delay goes with faster progression and shorter "
        "survival (diagnostic delay is a prognostic factor in the ENCALS model, Westeneng 2018; "
        "not in the evidence file) [A]",
        assumption=True,
        block="progression",
        sensitivity=(0.0, 1.0),
    ),
    Parameter(
        name="alsfrsr_at_onset",
        value=47.0,
        unit="points",
        description="ALSFRS-R at symptom onset, where the latent logistic course starts",
        source="assumption: onset is the loss of the first point [A]",
        assumption=True,
        block="progression",
        sensitivity=(46.0, 47.8),
    ),
    # --- in-study course (latent D50 logistic, SCIENCE.md s.3) ---------------------------
    Parameter(
        name="in_study_slope_factor",
        value=CALIBRATED,
        unit="1",
        description="in-study ALSFRS-R slope at entry relative to the median pre-study slope of "
        "the patient's variant class, at that median (log-normal: its spread is the part of the "
        "in-study slope the pre-study slope does not predict)",
        source=f"{_JOINT_FIT} to the VALOR faster-progression placebo ALSFRS-R change (evidence "
        "valor_alsfrsr_fast_pbo) and Bali's survival (the natural history shares the course); "
        "prior range: entrants decline between half and three times as fast as their class "
        "median [A]; the spread with the NfL correlations (see in_study_slope_elasticity) [D]",
        assumption=True,
        variability="lognormal",
        omega=0.3073,
        block="progression",
        sensitivity=(0.5, 3.0),
        fitted_to=("valor_alsfrsr", "natural_history"),
    ),
    Parameter(
        name="in_study_slope_elasticity",
        value=0.3558,
        unit="1",
        description="in-study slope ~ (pre-study slope)^elasticity within a variant class",
        source=_NFL_R_FIT,
        assumption=False,
        block="progression",
        sensitivity=(0.1, 0.6),
    ),
    Parameter(
        name="sigma_alsfrsr",
        value=1.5,
        unit="points",
        description="ALSFRS-R rater and day-to-day variability (before rounding to an integer)",
        source="assumption [A]",
        assumption=True,
        block="progression",
        sensitivity=(1.0, 3.0),
    ),
    # --- drug effect on function ---------------------------------------------------------
    Parameter(
        name="function_potency",
        value=CALIBRATED,
        unit="1",
        description="kappa: the drive of the functional course is Q = (R^beta)^kappa, the "
        "relative NfL drive R^beta to the power kappa (log-normal: patients differ in how much "
        "function gains from the same SOD1 lowering)",
        source="assumption: at kappa 1 function slows as much as NfL falls, the surrogate judged "
        "reasonably likely to predict clinical benefit (evidence fda_adcomm_nfl); at 1/beta "
        "(about 2.6) it would slow with the full relative injury R; prior range between half and "
        f"three times kappa 1 [A]; {_JOINT_FIT} to the VALOR faster-stratum ALSFRS-R results; the "
        "spread is not identified by the evidence file [A]",
        assumption=True,
        variability="lognormal",
        omega=0.5,
        block="progression",
        sensitivity=(0.5, 3.0),
        fitted_to=("valor_alsfrsr",),
    ),
    Parameter(
        name="n_transit_effect",
        value=3.0,
        unit="compartments",
        description="number of transit compartments between injury and function (delayed "
        "onset, Savic et al. 2007); an integer shared by all patients, so not drawn from a "
        "range: vary it by hand over 1-6 (1 is the first-order effect compartment)",
        source="assumption: a sigmoid onset of benefit after the biomarker response (CSF SOD1 "
        "nadir near Day 56, NfL near Day 113: evidence valor_csf_sod1_itt_diff, "
        "valor_plasma_nfl_itt_diff) [A]",
        assumption=True,
        block="progression",
    ),
    Parameter(
        name="mtt_effect_days",
        value=CALIBRATED,
        unit="d",
        description="mean transit time of the delayed-onset chain, k_tr = n / MTT",
        source=f"{_JOINT_FIT} to the VALOR faster-stratum ALSFRS-R difference (evidence "
        "valor_alsfrsr_fast_diff); weakly identified; prior range: no faster than the biomarker "
        "cascade, no slower than two years [A]",
        assumption=True,
        block="progression",
        sensitivity=(28.0, 730.0),
        fitted_to=("valor_alsfrsr",),
    ),
    Parameter(
        name="recovery_capacity",
        value=0.1,
        unit="logit units",
        description="rho: function regained (latent logit units) when the drug suppresses all "
        "injury; the latent score is u0 - v0 Z + rho (1 - E_n), so a patient can stabilise or "
        "partly recover on drug and loses the gain if the drug stops (log-normal)",
        source="assumption: real-world cohorts on tofersen report stabilisation or improvement "
        "in a share of patients (not in the evidence file); wide prior, modest typical value [A]",
        assumption=True,
        variability="lognormal",
        omega=1.0,
        block="progression",
        sensitivity=(0.01, 0.5),
    ),
    # --- respiratory course and death or permanent ventilation ---------------------------
    Parameter(
        name="svc_full_pct",
        value=100.0,
        unit="% predicted",
        description="ceiling of the slow vital capacity logistic (before respiratory involvement)",
        source="assumption: healthy % predicted is 100 by definition, spread as in healthy "
        "adults [A]",
        assumption=True,
        variability="normal",
        omega=10.0,
        block="progression",
        sensitivity=(90.0, 110.0),
    ),
    Parameter(
        name="svc_latent_onset",
        value=3.0,
        unit="logit units",
        description="SVC logit at symptom onset: SVC = full x expit(w), w falls at the "
        "patient's respiratory speed per latent unit of functional course",
        source="assumption: about 95% of the ceiling at onset [A]",
        assumption=True,
        variability="normal",
        omega=0.5,
        block="progression",
        sensitivity=(2.0, 4.0),
    ),
    Parameter(
        name="svc_speed_a4v",
        value=CALIBRATED,
        unit="1",
        description="lambda: SVC logit units lost per latent unit of functional course, A4V-like "
        "variants (log-normal: breathing has its own pace)",
        source=f"{_JOINT_FIT} to Bali 2016's A4V FVC decline since onset (evidence "
        "nh16_fvc_slope_a4v) and the A4V survival median; prior range an assumption: a decade of "
        "paces, from breathing that lags function threefold to breathing that leads it "
        "threefold [A]",
        assumption=True,
        variability="lognormal",
        omega=0.3,
        block="progression",
        sensitivity=(0.3, 3.0),
        fitted_to=("natural_history",),
    ),
    Parameter(
        name="svc_speed_other",
        value=CALIBRATED,
        unit="1",
        description="lambda, other variants",
        source=f"{_SURVIVAL_FIT}, with the hazard; prior range an assumption: SVC below about half "
        "its ceiling by ALSFRS-R 10 [A]; the spread (omega) free too, prior 0.1-1 on the log "
        "scale: vital capacity declines vary more between patients than ALSFRS-R declines (PRO-ACT "
        "coefficients of variation about 3.1 vs 2.3, SCIENCE.md s.3) and the class pools many "
        "variants [A]",
        assumption=True,
        variability="lognormal",
        omega=CALIBRATED,
        block="progression",
        sensitivity=(0.55, 3.0),
        fitted_to=("natural_history",),
        omega_prior=Prior(kind="lognormal", low=0.1, high=1.0),
        omega_fitted_to=("natural_history",),
    ),
    Parameter(
        name="sigma_svc",
        value=5.0,
        unit="% predicted",
        description="SVC measurement variability",
        source="assumption [A]",
        assumption=True,
        block="progression",
        sensitivity=(2.0, 10.0),
    ),
    Parameter(
        name="hazard_ref_per_year",
        value=CALIBRATED,
        unit="1/year",
        description="hazard of death or permanent ventilation at SVC 50% predicted, onset age "
        "50 and frailty 1",
        source=f"{_SURVIVAL_FIT}; prior range an assumption: at the usual threshold for "
        "non-invasive ventilation, death or permanent ventilation within a year is neither rare "
        "nor certain [A]",
        assumption=True,
        block="progression",
        sensitivity=(0.03, 3.0),
        fitted_to=("natural_history",),
    ),
    Parameter(
        name="hazard_svc_per_10pct",
        value=CALIBRATED,
        unit="log hazard per 10 % predicted",
        description="alpha: the log hazard rises by alpha for every 10 % predicted of SVC lost "
        "(joint longitudinal-survival link, Rizopoulos 2012)",
        source=f"{_SURVIVAL_FIT}; prior range an assumption: from a weak link (x1.35 per 10 % "
        "predicted) to a near-threshold one (x20) [A]",
        assumption=True,
        block="progression",
        sensitivity=(0.3, 3.0),
        fitted_to=("natural_history",),
    ),
    Parameter(
        name="hazard_age_per_10y",
        value=0.3,
        unit="log hazard per 10 years",
        description="log hazard per 10 years of age at onset",
        source="assumption: age at onset is among the strongest ENCALS survival predictors "
        "(Westeneng 2018; not in the evidence file); Bali's medians do not identify it [A]",
        assumption=True,
        block="progression",
        sensitivity=(0.0, 0.7),
    ),
    Parameter(
        name="hazard_frailty",
        value=1.0,
        unit="1",
        description="multiplicative frailty of the hazard (log-normal)",
        source="assumption: what the respiratory course and age leave unexplained (nutrition, "
        "cognition, care) [A]",
        assumption=True,
        variability="lognormal",
        omega=0.5,
        block="progression",
    ),
    # --- strength --------------------------------------------------------------------------
    Parameter(
        name="hhd_full",
        value=1.0,
        unit="megascore",
        description="ceiling of the HHD megascore logistic (mean strength of 16 muscles "
        "relative to reference)",
        source="assumption: normalised scale [A]",
        assumption=True,
        variability="lognormal",
        omega=0.25,
        block="progression",
        sensitivity=(0.8, 1.2),
    ),
    Parameter(
        name="hhd_latent_onset",
        value=3.0,
        unit="logit units",
        description="HHD megascore logit at symptom onset: HHD = full x expit(h)",
        source="assumption: about 95% of the ceiling at onset [A]",
        assumption=True,
        block="progression",
        sensitivity=(2.0, 4.0),
    ),
    Parameter(
        name="hhd_speed",
        value=1.0,
        unit="1",
        description="mu: HHD logit units lost per latent unit of functional course (log-normal: "
        "strength has its own pace, correlated with function through the shared course)",
        source="assumption: strength follows function on average (VALOR's HHD results are gaps, "
        "evidence valor_hhd_diff_*) [A]",
        assumption=True,
        variability="lognormal",
        omega=0.3,
        block="progression",
        sensitivity=(0.5, 2.0),
    ),
    Parameter(
        name="sigma_hhd",
        value=0.1,
        unit="log SD",
        description="HHD megascore measurement variability (relative, so a weak patient's "
        "megascore stays positive)",
        source="assumption [A]",
        assumption=True,
        block="progression",
        sensitivity=(0.05, 0.2),
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
        source=f"{_JOINT_FIT} to the Phase 1/2 and VALOR CSF SOD1 results; prior range an "
        "assumption: ten days to two months, the weeks-long tissue persistence of intrathecal "
        "antisense oligonucleotides (no tofersen popPK model is public) [A]",
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
        source=f"{_JOINT_FIT} to the Phase 1/2 and VALOR CSF SOD1 results; prior range an "
        "assumption, a factor of 30 and not centred on any fit: from knock-down that saturates "
        "in the lowest Phase 1/2 dose to knock-down the highest barely reaches [A]",
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
        source=f"{_JOINT_FIT} to the Phase 1/2 and VALOR CSF SOD1 results; prior range: without "
        "a non-suppressible part no fit exists (SCIENCE.md s.2) [A]",
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
        description="exponent of relative toxic injury on SOD1 protein, R = P^gamma",
        source=f"{_JOINT_FIT} to the VALOR plasma NfL ratios and GMRs (evidence "
        "valor_plasma_nfl_ratio_itt; faster stratum valor_plasma_nfl_gmr_faster_tofersen), "
        "given the NfL exponent; prior range an assumption: from a toxicity half as steep as the "
        "SOD1 level to a steeply supra-linear one [A]",
        assumption=True,
        sensitivity=(0.5, 4.0),
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
        sensitivity=(5.0, 20.0),
    ),
    Parameter(
        name="nfl_activity_exponent",
        value=CALIBRATED,
        unit="1",
        description="beta: NfL = level x activity^beta, activity = s(F) v0 R the current rate of "
        "motor-unit loss (ALSFRS-R points/month); sets how NfL differs between patients and how "
        "it moves with the stage and the drug",
        source=f"{_JOINT_FIT} to the VALOR placebo plasma NfL GMRs at week 28 (evidence "
        "valor_plasma_nfl_gmr_itt_placebo; faster stratum valor_plasma_nfl_gmr_faster_placebo); "
        "prior range from the NfL medians of slow vs fast progressors (SCIENCE.md s.3) [A]",
        assumption=True,
        sensitivity=(0.2, 1.0),
        fitted_to=_NFL_GROUPS,
    ),
    Parameter(
        name="plasma_nfl_level_pg_ml",
        value=78.79,
        unit="pg/mL",
        description="plasma NfL at an activity of 1 ALSFRS-R point/month (log-normal: NfL "
        "differences that activity does not explain)",
        source=f"{_VALOR_FIT}: median baseline NfL of VALOR entrants at the geometric mean of "
        "the serum NfL medians of slow and fast progressors (SCIENCE.md s.3); its spread with "
        "the NfL correlations (evidence nfl_slope_vitality, nfl_slope_witzel) [D]",
        assumption=False,
        variability="lognormal",
        omega=0.2022,
        sensitivity=(30.0, 120.0),
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


def _targets(p: Parameter, *, omega: bool = False) -> tuple[str, ...]:
    """What a parameter's value (or omega) was fitted to: the evidence ids of the shipped
    calibration, or the target groups before there is one."""
    posterior = p.omega_posterior if omega else p.posterior
    if posterior is not None:
        return posterior.targets
    return p.omega_fitted_to if omega else p.fitted_to


def _both(value: Prior | Posterior | None, omega: Prior | Posterior | None) -> str:
    """A parameter's prior or posterior, and its omega's where that is fitted too."""
    parts = [] if value is None else [value.describe()]
    if omega is not None:
        parts.append(f"omega {omega.describe()}")
    return "; ".join(parts)


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

    def with_omegas(self, **omegas: float) -> "ParameterSet":
        """A copy with the between-subject SDs of the named parameters replaced."""
        for name in omegas:
            self[name]
        return ParameterSet(
            tuple(replace(p, omega=float(omegas.get(p.name, p.omega))) for p in self.parameters)
        )

    def with_free(self, values: Mapping[str, float]) -> "ParameterSet":
        """A copy with free quantities replaced: a parameter's name sets its typical value,
        ``<name>.omega`` its between-subject SD (`FreeQuantity.name`)."""
        typical = {k: v for k, v in values.items() if not k.endswith(OMEGA_SUFFIX)}
        omegas = {
            k.removesuffix(OMEGA_SUFFIX): v for k, v in values.items() if k.endswith(OMEGA_SUFFIX)
        }
        return self.with_values(**typical).with_omegas(**omegas)

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
                    "prior": _both(p.prior_distribution, p.omega_prior),
                    "posterior": _both(p.posterior, p.omega_posterior),
                    "fitted_to": ", ".join(dict.fromkeys((*_targets(p), *_targets(p, omega=True)))),
                }
                for p in self.parameters
            ]
        )

    def to_dict(self) -> dict[str, float]:
        """Typical values by name (for manifests)."""
        return {p.name: p.value for p in self.parameters}

    @property
    def free(self) -> tuple[FreeQuantity, ...]:
        """The quantities `alsim calibrate` fits, in table order (a parameter's typical value
        before its omega)."""
        out = []
        for p in self.parameters:
            if p.fitted_to:
                out.append(FreeQuantity(p, "value"))
            if p.omega_fitted_to:
                out.append(FreeQuantity(p, "omega"))
        return tuple(out)


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
    """`parameters` with every free quantity at its posterior median from `summary`.

    Without a summary the free quantities keep their `CALIBRATED` (NaN) table value: only
    `alsim calibrate`, which sets them itself, can run then.
    """
    if summary is None:
        return parameters
    fitted = summary["parameters"]

    def posterior(name: str) -> Posterior:
        if name not in fitted:
            raise AlsimError(
                f"{name} is fitted but the shipped calibration has no value for it; "
                "regenerate it with the command in README.md (alsim calibrate)"
            )
        entry = fitted[name]
        return Posterior(
            median=float(entry["median"]),
            low=float(entry["low"]),
            high=float(entry["high"]),
            targets=tuple(entry["targets"]),
        )

    out = []
    for p in parameters.parameters:
        if p.fitted_to:
            value = posterior(p.name)
            p = replace(p, value=value.median, posterior=value)
        if p.omega_fitted_to:
            omega = posterior(p.name + OMEGA_SUFFIX)
            p = replace(p, omega=omega.median, omega_posterior=omega)
        out.append(p)
    return ParameterSet(tuple(out))


#: The uncalibrated table: free parameters hold `CALIBRATED`.
TABLE = ParameterSet(PARAMETERS)
DEFAULT_PARAMETERS = calibrated(TABLE, shipped_calibration())
