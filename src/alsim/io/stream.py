"""Tables written chunk by chunk in every requested format, never held whole in memory.

`TableStream` appends each chunk of a table (a DataFrame of some replicates) to ``NAME.parquet``
(a row group per chunk) and ``NAME.csv`` as it arrives; ``NAME.xpt`` needs the width of every
text column before its first row, so it is written at `close` from the Parquet file, batch by
batch. Without ``parquet`` among the formats the Parquet file is a hidden temporary that
`discard` removes. The files of one table are the same bytes for the same chunks.
"""

from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from alsim.errors import AlsimError
from alsim.io.xpt import DATASET_LABELS, MAX_STRING, XptWriter, is_text, write_xpt, xpt_columns

TABLE_FORMATS = ("parquet", "csv", "xpt")
XPT_BATCH_ROWS = 200_000


def parse_formats(text: str) -> tuple[str, ...]:
    """``parquet,csv`` -> ("parquet", "csv"), checked against `TABLE_FORMATS`."""
    formats = tuple(f.strip().lower() for f in text.split(",") if f.strip())
    unknown = [f for f in formats if f not in TABLE_FORMATS]
    if unknown or not formats:
        raise AlsimError(
            f"--formats: {', '.join(map(repr, unknown)) or 'nothing given'} is not a table "
            f"format; allowed: {', '.join(TABLE_FORMATS)} (comma-separated)"
        )
    return tuple(dict.fromkeys(formats))


def _schema(table: pa.Table) -> pa.Schema:
    """The chunk's schema with columns of only missing values typed as text."""
    return pa.schema(
        [f.with_type(pa.string()) if pa.types.is_null(f.type) else f for f in table.schema]
    )


class TableStream:
    """One table in `formats`, written to ``directory / name.<format>`` chunk by chunk."""

    def __init__(
        self,
        directory: Path,
        name: str,
        formats: Sequence[str],
        *,
        xpt_labels: Mapping[str, str] | None = None,
    ) -> None:
        self.name = name
        self.formats = tuple(formats)
        self.directory = Path(directory)
        keep = "parquet" in self.formats
        self.parquet_path = self.directory / (f"{name}.parquet" if keep else f".{name}.parquet")
        self._xpt_labels = xpt_labels
        self._schema: pa.Schema | None = None
        self._parquet: pq.ParquetWriter | None = None
        self._csv: pa_csv.CSVWriter | None = None
        self._widths: dict[str, int] = {}
        self._text: list[str] = []
        self._empty: pd.DataFrame | None = None

    def write(self, frame: pd.DataFrame) -> None:
        """Append `frame`'s rows (a chunk of replicates)."""
        if frame.empty:
            self._empty = frame if self._empty is None else self._empty
            return
        if self._schema is None:
            self._schema = _schema(pa.Table.from_pandas(frame, preserve_index=False))
            self._text = [str(c) for c in frame.columns if is_text(frame[c])]
            self._parquet = pq.ParquetWriter(self.parquet_path, self._schema)
            if "csv" in self.formats:
                options = pa_csv.WriteOptions(quoting_style="needed")
                self._csv = pa_csv.CSVWriter(
                    self.directory / f"{self.name}.csv", self._schema, write_options=options
                )
        table = pa.Table.from_pandas(frame, schema=self._schema, preserve_index=False)
        assert self._parquet is not None
        self._parquet.write_table(table)
        if self._csv is not None:
            self._csv.write_table(table)
        for column in self._text:
            values = table[column]
            if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
                longest = pc.max(pc.binary_length(values)).as_py() or 0
            else:
                longest = max(len(str(v)) for v in values.to_pylist()) if len(values) else 0
            self._widths[column] = max(self._widths.get(column, 1), min(longest, MAX_STRING))

    def close(self) -> dict[str, str]:
        """Finish every format; return the XPT renaming (long name -> 8-character name)."""
        if self._parquet is None:
            return self._write_whole(self._empty if self._empty is not None else pd.DataFrame())
        self._parquet.close()
        if self._csv is not None:
            self._csv.close()
        if "xpt" not in self.formats:
            return {}
        source = pq.ParquetFile(self.parquet_path)
        writer = None
        renamed: dict[str, str] = {}
        with open(self.directory / f"{self.name}.xpt", "wb") as handle:
            for batch in source.iter_batches(batch_size=XPT_BATCH_ROWS):
                frame = batch.to_pandas()
                if writer is None:
                    columns = xpt_columns(frame, self._xpt_labels, self._widths)
                    renamed = {c.column: c.name for c in columns if c.column != c.name}
                    dataset = self.name.upper()
                    writer = XptWriter(
                        handle,
                        dataset=dataset,
                        columns=columns,
                        label=DATASET_LABELS.get(dataset, dataset),
                    )
                writer.write(frame)
            assert writer is not None
            writer.close()
        return renamed

    def _write_whole(self, frame: pd.DataFrame) -> dict[str, str]:
        frame.to_parquet(self.parquet_path, index=False)
        if "csv" in self.formats:
            frame.to_csv(self.directory / f"{self.name}.csv", index=False)
        if "xpt" in self.formats:
            return write_xpt(
                frame,
                self.directory / f"{self.name}.xpt",
                dataset=self.name.upper(),
                labels=self._xpt_labels,
            )
        return {}

    def read(self, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """The whole table (or some columns) back from the Parquet file (repeated strings are one
        object each, so text columns cost a pointer per row)."""
        table = pq.read_table(self.parquet_path, columns=list(columns) if columns else None)
        frame: pd.DataFrame = table.to_pandas()
        return frame

    def discard(self) -> None:
        """Remove the Parquet file when it was only a temporary."""
        if "parquet" not in self.formats:
            self.parquet_path.unlink(missing_ok=True)
