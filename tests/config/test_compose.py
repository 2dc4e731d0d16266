"""Every config composes; every experiment file composes with the primary config."""

from __future__ import annotations

from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from tests.conftest import CONF_DIR

GROUPS = sorted(p.name for p in CONF_DIR.iterdir() if p.is_dir() and p.name != "experiment")
OPTIONS = [(g, f.stem) for g in GROUPS for f in sorted((CONF_DIR / g).glob("*.yaml"))]
EXPERIMENTS = sorted(p.stem for p in (CONF_DIR / "experiment").rglob("*.yaml"))
APPENDED = {"debug"}  # groups not in config.yaml's defaults: selected with +group=option


def _compose(overrides: list[str]):
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(config_name="config", overrides=overrides, return_hydra_config=True)


@pytest.mark.parametrize(("group", "option"), OPTIONS, ids=[f"{g}={o}" for g, o in OPTIONS])
def test_every_group_option_composes(group, option):
    cfg = _compose([f"{'+' * (group in APPENDED)}{group}={option}"])
    assert cfg.hydra.runtime.choices[group] == option
    if group not in APPENDED:  # debug configs are `# @package _global_`
        assert OmegaConf.select(cfg, group) is not None


def _leaves(node: dict, path: tuple[str, ...] = ()):
    for key, value in node.items():
        if isinstance(value, dict) and value:
            yield from _leaves(value, (*path, key))
        else:
            yield (*path, key), value


def _dig(node, path: tuple[str, ...]):
    for part in path:
        node = node[part]
    return getattr(node, "name", node)  # enums (hydra.mode) compare by name


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_every_experiment_composes_with_its_own_settings(experiment):
    """Each setting and group override an experiment file makes is in the composed config."""
    own = OmegaConf.to_container(OmegaConf.load(next((CONF_DIR / "experiment").rglob(f"{experiment}.yaml"))))
    overrides = [e for e in own.pop("defaults", []) if isinstance(e, dict)]
    cfg = _compose([f"+experiment={experiment}"])
    composed = OmegaConf.to_container(cfg, resolve=False)
    for key, value in _leaves(own):
        assert _dig(composed, key) == value, key
    for entry in overrides:
        ((group, option),) = entry.items()
        assert cfg.hydra.runtime.choices[group.removeprefix("override ").lstrip("/")] == option, group
    assert cfg.experiment_name != "default"  # its own W&B group and output folder


LAUNCHERS = ["basic", "joblib", "submitit_local",
             *(f.stem for f in sorted((CONF_DIR / "hydra" / "launcher").glob("*.yaml")))]


@pytest.mark.parametrize("launcher", LAUNCHERS)
@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_every_experiment_composes_under_every_launcher(experiment, launcher):
    """An experiment sets no launcher keys of its own, so choosing another launcher replaces its choice whole."""
    cfg = _compose([f"+experiment={experiment}", f"hydra/launcher={launcher}"])
    assert cfg.hydra.runtime.choices["hydra/launcher"] == launcher
    if launcher == "joblib_pair":
        assert cfg.hydra.launcher.n_jobs == 2


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_debug_tiny_after_an_experiment_wins_over_it(experiment):
    """`+experiment=... +debug=tiny`: Hydra merges appended configs in command-line order, so every value of
    conf/debug/tiny.yaml is in the composed config, whatever the experiment sets."""
    tiny = OmegaConf.to_container(OmegaConf.load(CONF_DIR / "debug" / "tiny.yaml"))
    plain = OmegaConf.to_container(_compose([f"+experiment={experiment}"]), resolve=False)
    cfg = OmegaConf.to_container(_compose([f"+experiment={experiment}", "+debug=tiny"]), resolve=False)
    for key, value in _leaves(tiny):
        assert _dig(cfg, key) == value, key
    for key in ("hydra.sweeper.params", "hydra.callbacks", "experiment_name", "template", "heldout"):
        assert OmegaConf.select(OmegaConf.create(cfg), key) == OmegaConf.select(OmegaConf.create(plain), key), key


def test_ablation_declares_the_full_grid():
    cfg = _compose(["+experiment=ablation"])
    params = cfg.hydra.sweeper.params
    assert set(params.template.split(",")) == {"untuned", "no_template", "dataset_name", "instruction", "oracle"}
    assert len(params.seed.split(",")) >= 3
    assert cfg.tasks._target_.endswith("ControlCatalogue")
    held = _compose(["+experiment=ablation", f"heldout={params.heldout}"]).heldout.clusters
    assert len(held) >= 2
    assert cfg.hydra.mode.name == "MULTIRUN"


def test_flan_eval_defaults():
    """FLAN's pairing of training and scoring variants."""
    assert list(_compose(["template=no_template"]).template.eval_variants) == ["instruction"]
    assert set(_compose(["template=dataset_name"]).template.eval_variants) == {"dataset_name", "instruction"}
    assert list(_compose(["template=instruction"]).template.eval_variants) == ["instruction"]


def test_conf_dir_is_the_package_default():
    import flanlab.__main__ as entry

    assert Path(entry.CONFIG_DIR) == CONF_DIR
