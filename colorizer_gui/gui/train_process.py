"""The fine-tuning trainer as a subprocess of the app.

Training runs in a separate process (``colorizer_gui train ... --progress-json``):
a crash or a cancel there cannot take the window down. The process writes one
JSON object per progress event to stdout; a reader thread turns each line into a
window event, and the run ends by posting exactly one of DONE, ERROR or CANCELLED,
like every other background job. Stopping never blocks the event loop (``stop``).
"""
from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Optional

from ..core import paths
from ..core.progress import ProgressEvent
from . import events as ev

log = logging.getLogger(__name__)

TRAIN_EVENT = ev.TRAIN
#: The trainer's output other than progress lines (its log), in the run folder.
LOG_NAME = "train-output.log"


def training_command() -> list[str]:
    """The command that runs the training CLI: Colorizer's own command line
    (``paths.cli_command()``: ``python -m colorizer_gui``, or the bundled app or its
    Windows console twin) followed by ``train``."""
    return paths.cli_command() + ["train"]


def popen_flags() -> int:
    """Process-creation flags for the trainer: on Windows its own process group (so
    Ctrl+Break stops it, not us) and no console window popping up."""
    if sys.platform.startswith("win"):
        return subprocess.CREATE_NEW_PROCESS_GROUP | subprocess.CREATE_NO_WINDOW  # type: ignore[attr-defined]
    return 0


def parse_progress_line(line: str) -> Optional[ProgressEvent]:
    """A ProgressEvent from one ``--progress-json`` line (None for other output)."""
    line = line.strip()
    if not line.startswith("{"):
        return None
    try:
        data = json.loads(line)
        return ProgressEvent(stage=str(data.get("stage", "")), done=int(data.get("done", 0)),
                             total=int(data.get("total", 0)), current=str(data.get("current") or ""),
                             eta_s=data.get("eta_s"), metrics=dict(data.get("metrics") or {}),
                             preview=data.get("preview"))
    except (ValueError, TypeError):
        return None


class TrainingProcess:
    """Runs the training CLI in a subprocess and posts its progress to a window.

    Posts ``(TRAIN, PROGRESS)`` for every progress line and ends with exactly one
    of ``(TRAIN, DONE)`` (exit code 0), ``(TRAIN, CANCELLED)`` or ``(TRAIN, ERROR)``.
    """

    #: Threads stopping trainers whose dialog was closed (see ``stop``).
    stopping: list[threading.Thread] = []

    def __init__(self, window: Any, args: list[str], run_dir: Path) -> None:
        self.window, self.args, self.run_dir = window, args, Path(run_dir)
        self.proc: Optional[subprocess.Popen] = None
        self.cancelled = False
        self.thread = threading.Thread(target=self._run, name="colorizer-train-reader", daemon=True)

    def start(self) -> "TrainingProcess":
        self.run_dir.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        flags = popen_flags()
        self._stderr = open(self.run_dir / LOG_NAME, "ab")
        log.info("training: %s", " ".join(self.args))
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=self._stderr, stdin=subprocess.DEVNULL,
                                     env=env, creationflags=flags, text=True, encoding="utf-8", errors="replace",
                                     bufsize=1)
        self.thread.start()
        return self

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def cancel(self) -> None:
        """Ask the trainer to stop: it saves a checkpoint (so Resume works) and exits."""
        if not self.running:
            return
        self.cancelled = True
        assert self.proc is not None
        try:
            if sys.platform.startswith("win"):
                self.proc.send_signal(signal.CTRL_BREAK_EVENT)  # type: ignore[attr-defined]
            else:
                self.proc.send_signal(signal.SIGINT)
        except OSError:
            pass

    def kill(self, grace: float = 10.0) -> None:
        """Cancel, then kill if it has not exited after ``grace`` seconds (blocks: call
        it from a worker thread, never from the event loop; see ``stop``)."""
        self.cancel()
        if self.proc is None:
            return
        try:
            self.proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.proc.kill()

    def stop(self, grace: float = 15.0) -> None:
        """Ask the trainer to stop now and kill it after ``grace`` seconds if it has
        not exited, from a thread: the caller (the event loop) does not wait."""
        if not self.running:
            return
        self.cancel()
        stopper = threading.Thread(target=self.kill, args=(grace,), name="colorizer-train-stop", daemon=True)
        TrainingProcess.stopping.append(stopper)
        stopper.start()

    @classmethod
    def wait_stopped(cls, timeout: float) -> None:
        """Wait (at most ``timeout`` s) for trainers being stopped to exit; for the
        app's very end, after its windows are gone, so no trainer outlives it."""
        deadline = time.monotonic() + timeout
        for stopper in cls.stopping:
            stopper.join(max(0.0, deadline - time.monotonic()))
        cls.stopping = [t for t in cls.stopping if t.is_alive()]

    def _post(self, phase: str, payload: Any) -> None:
        try:
            if getattr(self.window, "TKroot", None) is not None:
                self.window.write_event_value((TRAIN_EVENT, phase), payload)
        except Exception:  # the dialog closed: nobody is listening
            pass

    def _run(self) -> None:
        assert self.proc is not None
        last_done: Optional[ProgressEvent] = None
        other: list[str] = []
        try:
            assert self.proc.stdout is not None
            for line in self.proc.stdout:
                event = parse_progress_line(line)
                if event is None:
                    if line.strip():
                        other = (other + [line.rstrip()])[-20:]
                    continue
                if event.stage == "done":
                    last_done = event
                self._post(ev.PROGRESS, event)
            code = self.proc.wait()
        except BaseException as err:  # noqa: BLE001 - every run must end with a post
            self._post(ev.ERROR, f"Lost contact with the training process: {err}")
            return
        finally:
            self._stderr.close()
        cancelled = self.cancelled or bool(last_done and last_done.metrics.get("cancelled"))
        if cancelled:
            self._post(ev.CANCELLED, code)
        elif code == 0:
            self._post(ev.DONE, code)
        else:
            tail = _tail(self.run_dir / LOG_NAME) or "\n".join(other)
            self._post(ev.ERROR, f"Training stopped with an error (exit code {code}).\n{tail}")


def _tail(path: Path, lines: int = 6) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return ""
    return "\n".join(text[-lines:])
