"""Trial designs: pure data loaded from YAML and validated when loaded."""

from alsim.design.io import design_hash, dump_design, load_design, loads_design, parse_design
from alsim.design.templates import STUDY_TEMPLATES, load_template, template_path
from alsim.design.trial import Arm, Randomization, RandomizationGroup, Regimen, TrialDesign, Visit

__all__ = [
    "STUDY_TEMPLATES",
    "Arm",
    "Randomization",
    "RandomizationGroup",
    "Regimen",
    "TrialDesign",
    "Visit",
    "design_hash",
    "dump_design",
    "load_design",
    "load_template",
    "loads_design",
    "parse_design",
    "template_path",
]
