"""Out of graphics-card memory: run it again on the CPU. One home for the retry that
the window (previews, saves, batches) and the command line (``colorize``) share.

The smaller step, a smaller render size on the same device, is
``pipeline.predict_ab_or_smaller``; this is the last one, for when the card cannot
hold the model and a photo at all.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional, Sequence, TypeVar

from .pipeline import is_out_of_memory

if TYPE_CHECKING:
    from .backend_type import Backend
    from .batch import BatchResult
    from .progress import ProgressCallback

T = TypeVar("T")
B = TypeVar("B")

#: What the user is told when a job ran on the CPU instead.
CPU_NOTE = "The graphics card ran out of memory, so this ran on the CPU."
BATCH_NOTE = "The graphics card ran out of memory; retrying those photos on the CPU."


def _nothing(_err: BaseException) -> None:
    """No clean-up between the tries."""


def run_with_cpu_retry(run: Callable[[B], T], first: B, on_cpu: Optional[Callable[[], B]],
                       on_out_of_memory: Callable[[BaseException], None] = _nothing) -> tuple[T, B, str]:
    """``run(first)``; when it runs out of memory (``is_out_of_memory``) and ``on_cpu``
    is given (None: ``first`` is on the CPU already), ``on_out_of_memory(err)`` (free
    the card) then ``run(on_cpu())``. ``first`` is what ``run`` takes: a backend, or a
    description of one. Returns (result, what ran it, ``CPU_NOTE`` or ""); any other
    error, and a second out-of-memory, are raised as they are."""
    try:
        return run(first), first, ""
    except Exception as err:  # noqa: BLE001 - only out-of-memory is retried
        if on_cpu is None or not is_out_of_memory(err):
            raise
        on_out_of_memory(err)
    second = on_cpu()
    return run(second), second, CPU_NOTE


def run_batch_with_cpu_retry(inputs: Sequence[Path], out_dir: Optional[Path], backend: "Backend",
                             on_cpu: Optional[Callable[[], "Backend"]],
                             on_out_of_memory: Callable[[BaseException], None] = _nothing,
                             on_progress: Optional["ProgressCallback"] = None,
                             **options: Any) -> "BatchResult":
    """``batch.run_batch``, then the photos that ran out of memory colorized again with
    ``on_cpu()`` (when given: None means ``backend`` is on the CPU already) in a second
    batch, and the two results merged. ``on_progress`` also gets ``BATCH_NOTE`` (a str)
    before the retry; ``options`` go to ``run_batch``."""
    from .batch import run_batch

    result = run_batch(inputs, out_dir, backend, on_progress=on_progress, **options)
    oom = [src for src, msg in result.failed if is_out_of_memory(msg)]
    if not oom or on_cpu is None or result.cancelled:
        return result
    if on_progress is not None:
        on_progress(BATCH_NOTE)  # type: ignore[arg-type]
    on_out_of_memory(MemoryError(BATCH_NOTE))
    again = run_batch(oom, out_dir, on_cpu(), on_progress=on_progress, **options)
    result.failed = [(s, m) for s, m in result.failed if s not in oom] + again.failed
    result.done += again.done
    result.skipped += again.skipped
    result.recolored += again.recolored
    result.notes += again.notes
    result.cancelled = again.cancelled
    return result
