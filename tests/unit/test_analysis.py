"""flanlab.analysis on synthetic results: frames, CIs, paired tests, grid status, figures, cell keys."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from flanlab.analysis.collect import example_frame, load_cells, loss_frame, scores_frame
from flanlab.analysis.report import build_report, write_report
from flanlab.analysis.stats import summarize
from flanlab.io import atomic_write_json
from flanlab.sweeps.keys import cell_dir, cell_key
from flanlab.sweeps.progress import eta_seconds, sweep_counts
from tests.conftest import CONF_DIR

TASKS = {"sentiment": ["sent_a", "sent_b"], "nli": ["nli_a"]}


def fake_cell(root: Path, train: str, evals: list[str], heldout: str, seed: int, p: float, n: int = 40) -> Path:
    """A results.json whose examples are correct with probability ``p`` (two templates per task)."""
    rng = np.random.default_rng(hash((train, heldout, seed)) % 2**32)
    zeroshot = {}
    for variant in evals:
        templates = [{"task": t, "cluster": heldout, "template_id": f"t{j}",
                      "correct": (rng.random(n) < p).astype(int).tolist()} for t in TASKS[heldout] for j in range(2)]
        tasks = {t: {"cluster": heldout, "mean": float(np.mean([x["correct"] for x in templates if x["task"] == t]))}
                 for t in TASKS[heldout]}
        zeroshot[variant] = {"templates": templates, "tasks": tasks}
    folder = root / f"{train}__{heldout}__s{seed}"
    atomic_write_json(folder / "results.json", {
        "cell": {"train_variant": train, "heldout": [heldout], "seed": seed, "model": "m", "key": "k"},
        "split": {"heldout": [heldout], "train": ["a", "b"]}, "config": {"heldout": {"train_only": None}},
        "zeroshot": zeroshot, "train": {"losses": [[0, 3.0], [10, 2.0]]} if train != "untuned" else {},
        "seconds": 5.0,
    })
    return folder


@pytest.fixture
def grid(tmp_path):
    for seed in (0, 1):
        for heldout in TASKS:
            fake_cell(tmp_path, "untuned", ["instruction"], heldout, seed, 0.5)
            fake_cell(tmp_path, "no_template", ["instruction"], heldout, seed, 0.55)
            fake_cell(tmp_path, "instruction", ["instruction"], heldout, seed, 0.9)
    return tmp_path


def test_example_frame_averages_templates_per_example(grid):
    cells = load_cells(grid)
    ex = example_frame(cells)
    cell = next(c for c in cells if c["cell"]["train_variant"] == "instruction" and c["cell"]["heldout"] == ["nli"]
                and c["cell"]["seed"] == 0)
    expected = np.mean([t["correct"] for t in cell["zeroshot"]["instruction"]["templates"]], axis=0)
    got = ex[(ex.train_variant == "instruction") & (ex.heldout == "nli") & (ex.seed == 0)].sort_values("example")
    np.testing.assert_allclose(got["score"].to_numpy(), expected)
    # Pooled over the seeds, with equal rows per task, the pooled mean equals the mean of per-seed cluster scores.
    scores = scores_frame(cells)
    s = scores[(scores.train_variant == "instruction") & (scores.cluster == "sentiment")]["score"].mean()
    e = ex[(ex.train_variant == "instruction") & (ex.cluster == "sentiment")]["score"].mean()
    assert s == pytest.approx(e)


def test_summary_has_cis_paired_tests_and_baseline(grid):
    report = build_report(grid, n_resamples=300)
    table = report.ablation.set_index(["train_variant", "eval_variant", "cluster"])
    inst = table.loc[("instruction", "instruction", "all")]
    none = table.loc[("no_template", "instruction", "all")]
    assert inst["ci_low"] < inst["score"] < inst["ci_high"]
    assert inst["seeds"] == 2 and inst["n"] == 2 * (40 * 2 + 40)
    assert np.isnan(inst["p_value"])  # the reference is not tested against itself
    assert none["diff_vs_ref"] == pytest.approx(none["score"] - inst["score"])
    assert none["diff_ci_high"] < 0 and none["p_value"] < 0.01  # 0.55 vs 0.9 on 240 paired examples
    assert none["baseline"] == pytest.approx(table.loc[("untuned", "instruction", "all"), "score"])
    assert set(report.wide.columns) == {"nli", "sentiment", "mean"}


def test_summary_of_identical_models_is_not_significant(tmp_path):
    for variant in ("instruction", "no_template"):
        fake_cell(tmp_path, variant, ["instruction"], "nli", 0, 0.7)
    # Same seed and rng stream per (train, heldout, seed): make the two cells' examples identical.
    a = json.loads((tmp_path / "instruction__nli__s0" / "results.json").read_text())
    b = json.loads((tmp_path / "no_template__nli__s0" / "results.json").read_text())
    b["zeroshot"] = a["zeroshot"]
    atomic_write_json(tmp_path / "no_template__nli__s0" / "results.json", b)
    s = summarize(example_frame(load_cells(tmp_path)), ["train_variant", "eval_variant"],
                  {"train_variant": "instruction", "eval_variant": "instruction"}, n_resamples=200)
    row = s[(s.train_variant == "no_template") & (s.cluster == "all")].iloc[0]
    assert row["diff_vs_ref"] == 0.0 and row["p_value"] == 1.0


def test_write_report_saves_tables_figures_and_lists_failed_and_missing(grid):
    atomic_write_json(grid / "dataset_name__nli__s0" / "failed.json", {"error": "RuntimeError", "message": "boom"})
    (grid / "dataset_name__sentiment__s0" / ".hydra").mkdir(parents=True)
    report = write_report(grid, grid / "out", n_resamples=200)
    for name in ("report_table", "ablation_table", "grid_status"):
        for ext in ("csv", "md", "parquet"):
            assert (grid / "out" / f"{name}.{ext}").stat().st_size > 0
    for ext in ("png", "pdf"):
        assert (grid / "out" / "figures" / f"template_ablation.{ext}").stat().st_size > 5000
    states = dict(zip(report.status["cell"], report.status["state"], strict=True))
    assert states["dataset_name__nli__s0"] == "failed" and states["dataset_name__sentiment__s0"] == "incomplete"
    assert list(report.status["state"]).count("complete") == 12
    assert "boom" in (grid / "out" / "grid_status.md").read_text()


def test_loss_frame_reads_training_curves(grid):
    losses = loss_frame(load_cells(grid))
    assert set(losses["train_variant"]) == {"no_template", "instruction"}
    assert list(losses[losses.seed == 0].groupby("step")["loss"].mean()) == [3.0, 2.0]


def _compose(overrides):
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(config_name="config", overrides=overrides, return_hydra_config=True)


def test_cell_key_ignores_paths_and_logging_but_not_settings():
    base = _compose(["heldout=nli"])
    same = _compose(["heldout=nli", "paths.cache_dir=/elsewhere", "logger=none", "threads=1", "train.progress=false"])
    other = _compose(["heldout=nli", "train.steps=7"])
    assert cell_key(base) == cell_key(same)
    assert cell_key(base) != cell_key(other)
    assert cell_key(base) != cell_key(_compose(["heldout=nli", "seed=1"]))
    # The task function sees the config without the hydra node: the key must not change.
    job = OmegaConf.masked_copy(base, [k for k in base if k != "hydra"])
    assert cell_key(job) == cell_key(base)
    assert cell_dir(base).startswith("instruction__nli__s0__")
    # The subdir resolver gives the same folder name inside Hydra's config.
    import flanlab.sweeps  # noqa: F401 - registers the resolver

    assert OmegaConf.select(base, "hydra.sweep.subdir") == cell_dir(base)


def test_progress_counts_and_eta(grid):
    counts = sweep_counts(grid, since=0.0)
    assert counts["done"] == 12 and counts["failed"] == 0 and counts["skipped"] == 0
    assert sweep_counts(grid, since=1e12)["skipped"] == 12
    assert eta_seconds([10.0, 20.0], remaining=3) == 45.0
    assert eta_seconds([], remaining=3) is None
