"""Read an offline W&B run back from its files (``wandb leet inspect``): summary and history."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any


def _leet(run_dir: str | Path, *flags: str) -> str:
    exe = str(Path(sys.executable).parent / "wandb")
    exe = exe if Path(exe).exists() else (shutil.which("wandb") or "wandb")
    proc = subprocess.run([exe, "leet", "inspect", *flags, "--json", str(run_dir)], capture_output=True, text=True,
                          timeout=120, check=True)
    return proc.stdout


def offline_runs(root: str | Path) -> list[Path]:
    """Every offline run folder (``offline-run-*``) under ``root``."""
    return sorted(p for p in Path(root).rglob("offline-run-*") if p.is_dir())


def run_summary(run_dir: str | Path) -> Any:
    """The run's state and latest metrics, as ``wandb leet inspect --summary --json`` prints them."""
    return json.loads(_leet(run_dir, "--summary"))


def run_records(run_dir: str | Path) -> list[dict[str, Any]]:
    """The run's records (run, history, summary, artifact...), one dict per line of ``wandb leet inspect --json``."""
    return [json.loads(line) for line in _leet(run_dir).splitlines() if line.strip()]


def run_history(run_dir: str | Path) -> list[dict[str, Any]]:
    """The logged history rows (``train/loss`` and friends) of an offline run."""
    return [r["history"]["item"] for r in run_records(run_dir) if r.get("type") == "history"]
