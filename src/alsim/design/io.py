"""Loading and saving designs as YAML, with errors that name the field and what is allowed."""

import hashlib
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from alsim.design.trial import TrialDesign
from alsim.errors import DesignError


def _location(loc: tuple[int | str, ...]) -> str:
    """`design.arms[1].dose_mg`; a key that is not plain printable text is shown quoted."""
    text = "design"
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part and part.isprintable() and part.strip() == part:
            text += f".{part}"
        else:
            text += f"[{part!r}]"
    return text


def _find_model(annotation: Any) -> type[BaseModel] | None:
    """The first pydantic model in a (possibly nested: ``tuple[X, ...] | None``) annotation."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _find_model(arg)
        if found is not None:
            return found
    return None


def _model_at(loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    """The pydantic model class reached by following `loc` from TrialDesign, if any."""
    model: Any = TrialDesign
    for part in loc:
        if isinstance(part, int):
            continue
        fields = getattr(model, "model_fields", {})
        field = fields.get(part)
        if field is None:
            return None
        found = _find_model(field.annotation)
        if found is None:
            return None
        model = found
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _format_validation_error(error: ValidationError) -> str:
    first = error.errors()[0]
    loc = tuple(first["loc"])
    where = _location(loc)
    if first["type"] == "extra_forbidden":
        parent = _model_at(loc[:-1])
        allowed = ", ".join(parent.model_fields) if parent else "see the design templates"
        return f"{where}: unknown key; allowed keys: {allowed}"
    if first["type"] == "missing":
        return f"{where}: required field is missing"
    message = str(first["msg"]).removeprefix("Value error, ")
    if first["type"] in {"value_error", "assertion_error"}:
        return f"{where}: {message}" if loc else f"design: {message}"
    return f"{where}: {message}, got {first.get('input')!r}"


def parse_design(document: object) -> TrialDesign:
    """Validate a parsed YAML/JSON document into a `TrialDesign`."""
    if not isinstance(document, dict):
        raise DesignError("design: the file must hold a mapping of keys (study_id, arms, ...)")
    try:
        return TrialDesign.model_validate(document)
    except ValidationError as error:
        raise DesignError(_format_validation_error(error)) from None


def load_design(path: str | Path) -> TrialDesign:
    """Read and validate a design YAML file."""
    path = Path(path)
    if not path.is_file():
        raise DesignError(f"design file not found: {path}")
    return loads_design(path.read_text(encoding="utf-8"), source=str(path))


def loads_design(text: str, *, source: str = "<string>") -> TrialDesign:
    """Parse and validate design YAML text."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise DesignError(f"{source}: not valid YAML ({error})".replace("\n", " ")) from None
    return parse_design(document)


# Fields of presymptomatic (run-in) designs, left out of the YAML when unset so that the text and
# hash of every other design stay as they were.
_RUN_IN_FIELDS = ("run_in", "trigger", "event_endpoints", "rescue")


def dump_design(design: TrialDesign) -> str:
    """The design as YAML text that `loads_design` reads back to an equal design."""
    document = design.model_dump(mode="json")
    for name in _RUN_IN_FIELDS:
        if document.get(name) in (None, []):
            del document[name]
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)


def design_hash(design: TrialDesign) -> str:
    """SHA-256 of the canonical YAML of the design (stable across formatting of the file)."""
    return hashlib.sha256(dump_design(design).encode("utf-8")).hexdigest()
