"""The window's settings file: what a user chose survives a change of key spelling."""
from __future__ import annotations

from colorizer_gui.gui.settings import Settings


def test_a_settings_file_with_the_old_recolour_key_keeps_the_users_choice():
    assert Settings.from_json({"recolour": True}).recolor is True
    assert Settings.from_json({"recolour": True, "recolor": False}).recolor is False
    assert "recolour" not in Settings().to_json()
