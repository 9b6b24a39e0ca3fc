"""The bridge from the ``networks`` zoo to layer graphs, with a disk cache of exported graphs.

``load_graph("sqnxt23v5")`` resolves a preset (paper name or alias) with
``networks.registry``, builds the module, exports it at the preset's input size and returns
the :class:`LayerGraph`. Exported graphs are cached as JSON under ``$ACCELSIM_CACHE_DIR``
(default ``~/.cache/accelsim``) in ``graphs/``; a cache hit reads one JSON file and never
imports torch.

The cache key hashes everything the graph depends on: the preset, the effective overrides,
input size, number of classes, the accelsim and torch versions, and a digest of the source of
``networks/*.py`` and of the exporter and graph types. Editing a network definition therefore
changes the key, so a stale graph can never be served.

Each entry also stores a SHA-256 digest of its own content, checked on every read: an entry
that is unreadable, does not match its digest (edited, truncated, corrupted) or fails the
graph schema is a miss. The graph is exported again and the entry replaced, with one
:class:`CacheWarning` per entry (the CLI prints it as one ``warning:`` line). Temporary files
left behind by killed writers are removed. Without a usable home directory (``HOME`` empty
or unset and no passwd entry) the cache lives in the system's temporary directory.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.metadata
import json
import os
import tempfile
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import accelsim
from accelsim import atomic, limits
from accelsim.errors import WorkloadError
from accelsim.workload.graph import LayerGraph, is_graph_path

CACHE_ENV = "ACCELSIM_CACHE_DIR"
_GRAPH_SOURCES = ("export.py", "graph.py", "layer.py", "ops.py", "zoo.py")
# order of SqueezeNext options in variant names (the others follow, sorted)
_OPTION_ORDER = ("width", "depth", "stem_kernel", "first_unit", "groups")


def list_presets() -> tuple[str, ...]:
    """Paper names of every preset, in paper order (``networks.registry.list_presets``)."""
    from networks.registry import list_presets as _list

    return _list()


def resolve_name(name: str) -> str:
    """The paper name of preset ``name`` (a paper name or an alias, any case).

    Raises:
        WorkloadError: ``unknown network 'x'; did you mean: a, b, c?``.
    """
    return _preset(name).name


def _preset(name: str) -> Any:
    from networks.registry import UnknownNetworkError, get_preset

    try:
        return get_preset(name)
    except UnknownNetworkError as exc:
        hint = (f"did you mean: {', '.join(exc.suggestions)}?" if exc.suggestions
                else f"known networks: {', '.join(list_presets())}")
        raise WorkloadError(f"unknown network {name!r}; {hint}") from None


def _jsonable(value: Any) -> Any:
    """Override values in the form JSON gives back (tuples as lists), so cached graphs compare equal."""
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


#: The command-line flag of each SqueezeNext constructor option (for error messages).
_CLI_FLAGS = {"width": "--width", "depth": "--depth", "stem_kernel": "--stem", "first_unit": "--first-unit",
              "groups": "--groups"}


def effective_overrides(name: str, overrides: Mapping[str, Any]) -> dict[str, Any]:
    """The overrides that change preset ``name``'s options (an override equal to the preset's value is dropped).

    ``depth`` sequences become tuples, an integer ``width`` a float; ``None`` values are ignored.
    """
    preset = _preset(name)
    out: dict[str, Any] = {}
    for key, value in overrides.items():
        if value is None:
            continue
        if key not in preset.options:
            flag = _CLI_FLAGS.get(key)
            hint = f" ({flag} is for SqueezeNext networks)" if flag and preset.family != "squeezenext" else ""
            raise WorkloadError(f"{preset.name}: has no option {key!r}{hint}; its options: "
                                f"{', '.join(preset.options) or 'none'}")
        if key == "depth" and isinstance(value, list | tuple):
            value = tuple(value)
        elif key == "width" and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)  # width=2 and width=2.0 are one variant (one cache entry, equal meta)
        if key in preset.options and _jsonable(preset.options[key]) == _jsonable(value):
            continue
        out[key] = value
    order = {k: i for i, k in enumerate(_OPTION_ORDER)}
    return dict(sorted(out.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0])))


def check_size_options(options: Mapping[str, Any], prefix: str = "") -> None:
    """Refuse option values beyond ``accelsim.limits`` before any work (an export or a simulation).

    ``options`` are constructor options (``depth``, ``width``, ``stem_kernel``, ``groups``,
    ``num_classes``, ``input_size``); ``prefix`` is ``"--"`` when they came from the command line
    (the error then names the option as typed: ``--stem`` for ``stem_kernel``).

    Raises:
        WorkloadError: one line naming the option, the bound and the value.
    """
    cli = {"stem_kernel": "stem", "num_classes": "num-classes", "input_size": "image-size"}

    def name(key: str) -> str:
        return f"{prefix}{cli.get(key, key)}" if prefix else key

    depth = options.get("depth")
    if isinstance(depth, list | tuple):
        if len(depth) > limits.MAX_STAGES:
            raise WorkloadError(f"{name('depth')}: at most {limits.MAX_STAGES} stages; got {len(depth)}")
        for units in depth:
            if isinstance(units, int) and units > limits.MAX_UNITS_PER_STAGE:
                raise WorkloadError(f"{name('depth')}: at most {limits.MAX_UNITS_PER_STAGE:,} units per stage; "
                                    f"got {units:,}")
        total = sum(u for u in depth if isinstance(u, int))
        if total > limits.MAX_UNITS_TOTAL:
            raise WorkloadError(f"{name('depth')}: at most {limits.MAX_UNITS_TOTAL:,} units in all; got {total:,}")
    width = options.get("width")
    if isinstance(width, int | float) and not isinstance(width, bool) and width > limits.MAX_WIDTH:
        raise WorkloadError(f"{name('width')}: at most {limits.MAX_WIDTH:g}; got {width:g}")
    for key, bound in (("stem_kernel", limits.MAX_STEM_KERNEL), ("groups", limits.MAX_GROUPS),
                       ("num_classes", limits.MAX_NUM_CLASSES), ("input_size", limits.MAX_INPUT_SIZE)):
        value = options.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > bound:
            raise WorkloadError(f"{name(key)}: at most {bound:,}; got {value:,}")


def _format(value: Any) -> str:
    if isinstance(value, tuple | list):
        return ",".join(_format(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def variant_name(name: str, overrides: Mapping[str, Any] | None = None, *, input_size: int | None = None,
                 num_classes: int | None = None) -> str:
    """A descriptive graph name: the paper name, plus ``[key=value;...]`` for what differs from the preset.

    Example: ``variant_name("sqnxt23", {"depth": (2, 4, 14, 1)})`` is ``'1.0-SqNxt-23[depth=2,4,14,1]'``.
    """
    preset = _preset(name)
    changed = effective_overrides(name, overrides or {})
    if num_classes is not None and num_classes != preset.num_classes:
        changed["num_classes"] = num_classes
    if input_size is not None and input_size != preset.input_size:
        changed["input_size"] = input_size
    if not changed:
        return preset.name
    return f"{preset.name}[{';'.join(f'{k}={_format(v)}' for k, v in changed.items())}]"


class CacheWarning(UserWarning):
    """A graph-cache entry was invalid and has been replaced by a fresh export."""


_warned: set[str] = set()


def cache_dir() -> Path:
    """Where exported graphs are cached: ``$ACCELSIM_CACHE_DIR/graphs``, else ``~/.cache/accelsim/graphs``.

    Without a usable home (``HOME`` empty, or no home for this uid) it is
    ``<temp dir>/accelsim-<uid>/graphs``, never ``/.cache`` or the working directory.
    """
    root = os.environ.get(CACHE_ENV)
    if root:
        return Path(root) / "graphs"
    home = _home()
    if home is not None:
        return home / ".cache" / "accelsim" / "graphs"
    uid = os.getuid() if hasattr(os, "getuid") else "user"
    return Path(tempfile.gettempdir()) / f"accelsim-{uid}" / "graphs"


def _home() -> Path | None:
    """The user's home directory if it is an absolute path, else None (``HOME=''``, no passwd entry)."""
    try:
        home = Path.home()
    except (RuntimeError, KeyError, OSError):
        return None
    return home if home.is_absolute() and str(home) != "/" else None


@functools.cache
def source_digest() -> str:
    """SHA-256 over the source of ``networks/*.py`` and the exporter/graph modules (hex).

    Computed once per process: the digest describes the code this process runs.
    """
    import networks.registry

    files = sorted(Path(networks.registry.__file__).parent.glob("*.py"))
    files += [Path(__file__).with_name(n) for n in _GRAPH_SOURCES]
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


@functools.cache
def _torch_version() -> str:
    try:
        return importlib.metadata.version("torch")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - torch is a dependency
        return "absent"


def cache_key(preset: str, overrides: Mapping[str, Any], input_size: int, num_classes: int) -> str:
    """The cache file stem of an export: a hash of every input the exported graph depends on."""
    facts = {"preset": preset, "overrides": _jsonable(overrides), "input_size": input_size,
             "num_classes": num_classes, "accelsim": accelsim.__version__, "torch": _torch_version(),
             "sources": source_digest()}
    return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()[:40]


def load_graph(name: str, *, num_classes: int | None = None, input_size: int | None = None,
               use_cache: bool = True, **overrides: Any) -> LayerGraph:
    """The layer graph of zoo network ``name`` (paper name or alias), exported once and cached.

    Args:
        name: a preset name or alias (``"1.0-SqNxt-23v5"``, ``"sqnxt23v5"``).
        num_classes: classifier outputs (default: the preset's, 1000).
        input_size: square input side in pixels (default: the preset's, e.g. 227 or 224).
        use_cache: read and write the disk cache (``False`` always exports afresh).
        **overrides: constructor options, e.g. SqueezeNext ``width``, ``depth``, ``stem_kernel``,
            ``first_unit``, ``groups``.

    Returns:
        A graph named by :func:`variant_name`; ``graph.meta`` records ``preset``, ``family``,
        ``overrides``, ``input_size``, ``num_classes``, ``input_shape`` and ``accelsim_version``.

    Raises:
        WorkloadError: unknown network (with suggestions) or a bad option, on one line.
        ExportError: the module cannot be exported.
    """
    preset = _preset(name)
    changed = effective_overrides(name, overrides)
    size = preset.input_size if input_size is None else input_size
    classes = preset.num_classes if num_classes is None else num_classes
    for label, value in (("input_size", size), ("num_classes", classes)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise WorkloadError(f"{preset.name}: {label}: expected an integer >= 1; got {value!r}")
    try:
        check_size_options({**changed, "input_size": size, "num_classes": classes})
    except WorkloadError as exc:
        raise WorkloadError(f"{preset.name}: {exc}") from None
    path = cache_dir() / f"{cache_key(preset.name, changed, size, classes)}.json"
    if use_cache and (path.exists() or path.is_symlink()):
        try:
            return LayerGraph.load_json(path, verify_digest=True)
        except WorkloadError as exc:  # torn, edited or corrupt: a miss, exported again and replaced
            _warn_once(path, f"graph cache entry {exc}; exported again and replaced it")
    graph = _export(preset, changed, size, classes)
    if use_cache:
        _write_atomic(path, graph)
    return graph


def _warn_once(path: Path, message: str) -> None:
    if str(path) not in _warned:
        _warned.add(str(path))
        warnings.warn(message, CacheWarning, stacklevel=3)


def _export(preset: Any, changed: dict[str, Any], size: int, classes: int) -> LayerGraph:
    from accelsim.workload.export import build_meta, export_module

    try:
        module = build_meta(lambda: preset.build(num_classes=classes, **changed))
    except ValueError as exc:  # the constructors' own argument checks
        raise WorkloadError(f"{preset.name}: {' '.join(str(exc).split())}") from None
    except TypeError as exc:  # an option this family does not take
        options = ", ".join(preset.options) or "none"
        raise WorkloadError(f"{preset.name}: {' '.join(str(exc).split())}; its options: {options}") from None
    meta = {"preset": preset.name, "family": preset.family, "overrides": _jsonable(changed),
            "input_size": size, "num_classes": classes}
    name = variant_name(preset.name, changed, input_size=size, num_classes=classes)
    return export_module(module, (3, size, size), name=name, meta=meta)


def _write_atomic(path: Path, graph: LayerGraph) -> None:
    """Write ``graph`` so a reader never sees half a file (``LayerGraph.save_json`` is atomic), after
    clearing the cache of what killed writers left; an unwritable cache is skipped silently."""
    with contextlib.suppress(OSError):  # the cache is an optimisation; failing to write it must not fail the export
        _remove_orphans(path.parent)
        graph.save_json(path)


def _remove_orphans(directory: Path) -> None:
    """Remove the temporary files of *every* entry whose writer is gone (``atomic`` clears only
    those of the entry it writes, so a killed export of a variant never asked for again would
    leave its ``.KEY.json.PID.*.tmp`` behind for good)."""
    if not directory.is_dir():
        return
    pattern = f".*.json.*{atomic.TMP_SUFFIX}"
    names = {entry.name[1:].split(".json.", 1)[0] + ".json" for entry in directory.glob(pattern)}
    for name in sorted(names):
        atomic.remove_stale_temporaries(directory, name)


def resolve(network: str | Path | LayerGraph, input_shape: Sequence[int] | None = None,
            **options: Any) -> LayerGraph:
    """Any network the CLI and ``accelsim.simulate`` accept, as a layer graph.

    ``network`` is a :class:`LayerGraph`, a layer-graph ``.json`` file, an ``.onnx`` file
    (``accelsim.workload.onnx.import_onnx``) or a zoo preset name or alias (``load_graph``).
    ``input_shape`` is ``(C, H, W)``: an ONNX file's data input (needed when its dims are
    symbolic), or a preset's square input size. ``options`` are preset constructor options.

    Raises:
        WorkloadError: unknown network, unreadable file, options given for a file.
    """
    if isinstance(network, LayerGraph) or is_graph_path(str(network)):
        label = network.name if isinstance(network, LayerGraph) else str(network)
        if options:
            raise WorkloadError(f"{label}: network options ({', '.join(options)}) apply to preset names only")
        if isinstance(network, LayerGraph):
            return network
        if str(network).lower().endswith(".onnx"):
            from accelsim.workload.onnx import import_onnx

            return import_onnx(network, input_shape=input_shape)
        if Path(network).is_file() or input_shape is None:
            return LayerGraph.load_json(network)
    if input_shape is not None:
        if len(input_shape) != 3 or input_shape[1] != input_shape[2]:
            raise WorkloadError(f"{network}: input_shape: presets take a square (C, H, H) input; got {input_shape}")
        options = {**options, "input_size": int(input_shape[1])}
    return load_graph(str(network), **options)


def write_onnx(name: str, path: str | Path, *, num_classes: int | None = None, input_size: int | None = None,
               **overrides: Any) -> LayerGraph:
    """Write zoo network ``name`` (with SqueezeNext ``overrides``) as an ONNX file; return its layer graph.

    The module is built with ``torch.manual_seed(0)`` weights (untrained, but the same bytes on
    every run) and written by ``accelsim.workload.export.export_onnx``; the model's metadata
    records the preset, its overrides, the input shape and the accelsim version.
    """
    import torch

    from accelsim.workload.export import export_onnx

    graph = load_graph(name, num_classes=num_classes, input_size=input_size, **overrides)
    preset, changed = _preset(name), effective_overrides(name, overrides)
    torch.manual_seed(0)
    module = preset.build(num_classes=graph.meta["num_classes"], **changed)
    meta = {"network": graph.name, "preset": preset.name, "overrides": json.dumps(_jsonable(changed))}
    export_onnx(module, path, graph.input_shape, name=graph.name, metadata=meta)
    return graph
