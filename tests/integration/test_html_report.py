"""report.html from a real tiny sweep, opened in headless Chromium: the rendered DOM holds the tables, the
inlined figure and the failed cells, the page's script runs, and a screenshot of it is not blank."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import ROOT
from tests.integration.test_end_to_end import TINY

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# The data.bad_rows=error cells fail while they run, on a fixture task's train row without options (an unknown
# cluster would now be refused before the sweep starts).
GRID = ["template=untuned,instruction", "data.bad_rows=skip,error", "heldout.clusters=[sentiment]",
        f"tasks.include=[{{path: {ROOT / 'tests' / 'fixtures' / 'sweep_bad_row'}}}]"]
CALLBACKS = ["+hydra.callbacks.report._target_=flanlab.analysis.report_callback.SweepReport"]
CURVES = ["scoring.curve_every=6", "scoring.curve_rows=4"]  # held-out curves at steps 0, 6 and 12 (issue 29)


def _chromium(*args: str, profile: Path) -> subprocess.CompletedProcess:
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
           "--hide-scrollbars", f"--user-data-dir={profile}", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory) -> Path:
    """Two arms x two bad-row policies, one of which fails on a fixture row (two cells fail); W&B offline; the
    trained cell keeps held-out curves; the sweep's report callback writes report.html."""
    tmp = tmp_path_factory.mktemp("html")
    root = tmp / "sweep"
    env = {**os.environ, "WANDB_MODE": "offline", "WANDB_DIR": str(tmp / "wandb"), "FLANLAB_CACHE": str(tmp / "cache"),
           "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "flanlab", "-m", *GRID, f"hydra.sweep.dir={root}", *CALLBACKS, *TINY, *CURVES]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return root


def test_sweep_writes_a_self_contained_report(sweep_dir):
    page = (sweep_dir / "report.html").read_text()
    assert not re.findall(r'(?:src|href)="(?:[a-z]+:)?//', page)
    assert list(sweep_dir.glob("*/wandb/offline-run-*/*.wandb"))
    assert re.search(r'href="instruction__[^"/]+/wandb/offline-run-[^"]+\.wandb"', page)
    assert (sweep_dir / "transfer_curves.md").is_file() and (sweep_dir / "figures" / "transfer_curves.png").is_file()


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (Debian: apt-get install chromium)")
def test_report_renders_in_headless_chromium(sweep_dir, tmp_path):
    url = (sweep_dir / "report.html").resolve().as_uri()
    dom = _chromium("--dump-dom", url, profile=tmp_path / "profile").stdout
    assert re.search(r"<tr><td>instruction</td><td>instruction</td><td>1</td><td>0\.\d{3}", dom)
    assert re.search(r"<tr><td>random init</td><td>instruction</td>", dom)  # a config-built untuned model
    assert re.search(r'<img src="data:image/png;base64,[A-Za-z0-9+/=]{1000,}"', dom)
    assert dom.count('class="failed">failed</span>') == 2 and "row 3 has no answer options" in dom
    assert 'class="filter"' in dom  # the page's script ran: it adds a filter box above each table
    assert "Sample prompts" in dom and "gold: <b>" in dom
    curves = dom[dom.index("<h2>Transfer during training</h2>"):].split("<h2>", 2)[1]  # the curves section
    assert re.search(r'<img src="data:image/png;base64,[A-Za-z0-9+/=]{1000,}" alt="held-out score, format', curves)
    assert re.search(r"<tr><td>sentiment</td><td>instruction</td><td>instruction</td><td>mean</td><td>1</td>", curves)
    assert "instruction − no_template" not in curves  # no no-template arm in this sweep: no lead table rows

    shot = tmp_path / "page.png"
    _chromium(f"--screenshot={shot}", "--window-size=1200,900", url, profile=tmp_path / "profile")
    import matplotlib.image

    pixels = matplotlib.image.imread(shot)[..., :3]
    assert pixels.shape[:2] == (900, 1200)
    colours = np.unique((pixels.reshape(-1, 3) * 255).round().astype(np.uint8), axis=0)
    assert len(colours) > 50  # text, table shading and the figure, not a blank page
    assert (pixels.min(axis=-1) < 0.5).mean() > 0.005  # some dark ink
