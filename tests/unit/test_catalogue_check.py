"""``flanlab catalogue check``: offline it checks the manifest and says the hub was not reached; online (a mocked
``HfApi``) it says per entry whether the repository, config, splits and fields are there, and ``--refresh`` writes
the hub's answer into the manifest."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from types import SimpleNamespace

import httpx
import pytest
from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError

from flanlab.catalogue_command import main
from flanlab.tasks.flan.manifest import MANIFEST_FILE
from flanlab.tasks.hub_check import HubFacts, refreshed
from tests.conftest import ROOT


def _info(files: list[str], card: dict | None = None, sha: str = "0123456789abcdef") -> SimpleNamespace:
    return SimpleNamespace(siblings=[SimpleNamespace(rfilename=f) for f in files], card_data=card or {}, sha=sha)


RTE_CARD = {
    "configs": [{"config_name": "rte", "data_files": [{"split": "train", "path": "rte/train-*"},
                                                      {"split": "validation", "path": "rte/validation-*"}]}],
    "dataset_info": [{"config_name": "rte", "download_size": 1277939,
                      "features": [{"name": "premise", "dtype": "string"}, {"name": "hypothesis", "dtype": "string"},
                                   {"name": "idx", "dtype": "int32"},
                                   {"name": "label", "dtype": {"class_label": {"names": {"0": "entailment",
                                                                                         "1": "not_entailment"}}}}],
                      "splits": [{"name": "train", "num_examples": 2490, "num_bytes": 1000},
                                 {"name": "validation", "num_examples": 277, "num_bytes": 100}]}],
}


def _response(status: int) -> httpx.Response:
    return httpx.Response(status, request=httpx.Request("GET", "https://huggingface.co/api/datasets/some/repo"))


class FakeApi:
    """``HfApi.dataset_info`` over a dict of repository -> info (or the exception to raise)."""

    def __init__(self, repos: dict) -> None:
        self.repos, self.calls = repos, []

    def dataset_info(self, repo_id: str, revision: str | None = None):
        self.calls.append((repo_id, revision))
        answer = self.repos[repo_id]
        if isinstance(answer, Exception):
            raise answer
        return answer


@pytest.fixture
def online(monkeypatch):
    for name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"):
        monkeypatch.delenv(name, raising=False)


def test_online_each_entry_gets_a_line_and_failures_make_the_exit_code_one(online, capsys):
    api = FakeApi({
        "aps/super_glue": _info(["README.md", "rte/train-00000-of-00001.parquet",
                                 "rte/validation-00000-of-00001.parquet"], RTE_CARD),
        "ybisk/piqa": _info(["default/train/0000.parquet", "default/validation/0000.parquet"]),
        "nyu-mll/glue": _info(["glue.py", "README.md"]),  # as if the repository were still script-only
        "stanfordnlp/snli": GatedRepoError("gated", response=_response(403)),
        "facebook/anli": RepositoryNotFoundError("no such repository", response=_response(404)),
    })
    code = main(["check", "--tasks", "rte,piqa,sst2,snli,anli_r1"], make_api=lambda: api)
    out = capsys.readouterr().out.splitlines()
    assert code == 1
    assert out[0] == ("ok   rte: aps/super_glue config rte @main (commit 0123456789): train 2,490 rows, "
                      "validation 277 rows")
    assert out[1] == "ok   piqa: ybisk/piqa @refs/convert/parquet (commit 0123456789): train ? rows, validation ? rows"
    assert out[2].startswith("FAIL sst2: nyu-mll/glue config sst2 @main: it holds only a loading script (glue.py)")
    assert out[3] == ("FAIL snli: stanfordnlp/snli config plain_text @main: it is gated: accept its terms on the hub "
                      "and log in")
    assert out[4].startswith("FAIL anli_r1: facebook/anli config plain_text @main: RepositoryNotFoundError")
    assert out[5] == "the hub was reached: 2 of 5 entries ok"
    assert api.calls[1] == ("ybisk/piqa", "refs/convert/parquet")


def test_online_a_retyped_field_or_a_missing_split_fails_the_entry(online, capsys):
    card = json.loads(json.dumps(RTE_CARD))
    card["dataset_info"][0]["features"][3] = {"name": "label", "dtype": {"class_label": {"names": {
        "0": "not_entailment", "1": "entailment"}}}}
    card["dataset_info"][0]["splits"] = card["dataset_info"][0]["splits"][:1]
    card["configs"][0]["data_files"] = card["configs"][0]["data_files"][:1]
    api = FakeApi({"aps/super_glue": _info(["rte/train-00000-of-00001.parquet"], card)})
    assert main(["check", "--tasks", "rte"], make_api=lambda: api) == 1
    line = capsys.readouterr().out.splitlines()[0]
    assert "split 'validation' is not among the hub's splits ['train']" in line
    assert ("field 'label' has labels ['not_entailment', 'entailment'], declared ['entailment', 'not_entailment']"
            in line)


def test_refresh_writes_the_hubs_sizes_and_features_into_the_manifest(online, tmp_path, capsys):
    manifest = tmp_path / "hub_manifest.json"
    manifest.write_text(MANIFEST_FILE.read_text())
    api = FakeApi({"aps/super_glue": _info(["rte/train-00000-of-00001.parquet",
                                            "rte/validation-00000-of-00001.parquet"], RTE_CARD)})
    assert main(["check", "--tasks", "rte", "--refresh", "--manifest", str(manifest)], make_api=lambda: api) == 0
    record = json.loads(manifest.read_text())["entries"]["rte"]
    assert record["splits"] == {"train": {"num_rows": 2490, "num_bytes": 1000},
                                "validation": {"num_rows": 277, "num_bytes": 100}}
    assert record["download_bytes"] == 1277939 and record["features"]["label"]["names"] == ["entailment",
                                                                                            "not_entailment"]
    assert len(record["evidence"]) >= 2  # kept
    assert "refreshed 1 entries" in capsys.readouterr().out


def test_refresh_keeps_a_known_row_count_the_hub_does_not_give():
    """A split the hub knows only from its file names (sizes None) keeps the manifest's sizes; a size the hub gives
    replaces the recorded one."""
    record = {"splits": {"train": {"num_rows": 2490, "num_bytes": 1000}, "validation": {"num_rows": 277}},
              "evidence": [{"where": "w", "says": "s"}]}
    facts = HubFacts({"train": {"num_rows": None, "num_bytes": None},
                      "validation": {"num_rows": 300, "num_bytes": None},
                      "test": {"num_rows": None, "num_bytes": None}})
    new = refreshed(record, facts)
    assert new["splits"] == {"train": {"num_rows": 2490, "num_bytes": 1000},
                             "validation": {"num_rows": 300, "num_bytes": None},
                             "test": {"num_rows": None, "num_bytes": None}}
    assert new["evidence"] == record["evidence"] and record["splits"]["train"]["num_rows"] == 2490


def test_offline_it_checks_the_manifest_and_says_the_hub_was_not_reached():
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "flanlab", "catalogue", "check"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = proc.stdout.splitlines()
    assert len(lines) == 61 and all(line.startswith("ok   ") for line in lines[:60])
    assert lines[-1].startswith("the hub was not reached (HF_HUB_OFFLINE=1): 60 of 60 entries checked against the "
                                "manifest only")
    bad = subprocess.run([sys.executable, "-m", "flanlab", "catalogue", "check", "--tasks", "rtee"], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "flanlab: error: unknown FLAN catalogue entry 'rtee'" in bad.stderr
