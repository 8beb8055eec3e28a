"""SIGTERM and SIGINT: stop a run cleanly and say what was kept and how to go on.

Batch schedulers and ``timeout`` send SIGTERM; Python's default for it kills
the process with no word (exit 143) and no clean-up. The CLI turns it into an
exception, as Python already does for SIGINT (KeyboardInterrupt), so the score
store is flushed, fsynced and unlocked on the way out, and prints one line.
"""

from __future__ import annotations

import argparse
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


class Terminated(BaseException):
    """SIGTERM, raised in the main thread as KeyboardInterrupt is for SIGINT.

    A BaseException, so no ``except Exception`` on the way swallows it; the
    context managers it passes through close the score store (flush, fsync,
    unlock) as they do for Ctrl-C.
    """


@contextmanager
def sigterm_raises() -> Iterator[None]:
    """While inside, SIGTERM raises :class:`Terminated` (only the main thread may set handlers)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second TERM must not cut the clean-up
        raise Terminated

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def stopped_line(args: argparse.Namespace, how: str) -> str:
    """One line for a run stopped by a signal: what was kept and how to go on."""
    out = getattr(args, "output_path", None) if args.command in ("run", "sweep", None) else None
    if out:
        kept = f"finished scores are kept in {out}"
        return f"s2sbench: {how}; {kept} -- rerun the same command to resume"
    if args.command in ("run", None):
        return f"s2sbench: {how}; nothing was kept -- add --output-path DIR to make a run resumable"
    return f"s2sbench: {how} -- rerun the same command"
