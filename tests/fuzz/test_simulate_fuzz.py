"""Design files drawn by Hypothesis, valid and invalid, through `alsim simulate` in-process: every
one either runs (exit 0, a complete output directory whose manifest lists every file) or is
refused with one `error:` line (exit 2, nothing written). Never a traceback, never a
half-written output.

The documents come from the design's own pydantic schema (`TrialDesign.model_json_schema()`),
so fields added to the design later are drawn too: whole documents straight from the schema, and
the study templates with a few values replaced by schema-valid draws, by junk, removed, or with
an unknown key added.
"""

import json
import math
import tempfile
import warnings
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, assume, event, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from alsim.cli.main import app
from alsim.design import TrialDesign, dump_design, load_template, parse_design
from alsim.design.templates import STUDY_TEMPLATES
from alsim.errors import AlsimError

runner = CliRunner()
SCHEMA: dict[str, Any] = TrialDesign.model_json_schema()
#: Valid designs larger than this (patients x last study day) are not run: the fuzz is about
#: input handling, and a 20-year trial of 100,000 patients says nothing more than a small one.
MAX_PATIENT_DAYS = 250 * 1100

Path_ = tuple[str | int, ...]


junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.lists(st.integers(-5, 400), max_size=4),
    st.dictionaries(st.text(max_size=8), st.integers(-3, 60), max_size=3),
)


def from_schema(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values that satisfy a JSON schema of the kind pydantic writes (objects, arrays, tuples,
    numbers with bounds, strings with lengths and patterns, enums, anyOf, $ref)."""
    schema = {k: v for k, v in schema.items() if k != "$defs"}
    if "$ref" in schema:
        return st.deferred(lambda: from_schema(_resolve(schema)))
    if "anyOf" in schema:
        return st.one_of([from_schema(option) for option in schema["anyOf"]])
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind == "null":
        return st.none()
    if kind == "boolean":
        return st.booleans()
    if kind in ("integer", "number"):
        low = schema.get("minimum", schema.get("exclusiveMinimum"))
        high = schema.get("maximum", schema.get("exclusiveMaximum"))
        if kind == "integer":
            return st.integers(
                None if low is None else int(low) + ("exclusiveMinimum" in schema),
                None if high is None else int(high) - ("exclusiveMaximum" in schema),
            )
        return st.floats(
            low,
            high,
            exclude_min="exclusiveMinimum" in schema,
            exclude_max="exclusiveMaximum" in schema,
            allow_nan=False,
            allow_infinity=False,
        )
    if kind == "string":
        if "pattern" in schema:
            return st.from_regex(schema["pattern"], fullmatch=True)
        return st.text(
            min_size=schema.get("minLength", 0), max_size=min(schema.get("maxLength", 30), 30)
        )
    if kind == "array":
        prefix = schema.get("prefixItems")
        if prefix:
            return st.tuples(*(from_schema(item) for item in prefix)).map(list)
        return st.lists(
            from_schema(schema.get("items", {})),
            min_size=schema.get("minLength", schema.get("minItems", 0)),
            max_size=min(schema.get("maxItems", 6), 6),
        )
    if kind == "object":
        properties = schema.get("properties", {})
        required = set(schema.get("required", []))
        if properties:
            return st.fixed_dictionaries(
                {k: from_schema(v) for k, v in properties.items() if k in required},
                optional={k: from_schema(v) for k, v in properties.items() if k not in required},
            )
        values = schema.get("additionalProperties", {})
        return st.dictionaries(
            st.text(min_size=1, max_size=15),
            from_schema(values if isinstance(values, dict) else {}),
            min_size=schema.get("minProperties", 0),
            max_size=4,
        )
    return junk


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = SCHEMA["$defs"][schema["$ref"].rsplit("/", 1)[-1]]
    options = [s for s in schema.get("anyOf", []) if s.get("type") != "null"]
    return _resolve(options[0]) if options and "anyOf" in schema else schema


def _subschema(path: Path_) -> dict[str, Any] | None:
    """The schema of the value at `path` of a design document (None where there is none)."""
    schema = _resolve(SCHEMA)
    for part in path:
        if isinstance(part, int):
            items = schema.get("prefixItems") or []
            schema = items[part] if part < len(items) else schema.get("items", {})
        elif "properties" in schema:
            if part not in schema["properties"]:
                return None
            schema = schema["properties"][part]
        else:
            schema = schema.get("additionalProperties", {})
        if not isinstance(schema, dict):
            return None
        schema = _resolve(schema)
    return {**schema, "$defs": SCHEMA["$defs"]}


def _paths(value: Any, prefix: Path_ = ()) -> list[Path_]:
    found: list[Path_] = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += _paths(item, (*prefix, i))
    return found


def _set(document: Any, path: Path_, value: Any, *, delete: bool = False) -> None:
    parent = document
    for part in path[:-1]:
        parent = parent[part]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value


def _is_leaf_number(document: Any, path: Path_) -> bool:
    value = document
    for part in path:
        value = value[part]
    return isinstance(value, int | float) and not isinstance(value, bool)


@st.composite
def retuned_templates(draw: st.DrawFn) -> Any:
    """A template with one or two numbers redrawn from their schema (arm counts kept small and
    the ratio restated to match them): often valid designs."""
    name = draw(st.sampled_from(list(STUDY_TEMPLATES)))
    document: Any = yaml.safe_load(dump_design(load_template(name)))
    numbers = [p for p in _paths(document) if _is_leaf_number(document, p)]
    for path in draw(st.lists(st.sampled_from(numbers), min_size=1, max_size=2, unique=True)):
        subschema = _subschema(path)
        if "n_per_arm" in path:
            _set(document, path, draw(st.integers(0, 40)))
        elif subschema is not None:
            _set(document, path, draw(from_schema(subschema)))
    counts = [g["n_per_arm"] for g in document["randomization"]["groups"]]
    n_control = sum(c.get(document["control_arm"], 0) for c in counts)
    n_active = sum(sum(c.values()) for c in counts) - n_control
    if n_control and n_active:
        divisor = math.gcd(n_active, n_control)
        document["randomization"]["ratio"] = f"{n_active // divisor}:{n_control // divisor}"
    return document


@st.composite
def mutated_templates(draw: st.DrawFn) -> Any:
    document: Any = yaml.safe_load(
        dump_design(load_template(draw(st.sampled_from(list(STUDY_TEMPLATES)))))
    )
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(document)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        action = draw(st.sampled_from(["schema", "schema", "junk", "delete", "unknown key"]))
        subschema = _subschema(path)
        if action == "schema" and subschema is not None:
            _set(document, path, draw(from_schema(subschema)))
        elif action == "delete" and isinstance(path[-1], str):
            _set(document, path, None, delete=True)
        elif action == "unknown key":
            parent: Any = document
            for part in path[:-1]:
                parent = parent[part]
            target = parent if isinstance(parent, dict) else document
            target[draw(st.text(min_size=1, max_size=10))] = draw(junk)
        else:
            _set(document, path, draw(junk))
    return document


#: Half retuned templates (mostly valid, so the simulation and the writers run), half documents
#: that are mostly refused.
design_documents = st.one_of(
    retuned_templates(),
    mutated_templates(),
    retuned_templates(),
    from_schema(SCHEMA),
    retuned_templates(),
    junk,
)


def _cost(document: Any) -> int:
    try:
        design = parse_design(document)
    except AlsimError:
        return 0
    return design.n_patients * design.visits[-1].day


def _check_one(document: Any, tmp_path: Path) -> None:
    assume(_cost(document) <= MAX_PATIENT_DAYS)
    work = Path(tempfile.mkdtemp(prefix="case-", dir=tmp_path))
    design_file = work / "design.yaml"
    design_file.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    out = work / "out"
    with warnings.catch_warnings():
        # numerical warnings are reported to users, not raised: the fuzz is about exits and files
        warnings.simplefilter("ignore")
        result = runner.invoke(
            app, ["simulate", str(design_file), "--replicates", "1", "--out", str(out)]
        )
    text = result.output
    event(f"exit {result.exit_code}")
    assert "Traceback" not in text, text
    assert result.exit_code in (0, 2), (result.exit_code, repr(result.exception), text)
    if result.exit_code == 2:
        lines = [line for line in text.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: "), text
        assert not out.exists()
        assert sorted(p.name for p in work.iterdir()) == ["design.yaml"]
        return
    files = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    manifest = json.loads((out / "manifest.json").read_text())
    assert set(manifest["files"]) == files
    assert {"adsl.parquet", "adlb.csv", "design.yaml", "report.html"} <= files
    assert sorted(p.name for p in work.iterdir()) == ["design.yaml", "out"]


FUZZ_SETTINGS = {
    "deadline": None,
    "suppress_health_check": [
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
        HealthCheck.data_too_large,
    ],
}


def _template_with(**extra: Any) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(dump_design(load_template("phase12")))
    return {**document, **extra}


@settings(max_examples=12, **FUZZ_SETTINGS)  # type: ignore[arg-type]
@given(document=design_documents)
# found by the fuzz: a key with a line break made a two-line error, one with rich markup a crash
@example(document=_template_with(**{"a\nb": 1}))
@example(document=_template_with(**{"[/bold]": 1}))
@example(document=_template_with(title="[red]VALOR[/red]"))
def test_fuzzed_designs_run_or_fail_cleanly(document: Any, tmp_path: Path) -> None:
    _check_one(document, tmp_path)


@pytest.mark.slow
@settings(max_examples=1000, **FUZZ_SETTINGS)  # type: ignore[arg-type]
@given(document=design_documents)
def test_thousand_fuzzed_designs_run_or_fail_cleanly(document: Any, tmp_path: Path) -> None:
    _check_one(document, tmp_path)


def test_the_fuzz_draws_valid_designs_too() -> None:
    """The strategies are not all refusals: retuned templates are valid designs often enough
    for the simulation and the writers to be fuzzed as well."""
    valid = 0

    @settings(max_examples=40, deadline=None, database=None)
    @given(document=retuned_templates())
    def count(document: Any) -> None:
        nonlocal valid
        valid += 0 < _cost(document) <= MAX_PATIENT_DAYS

    count()
    assert valid >= 10
