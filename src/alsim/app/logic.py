"""What the web app does, without the web: bounded design edits, chunked runs that can be
stopped between chunks, and the downloads. The Streamlit page (`alsim.app.page`) only lays these
out; everything here is testable without a browser.

Edits become a design document that `alsim.design.parse_design` validates, so the app gives the
same one-line errors as `alsim simulate`. User text is only ever parsed as numbers or YAML
(`yaml.safe_load`), never evaluated.
"""

import io
import time
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from alsim.design import dump_design, load_template, loads_design, parse_design
from alsim.design.templates import STUDY_TEMPLATES
from alsim.design.trial import TrialDesign
from alsim.errors import AlsimError, DesignError
from alsim.evidence.compare import ComparisonRow
from alsim.simulate.trial import TrialSimulation

MAX_APP_REPLICATES = 200
MAX_APP_PATIENTS = 2000
CHUNK_REPLICATES = 10
TEMPLATE_LABELS = {
    "phase12": "Phase 1/2 multiple ascending dose (233AS101 Part B)",
    "valor": "VALOR (Phase 3, 28 weeks)",
    "ole": "VALOR + open-label extension (early vs delayed start)",
    "atlas": "ATLAS (presymptomatic carriers, NfL-triggered randomisation)",
}


def template_names() -> list[str]:
    """Study templates shipped with alsim, in program order."""
    return list(STUDY_TEMPLATES)


@dataclass(frozen=True, slots=True, kw_only=True)
class DesignEdit:
    """The edits the app offers, each bounded; None leaves the template's value.

    `arm_doses_mg` maps active arm labels to their dose; `n_patients` and `ratio` re-size the
    randomisation groups in proportion to the template; `last_day` shortens (or keeps) follow-up,
    dropping later visits and doses; the enrichment fields apply to designs with a faster-
    progression rule.
    """

    arm_doses_mg: dict[str, float] = field(default_factory=dict)
    loading_days: str | None = None
    interval_days: int | None = None
    n_maintenance: int | None = None
    n_patients: int | None = None
    ratio: str | None = None
    last_day: int | None = None
    dropout_per_year: float | None = None
    faster_slope_per_month: float | None = None
    a4v_is_faster: bool | None = None
    min_svc_pct: float | None = None


def parse_days(text: str) -> tuple[int, ...]:
    """'1, 15, 29' -> (1, 15, 29); anything but whole numbers and separators is refused."""
    parts = [p for p in text.replace(",", " ").split() if p]
    if not parts or not all(p.isdigit() for p in parts):
        raise DesignError(
            f"loading days must be whole study days separated by commas, e.g. 1, 15, 29; "
            f"got {text!r}"
        )
    return tuple(int(p) for p in parts)


def parse_ratio(text: str) -> tuple[int, int]:
    """'2:1' -> (2, 1)."""
    left, sep, right = text.strip().partition(":")
    if not sep or not left.strip().isdigit() or not right.strip().isdigit():
        raise DesignError(f"ratio must look like 2:1 (active:control), got {text!r}")
    active, control = int(left), int(right)
    if active + control == 0 or active > 20 or control > 20:
        raise DesignError(f"ratio parts must be 0..20 and not both 0, got {text!r}")
    return active, control


def _largest_remainder(total: int, weights: Sequence[float]) -> list[int]:
    weight_sum = sum(weights)
    if weight_sum <= 0:
        return [0] * len(weights)
    exact = [total * w / weight_sum for w in weights]
    counts = [int(x) for x in exact]
    order = sorted(range(len(exact)), key=lambda i: exact[i] - counts[i], reverse=True)
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


def _resize(
    document: dict[str, Any], control: str, n_patients: int, ratio: tuple[int, int]
) -> None:
    groups = document["randomization"]["groups"]
    group_sizes = [sum(g["n_per_arm"].values()) for g in groups]
    new_sizes = _largest_remainder(n_patients, group_sizes)
    active_share, control_share = ratio
    for group, size in zip(groups, new_sizes, strict=True):
        counts: dict[str, int] = group["n_per_arm"]
        active = {k: v for k, v in counts.items() if k != control}
        has_control = control in counts
        n_control = (
            round(size * control_share / (active_share + control_share)) if has_control else 0
        )
        split = _largest_remainder(size - n_control, list(active.values()))
        group["n_per_arm"] = {
            **({control: n_control} if has_control else {}),
            **dict(zip(active, split, strict=True)),
        }
    document["randomization"]["ratio"] = f"{active_share}:{control_share}"


def _shorten(document: dict[str, Any], last_day: int) -> None:
    visits = [v for v in document["visits"] if v["day"] <= last_day]
    if len(visits) < 2:
        raise DesignError(
            f"last day {last_day} leaves fewer than two visits; the first post-baseline visit is "
            f"on day {document['visits'][1]['day']}"
        )
    document["visits"] = visits
    names = [v["name"] for v in visits]
    if document["primary_visit"] not in names:
        document["primary_visit"] = names[-1]
    regimen = document["regimen"]
    regimen["loading_days"] = [d for d in regimen["loading_days"] if d <= last_day]
    if regimen["loading_days"]:
        last_loading = regimen["loading_days"][-1]
        fits = (last_day - last_loading) // regimen["interval_days"]
        regimen["n_maintenance"] = max(0, min(regimen["n_maintenance"], fits))
    extension = document.get("extension")
    if extension is not None and extension["start_day"] > last_day:
        document["extension"] = None
    elif extension is not None:
        ext = extension["regimen"]
        last_loading = ext["loading_days"][-1]
        fits = (last_day - last_loading) // ext["interval_days"]
        ext["n_maintenance"] = max(0, min(ext["n_maintenance"], fits))


def edited_design(base: TrialDesign, edit: DesignEdit) -> TrialDesign:
    """`base` with `edit` applied, validated like a design file (one-line `DesignError`s)."""
    document: dict[str, Any] = base.model_dump(mode="json")
    for arm in document["arms"]:
        if arm["label"] in edit.arm_doses_mg:
            arm["dose_mg"] = float(edit.arm_doses_mg[arm["label"]])
    regimen = document["regimen"]
    if edit.loading_days is not None:
        regimen["loading_days"] = list(parse_days(edit.loading_days))
    if edit.interval_days is not None:
        regimen["interval_days"] = edit.interval_days
    if edit.n_maintenance is not None:
        regimen["n_maintenance"] = edit.n_maintenance
    if edit.n_patients is not None or edit.ratio is not None:
        n = edit.n_patients if edit.n_patients is not None else base.n_patients
        if not 2 <= n <= MAX_APP_PATIENTS:
            raise DesignError(f"patients must be 2..{MAX_APP_PATIENTS} in the app, got {n}")
        ratio = parse_ratio(edit.ratio if edit.ratio is not None else base.randomization.ratio)
        _resize(document, base.control_arm, n, ratio)
    if edit.last_day is not None:
        _shorten(document, edit.last_day)
    if edit.dropout_per_year is not None:
        document["dropout_per_year"] = edit.dropout_per_year
    if document.get("faster_rule") is not None:
        if edit.faster_slope_per_month is not None:
            document["faster_rule"]["prestudy_slope_per_month"] = edit.faster_slope_per_month
        if edit.a4v_is_faster is not None:
            document["faster_rule"]["a4v_is_faster"] = edit.a4v_is_faster
    if edit.min_svc_pct is not None and document.get("eligibility") is not None:
        document["eligibility"]["min_svc_pct"] = edit.min_svc_pct
    return parse_design(document)


def design_from_upload(data: bytes) -> TrialDesign:
    """A design from an uploaded YAML file (parsed with `yaml.safe_load`, then validated)."""
    if len(data) > 200_000:
        raise DesignError(f"design file is {len(data)} bytes; at most 200000 are accepted")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise DesignError("design file must be UTF-8 text (YAML)") from None
    design = loads_design(text, source="uploaded design")
    if design.n_patients > MAX_APP_PATIENTS:
        raise DesignError(
            f"the app runs designs of up to {MAX_APP_PATIENTS} patients; this one has "
            f"{design.n_patients} (use `alsim simulate` for larger ones)"
        )
    return design


@dataclass(frozen=True, slots=True, kw_only=True)
class AppRun:
    """A finished run: the simulation, its comparison rows (when the design is a study template
    the evidence covers) and how long it took."""

    design: TrialDesign
    sim: TrialSimulation
    rows: tuple[ComparisonRow, ...]
    study: str | None
    seconds: float


class RunCancelledError(Exception):
    """Raised by `run_design` when `should_stop` says so between chunks."""


def run_design(
    design: TrialDesign,
    *,
    n_replicates: int,
    seed: int,
    study: str | None = None,
    on_progress: Callable[[int, int], None] = lambda done, total: None,
    should_stop: Callable[[], bool] = lambda: False,
) -> AppRun:
    """Simulate `n_replicates` replicates in chunks (progress after each; stop between chunks).

    Replicates are seeded individually, so the result equals one `simulate_trial` call.
    """
    import numpy as np

    from alsim.evidence.compare import compare
    from alsim.simulate import simulate_trial

    if not 1 <= n_replicates <= MAX_APP_REPLICATES:
        raise AlsimError(
            f"replicates must be 1..{MAX_APP_REPLICATES} in the app, got {n_replicates}"
        )
    if not 0 <= seed < 2**32:
        raise AlsimError(f"seed must be 0..{2**32 - 1}, got {seed}")
    start = time.perf_counter()
    pieces: list[TrialSimulation] = []
    for first in range(0, n_replicates, CHUNK_REPLICATES):
        if should_stop():
            raise RunCancelledError
        n = min(CHUNK_REPLICATES, n_replicates - first)
        pieces.append(simulate_trial(design, n_replicates=n, seed=seed, first_replicate=first))
        on_progress(first + n, n_replicates)
    sim = _concatenate(pieces, np)
    rows: tuple[ComparisonRow, ...] = ()
    if study is not None:
        try:
            rows = tuple(compare(study, sim))
        except (AlsimError, KeyError, ValueError):
            rows = ()  # an edited design the study's targets no longer fit
    return AppRun(
        design=design, sim=sim, rows=rows, study=study, seconds=time.perf_counter() - start
    )


def _concatenate(pieces: list[TrialSimulation], np: Any) -> TrialSimulation:
    """Join chunks along the replicate axis."""
    from dataclasses import fields, replace

    if len(pieces) == 1:
        return pieces[0]
    first = pieces[0]
    joined: dict[str, Any] = {}
    for f in fields(first):
        value = getattr(first, f.name)
        if f.name in ("design", "seed", "arm_index", "group_index", "visit_days"):
            continue
        if f.name == "carriers" and value is not None:
            joined[f.name] = type(value).concatenate([p.carriers for p in pieces])
        elif isinstance(value, dict):
            joined[f.name] = {
                k: np.concatenate([getattr(p, f.name)[k] for p in pieces]) for k in value
            }
        elif getattr(value, "ndim", 0) >= 1 and value.size > 0:
            joined[f.name] = np.concatenate([getattr(p, f.name) for p in pieces])
    return replace(first, **joined)


def primary_table(run: AppRun) -> pd.DataFrame:
    """Per arm and endpoint at the primary visit: median and 95% range over replicates."""
    from alsim.report.summaries import ENDPOINT_TITLE, trajectory_summary

    summary = trajectory_summary(run.sim)
    at = summary[summary["AVISIT"] == run.design.primary_visit]
    table = pd.DataFrame(
        {
            "Endpoint": at["PARAMCD"].map(lambda p: ENDPOINT_TITLE.get(p, p)),
            "Statistic": at["STAT"].str.replace("_", " "),
            "Arm": at["ARM"],
            "Median": at["MEDIAN"].map("{:.1f}".format),
            "2.5%": at["LOW"].map("{:.1f}".format),
            "97.5%": at["HIGH"].map("{:.1f}".format),
        }
    )
    return table.reset_index(drop=True)


def design_yaml(design: TrialDesign) -> bytes:
    """The design as YAML, for download."""
    return dump_design(design).encode("utf-8")


def data_zip(run: AppRun) -> bytes:
    """ADSL and ADLB as CSV and SAS XPT, the design and a short manifest, zipped."""
    import json
    import tempfile
    from pathlib import Path

    from alsim import __version__
    from alsim.design.io import design_hash
    from alsim.io import build_adsl, build_bds
    from alsim.io.xpt import write_xpt_tables

    tables = {"adsl": build_adsl(run.sim), "adlb": build_bds(run.sim)}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, frame in tables.items():
            archive.writestr(f"{name}.csv", frame.to_csv(index=False))
        with tempfile.TemporaryDirectory() as tmp:
            renamed = write_xpt_tables(Path(tmp), tables)
            for name in tables:
                archive.write(Path(tmp) / f"{name}.xpt", f"{name}.xpt")
        archive.writestr("design.yaml", dump_design(run.design))
        manifest = {
            "alsim_version": __version__,
            "command": "alsim app",
            "seed": run.sim.seed,
            "replicates": run.sim.n_replicates,
            "design_sha256": design_hash(run.design),
            "rerun": f"alsim simulate design.yaml --replicates {run.sim.n_replicates} "
            f"--seed {run.sim.seed}",
            "xpt_renamed_variables": renamed,
        }
        archive.writestr("manifest.json", json.dumps(manifest, indent=2) + "\n")
    return buffer.getvalue()


def report_html(run: AppRun) -> bytes:
    """The same report page as `alsim simulate`/`reproduce`, for this run."""
    from alsim.model import DEFAULT_PARAMETERS
    from alsim.report.html import render_page
    from alsim.report.pages import StudyFigures, parameter_section, study_section

    study = StudyFigures.from_simulation(run.sim, run.rows)
    page = render_page(
        f"alsim: {run.design.title}",
        f"{run.sim.n_replicates} replicates, seed {run.sim.seed} (from the web app).",
        [study_section(study), parameter_section(DEFAULT_PARAMETERS)],
    )
    return page.encode("utf-8")


def load_base(study: str) -> TrialDesign:
    """A template by name, with a message naming the allowed ones."""
    if study not in STUDY_TEMPLATES:
        raise DesignError(f"unknown template {study!r}; allowed: {', '.join(STUDY_TEMPLATES)}")
    return load_template(study)
