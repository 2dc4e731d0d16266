"""Provenance and stale cells: a template change reruns a complete cell (or keeps it, or stops, by policy)."""

from __future__ import annotations

import json
import logging
import re
import shutil
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate
from omegaconf import OmegaConf

import flanlab
import flanlab.provenance
from flanlab.errors import ConfigError
from flanlab.provenance import cell_provenance, code_version, template_hash
from flanlab.sweeps import cell_runner as sweep_task
from flanlab.sweeps.cell_runner import guarded_cell
from flanlab.sweeps.cell_state import is_stale
from flanlab.sweeps.keys import cell_key
from flanlab.sweeps.progress import job_verb
from flanlab.tasks.spec import Template
from tests.conftest import CONF_DIR, ROOT, ToyCatalogue

FIX = ROOT / "tests" / "fixtures" / "custom"


@pytest.fixture
def tasks_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "tasks"
    shutil.copytree(FIX, folder)
    return folder


def _cfg(tasks_dir: Path, *overrides: str):
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(config_name="config", overrides=[
            "tasks=flan", "tasks.base=null", f"tasks.include=[{{path: {tasks_dir}}}]", "heldout=sentiment", *overrides])


@pytest.fixture
def fake_run(monkeypatch):
    """A ``run_cell`` that writes results with provenance (as the pipeline does) and lists the cells it ran."""
    class FakeRun(list):
        def __call__(self, cfg, output_dir, **_):
            return run_cell(cfg, output_dir)

    calls = FakeRun()

    def run_cell(cfg, output_dir):
        calls.append(Path(output_dir).name)
        results = {"cell": {"key": cell_key(cfg)}, "config": OmegaConf.to_container(cfg, resolve=True),
                   "provenance": cell_provenance(instantiate(cfg.tasks).specs), "metrics": {}}
        Path(output_dir).mkdir(parents=True, exist_ok=True)
        (Path(output_dir) / "results.json").write_text(json.dumps(results, default=str))
        return results

    monkeypatch.setattr(sweep_task, "_HASHES", {})
    return calls


def _edit_template(tasks_dir: Path) -> None:
    path = tasks_dir / "kind_words.yaml"
    path.write_text(path.read_text().replace("Is this remark kind?", "Is the remark a kind one?"))
    sweep_task._HASHES.clear()  # the hash is cached per process; templates change between processes


def test_a_template_change_reruns_a_complete_cell(tasks_dir, tmp_path, fake_run, caplog):
    cfg, out = _cfg(tasks_dir), tmp_path / "cell"
    guarded_cell(cfg, out, fake_run)
    assert guarded_cell(cfg, out, fake_run) is None and fake_run == ["cell"]  # complete and current: skipped
    assert job_verb(cfg, out) == "skipping"
    _edit_template(tasks_dir)
    assert job_verb(cfg, out) == "running"
    with caplog.at_level(logging.INFO, logger="flanlab.sweeps"):
        guarded_cell(cfg, out, fake_run)
    assert fake_run == ["cell", "cell"]
    line = next(r.getMessage() for r in caplog.records if "stale" in r.getMessage())
    assert re.search(r"stale results, rerunning it \(resume_stale=rerun\): task templates changed "
                     r"\(template_hash [0-9a-f]{16} -> [0-9a-f]{16}\)", line)
    assert not is_stale(out, sweep_task.current_template_hash(cfg))  # the rerun recorded the new hash


def test_keep_skips_a_stale_cell_and_says_so(tasks_dir, tmp_path, fake_run, caplog):
    out = tmp_path / "cell"
    guarded_cell(_cfg(tasks_dir), out, fake_run)
    _edit_template(tasks_dir)
    cfg = _cfg(tasks_dir, "resume_stale=keep")
    assert job_verb(cfg, out) == "skipping"
    with caplog.at_level(logging.INFO, logger="flanlab.sweeps"):
        assert guarded_cell(cfg, out, fake_run) is None
    assert fake_run == ["cell"]
    assert "kept on purpose (resume_stale=keep)" in caplog.text
    assert is_stale(out, sweep_task.current_template_hash(cfg))


def test_error_stops_with_one_line_naming_the_stale_cells(tasks_dir, tmp_path, fake_run):
    sweep = tmp_path / "sweep"
    for name in ("a_cell", "b_cell"):
        guarded_cell(_cfg(tasks_dir), sweep / name, fake_run)
    _edit_template(tasks_dir)
    cfg = _cfg(tasks_dir, "resume_stale=error")
    assert job_verb(cfg, sweep / "a_cell") == "stopping at stale"
    with pytest.raises(ConfigError) as err:
        guarded_cell(cfg, sweep / "a_cell", fake_run, isolate=True)
    message = str(err.value)
    assert "\n" not in message and "2 cell(s) have stale results (a_cell, b_cell)" in message
    assert "resume_stale=keep" in message and fake_run == ["a_cell", "b_cell"]
    assert not (sweep / "a_cell" / "failed.json").exists()


def test_results_without_provenance_count_as_current(tasks_dir, tmp_path, fake_run):
    cfg, out = _cfg(tasks_dir), tmp_path / "cell"
    out.mkdir()
    (out / "results.json").write_text(json.dumps({"cell": {"key": cell_key(cfg)}}))
    assert not is_stale(out, "0" * 16)
    assert guarded_cell(cfg, out, fake_run) is None and fake_run == []


def test_commit_counts_only_when_asked(tasks_dir, tmp_path, fake_run, monkeypatch):
    out = tmp_path / "cell"
    monkeypatch.setattr(flanlab.provenance, "code_version", lambda: {"commit": "a" * 40, "dirty": False})
    guarded_cell(_cfg(tasks_dir), out, fake_run)
    monkeypatch.setattr(flanlab.provenance, "code_version", lambda: {"commit": "b" * 40, "dirty": False})
    data = json.loads((out / "results.json").read_text())
    data["provenance"]["commit"] = "a" * 40
    (out / "results.json").write_text(json.dumps(data))
    assert guarded_cell(_cfg(tasks_dir), out, fake_run) is None and len(fake_run) == 1
    assert is_stale(out, data["provenance"]["template_hash"], current_commit="b" * 40)
    guarded_cell(_cfg(tasks_dir, "resume_stale_commit=true"), out, fake_run)
    assert len(fake_run) == 2


def test_unknown_policy_and_keys(tasks_dir, tmp_path):
    cfg = _cfg(tasks_dir, "resume_stale=ignore")
    with pytest.raises(ConfigError, match=r"unknown stale-results policy 'ignore' \(config key `resume_stale`\)"):
        sweep_task.resume_decision(cfg, tmp_path)
    plain = _cfg(tasks_dir)
    assert plain.resume_stale == "rerun" and plain.resume_stale_commit is False
    assert cell_key(plain) == cell_key(_cfg(tasks_dir, "resume_stale=keep", "resume_stale_commit=true"))


def test_template_hash_follows_templates_and_task_definitions():
    specs = dict(ToyCatalogue().specs)
    base = template_hash(specs)
    assert re.fullmatch(r"[0-9a-f]{16}", base) and template_hash(reversed(list(specs.values()))) == base
    nli = specs["toy_nli"]
    changes = [
        nli.__class__(**{**nli.__dict__, "templates": (Template("t0", "{sentence}\nTrue?\n{options}"),)}),
        nli.__class__(**{**nli.__dict__, "options": ("no", "yes")}),
        nli.__class__(**{**nli.__dict__, "metric": "exact_match"}),
        nli.__class__(**{**nli.__dict__, "display_name": "Other"}),
        nli.__class__(**{**nli.__dict__, "answer_types": {"yes_no": ("yes", "no")}}),
    ]
    hashes = {template_hash({**specs, "toy_nli": changed}) for changed in changes}
    assert base not in hashes and len(hashes) == len(changes)


def test_cell_provenance_and_code_version(tmp_path):
    block = cell_provenance(ToyCatalogue().specs)
    assert set(block) == {"commit", "dirty", "template_hash", "flanlab_version"}
    assert block["flanlab_version"] == flanlab.__version__
    assert code_version(tmp_path) == {"commit": None, "dirty": None}  # not a git checkout (e.g. a wheel)
    if (ROOT / ".git").exists() and shutil.which("git"):
        here = code_version()
        assert re.fullmatch(r"[0-9a-f]{40}", here["commit"]) and isinstance(here["dirty"], bool)
