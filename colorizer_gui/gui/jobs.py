"""Background jobs: ``Job`` runs a worker function in a daemon thread and posts its
events; ``Cancelled``, ``stop_jobs`` (at close) and ``friendly_error``. The
machinery every worker shares, apart from the workers themselves (``workers``).

Each job posts ``((JOB, PHASE), (job_id, payload))`` to the window. Whatever
happens, a job ends by posting exactly one of DONE, ERROR or CANCELLED.
"""
from __future__ import annotations

import itertools
import logging
import threading
import time
import traceback
from typing import Any, Callable

from ..core.errors import UserError
from ..core.pipeline import is_out_of_memory
from . import events

log = logging.getLogger("colorizer_gui.gui.workers")  # the name its log lines have always carried

_ids = itertools.count(1)


class Cancelled(Exception):
    """Raised inside a worker to stop early after the user cancelled."""


class Job:
    """A background job posting events to one window; ``cancel()`` asks it to stop."""

    def __init__(self, window: Any, name: str, target: Callable[..., Any], *args: Any) -> None:
        self.window, self.name, self.target, self.args = window, name, target, args
        self.id = next(_ids)
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"colorizer-{name}-{self.id}", daemon=True)
        self.ended = threading.Event()
        self.muted = False

    def start(self) -> "Job":
        """Start the thread; returns self."""
        self.thread.start()
        return self

    def cancel(self) -> None:
        """Ask the job to stop at its next check."""
        self.stop_event.set()

    def should_stop(self) -> bool:
        """True once cancel() was called (polled by the core's long loops)."""
        return self.stop_event.is_set()

    @property
    def running(self) -> bool:
        return not self.ended.is_set()

    def mute(self) -> None:
        """Stop posting (the window is closing and will not read events any more)."""
        self.muted = True

    def post(self, phase: str, payload: Any = None) -> None:
        """Post ``(name, phase)`` to the window; ignored once muted or the window is gone."""
        if self.muted:
            return
        try:
            if getattr(self.window, "TKroot", None) is not None:
                self.window.write_event_value((self.name, phase), (self.id, payload))
        except Exception:  # the window closed under us: nobody is listening
            log.debug("window gone; dropped %s %s", self.name, phase)

    def _run(self) -> None:
        try:
            result = self.target(self, *self.args)
        except Cancelled:
            self.ended.set()
            self.post(events.CANCELLED, None)
        except BaseException as err:  # noqa: BLE001 - every job must end with a post
            if isinstance(err, UserError):
                log.warning("job %s: %s", self.name, err)  # expected: the message says it all
            else:
                log.error("job %s failed:\n%s", self.name, traceback.format_exc())
            self.ended.set()
            self.post(events.ERROR, friendly_error(err))
        else:
            self.ended.set()
            self.post(events.CANCELLED if self.should_stop() else events.DONE, result)


def stop_jobs(jobs: list[Job], keep_painting: Callable[[], Any], grace: float) -> None:
    """Cancel and mute ``jobs`` (the window is closing) and give them up to
    ``grace`` seconds to reach a safe point, calling ``keep_painting`` meanwhile:
    a worker that was posting when it was muted waits for Tk to take its event.
    Jobs are daemon threads, so one still running cannot keep the app alive."""
    for job in jobs:
        job.mute()
        job.cancel()
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(job.thread.is_alive() for job in jobs):
        try:
            keep_painting()
        except Exception:  # noqa: BLE001 - Tk may already be going away
            break
        time.sleep(0.02)
    for job in jobs:
        if job.thread.is_alive():
            log.info("job %s still finishing at close", job.name)


def friendly_error(err: BaseException) -> str:
    """A plain-language message for an exception raised in a worker."""
    text = str(err) or type(err).__name__
    if is_out_of_memory(err):
        return ("The graphics card ran out of memory. Try the CPU device or a smaller render size.")
    if isinstance(err, PermissionError):
        return f"Permission denied: {getattr(err, 'filename', '') or text}. Choose a folder you can write to."
    if isinstance(err, OSError) and getattr(err, "errno", None) == 28:
        return "The disk is full. Free some space or choose another output folder."
    if isinstance(err, UserError):
        return text
    return f"Something went wrong ({type(err).__name__}: {text}). Details are in the log file."
