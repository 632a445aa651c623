"""Videos in the window: list entries (first-frame thumbnail, duration), the frame
slider under the preview and frame progress (one frame's preview is a worker job:
``workers.video_frame_preview``).

Kept apart from app.py (which only calls in here at a few points) so the
window's feature modules stay separate. Workers here run in job threads and
never touch widgets; ``show_*`` functions are called by the event loop.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import PySimpleGUI as sg

from ..core.text import format_duration
from ..core.video import display_oriented, is_video_file, read_frame, video_looks_color
from . import events as ev, images

#: Element keys: the frame slider under the preview, and its "0:12 / 1:30" label.
K_FRAME = "-VIDEO-FRAME-"
K_FRAME_TIME = "-VIDEO-FRAME-TIME-"
#: Slider steps from first to last frame (the preview shows the nearest frame).
FRAME_STEPS = 1000
#: File-dialog patterns for videos.
FILE_TYPES = ("Videos", "*.mp4 *.mov *.m4v *.avi *.mkv *.dv")


def is_video(path: Optional[str]) -> bool:
    """Whether a list entry is a video."""
    return bool(path) and is_video_file(str(path))


def clock(seconds: float) -> str:
    """0:07, 1:30, 1:02:03: a video position for people."""
    total = max(0, int(round(seconds)))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def frame_row() -> list[Any]:
    """The frame slider (hidden until a video is shown in the preview)."""
    return [sg.pin(sg.Column([[
        sg.Text("Frame", font=("Helvetica", 9)),
        sg.Slider((0, FRAME_STEPS), default_value=0, orientation="h", key=K_FRAME, enable_events=True,
                  size=(20, 12), disable_number_display=True, expand_x=True,
                  tooltip="Pick the frame of the video to preview"),
        sg.Text("", key=K_FRAME_TIME, size=(14, 1), font=("Helvetica", 9))]],
        key=(K_FRAME, "row"), visible=False, pad=(0, 0), expand_x=True), expand_x=True)]


# ----------------------------------------------------------------- workers (job threads)

def thumbnail(path: str, size: int = 40) -> dict[str, Any]:
    """A list entry for a video: first-frame thumbnail, size as shown, duration."""
    frame, info = read_frame(Path(path), 0.0)
    shown = display_oriented(frame, info.rotation)
    return {"path": path, "png": images.thumbnail_png(shown, size), "is_color": video_looks_color(info),
            "size": info.display_size, "duration": info.duration_s}


# ----------------------------------------------------------------- event loop side

def fraction(window: Any) -> float:
    """Where the frame slider is, from 0 (first frame) to 1 (last)."""
    return float(window[K_FRAME].TKScale.get()) / FRAME_STEPS


def show_slider(window: Any, path: Optional[str]) -> None:
    """Show the frame slider for a video (back at its first frame), hide it otherwise."""
    visible = is_video(path)
    window[(K_FRAME, "row")].update(visible=visible)
    if visible:
        window[K_FRAME].update(value=0)
        window[K_FRAME_TIME].update("")


def show_position(window: Any, data: dict[str, Any]) -> None:
    """'0:12 / 1:30' beside the slider once a frame's preview arrives."""
    if "duration" in data:
        window[K_FRAME_TIME].update(f"{clock(data['fraction'] * data['duration'])} / {clock(data['duration'])}")


def caption_parts(data: dict[str, Any]) -> list[str]:
    """Extra caption words for a video preview: length and frame count."""
    if "duration" not in data:
        return []
    return [f"video, {clock(data['duration'])}, {data.get('frames', 0)} frames"]


def row_label(name: str, duration: Optional[float]) -> str:
    """The list's name column for a video: 'clip.mp4  (1:30)'."""
    return f"{name}  ({clock(duration)})" if duration is not None else name


def progress_text(event: Any) -> str:
    """'frame 120 of 900 · 8.5 fps · 1 min 32 s left' for a "frames" progress event."""
    parts = [f"frame {event.done} of {event.total}"]
    fps = event.metrics.get("fps")
    if fps:
        parts.append(f"{fps:.1f} fps")
    if event.eta_s is not None and event.done < event.total:
        parts.append(f"{format_duration(event.eta_s)} left")
    return " · ".join(parts)


def show_progress(window: Any, event: Any) -> None:
    """Frame progress of the video being colorized, under the batch's progress bar."""
    window[ev.K_PROGRESS_TEXT].update(f"{event.current[-18:]}\n{progress_text(event)}")
