"""Parsing of sizes, rates and array shapes written by people.

Conventions (one module owns them):

* Memory sizes are binary: ``1KB = 1024 B``, ``1MB = 1024**2 B`` (as buffer sizes are quoted
  in the SqueezeNext paper: 32 KB, 128 KB). ``KiB``/``MiB`` are accepted as synonyms.
* Bandwidths and frequencies are decimal, as vendors quote them: ``16GB/s = 16e9 B/s``,
  ``1GHz = 1e9 Hz``.
"""

from __future__ import annotations

import re

_SIZE_UNITS = {
    "": 1, "B": 1,
    "KB": 1024, "KIB": 1024, "K": 1024,
    "MB": 1024**2, "MIB": 1024**2, "M": 1024**2,
    "GB": 1024**3, "GIB": 1024**3, "G": 1024**3,
}
_RATE_UNITS = {"B/S": 1, "KB/S": 1e3, "MB/S": 1e6, "GB/S": 1e9, "TB/S": 1e12}
_FREQ_UNITS = {"HZ": 1, "KHZ": 1e3, "MHZ": 1e6, "GHZ": 1e9}
_NUMBER = r"([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)"


def _split(text: str, what: str, units: dict[str, float], example: str) -> tuple[float, str]:
    match = re.fullmatch(_NUMBER + r"\s*([A-Za-z/]*)", text.strip())
    if match is None or match.group(2).upper() not in units:
        known = ", ".join(sorted({u for u in units if u}))
        raise ValueError(f"{what}: expected a number with a unit ({known}), e.g. {example!r}; got {text!r}")
    return float(match.group(1)), match.group(2).upper()


def parse_bytes(value: str | int | float, what: str = "size") -> int:
    """Parse a memory size into bytes: ``"128KB"`` -> 131072, ``"32 KiB"`` -> 32768, ``4096`` -> 4096.

    Raises ValueError (message names *what*) for malformed, negative, or fractional byte counts.
    """
    if isinstance(value, bool):
        raise ValueError(f"{what}: expected a size such as '128KB'; got {value!r}")
    if isinstance(value, (int, float)):
        number, unit = float(value), "B"
    else:
        number, unit = _split(value, what, _SIZE_UNITS, "128KB")
    size = number * _SIZE_UNITS[unit]
    if size < 0:
        raise ValueError(f"{what}: must not be negative; got {value!r}")
    if size != int(size):
        raise ValueError(f"{what}: must be a whole number of bytes; got {value!r}")
    return int(size)


def parse_rate(value: str | int | float, what: str = "bandwidth") -> float:
    """Parse a bandwidth into bytes per second: ``"16GB/s"`` -> 16e9 (decimal units)."""
    if isinstance(value, bool):
        raise ValueError(f"{what}: expected a rate such as '16GB/s'; got {value!r}")
    if isinstance(value, (int, float)):
        return float(value)
    number, unit = _split(value, what, _RATE_UNITS, "16GB/s")
    return number * _RATE_UNITS[unit]


def parse_frequency(value: str | int | float, what: str = "clock") -> float:
    """Parse a frequency into Hz: ``"1GHz"`` -> 1e9 (decimal units)."""
    if isinstance(value, bool):
        raise ValueError(f"{what}: expected a frequency such as '1GHz'; got {value!r}")
    if isinstance(value, (int, float)):
        return float(value)
    number, unit = _split(value, what, _FREQ_UNITS, "1GHz")
    return number * _FREQ_UNITS[unit]


def parse_array(value: str, what: str = "pe") -> tuple[int, int]:
    """Parse a PE-array shape ``"16x16"`` -> (16, 16) (rows x cols, both >= 1)."""
    match = re.fullmatch(r"\s*(\d+)\s*[xX*]\s*(\d+)\s*", value)
    if match is None:
        raise ValueError(f"{what}: expected ROWSxCOLS such as '16x16'; got {value!r}")
    rows, cols = int(match.group(1)), int(match.group(2))
    if rows < 1 or cols < 1:
        raise ValueError(f"{what}: rows and cols must be >= 1; got {value!r}")
    return rows, cols


def format_bytes(size: int) -> str:
    """Format bytes the way they are parsed: 131072 -> '128KB', 1536 -> '1.5KB', 100 -> '100B'."""
    for unit, factor in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if size >= factor:
            return f"{size / factor:g}{unit}"
    return f"{size}B"
