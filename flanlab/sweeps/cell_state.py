"""What state a cell folder is in: complete (``results.json``), failed (``failed.json``) or incomplete,
and whether complete results are stale (made with other templates, or another commit)."""

from __future__ import annotations

import json
import time
import traceback
from pathlib import Path
from typing import Any

from flanlab.io import atomic_write_json
from flanlab.results import RESULTS_FILE, read_cell_results

__all__ = ["FAILED_FILE", "RESULTS_FILE", "STALE_POLICIES", "clear_failed", "is_complete", "mark_failed",
           "read_json", "stale_reason"]
FAILED_FILE = "failed.json"
STALE_POLICIES = ("rerun", "keep", "error")


def read_json(path: Path) -> dict[str, Any] | None:
    """A JSON file's content, or None when it is absent or unreadable (e.g. cut off mid-copy)."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def is_complete(output_dir: str | Path, key: str | None = None) -> bool:
    """Whether the folder holds results, and (if ``key`` is given) results of this very config."""
    data = read_cell_results(output_dir)
    if data is None:
        return False
    return key is None or data.get("cell", {}).get("key") in (None, key)


def stale_reason(output_dir: str | Path, current_hash: str, current_commit: str | None = None) -> str | None:
    """Why the folder's results are stale, or None when they are current (or there are none).

    Stale: the stored ``provenance.template_hash`` differs from ``current_hash``, or, when
    ``current_commit`` is given, the stored commit differs from it. Results written before
    provenance was recorded carry no hash and cannot be told stale; they count as current.
    """
    data = read_cell_results(output_dir)
    return None if data is None else results_stale_reason(data, current_hash, current_commit)


def results_stale_reason(data: dict[str, Any], current_hash: str, current_commit: str | None = None) -> str | None:
    """``stale_reason`` for results already read (a ``results.json``'s content)."""
    stored = data.get("provenance") or {}
    old_hash = stored.get("template_hash")
    if old_hash is not None and old_hash != current_hash:
        return f"task templates changed (template_hash {old_hash} -> {current_hash})"
    old_commit = stored.get("commit")
    if current_commit is not None and old_commit is not None and old_commit != current_commit:
        return f"code changed (commit {old_commit[:10]} -> {current_commit[:10]})"
    return None


def is_stale(output_dir: str | Path, current_hash: str, *, current_commit: str | None = None) -> bool:
    """Whether the folder holds results made with other templates (or, if given, another commit)."""
    return stale_reason(output_dir, current_hash, current_commit) is not None


def mark_failed(output_dir: str | Path, err: BaseException, *, key: str, name: str) -> Path:
    """Write ``failed.json`` (error type, message, the one ``flanlab: error:`` line of a user-facing error, traceback
    tail) atomically."""
    from flanlab.errors import FlanlabError

    tb = "".join(traceback.format_exception(type(err), err, err.__traceback__))
    line = f"flanlab: error: {err}" if isinstance(err, FlanlabError) else None  # what the entry point prints
    return atomic_write_json(Path(output_dir) / FAILED_FILE, {
        "cell": name, "key": key, "error": type(err).__name__, "message": str(err), "line": line,
        "traceback": tb[-4000:], "time": time.time(),
    })


def clear_failed(output_dir: str | Path) -> None:
    (Path(output_dir) / FAILED_FILE).unlink(missing_ok=True)
