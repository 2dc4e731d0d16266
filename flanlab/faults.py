"""Faults met in the middle of a run, as one line each: a diverged loss, memory or disk running out, a checkpoint
that cannot be read.

Expected faults become a :class:`RunFault`, a ``FlanlabError``: the entry point prints it as one
``flanlab: error:`` line and exits with code 2, and a sweep cell's ``failed.json`` records the same line. Anything
else is a bug and keeps its traceback. The cell runner prefixes the cell's name (``flanlab.sweeps.cell_runner``).
"""

from __future__ import annotations

import contextlib
import errno
from collections.abc import Iterator

from flanlab.errors import FlanlabError

DISK_FULL = (errno.ENOSPC, errno.EDQUOT)
_OOM_TEXT = ("out of memory", "can't allocate memory", "cannot allocate memory")


class RunFault(FlanlabError):
    """A fault met during training or scoring that the user can act on (what to change is in the message)."""


def is_out_of_memory(err: BaseException) -> bool:
    """Whether ``err`` says memory ran out: ``MemoryError``, ``torch.OutOfMemoryError`` (CUDA), or the CPU
    allocator's ``RuntimeError`` ("DefaultCPUAllocator: can't allocate memory")."""
    if isinstance(err, MemoryError):
        return True
    text = str(err).lower()
    return isinstance(err, RuntimeError) and any(t in text for t in _OOM_TEXT)


def is_disk_full(err: BaseException) -> bool:
    """Whether ``err`` is a write that failed for lack of space (or quota)."""
    return isinstance(err, OSError) and err.errno in DISK_FULL


def out_of_memory(where: str, device: str, advice: str) -> RunFault:
    """The one line for memory running out ``where`` (e.g. "training at step 40")."""
    return RunFault(f"out of memory on {device} while {where}; {advice}")


@contextlib.contextmanager
def memory_fault(where: str, device: str, advice: str) -> Iterator[None]:
    """Memory running out inside the block becomes one line (``out_of_memory``); any other error passes as it is."""
    try:
        yield
    except Exception as err:
        if not is_out_of_memory(err):
            raise
        raise out_of_memory(where, device, advice) from err


def disk_full(path: object, what: str, advice: str) -> RunFault:
    """The one line for a write of ``what`` at ``path`` that found no space left."""
    return RunFault(f"no space left on the device writing {what} {str(path)!r}; {advice}")


def translate(err: BaseException, *, oom: tuple[str, str, str], disk: tuple[str, str]) -> RunFault | None:
    """``err`` as a ``RunFault`` when it is an expected fault, else None. ``oom``: (where, device, advice) for
    memory; ``disk``: (what was written, advice) for a full disk (the path comes from the error)."""
    if isinstance(err, RunFault):
        return err
    if is_out_of_memory(err):
        return out_of_memory(*oom)
    if is_disk_full(err):
        assert isinstance(err, OSError)
        return disk_full(err.filename or "?", *disk)
    return None
