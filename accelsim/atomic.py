"""Atomic output: a file or a folder of files is replaced whole, or not at all.

Every file accelsim writes (reports, CSVs, JSON, figures, exported graphs, the graph cache) goes
through :func:`atomic_open` (or :func:`write_text`/:func:`write_bytes`): the data is written to a
temporary file *in the target's folder*, flushed and ``fsync``-ed, then renamed over the target.
A rename within one file system is atomic on POSIX, so a reader sees the old file or the new one,
never a truncated mix, whether the writer raises, the disk fills up or the process is killed
mid-write (a killed process can only leave a hidden ``.NAME.PID.*.tmp`` file beside the target,
which :func:`remove_stale_temporaries` clears on the next write of that file).

A *set* of files that belong together (``accelsim report all``) is written with
:func:`atomic_directory`: into a hidden staging folder beside the target, which then takes the
target's place in one ``renameat2(RENAME_EXCHANGE)`` where the OS has it (Linux), else in two
renames (old aside, new in), so a reader sees the old set or the new set, never a mix.

This module sits at the bottom of the layering (it imports nothing of accelsim), so every layer
may use it.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import glob
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

#: Suffix of the temporary files written beside a target (``.NAME.<random>.tmp``).
TMP_SUFFIX = ".tmp"
_STAGING_MARK = ".staging-"
_OLD_MARK = ".old-"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def fsync_dir(folder: Path) -> None:
    """Flush a folder's entries (the rename itself) to disk; a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems refuse fsync on a folder; the data itself was synced
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike[str], mode: str = "w", *, encoding: str | None = "utf-8",
                newline: str | None = "\n", fsync: bool = True) -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path`` for writing; on a clean exit rename it over ``path``.

    If the block raises (including ``KeyboardInterrupt``), the temporary file is removed and
    ``path`` is left exactly as it was. Parent folders are created. A new file gets the mode a plain
    ``open`` would give it; a replaced file keeps its mode.

    Args:
        path: the target file.
        mode: ``"w"`` (text) or ``"wb"`` (binary).
        encoding, newline: for text mode (UTF-8, ``\\n`` line ends by default).
        fsync: flush the data and the rename to disk before returning (on by default).
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open: mode must be 'w' or 'wb', got {mode!r}")
    target = Path(path)
    with _naming(target):
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except FileExistsError as exc:  # an ancestor is a file: name the output and the culprit
            raise NotADirectoryError(errno.ENOTDIR, f"{exc.filename or target.parent} is a file, not a folder",
                                     str(target)) from None
        try:
            info = target.stat()
        except FileNotFoundError:
            info = None
        if info is not None and not stat.S_ISREG(info.st_mode):
            # renaming over a device, FIFO or folder would replace it (as root, /dev/full itself)
            kind = "a directory" if stat.S_ISDIR(info.st_mode) else "not a regular file"
            raise OSError(errno.EEXIST, f"{kind}; outputs are written to regular files", str(target))
        file_mode = info.st_mode & 0o7777 if info is not None else 0o666 & ~_umask()  # as a plain open() would
        remove_stale_temporaries(target.parent, target.name)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.{os.getpid()}.", suffix=TMP_SUFFIX,
                                        dir=target.parent)
    tmp = Path(tmp_name)
    try:
        text = {} if "b" in mode else {"encoding": encoding, "newline": newline}
        with os.fdopen(fd, mode, **text) as handle:
            yield handle
            with _naming(target):
                handle.flush()
                if fsync:
                    os.fsync(handle.fileno())
        with _naming(target):
            os.chmod(tmp, file_mode)
            os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if isinstance(exc, OSError) and (exc.filename is None or str(exc.filename) == str(tmp)):
            raise _named(exc, target) from None  # a full disk names the output, not the temporary file
        raise
    if fsync:
        fsync_dir(target.parent)


def _named(exc: OSError, target: Path) -> OSError:
    """``exc`` naming ``target`` (ENOSPC, EIO from a write carry no file name, or the temporary's)."""
    return type(exc)(exc.errno, exc.strerror or str(exc), str(target))


@contextlib.contextmanager
def _naming(target: Path) -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        if exc.filename is None or Path(str(exc.filename)).name.startswith(f".{target.name}."):
            raise _named(exc, target) from None
        raise


def write_text(path: str | os.PathLike[str], text: str, *, fsync: bool = True) -> Path:
    """Atomically replace ``path`` with ``text`` (UTF-8, ``\\n`` line ends); returns the path."""
    with atomic_open(path, "w", fsync=fsync) as handle:
        handle.write(text)
    return Path(path)


def write_bytes(path: str | os.PathLike[str], data: bytes, *, fsync: bool = True) -> Path:
    """Atomically replace ``path`` with ``data``; returns the path."""
    with atomic_open(path, "wb", fsync=fsync) as handle:
        handle.write(data)
    return Path(path)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


def remove_stale_temporaries(folder: Path, name: str) -> list[Path]:
    """Delete what an interrupted write of ``folder/name`` left behind: the temporary files of
    :func:`atomic_open` and the staging or set-aside folders of :func:`atomic_directory`, of
    processes that no longer run (each name carries its writer's pid); returns what was removed."""
    removed = []
    for pattern in (f".{glob.escape(name)}.*{TMP_SUFFIX}", f".{glob.escape(name)}{_STAGING_MARK}*",
                    f".{glob.escape(name)}{_OLD_MARK}*"):
        for entry in folder.glob(pattern):
            rest = entry.name[len(name) + 1:]
            pid_text = re.split(r"[.\-]", rest.removeprefix(".").removeprefix(_STAGING_MARK[1:])
                                .removeprefix(_OLD_MARK[1:]), maxsplit=1)[0]
            if not pid_text.isdigit() or _pid_alive(int(pid_text)):
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    entry.unlink()
            removed.append(entry)
    return removed


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one atomic step (Linux ``renameat2(RENAME_EXCHANGE)``); False where the
    OS or file system does not offer it."""
    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return False
    try:
        libc = ctypes.CDLL(libc_name, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    renameat2.restype = ctypes.c_int
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    errno = ctypes.get_errno()
    if errno in (22, 38, 95):  # EINVAL, ENOSYS, EOPNOTSUPP: not supported here
        return False
    raise OSError(errno, os.strerror(errno), str(b))


@contextlib.contextmanager
def atomic_directory(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield an empty staging folder beside ``path``; on a clean exit it replaces ``path`` whole.

    Write the complete set of files into the yielded folder (with any writer: the staging folder
    is private until the swap). If the block raises, the staging folder is deleted and ``path`` is
    untouched. The old folder's contents are deleted after the swap: the caller decides beforehand
    whether ``path`` may be replaced (``accelsim report all`` refuses a folder holding files it did
    not write).
    """
    target = Path(path).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(target.parent, target.name)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}{_STAGING_MARK}{os.getpid()}-", dir=target.parent))
    try:
        yield staging
        for entry in staging.rglob("*"):
            if entry.is_file():
                with open(entry, "rb") as handle:
                    os.fsync(handle.fileno())
        fsync_dir(staging)
        # mkdtemp makes the folder private (0700); give it the old folder's mode, or a plain mkdir's
        os.chmod(staging, (target.stat().st_mode & 0o7777) if target.is_dir() else 0o777 & ~_umask())
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if target.exists() and not target.is_dir():
        shutil.rmtree(staging, ignore_errors=True)
        raise NotADirectoryError(20, "Not a directory", str(target))
    if target.exists() and _exchange(staging, target):
        shutil.rmtree(staging, ignore_errors=True)  # now holds the old set
    elif target.exists():
        aside = target.parent / f".{target.name}{_OLD_MARK}{os.getpid()}-{staging.name.rsplit('-', 1)[-1]}"
        os.rename(target, aside)
        try:
            os.rename(staging, target)
        except BaseException:
            os.rename(aside, target)
            raise
        shutil.rmtree(aside, ignore_errors=True)
    else:
        os.rename(staging, target)
    fsync_dir(target.parent)
