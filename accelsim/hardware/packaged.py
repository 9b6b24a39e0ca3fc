"""The paper configurations' YAML files as shipped inside the package.

``hwconfigs/*.yaml`` at the repository root are the source; ``accelsim/hwconfigs/`` holds links
to them, so a wheel (package data) carries the same bytes and ``accelsim hw validate`` /
``--hw FILE`` work after a plain ``pip install`` too. ``accelsim hw show --list`` prints where
they are. A test keeps both folders and the built-in specs equal.
"""

from __future__ import annotations

from pathlib import Path

from accelsim.hardware.spec import PAPER_CONFIGS

#: The installed package's copy of ``hwconfigs/``.
PACKAGED_DIR = Path(__file__).resolve().parent.parent / "hwconfigs"


def packaged_configs() -> dict[str, Path]:
    """Built-in key (``"8x8"``, ``"16x16"``) -> the packaged YAML file of that paper configuration."""
    return {key: PACKAGED_DIR / f"{spec.name}.yaml" for key, spec in PAPER_CONFIGS.items()}
