"""Command-line checks that run before Hydra, for mistakes Hydra reports in many lines or with a traceback.

* an unknown config-group option (``model=tiny_t55``): one line with a did-you-mean, instead of Hydra's
  list of options and search path;
* an output folder (``hydra.run.dir``/``hydra.sweep.dir``, or ``./outputs``) that cannot be created or
  written: one line, instead of the traceback of Hydra's ``mkdir``.

Anything these checks cannot judge (sweep functions such as ``glob(...)``, extra search paths, syntax
errors) is left to Hydra.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import ChoiceSweep, Override

from flanlab.errors import ConfigError, unknown

VALUE_FLAGS = {"--config-path", "-cp", "--config-name", "-cn", "--config-dir", "-cd", "--cfg", "-c", "--package",
               "-p", "--experimental-rerun"}
SEARCH_FLAGS = {"--config-path", "-cp", "--config-dir", "-cd"}
OUTPUT_KEYS = ("hydra.run.dir", "hydra.sweep.dir")
DEFAULT_OUTPUT = "outputs"


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


def check_command_line(argv: Sequence[str], conf_dir: str | Path) -> None:
    """Run every check on ``argv`` (the arguments after ``python -m flanlab``)."""
    args, extra_search = overrides_of(argv)
    try:
        overrides = OverridesParser.create().parse_overrides(args)
    except Exception:  # a syntax error: Hydra reports it in its own words
        return
    if not extra_search:
        check_group_choices(overrides, conf_dir)
    outputs = {o.key_or_group: str(o.value()) for o in overrides if o.key_or_group in OUTPUT_KEYS and not o.is_delete()}
    for key in OUTPUT_KEYS:
        check_output_dir(outputs.get(key, DEFAULT_OUTPUT), key)
