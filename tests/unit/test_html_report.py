"""report.html without a browser: escaped, self-contained, every section filled from synthetic results."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from flanlab.analysis.html_report import HTML_FILE, config_diff, flatten, write_html
from flanlab.analysis.sweep_report import write_report
from flanlab.io import atomic_write_json
from flanlab.report_command import main
from tests.unit.test_analysis import fake_cell

SUITE = {"_target_": "flanlab.tasks.suite.catalogue.SuiteCatalogue", "seed": 0, "train_rows": 4, "eval_rows": 4}
EVIL = '<script>alert("x")</script> & "quoted"'


def _edit(folder: Path, change) -> None:
    path = folder / "results.json"
    data = json.loads(path.read_text())
    change(data)
    atomic_write_json(path, data)


def _with_samples(data: dict) -> None:
    """A sample prompt whose text would break the page if it were not escaped; a config key that varies."""
    first = data["zeroshot"]["instruction"]["templates"][0]
    first["samples"] = [{"row": 0, "prompt": f"Is it so? {EVIL}", "options": ["yes", "no"], "chosen": "no",
                         "gold": "yes"}]
    data["config"] |= {"train": {"steps": 12, "lr": 0.001}, "seed": data["cell"]["seed"]}


@pytest.fixture
def grid(tmp_path):
    """Two seeds of three arms on one cluster, a failed cell whose message holds markup, and a stale cell."""
    for seed in (0, 1):
        for arm, p in (("untuned", 0.5), ("no_template", 0.55), ("instruction", 0.9)):
            _edit(fake_cell(tmp_path, arm, ["instruction"], "nli", seed, p), _with_samples)
    atomic_write_json(tmp_path / "dataset_name__nli__s0" / "failed.json",
                      {"error": "RuntimeError", "message": f"boom {EVIL}"})
    _edit(tmp_path / "instruction__nli__s1", lambda d: d.update(
        config=d["config"] | {"tasks": SUITE}, provenance={"template_hash": "0000000000000000"}))
    run = tmp_path / "instruction__nli__s0" / "wandb" / "offline-run-20260101_000000-abc123"
    run.mkdir(parents=True)
    (run / "run-abc123.wandb").write_bytes(b"\0")
    return tmp_path


def test_page_is_escaped_self_contained_and_holds_every_section(grid):
    report = write_report(grid, grid / "out", n_resamples=50)
    report.html = write_html(report, grid, grid / "out")  # the caller writes the page, from the loaded cells
    page = (grid / "out" / HTML_FILE).read_text()
    assert report.html == grid / "out" / HTML_FILE
    assert EVIL not in page and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &quot;quoted&quot;" in page
    assert page.count("<script>") == 1  # only the page's own sorting script
    refs = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert refs and not [r for r in refs if re.match(r"[a-z]+://|//", r)]
    assert re.search(r'<img src="data:image/png;base64,[A-Za-z0-9+/=]{1000,}"', page)
    assert "<link" not in page and "@import" not in page
    for arm in ("instruction", "no_template", "untuned"):  # a row of the main table per arm
        assert re.search(rf"<tr><td>{arm}</td><td>instruction</td><td>2</td><td>0\.\d{{3}} \[", page)
    assert ">5 done<" in page and ">1 failed<" in page and ">1 stale<" in page
    assert "task templates changed (template_hash 0000000000000000 -&gt; " in page
    assert 'href="../instruction__nli__s0/wandb/offline-run-20260101_000000-abc123/run-abc123.wandb"' in page
    assert 'href="../dataset_name__nli__s0/failed.json"' in page
    assert "Is it so? &lt;script&gt;" in page and "gold: <b>yes</b>" in page
    assert '<td class="wrong">no ✗</td>' in page
    assert "Per-template spread" in page and "<td>nli_a</td>" in page


def test_config_diff_shows_only_varying_keys(tmp_path):
    cells = [{"dir": str(tmp_path / f"c{i}"), "config": {"seed": i, "train": {"steps": 12, "lr": lr}, "x": [1, 2]}}
             for i, lr in enumerate((0.1, 0.1, 0.2))]
    cells[2]["config"]["extra"] = {"only": True}
    diff, shared = config_diff(cells, tmp_path)
    assert list(diff.columns) == ["cell", "extra.only", "seed", "train.lr"] and shared == 2
    assert list(diff["train.lr"]) == ["0.1", "0.1", "0.2"] and list(diff["extra.only"]) == ["—", "—", "true"]
    assert flatten({"a": {"b": [1, 2]}, "c": {}, "d": "x"}) == {"a.b": "[1, 2]", "c": "{}", "d": "x"}


def test_cli_writes_html_by_default_and_not_with_no_html(grid, capsys):
    assert main([str(grid), "--out", str(grid / "a"), "--no-figures", "--resamples", "20"]) == 0
    assert (grid / "a" / HTML_FILE).is_file() and "report.html (open it in a browser)" in capsys.readouterr().out
    assert main([str(grid), "--out", str(grid / "b"), "--no-figures", "--resamples", "20", "--html"]) == 0
    assert "<img" not in (grid / "b" / HTML_FILE).read_text()  # no figures asked for, none inlined
    assert main([str(grid), "--out", str(grid / "c"), "--no-figures", "--resamples", "20", "--no-html"]) == 0
    assert not (grid / "c" / HTML_FILE).exists()
