"""Writers for report files: CSV with a provenance header, JSON, Markdown, PNG/SVG figures.

Every file carries the inputs that produced it (:class:`Provenance`): the command, the accelsim
version, the hardware labels and the networks. CSV files start with ``# key: value`` comment
lines (``pandas.read_csv(path, comment="#")`` skips them), JSON files have a ``provenance``
object, PNG files a ``tEXt`` chunk per key and SVG files Dublin-Core metadata.

Every file is written atomically (:mod:`accelsim.atomic`). Outputs are deterministic: no
timestamps, fixed SVG id salt, floats written with :data:`FLOAT_DIGITS` significant digits, so
re-running a report on the same inputs gives byte-identical files, on another machine too.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from accelsim import atomic

if TYPE_CHECKING:
    from matplotlib.figure import Figure


@dataclass(frozen=True, slots=True)
class Provenance:
    """What produced a report file.

    Attributes:
        command: the CLI command line that regenerates the file (``accelsim report table3``).
        version: accelsim version.
        hardware: hardware spec labels, in column/panel order.
        networks: network names, in row/bar order.
        energy_scale: factor applied to energies, if the file shows energy.
    """

    command: str
    version: str
    hardware: tuple[str, ...]
    networks: tuple[str, ...]
    energy_scale: float | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "command": self.command,
            "accelsim_version": self.version,
            "hardware": list(self.hardware),
            "networks": list(self.networks),
        }
        if self.energy_scale is not None:
            data["energy_scale"] = self.energy_scale
        return data

    def text_items(self) -> dict[str, str]:
        """Flat ``key -> text`` pairs (CSV header, PNG text chunks)."""
        return {k: ", ".join(map(str, v)) if isinstance(v, list) else str(v) for k, v in self.to_dict().items()}


#: Significant digits of every float in a report file (CSV and JSON). Enough for any quantity
#: the model computes (cycles to a tenth of a cycle up to 10^9), few enough that summation-order
#: noise in the last bits (another numpy/BLAS, another machine) cannot change a byte.
FLOAT_DIGITS = 10


def fixed(value: float) -> float:
    """``value`` rounded to :data:`FLOAT_DIGITS` significant digits (finite values only)."""
    return float(f"{value:.{FLOAT_DIGITS}g}") if math.isfinite(value) else value


def format_number(value: Any) -> str:
    """CSV text of a value: blank for ``None``/NaN, :data:`FLOAT_DIGITS` significant digits for floats."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return f"{value:.{FLOAT_DIGITS}g}"
    return str(value)


def csv_text(records: Sequence[Mapping[str, Any]], provenance: Provenance | None = None,
             columns: Sequence[str] | None = None) -> str:
    """CSV of ``records`` (columns: ``columns`` or the first record's keys), with the
    provenance as leading ``# key: value`` lines."""
    buf = io.StringIO()
    if provenance is not None:
        for key, value in provenance.text_items().items():
            buf.write(f"# {key}: {value}\n")
    cols = list(columns) if columns is not None else (list(records[0]) if records else [])
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(cols)
    for record in records:
        writer.writerow([format_number(record.get(c)) for c in cols])
    return buf.getvalue()


def _clean(value: Any) -> Any:
    """JSON-safe copy: NaN/inf become ``None`` (strict JSON has no NaN); other floats are rounded
    to :data:`FLOAT_DIGITS` significant digits."""
    if isinstance(value, float):
        return fixed(value) if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def json_text(data: Mapping[str, Any], provenance: Provenance | None = None) -> str:
    """Indented strict JSON (NaN -> null) with a ``provenance`` object first if given."""
    payload = ({"provenance": provenance.to_dict()} if provenance else {}) | dict(data)
    return json.dumps(_clean(payload), indent=2, allow_nan=False) + "\n"


def write_text(path: Path, text: str) -> Path:
    """Atomically write ``text`` (UTF-8, ``\\n`` line ends), creating parent folders; returns ``path``
    (:func:`accelsim.atomic.write_text`: a reader sees the old file or the new one, never half)."""
    return atomic.write_text(path, text)


def write_dataframe_csv(frame: Any, path: Path | str) -> Path:
    """Atomically write a pandas DataFrame as CSV (no index), e.g. ``run --csv``; returns the path."""
    with atomic.atomic_open(path, "w", newline="") as handle:
        frame.to_csv(handle, index=False, lineterminator="\n")
    return Path(path)


def write_plot(fig: Figure, path: Path | str, dpi: int = 150) -> Path:
    """Atomically save a figure to ``path`` in the format its extension names (``.png``, ``.svg``,
    ``.pdf``; PNG when it has none), e.g. ``redistribute --plot``; returns the path."""
    fmt = Path(path).suffix.lstrip(".").lower() or "png"
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=dpi)
    return atomic.write_bytes(path, buf.getvalue())


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[str]], align: str = "") -> str:
    """A GitHub Markdown table; ``align`` has one char per column (``l``/``r``; default l)."""
    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    marks = [("---:" if a == "r" else "---") for a in align.ljust(len(header), "l")]
    return "\n".join([line(header), "| " + " | ".join(marks) + " |", *(line(r) for r in rows)]) + "\n"


def save_figure(fig: Figure, stem: Path, provenance: Provenance, formats: Sequence[str] = ("png", "svg"),
                dpi: int = 150) -> list[Path]:
    """Save ``fig`` as ``stem.<fmt>`` for each format with the provenance in its metadata.

    PNG gets one text chunk per provenance key (plus Title/Software); SVG gets Dublin-Core
    Title/Description/Creator with no date, and stable ids so the file is reproducible. The
    figure's layout is frozen (layout engine ``"none"``) after the first format is drawn.
    """
    import matplotlib

    stem.parent.mkdir(parents=True, exist_ok=True)
    items = provenance.text_items()
    title = fig.get_suptitle() or stem.name
    description = "; ".join(f"{k}: {v}" for k, v in items.items())
    written = []
    for fmt in formats:
        path = stem.parent / f"{stem.name}.{fmt}"  # not with_suffix: names may hold dots (1.0-SqNxt-23)
        if fmt == "png":
            meta: dict[str, str | None] = {"Title": title, "Software": f"accelsim {provenance.version}",
                                           "Description": description, **items}
        elif fmt == "svg":
            meta = {"Title": title, "Description": description, "Creator": f"accelsim {provenance.version}",
                    "Date": None}
        else:
            meta = {}
        buf = io.BytesIO()
        with matplotlib.rc_context({"svg.hashsalt": "accelsim", "svg.fonttype": "none"}):
            fig.savefig(buf, format=fmt, dpi=dpi, metadata=meta)
        data = buf.getvalue()
        atomic.write_bytes(path, _stable_svg_ids(data) if fmt == "svg" else data)
        written.append(path)
        # the layout solved while drawing the first format holds for the next ones: freezing it
        # saves a constrained-layout pass per format (the slowest part of drawing these figures)
        fig.set_layout_engine("none")
    return written


def _stable_svg_ids(svg: bytes) -> bytes:
    """Rename matplotlib's clip-path ids, which hash object ids (different on every run), to
    ``clip1, clip2, ...`` in order of first appearance."""
    names: dict[bytes, bytes] = {}
    for match in re.finditer(rb'<clipPath id="([^"]+)"', svg):
        names.setdefault(match[1], b"clip%d" % (len(names) + 1))
    if not names:
        return svg
    pattern = re.compile(rb'(id="|url\(#)(' + b"|".join(re.escape(k) for k in names) + rb')([")])')
    return pattern.sub(lambda m: m[1] + names[m[2]] + m[3], svg)
