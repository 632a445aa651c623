"""Row strips on several cores: every row once, errors not lost, same pixels."""
from __future__ import annotations

import threading

import numpy as np
import pytest

from colorizer_gui.core import color
from colorizer_gui.core.strips import for_each_strip


@pytest.mark.parametrize("height, rows", [(1, 128), (127, 128), (128, 128), (1000, 128), (1001, 7)])
def test_every_row_is_worked_on_exactly_once(height: int, rows: int) -> None:
    seen = np.zeros(height, np.int32)
    lock = threading.Lock()

    def work(y0: int, y1: int) -> None:
        assert 0 <= y0 < y1 <= height and y1 - y0 <= rows
        with lock:
            seen[y0:y1] += 1
    for_each_strip(height, work, rows=rows)
    assert (seen == 1).all()


def test_a_strip_error_is_raised_after_the_other_strips_finish() -> None:
    done = []

    def work(y0: int, y1: int) -> None:
        if y0 == 256:
            raise OSError("disk went away")
        done.append(y0)
    with pytest.raises(OSError, match="disk went away"):
        for_each_strip(1024, work, rows=128)
    assert sorted(done) == [0, 128, 384, 512, 640, 768, 896]


def test_the_parallel_8bit_join_matches_one_strip_at_a_time() -> None:
    rng = np.random.default_rng(3)
    lightness8 = rng.integers(0, 256, (1037, 611), dtype=np.uint8)
    ab = rng.normal(0, 25, (40, 23, 2)).astype(np.float32)
    joined = color.join_lab(lightness8, ab, 1.2, bgr=True)
    import cv2
    small = np.clip(np.rint(color.apply_saturation(ab, 1.2) + 128), 0, 255).astype(np.uint8)
    ab8 = cv2.resize(small, (611, 1037), interpolation=cv2.INTER_LINEAR)
    whole = cv2.cvtColor(cv2.merge([lightness8, ab8]), cv2.COLOR_Lab2BGR)
    assert np.array_equal(joined, whole)
    rgb = rng.integers(0, 256, (1037, 611, 3), dtype=np.uint8)
    assert np.array_equal(color.lightness8(rgb), cv2.cvtColor(rgb, cv2.COLOR_RGB2Lab)[:, :, 0])


def test_a_kept_pool_is_made_once_and_works_again_in_a_forked_child() -> None:
    import os

    from colorizer_gui.core.kept_pool import KeptPool

    pool = KeptPool(1, "test-kept")
    first = pool.get()
    assert pool.get() is first and first.submit(lambda: 6 * 7).result() == 42
    if not hasattr(os, "fork"):
        return
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # a child whose copy of the pool has no threads: a new one serves it
        try:
            ok = pool.get() is not first and pool.get().submit(lambda: 1).result(timeout=10) == 1
            os.write(write, b"1" if ok else b"0")
        finally:
            os._exit(0)
    os.close(write)
    os.waitpid(child, 0)
    assert os.read(read, 1) == b"1"
