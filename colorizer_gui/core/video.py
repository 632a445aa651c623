"""Home movies: read a video with PyAV, colorize it frame by frame with steady
colour (``temporal.Steadier``), and write ``<name>_color.mp4`` beside it.

PyAV brings its own FFmpeg (no system FFmpeg needed) and reads the containers
and codecs families have: MP4/MOV/M4V/AVI/MKV/DV with H.264, H.265, MPEG-4,
MJPEG or DV video, interlaced or not. The output is H.264 (yuv420p) in MP4 with
the source's frame size, frame timing (so frame rate and duration), rotation
flag and field order; every audio stream is copied packet for packet.

Frames stream through one at a time (decode, colorize, encode), so memory does
not grow with the clip's length. The file is written as a hidden
``.colorizer-video-*.partial`` in the output folder, locked while it is being
written, and renamed to its final name only when complete: a stopped run
removes it, and a run that was killed leaves it unlocked, for the next run in
that folder (``remove_abandoned_partials``) to delete.
"""
from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Optional

import numpy as np

from . import color, pipeline
from .photo import (PhotoError, looks_color, new_partial_path, output_path, publish_partial,
                    record_output)
from .progress import ProgressCallback, ProgressEvent, StopCallback, never_stop, no_progress
from .temporal import Steadier, SteadyOptions

if TYPE_CHECKING:  # the core depends on nothing of ours at run time
    from .backend_type import Backend

log = logging.getLogger(__name__)

#: Containers read as videos (by extension, case-insensitive).
VIDEO_EXTENSIONS: frozenset[str] = frozenset({".mp4", ".mov", ".m4v", ".avi", ".mkv", ".dv"})
#: Every colour copy of a video is an MP4 (H.264 plays everywhere).
OUTPUT_EXTENSION = ".mp4"
#: x264 settings: CRF 18 is visually lossless for most material; "fast" keeps the
#: encoder well below the colorization's own time per frame on two cores.
X264_OPTIONS = {"crf": "18", "preset": "fast"}
_PARTIAL_KIND = "video"
#: Output timestamp ticks per frame (see ``_output_pts``).
_SUBFRAMES = 100
#: Seconds between frame progress events (a GUI repaints on each).
_PROGRESS_EVERY_S = 0.25


class VideoError(PhotoError):
    """A video cannot be read or written; the message is meant for the user.

    A ``PhotoError``, so the batch engine and the CLI report it like a bad photo
    (one ``FAILED`` line, the batch goes on)."""


class VideoStopped(Exception):
    """The user asked to stop while a video was being colorized (nothing was written)."""


def is_video_file(path: Path | str) -> bool:
    """True when ``path``'s extension is a video container Colorizer reads."""
    return Path(path).suffix.lower() in VIDEO_EXTENSIONS


@dataclass(frozen=True)
class VideoInfo:
    """What a video holds, from its header and first frame.

    ``width``/``height``: stored frame size (before rotation); ``rotation``: the
    display rotation in degrees, counter-clockwise (FFmpeg's display matrix; a
    phone's portrait clip has -90 or 90); ``frames``: the header's count (0 when
    the container does not say; then estimated from duration and rate);
    ``first_frame``: the first frame, RGB uint8, as stored."""

    path: Path
    width: int
    height: int
    fps: Fraction
    frames: int
    duration_s: float
    rotation: int
    codec: str
    audio_codecs: tuple[str, ...]
    interlaced: bool
    first_frame: np.ndarray

    @property
    def display_size(self) -> tuple[int, int]:
        """(width, height) as the video is shown (after rotation)."""
        return (self.height, self.width) if self.rotation % 180 else (self.width, self.height)

    def estimated_frames(self) -> int:
        """The frame count, or duration x rate when the header has none."""
        if self.frames > 0:
            return self.frames
        return max(0, int(round(self.duration_s * float(self.fps))))


def _av() -> Any:
    """PyAV, imported on first use (photo-only runs never pay for it)."""
    try:
        import av
    except ImportError as err:  # pragma: no cover - av is a pinned requirement
        raise VideoError(f"video support is missing (PyAV is not installed: {err})") from err
    return av


def _open_input(path: Path) -> Any:
    """Open ``path`` for reading with a plain message for anything that goes wrong."""
    av = _av()
    name = path.name
    if not path.is_file():
        raise VideoError(f"{name}: no such file")
    if path.stat().st_size == 0:
        raise VideoError(f"{name}: the file is empty")
    try:
        return av.open(str(path), "r", metadata_errors="ignore")
    except av.error.FFmpegError as err:
        raise VideoError(f"{name}: not a video that can be read ({_ffmpeg_reason(err)}); "
                         "the file may be truncated or damaged") from None
    except OSError as err:
        raise VideoError(f"{name}: cannot be read: {err.strerror or err}") from None


def _ffmpeg_reason(err: BaseException) -> str:
    text = getattr(err, "strerror", None) or str(err)
    log_line = getattr(err, "log", None)
    if log_line and isinstance(log_line, tuple) and len(log_line) >= 3 and log_line[2]:
        text = f"{text}: {str(log_line[2]).strip()}"
    return text


def _video_stream(container: Any, name: str) -> Any:
    if not container.streams.video:
        raise VideoError(f"{name}: there is no video stream in this file")
    stream = container.streams.video[0]
    ctx = stream.codec_context
    if ctx is None or not getattr(ctx, "codec", None):
        raise VideoError(f"{name}: its video codec cannot be decoded")
    return stream


def _frame_rate(stream: Any) -> Fraction:
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate and rate > 0:
            return Fraction(rate)
    return Fraction(25, 1)


def _decode_error(name: str, codec: str, err: BaseException) -> VideoError:
    return VideoError(f"{name}: the {codec} video cannot be decoded ({_ffmpeg_reason(err)}); "
                      "the file may be truncated, damaged or use an unsupported codec")


def probe_video(path: Path) -> VideoInfo:
    """Read a video's header and first frame; raise ``VideoError`` with a plain
    reason when it has no video stream, no frames, or cannot be decoded."""
    av = _av()
    path = Path(path)
    with _open_input(path) as container:
        stream = _video_stream(container, path.name)
        codec = stream.codec_context.name
        first = None
        try:
            for frame in container.decode(stream):
                first = frame
                break
        except av.error.FFmpegError as err:
            raise _decode_error(path.name, codec, err) from None
        if first is None:
            raise VideoError(f"{path.name}: the video has no frames")
        fps = _frame_rate(stream)
        frames = int(stream.frames or 0)
        if stream.duration and stream.time_base:
            duration = float(stream.duration * stream.time_base)
        elif container.duration:
            duration = container.duration / 1_000_000  # AV_TIME_BASE
        else:
            duration = frames / float(fps) if frames else 0.0
        return VideoInfo(path=path, width=first.width, height=first.height, fps=fps, frames=frames,
                         duration_s=duration, rotation=int(round(first.rotation or 0)), codec=codec,
                         audio_codecs=tuple(a.codec_context.name for a in container.streams.audio
                                            if a.codec_context is not None),
                         interlaced=bool(first.interlaced_frame),
                         first_frame=first.to_ndarray(format="rgb24"))


def read_frame(path: Path, fraction: float = 0.0) -> tuple[np.ndarray, VideoInfo]:
    """The frame at ``fraction`` (0 first .. 1 last) of the video, RGB uint8 as
    stored, with the video's info: for previews, which need one frame, not the clip."""
    av = _av()
    info = probe_video(path)
    fraction = min(1.0, max(0.0, float(fraction)))
    if fraction == 0.0:
        return info.first_frame, info
    target = fraction * max(0.0, info.duration_s - 1.0 / float(info.fps))
    best: Optional[np.ndarray] = None
    with _open_input(Path(path)) as container:
        stream = _video_stream(container, Path(path).name)
        try:
            if stream.time_base:
                # Seek to the key frame before the target, then decode up to it.
                container.seek(int(target / stream.time_base), stream=stream, backward=True)
            for frame in container.decode(stream):
                best = frame.to_ndarray(format="rgb24")
                if frame.time is None or frame.time >= target - 0.5 / float(info.fps):
                    break
        except av.error.FFmpegError as err:
            if best is None:
                raise _decode_error(Path(path).name, info.codec, err) from None
    return (best if best is not None else info.first_frame), info


def display_oriented(pixels: np.ndarray, rotation: int) -> np.ndarray:
    """``pixels`` turned as a player shows them (``rotation``: counter-clockwise degrees)."""
    turns = int(round(rotation / 90.0)) % 4
    return np.ascontiguousarray(np.rot90(pixels, k=turns)) if turns else pixels


def video_looks_color(info: VideoInfo) -> bool:
    """Whether the video is already in colour (judged on its first frame)."""
    return looks_color(info.first_frame)


# --------------------------------------------------------------------------- colorizing

class FrameColorizer:
    """Colorizes the frames of one video in order, with steady colour.

    The one per-frame call, ``colorize(gray)``: L from the frame, the backend's
    prediction at its render size, steadied along the motion, joined with the
    frame's own full-resolution L. Colour hints (another feature) thread in
    here: ``_predict`` is the one place that calls the backend, and a frame that
    carries hints is passed with ``fresh=True`` so its hinted colours win and
    then carry on through the shot.
    """

    def __init__(self, backend: "Backend", render_size: Optional[int] = None, saturation: float = 1.0,
                 steady: Optional[SteadyOptions] = SteadyOptions()) -> None:
        self.backend = backend
        self.render_size = render_size
        self.saturation = saturation
        self.steadier = Steadier(steady) if steady is not None and steady.keep > 0 else None
        #: The ab of the last frame (at render size), for benches that measure flicker.
        self.last_ab: Optional[np.ndarray] = None

    def _predict(self, small_l: np.ndarray) -> np.ndarray:
        return self.backend.predict_ab(small_l)

    def colorize(self, gray: np.ndarray, fresh: bool = False) -> np.ndarray:
        """RGB uint8 (same size) for one 8-bit gray frame; frames must come in order."""
        # 8-bit L (OpenCV's Lab scale) by table lookup; the 8-bit join that goes
        # with it is exact to the 8-bit frame's own levels, and H.264 is lossy anyway.
        lightness_full = color.lightness8(gray)
        small_l = pipeline.render_lightness(lightness_full, self.backend, self.render_size)
        ab = self._predict(small_l)
        if self.steadier is not None:
            ab = self.steadier.step(small_l, ab, fresh=fresh)
        self.last_ab = ab
        return pipeline.merge_ab(lightness_full, ab, np.dtype(np.uint8), self.saturation)


def _lock(fd: int) -> bool:
    """Hold an exclusive lock on the open temp file while it is written (POSIX);
    on Windows an open file cannot be deleted, which protects it the same way."""
    try:
        import fcntl
    except ImportError:  # Windows
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False


def remove_abandoned_partials(folder: Path) -> int:
    """Delete the temp files of video writes that were killed (nobody holds their
    lock any more) in ``folder``; return how many. A write in progress, here or
    in another process, keeps its lock and is left alone."""
    removed = 0
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    prefix = new_partial_path(Path(folder), _PARTIAL_KIND).name.rsplit("-", 1)[0] + "-"
    for entry in entries:
        if not (entry.name.startswith(prefix) and entry.name.endswith(".partial")):
            continue
        try:
            fd = os.open(entry.path, os.O_RDWR)
        except OSError:
            continue
        try:
            if os.name == "nt" or _lock(fd):
                os.close(fd)
                fd = -1
                os.unlink(entry.path)  # on Windows this fails while a writer has it open
                removed += 1
        except OSError:
            pass
        finally:
            if fd >= 0:
                os.close(fd)
    return removed


def _fix_audio_layout(out_stream: Any, in_stream: Any) -> None:
    """AVI and DV audio often has channels without a named layout, which the MP4
    muxer refuses: name the usual ones (the samples are not touched)."""
    ctx, src = out_stream.codec_context, in_stream.codec_context
    try:
        if src.layout.name.endswith("channels") or "unknown" in src.layout.name:
            ctx.layout = {1: "mono", 2: "stereo"}.get(src.channels, src.layout)
    except (AttributeError, ValueError, KeyError):
        pass


def _x264_options(stream: Any, interlaced: bool) -> dict[str, str]:
    options = dict(X264_OPTIONS)
    if interlaced:
        # Keep the fields: encode interlaced, in the source's field order
        # (AVFieldOrder: 3 BB and 5 BT are bottom field first, e.g. DV).
        order = getattr(stream.codec_context, "field_order", 0) or 0
        options["x264-params"] = "interlaced=1:" + ("bff=1" if order in (3, 5) else "tff=1")
    return options


def _frames(container: Any, video: Any, audio: list[Any], on_audio: Any, name: str, codec: str) -> Iterator[Any]:
    """Decoded video frames in order; audio packets go to ``on_audio`` as they come."""
    av = _av()
    audio_ids = {s.index for s in audio}
    try:
        for packet in container.demux(video, *audio):
            if packet.stream.index in audio_ids:
                if packet.dts is not None:  # demux ends each stream with an empty packet
                    on_audio(packet)
                continue
            yield from packet.decode()
    except av.error.FFmpegError as err:
        raise _decode_error(name, codec, err) from None


def colorize_video(src: Path, out_dir: Path, backend: "Backend", render_size: Optional[int] = None,
                   saturation: float = 1.0, steady: Optional[SteadyOptions] = SteadyOptions(),
                   on_progress: Optional[ProgressCallback] = None,
                   should_stop: Optional[StopCallback] = None,
                   info: Optional[VideoInfo] = None) -> Path:
    """Colorize the video ``src`` into ``out_dir/<stem>_color.mp4`` (never
    overwriting: ``-2``, ``-3``, ...); return the path written.

    ``steady``: how colours are carried from frame to frame (None: each frame
    on its own). ``on_progress`` gets ProgressEvent(stage="frames", done, total,
    current=file name, eta_s, metrics={"fps": frames per second}) a few times a
    second; ``should_stop`` is polled before each frame and raises
    ``VideoStopped`` (the partial file is removed). Raises ``VideoError`` for a
    video that cannot be read or written. The source is only read.
    """
    av = _av()
    src, out_dir = Path(src), Path(out_dir)
    report = on_progress or no_progress
    stop = should_stop or never_stop
    info = info or probe_video(src)
    name = src.name
    if info.width % 2 or info.height % 2:
        raise VideoError(f"{name}: its frame size {info.width}x{info.height} is odd, "
                         "which H.264 (4:2:0) cannot store")
    total = info.estimated_frames()
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise VideoError(f"Cannot create the output folder {out_dir}: {err.strerror or err}") from err
    remove_abandoned_partials(out_dir)
    tmp = new_partial_path(out_dir, _PARTIAL_KIND)
    try:
        lock_fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o644)
    except OSError as err:
        raise VideoError(f"cannot write to {out_dir}: {err.strerror or err}") from None
    published = False
    try:
        _lock(lock_fd)
        colorizer = FrameColorizer(backend, render_size, saturation, steady)
        done = _transcode(av, src, tmp, info, colorizer, total, report, stop)
        dest = output_path(src, out_dir, "", ext=OUTPUT_EXTENSION)
        os.close(lock_fd)
        lock_fd = -1
        record_output(dest)  # before it appears, so a rerun after a crash knows it is ours
        final = publish_partial(tmp, dest)
        published = True
        if final != dest:  # the name was taken meanwhile
            record_output(final)
        report(ProgressEvent("frames", done, done, current=name, eta_s=0.0))
        return final
    except PhotoError:
        raise
    except OSError as err:
        raise VideoError(f"cannot write the colour copy of {name} in {out_dir}: {err.strerror or err}") from None
    except av.error.FFmpegError as err:
        raise VideoError(f"{name}: cannot write the colour copy ({_ffmpeg_reason(err)})") from None
    finally:
        if lock_fd >= 0:
            os.close(lock_fd)
        if not published:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def _output_pts(seconds: Optional[float], fps: Fraction, last_pts: Optional[int]) -> int:
    """A frame's timestamp in 1/(fps * _SUBFRAMES) units: the source's time,
    snapped to the frame grid when within a quarter frame of it; the next frame
    slot when the source has none (or it does not increase)."""
    if seconds is not None:
        slots = seconds * float(fps)
        nearest = round(slots)
        pts = nearest * _SUBFRAMES if abs(slots - nearest) < 0.25 else int(round(slots * _SUBFRAMES))
        if last_pts is None or pts > last_pts:
            return pts
    return 0 if last_pts is None else last_pts + _SUBFRAMES


def _transcode(av: Any, src: Path, tmp: Path, info: VideoInfo, colorizer: FrameColorizer, total: int,
               report: ProgressCallback, stop: StopCallback) -> int:
    """Decode ``src``, colorize each frame, encode into ``tmp``; return the frame count."""
    name = src.name
    started = last_report = time.monotonic()
    done = 0
    with _open_input(src) as container, av.open(str(tmp), "w", format="mp4") as out:
        video = _video_stream(container, name)
        video.thread_type = "AUTO"  # frame/slice threads in the decoder
        out_video = out.add_stream("libx264", rate=info.fps, options=_x264_options(video, info.interlaced))
        out_video.width, out_video.height = info.width, info.height
        out_video.pix_fmt = "yuv420p"
        # Timestamps in 1/100 of a frame: a constant-rate source (even one stored
        # with coarse millisecond times, as MKV does) lands exactly on its frame
        # slots, so the copy keeps the exact rate; a variable-rate one keeps its timing.
        time_base = Fraction(1, 1) / (info.fps * _SUBFRAMES)
        out_video.codec_context.time_base = time_base
        if info.interlaced:
            out_video.codec_context.field_order = video.codec_context.field_order
        if info.rotation:
            out_video.set_display_rotation(info.rotation)
        audio_in = [s for s in container.streams.audio if s.codec_context is not None]
        audio_out = {}
        for stream in audio_in:
            copy = out.add_stream_from_template(stream)
            _fix_audio_layout(copy, stream)
            audio_out[stream.index] = copy

        def on_audio(packet: Any) -> None:
            packet.stream = audio_out[packet.stream.index]
            out.mux(packet)

        last_pts: Optional[int] = None
        for frame in _frames(container, video, audio_in, on_audio, name, info.codec):
            if stop():
                raise VideoStopped()
            gray = frame.to_ndarray(format="gray")
            rgb = colorizer.colorize(gray)
            out_frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            pts = _output_pts(frame.time, info.fps, last_pts)
            out_frame.pts, out_frame.time_base = pts, time_base
            last_pts = pts
            out.mux(out_video.encode(out_frame))
            done += 1
            now = time.monotonic()
            if now - last_report >= _PROGRESS_EVERY_S:
                last_report = now
                fps = done / max(1e-6, now - started)
                left = max(0, total - done)
                report(ProgressEvent("frames", done, max(total, done), current=name,
                                     eta_s=left / fps if fps > 0 else None, metrics={"fps": fps}))
        if done == 0:
            raise VideoError(f"{name}: the video has no frames that can be decoded")
        if info.frames and done < info.frames * 0.98 - 1:
            raise VideoError(f"{name}: only {done} of its {info.frames} frames could be read; "
                             "the file is probably truncated")
        out.mux(out_video.encode())  # flush the encoder's delayed frames
    # The container is closed (trailer written): make the data durable before the rename.
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())
    return done


__all__ = ["FrameColorizer", "OUTPUT_EXTENSION", "VIDEO_EXTENSIONS", "VideoError", "VideoInfo", "VideoStopped",
           "colorize_video", "display_oriented", "is_video_file", "probe_video", "read_frame",
           "remove_abandoned_partials", "video_looks_color"]
