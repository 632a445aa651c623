"""Videos in the real window (Xvfb): listed with a first-frame thumbnail and their
length, previewed frame by frame with the slider, colorized in the batch with
frame progress, and cancelled with nothing half-written."""
from __future__ import annotations

from pathlib import Path

import pytest

from test_app import make_app, pump, tiny_model  # noqa: F401 - fixtures
from video_factory import clip_facts, make_clip

pytestmark = pytest.mark.gui


def test_video_is_listed_previewed_by_frame_and_colorized(make_app, tiny_model, tmp_path):  # noqa: F811
    folder = tmp_path / "films"
    folder.mkdir()
    clip = make_clip(folder / "holiday.mp4", frames=48, width=128, height=96, fps=24)
    app = make_app([str(folder)])
    pump(app, lambda: str(clip) in app.rows, what="the list")
    row = app.rows[str(clip)]
    pump(app, lambda: row.duration is not None, what="the thumbnail")
    assert row.duration == pytest.approx(2.0)
    assert "(0:02)" in app.photos.row_name(str(clip))
    # The first frame is previewed, with the frame slider shown.
    pump(app, lambda: app.shown.get("color") is not None and app.shown.get("fraction") == 0.0, what="preview")
    from colorizer_gui.gui import video_preview

    assert app.window[(video_preview.K_FRAME, "row")].visible
    first = app.shown["original"].copy()
    # Drag the slider to the end: the last frame is previewed.
    app.window[video_preview.K_FRAME].update(value=video_preview.FRAME_STEPS)
    app.handle(video_preview.K_FRAME, {video_preview.K_FRAME: video_preview.FRAME_STEPS})
    pump(app, lambda: app.shown.get("fraction") == 1.0 and app.shown.get("color") is not None,
         what="the last frame")
    assert app.shown["original"].tobytes() != first.tobytes()
    assert "0:02 / 0:02" in app.window[video_preview.K_FRAME_TIME].get()

    seen = []
    original_show = video_preview.show_progress

    def spy(window, event):
        seen.append(event)
        original_show(window, event)

    video_preview.show_progress = spy
    try:
        app.colorize_all()
        pump(app, lambda: app.last_summary is not None, timeout=120, what="the batch")
    finally:
        video_preview.show_progress = original_show
    out = folder / "colorized" / "holiday_color.mp4"
    assert row.status == "done" and Path(row.dest) == out
    assert clip_facts(out)["frames"] == 48
    assert "Colorized 1 of 1" in app.last_summary
    assert all(e.stage == "frames" and e.current == "holiday.mp4" for e in seen)
    assert "frame" in video_preview.progress_text(seen[-1]) if seen else True


def test_progress_text_and_clock():
    from colorizer_gui.core.progress import ProgressEvent
    from colorizer_gui.gui import video_preview

    event = ProgressEvent("frames", 120, 900, current="film.mp4", eta_s=92.0, metrics={"fps": 8.46})
    assert video_preview.progress_text(event) == "frame 120 of 900 · 8.5 fps · 1 min 32 s left"
    assert video_preview.clock(3723) == "1:02:03" and video_preview.clock(7.4) == "0:07"
    assert video_preview.row_label("a.mp4", 90) == "a.mp4  (1:30)"
