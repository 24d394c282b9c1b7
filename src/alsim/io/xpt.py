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
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd
from numpy.typing import NDArray

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


def ibm_float(values: NDArray[np.float64]) -> NDArray[np.uint64]:
    """IEEE doubles as IBM System/360 hexadecimal floats (the XPT numeric format), each a
    big-endian 64-bit word; NaN becomes SAS missing (.). Exact: IBM's 56-bit fraction holds the 53
    bits of a double. Magnitudes outside IBM's range (about 5e-79 to 7e75) are clipped to it."""
    x = np.asarray(values, dtype=np.float64)
    bits = x.view(np.uint64)
    sign = bits >> np.uint64(63)
    exponent = ((bits >> np.uint64(52)) & np.uint64(0x7FF)).astype(np.int64) - 1023
    mantissa = (bits & np.uint64(0x000FFFFFFFFFFFFF)) | np.uint64(0x0010000000000000)
    e16 = (exponent >> 2) + 1  # value = F 2^-56 16^e16 with F = mantissa 2^(exponent mod 4)
    fraction = mantissa << (exponent - 4 * (e16 - 1)).astype(np.uint64)
    too_small = e16 < -64
    too_big = e16 > 63
    e16 = np.clip(e16, -64, 63)
    fraction = np.where(too_big, np.uint64(0x00FFFFFFFFFFFFFF), fraction)
    word = (sign << np.uint64(63)) | ((e16 + 64).astype(np.uint64) << np.uint64(56)) | fraction
    word = np.where((x == 0) | too_small, np.uint64(0), word)
    word = np.where(np.isnan(x), np.uint64(0x2E00000000000000), word)
    return word.astype(">u8")


@dataclass(frozen=True, slots=True)
class XptColumn:
    """One XPT variable: its source column, 8-character name, label and byte width (0: numeric,
    8 bytes IBM float)."""

    column: str
    name: str
    label: str
    width: int

    @property
    def numeric(self) -> bool:
        return self.width == 0


def _text(values: pd.Series) -> pd.Series:
    """A column as XPT text: booleans Y or empty, missing empty, at most 200 characters."""
    if pd.api.types.is_bool_dtype(values):
        return pd.Series(np.where(values.to_numpy(bool), "Y", ""), index=values.index)
    return values.fillna("").astype(str).str.slice(0, MAX_STRING)


def is_text(values: pd.Series) -> bool:
    """Whether the column is written as XPT text (everything but non-boolean numbers)."""
    return pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values)


def _encoded(values: pd.Series) -> tuple[NDArray[np.intp], NDArray[np.bytes_]]:
    """A text column as codes into its distinct values, UTF-8 encoded (a table repeats few
    values many times: each is encoded once)."""
    codes, distinct = pd.factorize(values, use_na_sentinel=False)
    text = _text(pd.Series(distinct))  # the same rule, once per distinct value
    encoded = np.array([v.encode("utf-8") for v in text], dtype=np.bytes_)
    return np.asarray(codes, dtype=np.intp), encoded


def text_width(values: pd.Series) -> int:
    """Bytes the longest value of a text column needs (UTF-8), at least 1."""
    if values.empty:
        return 1
    _, encoded = _encoded(values)
    return max(1, int(np.char.str_len(encoded).max()))


def xpt_columns(
    frame: pd.DataFrame,
    labels: Mapping[str, str] | None = None,
    widths: Mapping[str, int] | None = None,
) -> list[XptColumn]:
    """The XPT variables of `frame`'s columns; text widths from `widths` where given (a stream of
    chunks knows them only at its end), else from `frame`."""
    known = {**VARIABLE_LABELS, **(labels or {})}
    names = xpt_names([str(c) for c in frame.columns])
    columns = []
    for column in frame.columns:
        name = str(column)
        short = names[name]
        # a renamed variable is labelled with its full name, so the mapping travels with the file
        label = known.get(name, name) if short == name else name
        width = 0
        if is_text(frame[column]):
            width = (widths or {}).get(name) or text_width(frame[column])
        columns.append(XptColumn(name, short, label[:MAX_LABEL], min(width, MAX_STRING)))
    return columns


_STAMP = "01JAN70:00:00:00"  # fixed, so the same data always give the same bytes


def _record(text: str) -> bytes:
    return text.ljust(80).encode("ascii")


class XptWriter:
    """An XPT v5 file written in chunks of rows: the header on opening, rows by `write`, the
    80-byte padding by `close`. Every chunk must have the columns `columns` was made from."""

    def __init__(
        self, target: BinaryIO, *, dataset: str, columns: list[XptColumn], label: str = ""
    ) -> None:
        self._out = target
        self._columns = columns
        self._dtype = np.dtype(
            [(f"v{i}", ">u8" if c.numeric else f"S{c.width}") for i, c in enumerate(columns)]
        )
        self._written = 0
        table = xpt_names([dataset])[dataset]
        head = [
            _record("HEADER RECORD*******LIBRARY HEADER RECORD!!!!!!!" + "0" * 30),
            _record("SAS     SAS     SASLIB  9.4     Linux   " + " " * 24 + _STAMP),
            _record(_STAMP),
            _record(
                "HEADER RECORD*******MEMBER  HEADER RECORD!!!!!!!"
                + "0" * 17
                + "16"
                + "0" * 8
                + "140"
            ),
            _record("HEADER RECORD*******DSCRPTR HEADER RECORD!!!!!!!" + "0" * 30),
            _record(f"SAS     {table:8s}SASDATA 9.4     Linux   " + " " * 24 + _STAMP),
            _record(_STAMP + " " * 16 + f"{label[:MAX_LABEL]:40s}" + " " * 8),
            _record(
                "HEADER RECORD*******NAMESTR HEADER RECORD!!!!!!!000000"
                + f"{len(columns):04d}"
                + "0" * 20
            ),
        ]
        namestrs = b""
        position = 0
        for number, c in enumerate(columns, start=1):
            length = 8 if c.numeric else c.width
            namestrs += struct.pack(
                ">hhhh8s40s8shhh2s8shhi52s",
                1 if c.numeric else 2,
                0,
                length,
                number,
                c.name.ljust(8).encode("ascii"),
                c.label.ljust(40).encode("utf-8")[:40],
                b" " * 8,
                0,
                0,
                0,
                b"\0\0",
                b" " * 8,
                0,
                0,
                position,
                b"\0" * 52,
            )
            position += length
        namestrs += b" " * (-len(namestrs) % 80)
        obs = _record("HEADER RECORD*******OBS     HEADER RECORD!!!!!!!" + "0" * 30)
        self._out.write(b"".join(head) + namestrs + obs)

    def write(self, frame: pd.DataFrame) -> None:
        """Append `frame`'s rows."""
        rows = np.empty(len(frame), dtype=self._dtype)
        for i, c in enumerate(self._columns):
            values = frame[c.column]
            if c.numeric:
                rows[f"v{i}"] = ibm_float(values.to_numpy(np.float64, na_value=np.nan))
            else:
                codes, encoded = _encoded(values)
                padded = np.asarray(encoded, dtype=f"S{c.width}")  # NUL-padded, cut to width
                raw = padded.view(np.uint8)
                raw[raw == 0] = ord(" ")
                rows[f"v{i}"] = padded[codes]
        data = rows.tobytes()
        self._out.write(data)
        self._written += len(data)

    def close(self) -> None:
        """Pad the observations to a whole 80-byte record."""
        self._out.write(b" " * (-self._written % 80))


def write_xpt(
    frame: pd.DataFrame,
    target: Path,
    *,
    dataset: str,
    labels: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Write `frame` as an XPT v5 file with variable labels; return the renamed columns
    (long name -> 8-character name) for the manifest."""
    columns = xpt_columns(frame, labels)
    with open(target, "wb") as handle:
        writer = XptWriter(
            handle,
            dataset=dataset,
            columns=columns,
            label=DATASET_LABELS.get(dataset.upper(), dataset),
        )
        writer.write(frame)
        writer.close()
    return {c.column: c.name for c in columns if c.column != c.name}


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
