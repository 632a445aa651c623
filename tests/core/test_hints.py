"""Colour hints: the sidecar file format, where sidecars live, hint planes, and the
command line (``--hints``, sidecars, ``--no-hints``, backends without hint inputs)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from colorizer_gui.core import color
from colorizer_gui.core.hints import (Hint, HintsError, find_sidecar, hint_planes, hints_for,
                                      load_hints, parse_hints, save_hints, sidecar_beside)

REPO = Path(__file__).resolve().parents[2]


def _gray_photo(path: Path, w: int = 96, h: int = 64) -> Path:
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(60, 200, (h, w), dtype=np.uint8), "L").save(path)
    return path


def test_the_documented_example_reads_as_written():
    doc = b'{"version": 1, "hints": [{"x": 0.42, "y": 0.31, "rgb": [200, 30, 40], "radius": 0.01, "name": "dress"}]}'
    (hint,) = parse_hints(doc)
    assert hint == Hint(0.42, 0.31, (200, 30, 40), 0.01, "dress")
    a, b = hint.ab()
    assert a > 40 and b > 20  # a red: strongly positive a, positive b
    assert parse_hints(b'{"version": 1, "hints": [{"x": 0, "y": 1, "rgb": [0, 0, 255]}]}')[0].radius == 0.01


@pytest.mark.parametrize("text,problem", [
    ("{", "not valid JSON"),
    ('{"version": 2, "hints": []}', "version 2 is not supported"),
    ('{"hints": []}', "version None is not supported"),
    ('[1, 2]', 'expected an object with "version" and "hints"'),
    ('{"version": 1, "hints": {}}', '"hints" must be a list'),
    ('{"version": 1, "hints": [{"x": 1.5, "y": 0, "rgb": [1, 2, 3]}]}', "hint 1: x must be from 0 to 1, not 1.5"),
    ('{"version": 1, "hints": [{"x": 0, "y": 0}]}', "hint 1: a hint lacks rgb"),
    ('{"version": 1, "hints": [{"x": 0, "y": 0, "rgb": [1, 2]}]}', "rgb must be three whole numbers"),
    ('{"version": 1, "hints": [{"x": 0, "y": 0, "rgb": [1, 2, 300]}]}', "rgb must be three whole numbers"),
    ('{"version": 1, "hints": [{"x": 0, "y": 0, "rgb": [1, 2, 3], "radius": 2}]}', "radius must be from 0 to 0.25"),
    ('{"version": 1, "hints": [{"x": "left", "y": 0, "rgb": [1, 2, 3]}]}', "x must be a number"),
])
def test_bad_files_say_which_file_and_what_is_wrong(tmp_path, text, problem):
    path = tmp_path / "scan.jpg.colorizer.json"
    path.write_text(text)
    with pytest.raises(HintsError) as err:
        load_hints(path)
    assert str(err.value).startswith(f"Hints file {path}: ")
    assert problem in str(err.value)


def test_sidecar_beside_the_photo_round_trips_and_never_touches_the_photo(tmp_path):
    photo = _gray_photo(tmp_path / "grandma.png")
    before = photo.read_bytes()
    hints = [Hint(0.25, 0.5, (30, 60, 200), 0.02, "her dress"), Hint(0.75, 0.5, (200, 30, 40))]
    written = save_hints(photo, hints)
    assert written == tmp_path / "grandma.png.colorizer.json" == sidecar_beside(photo)
    assert json.loads(written.read_text())["hints"][0]["name"] == "her dress"
    assert hints_for(photo) == (hints, written)
    assert photo.read_bytes() == before
    save_hints(photo, [])  # clearing every hint removes the file
    assert find_sidecar(photo) is None and hints_for(photo) == ([], None)


def test_read_only_folder_keeps_hints_in_the_user_data_folder(tmp_path, monkeypatch):
    import colorizer_gui.core.sidecar as sidecar_mod

    monkeypatch.setenv("COLORIZER_HOME", str(tmp_path / "home"))
    photo = _gray_photo(tmp_path / "scan.png")
    real_write = sidecar_mod.atomic_write_bytes

    def read_only_beside(path, data):
        if path.parent == tmp_path:
            raise PermissionError(13, "Permission denied")
        return real_write(path, data)

    monkeypatch.setattr(sidecar_mod, "atomic_write_bytes", read_only_beside)
    written = save_hints(photo, [Hint(0.5, 0.5, (10, 200, 10))])
    assert (tmp_path / "home") in written.parents and not sidecar_beside(photo).exists()
    assert hints_for(photo)[0] == [Hint(0.5, 0.5, (10, 200, 10))]


def test_hint_planes_put_each_color_in_a_disc_at_its_point():
    hints = [Hint(0.25, 0.5, (200, 30, 40), 0.05), Hint(0.9, 0.1, (30, 60, 200), 0.0)]
    planes = hint_planes(hints, 100, 200)
    assert planes.shape == (100, 200, 3) and planes.dtype == np.float32
    red_ab = color.rgb_to_lab(np.array([[[200, 30, 40]]], np.uint8))[0, 0, 1:]
    assert np.allclose(planes[50, 50, :2], red_ab, atol=1e-4) and planes[50, 50, 2] == 1
    assert planes[50, 55, 2] == 1 and planes[50, 57, 2] == 0  # radius 5% of 100 px = 5 px
    assert planes[10, 180, 2] == 1 and planes[10, 181, 2] == 0  # radius 0: one pixel
    assert planes[:, :, 2].sum() < 100 and not planes[80:, 100:150].any()
    assert not hint_planes([], 10, 10).any()


def _cli(*args: str, home: Path) -> subprocess.CompletedProcess:
    env = {"COLORIZER_HOME": str(home), "PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "colorizer_gui", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)


def test_cli_hints_options_and_bad_sidecars(tmp_path):
    from tiny_cgan import make_tiny_generator_file

    model = make_tiny_generator_file(tmp_path / "tiny.safetensors")  # takes no hints
    folder = tmp_path / "album"
    folder.mkdir()
    good = _gray_photo(folder / "good.png")
    bad = _gray_photo(folder / "bad.png")
    save_hints(good, [Hint(0.5, 0.5, (200, 30, 40))])
    sidecar_beside(bad).write_text('{"version": 1, "hints": [{"x": 3, "y": 0, "rgb": [1, 2, 3]}]}')
    before = {p: p.read_bytes() for p in (good, bad)}

    run = _cli("colorize", str(folder), "--weights", str(model), home=tmp_path / "home")
    assert run.returncode == 0, run.stderr
    notes = [line for line in run.stderr.splitlines() if line.startswith("NOTE ")]
    assert f"NOTE {bad}: Hints file {sidecar_beside(bad)}: hint 1: x must be from 0 to 1, not 3; " \
           "colorized without hints" in notes
    # This model has no hint inputs: said once, not once a photo.
    assert sum("takes no colour hints" in line for line in notes) == 1
    assert (folder / "colorized" / "good_color.png").is_file()
    assert (folder / "colorized" / "bad_color.png").is_file()
    assert {p: p.read_bytes() for p in (good, bad)} == before

    quiet = _cli("colorize", str(folder), "--no-hints", "--weights", str(model), "-o",
                 str(tmp_path / "out2"), home=tmp_path / "home")
    assert quiet.returncode == 0 and "NOTE" not in quiet.stderr

    usage = _cli("colorize", str(folder), "--hints", str(sidecar_beside(good)), home=tmp_path / "home")
    assert usage.returncode == 2 and "--hints is for one photo" in usage.stderr
    missing = _cli("colorize", str(good), "--hints", str(tmp_path / "nope.json"), home=tmp_path / "home")
    assert missing.returncode == 2 and "the hints file" in missing.stderr and "does not exist" in missing.stderr


def test_hint_editor_undo_redo_and_every_change_saved(tmp_path):
    from colorizer_gui.gui.hint_editor import HintEditor

    photo = _gray_photo(tmp_path / "wedding.png")
    before = photo.read_bytes()
    editor, problem = HintEditor.for_photo(photo)
    assert problem == "" and editor.hints == []
    first = editor.add(0.2, 0.3, (30, 60, 200), "her dress")
    editor.add(0.8, 0.5, (190, 30, 35))
    editor.move(first, 0.25, 1.4)  # dragged past the edge: stays on the photo
    assert editor.hints[0].y == 1.0 and load_hints(sidecar_beside(photo))[0].y == 1.0
    editor.remove(1)
    assert [h.name for h in load_hints(sidecar_beside(photo))] == ["her dress"]
    assert editor.undo() and len(editor.hints) == 2
    assert editor.redo() and len(editor.hints) == 1
    editor.clear()
    assert not sidecar_beside(photo).exists()
    assert editor.undo() and len(load_hints(sidecar_beside(photo))) == 1
    reopened, _ = HintEditor.for_photo(photo)
    assert reopened.hints == editor.hints
    # Nearest hint within reach of the pointer, in screen pixels of the shown photo.
    assert reopened.hit(0.26, 0.99, 400, 300) == 0 and reopened.hit(0.5, 0.5, 400, 300) is None
    assert photo.read_bytes() == before


def test_color_memory_keeps_named_swatches_first_and_skips_bad_entries():
    from colorizer_gui.gui.hint_editor import STARTER_SWATCHES, remember_swatch, swatches_from_settings

    assert swatches_from_settings(None) == list(STARTER_SWATCHES)
    stored = remember_swatch([], "Dad's uniform", (60, 70, 50))
    stored = remember_swatch(stored, "the blue Ford", (40, 70, 160))
    stored = remember_swatch(stored, "dad's UNIFORM", (62, 72, 52))
    names = [n for n, _ in swatches_from_settings(stored)]
    assert names[:2] == ["dad's UNIFORM", "the blue Ford"] and names.count("Dad's uniform") == 0
    assert swatches_from_settings([{"name": "x", "rgb": [1, 2]}, {"rgb": [1, 2, 3]}, 7,
                                   {"name": "ok", "rgb": [1, 2, 3]}]) == [("ok", (1, 2, 3))]


def _tiny_hint_model(path: Path) -> Path:
    """A small generator with hint inputs (the test-sized widths, fixed seed)."""
    import torch

    from colorizer_gui.nets import save_generator
    from tiny_cgan import make_tiny_generator_file
    from colorizer_gui.nets.weights_io import load_generator
    from training.grow import grow_generator

    base, _meta = load_generator(make_tiny_generator_file(path.with_name("base.safetensors")))
    with torch.no_grad():
        grown = grow_generator(base, {"hint_channels": 3}).eval()
    return save_generator(grown, path, {"train_size": "64"})


def test_a_hint_colors_its_own_object_not_the_other_one(tmp_path):
    from colorizer_gui.backends import create_backend
    from colorizer_gui.core.pipeline import colorize_file
    from colorizer_gui.core.photo import load_photo

    model = _tiny_hint_model(tmp_path / "hinty.safetensors")
    # Two objects: a dark dress on the left, a light wall on the right, with grain.
    rng = np.random.default_rng(1)
    gray = np.full((120, 160), 185, np.float32)
    gray[:, :80] = 70
    gray += rng.normal(0, 3, gray.shape)
    photo = tmp_path / "two.png"
    Image.fromarray(np.clip(gray, 0, 255).astype(np.uint8), "L").save(photo)
    backend = create_backend("cgan", weights=model, device="cpu")
    backend.load()
    assert backend.accepts_hints

    plain = load_photo(colorize_file(photo, tmp_path / "plain", backend)).pixels
    blue = Hint(0.25, 0.5, (30, 60, 200), 0.01, "dress")
    hinted = load_photo(colorize_file(photo, tmp_path / "hinted", backend, hints=[blue])).pixels
    ab = lambda px: color.rgb_to_lab(px)[:, :, 1:]  # noqa: E731
    target = np.array(blue.ab())
    moved_left = np.linalg.norm(ab(plain)[:, :80].mean((0, 1)) - target) - \
        np.linalg.norm(ab(hinted)[:, :80].mean((0, 1)) - target)
    moved_right = np.linalg.norm(ab(plain)[:, 80:].mean((0, 1)) - target) - \
        np.linalg.norm(ab(hinted)[:, 80:].mean((0, 1)) - target)
    assert moved_left > 20            # the dress turned (most of the way) blue...
    assert abs(moved_right) < 0.1 * moved_left  # ...and the wall kept its colour
    # The copy records the hint it was given.
    from colorizer_gui.core import provenance

    assert provenance.read_provenance(next((tmp_path / "hinted").glob("*.png")))["colorizer"]["Hints"] == "1"


def test_spreading_stops_at_edges_and_each_region_takes_its_own_hint():
    from colorizer_gui.core.hint_spread import spread_hints

    rng = np.random.default_rng(0)
    lightness = np.full((90, 120), 75, np.float32)
    lightness[:, :60] = 35
    lightness += rng.normal(0, 1.5, lightness.shape).astype(np.float32)
    ab = np.zeros((90, 120, 2), np.float32) + (4, 8)
    assert spread_hints(ab, lightness, hint_planes([], 90, 120)) is ab
    blue, red = Hint(0.2, 0.5, (30, 60, 200)), Hint(0.85, 0.2, (200, 30, 40))
    out = spread_hints(ab, lightness, hint_planes([blue, red], 90, 120))
    assert np.allclose(out[:, :60].mean((0, 1)), blue.ab(), atol=3)
    assert np.linalg.norm(out[:, 60:].mean((0, 1)) - red.ab()) < 15
    assert np.array_equal(ab, np.zeros((90, 120, 2), np.float32) + (4, 8))  # input untouched
