"""The annotated parameter table: one place for every model value, its unit, source and variability.

Read by the model, the population sampler, the report and the docs. Sources are tagged as in
SCIENCE.md: [V] read in a source, [D] derived by calculation, [A] an assumption or fitted value.
"""

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

import pandas as pd

from alsim.errors import AlsimError

Variability = Literal["none", "lognormal", "logitnormal", "normal"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Parameter:
    """One model parameter: typical value, unit, what it means, where it comes from, and its BSV.

    `omega` is the SD of the between-subject random effect on the scale named by `variability`
    (log for lognormal, logit for logitnormal, the parameter's own unit for normal).
    """

    name: str
    value: float
    unit: str
    description: str
    source: str
    assumption: bool
    variability: Variability = "none"
    omega: float = 0.0

    def __post_init__(self) -> None:
        if self.omega < 0:
            raise AlsimError(f"parameter {self.name}: omega must be >= 0, got {self.omega!r}")
        if self.variability == "none" and self.omega != 0:
            raise AlsimError(f"parameter {self.name}: omega given without a variability model")
        if self.variability == "lognormal" and self.value <= 0:
            raise AlsimError(f"parameter {self.name}: lognormal value must be > 0")
        if self.variability == "logitnormal" and not 0 < self.value < 1:
            raise AlsimError(f"parameter {self.name}: logitnormal value must be in (0, 1)")


_NUSI = "Luu 2017 nusinersen population PK (evidence nusi_poppk_*), used as template [V]"
_HAND_FIT = "SCIENCE.md s.2 hand fit to Phase 1/2 CSF SOD1 and VALOR ITT CSF SOD1/NfL [A]"

PARAMETERS: tuple[Parameter, ...] = (
    # --- intrathecal PK -------------------------------------------------------------------
    Parameter(
        name="v_csf_l",
        value=0.441,
        unit="L",
        description="CSF volume (PK compartment)",
        source=_NUSI,
        assumption=False,
    ),
    Parameter(
        name="cl_csf_plasma_l_h",
        value=0.133,
        unit="L/h",
        description="clearance from CSF to plasma (CSF outflow)",
        source=_NUSI,
        assumption=False,
    ),
    Parameter(
        name="q_csf_tissue_l_h",
        value=0.069,
        unit="L/h",
        description="uptake clearance from CSF into CNS tissue (the biophase)",
        source=_NUSI,
        assumption=False,
    ),
    Parameter(
        name="v_plasma_l",
        value=32.0,
        unit="L",
        description="plasma volume of distribution",
        source=_NUSI,
        assumption=False,
    ),
    Parameter(
        name="cl_plasma_l_h",
        value=2.5,
        unit="L/h",
        description="plasma clearance",
        source=_NUSI,
        assumption=False,
    ),
    Parameter(
        name="t_half_tissue_days",
        value=24.6,
        unit="d",
        description="half-life of tofersen in CNS tissue (biophase elimination)",
        source=_HAND_FIT,
        assumption=True,
        variability="lognormal",
        omega=0.3,
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
        value=27.6,
        unit="mg",
        description="tissue amount giving half-maximal knock-down (80.8 dose-mg x tissue fraction)",
        source=_HAND_FIT + "; rescaled to the tissue fraction of the dose [D]",
        assumption=True,
        variability="lognormal",
        omega=0.5,
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
        value=25.0,
        unit="d",
        description="SOD1 protein half-life in CNS/CSF",
        source="Crisp 2015 human CSF SILK, recalled (evidence sod1_csf_halflife_human) [U]",
        assumption=True,
        variability="lognormal",
        omega=0.25,
    ),
    Parameter(
        name="f_cns",
        value=0.5,
        unit="1",
        description="fraction of CSF SOD1 that comes from suppressible CNS production",
        source=_HAND_FIT,
        assumption=True,
        variability="logitnormal",
        omega=0.5,
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
        value=0.76,
        unit="1",
        description="exponent of injury on SOD1 protein, I = drift(t) * P^gamma",
        source=_HAND_FIT,
        assumption=True,
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
        value=math.log(1.12) / 196,
        unit="1/d",
        description="log-rate of NfL rise without drug (disease progression)",
        source="fitted to VALOR ITT placebo plasma NfL GMR 1.12 at week 28 (SCIENCE.md s.2) [A]",
        assumption=True,
        variability="normal",
        omega=0.75 * math.log(1.12) / 196,
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
                }
                for p in self.parameters
            ]
        )

    def to_dict(self) -> dict[str, float]:
        """Typical values by name (for manifests)."""
        return {p.name: p.value for p in self.parameters}


DEFAULT_PARAMETERS = ParameterSet()
