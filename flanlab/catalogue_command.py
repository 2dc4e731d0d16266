"""``flanlab catalogue check [--tasks a,b] [--refresh]``: can the FLAN catalogue be loaded from today's hub?

Online, one line per entry says ok or why not (no data is downloaded), and the exit code is 1 if any entry fails.
Offline (``HF_HUB_OFFLINE=1``, or no connection), every declaration is checked against the checked-in manifest and
the last line says plainly that the hub was not reached; the exit code is 0 when the manifest agrees.
``--refresh`` (online) writes the hub's current splits, sizes and features into the manifest (docs/catalogue.md).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from flanlab.errors import ConfigError, first_line, unknown
from flanlab.io import atomic_write_text
from flanlab.tasks.flan import flan_specs
from flanlab.tasks.flan.manifest import MANIFEST_FILE, load_manifest
from flanlab.tasks.hub_check import EntryCheck, offline_check, online_check, refreshed
from flanlab.tasks.spec import TaskSpec


def offline_setting() -> str | None:
    """Why the hub is off-limits by configuration (an environment variable), or None."""
    for name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"):
        if os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on"):
            return f"{name}={os.environ[name]}"
    return None


def check(names: list[str], manifest: dict[str, Any], make_api: Callable[[], Any],
          specs: Mapping[str, TaskSpec] | None = None) -> tuple[list[EntryCheck], str]:
    """Every entry's check (``specs``: the FLAN entries, ``flan_specs()`` when None), online when the hub answers,
    and the closing line."""
    specs, entries = specs if specs is not None else flan_specs(), manifest["entries"]
    offline = offline_setting()
    if offline is None:
        api, checks = make_api(), []
        try:
            for name in names:
                checks.append(online_check(specs[name], api))
        except Exception as err:  # the hub did not answer at all: check against the manifest instead
            offline = first_line(err, 120, with_type=True)
        else:
            failed = sum(not c.ok for c in checks)
            return checks, f"the hub was reached: {len(checks) - failed} of {len(checks)} entries ok"
    checks = [offline_check(specs[name], entries.get(name)) for name in names]
    failed = sum(not c.ok for c in checks)
    return checks, (f"the hub was not reached ({offline}): {len(checks) - failed} of {len(checks)} entries checked "
                    "against the manifest only (splits, fields and label names as recorded, not as the hub has them "
                    "today)")


def main(argv: list[str] | None = None, make_api: Callable[[], Any] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="flanlab catalogue", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["check"])
    parser.add_argument("--tasks", help="comma-separated entry names (default: every entry)")
    parser.add_argument("--manifest", default=str(MANIFEST_FILE), help="the manifest to check or refresh")
    parser.add_argument("--refresh", action="store_true",
                        help="write the hub's current splits, sizes and features into the manifest (online only)")
    args = parser.parse_args(argv)
    try:
        manifest = load_manifest(args.manifest)
    except ConfigError as err:
        print(f"flanlab: error: {err}", file=sys.stderr)
        return 2
    specs = flan_specs()
    names = [n.strip() for n in args.tasks.split(",") if n.strip()] if args.tasks else list(specs)
    for name in names:
        if name not in specs:
            print(f"flanlab: error: {unknown('FLAN catalogue entry', name, specs, key='--tasks')}", file=sys.stderr)
            return 2
    checks, summary = check(names, manifest, make_api or _hf_api, specs)
    for item in checks:
        print(item.line)
    print(summary)
    if args.refresh:
        if summary.startswith("the hub was not reached"):
            print("flanlab: error: --refresh needs the hub; nothing was written", file=sys.stderr)
            return 2
        write_refreshed(Path(args.manifest), manifest, checks)
    return 0 if all(c.ok for c in checks) else 1


def write_refreshed(path: Path, manifest: dict[str, Any], checks: list[EntryCheck]) -> None:
    """The manifest with each passing entry's record refreshed from the hub, written atomically."""
    for item in checks:
        if item.ok and item.facts is not None:
            manifest["entries"][item.name] = refreshed(manifest["entries"][item.name], item.facts)
    atomic_write_text(path, json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")
    print(f"refreshed {sum(c.ok for c in checks)} entries in {path}")


def _hf_api() -> Any:
    from huggingface_hub import HfApi

    return HfApi()


if __name__ == "__main__":
    sys.exit(main())
