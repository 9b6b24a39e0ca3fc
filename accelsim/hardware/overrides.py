"""Command-line overrides of a hardware spec: ``--hw``, ``--pe``, ``--buffer`` and ``--set``.

They apply in that order, each re-validated, so ``--hw paper_8x8.yaml --pe 16x16 --set
dram.bandwidth=32GB/s`` starts from the file, then changes the array, then the bandwidth.
Every failure is a one-line SpecError that names the option it came from::

    --set dram.bandwidth: dram.bandwidth_bytes_per_s: expected a number or a rate such as '16GB/s' ... (got 'fast')

``--set`` paths may leave out a field's unit suffix (``dram.bandwidth`` for
``dram.bandwidth_bytes_per_s``) when exactly one field of the section has that stem.
"""

from __future__ import annotations

import difflib
import re
import typing
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from accelsim.errors import SpecError
from accelsim.hardware.load import format_frequency, format_rate, load_spec, parse_value
from accelsim.hardware.spec import (
    NON_HARDWARE_FIELDS,
    PAPER_CONFIGS,
    AcceptsUnits,
    Dataflow,
    HardwareSpec,
    UnitKind,
    paper_config_of,
    same_hardware,
    show_value,
)
from accelsim.units import format_bytes

#: Unit suffixes that ``--set`` lets a path leave out (longest first, so ``_bytes_per_s`` wins).
UNIT_SUFFIXES = ("_bytes_per_s", "_words_per_cycle", "_bytes", "_cycles", "_words", "_bits", "_hz")


# ---- the field tree -------------------------------------------------------------------------
@dataclass(frozen=True)
class SpecField:
    """One settable leaf of HardwareSpec: ``path`` such as ``dram.latency_cycles``."""

    path: str
    info: FieldInfo

    @property
    def is_list(self) -> bool:
        return typing.get_origin(self.info.annotation) is tuple


def _section(annotation: Any) -> type[BaseModel] | None:
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def spec_fields(model: type[BaseModel] = HardwareSpec, prefix: str = "") -> Iterator[SpecField]:
    """Every leaf field, depth first in declaration order (the order of the YAML files)."""
    for name, info in model.model_fields.items():
        if model is HardwareSpec and name in NON_HARDWARE_FIELDS:
            continue
        section = _section(info.annotation)
        if section is not None:
            yield from spec_fields(section, f"{prefix}{name}.")
        else:
            yield SpecField(f"{prefix}{name}", info)


def _similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a.lower(), b.lower()).ratio()


def _unit_stem(name: str) -> str:
    return next((name.removesuffix(s) for s in UNIT_SUFFIXES if name.endswith(s) and name != s), name)


def resolve_field_path(path: str, model: type[BaseModel] = HardwareSpec) -> SpecField:
    """The leaf field a user-written dotted path names (unit suffixes optional when unambiguous).

    Raises SpecError listing the section's valid paths, closest match first.
    """
    keys = [k.strip() for k in path.split(".")]
    resolved: list[str] = []
    for depth, key in enumerate(keys):
        fields = {n: f for n, f in model.model_fields.items()
                  if not (model is HardwareSpec and n in NON_HARDWARE_FIELDS)}
        prefix = "".join(f"{k}." for k in resolved)
        name = key if key in fields else None
        if name is None:
            matches = [f for f in fields if _unit_stem(f) == key and f != key]
            if len(matches) > 1:
                raise SpecError(f"{path}: ambiguous; expected one of {', '.join(prefix + m for m in matches)}")
            name = matches[0] if matches else None
        if name is None:
            # Rank by the closer of the full name and its stem: 'bandwith' is near 'bandwidth'.
            names = sorted(fields, key=lambda f: (-max(_similarity(key, f), _similarity(key, _unit_stem(f))), f))
            shown = [f"{prefix}{n}" + (".*" if _section(fields[n].annotation) else "") for n in names]
            raise SpecError(f"{path}: unknown field; expected one of {', '.join(shown)}")
        resolved.append(name)
        section = _section(fields[name].annotation)
        last = depth == len(keys) - 1
        if section is not None and last:
            leaves = ", ".join(f.path for f in spec_fields(section, f"{prefix}{name}."))
            raise SpecError(f"{path}: {prefix}{name} is a section; set one of {leaves}")
        if section is None and not last:
            raise SpecError(f"{path}: {prefix}{name} is a value, not a section")
        if section is not None:
            model = section
        else:
            return SpecField(".".join(resolved), fields[name])
    raise SpecError(f"{path!r}: empty field path")


# ---- applying overrides ---------------------------------------------------------------------
def _changed(spec: HardwareSpec, changes: dict[str, Any], option: str) -> HardwareSpec:
    try:
        return spec.with_changes(changes)
    except SpecError as exc:
        raise SpecError(f"{option}: {exc}") from exc


def apply_pe(spec: HardwareSpec, text: str) -> HardwareSpec:
    """``--pe RxC``: set ``pe_array.rows`` and ``pe_array.cols`` (``'8x8'``; ``'0x16'`` fails)."""
    match = re.fullmatch(r"\s*([+-]?\d+)\s*[xX*]\s*([+-]?\d+)\s*", text)
    if match is None:
        raise SpecError(f"--pe: expected ROWSxCOLS such as '16x16' (got {text!r})")
    rows, cols = int(match.group(1)), int(match.group(2))
    return _changed(spec, {"pe_array.rows": rows, "pe_array.cols": cols}, f"--pe {text}")


def apply_buffer(spec: HardwareSpec, text: str) -> HardwareSpec:
    """``--buffer SIZE``: set ``global_buffer.size_bytes`` (``'32KB'``, KB = 1024 B)."""
    return _changed(spec, {"global_buffer.size_bytes": text.strip()}, "--buffer")


def apply_set(spec: HardwareSpec, item: str) -> HardwareSpec:
    """``--set FIELD=VALUE``: the value is read as YAML (``50``, ``true``, ``32GB/s``, ``[ws]``).

    A list field also takes comma-separated text: ``--set dataflows=ws,os``.
    """
    path, sep, text = item.partition("=")
    if not sep or not path.strip():
        raise SpecError(f"--set {item}: expected FIELD=VALUE such as dram.bandwidth=32GB/s")
    option = f"--set {path.strip()}"
    try:
        field = resolve_field_path(path.strip())
    except SpecError as exc:
        raise SpecError(f"--set {exc}") from exc
    value = parse_value(text)
    if field.is_list and isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    return _changed(spec, {field.path: value}, option)


def base_spec(hw: str | Path | HardwareSpec | None) -> HardwareSpec:
    """The starting spec: a HardwareSpec as is; a YAML file; a built-in name; None -> paper 16x16.

    Built-in names (``16x16``, ``8x8``, ``paper_16x16``, ``paper_8x8``) are used only when no
    file of that name exists, so they work after a plain ``pip install`` without hwconfigs/.
    """
    if hw is None:
        return PAPER_CONFIGS["16x16"]
    if isinstance(hw, HardwareSpec):
        return hw
    path = Path(hw)
    if not path.exists():
        builtin = {**PAPER_CONFIGS, **{spec.name: spec for spec in PAPER_CONFIGS.values()}}
        if str(hw) in builtin:
            return builtin[str(hw)]
        raise SpecError(f"{hw}: no such file (built-in specs: {', '.join(builtin)})")
    return load_spec(path)


def resolve_hardware(hw: str | Path | HardwareSpec | None = None, pe: str | None = None,
                     buffer: str | None = None, sets: Iterable[str] = ()) -> HardwareSpec:
    """The spec the command line asks for: ``hw`` (file, built-in name, spec; default the
    paper's 16x16/128KB accelerator), then ``--pe``, then ``--buffer``, then each ``--set`` in
    order, each re-validated. Raises SpecError naming the failing option."""
    base = spec = base_spec(hw)
    sets = list(sets)
    changes = []
    if pe is not None:
        spec = apply_pe(spec, pe)
        changes.append(f"--pe {pe}")
    if buffer is not None:
        spec = apply_buffer(spec, buffer)
        changes.append(f"--buffer {buffer}")
    for item in sets:
        spec = apply_set(spec, item)
        changes.append(f"--set {item}")
    return relabel(base, spec, changes)


def relabel(base: HardwareSpec, spec: HardwareSpec, changes: list[str]) -> HardwareSpec:
    """A spec that overrides changed claims no paper configuration it is not: one that now *is* a
    paper configuration takes that configuration's name; a changed paper configuration becomes
    ``custom``, with the overrides in its description. A name given with ``--set name=...`` and
    the name of the user's own file are kept."""
    if same_hardware(base, spec) or spec.name != base.name:
        return spec
    paper = paper_config_of(spec)
    if paper is not None:
        return PAPER_CONFIGS[paper]
    if not any(base.name == p.name for p in PAPER_CONFIGS.values()):
        return spec
    return spec.with_changes({"name": "custom", "description": f"{base.name} with {' '.join(changes)}"})


# ---- documentation --------------------------------------------------------------------------
def _type_text(field: SpecField) -> str:
    info = field.info
    units = info.json_schema_extra
    if isinstance(units, AcceptsUnits):
        kind = {"size": "bytes or size ('32KB')", "rate": "bytes/s or rate ('16GB/s')",
                "frequency": "Hz or frequency ('1GHz')"}[units.kind.value]
        base = "integer" if info.annotation is int else "number"
        text = f"{base}: {kind}"
    elif field.is_list:
        item = typing.get_args(info.annotation)[0]
        # 'stream' is a member of Dataflow but implied, never listed (the validator rejects it)
        text = "list of " + " / ".join(v.value for v in item if v is not Dataflow.STREAM)
    else:
        annotation = info.annotation
        optional = type(None) in typing.get_args(annotation)
        core = next((a for a in typing.get_args(annotation) if a is not type(None)), annotation)
        names = {int: "integer", float: "number", bool: "true / false", str: "text"}
        text = names.get(core) or " / ".join(v.value for v in core)
        if optional:
            text += " or null"
    bounds = []
    for item in info.metadata:
        for attr, op in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
            bound = getattr(item, attr, None)
            if bound is not None:
                shown = format_bytes(bound) if field.path.endswith("_bytes") and bound >= 1024 else f"{bound:g}"
                bounds.append(f"{op} {shown}")
    return text + (f", {' and '.join(bounds)}" if bounds else "")


def _default_text(field: SpecField) -> str:
    """What a spec file that leaves the field out gets: the calibrated paper 16x16's value."""
    from accelsim.hardware.spec import PAPER_16X16

    labels = field.path in ("name", "description")  # a file's own labels, never inherited
    value: Any = (HardwareSpec() if labels else PAPER_16X16).model_dump(mode="json")
    for key in field.path.split("."):
        value = value[key]
    units = field.info.json_schema_extra
    if isinstance(units, AcceptsUnits):
        human = {UnitKind.SIZE: format_bytes, UnitKind.RATE: format_rate, UnitKind.FREQUENCY: format_frequency}
        return human[units.kind](value)
    if isinstance(value, list):
        return "[" + ", ".join(value) + "]"
    return show_value(value) if not isinstance(value, str) else (value or '""')


def spec_table_markdown() -> str:
    """The options table of every spec field (path, type and range, default, description and
    source), generated from the pydantic model so the docs cannot drift from the code."""
    rows = ["| Field | Type, range | Default | Description [source] |", "|---|---|---|---|"]
    for field in spec_fields():
        description = (field.info.description or "").replace("|", "\\|")
        rows.append(f"| `{field.path}` | {_type_text(field)} | {_default_text(field)} | {description} |")
    return "\n".join(rows) + "\n"
