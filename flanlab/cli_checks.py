"""Command-line checks that run before Hydra, for mistakes Hydra reports in many lines or with a traceback.

* an unknown config-group option (``model=tiny_t55``): one line with a did-you-mean, instead of Hydra's
  list of options and search path;
* an output folder (``hydra.run.dir``/``hydra.sweep.dir``, or ``./outputs``) that cannot be created or
  written: one line, instead of the traceback of Hydra's ``mkdir``;
* a credential given as an override (``+logger.api_key=...``), which Hydra would save in the run's
  ``.hydra/overrides.yaml``;
* then the command line is composed as Hydra will compose it (each value of a ``-m`` sweep at least once)
  and each config goes through ``flanlab.config_checks``: wrong types, bad sizes, unknown config keys,
  a missing model, nothing to score, unknown held-out clusters, LoRA without targets.

Anything these checks cannot judge (``glob(...)`` and ``interval(...)`` sweeps, extra search paths, syntax
errors, ``--cfg``/``--help``) is left to Hydra.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import ChoiceSweep, Override
from omegaconf import DictConfig

from flanlab.errors import ConfigError, FlanlabError, unknown
from flanlab.sweeps.grid import config_points, with_sweeper_params
from flanlab.tracking.run import is_secret

VALUE_FLAGS = {"--config-path", "-cp", "--config-name", "-cn", "--config-dir", "-cd", "--cfg", "-c", "--package",
               "-p", "--experimental-rerun"}
SEARCH_FLAGS = {"--config-path", "-cp", "--config-dir", "-cd"}
OUTPUT_KEYS = ("hydra.run.dir", "hydra.sweep.dir")
DEFAULT_OUTPUT = "outputs"
NO_COMPOSE_FLAGS = {"--help", "-h", "--hydra-help", "--info", "-i", "--cfg", "-c", "--shell-completion", "-sc",
                    "--resolve", "--version", "--experimental-rerun"}
ENV_REFERENCE = re.compile(r"""(['"]?)\$\{oc\.env:[^}]*\}\1""")
NAME_IN_VALUE = re.compile(r"([A-Za-z_][\w-]*)\s*:")


def overrides_of(argv: Sequence[str]) -> tuple[list[str], bool]:
    """The override arguments of a command line, and whether it adds config search paths."""
    out, skip, extra_search = [], False, False
    for arg in argv:
        if skip:
            skip = False
            continue
        flag = arg.split("=", 1)[0]
        if arg.startswith("-"):
            extra_search |= flag in SEARCH_FLAGS
            skip = flag in VALUE_FLAGS and "=" not in arg
            continue
        extra_search |= "searchpath" in flag
        out.append(arg)
    return out, extra_search


def _choices(override: Override) -> list[str]:
    if override.is_delete() or override.value() is None:
        return []
    if override.is_sweep_override():
        return list(override.sweep_string_iterator()) if isinstance(override.value(), ChoiceSweep) else []
    return [str(override.value())]


def check_group_choices(overrides: Sequence[Override], conf_dir: str | Path) -> None:
    """Raise a did-you-mean ``ConfigError`` for an option that is not a YAML file of its config group."""
    conf_dir = Path(conf_dir)
    for override in overrides:
        group = override.key_or_group
        folder = conf_dir / group
        if group.split("/")[0] == "hydra" or "." in group or not folder.is_dir():
            continue
        options = sorted(p.stem for p in folder.glob("*.yaml"))
        for choice in _choices(override):
            if choice not in options:
                raise unknown(f"{group} config", choice, options, key=group)


def check_output_dir(value: str, key: str) -> None:
    """Raise a ``ConfigError`` if the folder ``value`` (up to its first interpolation) cannot be made and written."""
    literal = value.split("${", 1)[0] or "."
    path = Path(literal).expanduser().absolute()
    existing = path
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise ConfigError(f"output directory {value!r} (config key `{key}`) cannot be created: {existing} is a file")
    try:  # a real attempt: os.access says yes to root even on /proc or a read-only mount
        os.rmdir(tempfile.mkdtemp(dir=existing, prefix=".flanlab-write-check."))
    except OSError as err:
        raise ConfigError(f"output directory {value!r} (config key `{key}`) cannot be created in {existing}: "
                          f"{err.strerror or err}") from None


def check_no_secrets(args: Sequence[str]) -> None:
    """Refuse an override that sets a credential-like key: Hydra writes every override to ``.hydra/overrides.yaml``.

    A reference to an environment variable (``+logger.api_key='${oc.env:WANDB_API_KEY}'``) holds no secret
    and is allowed; so is deleting a key (``~logger.api_key``).
    """
    for arg in args:
        key, sep, value = arg.partition("=")
        if not sep or key.startswith("~") or ENV_REFERENCE.fullmatch(value.strip()):
            continue
        plus, key = key[: len(key) - len(key.lstrip("+"))], key.lstrip("+")
        inside = [f"{key}.{name}" for name in NAME_IN_VALUE.findall(value) if is_secret(name)]
        named = key if any(is_secret(part) for part in re.split(r"[./@]", key)) else next(iter(inside), None)
        if named:
            env = "HF_TOKEN" if re.search(r"hf|hub|hugging", named, re.IGNORECASE) else "WANDB_API_KEY"
            raise ConfigError(f"`{named}` looks like a credential, and Hydra saves command-line overrides in the run's "
                              ".hydra/overrides.yaml; set it in an environment variable instead (WANDB_API_KEY for "
                              "W&B, HF_TOKEN for the Hugging Face hub), or refer to one: "
                              f"{plus or '+'}{named}='${{oc.env:{env}}}'")


def config_name_of(argv: Sequence[str]) -> str:
    """The ``--config-name``/``-cn`` of a command line (``config`` without one)."""
    name = "config"
    for i, arg in enumerate(argv):
        flag, sep, value = arg.partition("=")
        if flag in ("--config-name", "-cn"):
            name = value if sep else (argv[i + 1] if i + 1 < len(argv) else name)
    return name


def _key_of(arg: str) -> str:
    return arg.split("=", 1)[0].lstrip("+~").split("@")[0]


def unknown_key(key: str, cfg: DictConfig, arg: str) -> ConfigError:
    """A one-line error for an override of ``key``, which ``cfg`` does not have (Hydra: "Could not override")."""
    parts, node, depth = key.split("."), cfg, 0
    while depth < len(parts) and isinstance(node, DictConfig) and parts[depth] in node:
        node, depth = node[parts[depth]], depth + 1
    wrong, where = ".".join(parts[: depth + 1]), "".join(f"{p}." for p in parts[:depth])
    siblings = [f"{where}{k}" for k in node] if isinstance(node, DictConfig) else []
    err = unknown("config key", wrong, siblings) if siblings else ConfigError(f"unknown config key {wrong!r}")
    return ConfigError(f"{err} (a new key needs a leading +: +{arg.lstrip('+')})")


def hydra_setting_error(err: Exception) -> ConfigError | None:
    """Hydra's multi-line "Could not override 'hydra....'" (a key the chosen launcher or sweeper lacks) as one
    line; None for any other error."""
    found = re.match(r"Could not override '(hydra\.[^']+)'", str(err))
    if found is None:
        return None
    why = str(err.__cause__ or "no such key").splitlines()[0]
    return ConfigError(f"unknown config key {found.group(1)!r} ({why}; a new key needs a leading +)")


def composed_configs(overrides: list[Override], conf_dir: Path, config_name: str,
                     multirun: bool) -> Iterator[tuple[DictConfig, DictConfig, list[str]]]:
    """(config, its defaults, the keys set on the command line) for each config of ``config_points``. An
    override of a key the config lacks is a one-line error; any other config that Hydra rejects, or a sweep
    that cannot be listed, ends the checks, for Hydra to report or judge."""
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(config_dir=str(conf_dir), version_base="1.3"):
        try:
            points = config_points(with_sweeper_params(overrides, config_name, multirun))
        except Exception as err:
            raise (hydra_setting_error(err) or err) from None
        for point in points or []:
            groups = [a for a in point if "." not in _key_of(a) and (conf_dir / _key_of(a)).is_dir()]
            defaults = None
            try:
                defaults = compose(config_name=config_name, overrides=groups)
                cfg = compose(config_name=config_name, overrides=point)
            except Exception as err:
                found = re.match(r"Could not override '([^']+)'.\s*To append to your config use", str(err))
                arg = next((a for a in point if found and _key_of(a) == found.group(1)), None)
                if arg is None or defaults is None:
                    return
                raise unknown_key(found.group(1), defaults, arg) from None
            yield cfg, defaults, [_key_of(a) for a in point if a not in groups]


def check_composed(overrides: list[Override], conf_dir: str | Path, config_name: str = "config",
                   multirun: bool = False) -> None:
    """Compose the command line's configs and run ``flanlab.config_checks`` on each."""
    from flanlab.config_checks import check_config, check_split, check_types

    for cfg, defaults, keys in composed_configs(overrides, Path(conf_dir), config_name, multirun):
        check_types(cfg, defaults, first=keys)
        check_config(cfg)
        check_split(cfg)


def check_debug_order(args: Sequence[str]) -> None:
    """``+debug=...`` must come after ``+experiment=...``: Hydra applies appended configs in command-line order, so
    a debug config given first would be overridden by the experiment's values."""
    groups = [a.split("=", 1)[0].lstrip("+") for a in args]
    if "debug" in groups and "experiment" in groups and groups.index("debug") < groups.index("experiment"):
        debug, experiment = args[groups.index("debug")], args[groups.index("experiment")]
        raise ConfigError(f"{debug} comes before {experiment}, whose values would then win; put {debug} after it")


def check_command_line(argv: Sequence[str], conf_dir: str | Path) -> None:
    """Run every check on ``argv`` (the arguments after ``python -m flanlab``)."""
    args, extra_search = overrides_of(argv)
    check_no_secrets(args)
    check_debug_order(args)
    try:
        overrides = OverridesParser.create().parse_overrides(args)
    except Exception:  # a syntax error: Hydra reports it in its own words
        return
    if not extra_search:
        check_group_choices(overrides, conf_dir)
    outputs = {o.key_or_group: str(o.value()) for o in overrides if o.key_or_group in OUTPUT_KEYS and not o.is_delete()}
    for key in OUTPUT_KEYS:
        check_output_dir(outputs.get(key, DEFAULT_OUTPUT), key)
    if not extra_search and not any(a.split("=", 1)[0] in NO_COMPOSE_FLAGS for a in argv):
        try:
            check_composed(overrides, conf_dir, config_name_of(argv), multirun=bool({"-m", "--multirun"} & set(argv)))
        except FlanlabError:
            raise
        except Exception:  # a config these checks cannot read: the run itself reports what is wrong with it
            return
