"""core/atomic.py: the one helper every writer uses. A replace keeps the old file
until the new one is whole; a no-overwrite write never loses a file, even one that
appears while the copy runs (the fine-tune "install model" race)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from colorizer_gui.core import atomic


def test_replace_write_keeps_the_old_file_when_the_writer_fails(tmp_path):
    target = tmp_path / "settings.json"
    target.write_text("old")

    def broken(tmp: str) -> None:
        Path(tmp).write_text("half")
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        atomic.atomic_write(target, broken)
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["settings.json"]  # no temp left
    atomic.atomic_write_text(target, "new")
    assert target.read_text() == "new"


def test_a_copy_never_replaces_a_file_that_appears_while_it_runs(tmp_path, monkeypatch):
    src = tmp_path / "trained.safetensors"
    src.write_bytes(b"new model")
    models = tmp_path / "models"
    dest = models / "finetune.safetensors"
    real_copy = shutil.copyfile

    def copy_while_another_appears(a, b):
        real_copy(a, b)
        dest.write_bytes(b"the user's other model")  # lands between any check and the move

    monkeypatch.setattr(atomic.shutil, "copyfile", copy_while_another_appears)
    written = atomic.atomic_copy(src, dest, overwrite=False)
    assert dest.read_bytes() == b"the user's other model"
    assert written == models / "finetune-2.safetensors" and written.read_bytes() == b"new model"
    assert sorted(p.name for p in models.iterdir()) == ["finetune-2.safetensors", "finetune.safetensors"]


def test_install_model_from_the_fine_tune_dialog_keeps_an_existing_model(tmp_path):
    from colorizer_gui.gui.finetune import install_model

    trained = tmp_path / "run" / "model.safetensors"
    trained.parent.mkdir()
    trained.write_bytes(b"fresh")
    dest = tmp_path / "weights" / "grandma.safetensors"
    dest.parent.mkdir()
    dest.write_bytes(b"older fine-tune")
    installed, made_default = install_model(None, trained, dest, False)
    assert Path(installed).name == "grandma-2.safetensors" and Path(installed).read_bytes() == b"fresh"
    assert dest.read_bytes() == b"older fine-tune" and not made_default
