"""A built wheel, installed outside the checkout, composes the ablation and runs a tiny cell from any folder."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow
COPY_SKIPS = (".git", ".venv", ".cache", "outputs", "multirun", "build", "*.egg-info", "__pycache__", "experiments",
              "notebooks", "wandb")
TINY_CELL = ["hydra.mode=RUN", "template=instruction", "heldout=control", "seed=0", "tasks.train_rows=48",
             "tasks.eval_rows=8",
             "train.steps=4", "train.log_every=2", "train.batch_size=8", "data.max_eval_per_task=4",
             "data.indist_eval_per_task=2", "scoring.best_dev_rows=0", "scoring.bootstrap_resamples=0",
             "logger=none", "threads=1"]


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """``pip wheel`` of the checkout, then ``pip install --no-deps --target``: the package alone, away from ROOT."""
    out = tmp_path_factory.mktemp("wheel")
    source = out / "source"  # a copy, so the build's own build/ folder never lands in the checkout
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*COPY_SKIPS))
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", str(out / "dist"), str(source)], capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr[-2000:]
    wheel = next((out / "dist").glob("flanlab-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "flanlab/conf/config.yaml" in names and "flanlab/conf/experiment/ablation.yaml" in names
    install = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target",
                              str(out / "site"), str(wheel)], capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stderr[-2000:]
    return out / "site"


def _env(site: Path, cache: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(site), "WANDB_MODE": "disabled", "FLANLAB_CACHE": str(cache)}


def test_the_installed_package_is_the_one_imported_and_finds_its_configs(installed, tmp_path):
    probe = "import flanlab, flanlab.paths as p; print(flanlab.__file__); print(p.config_dir())"
    proc = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=_env(installed, tmp_path / "cache"),
                          capture_output=True, text=True, timeout=120)
    module, conf = proc.stdout.split()
    assert Path(module).is_relative_to(installed) and Path(conf) == installed / "flanlab" / "conf"


def test_the_ablation_runs_a_tiny_cell_from_another_folder(installed, tmp_path):
    cmd = [sys.executable, "-m", "flanlab", "+experiment=ablation", *TINY_CELL, "hydra.run.dir=cell"]
    proc = subprocess.run(cmd, cwd=tmp_path, env=_env(installed, tmp_path / "cache"), capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads((tmp_path / "cell" / "results.json").read_text())
    assert results["cell"]["train_variant"] == "instruction" and results["config"]["tasks"]["_target_"].endswith(
        "ControlCatalogue")
    assert results["zeroshot"]["instruction"]["templates"]
