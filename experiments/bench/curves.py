"""What held-out curves during training cost (issue 29): one cell of the transfer-curves study, shortened, run with
curves off and on.

After a one-step warm-up cell (tokenizer cache, first calls), both runs are the same cell (``tasks=control
heldout=control template=instruction``, one thread, no W&B) for ``--steps`` steps; the second scores a curve point
every ``--curve-every`` steps with ``--curve-rows`` rows per task (plus the point before the first step and the one
at the end). Prints:

* ``cell_s_off`` / ``cell_s_on``: each cell's wall time (``results.json`` ``seconds``, set-up to results);
* ``train_s``: the training loop's time (curve points are not counted in it), and ``step_s`` per step;
* ``points``, ``point_s`` (mean seconds of one curve point: every scoring variant and the in-distribution rows)
  and ``point_share``: one point as a share of the curves-off cell;
* ``overhead_share``: ``(cell_s_on - cell_s_off) / cell_s_off``, all points together;
* ``same_final_weights``: whether both runs ended with bit-identical weights (they must);
* ``study_*``: the same overhead projected onto a study cell of ``--study-steps`` steps with a point every
  ``--study-every`` steps (the study's scoring and set-up taken from the curves-off cell).

The cell is the study's (tiny T5, the control suite's row counts); ``--debug-tiny`` runs it at ``+debug=tiny`` sizes
instead (a few rows per task: a quick check, not the study's cost).

Run: python experiments/bench/curves.py [--steps 200] [--curve-every 100] [--curve-rows 16] [--debug-tiny]
     [-- overrides]   (last line: JSON)
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import tempfile
from pathlib import Path

os.environ.setdefault("WANDB_MODE", "disabled")

import torch
from hydra import compose, initialize_config_dir

from flanlab.pipeline import run_cell
from flanlab.training import checkpoint as ckpt

ROOT = Path(__file__).resolve().parents[2]
CELL = ["+experiment=transfer_curves", "hydra/launcher=basic", "template=instruction", "heldout=control", "seed=0",
        "logger=none", "threads=1"]


def run(overrides: list[str], out: Path) -> dict:
    """One cell in this process; its results."""
    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        cfg = compose(config_name="config", overrides=[*CELL, *overrides])
    run_cell(cfg, out)
    return json.loads((out / "results.json").read_text())


def final_weights(cell: Path) -> dict[str, torch.Tensor]:
    return torch.load(ckpt.checkpoints(cell / "checkpoints")[-1] / ckpt.STATE_FILE, weights_only=False)["model"]


def study_points(steps: int, every: int) -> int:
    """Curve points of a cell: step 0, every ``every`` steps, and the last step."""
    return 1 + steps // every + (1 if steps % every else 0)


def measure(args: argparse.Namespace, tmp: Path) -> dict:
    tiny = ["+debug=tiny"] if args.debug_tiny else []
    base = [*tiny, f"train.steps={args.steps}", f"paths.cache_dir={tmp / 'cache'}", *args.overrides]
    run([*base, "train.steps=1", "scoring.curve_every=0"], tmp / "warm")  # tokenizer cache, imports, first calls
    off = run([*base, "scoring.curve_every=0"], tmp / "off")
    on = run([*base, f"scoring.curve_every={args.curve_every}", f"scoring.curve_rows={args.curve_rows}"], tmp / "on")
    a, b = final_weights(tmp / "off"), final_weights(tmp / "on")
    points = {p["step"]: p["seconds"] for p in on["curve"]}  # one evaluation: every variant shares its seconds
    point_s = sum(points.values()) / len(points)
    step_s = off["train"]["seconds"] / args.steps
    study_cell = off["seconds"] - off["train"]["seconds"] + step_s * args.study_steps
    n_study = study_points(args.study_steps, args.study_every)
    return {
        "bench": "curves", "steps": args.steps, "curve_every": args.curve_every, "curve_rows": args.curve_rows,
        "cell_s_off": round(off["seconds"], 2), "cell_s_on": round(on["seconds"], 2),
        "train_s": round(off["train"]["seconds"], 2), "step_s": round(step_s, 4),
        "points": len(points), "point_s": round(point_s, 3), "point_share": round(point_s / off["seconds"], 4),
        "overhead_share": round((on["seconds"] - off["seconds"]) / off["seconds"], 4),
        "same_final_weights": a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a),
        "study_steps": args.study_steps, "study_every": args.study_every, "study_points": n_study,
        "study_cell_s": round(study_cell, 1), "study_overhead_share": round(n_study * point_s / study_cell, 4),
        "torch_threads": torch.get_num_threads(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--curve-every", type=int, default=100)
    parser.add_argument("--curve-rows", type=int, default=16)
    parser.add_argument("--study-steps", type=int, default=1600)
    parser.add_argument("--study-every", type=int, default=100)
    parser.add_argument("--debug-tiny", action="store_true", help="+debug=tiny sizes (a few rows per task)")
    parser.add_argument("overrides", nargs="*", help="more Hydra overrides for both cells (after --)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="bench_curves_") as tmp:
        print(json.dumps(measure(args, Path(tmp))))


if __name__ == "__main__":
    main()
