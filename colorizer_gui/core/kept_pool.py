"""A thread pool made on first use and kept for the process (a fresh thread's
first call costs milliseconds on the hot path), forgotten in a forked child,
which inherits the pool object but none of its threads."""
from __future__ import annotations

import os
import threading
import weakref
from concurrent.futures import ThreadPoolExecutor
from typing import Optional

_ALL: "weakref.WeakSet[KeptPool]" = weakref.WeakSet()


class KeptPool:
    """``get()`` returns the same ``ThreadPoolExecutor`` of ``workers`` threads each time."""

    def __init__(self, workers: int, name: str) -> None:
        self.workers, self.name = workers, name
        self._lock = threading.Lock()
        self._pool: Optional[ThreadPoolExecutor] = None
        _ALL.add(self)

    def get(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix=self.name)
            return self._pool

    def _forget(self) -> None:
        self._lock = threading.Lock()
        self._pool = None


def _forget_all() -> None:
    for pool in list(_ALL):
        pool._forget()


if hasattr(os, "register_at_fork"):  # not on Windows, which does not fork
    os.register_at_fork(after_in_child=_forget_all)
