"""Ships ``conf/`` inside the package (as ``flanlab/conf``) in wheels and non-editable installs.

The configs stay at the repository root for readers and editable installs; a built wheel carries a copy,
which ``flanlab.paths.config_dir`` finds first. Everything else about the build is in ``pyproject.toml``.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildWithConfigs(build_py):
    """``build_py`` plus a copy of ``conf/`` (YAML only) into ``<build>/flanlab/conf``."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads the checkout's conf/ directly
        target = Path(self.build_lib) / "flanlab" / "conf"
        shutil.copytree("conf", target, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))


setup(cmdclass={"build_py": BuildWithConfigs})
