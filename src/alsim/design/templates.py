"""The study templates shipped with alsim (`designs/*.yaml`)."""

from importlib.resources import files
from pathlib import Path

from alsim.design.io import load_design
from alsim.design.trial import TrialDesign
from alsim.errors import DesignError

STUDY_TEMPLATES = {
    "phase12": "phase12_mad.yaml",
    "valor": "valor.yaml",
    "ole": "valor_ole.yaml",
    "atlas": "atlas.yaml",
}


def template_path(study: str) -> Path:
    """Path of the template YAML for `study`."""
    if study not in STUDY_TEMPLATES:
        raise DesignError(f"unknown study {study!r}; allowed: {', '.join(sorted(STUDY_TEMPLATES))}")
    return Path(str(files("alsim.design").joinpath("templates", STUDY_TEMPLATES[study])))


def load_template(study: str) -> TrialDesign:
    """The shipped design of `study`."""
    return load_design(template_path(study))
