"""The positive-control ablation, end to end: does the harness detect an effect that exists by construction?

Runs the default grid (``python -m flanlab +experiment=ablation``, every arm over three seeds, or only its
missing cells when the sweep folder already has some) and then reads the sweep's ``report.json``. Prints the
headline figures the study is judged on:

* ``ambiguity``: fraction of no-template training inputs that occur with more than one target (must be >= 0.5);
* ``oracle_heldout``: held-out mean of the oracle arm, which also trains the held-out clusters (the ceiling);
* ``delta_instruction_vs_no_template`` with ``ci_low``/``ci_high``: instruction-trained minus no-template-trained,
  both scored with instructions, held-out mean, hierarchical 95% bootstrap over seeds and examples;
* ``heldout_acc_given_type``: the instruction arm's accuracy among answers of the right type (content, not
  format), with its CI; ``heldout_type_acc`` per arm (format);
* ``seeds`` and ``wall_s`` (the grid's wall time in this process; 0 when every cell was already complete).

Run: python experiments/bench/positive_control.py [--sweep DIR] [--no-run] [-- extra overrides]  (last line: JSON)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_grid(sweep: Path, overrides: list[str]) -> float:
    """Run (or resume) the default ablation into ``sweep``; return its wall time in seconds."""
    cmd = [sys.executable, "-m", "flanlab", "+experiment=ablation", f"hydra.sweep.dir={sweep}", *overrides]
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, check=False)
    if proc.returncode != 0:
        sys.exit(f"positive_control: the ablation exited with {proc.returncode}")
    return time.perf_counter() - started


def headline(sweep: Path, wall_s: float) -> dict:
    """The judged figures from the sweep's ``report.json``."""
    path = sweep / "report.json"
    if not path.exists():
        sys.exit(f"positive_control: {path} is missing (run the ablation first, or drop --no-run)")
    report = json.loads(path.read_text())
    delta = report.get("delta_instruction_vs_no_template") or {}
    content = report.get("heldout_acc_given_type") or {}
    return {
        "bench": "positive_control", "sweep": str(sweep), "ambiguity": report.get("ambiguity"),
        "oracle_heldout": report.get("oracle_heldout"),
        "delta_instruction_vs_no_template": delta.get("diff"), "ci_low": delta.get("ci_low"),
        "ci_high": delta.get("ci_high"), "p": delta.get("p"), "p_holm": delta.get("p_holm"),
        "heldout_acc_given_type": content.get("value"), "heldout_acc_given_type_ci_low": content.get("ci_low"),
        "heldout_acc_given_type_ci_high": content.get("ci_high"),
        "heldout_type_acc": {arm: v.get("value") for arm, v in (report.get("heldout_type_acc") or {}).items()},
        "heldout_score": {arm: v.get("value") for arm, v in (report.get("heldout_score") or {}).items()},
        "shuffled_vs_no_template": report.get("shuffled_vs_no_template"),
        "seeds": report.get("seeds"), "wall_s": round(wall_s, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sweep", default=str(ROOT / "outputs" / "ablation" / "sweep"))
    parser.add_argument("--no-run", action="store_true", help="only read an existing sweep's report.json")
    parser.add_argument("overrides", nargs="*", help="extra Hydra overrides for the grid")
    args = parser.parse_args()
    sweep = Path(args.sweep).resolve()
    wall_s = 0.0 if args.no_run else run_grid(sweep, args.overrides)
    print(json.dumps(headline(sweep, wall_s)))


if __name__ == "__main__":
    main()
