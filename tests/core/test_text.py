"""One way to say durations: measured times exactly, estimates roughly."""
from __future__ import annotations

from colorizer_gui.core.text import format_duration, format_eta


def test_measured_durations_are_exact():
    assert format_duration(12.34) == "12.3 s"
    assert format_duration(125) == "2 min 05 s"
    assert format_duration(3720) == "1 h 02 min"


def test_estimates_say_about_and_round():
    assert format_duration(0.2, about=True) == "about 1 s"
    assert format_duration(44.6, about=True) == "about 45 s"
    assert format_duration(25 * 60 + 10, about=True) == "about 25 min"
    assert format_duration(1.5 * 3600, about=True) == "about 1.5 h"


def test_time_left_is_empty_when_unknown():
    assert format_eta(None) == ""
    assert format_eta(130) == "about 2 min left"
