"""SAS transport (XPT version 5) copies of the ADaM-like tables, for SAS and R (`haven::read_xpt`).

XPT v5 allows variable names of at most 8 upper-case characters, labels of at most 40 characters
and character values of at most 200 bytes. alsim's names that are longer (REPLICATE, and the
sampled model parameters of ADSL such as CSF_SOD1_BASE_NG_ML) get an 8-character name, and the
full name is kept as the variable's label, so nothing is lost:

- the name is upper-cased, characters other than A-Z, 0-9 and _ become _, and it is cut to 8;
- if that name is already taken, its first 6 characters are followed by a 2-digit counter
  (`CSF_SO01`, ...), in column order, so the mapping is stable for a given table layout.

Standard ADaM variables carry their CDISC label; renamed ones carry their full alsim name.
"""

import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

MAX_NAME = 8
MAX_LABEL = 40
MAX_STRING = 200

#: CDISC-style labels of the variables alsim writes.
VARIABLE_LABELS = {
    "STUDYID": "Study Identifier",
    "REPLICATE": "Simulated Trial Replicate",
    "USUBJID": "Unique Subject Identifier",
    "TRT01P": "Planned Treatment for Period 01",
    "TRT02P": "Planned Treatment for Period 02",
    "STRATUM": "Randomization Stratum",
    "AGE": "Age",
    "SEX": "Sex",
    "VARIANT": "SOD1 Variant Class",
    "EOSSTT": "End of Study Status",
    "EOSDY": "End of Study Day",
    "PARAMCD": "Parameter Code",
    "PARAM": "Parameter",
    "AVISIT": "Analysis Visit",
    "AVISITN": "Analysis Visit (N)",
    "ADY": "Analysis Relative Day",
    "ABLFL": "Baseline Record Flag",
    "AVAL": "Analysis Value",
    "BASE": "Baseline Value",
    "CHG": "Change from Baseline",
    "PCHG": "Percent Change from Baseline",
    "R2BASE": "Ratio to Baseline",
    "CNSR": "Censor",
    "EVNTDESC": "Event or Censoring Description",
    "STARTDT": "Time to Event Origin Date",
    "AEDECOD": "Dictionary-Derived Term",
    "AEBODSYS": "Body System or Organ Class",
    "ASTDY": "Analysis Start Relative Day",
    "AESER": "Serious Event",
    "AESEV": "Severity/Intensity",
    "AREL": "Analysis Causality",
    "AEACN": "Action Taken with Study Treatment",
}
DATASET_LABELS = {
    "ADSL": "Subject-Level Analysis Dataset",
    "ADLB": "Laboratory Analysis Dataset",
    "ADQS": "Questionnaire Analysis Dataset",
    "ADTTE": "Time-to-Event Analysis Dataset",
    "ADAE": "Adverse Events Analysis Dataset",
}


def xpt_names(columns: list[str]) -> dict[str, str]:
    """Map each column to a unique XPT v5 name (see the module docstring for the rule)."""
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    for column in columns:
        clean = re.sub(r"[^A-Z0-9_]", "_", str(column).upper())
        if not clean or clean[0].isdigit():
            clean = f"_{clean}"
        name = clean[:MAX_NAME]
        counter = 1
        while name in taken:
            name = f"{clean[: MAX_NAME - 2]}{counter:02d}"
            counter += 1
            if counter > 99:
                raise ValueError(f"cannot find a unique XPT name for column {column!r}")
        taken.add(name)
        mapping[str(column)] = name
    return mapping


def xpt_frame(
    frame: pd.DataFrame, labels: Mapping[str, str] | None = None
) -> tuple[pd.DataFrame, dict[str, str], dict[str, str]]:
    """The frame as XPT v5 accepts it, the name mapping (long -> short) and the labels by short
    name. Strings are cut to 200 characters, missing strings become empty, booleans 'Y'/''."""
    known = {**VARIABLE_LABELS, **(labels or {})}
    names = xpt_names([str(c) for c in frame.columns])
    out: dict[str, pd.Series] = {}
    out_labels: dict[str, str] = {}
    for column in frame.columns:
        series = frame[column]
        short = names[str(column)]
        if pd.api.types.is_bool_dtype(series):
            series = pd.Series(np.where(series.to_numpy(bool), "Y", ""), index=series.index)
        elif pd.api.types.is_numeric_dtype(series):
            series = series.astype(np.float64)
        else:
            series = series.fillna("").astype(str).str.slice(0, MAX_STRING)
        out[short] = series
        # a renamed variable is labelled with its full name, so the mapping travels with the file
        label = known.get(str(column), str(column)) if short == str(column) else str(column)
        out_labels[short] = label[:MAX_LABEL]
    return pd.DataFrame(out), names, out_labels


def write_xpt(
    frame: pd.DataFrame,
    target: Path,
    *,
    dataset: str,
    labels: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Write `frame` as an XPT v5 file with variable labels; return the renamed columns
    (long name -> 8-character name) for the manifest."""
    import pyreadstat

    data, names, out_labels = xpt_frame(frame, labels)
    table = xpt_names([dataset])[dataset]
    pyreadstat.write_xport(
        data,
        str(target),
        file_label=DATASET_LABELS.get(dataset.upper(), dataset)[:MAX_LABEL],
        column_labels=[out_labels[c] for c in data.columns],
        table_name=table,
        file_format_version=5,
    )
    return {long: short for long, short in names.items() if long != short}


def write_xpt_tables(
    directory: Path,
    tables: Mapping[str, pd.DataFrame],
    labels: Mapping[str, str] | None = None,
) -> dict[str, dict[str, str]]:
    """Write each table as `name.xpt` (dataset name upper-cased); return the renamed columns of
    each table, for the manifest."""
    return {
        name: write_xpt(frame, directory / f"{name}.xpt", dataset=name.upper(), labels=labels)
        for name, frame in tables.items()
    }
