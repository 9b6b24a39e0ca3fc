"""Measured numbers to calibrate against: a CSV file of networks on hardware configurations.

Format (one header line; ``#`` lines anywhere are comments, and the comment lines at the top
are the file's *source*, quoted in the provenance of every fit)::

    # Source: SqueezeNext paper (Gholami et al. 2018), Table 3
    network,family,hardware,time_rel,energy
    1.0-SqNxt-23,1.0,8x8/32KB,1.17,3.2e9

Columns:

* ``network`` (required): a zoo preset name or alias, or a layer-graph JSON file.
* ``hardware`` (required): which ``--hw`` spec the row was measured on, by the spec's label
  (``8x8/32KB``), its name (``paper_8x8``), its short key (``8x8``) or the ``--hw`` text.
* ``layer`` (optional): a layer name; the row then measures that layer alone.
* ``family`` (optional): a group label for the leave-one-family-out folds (e.g. the width).
* at least one of ``cycles`` (absolute clock cycles), ``time_rel`` (time relative to an
  unknown per-hardware reference, such as the paper's "x1.17") and ``energy`` (in the spec's
  energy units, one MAC = 1); empty cells are allowed, a row needs one value.

Every problem is one line naming the file, the line and the column.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

from accelsim.errors import CalibrationError
from accelsim.limits import MEASUREMENTS_FILE_MAX_BYTES, read_input_file

#: The measured quantities a row may carry, in output order.
QUANTITIES: tuple[str, ...] = ("cycles", "time_rel", "energy")
REQUIRED: tuple[str, ...] = ("network", "hardware")
OPTIONAL: tuple[str, ...] = ("layer", "family")


@dataclass(frozen=True, slots=True)
class Measurement:
    """One measured row.

    Attributes:
        line: its line in the file (for messages).
        network, hardware: as written (``hardware`` is matched to a spec by the caller).
        layer: the layer measured, or ``None`` for the whole network.
        family: the family label, or ``None``.
        values: quantity (``cycles``/``time_rel``/``energy``) -> measured value (> 0).
    """

    line: int
    network: str
    hardware: str
    layer: str | None
    family: str | None
    values: tuple[tuple[str, float], ...]

    def value(self, quantity: str) -> float | None:
        return dict(self.values).get(quantity)


@dataclass(frozen=True)
class Measurements:
    """A measurements file: its rows and the source its leading comments state."""

    path: str
    source: str
    rows: tuple[Measurement, ...]

    @property
    def quantities(self) -> tuple[str, ...]:
        present = {q for row in self.rows for q, _ in row.values}
        return tuple(q for q in QUANTITIES if q in present)

    def describe(self) -> str:
        """``file (N rows: quantities; source: ...)`` for provenance."""
        first = self.source.split(". ")[0].removeprefix("Source: ").rstrip(".")
        return (f"{self.path} ({len(self.rows)} rows: {', '.join(self.quantities)}"
                + (f"; source: {first}" if first else "") + ")")


def parse_measurements(text: str, path: str = "<measurements>") -> Measurements:
    """Parse the CSV ``text`` (module docstring); ``path`` names it in errors."""
    lines = text.splitlines()
    source_lines: list[str] = []
    for line in lines:
        if not line.startswith("#"):
            break
        source_lines.append(line.lstrip("#").strip())
    body = [(i + 1, line) for i, line in enumerate(lines) if line.strip() and not line.lstrip().startswith("#")]
    if not body:
        raise CalibrationError(f"{path}: no header line; expected columns network,hardware and one of "
                               f"{', '.join(QUANTITIES)}")
    header_line, header_text = body[0]
    header = [h.strip() for h in next(csv.reader([header_text]))]
    known = (*REQUIRED, *OPTIONAL, *QUANTITIES)
    for name in header:
        if name not in known:
            raise CalibrationError(f"{path}:{header_line}: unknown column {name!r}; "
                                   f"expected some of {', '.join(known)}")
    if len(set(header)) != len(header):
        raise CalibrationError(f"{path}:{header_line}: a column is repeated ({', '.join(header)})")
    for name in REQUIRED:
        if name not in header:
            raise CalibrationError(f"{path}:{header_line}: missing column {name!r}")
    if not any(q in header for q in QUANTITIES):
        raise CalibrationError(f"{path}:{header_line}: no measured column; expected one of {', '.join(QUANTITIES)}")
    rows = []
    for number, line in body[1:]:
        cells = [c.strip() for c in next(csv.reader(io.StringIO(line)))]
        if len(cells) != len(header):
            raise CalibrationError(f"{path}:{number}: {len(cells)} cells; expected {len(header)} ({', '.join(header)})")
        record = dict(zip(header, cells, strict=True))
        for name in REQUIRED:
            if not record[name]:
                raise CalibrationError(f"{path}:{number}: {name}: empty; expected a value")
        values = []
        for q in QUANTITIES:
            text_value = record.get(q, "")
            if not text_value:
                continue
            try:
                value = float(text_value)
            except ValueError:
                raise CalibrationError(f"{path}:{number}: {q}: expected a number (got {text_value!r})") from None
            if not (math.isfinite(value) and value > 0):
                raise CalibrationError(f"{path}:{number}: {q}: expected a number > 0 (got {text_value!r})")
            values.append((q, value))
        if not values:
            raise CalibrationError(f"{path}:{number}: no measured value; fill one of "
                                   f"{', '.join(q for q in QUANTITIES if q in header)}")
        rows.append(Measurement(number, record["network"], record["hardware"], record.get("layer") or None,
                                record.get("family") or None, tuple(values)))
    if not rows:
        raise CalibrationError(f"{path}: no data rows after the header")
    seen: dict[tuple[str, str, str | None], int] = {}
    for row in rows:
        key = (row.network, row.hardware, row.layer)
        if key in seen:
            raise CalibrationError(f"{path}:{row.line}: {row.network} on {row.hardware}"
                                   f"{f' layer {row.layer}' if row.layer else ''} repeats line {seen[key]}")
        seen[key] = row.line
    return Measurements(path, " ".join(source_lines), tuple(rows))


def load_measurements(path: str | Path) -> Measurements:
    """Read and parse a measurements CSV file (module docstring); one-line errors."""
    path = Path(path)
    data = read_input_file(path, MEASUREMENTS_FILE_MAX_BYTES, "a measurements CSV file", CalibrationError)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CalibrationError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    return parse_measurements(text, str(path))
