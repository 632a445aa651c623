"""Photos whose names use all 255 bytes the file system allows, in three scripts:
every name Colorizer derives from them (copy, counter copies, hints sidecar,
temp files) fits, in the CLI and the window's code paths."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from colorizer_gui.core import provenance
from colorizer_gui.core.atomic import atomic_write_bytes
from colorizer_gui.core.filenames import NAME_MAX_BYTES, fit_name, name_bytes, shorten
from colorizer_gui.core.hints import Hint, find_sidecar, hints_for, save_hints, sidecar_beside
from colorizer_gui.core.photo import OUTPUT_MARKER, copy_name, output_path

from photo_factory import gray_scene, make_jpeg

REPO = Path(__file__).resolve().parents[2]


def name_of_255_bytes(letter: str, ext: str = ".jpg", variant: str = "") -> str:
    """A photo name of exactly 255 UTF-8 bytes made of ``letter``, ending ``variant + ext``."""
    body = 255 - name_bytes(variant + ext)
    count, rest = divmod(body, name_bytes(letter))
    return letter * count + "x" * rest + variant + ext


LONG_NAMES = {
    "ascii": name_of_255_bytes("a"),          # 255 letters
    "accented": name_of_255_bytes("é"),       # 127 two-byte letters
    "cjk": name_of_255_bytes("照"),           # 83 three-byte letters
}


def test_the_test_names_are_at_the_limit_and_the_file_system_takes_them(tmp_path):
    for name in LONG_NAMES.values():
        assert name_bytes(name) == NAME_MAX_BYTES
        (tmp_path / name).write_bytes(b"x")


def test_fit_name_keeps_names_that_fit_and_shortens_on_character_boundaries():
    assert fit_name("Wedding 1961", "_color", ".jpg") == "Wedding 1961_color.jpg"
    for letter in ("a", "é", "照", "👵"):
        stem = letter * 300
        fitted = fit_name(stem, "_color-12", ".jpeg")
        assert name_bytes(fitted) <= NAME_MAX_BYTES
        assert fitted.endswith("_color-12.jpeg") and fitted.startswith(letter)
        fitted.encode("utf-8")  # whole characters only: this would fail on a split one
        assert set(fitted.split("~")[0]) == {letter}
    # A letter is never cut off from its accent (e + combining acute, as macOS writes names).
    assert not shorten("e\u0301" * 100, 51).endswith("e")
    assert fit_name("x" * 300, ext=".json") == fit_name("x" * 300, ext=".json")  # the same every time


def test_two_long_names_that_differ_only_at_the_end_get_different_names(tmp_path):
    first = Path(name_of_255_bytes("照", variant="1"))
    second = Path(name_of_255_bytes("照", variant="2"))
    assert copy_name(first, ".jpg") != copy_name(second, ".jpg")
    assert sidecar_beside(first).name != sidecar_beside(second).name
    assert copy_name(first, ".jpg", 2) != copy_name(first, ".jpg")


@pytest.mark.parametrize("script", sorted(LONG_NAMES))
def test_hints_sidecar_of_a_255_byte_name_round_trips(tmp_path, script):
    photo = make_jpeg(tmp_path / LONG_NAMES[script], gray_scene(20, 30))
    assert hints_for(photo) == ([], None)  # no sidecar: nothing to say, no error
    hints = [Hint(0.25, 0.5, (200, 30, 40), name="dress")]
    written = save_hints(photo, hints)
    assert written.parent == tmp_path and name_bytes(written.name) <= NAME_MAX_BYTES
    assert hints_for(photo) == (hints, written)
    # Atomic writes: the temp file of a 255-byte name fits too, and none is left.
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([photo.name, written.name])
    save_hints(photo, [])
    assert find_sidecar(photo) is None


def test_a_sidecar_lookup_that_cannot_exist_is_simply_no_sidecar(tmp_path):
    # A path longer as a whole than the system allows (PATH_MAX): no error, no hints.
    deep = tmp_path.joinpath(*["d" * 250] * 20) / LONG_NAMES["cjk"]
    assert hints_for(deep) == ([], None)


def test_atomic_write_of_a_255_byte_name_leaves_no_temp_file(tmp_path):
    for name in LONG_NAMES.values():
        target = tmp_path / name
        atomic_write_bytes(target, b"one")
        atomic_write_bytes(target, b"two")  # replaces, through a temp file of its own
        assert target.read_bytes() == b"two"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(LONG_NAMES.values())


def test_output_paths_of_255_byte_names_count_up_within_the_limit(tmp_path):
    for name in LONG_NAMES.values():
        for _ in range(3):
            dest = output_path(Path(name), tmp_path, "JPEG")
            assert name_bytes(dest.name) <= NAME_MAX_BYTES and dest.suffix == ".jpg"
            dest.write_bytes(b"x")
    assert len(list(tmp_path.iterdir())) == 9


def _cli(*args: object, home: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, COLORIZER_HOME=str(home), PYTHONIOENCODING="utf-8", OMP_NUM_THREADS="1")
    return subprocess.run([sys.executable, "-m", "colorizer_gui", *map(str, args)], cwd=REPO, env=env,
                          capture_output=True, text=True, encoding="utf-8", timeout=300,
                          stdin=subprocess.DEVNULL)


def test_cli_colorizes_255_byte_names_in_three_scripts_with_their_sidecars(tmp_path):
    from tiny_cgan import make_tiny_generator_file

    model = make_tiny_generator_file(tmp_path / "tiny.safetensors")
    album = tmp_path / "album"
    album.mkdir()
    photos = [make_jpeg(album / name, gray_scene(24, 32, seed=i)) for i, name in enumerate(LONG_NAMES.values())]
    save_hints(photos[0], [Hint(0.5, 0.5, (200, 30, 40))])  # a sidecar that is read, not an error
    before = {p.name: p.read_bytes() for p in album.iterdir()}

    for _ in range(2):  # the second run writes the -2 copies
        run = _cli("colorize", album, "--weights", model, home=tmp_path / "home")
        assert run.returncode == 0, run.stdout + run.stderr
        assert "Traceback" not in run.stderr and "FAILED" not in run.stdout + run.stderr
    copies = sorted(p for p in (album / "colorized").iterdir() if p.name != OUTPUT_MARKER)
    assert len(copies) == 6
    for copy in copies:
        assert name_bytes(copy.name) <= NAME_MAX_BYTES and copy.suffix == ".jpg"
    # Each copy names its own original in full.
    sources = sorted(provenance.read_provenance(c)["colorizer"]["Source"] for c in copies)
    assert sources == sorted(p.name for p in photos for _ in range(2))
    assert {p.name: p.read_bytes() for p in album.iterdir() if p.is_file()} == before

    skip = _cli("colorize", album, "--weights", model, "--skip-existing", home=tmp_path / "home")
    assert skip.returncode == 0, skip.stderr
    assert len([p for p in (album / "colorized").iterdir() if p.name != OUTPUT_MARKER]) == 6


@pytest.mark.parametrize("script", sorted(LONG_NAMES))
def test_window_hint_editing_and_save_work_on_255_byte_names(tmp_path, script):
    """What the window does with a photo: hints edited and saved at once (HintEditor),
    then Save (``save_colour_copy``, as the window's save worker calls it)."""
    from colorizer_gui.backends import create_backend
    from colorizer_gui.core.pipeline import save_color_copy
    from colorizer_gui.gui.hint_editor import HintEditor
    from tiny_cgan import make_tiny_generator_file

    photo = make_jpeg(tmp_path / LONG_NAMES[script], gray_scene(24, 32))
    editor, problem = HintEditor.for_photo(photo)
    assert problem == ""
    editor.add(0.4, 0.4, (30, 60, 200), "coat")
    reopened, problem = HintEditor.for_photo(photo)
    assert problem == "" and reopened.hints == editor.hints
    backend = create_backend("cgan", weights=make_tiny_generator_file(tmp_path / "m.safetensors"), device="cpu")
    backend.load()
    for _ in range(2):
        saved = save_color_copy(photo, tmp_path / "colorized", backend, hints=editor.hints)
        assert name_bytes(saved.path.name) <= NAME_MAX_BYTES and saved.path.is_file()


def test_an_imported_model_with_a_255_byte_name_gets_a_name_that_fits(tmp_path):
    from colorizer_gui.core.model_store import imported_name

    src = tmp_path / name_of_255_bytes("模", ".safetensors")
    assert name_bytes(src.name) == NAME_MAX_BYTES
    dest = imported_name(src, tmp_path / "weights")
    assert dest.suffix == ".safetensors" and name_bytes(dest.name) <= NAME_MAX_BYTES
