"""Reference tables for the documentation site, generated from the code at build time: the
model's parameter table, the design-file reference (from the pydantic schema of `TrialDesign`)
and the command-line reference (from the typer app). `docs/hooks.py` puts them in the pages."""

import inspect
import types
import typing
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined


def _cell(text: object) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def parameter_table() -> str:
    """Every model parameter: name, value, unit, meaning, variability, status, prior, posterior
    median [95% CrI] from the shipped calibration, what it was fitted to, and source."""
    from alsim.model import DEFAULT_PARAMETERS
    from alsim.report.tables import parameter_frame

    lines = [
        "| Parameter | Value | Unit | Meaning | Between-subject | Status | Prior "
        "| Posterior median [95% CrI] | Fitted to | Source |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in parameter_frame(DEFAULT_PARAMETERS).itertuples():
        variability = "—" if r.variability == "none" else f"{r.variability}, ω = {r.omega:.3g}"
        lines.append(
            f"| `{r.name}` | {r.value:.4g} | {_cell(r.unit)} | {_cell(r.description)} | "
            f"{variability} | {r.assumption} | {_cell(r.prior) or '—'} | "
            f"{_cell(r.posterior) or '—'} | {_cell(r.fitted_to) or '—'} | {_cell(r.source)} |"
        )
    return "\n".join(lines) + "\n"


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Literal:
        return " \\| ".join(f"`{a}`" for a in args)
    if origin in (typing.Union, types.UnionType):
        names = [_type_name(a) for a in args if a is not type(None)]
        return " \\| ".join(names) + (" or null" if type(None) in args else "")
    if origin is tuple:
        return f"list of {_type_name(args[0])}"
    if origin is dict:
        return f"mapping {_type_name(args[0])} → {_type_name(args[1])}"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return f"[{annotation.__name__}](#{annotation.__name__.lower()})"
    return getattr(annotation, "__name__", str(annotation))


def _constraints(metadata: list[Any]) -> str:
    words = {
        "ge": "≥",
        "gt": ">",
        "le": "≤",
        "lt": "<",
        "min_length": "length ≥",
        "max_length": "length ≤",
        "pattern": "matches",
    }
    found = []
    for item in metadata:
        for key, word in words.items():
            value = getattr(item, key, None)
            if value is not None:
                found.append(f"{word} `{value}`" if key == "pattern" else f"{word} {value}")
    return ", ".join(found)


def _default(field: Any) -> str:
    if field.is_required():
        return "required"
    value = field.default
    if value is PydanticUndefined or isinstance(value, BaseModel):
        return "see below"
    return f"`{value!r}`" if isinstance(value, str) else f"`{value}`"


def design_reference() -> str:
    """The design YAML, model by model: each field's type, default, allowed values and the
    model's own description, walked from `TrialDesign` so new fields appear by themselves."""
    from alsim.design import TrialDesign

    seen: list[type[BaseModel]] = []
    queue: list[type[BaseModel]] = [TrialDesign]
    while queue:
        model = queue.pop(0)
        if model in seen:
            continue
        seen.append(model)
        for field in model.model_fields.values():
            queue += _models_in(field.annotation)
    parts = []
    for model in seen:
        doc = inspect.cleandoc(model.__doc__ or "")
        parts.append(f"### {model.__name__}\n\n{doc}\n")
        described = any(f.description for f in model.model_fields.values())
        parts.append(
            "| Field | Type | Default | Allowed |"
            + (" Description |" if described else "")
            + "\n|---|---|---|---|"
            + ("---|" if described else "")
        )
        for name, field in model.model_fields.items():
            parts.append(
                f"| `{name}` | {_type_name(field.annotation)} | {_default(field)} | "
                f"{_constraints(field.metadata)} |"
                + (f" {_cell(field.description or '')} |" if described else "")
            )
        parts.append("")
    return "\n".join(parts) + "\n"


def cli_reference() -> str:
    """`alsim --help` and the help of every command, as an 88-column terminal prints them."""
    import typer
    from typer.testing import CliRunner

    from alsim.cli.main import app

    runner = CliRunner()

    def help_of(*words: str) -> str:
        result = runner.invoke(app, [*words, "--help"], terminal_width=88, env={"COLUMNS": "88"})
        return "\n".join(["```text", result.output.rstrip(), "```", ""])

    parts = [help_of()]
    for info in app.registered_commands:
        name = info.name or typer.main.get_command_name(info.callback.__name__)  # type: ignore[union-attr]
        parts += [f"## alsim {name}", "", help_of(name)]
    return "\n".join(parts)


GENERATED: dict[str, Callable[[], str]] = {
    "parameters": parameter_table,
    "design-reference": design_reference,
    "cli-reference": cli_reference,
}
