"""Progress of long steps: a bar on a terminal, periodic lines in a log, nothing when asked.

Every long step (rendering audio, transcribing it, loading a model, converting a GGUF,
scoring, building a dataset, a sweep's checkpoints) reports through :class:`Progress`, so
they all behave alike:

* stderr is a terminal (or a notebook): a tqdm bar;
* stderr is a file or a pipe (a batch job's log): one line every :data:`INTERVAL_S`
  seconds with done/total, elapsed and left time and the rate, plus a final line when the
  step ends (a log that went quiet for minutes still says what the run is doing);
* progress is off (``--no-progress``, ``evaluate(progress=False)``): nothing.

Model loading and GGUF conversion run as a :func:`stage` with ``quiet_libraries``: unless
stderr is a terminal, transformers' own bars are silenced while it runs (off: nothing at
all; a log: our lines instead of carriage-return bars).

Whether progress is shown is set once per run with :func:`show_progress`, a context
manager around the run (``evaluate``, ``sweep`` and ``data build`` use it), and read by
the steps deep inside adapters that no flag reaches. A step may also be told explicitly
(``enabled=``). Lines are formatted by tqdm's own ``format_meter``.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any, TextIO

INTERVAL_S = 10.0
LINE_FORMAT = (
    "{desc}: {n_fmt}/{total_fmt} {unit} ({percentage:.0f}%) [{elapsed}<{remaining}, {rate_fmt}]"
)
OPEN_LINE_FORMAT = "{desc}: {n_fmt} {unit} [{elapsed}, {rate_fmt}]"
STAGE_LINE_FORMAT = "{desc}: running [{elapsed}]"

_SHOWN: ContextVar[bool] = ContextVar("s2sbench_progress_shown", default=True)
# Line mode: only the innermost open step prints periodic lines (a scoring step waiting on
# a transcription inside it has nothing new to say). Guarded by _LOCK, shared by tickers.
_OPEN: list[Progress] = []
_LOCK = threading.Lock()


@contextlib.contextmanager
def show_progress(enabled: bool) -> Iterator[None]:
    """Within this block, steps show progress (``True``) or stay silent (``False``)."""
    token = _SHOWN.set(bool(enabled))
    try:
        yield
    finally:
        _SHOWN.reset(token)


def progress_shown() -> bool:
    """Whether steps show progress here (the innermost :func:`show_progress`; default yes)."""
    return _SHOWN.get()


def _interactive(stream: TextIO) -> bool:
    if "ipykernel" in sys.modules and stream in (sys.stderr, sys.stdout):
        return True  # a notebook: tqdm.auto draws a widget
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


@contextlib.contextmanager
def quiet_library_bars() -> Iterator[None]:
    """Silence transformers' own bars in this block: "Loading weights" (its process-wide
    switch, restored on the way out) and GGUF de-quantizing (a plain tqdm in
    ``transformers.modeling_gguf_pytorch_utils``, which no switch reaches: swapped for a
    disabled one while the block runs, if that module is imported)."""
    from functools import partial

    logging_module = sys.modules.get("transformers.utils.logging")
    gguf_module = sys.modules.get("transformers.modeling_gguf_pytorch_utils")
    was_on = logging_module is not None and logging_module.is_progress_bar_enabled()
    if was_on:
        logging_module.disable_progress_bar()  # type: ignore[union-attr]
    gguf_bar = getattr(gguf_module, "tqdm", None)
    if gguf_bar is not None:
        gguf_module.tqdm = partial(gguf_bar, disable=True)  # type: ignore[union-attr]
    try:
        yield
    finally:
        if gguf_bar is not None:
            gguf_module.tqdm = gguf_bar  # type: ignore[union-attr]
        if was_on:
            logging_module.enable_progress_bar()  # type: ignore[union-attr]


class Progress:
    """One long step: ``update(n)`` as work gets done, ``close()`` (or ``with``) at the end.

    ``total=None`` counts without a known end; :func:`stage` is a step with no counts at all
    (one blocking call). ``interval`` is the seconds between log lines (default
    :data:`INTERVAL_S`). ``quiet_libraries``
    silences transformers' own bars while the step runs, unless they draw on a terminal.
    """

    def __init__(
        self,
        desc: str,
        total: int | None = None,
        unit: str = "it",
        *,
        enabled: bool | None = None,
        stream: TextIO | None = None,
        interval: float | None = None,
        counted: bool = True,
        quiet_libraries: bool = False,
    ):
        self.desc, self.total, self.unit, self.counted = desc, total, unit, counted
        self.n = 0
        self.stream = stream if stream is not None else sys.stderr
        self.interval = INTERVAL_S if interval is None else interval
        self.started = time.monotonic()
        shown = progress_shown() if enabled is None else enabled
        if counted and total == 0:
            shown = False  # nothing to do (all cached): nothing to say
        self.mode = "off" if not shown else ("bar" if _interactive(self.stream) else "lines")
        self._bar: Any = None
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        self._closed = False
        self._quiet = contextlib.ExitStack()
        if quiet_libraries and self.mode != "bar":
            self._quiet.enter_context(quiet_library_bars())
        if self.mode == "bar":
            from tqdm.auto import tqdm

            self._bar = tqdm(
                total=total,
                desc=desc,
                unit=unit,
                file=self.stream,
                leave=None if counted else False,  # nested bars vanish, the outermost stays
                bar_format=None if counted else "{desc} [{elapsed}]",
            )
            if not counted:  # nothing will update it: keep its clock moving
                self._ticker = threading.Thread(target=self._refresh, daemon=True)
        elif self.mode == "lines":
            self._ticker = threading.Thread(target=self._tick, daemon=True)
        with _LOCK:
            _OPEN.append(self)
        if self._ticker is not None:
            self._ticker.start()

    def update(self, n: int = 1) -> None:
        self.n += n
        if self._bar is not None:
            self._bar.update(n)

    def line(self) -> str:
        """The step's state as one log line (``s2sbench: <desc>: ...``)."""
        from tqdm import tqdm

        elapsed = time.monotonic() - self.started
        if not self.counted:
            fmt = STAGE_LINE_FORMAT
        else:
            fmt = LINE_FORMAT if self.total else OPEN_LINE_FORMAT
        text = tqdm.format_meter(
            self.n, self.total or None, elapsed, prefix=self.desc, unit=self.unit, bar_format=fmt
        )
        return f"s2sbench: {text}"

    def final_line(self) -> str:
        elapsed = time.monotonic() - self.started
        if not self.counted:
            return f"s2sbench: {self.desc}: done in {elapsed:.1f} s"
        rate = f", {self.n / elapsed:.3g} {self.unit}/s" if elapsed > 0 and self.n else ""
        of = f"/{self.total}" if self.total is not None else ""
        return f"s2sbench: {self.desc}: {self.n}{of} {self.unit} in {elapsed:.1f} s{rate}"

    def _print(self, text: str) -> None:
        with contextlib.suppress(OSError, ValueError):  # a broken log must not stop the run
            print(text, file=self.stream, flush=True)

    def _tick(self) -> None:
        while not self._stop.wait(self.interval):
            with _LOCK:
                innermost = bool(_OPEN) and _OPEN[-1] is self
            if innermost:
                self._print(self.line())

    def _refresh(self) -> None:
        while not self._stop.wait(0.5):
            self._bar.refresh()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
        with _LOCK:
            if self in _OPEN:
                _OPEN.remove(self)
        self._quiet.close()
        if self._bar is not None:
            self._bar.close()
        elif self.mode == "lines":
            self._print(self.final_line())

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def stage(
    desc: str,
    *,
    enabled: bool | None = None,
    stream: TextIO | None = None,
    quiet_libraries: bool = False,
) -> Progress:
    """A step that is one blocking call (loading a model, converting a GGUF): its elapsed
    time on a terminal, "running" lines in a log, "done in N s" at the end."""
    return Progress(
        desc, enabled=enabled, stream=stream, counted=False, quiet_libraries=quiet_libraries
    )
