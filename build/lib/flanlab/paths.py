"""Where flanlab's own files are: the Hydra config folder, in a checkout and in an installed wheel."""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def config_dir() -> Path:
    """``flanlab/conf`` in an installed wheel (``setup.py`` copies it there), else the checkout's ``conf/``."""
    packaged = PACKAGE_DIR / "conf"
    return packaged if (packaged / "config.yaml").is_file() else PACKAGE_DIR.parent / "conf"
