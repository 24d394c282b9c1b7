"""ADaM-like tables and result directories."""

from alsim.io.adam import (
    PARAM_LABELS,
    QS_PARAM_LABELS,
    TTE_PARAM_LABELS,
    build_adqs,
    build_adsl,
    build_adtte,
    build_bds,
    usubjid,
)
from alsim.io.output import atomic_output_dir, check_output_dir, write_json, write_table

__all__ = [
    "PARAM_LABELS",
    "QS_PARAM_LABELS",
    "TTE_PARAM_LABELS",
    "atomic_output_dir",
    "build_adqs",
    "build_adsl",
    "build_adtte",
    "build_bds",
    "check_output_dir",
    "usubjid",
    "write_json",
    "write_table",
]
