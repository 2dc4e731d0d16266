"""What state a cell folder is in: complete (``results.json``), failed (``failed.json``) or incomplete."""

from __future__ import annotations

import json
import time
import traceback
from pathlib import Path
from typing import Any

from flanlab.io import atomic_write_json

RESULTS_FILE = "results.json"
FAILED_FILE = "failed.json"


def read_json(path: Path) -> dict[str, Any] | None:
    """A JSON file's content, or None when it is absent or unreadable (e.g. cut off mid-copy)."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def is_complete(output_dir: str | Path, key: str | None = None) -> bool:
    """Whether the folder holds results, and (if ``key`` is given) results of this very config."""
    data = read_json(Path(output_dir) / RESULTS_FILE)
    if data is None:
        return False
    return key is None or data.get("cell", {}).get("key") in (None, key)


def mark_failed(output_dir: str | Path, err: BaseException, *, key: str, name: str) -> Path:
    """Write ``failed.json`` (error type, message, traceback tail) atomically."""
    tb = "".join(traceback.format_exception(type(err), err, err.__traceback__))
    return atomic_write_json(Path(output_dir) / FAILED_FILE, {
        "cell": name, "key": key, "error": type(err).__name__, "message": str(err),
        "traceback": tb[-4000:], "time": time.time(),
    })


def clear_failed(output_dir: str | Path) -> None:
    (Path(output_dir) / FAILED_FILE).unlink(missing_ok=True)
