"""What the figure notebooks (``notebooks/``) read, checked before they draw anything.

A results folder that is missing, holds no cell's ``results.json``, or holds no cell of the notebook's study
stops the notebook with one line naming the command that makes it, e.g.::

    no results under ../outputs/prompt_semantics/sweep: run `python -m flanlab +experiment=prompt_semantics` first

In Jupyter (and so under papermill and ``pytest --nbmake``, which run a Jupyter kernel) that line is the whole
error shown: :class:`NoResults` renders itself as that line, with no traceback, and execution stops there. Run
as a plain script (``python notebooks/01_template_ablation.py``), the line goes to stderr and the exit code is 1.
"""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

from flanlab.analysis.collect import RESULTS_FILE


class NoResults(Exception):
    """A notebook's input is not there. IPython shows an exception through ``_render_traceback_`` when it has one:
    here, the message alone."""

    def _render_traceback_(self) -> list[str]:
        return [str(self)]


def missing_line(results_dir: str | Path, command: str, what: str = "results") -> str:
    """The one line: what is missing, where, and the command that makes it."""
    return f"no {what} under {results_dir}: run `{command}` first"


def in_ipython() -> bool:
    """Whether this runs in an IPython shell or Jupyter kernel."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    return get_ipython() is not None


def stop(line: str) -> NoReturn:
    """Stop the notebook (or script) with ``line`` and nothing else."""
    if in_ipython():
        raise NoResults(line)
    raise SystemExit(line)


def require_results(results_dir: str | Path, command: str) -> Path:
    """``results_dir`` as a Path if at least one cell's ``results.json`` lies under it (any depth); else stop with
    the line naming ``command``."""
    root = Path(results_dir)
    if not root.is_dir() or next(root.rglob(RESULTS_FILE), None) is None:
        stop(missing_line(results_dir, command))
    return root


def require(found: object, results_dir: str | Path, command: str, what: str) -> None:
    """Stop with the line naming ``command`` unless ``found`` (a table or dict: non-empty) holds the study's
    results: for a folder with cells, but none of this notebook's study (``what``)."""
    if found.empty if hasattr(found, "empty") else not found:
        stop(missing_line(results_dir, command, what))
