"""The repair brush's strokes: their masks, the sidecar they share with the colour
hints (either saved first), undo/redo, and hostile sidecars rejected with a
clear message."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from colorizer_gui.core.hints import Hint, hints_for, load_hints, save_hints
from colorizer_gui.core.repair import RepairSettings, damage_mask
from colorizer_gui.core.repair.edits import (RepairEdits, RepairEditsError, edits_for, make_stroke,
                                             save_edits)
from colorizer_gui.core.sidecar import sidecar_beside
from colorizer_gui.gui.repair_editor import RepairEditor

HINT = Hint(0.4, 0.6, (200, 30, 40), 0.01, "dress")


def _photo(path: Path) -> Path:
    rng = np.random.default_rng(1)
    Image.fromarray((np.full((60, 80), 120) + rng.normal(0, 4, (60, 80))).clip(0, 255).astype(np.uint8)).save(path)
    return path


def _line(mode: str = "add", y: float = 0.5) -> RepairEdits:
    return RepairEdits((make_stroke(mode, 0.02, [[0.1, y], [0.9, y]]),))


def test_strokes_paint_masks_at_any_size_and_a_later_stroke_wins():
    edits = _line("add").with_stroke(make_stroke("remove", 0.05, [[0.5, 0.5]]))
    for height, width in ((100, 200), (1000, 2000)):
        add, remove = edits.masks(height, width)
        assert add.shape == remove.shape == (height, width) and add.dtype == bool
        assert add[height // 2, width // 5] and not add[height // 10, width // 5]
        assert remove[height // 2, width // 2] and not add[height // 2, width // 2], "the later stroke wins"
        assert not (add & remove).any()
    # Painting over a removal adds again.
    again = edits.with_stroke(make_stroke("add", 0.01, [[0.5, 0.5]]))
    add, remove = again.masks(100, 200)
    assert add[50, 100] and not remove[50, 100] and remove[50, 103]
    # A hairline stays at least one pixel on a small preview.
    thin = RepairEdits((make_stroke("add", 0.0005, [[0.0, 0.0], [1.0, 1.0]]),))
    assert thin.masks(50, 50)[0].sum() >= 50


def test_the_core_adds_and_removes_what_the_brush_says():
    pixels = np.full((100, 200), 120, np.uint8)
    pixels[20, 10:190] = 250  # a thin white scratch the detector finds
    found = damage_mask(pixels, RepairSettings())
    add, remove = _line("add", 0.7).with_stroke(make_stroke("remove", 0.05, [[0.5, 0.2]])).masks(100, 200)
    mask = damage_mask(pixels, RepairSettings(), add, remove)
    assert mask[70, 100] and not found[70, 100], "added where the detector saw nothing"
    assert not mask[20, 95:105].any(), "removed where the brush took it away"
    assert found[20, 30] == mask[20, 30]


@pytest.mark.parametrize("first", ["hints", "strokes"])
def test_hints_and_strokes_share_one_sidecar_either_saved_first(tmp_path, first):
    photo = _photo(tmp_path / "grandma.png")
    before = photo.read_bytes()
    edits = _line("add").with_stroke(make_stroke("remove", 0.01, [[0.2, 0.2], [0.3, 0.3]]))
    if first == "hints":
        save_hints(photo, [HINT])
        written = save_edits(photo, edits)
    else:
        save_edits(photo, edits)
        written = save_hints(photo, [HINT])
    assert written == sidecar_beside(photo)
    assert hints_for(photo)[0] == [HINT] and edits_for(photo) == edits
    doc = json.loads(written.read_text(encoding="utf-8"))
    assert doc["version"] == 1 and doc["hints"][0]["rgb"] == [200, 30, 40]
    assert doc["repair"]["strokes"][1]["mode"] == "remove"
    # An app that reads only hints (version 1) still reads the file.
    assert load_hints(written) == [HINT]
    # Taking one away keeps the other; with both gone the file goes too.
    save_hints(photo, [])
    assert edits_for(photo) == edits and hints_for(photo)[0] == []
    save_hints(photo, [HINT])
    save_edits(photo, None)
    assert edits_for(photo) is None and hints_for(photo)[0] == [HINT]
    assert "repair" not in json.loads(written.read_text(encoding="utf-8"))
    save_hints(photo, [])
    assert not written.exists()
    assert photo.read_bytes() == before, "the photo is never written"


def test_strokes_alone_make_a_file_old_readers_read_as_no_hints(tmp_path):
    photo = _photo(tmp_path / "scan.png")
    path = save_edits(photo, _line())
    assert load_hints(path) == [] and hints_for(photo) == ([], path)


def test_undo_and_redo_of_brush_strokes_are_saved_at_once(tmp_path):
    photo = _photo(tmp_path / "scan.png")
    save_hints(photo, [HINT])
    editor = RepairEditor.for_photo(photo)
    assert editor.count == 0 and not editor.problem
    editor.paint("add", 0.01, [[0.1, 0.1], [0.2, 0.2]])
    editor.paint("remove", 0.03, [[0.5, 0.5]])
    assert edits_for(photo).strokes[1].mode == "remove"
    assert editor.undo() and edits_for(photo).strokes == (editor.edits.strokes[0],)
    assert editor.undo() and edits_for(photo) is None
    assert not editor.undo(), "nothing more to undo"
    assert editor.redo() and editor.redo() and not editor.redo()
    assert len(edits_for(photo).strokes) == 2
    editor.clear()
    assert edits_for(photo) is None and editor.undo() and len(edits_for(photo).strokes) == 2
    # A new stroke after an undo drops the redo.
    editor.undo()
    editor.paint("add", 0.01, [[0.9, 0.9]])
    assert not editor.redo() and [s.points for s in edits_for(photo).strokes][-1] == ((0.9, 0.9),)
    assert hints_for(photo)[0] == [HINT], "the brush never touches the hints"
    # Opened again: the strokes are back.
    assert RepairEditor.for_photo(photo).edits == editor.edits
    # A stroke outside the photo is clamped to its edge; a bad mode is refused.
    editor.paint("add", 0.01, [[-0.5, 1.5]])
    assert editor.edits.strokes[-1].points == ((0.0, 1.0),)
    with pytest.raises(ValueError, match="mode"):
        editor.paint("smudge", 0.01, [[0.5, 0.5]])


HOSTILE = [
    ({"strokes": "all of them"}, '"strokes" must be a list'),
    ([1, 2], '"repair" must be an object'),
    ({"strokes": [{"mode": "add", "radius": 0.01, "points": [[0.5, "NaN"]]}]}, "x must be a number|y must be"),
    ({"strokes": [{"mode": "add", "radius": 1e9, "points": [[0.5, 0.5]]}]}, "radius must be from"),
    ({"strokes": [{"mode": "add", "radius": True, "points": [[0.5, 0.5]]}]}, "radius must be a number"),
    ({"strokes": [{"mode": "erase", "points": [[0.5, 0.5]]}]}, 'mode must be "add" or "remove"'),
    ({"strokes": [{"mode": "add", "points": [[0.5, 0.5, 0.5]]}]}, r"a point must be \[x, y\]"),
    ({"strokes": [{"mode": "add", "points": []}]}, "points must be a list"),
    ({"strokes": [{"mode": "add", "points": [[0.5, 0.5]]}] * 1001}, "at most 1000"),
    ({"strokes": [{"mode": "add", "points": [[0.5, 0.5]] * 6000}]}, "at most 5000"),
    ({"strokes": [{"mode": "add", "points": [[2.0, 0.5]]}]}, "x must be from 0 to 1"),
]


@pytest.mark.parametrize("section,message", HOSTILE)
def test_a_hostile_repair_section_gets_a_clear_message_and_leaves_the_hints_alone(tmp_path, section, message):
    photo = _photo(tmp_path / "scan.png")
    sidecar = sidecar_beside(photo)
    sidecar.write_text(json.dumps({"version": 1, "hints": [HINT.to_json()], "repair": section}))
    with pytest.raises(RepairEditsError, match=message) as caught:
        edits_for(photo)
    assert str(sidecar) in str(caught.value) and len(str(caught.value)) < 300
    assert hints_for(photo)[0] == [HINT], "the hints of the same file still load"
    editor = RepairEditor.for_photo(photo)
    assert editor.count == 0 and "were not loaded" in editor.problem
    # Saving hints keeps the section as it was (it is not theirs to judge).
    save_hints(photo, [HINT, HINT])
    assert json.loads(sidecar.read_text())["repair"] == section
    # The next stroke replaces it.
    editor.paint("add", 0.01, [[0.5, 0.5]])
    assert len(edits_for(photo).strokes) == 1 and len(hints_for(photo)[0]) == 2


@pytest.mark.parametrize("data", [b"\x00\xff not json", b'{"version": 2, "repair": {}}', b"[" * 100000,
                                  b'{"version": 1, "hints": [], "repair": {"strokes": []}}' + b" " * (1 << 20)])
def test_a_broken_sidecar_gets_a_message_and_a_stroke_replaces_it(tmp_path, data):
    photo = _photo(tmp_path / "scan.png")
    sidecar_beside(photo).write_bytes(data)
    with pytest.raises(RepairEditsError, match="Sidecar file"):
        edits_for(photo)
    editor = RepairEditor.for_photo(photo)
    assert editor.problem
    editor.paint("remove", 0.01, [[0.5, 0.5]])
    assert edits_for(photo).strokes[0].mode == "remove"


def test_a_repaired_copy_uses_the_strokes_in_the_sidecar(tmp_path):
    from colorizer_gui.core.photo import load_photo
    from colorizer_gui.core.repair.files import save_repaired_copy

    rng = np.random.default_rng(2)
    pixels = (np.full((120, 160), 120) + rng.normal(0, 3, (120, 160))).clip(0, 255).astype(np.uint8)
    pixels[50:64, 70:84] = 20  # a blot too large for the detector to call damage
    photo = tmp_path / "blot.png"
    Image.fromarray(pixels).save(photo)
    plain = load_photo(save_repaired_copy(photo, tmp_path / "plain").path).pixels[..., 0]
    assert plain[57, 77] < 60, "the detector leaves the blot"
    save_edits(photo, RepairEdits((make_stroke("add", 0.08, [[77 / 160, 57 / 120]]),)))
    brushed = load_photo(save_repaired_copy(photo, tmp_path / "brushed").path).pixels[..., 0]
    assert abs(float(brushed[52:62, 72:82].mean()) - 120) < 12, "the brushed blot is filled"
    assert np.array_equal(brushed[:, :40], plain[:, :40])
