"""An interrupted write never leaves a file that the report would count as complete.

Results, report tables and checkpoints are written to a temporary name beside the target and renamed.
These tests interrupt each write (an exception mid-write, and a real SIGKILL of a process mid-write) and
check what the report, the sweep's skip logic and the checkpoint finder then see.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
import torch

from flanlab.analysis.collect import load_cells
from flanlab.analysis.grid_status import cell_state
from flanlab.io import atomic_dir, atomic_write_json
from flanlab.sweeps.cell_state import is_complete
from flanlab.training import checkpoint as ckpt
from tests.conftest import ROOT

RESULTS = {"cell": {"key": "k1", "train_variant": "instruction", "heldout": ["nli"], "seed": 0, "model": "m"},
           "zeroshot": {}, "metrics": {"zeroshot/instruction/mean": 0.5}}


def _interrupt(monkeypatch, after_bytes: int) -> None:
    """Make the next atomic write stop with an error after ``after_bytes`` bytes reach the disk."""
    import flanlab.io as io

    real_fdopen = os.fdopen

    def fdopen(fd, *args, **kwargs):
        handle = real_fdopen(fd, *args, **kwargs)
        real_write = handle.write

        def write(text):
            real_write(text[:after_bytes])
            handle.flush()
            raise OSError("disk full (simulated)")

        handle.write = write
        return handle

    monkeypatch.setattr(io.os, "fdopen", fdopen)


def test_interrupted_results_write_leaves_no_results_and_no_temporary(tmp_path, monkeypatch):
    cell = tmp_path / "cell"
    _interrupt(monkeypatch, after_bytes=40)
    with pytest.raises(OSError, match="simulated"):
        atomic_write_json(cell / "results.json", RESULTS)
    assert sorted(p.name for p in cell.iterdir()) == []
    assert not is_complete(cell) and load_cells(tmp_path) == []
    assert cell_state(cell)[0] == "incomplete"


def test_interrupted_rewrite_keeps_the_previous_complete_results(tmp_path, monkeypatch):
    cell = tmp_path / "cell"
    atomic_write_json(cell / "results.json", RESULTS)
    _interrupt(monkeypatch, after_bytes=10)
    with pytest.raises(OSError):
        atomic_write_json(cell / "results.json", {**RESULTS, "metrics": {"zeroshot/instruction/mean": 0.9}})
    assert json.loads((cell / "results.json").read_text()) == RESULTS
    assert [p.name for p in cell.iterdir()] == ["results.json"]


def test_sigkill_mid_write_leaves_only_a_hidden_temporary_that_nothing_counts(tmp_path):
    """A killed process cannot clean up: its half-written temporary must not look like results."""
    cell = tmp_path / "sweep" / "cell"
    script = textwrap.dedent("""
        import os, signal, sys
        import flanlab.io as io
        os.fsync = lambda fd: os.kill(os.getpid(), signal.SIGKILL)   # die after writing, before the rename
        io.atomic_write_json(sys.argv[1], {"cell": {"key": "k1"}, "metrics": {}, "padding": "x" * 100000})
    """)
    proc = subprocess.run([sys.executable, "-c", script, str(cell / "results.json")], cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=60)
    assert proc.returncode == -9, proc.stderr
    leftovers = list(cell.iterdir())
    assert len(leftovers) == 1 and leftovers[0].name.startswith(".results.json.") and leftovers[0].suffix == ".tmp"
    assert not (cell / "results.json").exists()
    assert not is_complete(cell) and load_cells(tmp_path) == []
    assert cell_state(cell)[0] == "incomplete"


def test_interrupted_folder_write_leaves_the_target_absent_or_unchanged(tmp_path):
    target = tmp_path / "out"
    with pytest.raises(RuntimeError), atomic_dir(target) as tmp:
        (tmp / "half.txt").write_text("half")
        raise RuntimeError("killed")
    assert list(tmp_path.iterdir()) == []
    with atomic_dir(target) as tmp:
        (tmp / "done.txt").write_text("done")
    with pytest.raises(RuntimeError), atomic_dir(target) as tmp:
        (tmp / "done.txt").write_text("other")
        raise RuntimeError("killed")
    assert [p.name for p in tmp_path.iterdir()] == ["out"] and (target / "done.txt").read_text() == "done"


def test_a_cache_entry_another_process_completed_meanwhile_is_kept(tmp_path):
    """Two processes fill the same content-named cache entry at once: the first complete copy stays in place."""
    target = tmp_path / "tokenizers" / "abc"
    with atomic_dir(target, keep_existing=True) as late:
        (late / "tokenizer.json").write_text("late")
        with atomic_dir(target, keep_existing=True) as early:
            (early / "tokenizer.json").write_text("early")
    assert (target / "tokenizer.json").read_text() == "early"
    assert [p.name for p in target.parent.iterdir()] == ["abc"]  # no temporary folder left
    with atomic_dir(target) as tmp:  # without keep_existing (checkpoints, adapters) the new copy replaces it
        (tmp / "tokenizer.json").write_text("new")
    assert (target / "tokenizer.json").read_text() == "new"


def test_checkpoint_interrupted_while_saving_is_never_resumed_from(tmp_path, monkeypatch):
    root = tmp_path / "checkpoints"
    ckpt.save(root, 4, {"step": 4})

    def torch_save(obj, handle):
        handle.write(b"half a checkpoint")
        raise OSError("killed while saving (simulated)")

    monkeypatch.setattr(ckpt.torch, "save", torch_save)
    with pytest.raises(OSError):
        ckpt.save(root, 8, {"step": 8})
    monkeypatch.undo()
    (root / f".{ckpt.PREFIX}00000012.abc.tmp").mkdir()  # what a SIGKILL mid-save leaves behind
    (root / f".{ckpt.PREFIX}00000012.abc.tmp" / ckpt.STATE_FILE).write_bytes(b"partial")
    assert ckpt.checkpoints(root)[-1] == root / f"{ckpt.PREFIX}00000004"
    assert torch.load(ckpt.checkpoints(root)[-1] / ckpt.STATE_FILE)["step"] == 4
