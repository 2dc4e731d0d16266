"""Held-out curves during training (issue 29): the fit loop's hook leaves training exactly as it was and resumes
without repeating points; a point's roll-ups; the rows every arm and seed scores; the report's crossing steps and
the instruction arm's lead, from in-memory cells."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch
from hydra import compose, initialize_config_dir

from flanlab.analysis.curves import build_curves, crossing
from flanlab.analysis.curves_report import curves_markdown, plot_curves
from flanlab.models.load import LoadedModel
from flanlab.pipeline import prepare
from flanlab.scoring.curves import fixed_rows, point_metrics, summarize_point
from flanlab.scoring.zeroshot import TemplateResult
from flanlab.tracking.run import NullTracker
from flanlab.training import checkpoint as ckpt
from flanlab.training.loop import CurveHook, fit
from tests.conftest import CONF_DIR
from tests.unit.test_training import TOK, _cfg, _data, _params, _t5


class Probe:
    """A curve hook that does what scoring does to a model (eval mode, forward passes under inference mode) and
    also draws from every RNG stream, so a leak into training would show."""

    def __init__(self, loaded: LoadedModel, every: int) -> None:
        self.loaded, self.hook = loaded, CurveHook(every, self.score)
        ids = torch.randint(3, 64, (4, 6), generator=torch.Generator().manual_seed(0))
        self.batch = {"input_ids": ids, "labels": ids[:, :2].clone()}

    def score(self, step: int, tokens: int) -> list[dict]:
        model = self.loaded.model.eval()
        with torch.inference_mode():
            loss = float(model(**self.batch).loss)
        noise = torch.rand(3).sum().item() + random.random() + float(np.random.rand())
        return [{"step": step, "tokens": tokens, "variant": "v", "loss": loss, "noise": noise}]


def _curve(points: list[dict]) -> list[tuple]:
    return [(p["step"], p["tokens"], p["loss"]) for p in points]


def test_curve_points_leave_the_final_weights_bit_identical():
    """Dropout on: the RNG streams and training mode must come back exactly after every point."""
    cfg = _cfg(steps=7, log_every=2)
    plain = LoadedModel(_t5(), TOK, "seq2seq", "t")
    base = fit(plain, _data(), cfg, NullTracker(), seed=1)
    probed = LoadedModel(_t5(), TOK, "seq2seq", "t")
    probe = Probe(probed, every=3)
    res = fit(probed, _data(), cfg, NullTracker(), seed=1, curve=probe.hook)
    assert torch.equal(_params(plain.model), _params(probed.model))
    assert res.losses == base.losses and base.curve == []
    assert [p["step"] for p in res.curve] == [0, 3, 6, 7]  # before the first step, every 3 steps, the last
    tokens = [p["tokens"] for p in res.curve]
    assert tokens[0] == 0 and tokens == sorted(tokens) and len(set(tokens)) == 4
    assert len({p["loss"] for p in res.curve}) == 4  # each point saw the weights of its step


def test_a_resumed_run_continues_the_curve_without_repeating_points(tmp_path):
    cfg = _cfg(checkpoint_every=3, keep_checkpoints=2)
    whole = LoadedModel(_t5(), TOK, "seq2seq", "t")
    full = fit(whole, _data(), cfg, NullTracker(), seed=1, checkpoint_dir=tmp_path, curve=Probe(whole, 2).hook)
    assert [p["step"] for p in full.curve] == [0, 2, 4, 6]
    (tmp_path / "step_00000006" / "state.pt").unlink()  # as if killed after step 3's checkpoint
    assert [p["step"] for p in torch.load(ckpt.checkpoints(tmp_path)[-1] / "state.pt",
                                          weights_only=False)["curve"]] == [0, 2]
    again = LoadedModel(_t5(), TOK, "seq2seq", "t")
    resumed = fit(again, _data(), cfg, NullTracker(), seed=1, checkpoint_dir=tmp_path, resume=True,
                  curve=Probe(again, 2).hook)
    assert resumed.resumed_from == 3
    assert _curve(resumed.curve) == _curve(full.curve)
    assert torch.equal(_params(whole.model), _params(again.model))


def _result(task: str, cluster: str, tid: str, correct: list[int], types: list[int] | None) -> TemplateResult:
    return TemplateResult(task=task, cluster=cluster, variant="instruction", template_id=tid, metric="accuracy",
                          value=float(np.mean(correct)), n=len(correct), chance=0.2 if types else None,
                          correct=[float(c) for c in correct],
                          other_metrics={"chance_given_type": 0.5, "majority": 0.5} if types else {},
                          type_correct=types, pick_rate={"yes": 0.75, "no": 0.25})


def test_a_point_rolls_up_score_format_and_content_like_the_report():
    results = [_result("a", "c1", "t0", [1, 0, 0, 0], [1, 1, 0, 0]),
               _result("a", "c1", "t1", [1, 1, 0, 0], [1, 1, 1, 1]), _result("b", "c2", "t0", [1, 1, 1, 0], None)]
    point = summarize_point(results)
    assert point["score"]["clusters"] == {"c1": pytest.approx(0.375), "c2": pytest.approx(0.75)}
    assert point["score"]["mean"] == pytest.approx(0.5625)
    assert point["type_acc"]["clusters"]["c1"] == pytest.approx(0.75)  # (0.5 + 1) / 2
    assert point["acc_given_type"]["clusters"]["c1"] == pytest.approx(0.5)  # (1/2 + 2/4) / 2
    assert point["type_acc"]["mean"] == pytest.approx(0.75)  # c2 has no answer types: left out
    assert point["tasks"]["a"]["type_correct"] == [[1, 1, 0, 0], [1, 1, 1, 1]]
    assert point["tasks"]["b"]["type_correct"] is None and point["tasks"]["a"]["pick_rate"] == {"yes": 0.75, "no": 0.25}
    keys = point_metrics([{**point, "step": 4, "tokens": 10, "variant": "instruction", "seconds": 1.0,
                           "indist": {"variant": "instruction", "mean": 0.9, "clusters": {}}}])
    assert keys["curve/instruction/c1/acc_given_type"] == pytest.approx(0.5)
    assert keys["curve/instruction/mean/score"] == pytest.approx(0.5625)
    assert keys["curve/indist/instruction/mean"] == 0.9


def test_every_arm_and_seed_scores_the_same_curve_rows(tmp_path):
    """A subset of the final scored rows, the same whatever the arm and seed (and the oracle, which trains on the
    held-out tasks too, scores the same held-out rows)."""
    seen = []
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        for template, seed in (("instruction", 0), ("no_template", 1), ("dataset_name", 2), ("oracle", 1)):
            cfg = compose(config_name="config", overrides=[
                "tasks=control", "heldout=control", f"template={template}", f"seed={seed}",
                "tasks.train_rows=64", "tasks.eval_rows=40", "data.max_eval_per_task=20", "scoring.curve_rows=8"])
            prep = prepare(cfg)
            rows = fixed_rows(prep.catalogue, prep.heldout_rows, prep.train_tasks, int(cfg.scoring.curve_rows),
                              int(cfg.scoring.curve_indist_rows), int(cfg.data.eval_sample_seed))
            for task, data in rows.heldout.items():
                assert len(data) == 8 and data.to_list() == prep.heldout_rows[task].select(range(8)).to_list()
            seen.append(({t: d.to_list() for t, d in rows.heldout.items()},
                         {t: d.to_list() for t, d in rows.indist.items()}))
    assert all(heldout == seen[0][0] for heldout, _ in seen)
    for _, indist in seen:  # in distribution: the same rows for every task two arms both train
        assert all(indist[t] == seen[0][1][t] for t in indist if t in seen[0][1])
    assert set(seen[3][1]) > set(seen[0][1])  # the oracle also trains (and so checks) the held-out tasks


def test_crossing_reads_the_first_step_above_a_threshold():
    steps = [0, 100, 200, 300]
    boot = np.array([[0.1, 0.2, 0.6, 0.7], [0.1, 0.6, 0.6, 0.7], [0.1, 0.2, 0.2, 0.2]] * 10)
    out = crossing(steps, np.array([0.1, 0.3, 0.6, 0.7]), boot, 0.5)
    assert out["first_step"] == 200 and out["first_step_ci_low"] == 100
    assert np.isnan(out["first_step_ci_high"]) and out["never_share"] == pytest.approx(1 / 3)
    assert out["sure_step"] is None and not out["above_chance"]  # a third of the resamples stay below
    sure = crossing(steps, np.array([0.1, 0.3, 0.6, 0.7]), boot[boot[:, 3] > 0.5], 0.5)
    assert sure["sure_step"] == 200 and sure["above_chance"] and sure["first_step_ci_high"] == 200


def test_a_crossing_counts_only_once_the_curve_stays_above():
    """An untrained model above chance by noise at step 0, or a rise that falls back, is not transfer."""
    steps = [0, 100, 200, 300]
    boot = np.array([[0.6, 0.4, 0.6, 0.7], [0.6, 0.6, 0.4, 0.7], [0.4, 0.6, 0.7, 0.4]] * 10)
    out = crossing(steps, np.array([0.55, 0.45, 0.6, 0.7]), boot, 0.5)
    assert out["first_step"] == 200 and out["first_step_ci_low"] == 200
    assert out["never_share"] == pytest.approx(1 / 3) and np.isnan(out["first_step_ci_high"])
    fell = crossing(steps, np.array([0.55, 0.6, 0.7, 0.45]), boot, 0.5)
    assert fell["first_step"] is None and not fell["above_chance"]
    high = crossing(steps, np.array([0.6, 0.6, 0.7, 0.8]), np.full((30, 4), 0.9), 0.5)
    assert high["first_step"] == 0 and high["sure_step"] == 0 and high["first_step_ci_high"] == 0


def _point(step: int, rise: float, seed: int) -> dict:
    """A point of two held-out tasks (choose: scene-word answers, presence: yes/no), 24 rows x 2 templates, whose
    accuracy climbs from chance at ``rise`` per 100 steps."""
    rng = np.random.default_rng(1000 * seed + step + int(100 * rise))
    tasks = {}
    for task, cluster in (("choose_food", "choose"), ("presence_food", "presence")):
        p = min(0.2 + rise * step / 100, 0.95)
        correct = (rng.random((2, 24)) < p).astype(int)
        typed = np.maximum(correct, (rng.random((2, 24)) < 0.5).astype(int))
        tasks[task] = {"cluster": cluster, "templates": ["t0", "t1"], "correct": correct.tolist(),
                       "type_correct": typed.tolist(), "chance": 0.2, "chance_given_type": 0.5, "majority": 0.3,
                       "pick_rate": {"yes": 0.5}}
    return {"step": step, "tokens": 1000 * step, "variant": "instruction", "tasks": tasks, "seconds": 0.1,
            "indist": {"variant": "instruction", "mean": 0.5 + rise, "clusters": {}}}


def _cell(arm: str, seed: int, rise: float) -> dict:
    return {"cell": {"arm": arm, "train_variant": "instruction", "seed": seed, "heldout": ["choose", "presence"],
                     "model": "tiny_t5"}, "model": {"source": "config"}, "dir": f"{arm}{seed}",
            "curve": [_point(step, rise, seed) for step in range(0, 700, 100)]}


def test_the_report_finds_when_each_arm_rises_and_when_the_lead_opens():
    cells = [_cell(arm, seed, rise) for seed in (0, 1, 2) for arm, rise in (("instruction", 0.15),
                                                                             ("no_template", 0.0))]
    tables = build_curves(cells, n_resamples=300)
    cross = tables["crossings"].set_index(["arm", "metric", "level"])
    rising, flat = cross.loc[("instruction", "score", "mean")], cross.loc[("no_template", "score", "mean")]
    assert rising["chance"] == pytest.approx(0.2) and rising["seeds"] == 3 and rising["ci_kind"] == "seeds+examples"
    assert rising["first_step"] in (100, 200) and rising["sure_step"] in (100, 200, 300) and rising["above_chance"]
    assert rising["first_step_ci_low"] <= rising["first_step"] <= rising["first_step_ci_high"]
    assert not flat["above_chance"] and flat["final"] < 0.35
    assert cross.loc[("instruction", "acc_given_type", "presence"), "chance"] == pytest.approx(0.5)
    assert cross.loc[("instruction", "type_acc", "presence"), "chance"] == pytest.approx(0.4)  # 0.2 / 0.5
    points = tables["points"]
    band = points[(points["arm"] == "instruction") & (points["metric"] == "score") & (points["level"] == "mean")]
    assert list(band["step"]) == list(range(0, 700, 100)) and (band["seed_min"] <= band["value"]).all()
    assert (band["value"] <= band["seed_max"]).all() and (band["ci_low"] <= band["ci_high"]).all()
    indist = points[(points["metric"] == "indist") & (points["arm"] == "instruction")]
    assert indist["value"].tolist() == pytest.approx([0.65] * 7)
    lead = tables["lead_summary"].set_index("level").loc["mean"]
    assert lead["comparison"] == "instruction − no_template" and lead["sure_step"] in (100, 200, 300)
    assert lead["final"] > 0.5 and lead["final_ci_low"] > 0
    text = curves_markdown(tables)
    table_rows = [line for line in text.splitlines() if line.startswith("|")]
    assert "score: above chance from" in text and "instruction − no_template" in text
    assert any("never" in line for line in table_rows)  # the arm that stays at chance
    assert plot_curves(tables["points"]) is not None


def test_cells_without_curves_add_no_tables():
    assert build_curves([{**_cell("instruction", 0, 0.1), "curve": []}]) == {}


def test_the_cell_key_leaves_the_curve_keys_out_at_their_defaults():
    from flanlab.sweeps.keys import cell_key, keyed_config

    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        plain = compose(config_name="config", overrides=[])
        curves = compose(config_name="config", overrides=["scoring.curve_every=100"])
        indist = compose(config_name="config", overrides=["scoring.curve_every=100", "scoring.curve_indist_rows=0"])
    assert not {"curve_every", "curve_rows", "curve_indist_rows"} & set(keyed_config(plain)["scoring"])
    assert keyed_config(curves)["scoring"]["curve_indist_rows"] == 16  # follows curve_rows
    assert len({cell_key(plain), cell_key(curves), cell_key(indist)}) == 3
