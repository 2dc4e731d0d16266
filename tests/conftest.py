"""Shared fixtures: offline environment, a toy catalogue, tiny models built from config."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

# Set before datasets / huggingface_hub are imported: they read these once, at import time.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_EVALUATE_OFFLINE", "1")
os.environ.setdefault("WANDB_MODE", "disabled")
os.environ.setdefault("WANDB_SILENT", "true")
# Tiny models run fastest on one thread, and subprocess runs inherit it (2-core CI machines).
os.environ.setdefault("OMP_NUM_THREADS", "1")
# Scripts and Jupyter kernels started by tests run `python` from PATH: make it this interpreter
# (the virtualenv's), also when pytest is started as .venv/bin/python without activating it.
os.environ["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])

import pytest
import torch

from flanlab.tasks.catalogue import LocalCatalogue
from flanlab.tasks.spec import TaskSpec, Template

torch.set_num_threads(1)

ROOT = Path(__file__).resolve().parent.parent
CONF_DIR = ROOT / "conf"
MIRROR_DIR = ROOT.parent / "shared" / "data" / "flan_mirror"


def all_prompts(spec: TaskSpec, row: Mapping, index: int) -> list:
    """Every prompt a row can become: training and scoring, all variants (one template held back, no donor
    tasks: the donor variants fall back to an unrelated question), inverted, options on and off."""
    from flanlab.templates.variants import (
        SHUFFLED,
        TRAIN_VARIANTS,
        VARIANTS,
        VariantContext,
        render_for_scoring,
        render_for_training,
    )

    context = VariantContext([spec], held_back=1)
    prompts = [render_for_training(spec, row, index, v, context=context) for v in TRAIN_VARIANTS if v != SHUFFLED]
    for variant in VARIANTS:
        prompts += render_for_scoring(spec, row, index, variant, include_inverted=True, context=context)
        prompts += render_for_scoring(spec, row, index, variant, options_in_prompt=False, context=context)
    return prompts


def _yes_no_task(name: str, cluster: str) -> TaskSpec:
    return TaskSpec(
        name=name, cluster=cluster, display_name=f"Toy {name}", kind="classification",
        input_fields=("sentence",), options=("yes", "no"),
        templates=(
            Template("t0", "{sentence}\nIs that true? Answer yes or no.\n{options}"),
            Template("t1", "Read: {sentence}\nTrue or not?\n{options}"),
            Template("inv", "Write a statement whose truth is {answer}.", target="{sentence}", inverted=True),
        ),
    )


class ToyCatalogue(LocalCatalogue):
    """Three clusters of tiny tasks, with rows made in memory (``LocalCatalogue``: specs plus rows per split)."""

    def __init__(self, rows: int = 24) -> None:
        colours = ["red", "blue", "green"]
        specs = {
            "toy_nli": _yes_no_task("toy_nli", "nli"),
            "toy_para": _yes_no_task("toy_para", "paraphrase"),
            "toy_sent": _yes_no_task("toy_sent", "sentiment"),
            "toy_gen": TaskSpec(
                name="toy_gen", cluster="misc", display_name="Toy colours", kind="generation",
                input_fields=("thing",), metric="exact_match",
                templates=(Template("g0", "What colour is the {thing}?"),
                           Template("g1", "Name the colour of the {thing}.")),
            ),
        }
        tasks = {}
        for name, spec in specs.items():
            if spec.is_classification:
                made = [{"sentence": f"the {colours[i % 3]} box is {colours[(i // 2) % 3]}", "label": i % 2}
                        for i in range(rows)]
            else:
                made = [{"thing": f"{colours[i % 3]} box", "target": colours[i % 3]} for i in range(rows)]
            tasks[name] = (spec, {"train": made, "validation": made[: rows // 2]})
        super().__init__(tasks, source="the toy catalogue")

    def replace_spec(self, name: str, spec: TaskSpec) -> None:
        """Swap one task's spec, keeping its rows (for tests of bad specs)."""
        self._tasks[name] = (spec, self._tasks[name][1])

    def rows(self, name: str, split: str) -> list[dict]:
        """One split's rows, editable in place (for tests of bad rows)."""
        return self._tasks[name][1][split]


@pytest.fixture
def toy_catalogue() -> ToyCatalogue:
    return ToyCatalogue()


def assert_golden(path: Path, text: str) -> None:
    """``text`` equals the golden file at ``path`` (with FLANLAB_UPDATE_GOLDEN=1 the file is written instead)."""
    if os.environ.get("FLANLAB_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert path.is_file(), f"missing golden file {path}; run with FLANLAB_UPDATE_GOLDEN=1"
    assert path.read_text() == text, f"{path.name} differs; if intended, rerun with FLANLAB_UPDATE_GOLDEN=1"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark ``subprocess`` every test whose own code starts a process (it names ``subprocess.`` or
    ``sys.executable``: ``python -m flanlab``, a fresh interpreter, a script), so ``make test-fast`` can leave them
    out (``-m "not slow and not subprocess"``); ``make test`` runs them all. An explicit mark works too."""
    import inspect

    for item in items:
        function = getattr(item, "function", None)
        try:
            source = inspect.getsource(function) if function is not None else ""
        except (OSError, TypeError):
            continue
        if "subprocess." in source or "sys.executable" in source:
            item.add_marker(pytest.mark.subprocess)
