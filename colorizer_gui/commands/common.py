"""What the command line's subcommands share: exit codes, error lines, shown names."""
from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path

# Exit codes: documented in the README.
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def _shown(path: object) -> str:
    """A path as the user should read it: a name in another encoding keeps its letters."""
    from ..core.photo import display_name

    return display_name(str(path))


def _error(message: str) -> None:
    print(f"colorizer: error: {message}", file=sys.stderr)


def _quit_now(_signum: int = 0, _frame: object = None) -> None:
    """End the process at once with exit code 130 and no traceback.

    Used for a second Ctrl+C (or SIGTERM), and for any that comes while the
    process is already ending. ``os._exit`` skips the interpreter's exit hooks,
    which would otherwise be interrupted mid-way and print a traceback (torch's
    among them). Nothing is lost: outputs are written to temp files and renamed,
    and the next run deletes temp files a stopped run left."""
    try:
        print("\nStopped.", file=sys.stderr, flush=True)
        sys.stdout.flush()
    finally:
        os._exit(EXIT_INTERRUPTED)


class _StopOnCtrlC:
    """First Ctrl+C (or SIGTERM, as at logout or shutdown): finish the current
    photo and stop. A second one: quit at once (``_quit_now``)."""

    _SIGNALS = tuple(s for s in (signal.SIGINT, getattr(signal, "SIGTERM", None)) if s is not None)

    def __init__(self) -> None:
        self.requested = False
        self._previous: dict[int, object] = {}

    def __enter__(self) -> "_StopOnCtrlC":
        if threading.current_thread() is threading.main_thread():
            for signum in self._SIGNALS:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *_exc: object) -> None:
        for signum, previous in self._previous.items():
            # Once a stop was asked for, the process is on its way out: another
            # signal while it ends must not interrupt the exit hooks.
            signal.signal(signum, _quit_now if self.requested else previous)  # type: ignore[arg-type]

    def _handle(self, _signum: int, _frame: object) -> None:
        if self.requested:
            _quit_now()
        self.requested = True
        print("\nStopping after the current photo; a video being colorized is dropped "
              "(press Ctrl+C again to quit at once)...",
              file=sys.stderr, flush=True)

    def __call__(self) -> bool:
        return self.requested


def _short_message(src: Path, message: str) -> str:
    """Drop the file name a PhotoError message starts with: the line already names the path."""
    prefix = f"{src.name}: "
    return message[len(prefix):] if message.startswith(prefix) else message
