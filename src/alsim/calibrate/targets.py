"""The published numbers a joint calibration can fit, grouped as in targets.yaml.

A group (``calibration_groups`` in targets.yaml) names a study and the evidence ids whose
published values enter the likelihood (``fit``), and those restating the same numbers
(``same_information``). Each fitted number is compared on a scale where its sampling error is
close to normal: log for ratios and median survival, log(1 - x/100) for a "% reduction" given as
100 (1 - ratio), the number itself otherwise. Its standard error comes from the published 95% CI
on that scale; without a CI, the calibration uses the simulated replicate-to-replicate SD of the
same statistic at the trial's size.
"""

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from alsim.errors import AlsimError
from alsim.evidence.compare import Target, study_targets, targets_document
from alsim.evidence.records import evidence

FloatArray = NDArray[np.float64]
Scale = Literal["identity", "log", "log_complement"]
Z95 = 1.959963984540054

_SCALE: dict[str, Scale] = {
    "gmr_ratio": "log",
    "gmr_to_baseline": "log",
    "nh_median_survival": "log",
    "gmr_diff_pct": "log_complement",
}


def to_scale(values: FloatArray | float, scale: Scale) -> FloatArray:
    """Values on the likelihood scale."""
    x = np.asarray(values, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        if scale == "log":
            out: FloatArray = np.log(x)
        elif scale == "log_complement":
            out = np.log1p(-x / 100.0)
        else:
            out = x
    return out


def from_scale(values: FloatArray | float, scale: Scale) -> FloatArray:
    """Inverse of `to_scale`."""
    z = np.asarray(values, dtype=np.float64)
    if scale == "log":
        out: FloatArray = np.exp(z)
    elif scale == "log_complement":
        out = -100.0 * np.expm1(z)
    else:
        out = z
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class CalibrationTarget:
    """One published number of a group, with the simulated statistic it is compared with."""

    group: str
    study: str
    target: Target
    in_likelihood: bool
    scale: Scale
    published: float
    published_se: float | None

    @property
    def id(self) -> str:
        assert self.target.evidence is not None
        return self.target.evidence

    @property
    def observed(self) -> float:
        """The published value on the likelihood scale."""
        return float(to_scale(self.published, self.scale))


@dataclass(frozen=True, slots=True, kw_only=True)
class CalibrationGroup:
    name: str
    study: str
    targets: tuple[CalibrationTarget, ...]


def _published_se(record_id: str, scale: Scale) -> float | None:
    record = evidence(record_id)
    if not record.has_ci:
        return None
    assert record.ci_low is not None and record.ci_high is not None
    low, high = to_scale(np.array([record.ci_low, record.ci_high]), scale)
    se = abs(float(high) - float(low)) / (2 * Z95)
    if not math.isfinite(se) or se <= 0:
        raise AlsimError(f"evidence {record_id}: its CI gives no usable standard error")
    return se


def calibration_groups() -> dict[str, CalibrationGroup]:
    """Every group of targets.yaml, in file order."""
    document = targets_document().get("calibration_groups", {})
    groups: dict[str, CalibrationGroup] = {}
    for name, entry in document.items():
        study = str(entry["study"])
        targets, _ = study_targets(study)
        by_id = {t.evidence: t for t in targets if t.evidence is not None}
        members = []
        for key, in_likelihood in (("fit", True), ("same_information", False)):
            for record_id in entry.get(key, []):
                if record_id not in by_id:
                    raise AlsimError(
                        f"targets.yaml calibration_groups.{name}: {record_id!r} is not a target "
                        f"of study {study}"
                    )
                target = by_id[record_id]
                scale = _SCALE.get(target.quantity, "identity")
                members.append(
                    CalibrationTarget(
                        group=name,
                        study=study,
                        target=target,
                        in_likelihood=in_likelihood,
                        scale=scale,
                        published=evidence(record_id).numeric_value,
                        published_se=_published_se(record_id, scale),
                    )
                )
        groups[name] = CalibrationGroup(name=name, study=study, targets=tuple(members))
    return groups


def cross_validation_groups() -> tuple[str, ...]:
    """Groups the calibration also predicts out of sample."""
    return tuple(targets_document().get("cross_validation", []))


def select_groups(
    targets: tuple[str, ...] | None, leave_out: tuple[str, ...]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(groups fitted, groups left out), checked against targets.yaml."""
    known = tuple(calibration_groups())
    for name in (*(targets or ()), *leave_out):
        if name not in known:
            raise AlsimError(f"unknown target group {name!r}; allowed: {', '.join(known)}")
    chosen = tuple(g for g in known if targets is None or g in targets)
    fitted = tuple(g for g in chosen if g not in leave_out)
    if not fitted:
        raise AlsimError("no target group left to fit: check --targets and --leave-out")
    return fitted, tuple(g for g in known if g in leave_out)


def all_targets_by_id() -> dict[str, CalibrationTarget]:
    """Every target of every group by evidence id."""
    return {t.id: t for g in calibration_groups().values() for t in g.targets}
