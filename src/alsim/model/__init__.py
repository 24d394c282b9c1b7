"""The mechanistic model: intrathecal PK -> SOD1 knock-down -> injury -> NfL and function."""

from alsim.model.compiled import solve
from alsim.model.parameters import DEFAULT_PARAMETERS, PARAMETERS, Parameter, ParameterSet
from alsim.model.system import (
    PROGRESSION_STATE_NAMES,
    STATE_NAMES,
    DoseSchedule,
    Trajectories,
    measured_csf_sod1_ng_ml,
    solve_reference,
)

__all__ = [
    "DEFAULT_PARAMETERS",
    "PARAMETERS",
    "PROGRESSION_STATE_NAMES",
    "STATE_NAMES",
    "DoseSchedule",
    "Parameter",
    "ParameterSet",
    "Trajectories",
    "measured_csf_sod1_ng_ml",
    "solve",
    "solve_reference",
]
