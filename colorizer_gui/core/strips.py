"""Whole-photo work in row strips, spread over the CPU's cores.

OpenCV runs ``cvtColor`` on all cores but ``merge`` and ``extractChannel`` on
one, and each call on a 12 MP photo waits on memory: running strips side by side
in a few threads (OpenCV releases the GIL) takes the 8-bit Lab -> BGR join of a
12 MP photo from about 46 ms to 41 ms on two cores (bench/RESULTS.md, "Hot path").
"""
from __future__ import annotations

import os
from typing import Callable, Optional

from .kept_pool import KeptPool

#: Rows per strip: small enough for a strip's three planes to stay in the cache
#: between one call and the next, large enough that a call's overhead is nothing.
STRIP_ROWS = 128

_MAX_WORKERS = 4  # past four, memory bandwidth is the limit, not the cores


def _workers() -> int:
    return max(1, min(_MAX_WORKERS, os.cpu_count() or 1))


_POOL = KeptPool(_workers(), "colorizer-strips")


def for_each_strip(height: int, work: Callable[[int, int], None], rows: int = STRIP_ROWS) -> None:
    """Call ``work(y0, y1)`` for every strip of ``rows`` rows in ``range(height)``,
    several strips at once on a machine with more than one core.

    ``work`` must touch only its own rows of shared arrays (each strip writes its
    own slice of the output) and must not call ``for_each_strip`` itself. Every
    strip runs; then the first error a strip raised is raised here (so no strip is
    still writing into an output the caller has given up on).
    """
    starts = range(0, height, rows)
    if _workers() == 1 or len(starts) < 2:
        errors = [_run(work, y0, min(height, y0 + rows)) for y0 in starts]
    else:
        futures = [_POOL.get().submit(_run, work, y0, min(height, y0 + rows)) for y0 in starts]
        errors = [future.result() for future in futures]  # waits for all of them
    for error in errors:
        if error is not None:
            raise error


def _run(work: Callable[[int, int], None], y0: int, y1: int) -> Optional[BaseException]:
    try:
        work(y0, y1)
    except Exception as err:  # noqa: BLE001 - handed back to the caller, who raises it
        return err
    return None
