"""Trial designs: pure data loaded from YAML and validated when loaded."""

from alsim.design.events import DoseEvent, dose_events, expand_dose_events
from alsim.design.io import design_hash, dump_design, load_design, loads_design, parse_design
from alsim.design.templates import STUDY_TEMPLATES, load_template, template_path
from alsim.design.trial import (
    Arm,
    Eligibility,
    Extension,
    FasterRule,
    Randomization,
    RandomizationGroup,
    Regimen,
    TrialDesign,
    Visit,
)

__all__ = [
    "STUDY_TEMPLATES",
    "Arm",
    "DoseEvent",
    "Eligibility",
    "Extension",
    "FasterRule",
    "Randomization",
    "RandomizationGroup",
    "Regimen",
    "TrialDesign",
    "Visit",
    "design_hash",
    "dose_events",
    "dump_design",
    "expand_dose_events",
    "load_design",
    "load_template",
    "loads_design",
    "parse_design",
    "template_path",
]
