"""The six figure notebooks, executed with papermill on fresh results from a tiny run; figures must exist. Without
results (a fresh clone), each stops with one line naming the command that makes its input, under papermill and
under ``pytest --nbmake``."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow
NOTEBOOKS = ROOT / "notebooks"
FIGURES = {"01_template_ablation": "template_ablation", "02_num_clusters": "num_clusters",
           "03_prompt_explorer": None, "04_training_curves": "training_curves",
           "05_prompt_semantics": "semantics_matrix", "06_cot": "cot_2x2"}
# Each notebook's default input and the command that makes it (from the repository root).
DEFAULTS = {"01_template_ablation": ("../outputs/ablation/sweep", "python -m flanlab +experiment=ablation"),
            "02_num_clusters": ("../outputs/num_clusters/sweep", "python -m flanlab +experiment=num_clusters"),
            "04_training_curves": ("../outputs/ablation/sweep", "python -m flanlab +experiment=ablation"),
            "05_prompt_semantics": ("../outputs/prompt_semantics/sweep",
                                    "python -m flanlab +experiment=prompt_semantics"),
            "06_cot": ("../outputs/cot_ablation/sweep", "python -m flanlab +experiment=cot_ablation")}


@pytest.fixture(scope="session")
def tiny_results(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("tiny_results")
    env = {**os.environ, "FLANLAB_CACHE": str(out / "cache"), "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(["bash", str(NOTEBOOKS / "make_tiny_results.sh"), str(out / "results")], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out / "results"


@pytest.mark.parametrize("name", list(FIGURES))
def test_notebook_runs_and_saves_its_figure(name, tiny_results, tmp_path):
    import papermill

    params = {"figures_dir": str(tmp_path / "figures"), "results_dir": str(tiny_results)}
    if name == "05_prompt_semantics":
        params["results_dir"] = f"{tiny_results}_prompt_semantics"
    if name == "06_cot":
        params["results_dir"] = f"{tiny_results}_cot"
    if name == "03_prompt_explorer":
        params = {"task": "sentiment_review", "variant": "instruction"}
    if name == "04_training_curves":
        params["source"] = "wandb"  # the tiny ablation wrote offline W&B runs; read the losses back from them
    if name == "01_template_ablation":
        params["mixing_dir"] = f"{tiny_results}_mixing"  # the tiny template-mixing sweep: its figure too
    started = time.perf_counter()
    papermill.execute_notebook(str(NOTEBOOKS / f"{name}.ipynb"), str(tmp_path / f"{name}.out.ipynb"),
                               parameters=params, kernel_name="python3", cwd=str(NOTEBOOKS), progress_bar=False)
    print(f"{name}: {time.perf_counter() - started:.1f}s")
    stem = FIGURES[name]
    if stem is None:
        out = (tmp_path / f"{name}.out.ipynb").read_text()
        assert "--- instruction /" in out and "sentiment" in out
        return
    stems = [stem, "template_mixing"] if name == "01_template_ablation" else [stem]
    for one in stems:
        for ext in ("png", "pdf"):
            path = tmp_path / "figures" / f"{one}.{ext}"
            assert path.exists() and path.stat().st_size > 5000, path


def test_tiny_cot_cell_trains_instruction_response_sources_and_counts_markers(tiny_results):
    import json

    (path,) = Path(f"{tiny_results}_cot").glob("*/results.json")
    results = json.loads(path.read_text())
    rows = results["train"]["rows_per_task"]
    assert all(rows[s] > 0 for s in ("alpaca", "dolly", "oasst1", "sharegpt")) and results["train"]["steps"] == 12
    assert results["cell"]["arm"] == "instruction+cot0.15" and set(results["zeroshot"]) == {"instruction", "cot"}
    assert "zeroshot/cot/missing_marker" in results["metrics"]
    assert all("missing_marker" in t["other_metrics"] for t in results["zeroshot"]["cot"]["templates"])
    assert (Path(f"{tiny_results}_cot") / "cot.md").read_text().count("scored CoT") >= 1


def test_notebooks_are_paired_and_stripped():
    import jupytext
    import nbformat

    for name in FIGURES:
        assert (NOTEBOOKS / f"{name}.py").read_text().startswith("# ---\n# jupyter:")
        nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
        assert all(not c.get("outputs") and not c.get("execution_count") for c in nb.cells if c.cell_type == "code")
        # in sync: the same cells, in the same order, with the same source and tags
        py = jupytext.read(NOTEBOOKS / f"{name}.py")
        cells = [[(c.cell_type, c.source, c.metadata.get("tags")) for c in n.cells] for n in (nb, py)]
        assert cells[0] == cells[1], f"{name}.ipynb and {name}.py differ: jupytext --sync notebooks/{name}.ipynb"


def _parameters(name: str) -> dict:
    """A notebook's papermill parameters cell, run: its default values."""
    import nbformat

    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    (cell,) = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    values: dict = {}
    exec(cell.source, values)
    return values


@pytest.mark.parametrize("name", list(DEFAULTS))
def test_default_input_is_the_sweep_its_command_writes(name):
    """The default results_dir is outputs/<experiment_name>/sweep of the experiment the notebook names, and papermill
    reads every parameter (a second ``=`` on a line, even in a comment, hides it from ``papermill --help-notebook``)."""
    import papermill
    from omegaconf import OmegaConf

    folder, command = DEFAULTS[name]
    defaults = _parameters(name)
    assert defaults["results_dir"] == folder
    inspected = papermill.inspect_notebook(str(NOTEBOOKS / f"{name}.ipynb"))
    assert set(inspected) == {k for k in defaults if not k.startswith("__")}, inspected
    assert f'MAKES_IT = "{command}"' in (NOTEBOOKS / f"{name}.py").read_text()
    experiment = OmegaConf.load(ROOT / "conf" / "experiment" / f"{command.split('+experiment=')[1]}.yaml")
    sweep_dir = experiment.hydra.sweep.dir.replace("${experiment_name}", experiment.experiment_name)
    assert f"../{sweep_dir}" == folder


def _error_of(out: Path) -> tuple[int, dict]:
    """The executed notebook's one error output and its cell's index; no cell after it ran."""
    import nbformat

    nb = nbformat.read(out, as_version=4)
    errors = [(i, o) for i, c in enumerate(nb.cells) if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert len(errors) == 1, errors
    index, error = errors[0]
    assert all(not c.get("execution_count") for c in nb.cells[index + 1:] if c.cell_type == "code")
    return index, error


def _stops_with(name: str, results_dir: str, tmp_path: Path) -> str:
    """Run notebook ``name`` on ``results_dir`` with papermill; it must stop with one line, which is returned."""
    import papermill

    out = tmp_path / f"{name}.out.ipynb"
    params = {"results_dir": results_dir, "figures_dir": str(tmp_path / "figures")}
    with pytest.raises(papermill.PapermillExecutionError) as info:
        papermill.execute_notebook(str(NOTEBOOKS / f"{name}.ipynb"), str(out), parameters=params,
                                   kernel_name="python3", cwd=str(NOTEBOOKS), progress_bar=False)
    err = info.value
    assert err.ename == "NoResults" and err.traceback == [err.evalue], (err.ename, err.traceback)
    _, output = _error_of(out)
    assert output.traceback == [err.evalue] and "Traceback" not in str(err)
    assert not (tmp_path / "figures").exists()
    return err.evalue


@pytest.mark.parametrize("name", list(DEFAULTS))
def test_without_results_a_notebook_names_the_command_in_one_line(name, tmp_path):
    _, command = DEFAULTS[name]
    missing = tmp_path / "nothing_here"
    assert _stops_with(name, str(missing), tmp_path) == f"no results under {missing}: run `{command}` first"
    if name == "01_template_ablation":  # a folder that exists but holds no cell's results.json: the same line
        empty = tmp_path / "sweep"
        (empty / ".submitit").mkdir(parents=True)
        (empty / "multirun.yaml").write_text("hydra: {}\n")
        assert _stops_with(name, str(empty), tmp_path) == f"no results under {empty}: run `{command}` first"


@pytest.mark.parametrize("name,what", [("02_num_clusters", "num-clusters results"),
                                       ("05_prompt_semantics", "prompt-semantics results"),
                                       ("06_cot", "chain-of-thought results")])
def test_results_of_another_study_name_the_command_in_one_line(name, what, tiny_results, tmp_path):
    """The tiny ablation sweep has cells, but none of these notebooks' studies."""
    _, command = DEFAULTS[name]
    ablation = tiny_results / "ablation"
    line = _stops_with(name, str(ablation), tmp_path)
    assert line.startswith(f"no {what}") and line.endswith(f"under {ablation}: run `{command}` first"), line


def test_nbmake_on_a_fresh_clone_gives_one_line_per_notebook(tmp_path):
    """``pytest --nbmake notebooks/`` where no study has run: 03 (no results needed) passes; each other notebook
    fails with its one line as the summary, and no KeyError or traceback anywhere."""
    clone = tmp_path / "clone"
    shutil.copytree(NOTEBOOKS, clone / "notebooks", ignore=shutil.ignore_patterns("*.py", "*.sh", "figures"))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg", "COLUMNS": "400"}  # summary lines whole
    proc = subprocess.run([sys.executable, "-m", "pytest", "--nbmake", "-p", "no:cacheprovider", "-q", "-rf",
                           "--rootdir", str(clone), "notebooks"], cwd=clone, env=env, capture_output=True, text=True,
                          timeout=600)
    out = proc.stdout + proc.stderr
    assert "5 failed, 1 passed" in out, out[-3000:]
    for name, (folder, command) in DEFAULTS.items():
        line = f"no results under {folder}: run `{command}` first"
        assert f"FAILED notebooks/{name}.ipynb::{name}.ipynb - {line}" in out, out[-3000:]
    assert "KeyError" not in out and "Traceback" not in out, out[-3000:]
