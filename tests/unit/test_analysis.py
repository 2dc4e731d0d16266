"""flanlab.analysis on synthetic results: frames, CIs, paired tests, grid status, figures, cell keys."""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from flanlab.analysis.collect import arm_of, load_cells, loss_frame, variant_clusters
from flanlab.analysis.figures import plot_template_ablation
from flanlab.analysis.sweep_report import build_report, markdown_table, write_report
from flanlab.io import atomic_write_json
from flanlab.report_command import print_report
from flanlab.sweeps.keys import cell_dir, cell_key
from flanlab.sweeps.progress import eta_seconds, sweep_counts
from tests.conftest import CONF_DIR

TASKS = {"sentiment": ["sent_a", "sent_b"], "nli": ["nli_a"]}


def fake_cell(root: Path, train: str, evals: list[str], heldout: str, seed: int, p: float, n: int = 40, *,
              arm: str | None = None, typed: bool = False, source: str | None = None) -> Path:
    """A results.json whose examples are correct with probability ``p`` (two templates per task); ``typed`` adds
    the answer-type fields (right type with probability 0.8, every correct answer has the right type)."""
    name = arm or train
    rng = np.random.default_rng(zlib.crc32(f"{name}/{heldout}/{seed}".encode()))
    zeroshot = {}
    for variant in evals:
        templates = []
        for t in TASKS[heldout]:
            for j in range(2):
                correct = (rng.random(n) < p).astype(int)
                entry = {"task": t, "cluster": heldout, "template_id": f"t{j}", "chance": 0.5, "n": n,
                         "value": float(correct.mean()), "correct": correct.tolist(), "other_metrics": {}}
                if typed:
                    type_ok = np.maximum(correct, rng.random(n) < 0.8).astype(int)
                    entry["type_correct"] = [int(v) if i else None for i, v in enumerate(type_ok)]  # row 0: no verdict
                    entry["other_metrics"] = {"majority": 0.6, "chance_given_type": 0.5,
                                              "type_acc": float(type_ok.mean())}
                    picks = {"yes": 0.7, "no": 0.2, "maybe": 0.1}  # a field of the entry, or (older) in other_metrics
                    older = {"other_metrics": entry["other_metrics"] | {"pick_rate": picks}}
                    entry |= {"pick_rate": picks} if j == 0 else older
                templates.append(entry)
        tasks = {t: {"cluster": heldout, "mean": float(np.mean([x["correct"] for x in templates if x["task"] == t]))}
                 for t in TASKS[heldout]}
        zeroshot[variant] = {"templates": templates, "tasks": tasks}
    folder = root / f"{name}__{heldout}__s{seed}"
    cell = {"train_variant": train, "heldout": [heldout], "seed": seed, "model": "m", "key": "k"}
    atomic_write_json(folder / "results.json", {
        "cell": cell | ({"arm": arm} if arm else {}), "model": {"name": "m"} | ({"source": source} if source else {}),
        "split": {"heldout": [heldout], "train": ["a", "b"]}, "config": {"heldout": {"train_only": None}},
        "zeroshot": zeroshot, "train": {"losses": [[0, 3.0], [10, 2.0]]} if train != "untuned" else {},
        "seconds": 5.0, "data": {"ambiguity": 0.25},
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


@pytest.fixture
def grid3(tmp_path):
    """Three seeds, answer types, a shuffled-instruction and an oracle arm, and a config-built untuned model."""
    for seed in (0, 1, 2):
        for heldout in TASKS:
            fake_cell(tmp_path, "untuned", ["instruction"], heldout, seed, 0.5, typed=True, source="config")
            fake_cell(tmp_path, "no_template", ["instruction"], heldout, seed, 0.55, typed=True, source="config")
            fake_cell(tmp_path, "instruction", ["instruction"], heldout, seed, 0.9, typed=True, source="config")
            fake_cell(tmp_path, "instruction", ["instruction"], heldout, seed, 0.6, typed=True, source="config",
                      arm="shuffled_instruction")
            fake_cell(tmp_path, "instruction", ["instruction"], heldout, seed, 0.95, typed=True, source="config",
                      arm="oracle")
    return tmp_path


def test_summary_is_one_estimand_with_cis_and_baseline(grid):
    report = build_report(grid, n_resamples=300)
    table = report.ablation.set_index(["arm", "eval_variant", "cluster"])
    inst = table.loc[("instruction", "instruction", "mean")]
    none = table.loc[("no_template", "instruction", "mean")]
    assert "all" not in report.ablation["cluster"].tolist()
    # mean row = mean over clusters of (mean over seeds of each cell's stored cluster score)
    stored = [(c, s) for cell in load_cells(grid) if cell["cell"]["train_variant"] == "instruction"
              and arm_of(cell) == "instruction" for c, s in variant_clusters(cell["zeroshot"]["instruction"]).items()]
    per_cluster = pd.DataFrame(stored, columns=["cluster", "score"]).groupby("cluster")["score"].mean()
    assert inst["score"] == pytest.approx(per_cluster.mean())
    assert table.loc[("instruction", "instruction", "nli"), "score"] == pytest.approx(per_cluster["nli"])
    assert inst["ci_low"] < inst["score"] < inst["ci_high"]
    assert inst["seeds"] == 2 and inst["n"] == 40 * 2 + 40 and inst["ci_kind"] == "examples"
    assert np.isnan(inst["diff_vs_ref"])  # the reference is not tested against itself
    assert none["diff_vs_ref"] == pytest.approx(none["score"] - inst["score"])
    assert none["diff_ci_high"] < 0 and np.isnan(none["p_value"])  # two seeds: a CI, but no p-value
    assert none["baseline"] == pytest.approx(table.loc[("untuned", "instruction", "mean"), "score"])
    assert set(report.wide.columns) == {"nli", "sentiment", "mean"}
    assert report.wide.loc[("instruction", "instruction"), "mean"] == pytest.approx(inst["score"])
    assert "needs ≥3 seeds" in markdown_table(report.ablation).replace("p needs", "needs")


def test_three_seeds_give_p_values_holm_and_format_vs_content(grid3):
    report = build_report(grid3, n_resamples=300)
    table = report.ablation.set_index(["arm", "eval_variant", "cluster"])
    none = table.loc[("no_template", "instruction", "mean")]
    assert none["ci_kind"] == "seeds+examples" and none["p_value"] < 0.05
    tested = report.ablation["p_value"].notna()
    assert (report.ablation.loc[tested, "p_holm"] >= report.ablation.loc[tested, "p_value"]).all()
    inst = table.loc[("instruction", "instruction", "mean")]
    assert inst["type_acc_ci_low"] < inst["type_acc"] < inst["type_acc_ci_high"]
    assert inst["acc_given_type"] >= inst["score"]  # every correct answer has the right type
    assert set(report.ablation.loc[report.ablation.arm == "untuned", "label"]) == {"random init"}
    tasks = report.tasks
    assert {"chance", "majority", "type_acc", "acc_given_type", "chance_given_type", "top_picks"} <= set(tasks)
    row = tasks[(tasks.arm == "instruction") & (tasks.task == "nli_a")].iloc[0]
    assert row["majority"] == pytest.approx(0.6) and row["top_picks"].startswith("yes (0.70)")
    text = markdown_table(report.ablation)
    assert "random init" in text and "needs ≥3 seeds" not in text


def test_report_json_has_the_headline(grid3):
    report = write_report(grid3, grid3 / "out", n_resamples=200, figures=False)
    data = json.loads((grid3 / "out" / "report.json").read_text())
    delta = data["delta_instruction_vs_no_template"]
    table = report.ablation.set_index(["arm", "eval_variant", "cluster"])
    assert delta["diff"] == pytest.approx(table.loc[("instruction", "instruction", "mean"), "score"]
                                          - table.loc[("no_template", "instruction", "mean"), "score"])
    assert delta["ci_low"] < delta["diff"] < delta["ci_high"] and delta["p"] < 0.05 and delta["p_holm"] >= delta["p"]
    assert set(data["heldout_acc_given_type"]) == {"value", "ci_low", "ci_high"}
    assert set(data["heldout_type_acc"]) == {"instruction", "no_template", "untuned", "shuffled_instruction", "oracle"}
    assert data["oracle_heldout"]["value"] == pytest.approx(table.loc[("oracle", "instruction", "mean"), "score"])
    assert data["shuffled_vs_no_template"]["p_holm"] >= data["shuffled_vs_no_template"]["p"]
    assert data["seeds"] == [0, 1, 2] and data["ambiguity"] == 0.25
    assert len(data["table"]) == len(report.ablation) and data["task_table"]
    for ext in ("csv", "md", "parquet"):
        assert (grid3 / "out" / f"task_table.{ext}").stat().st_size > 0


def test_print_report_shows_tables_ambiguity_and_oracle(grid3, capsys):
    report = write_report(grid3, grid3 / "out", n_resamples=100, figures=False)
    print_report(report, grid3, grid3 / "out")
    out = capsys.readouterr().out
    assert out.index("Zero-shot score on held-out clusters") < out.index("Per held-out task") < out.index("Cells:")
    assert "ambiguity of no-template training inputs: 0.25" in out and "oracle held-out mean" in out


def test_figure_shows_format_and_content_rows(grid3):
    report = build_report(grid3, n_resamples=50)
    fig = plot_template_ablation(report.ablation)
    assert len(fig.axes) == 3 * 3  # (score, type acc, acc | type) x (mean, nli, sentiment)


def test_identical_models_are_not_significant(tmp_path):
    for seed in (0, 1, 2):
        for variant in ("instruction", "no_template"):
            fake_cell(tmp_path, variant, ["instruction"], "nli", seed, 0.7)
        a = json.loads((tmp_path / f"instruction__nli__s{seed}" / "results.json").read_text())
        b = json.loads((tmp_path / f"no_template__nli__s{seed}" / "results.json").read_text())
        atomic_write_json(tmp_path / f"no_template__nli__s{seed}" / "results.json", b | {"zeroshot": a["zeroshot"]})
    table = build_report(tmp_path, n_resamples=200).ablation
    row = table[(table.arm == "no_template") & (table.cluster == "mean")].iloc[0]
    assert row["diff_vs_ref"] == 0.0 and row["p_value"] == 1.0 and row["ci_kind"] == "seeds+examples"


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
