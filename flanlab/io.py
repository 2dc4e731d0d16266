"""Atomic writes: a file or folder appears complete or not at all."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` to a temporary file beside ``path``, then rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def check_writable_dir(path: str | Path) -> Path:
    """Create folder ``path`` if needed and write and remove a file there; a one-line ``ConfigError`` if that fails."""
    from flanlab.errors import ConfigError

    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path, prefix=".write-check.", suffix=".tmp")
        os.close(fd)
        os.unlink(tmp)
    except OSError as err:
        raise ConfigError(f"output directory {str(path)!r} is not writable: {err.strerror or err}") from None
    return path


def atomic_write_json(path: str | Path, data: Any) -> Path:
    return atomic_write_text(path, json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


def check_replaceable(path: str | Path, marker: str, what: str, earlier: str) -> None:
    """Refuse folder ``path`` when ``atomic_dir`` would replace something other than an earlier output: a file, or a
    non-empty folder without ``marker``; a one-line ``FlanlabError`` names it as ``what`` and ``earlier``."""
    from flanlab.errors import FlanlabError

    path = Path(path)
    if path.exists() and (not path.is_dir() or (any(path.iterdir()) and not (path / marker).exists())):
        raise FlanlabError(f"{what} {path} exists and is not an earlier {earlier}; choose a new or empty folder")


@contextmanager
def atomic_dir(path: str | Path, keep_existing: bool = False) -> Iterator[Path]:
    """Yield a temporary folder beside ``path``; on success it replaces ``path`` in one rename.
    ``keep_existing``: for a cache named by its content, where two processes may fill the same entry at once, a
    ``path`` that is already there (complete: it too arrived in one rename) is kept, and this copy dropped, so a
    process reading it is never disturbed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"))
    try:
        yield tmp
        if path.exists():
            if keep_existing:
                return
            shutil.rmtree(path)
        try:
            os.replace(tmp, path)
        except OSError:
            if not (keep_existing and path.exists()):  # another process's copy arrived in between
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
