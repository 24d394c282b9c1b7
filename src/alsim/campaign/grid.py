"""Design grids: `--vary key=v1,v2,...` turned into validated variants of one base design.

Keys (each optional; the grid is the Cartesian product of the values given, in the order given):

- ``n_total``: total randomised patients. Every randomisation group's arm counts are scaled by
  the same factor (largest-remainder rounding to hit the total exactly), so the allocation ratio
  and the group shares are kept.
- ``duration_weeks``: the trial ends on study day ``7 W + 1``. Later visits are dropped, or visits
  are added every 28 days (plus the end day); doses after the end are dropped, or maintenance
  doses are added at the regimen's interval. The primary visit becomes the last visit. An
  open-label extension starting after the end is dropped; otherwise its doses are cut at the end.
- ``effect``: ``drug`` (the design as written) or ``none`` (the null: every dose, including the
  extension's, is 0 mg; visits, procedures and randomisation are unchanged).
- ``trigger_level``, ``trigger_rise`` (designs with a trigger rule): the rule's minimum level and
  minimum rise from the carrier's baseline, in pg/mL.
- ``parameters``: ``typical`` (the parameter table's values: the shipped posterior medians) or
  ``posterior`` (each replicate its own draw of the shipped calibration's posterior,
  `alsim.model.uncertainty`): the rejection rate at ``posterior`` is the assurance, the
  probability of success over what the evidence leaves unknown.
"""

import itertools
import math
from dataclasses import dataclass
from typing import Any

from alsim.design.io import parse_design
from alsim.design.trial import (
    MAX_PATIENTS_PER_TRIAL,
    MAX_STUDY_DAY,
    TrialDesign,
    counts_ratio,
    ratio_matches,
)
from alsim.errors import AlsimError

VARY_KEYS = ("n_total", "duration_weeks", "effect", "trigger_level", "trigger_rise", "parameters")
EFFECT_VALUES = ("drug", "none")
PARAMETER_VALUES = ("typical", "posterior")
TRIGGER_FIELDS = {"trigger_level": "min_level_pg_ml", "trigger_rise": "min_rise_pg_ml"}
MAX_TRIGGER_PG_ML = 10_000.0
VISIT_STEP_DAYS = 28


class CampaignError(AlsimError):
    """A campaign cannot run as asked (bad grid, output directory of another campaign, ...)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DesignPoint:
    """One design of the grid: its settings (key -> value as given) and the validated design."""

    index: int
    settings: tuple[tuple[str, str], ...]
    design: TrialDesign

    @property
    def label(self) -> str:
        """``n_total=60,effect=none``; ``design`` when nothing is varied."""
        return ",".join(f"{k}={v}" for k, v in self.settings) or "design"

    @property
    def is_null(self) -> bool:
        """Whether this point simulates no drug effect."""
        return dict(self.settings).get("effect") == "none"

    @property
    def parameters(self) -> str:
        """``typical`` or ``posterior`` (each replicate its own posterior draw)."""
        return dict(self.settings).get("parameters", "typical")


def _allowed_keys() -> str:
    return ", ".join(VARY_KEYS)


def parse_vary(options: list[str] | tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """Parse ``--vary key=v1,v2`` options into ``{key: (v1, v2)}``, checking keys and values."""
    grid: dict[str, tuple[str, ...]] = {}
    for option in options:
        key, sep, raw = option.partition("=")
        key = key.strip()
        if not sep or not raw.strip():
            raise CampaignError(
                f"--vary {option!r} must look like key=v1,v2,...; allowed keys: {_allowed_keys()}"
            )
        if key not in VARY_KEYS:
            raise CampaignError(f"--vary: unknown key {key!r}; allowed keys: {_allowed_keys()}")
        if key in grid:
            raise CampaignError(f"--vary {key} is given twice; list all its values in one option")
        values = tuple(v.strip() for v in raw.split(","))
        for value in values:
            _check_value(key, value)
        if len(set(values)) != len(values):
            raise CampaignError(f"--vary {key}: values repeat in {raw!r}")
        grid[key] = values
    return grid


def _check_value(key: str, value: str) -> None:
    choices = {"effect": EFFECT_VALUES, "parameters": PARAMETER_VALUES}
    if key in choices:
        if value not in choices[key]:
            raise CampaignError(
                f"--vary {key}: value {value!r} is not allowed; allowed values: "
                f"{', '.join(choices[key])}"
            )
        return
    if key in TRIGGER_FIELDS:
        try:
            level = float(value)
        except ValueError:
            level = -1.0
        if not 0 <= level <= MAX_TRIGGER_PG_ML:
            raise CampaignError(
                f"--vary {key}: value {value!r} must be a number of pg/mL in "
                f"0..{MAX_TRIGGER_PG_ML:g}"
            )
        return
    low, high = (2, MAX_PATIENTS_PER_TRIAL) if key == "n_total" else (1, MAX_STUDY_DAY // 7)
    try:
        number = int(value)
    except ValueError:
        number = low - 1
    if not low <= number <= high or str(number) != value:
        raise CampaignError(f"--vary {key}: value {value!r} must be an integer in {low}..{high}")


def design_grid(base: TrialDesign, grid: dict[str, tuple[str, ...]]) -> tuple[DesignPoint, ...]:
    """Every combination of the grid's values applied to `base`, validated."""
    keys = list(grid)
    points = []
    for index, values in enumerate(itertools.product(*(grid[k] for k in keys))):
        settings = tuple(zip(keys, values, strict=True))
        design = base
        for key, value in settings:
            design = apply_setting(design, key, value)
        points.append(DesignPoint(index=index, settings=settings, design=design))
    return tuple(points)


def apply_setting(design: TrialDesign, key: str, value: str) -> TrialDesign:
    """`design` with one grid setting applied (see the module docstring)."""
    _check_value(key, value)
    if key == "n_total":
        return scale_patients(design, int(value))
    if key == "duration_weeks":
        return set_duration(design, int(value))
    if key in TRIGGER_FIELDS:
        return set_trigger(design, key, float(value))
    if key == "parameters" or value == "drug":
        return design
    return without_drug(design)


def _revalidate(document: dict[str, Any], what: str) -> TrialDesign:
    try:
        return parse_design(document)
    except AlsimError as exc:
        raise CampaignError(f"{what}: {exc}") from None


def scale_patients(design: TrialDesign, n_total: int) -> TrialDesign:
    """`design` with `n_total` patients, every (group, arm) count scaled by the same factor."""
    cells = [
        (g, label, count)
        for g, group in enumerate(design.randomization.groups)
        for label, count in group.n_per_arm.items()
    ]
    current = design.n_patients
    exact = [count * n_total / current for _, _, count in cells]
    counts = [math.floor(x) for x in exact]
    order = sorted(range(len(cells)), key=lambda i: (-(exact[i] - counts[i]), i))
    for i in order[: n_total - sum(counts)]:
        counts[i] += 1
    needed = sum(1 for _, _, count in cells if count > 0)
    if any(new == 0 and old > 0 for new, (_, _, old) in zip(counts, cells, strict=True)):
        raise CampaignError(
            f"--vary n_total={n_total} is too small for {design.study_id}: every arm of every "
            f"randomisation group needs patients (at least {needed} in all, more to keep the ratio)"
        )
    document = design.model_dump(mode="json")
    for (g, label, _), count in zip(cells, counts, strict=True):
        document["randomization"]["groups"][g]["n_per_arm"][label] = count
    # scaling keeps the counts' own ratio; where it drifts from the design's nominal ratio
    # (rounding within small groups, multiplied), the ratio is restated from the counts
    n_control = sum(
        c for (_, label, _), c in zip(cells, counts, strict=True) if label == design.control_arm
    )
    n_groups = len(design.randomization.groups)
    if not ratio_matches(design.randomization.ratio, n_total - n_control, n_control, n_groups):
        document["randomization"]["ratio"] = counts_ratio(n_total - n_control, n_control)
    return _revalidate(document, f"--vary n_total={n_total}")


def _visit_name(template: str, day: int) -> str:
    if template.upper().startswith("DAY") or (day - 1) % 7:
        return f"DAY {day}"
    return f"WEEK {(day - 1) // 7}"


def _cut_regimen(regimen: dict[str, Any], end_day: int, extend: bool) -> dict[str, Any] | None:
    loading = [d for d in regimen["loading_days"] if d < end_day]
    if not loading:
        return None
    interval = regimen["interval_days"]
    n = 0
    if len(loading) == len(regimen["loading_days"]):
        last = loading[-1]
        limit = regimen["n_maintenance"]
        while (extend or n < limit) and last + interval * (n + 1) < end_day:
            n += 1
    return {**regimen, "loading_days": loading, "n_maintenance": n}


def set_duration(design: TrialDesign, weeks: int) -> TrialDesign:
    """`design` ending on study day ``7 * weeks + 1`` (visits and doses cut or extended)."""
    end_day = 7 * weeks + 1
    what = f"--vary duration_weeks={weeks}"
    document = design.model_dump(mode="json")
    visits = [v for v in document["visits"] if v["day"] <= end_day]
    if len(visits) < 2:
        raise CampaignError(
            f"{what} leaves {design.study_id} without a post-baseline visit; the first is on day "
            f"{design.visits[1].day}"
        )
    template = visits[-1]["name"]
    day = visits[-1]["day"]
    while day < end_day:
        day = min(day + VISIT_STEP_DAYS, end_day)
        visits.append({"name": _visit_name(template, day), "day": day})
    document["visits"] = visits
    document["primary_visit"] = visits[-1]["name"]
    extension = document.get("extension")
    regimen = _cut_regimen(document["regimen"], end_day, extend=extension is None)
    if regimen is None:
        raise CampaignError(f"{what} ends {design.study_id} before its first dose")
    document["regimen"] = regimen
    if extension is not None:
        ext_regimen = _cut_regimen(extension["regimen"], end_day, extend=True)
        if extension["start_day"] > end_day or ext_regimen is None:
            document["extension"] = None
        else:
            extension["regimen"] = ext_regimen
    return _revalidate(document, what)


def set_trigger(design: TrialDesign, key: str, pg_ml: float) -> TrialDesign:
    """`design` with the trigger rule's level (``trigger_level``) or rise (``trigger_rise``)."""
    what = f"--vary {key}={pg_ml:g}"
    if design.trigger is None:
        raise CampaignError(f"{what}: {design.study_id} has no trigger rule (a run-in design)")
    document = design.model_dump(mode="json")
    document["trigger"][TRIGGER_FIELDS[key]] = pg_ml
    return _revalidate(document, what)


def without_drug(design: TrialDesign) -> TrialDesign:
    """The null design: every arm (and the extension) doses 0 mg; everything else unchanged."""
    document = design.model_dump(mode="json")
    for arm in document["arms"]:
        arm["dose_mg"] = 0.0
    for name in ("extension", "rescue"):
        if document.get(name) is not None:
            document[name]["dose_mg"] = 0.0
    return _revalidate(document, "--vary effect=none")
