"""Hardware specs from YAML files, and back to YAML.

A spec file is a mapping of ``HardwareSpec`` fields; it may list only the fields it changes
(the rest keep the paper's 16x16 defaults). Loading is strict, and every problem is one
line naming the file, the line and the dotted field path::

    hwconfigs/x.yaml:12: global_buffer.size_bytes: must be > 0 (got '-4KB')

Duplicate keys are errors (PyYAML silently keeps the last one, which hides typos in long
specs), and ``1e9`` reads as a number (YAML 1.2; PyYAML's YAML 1.1 reads it as a string).

Loading is bounded: a spec file is read only if it is a regular file of at most
``accelsim.limits.SPEC_FILE_MAX_BYTES``; aliases (``*name``) are refused, because nested
aliases expand exponentially ("billion laughs") and a spec has no use for them; collections
nest at most ``YAML_MAX_DEPTH`` levels, so deep nesting is an error rather than a
``RecursionError`` out of PyYAML's recursive composer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from accelsim.errors import SpecError
from accelsim.hardware.spec import NON_HARDWARE_FIELDS, HardwareSpec, format_validation_error
from accelsim.limits import SPEC_FILE_MAX_BYTES, YAML_MAX_DEPTH, read_input_file
from accelsim.units import format_bytes

_FLOAT_TAG = "tag:yaml.org,2002:float"
_MERGE_TAG = "tag:yaml.org,2002:merge"


class DuplicateKeyError(yaml.constructor.ConstructorError):
    """A mapping repeats a key; ``problem`` is ``path: duplicate key (first at line N)``."""


class SpecLoader(yaml.SafeLoader):
    """PyYAML's SafeLoader, rejecting duplicate keys and reading ``1e9``-style floats.

    ``paths`` maps ``id(mapping node)`` to its dotted path so a duplicate is reported as
    ``global_buffer.size_bytes``, not just ``size_bytes``.
    """

    paths: dict[int, str]
    _depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        """PyYAML's composer, refusing aliases and nesting deeper than ``YAML_MAX_DEPTH``."""
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, f"alias *{event.anchor} is not allowed in a spec; write the value out",
                event.start_mark)
        if self._depth >= YAML_MAX_DEPTH:
            raise yaml.composer.ComposerError(
                None, None, f"nested more than {YAML_MAX_DEPTH} levels deep", self.peek_event().start_mark)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        """PyYAML's int, with Python's digit limit (4,300) as a YAML error rather than a ValueError."""
        try:
            return super().construct_yaml_int(node)
        except ValueError:
            raise yaml.constructor.ConstructorError(
                None, None, f"integer of {len(node.value):,} digits is too long", node.start_mark) from None

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        section = getattr(self, "paths", {}).get(id(node), "")
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.get(key)
            except TypeError:  # an unhashable key; SafeConstructor reports it below
                continue
            if first is not None:
                path = f"{section}.{key}" if section else str(key)
                raise DuplicateKeyError(None, None, f"{path}: duplicate key (first at line {first})",
                                        key_node.start_mark)
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


SpecLoader.add_constructor("tag:yaml.org,2002:int", SpecLoader.construct_yaml_int)

# YAML 1.2 floats without a dot (1e9, 16E9): YAML 1.1, and so PyYAML, reads them as strings.
SpecLoader.add_implicit_resolver(
    _FLOAT_TAG, re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$"), list("-+0123456789."))


def _walk(node: yaml.Node, prefix: str, lines: dict[str, int], paths: dict[int, str]) -> None:
    """Record the line of every dotted path (key line for mappings, item line for lists)."""
    if isinstance(node, yaml.MappingNode):
        paths[id(node)] = prefix
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == _MERGE_TAG:
                continue
            path = f"{prefix}.{key_node.value}" if prefix else str(key_node.value)
            lines.setdefault(path, key_node.start_mark.line + 1)
            _walk(value_node, path, lines, paths)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            path = f"{prefix}.{index}"
            lines.setdefault(path, item.start_mark.line + 1)
            _walk(item, path, lines, paths)


def _parse_yaml(text: str, source: str) -> tuple[Any, dict[str, int]]:
    """The document's data and the line of each dotted path; one-line SpecError on bad YAML."""
    loader: SpecLoader | None = None
    try:
        loader = SpecLoader(text)  # reads the first chunk: a non-printable character fails here
        node = loader.get_single_node()
        if node is None:
            return None, {}
        lines: dict[str, int] = {}
        loader.paths = {}
        _walk(node, "", lines, loader.paths)
        return loader.construct_document(node), lines
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if exc.context_mark is not None and "end" in str(exc.problem):  # point at what is unclosed, not EOF
            mark = exc.context_mark
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        if isinstance(exc, DuplicateKeyError):
            raise SpecError(f"{where}: {exc.problem}") from exc
        problem = " ".join(str(exc.problem or "").split())
        context = " ".join(str(exc.context or "").split())
        detail = f"{problem} ({context})" if problem and context else problem or context
        raise SpecError(f"{where}: invalid YAML: {detail}") from exc
    except yaml.YAMLError as exc:
        raise SpecError(f"{source}: invalid YAML: {' '.join(str(exc).split())}") from exc
    finally:
        if loader is not None:
            loader.dispose()


def parse_value(text: str) -> Any:
    """A command-line value read as one YAML scalar/flow value: ``32`` -> 32, ``true``, ``[ws, os]``.

    Text that is not valid YAML (or is empty) stays a string, so ``32GB/s`` is ``'32GB/s'``.
    """
    if not text.strip():
        return text
    try:
        return yaml.load(text, Loader=SpecLoader)  # noqa: S506 -- SpecLoader is a SafeLoader
    except yaml.YAMLError:
        return text


def _over_paper_defaults(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` on top of the calibrated paper 16x16 accelerator (``PAPER_16X16``): a field the file
    leaves out takes the paper configuration's value, fitted [A] knobs included (its name,
    description and calibration record excepted). Sections merge field by field."""
    from accelsim.hardware.spec import PAPER_16X16

    def merge(base: Any, top: Any) -> Any:
        if isinstance(base, dict) and isinstance(top, dict):
            return {**base, **{k: merge(base.get(k), v) for k, v in top.items()}}
        return top

    base = PAPER_16X16.model_dump(mode="json", exclude={"name", "description", *NON_HARDWARE_FIELDS})
    return merge(base, data)


def parse_spec(text: str, source: str = "<spec>", *, default_name: str | None = None) -> HardwareSpec:
    """Validate YAML text as a HardwareSpec; errors name ``source:line: field.path``.

    ``default_name`` becomes ``name`` when the text has none (``load_spec`` passes the file stem).
    """
    data, lines = _parse_yaml(text, source)
    if data is None:
        raise SpecError(f"{source}: empty spec; expected a mapping of hardware fields (see `accelsim hw show`)")
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else f"{type(data).__name__} {data!r}"
        raise SpecError(f"{source}:1: expected a mapping of hardware fields at the top level (got {kind})")
    if default_name and "name" not in data:
        data = {"name": default_name, **data}
    data = _over_paper_defaults(data)

    def line_of(loc: tuple[Any, ...]) -> int | None:
        for end in range(len(loc), 0, -1):  # the field's own line, else its nearest section's
            line = lines.get(".".join(str(k) for k in loc[:end]))
            if line is not None:
                return line
        return None

    try:
        return HardwareSpec.model_validate(data)
    except ValidationError as exc:
        raise SpecError(format_validation_error(exc, data, source=source, line_of=line_of)) from exc


def load_spec(path: str | Path) -> HardwareSpec:
    """Load and validate a hardware spec YAML file.

    Raises SpecError, one line naming the file, line and field, for a missing or unreadable
    file, bad YAML, a duplicate or unknown key, a wrong type or an out-of-range value. A spec
    without ``name`` is named after the file (``fast_dram.yaml`` -> ``fast_dram``).
    """
    path = Path(path)
    data = read_input_file(path, SPEC_FILE_MAX_BYTES, "a YAML spec file", SpecError)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    return parse_spec(text, str(path), default_name=path.stem)


# ---- back to YAML ---------------------------------------------------------------------------
def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_scalar(v) for v in value) + "]"
    text = str(value)
    if re.fullmatch(r"\w[\w.-]*", text) and parse_value(text) == text:
        return text
    # JSON strings are valid YAML double-quoted scalars; quoting keeps 'no' or '1e3' strings.
    return json.dumps(text, ensure_ascii=False)


def format_rate(bytes_per_s: float) -> str:
    """16e9 -> '16GB/s' (decimal units, as ``parse_rate`` reads them)."""
    for unit, factor in (("TB/s", 1e12), ("GB/s", 1e9), ("MB/s", 1e6), ("KB/s", 1e3)):
        if bytes_per_s >= factor:
            return f"{bytes_per_s / factor:g}{unit}"
    return f"{bytes_per_s:g}B/s"


def format_frequency(hz: float) -> str:
    """1e9 -> '1GHz' (decimal units, as ``parse_frequency`` reads them)."""
    for unit, factor in (("GHz", 1e9), ("MHz", 1e6), ("kHz", 1e3)):
        if hz >= factor:
            return f"{hz / factor:g}{unit}"
    return f"{hz:g}Hz"


def _notes(spec: HardwareSpec) -> dict[str, str]:
    """Comments on values whose meaning is not plain from the number (derived, never settable)."""
    from accelsim.hardware.area import logic_scale, mac_um2

    words = spec.buffer_words
    buffer_note = f"{format_bytes(spec.global_buffer.size_bytes)} = {words} words"
    if spec.global_buffer.double_buffer:
        buffer_note += f" ({words // 2} per half)"
    return {
        "pe_array.register_file_bytes": format_bytes(spec.pe_array.register_file_bytes),
        "global_buffer.size_bytes": buffer_note,
        "dram.bandwidth_bytes_per_s": f"{format_rate(spec.dram.bandwidth_bytes_per_s)} = "
                                      f"{spec.dram_words_per_cycle:g} words/cycle at {format_frequency(spec.clock_hz)}",
        "clock_hz": format_frequency(spec.clock_hz),
        "global_buffer.port_width_words": f"effective {spec.port_width} words/cycle per port, "
                                          f"{spec.array_read_width} for the array",
        "model.os_output_words_per_cycle": f"effective {spec.os_output_width} words/cycle",
        "area.adder_um2": f"one {spec.pe_array.mac_bits}-bit MAC: {mac_um2(spec):g} um² at 40 nm, "
                          f"{mac_um2(spec) * logic_scale(spec):.6g} um² at {spec.area.technology_nm:g} nm",
    }


def _source(description: str | None) -> str:
    """The ``[source]`` tag a field description ends with (``[paper §3]``, ``[A]``), else ""."""
    match = re.search(r"\[[^\]]+\][^\[]*$", description or "")
    return match.group(0).split("]")[0] + "]" if match else ""


def _emit(model: BaseModel, data: dict[str, Any], prefix: str, indent: str, notes: dict[str, str],
          sources: bool = False) -> Iterator[str]:
    for name, info in type(model).model_fields.items():
        value, path = data[name], f"{prefix}{name}"
        child = getattr(model, name)
        if name in NON_HARDWARE_FIELDS and not prefix:
            yield from _emit_block(name, value, indent)
        elif isinstance(child, BaseModel):
            yield f"{indent}{name}:"
            yield from _emit(child, value, f"{path}.", indent + "  ", notes, sources)
        else:
            comment = [notes[path]] if path in notes else []
            if sources and _source(info.description):
                comment.insert(0, _source(info.description))
            note = f"  # {'; '.join(comment)}" if comment else ""
            yield f"{indent}{name}: {_scalar(value)}{note}"


def _emit_block(name: str, value: Any, indent: str) -> Iterator[str]:
    """A nested non-hardware section (the calibration record) as block YAML."""
    if value is None:
        yield f"{indent}{name}: null"
        return
    text = yaml.safe_dump({name: value}, sort_keys=False, default_flow_style=None, allow_unicode=True, width=100)
    yield from (f"{indent}{line}" for line in text.rstrip("\n").splitlines())


def spec_to_yaml(spec: BaseModel, *, sources: bool = False, header: Sequence[str] = ()) -> str:
    """The spec as a complete YAML file that ``load_spec`` reads back to an equal spec.

    Derived values (word size, buffer words, DRAM words per cycle, area) appear as comments;
    ``sources=True`` also puts each field's source tag (``[paper §3]``, ``[Eyeriss]``, ``[A]``)
    on its line. ``header`` lines are prepended as comments.
    """
    from accelsim.hardware.area import area_of

    assert isinstance(spec, HardwareSpec)
    lines = [
        *(f"# {line}".rstrip() for line in header),
        f"# {spec.name}: {spec.label}",
        f"# derived: {spec.word_bytes:g}-byte words, {spec.buffer_words} buffer words, "
        f"{spec.dram_words_per_cycle:g} DRAM words/cycle",
        f"# area at {spec.area.technology_nm:g} nm: {area_of(spec).describe()}",
    ]
    body = _emit(spec, spec.model_dump(mode="json"), "", "", _notes(spec), sources)
    return "\n".join([*lines, *body]) + "\n"


def write_spec(path: str | Path, spec: HardwareSpec, *, header: Sequence[str] = ()) -> Path:
    """Write ``spec_to_yaml(spec, sources=True)`` to ``path`` atomically (``accelsim.atomic``).

    A symbolic link is followed (its target is replaced, the link stays). Returns ``path``.
    """
    from accelsim.atomic import write_text

    write_text(Path(path).resolve(), spec_to_yaml(spec, sources=True, header=header))
    return Path(path)
