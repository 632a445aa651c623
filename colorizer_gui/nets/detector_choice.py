"""Which repair detector runs: the one choice the command line and the window share.

Importing this module needs no PyTorch; the learned detector (``damage_net``) is
imported only when it is chosen, so a machine without PyTorch falls back to the
core's classical filters under "auto".
"""
from __future__ import annotations

import logging
from typing import Callable, Optional

import numpy as np

log = logging.getLogger(__name__)

#: The choices ``--detector`` offers ("auto": the learned one when it can run).
DETECTOR_CHOICES = ("auto", "classical", "learned")

Detector = Callable[[np.ndarray, float], np.ndarray]


class DetectorUnavailable(Exception):
    """The learned detector was asked for but cannot run; the message says why."""


def choose_detector(choice: str = "auto") -> Optional[Detector]:
    """The detector for ``choice`` (None: the core's classical detector).

    "auto" is the learned detector when PyTorch and its model file are installed
    (it won on ``bench/repair.py``), else classical; "learned" raises
    ``DetectorUnavailable`` when it cannot run."""
    if choice == "classical":
        return None
    if choice == "auto":
        try:
            from .damage_net import default_detector

            return default_detector()
        except Exception as err:  # noqa: BLE001 - no torch, a bad file: the classical one
            log.info("learned repair detector not used: %s", err)
            return None
    if choice != "learned":
        raise ValueError(f"unknown repair detector {choice!r}; choose one of {', '.join(DETECTOR_CHOICES)}")
    try:
        from .damage_net import DETECTOR_FILE, bundled_detector_path, learned_detector
    except ImportError as err:
        raise DetectorUnavailable(f"the learned detector needs PyTorch ({err})") from None
    path = bundled_detector_path()
    if path is None:
        raise DetectorUnavailable(f"the learned detector's model file {DETECTOR_FILE} is not installed")
    return learned_detector(path)
