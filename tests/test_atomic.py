"""Torn files (issue 13): every output is replaced whole or not at all.

Failures are injected into real writes: a writer that raises half-way, a full disk (a mocked
``write`` that fails with ENOSPC, and a real 64 KB tmpfs where this machine lets us mount one), and
SIGTERM to a child process in the middle of a write. Each time the old file (or the old set of
files of ``accelsim.atomic.atomic_directory``) must survive byte for byte.
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from accelsim import atomic

OLD = "network,cycles\n" + "".join(f"n{i},{i * 1000}\n" for i in range(1140))  # a 1140-row CSV
NEW = "network,cycles\n" + "".join(f"n{i},{i * 7}\n" for i in range(1140))


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_a_new_file_appears_whole_with_the_mode_a_plain_open_gives(tmp_path):
    path = atomic.write_text(tmp_path / "sub" / "out.csv", OLD)
    assert path.read_text() == OLD
    mask = os.umask(0)
    os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask
    assert _leftovers(path.parent) == []


def test_a_replaced_file_keeps_its_mode(tmp_path):
    path = tmp_path / "out.csv"
    path.write_text(OLD)
    path.chmod(0o640)
    atomic.write_text(path, NEW)
    assert path.read_text() == NEW and path.stat().st_mode & 0o777 == 0o640


def test_a_writer_that_raises_half_way_leaves_the_old_file(tmp_path):
    path = tmp_path / "out.csv"
    path.write_text(OLD)
    with pytest.raises(RuntimeError, match="boom"), atomic.atomic_open(path) as handle:
        handle.write(NEW[: len(NEW) // 2])
        raise RuntimeError("boom")
    assert path.read_text() == OLD
    assert _leftovers(tmp_path) == []  # the temporary is removed too


class _FillingDisk:
    """A file handle whose disk fills up after ``room`` characters: ``write`` then fails with ENOSPC."""

    def __init__(self, handle, room: int):
        self._handle, self._room = handle, room

    def write(self, data):
        if len(data) > self._room:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self._room -= len(data)
        return self._handle.write(data)

    def __getattr__(self, name):
        return getattr(self._handle, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return self._handle.__exit__(*exc)


def test_a_full_disk_on_write_leaves_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "out.csv"
    path.write_text(OLD)
    real_fdopen = os.fdopen
    monkeypatch.setattr(os, "fdopen", lambda *a, **k: _FillingDisk(real_fdopen(*a, **k), room=4096))
    with pytest.raises(OSError) as info, atomic.atomic_open(path) as handle:
        for line in NEW.splitlines(keepends=True):  # a CSV writer's row by row writes
            handle.write(line)
    monkeypatch.undo()
    assert info.value.errno == errno.ENOSPC
    assert path.read_text() == OLD
    assert _leftovers(tmp_path) == []


def test_a_real_full_disk_leaves_the_old_file(tmp_path):
    mount = tmp_path / "tiny"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root); the mocked full disk above covers the case")
    try:
        path = mount / "out.csv"
        path.write_text(OLD)  # ~14 KB of the 64 KB
        with pytest.raises(OSError) as info:
            atomic.write_text(path, NEW * 10)  # ~110 KB cannot fit beside the old file
        assert info.value.errno == errno.ENOSPC
        assert path.read_text() == OLD
        assert _leftovers(mount) == []
    finally:
        subprocess.run(["umount", str(mount)], check=False)


_SLOW_WRITER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from accelsim import atomic
    path = Path(sys.argv[1])
    with atomic.atomic_open(path) as handle:
        handle.write("network,cycles\\n")
        handle.flush()
        print("writing", flush=True)
        for i in range(10**6):
            handle.write(f"n{i},{i}\\n")
            time.sleep(0.001)
""")


def _kill_mid_write(script: str, *args: str) -> None:
    child = subprocess.Popen([sys.executable, "-c", script, *args], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "writing"
        time.sleep(0.2)  # well inside the write
        child.send_signal(signal.SIGTERM)
        assert child.wait(timeout=30) == -signal.SIGTERM
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def test_sigterm_mid_write_leaves_the_old_file_and_the_next_write_clears_the_temporary(tmp_path):
    path = tmp_path / "out.csv"
    path.write_text(OLD)
    _kill_mid_write(_SLOW_WRITER, str(path))
    assert path.read_text() == OLD
    stale = _leftovers(tmp_path)
    assert len(stale) == 1 and stale[0].startswith(".out.csv.") and stale[0].endswith(".tmp")
    atomic.write_text(path, NEW)  # the killed writer's pid is gone: its temporary is removed
    assert path.read_text() == NEW and _leftovers(tmp_path) == []


# ---- sets of files ------------------------------------------------------------------------------
def _old_set(folder: Path) -> dict[str, bytes]:
    folder.mkdir()
    files = {"table3.md": b"old table\n", "figure6.png": bytes(range(256)) * 40, "README.md": b"old readme\n"}
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return files


def _contents(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def test_a_set_is_swapped_in_whole_and_the_old_one_is_visible_until_then(tmp_path):
    target = tmp_path / "reports"
    old = _old_set(target)
    with atomic.atomic_directory(target) as stage:
        (stage / "table3.md").write_text("new table\n")
        assert _contents(target) == old  # a reader during the write sees only the old set
        (stage / "README.md").write_text("new readme\n")
    assert _contents(target) == {"table3.md": b"new table\n", "README.md": b"new readme\n"}
    assert _leftovers(tmp_path) == []


def test_a_set_whose_writer_raises_leaves_the_old_set(tmp_path):
    target = tmp_path / "reports"
    old = _old_set(target)
    with pytest.raises(ValueError), atomic.atomic_directory(target) as stage:
        (stage / "table3.md").write_text("new table\n")
        raise ValueError("figure 7 failed")
    assert _contents(target) == old and _leftovers(tmp_path) == []


def test_without_an_atomic_exchange_the_set_is_still_never_mixed(tmp_path, monkeypatch):
    monkeypatch.setattr(atomic, "_exchange", lambda a, b: False)  # e.g. not Linux: two renames
    target = tmp_path / "reports"
    _old_set(target)
    with atomic.atomic_directory(target) as stage:
        (stage / "README.md").write_text("new readme\n")
    assert _contents(target) == {"README.md": b"new readme\n"} and _leftovers(tmp_path) == []


_SLOW_SET_WRITER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from accelsim import atomic
    with atomic.atomic_directory(Path(sys.argv[1])) as stage:
        (stage / "table3.md").write_text("new table\\n")
        print("writing", flush=True)
        time.sleep(60)
        (stage / "README.md").write_text("new readme\\n")
""")


def test_sigterm_mid_set_leaves_the_old_set_and_the_next_run_clears_the_staging_folder(tmp_path):
    target = tmp_path / "reports"
    old = _old_set(target)
    _kill_mid_write(_SLOW_SET_WRITER, str(target))
    assert _contents(target) == old
    assert [n.split("-")[0] for n in _leftovers(tmp_path)] == [".reports.staging"]
    with atomic.atomic_directory(target) as stage:
        (stage / "README.md").write_text("new readme\n")
    assert _contents(target) == {"README.md": b"new readme\n"} and _leftovers(tmp_path) == []
