"""Cells of one sweep train on the same entries: under ``data.unavailable=skip`` an entry one cell could not load is
left out of its siblings too, and an entry that siblings already trained on cannot silently go missing.

The sweep folder (the one Hydra writes ``multirun.yaml`` into) holds ``unavailable_entries.json``: the entries
some cell of the sweep loaded, and those some cell left out, with why. It is read and updated under a file lock,
so parallel cells see each other.
"""

from __future__ import annotations

import fcntl
import json
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from flanlab.errors import DataError
from flanlab.io import atomic_write_json

log = logging.getLogger(__name__)
RECORD = "unavailable_entries.json"


def sweep_dir_of(output_dir: str | Path) -> Path | None:
    """The sweep folder holding the cell folder ``output_dir`` (None for a single run)."""
    parent = Path(output_dir).resolve().parent
    return parent if (parent / "multirun.yaml").is_file() else None


@contextmanager
def _locked(sweep_dir: Path) -> Iterator[dict]:
    """The sweep's record (empty when new), written back when the block ends, under an exclusive lock."""
    with (sweep_dir / f".{RECORD}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        path = sweep_dir / RECORD
        record = json.loads(path.read_text()) if path.is_file() else {"loaded": [], "skipped": {}}
        yield record
        atomic_write_json(path, record)


def match_siblings(sweep_dir: Path, needed: Iterable[str], skipped: dict[str, str]) -> dict[str, str]:
    """The entries this cell leaves out, matched to its sweep: its own unloadable ones, plus any a sibling left
    out. An entry this cell cannot load but a sibling trained on is a one-line error."""
    needed = list(needed)
    with _locked(sweep_dir) as record:
        lost = sorted(n for n in skipped if n in record["loaded"])
        if lost:
            raise DataError(f"entries {lost} could not be loaded for this cell, but sibling cells of this sweep loaded "
                            f"them ({sweep_dir / RECORD}); rerun when they load, or start a new sweep folder")
        matched = dict(skipped)
        for name in needed:
            if name in record["skipped"] and name not in matched:
                matched[name] = f"left out to match sibling cells: {record['skipped'][name]}"
                log.warning("entry %s loads here but sibling cells of this sweep left it out; left out too", name)
        record["skipped"].update(skipped)
        record["loaded"] = sorted(set(record["loaded"]) | {n for n in needed if n not in matched})
    return matched
