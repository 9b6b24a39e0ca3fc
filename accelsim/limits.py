"""Upper bounds on every size a user controls, and bounded reading of input files.

Every input accelsim accepts has a finite size, so no input can make it hang or allocate
without bound: a bad or hostile value is refused with one line naming the option and the
bound *before* any work starts. The bounds are far above anything the paper or the zoo
needs (the largest preset, 2.0-SqNxt-44, has 267 layers and 41 units), and each one is
argued next to it. README.md ("Guarantees") lists them; a test checks the table against
these constants.

Input files are read only when they are regular files (a FIFO would block, ``/dev/zero``
never ends) and only up to a stated size.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from accelsim.errors import AccelsimError

#: A hardware spec YAML file. The complete 16x16 spec written by ``hw show`` is about 1.5 KB.
SPEC_FILE_MAX_BYTES = 1 << 20
#: Nesting of YAML collections in a spec or a ``--set`` value (a spec nests 2 levels).
YAML_MAX_DEPTH = 32
#: A layer-graph JSON file (``accelsim export -o``): about 700 bytes per layer, so room for
#: ``GRAPH_MAX_LAYERS`` layers at twice that.
GRAPH_FILE_MAX_BYTES = 16 << 20
#: A measurements CSV file (``accelsim calibrate``): a row is under 100 bytes, so room for
#: 160,000 rows (the paper's Table 3 has 16).
MEASUREMENTS_FILE_MAX_BYTES = 16 << 20
#: An ONNX model file, and the external weight files it names, together: protobuf cannot
#: serialise a message over 2 GB, so no single-file model is larger (exporters switch to
#: external data above it); AlexNet's ONNX is 244 MB.
ONNX_FILE_MAX_BYTES = 2 << 30
#: Any channel count, spatial size, kernel, stride or padding in a layer-graph file: 2^20.
#: (The zoo's largest is 4,096 channels; 2^20 keeps every layer's tile search small.)
MAX_DIMENSION = 1 << 20
#: Layers in one graph (2.0-SqNxt-44 has 267; a 1,000-unit SqueezeNext has about 6,000).
GRAPH_MAX_LAYERS = 10_000
#: Units in one stage of a SqueezeNext depth (``--depth``), and in all stages together
#: (``--depth`` and the redistribution ``blocks`` budget). The paper's deepest network has
#: 41 units; 1,024 units are about 6,000 layers, which simulate in seconds.
MAX_UNITS_PER_STAGE = 1024
MAX_UNITS_TOTAL = 1024
#: Blocks a redistribution search spreads over the stages (``--budget blocks=N``, and the base
#: network's total when no budget is given): every candidate is a network of that many units,
#: and the local search evaluates thousands of candidates. 6x the paper's 41.
MAX_REDISTRIBUTE_BLOCKS = 256
#: Layer evaluations a redistribution search may plan: candidates it will compose (the whole
#: space when enumerated; for the local search, starts x largest total x neighbours per move, a
#: descent's moves being at most about the blocks it can shift) x layers per candidate (about
#: ``REDISTRIBUTE_LAYERS_PER_BLOCK`` per block). Measured on the shared 2-core machine
#: (estimate, time): 4 stages x 256 blocks 9.5e7, 12 s; x up to 256 blocks 1.7e8, 18 s; 8
#: stages x 80 blocks 5.7e7, 20 s; 8 stages x 256 blocks 5.8e8, over 2 minutes (refused).
MAX_REDISTRIBUTE_WORK = 200_000_000
#: A SqueezeNext unit is five convs and an add; stem, pools and classifier add about ten.
REDISTRIBUTE_LAYERS_PER_BLOCK = 6
#: Stages in a SqueezeNext depth (the paper's networks have 4; each stage halves the map).
MAX_STAGES = 8
#: SqueezeNext width multiplier: 16 gives 4,096-channel stage-4 layers (the paper goes to 2).
MAX_WIDTH = 16.0
#: First-conv kernel side: nothing above the 227-pixel input makes sense; 31 is generous.
MAX_STEM_KERNEL = 31
#: Convolution groups (``--groups``): must divide 32*width/4 anyway.
MAX_GROUPS = 1024
#: Square input side of a network (``input_size``, ``--image-size``): 8x the paper's 227.
MAX_INPUT_SIZE = 2048
#: Classifier outputs (``num_classes``, ``--num-classes``): 100x ImageNet's 1,000.
MAX_NUM_CLASSES = 100_000


def check_int_bound(option: str, value: int, low: int, high: int, error: type[AccelsimError]) -> int:
    """``value`` if ``low <= value <= high``; else raise ``error`` naming ``option`` and the bound."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise error(f"{option}: expected an integer from {low:,} to {high:,}; got {value!r}")
    return value


def read_input_file(path: str | Path, max_bytes: int, what: str, error: type[AccelsimError]) -> bytes:
    """The bytes of regular file ``path``, at most ``max_bytes`` of them.

    Raises ``error`` (one line naming the file) when the path is missing, is not a regular
    file (a directory, a FIFO, a device such as ``/dev/zero``), is larger than ``max_bytes``
    or cannot be read. The FIFO check happens before opening, since opening a FIFO blocks.
    """
    path = Path(path)
    limit = format_size(max_bytes)
    size = regular_file_size(path, what, error)
    if size > max_bytes:
        raise error(f"{path}: {size:,} bytes is larger than the {limit} limit for {what}")
    try:
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise _read_error(path, exc, error) from None
    if len(data) > max_bytes:  # it grew while we read it
        raise error(f"{path}: larger than the {limit} limit for {what}")
    return data


def regular_file_size(path: str | Path, what: str, error: type[AccelsimError]) -> int:
    """The size of ``path`` if it is a regular file, found without opening it (opening a FIFO
    blocks); else ``error``, one line naming the file: missing, a directory, not a regular file
    (a FIFO, a device such as ``/dev/zero``), or not accessible."""
    path = Path(path)
    try:
        info = os.stat(path)
    except OSError as exc:
        raise _read_error(path, exc, error) from None
    if stat.S_ISDIR(info.st_mode):
        raise error(f"{path}: is a directory; expected {what}")
    if not stat.S_ISREG(info.st_mode):
        raise error(f"{path}: not a regular file; expected {what}")
    return info.st_size


def _read_error(path: Path, exc: OSError, error: type[AccelsimError]) -> AccelsimError:
    if isinstance(exc, FileNotFoundError):
        return error(f"{path}: no such file")
    if isinstance(exc, PermissionError):
        return error(f"{path}: permission denied")
    return error(f"{path}: cannot read ({exc.strerror or exc})")


def format_size(n: int) -> str:
    """A byte count as the limits' messages state it: ``1 MB``, ``2 GB``, ``100 bytes``."""
    for unit, factor in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= factor:
            return f"{n / factor:g} {unit}"
    return f"{n} bytes"
