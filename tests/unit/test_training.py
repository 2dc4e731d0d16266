"""The fit loop on tiny models: exact resume, exact gradient accumulation, errors, FLOP formula."""

from __future__ import annotations

import math
import random
from types import SimpleNamespace

import datasets
import pytest
import torch
from omegaconf import OmegaConf
from torch.utils.flop_counter import FlopCounterMode
from transformers import LlamaConfig, LlamaForCausalLM, T5Config, T5ForConditionalGeneration

from flanlab.data.token_layout import IGNORE
from flanlab.errors import ConfigError
from flanlab.faults import RunFault
from flanlab.models.load import LoadedModel
from flanlab.tracking.run import NullTracker
from flanlab.training import checkpoint as ckpt
from flanlab.training.loop import fit
from flanlab.training.model import TrainModule
from flanlab.training.throughput import FlopCounter
from tests.conftest import CONF_DIR

TOK = SimpleNamespace(pad_token_id=0)


def _t5(d_model: int = 32, dropout: float = 0.1) -> T5ForConditionalGeneration:
    torch.manual_seed(0)
    return T5ForConditionalGeneration(T5Config(
        vocab_size=64, d_model=d_model, d_kv=8, d_ff=64, num_layers=2, num_decoder_layers=2, num_heads=4,
        dropout_rate=dropout, pad_token_id=0, eos_token_id=1, decoder_start_token_id=0))


def _data(n: int = 48) -> datasets.Dataset:
    rng = random.Random(0)
    ids = [[rng.randrange(3, 64) for _ in range(rng.randrange(3, 15))] + [1] for _ in range(n)]
    labels = [[i[0], i[1], 1] for i in ids]  # learnable: copy the first two tokens
    return datasets.Dataset.from_dict({"input_ids": ids, "labels": labels})


def _cfg(**over) -> OmegaConf:
    base = OmegaConf.load(CONF_DIR / "train" / "default.yaml")
    return OmegaConf.merge(base, {"steps": 6, "batch_size": 8, "warmup_steps": 2, "log_every": 1,
                                  "progress": False, "lr": 3e-3}, over)


def _params(model: torch.nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in model.parameters()])


def test_resume_from_a_checkpoint_reproduces_the_uninterrupted_run(tmp_path):
    """Dropout is on, so RNG state, data position, optimiser and schedule must all be restored."""
    cfg = _cfg(checkpoint_every=3, keep_checkpoints=2, optimizer="adafactor", schedule="cosine")
    full = fit(LoadedModel(_t5(), TOK, "seq2seq", "t"), _data(), cfg, NullTracker(), seed=1, checkpoint_dir=tmp_path)
    full_params = _params(LoadedModel(_t5(), TOK, "seq2seq", "t").model)  # a fresh model differs ...
    assert [p.name for p in ckpt.checkpoints(tmp_path)] == ["step_00000003", "step_00000006"]
    final_state = torch.load(tmp_path / "step_00000006" / "state.pt", weights_only=False)["model"]
    (tmp_path / "step_00000006" / "state.pt").unlink()  # as if killed after step 3's checkpoint
    again = LoadedModel(_t5(), TOK, "seq2seq", "t")
    resumed = fit(again, _data(), cfg, NullTracker(), seed=1, checkpoint_dir=tmp_path, resume=True)
    assert resumed.resumed_from == 3
    assert resumed.losses == full.losses
    for key, value in again.model.state_dict().items():
        assert torch.equal(value, final_state[f"model.{key}"]), key
    assert not torch.equal(full_params, _params(again.model))


def _damage(path, how: str) -> None:
    state = path / ckpt.STATE_FILE
    data = state.read_bytes()
    if how == "truncated":  # a killed copy
        state.write_bytes(data[: len(data) // 2])
    else:  # one flipped byte deep inside a tensor: the zip still opens, only the digest tells
        state.write_bytes(data[:-4000] + bytes([data[-4000] ^ 0xFF]) + data[-3999:])


@pytest.mark.parametrize("how", ["truncated", "bit_flip"])
def test_a_damaged_newest_checkpoint_resumes_from_the_older_one(tmp_path, caplog, how):
    """The damaged step-6 checkpoint is skipped with a warning naming it; the run resumes from step 3 and ends
    exactly where the uninterrupted run ended."""
    cfg = _cfg(checkpoint_every=3, keep_checkpoints=2)
    full = fit(LoadedModel(_t5(), TOK, "seq2seq", "t"), _data(), cfg, NullTracker(), seed=1, checkpoint_dir=tmp_path)
    final_state = ckpt.read_state(tmp_path / "step_00000006")["model"]
    _damage(tmp_path / "step_00000006", how)
    with pytest.raises(ckpt.Unreadable):
        ckpt.read_state(tmp_path / "step_00000006")
    again = LoadedModel(_t5(), TOK, "seq2seq", "t")
    resumed = fit(again, _data(), cfg, NullTracker(), seed=1, checkpoint_dir=tmp_path, resume=True)
    assert resumed.resumed_from == 3 and resumed.losses == full.losses
    for key, value in again.model.state_dict().items():
        assert torch.equal(value, final_state[f"model.{key}"]), key
    assert any("step_00000006 cannot be read" in r.getMessage() for r in caplog.records)


def test_with_no_readable_checkpoint_auto_starts_afresh_and_true_stops(tmp_path, caplog):
    cfg = _cfg(checkpoint_every=3, keep_checkpoints=2)
    fresh = fit(LoadedModel(_t5(), TOK, "seq2seq", "t"), _data(), cfg, NullTracker(), seed=1, checkpoint_dir=tmp_path)
    for path in ckpt.checkpoints(tmp_path):
        _damage(path, "truncated")
    with pytest.raises(RunFault, match=r"no readable checkpoint under .*unreadable: step_00000006 \(.*step_00000003"):
        fit(LoadedModel(_t5(), TOK, "seq2seq", "t"), _data(), cfg, NullTracker(), seed=1, checkpoint_dir=tmp_path,
            resume=True)
    again = fit(LoadedModel(_t5(), TOK, "seq2seq", "t"), _data(), cfg, NullTracker(), seed=1, checkpoint_dir=tmp_path)
    assert again.resumed_from is None and again.losses == fresh.losses
    assert any("training starts afresh" in r.getMessage() for r in caplog.records)


def _poison_forward(monkeypatch, at_calls: set[int]) -> None:
    """Make the training forward return a NaN loss on the given calls (1-based)."""
    calls = {"n": 0}
    original = TrainModule.forward

    def forward(self, **batch):
        calls["n"] += 1
        loss = original(self, **batch)
        return loss * float("nan") if calls["n"] in at_calls else loss

    monkeypatch.setattr(TrainModule, "forward", forward)


def test_a_nonfinite_loss_stops_with_the_step_lr_and_clip(monkeypatch):
    _poison_forward(monkeypatch, {3})
    with pytest.raises(RunFault, match=r"^the training loss became nan at step 3 \(lr .*, train.clip_norm 1.0\); "
                                      r"lower train.lr \(now 0.003\), raise train.warmup_steps \(now 2\), or skip"):
        fit(LoadedModel(_t5(), TOK, "seq2seq", "t"), _data(), _cfg(), NullTracker(), seed=0)


def test_skip_batch_skips_and_counts_nonfinite_batches_up_to_the_limit(monkeypatch):
    _poison_forward(monkeypatch, {2, 5})
    loaded = LoadedModel(_t5(), TOK, "seq2seq", "t")
    result = fit(loaded, _data(), _cfg(on_nonfinite="skip_batch"), NullTracker(), seed=0)
    assert result.skipped_batches == 2 and all(math.isfinite(loss) for _, loss in result.losses)
    assert torch.isfinite(_params(loaded.model)).all()
    _poison_forward(monkeypatch, {1, 2, 3})
    with pytest.raises(RunFault, match=r"3 batches were skipped, more than train\.max_skipped_batches=2"):
        fit(LoadedModel(_t5(), TOK, "seq2seq", "t"), _data(), _cfg(on_nonfinite="skip_batch", max_skipped_batches=2),
            NullTracker(), seed=0)


def test_gradient_accumulation_matches_one_big_batch():
    a = LoadedModel(_t5(dropout=0.0), TOK, "seq2seq", "t")
    b = LoadedModel(_t5(dropout=0.0), TOK, "seq2seq", "t")
    cfg = _cfg(batching="random")
    fa = fit(a, _data(), OmegaConf.merge(cfg, {"batch_size": 8, "grad_accum": 1}), NullTracker(), seed=0)
    fb = fit(b, _data(), OmegaConf.merge(cfg, {"batch_size": 4, "grad_accum": 2}), NullTracker(), seed=0)
    assert fa.global_batch == fb.global_batch == 8
    # the loss is normalised by the global batch's target tokens, so the split does not matter
    assert [s for s, _ in fa.losses] == [s for s, _ in fb.losses]
    assert max(abs(x - y) for (_, x), (_, y) in zip(fa.losses, fb.losses, strict=True)) < 1e-5


def test_resume_true_without_checkpoint_is_one_line(tmp_path):
    with pytest.raises(RunFault, match="resume=true but there is no readable checkpoint"):
        fit(LoadedModel(_t5(), TOK, "seq2seq", "t"), _data(), _cfg(), NullTracker(), seed=0,
            checkpoint_dir=tmp_path / "none", resume=True)


def test_checkpoint_from_another_model_config_is_refused(tmp_path):
    fit(LoadedModel(_t5(), TOK, "seq2seq", "small"), _data(), _cfg(steps=1), NullTracker(), seed=0,
        checkpoint_dir=tmp_path)
    with pytest.raises(ConfigError, match=r"written for model 'small'.*'wide'"):
        fit(LoadedModel(_t5(d_model=48), TOK, "seq2seq", "wide"), _data(), _cfg(steps=2), NullTracker(), seed=0,
            checkpoint_dir=tmp_path)


@pytest.mark.parametrize("key,value", [("steps", 0), ("batch_size", -1), ("grad_accum", 0), ("precision", "fp8")])
def test_bad_train_values_name_the_key(key, value):
    with pytest.raises(ConfigError, match=f"train.{key}"):
        fit(LoadedModel(_t5(), TOK, "seq2seq", "t"), _data(), _cfg(**{key: value}), NullTracker(), seed=0)


def test_loss_falls_and_nonpad_fraction_is_logged():
    logged = []
    tracker = SimpleNamespace(log=lambda m, step=None: logged.append(m))
    res = fit(LoadedModel(_t5(), TOK, "seq2seq", "t"), _data(96), _cfg(steps=30, log_every=10, batching="bucketed"),
              tracker, seed=0)
    assert res.losses[-1][1] < res.losses[0][1]
    assert {"train/loss", "train/lr", "train/tokens_per_s", "train/nonpad_fraction", "train/mfu"} <= set(logged[0])
    assert 0.5 < res.nonpad_fraction <= 1.0 and res.peak_flops > 0


def _measured_flops(module: torch.nn.Module, batch: dict) -> int:
    with FlopCounterMode(display=False) as counter:
        module(**batch).backward()
    return counter.get_total_flops()


@pytest.mark.parametrize("arch", ["seq2seq", "causal"])
def test_flop_formula_matches_torch_flop_counter(arch):
    """The documented formula vs torch's own count of matmul FLOPs (forward + backward), one unpadded example."""
    if arch == "seq2seq":
        model, n_in, n_out = _t5(d_model=64), 20, 6
        batch = {"input_ids": torch.randint(3, 64, (1, n_in)), "attention_mask": torch.ones(1, n_in, dtype=torch.long),
                 "labels": torch.randint(3, 64, (1, n_out))}
    else:
        torch.manual_seed(0)
        model = LlamaForCausalLM(LlamaConfig(vocab_size=64, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                                             num_attention_heads=4, num_key_value_heads=4))
        n_in, n_out = 26, 26
        ids = torch.randint(3, 64, (1, n_in))
        batch = {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": torch.cat(
            [torch.full((1, 20), IGNORE), ids[:, 20:]], dim=1)}
    predicted = FlopCounter(model, arch).step([n_in], [n_out])
    measured = _measured_flops(TrainModule(model.train(), arch), batch)
    assert abs(predicted - measured) / measured < 0.1, (predicted, measured)


def test_tokenizer_larger_than_the_vocabulary_is_refused():
    from flanlab.models.load import _check_vocab

    class Tok:
        def __len__(self) -> int:
            return 100

    with pytest.raises(ConfigError, match=r"model 'mini': tokenizer has 100 tokens but the model's embedding has 64"):
        _check_vocab(_t5(), Tok(), "mini")
    _check_vocab(_t5(), type("Small", (), {"__len__": lambda self: 64})(), "mini")  # equal sizes are fine


def test_packed_batching_trains_a_decoder_only_model():
    """Decoder-only configs have no decoder_start_token_id (transformers 5 raises on the attribute)."""
    torch.manual_seed(0)
    model = LlamaForCausalLM(LlamaConfig(vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                         num_attention_heads=4, num_key_value_heads=4, pad_token_id=0))
    rng = random.Random(0)
    ids, labels = [], []
    for _ in range(48):
        ctx = [rng.randrange(3, 64) for _ in range(rng.randrange(3, 12))]
        tgt = [ctx[0], 1]
        ids.append(ctx + tgt)
        labels.append([IGNORE] * len(ctx) + tgt)
    data = datasets.Dataset.from_dict({"input_ids": ids, "labels": labels})
    res = fit(LoadedModel(model, TOK, "causal", "c"), data, _cfg(steps=8, batching="packed"), NullTracker(), seed=0)
    assert res.steps == 8 and res.nonpad_fraction > 0.5


def test_the_fit_stages_one_by_one(tmp_path):
    """``set_up`` builds the global batch and the wrapped model; ``resume_from`` finds nothing in a fresh folder
    (and refuses ``resume=true`` there); one ``train_step`` moves the weights and fills the loss window; ``wrap_up``
    returns the totals."""
    from flanlab.training.loop import resume_from, set_up, train_step, wrap_up

    loaded, cfg = LoadedModel(_t5(), TOK, "seq2seq", "t"), _cfg(grad_accum=2, warmup_steps=0)
    run = set_up(loaded, _data(), cfg, seed=0, cpu_bf16=False, cache_dir=tmp_path)
    assert (run.micro, run.accum, run.world, run.distributed) == (8, 2, 1, False) and len(run.rows) == 48
    found, done = resume_from(tmp_path / "ckpt", "auto", run, "t")
    window = done.window
    assert found is None and (done.start, done.losses, window, done.skipped, done.curve) == (1, [], [0.0, 0.0], 0, [])
    with pytest.raises(RunFault, match="resume=true but there is no readable checkpoint"):
        resume_from(tmp_path / "ckpt", "true", run, "t")
    before = _params(loaded.model)
    counts = {"nonpad": 0.0, "slots": 0.0, "flops": 0.0, "tokens": 0.0, "skipped": 0.0}
    assert train_step(run, cfg, counts, window, "seq2seq") is True
    assert not torch.equal(before, _params(loaded.model))
    assert window[1] == 16 * 3 and window[0] > 0  # two micro-batches of 8 rows, 3 target tokens each
    assert counts["nonpad"] > 0 and counts["slots"] >= counts["nonpad"] and counts["flops"] > 0
    assert counts["tokens"] == counts["nonpad"]  # one process: its share is the whole global batch
    result = wrap_up(run, loaded, cfg, counts, 1.0, [(1, window[0] / window[1])], None)
    assert result.global_batch == 16 and result.tokens_per_s == counts["nonpad"] and not loaded.model.training
