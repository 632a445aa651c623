"""Home movies: colour copies of video clips keep what a viewer notices (frames,
size, rate, duration, rotation, fields, sound), hold their colour steady, and
bad clips fail with one clear line while the batch goes on."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from colorizer_gui.backends import create_backend
from colorizer_gui.backends.base import Availability, Backend
from colorizer_gui.core import color, video
from colorizer_gui.core.batch import run_batch
from colorizer_gui.core.temporal import SteadyOptions, temporal_flicker
from tiny_cgan import make_tiny_generator_file
from video_factory import audio_packets, clip_facts, make_clip, video_frames

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tiny_weights(tmp_path_factory):
    return make_tiny_generator_file(tmp_path_factory.mktemp("weights") / "tiny.safetensors")


@pytest.fixture(scope="module")
def cgan(tiny_weights):
    backend = create_backend("cgan", weights=tiny_weights, device="cpu")
    backend.load()
    return backend


def mean_abs_luma_change(src: Path, out: Path) -> float:
    """Mean |Y_out - Y_in| over all frames (0..255): the colour copy keeps the film's own light."""
    diffs = [np.abs(a.astype(np.float32) - b.astype(np.float32)).mean()
             for a, b in zip(video_frames(src, "gray"), video_frames(out, "gray"))]
    return float(np.mean(diffs))


@pytest.mark.parametrize("name, options", [
    ("holiday.mp4", dict(codec="libx264", audio="aac")),
    ("cine.avi", dict(codec="mjpeg", audio="pcm_s16le")),
    ("party.mkv", dict(codec="mpeg4", audio="mp3")),
    ("phone.mov", dict(codec="hevc", audio="aac", rotation=-90)),
    ("tv.m4v", dict(codec="libx264", audio="aac", interlaced=True, fps=Fraction(30000, 1001))),
    ("camcorder.avi", dict(codec="dvvideo", width=720, height=576, fps=25, audio="pcm_s16le", frames=6)),
])
def test_color_copy_keeps_frames_timing_rotation_and_sound(tmp_path, cgan, name, options):
    src = make_clip(tmp_path / name, **options)
    before = src.read_bytes()
    out = video.colorize_video(src, tmp_path / "colorized", cgan)
    assert out == tmp_path / "colorized" / f"{src.stem}_color.mp4"
    assert src.read_bytes() == before  # the original is only read
    got, want = clip_facts(out), clip_facts(src)
    assert got["frames"] == want["frames"]
    assert got["size"] == want["size"]
    assert got["fps"] == want["fps"]
    assert got["duration"] == pytest.approx(want["duration"], abs=0.002)
    assert got["rotation"] == want["rotation"]
    assert got["interlaced"] == want["interlaced"]
    assert audio_packets(out) == audio_packets(src)  # the sound, byte for byte
    assert audio_packets(out)
    with __import__("av").open(str(out)) as c:
        assert c.streams.video[0].codec_context.name == "h264"
        assert c.streams.video[0].codec_context.pix_fmt == "yuv420p"
    assert mean_abs_luma_change(src, out) < 2.5
    # Colour was added: the frames are no longer gray.
    frame = video_frames(out)[len(video_frames(out)) // 2]
    assert np.abs(color.rgb_to_lab(frame)[:, :, 1:]).mean() > 1.0
    left = [p.name for p in (tmp_path / "colorized").glob(".*")]
    assert left == [".colorizer-copies"]  # no temp file left; the copy is listed as ours
    assert (tmp_path / "colorized" / ".colorizer-copies").read_text().splitlines()[-1] == out.name


def test_never_overwrites_and_counts_up(tmp_path, cgan):
    src = make_clip(tmp_path / "clip.mp4", frames=4)
    first = video.colorize_video(src, tmp_path, cgan)
    second = video.colorize_video(src, tmp_path, cgan)
    assert (first.name, second.name) == ("clip_color.mp4", "clip_color-2.mp4")


def test_probe_and_frame_at_a_position(tmp_path):
    src = make_clip(tmp_path / "clip.mov", frames=24, width=64, height=48, rotation=90, fps=24)
    info = video.probe_video(src)
    assert (info.width, info.height, info.display_size) == (64, 48, (48, 64))
    assert info.fps == 24 and info.estimated_frames() == 24 and info.duration_s == pytest.approx(1.0)
    assert info.audio_codecs == ("aac",)
    last, _ = video.read_frame(src, 1.0)
    first, _ = video.read_frame(src, 0.0)
    assert last.shape == (48, 64, 3) and not np.array_equal(first, last)  # the pan moved on
    assert video.display_oriented(first, 90).shape == (64, 48, 3)


class WobblyBackend(Backend):
    """A per-frame colorizer as real ones behave: the right colours (the reference
    clip's, looked up by frame) plus a new random hue wobble on every call."""

    name = "wobbly"

    def __init__(self, truth_ab: list[np.ndarray], sigma: float = 8.0) -> None:
        super().__init__()
        self.truth_ab = truth_ab
        self.calls = 0
        self.rng = np.random.default_rng(0)
        self.sigma = sigma

    def availability(self) -> Availability:
        return Availability(True)

    def load(self) -> None:
        pass

    def render_shape(self, height: int, width: int, render_size=None) -> tuple[int, int]:
        return height, width

    def predict_ab(self, lightness: np.ndarray) -> np.ndarray:
        truth = self.truth_ab[self.calls % len(self.truth_ab)]
        self.calls += 1
        return truth + self.rng.normal(0, self.sigma, 2).astype(np.float32)


def output_ab(path: Path) -> list[np.ndarray]:
    return [color.rgb_to_lab(f)[:, :, 1:] for f in video_frames(path)]


def test_steady_color_flickers_less_than_per_frame(tmp_path):
    """Flicker = mean |ab(t) - ab(t-1)|: a gray clip has none, the colour reference
    has only what its own motion brings, per-frame colorization adds a lot, and
    the steadied copy keeps at most half of per-frame's excess over the truth."""
    reference = make_clip(tmp_path / "reference.mp4", frames=30, width=128, height=96, color=True, audio=None)
    gray = make_clip(tmp_path / "gray.mp4", frames=30, width=128, height=96, color=False, audio=None)
    truth_ab = output_ab(reference)
    assert temporal_flicker(output_ab(gray)) < 0.5
    truth = temporal_flicker(truth_ab)
    assert truth > 0.5  # the pan moves coloured edges
    per_frame = video.colorize_video(gray, tmp_path / "per-frame", WobblyBackend(truth_ab), steady=None)
    steady = video.colorize_video(gray, tmp_path / "steady", WobblyBackend(truth_ab))
    flicker_per_frame = temporal_flicker(output_ab(per_frame))
    flicker_steady = temporal_flicker(output_ab(steady))
    assert flicker_per_frame > truth + 3
    assert flicker_steady - truth <= 0.5 * (flicker_per_frame - truth)
    # ...without washing the colour out: still as far from gray as the truth is.
    chroma = lambda frames: float(np.mean([np.hypot(f[..., 0], f[..., 1]).mean() for f in frames]))  # noqa: E731
    assert chroma(output_ab(steady)) > 0.8 * chroma(truth_ab)


def test_stop_leaves_nothing(tmp_path, cgan):
    src = make_clip(tmp_path / "clip.mp4", frames=10)
    calls = []

    def stop_after_three() -> bool:
        calls.append(1)
        return len(calls) > 3

    with pytest.raises(video.VideoStopped):
        video.colorize_video(src, tmp_path / "out", cgan, should_stop=stop_after_three)
    assert list((tmp_path / "out").iterdir()) == []


def test_progress_counts_frames_with_speed(tmp_path, cgan, monkeypatch):
    monkeypatch.setattr(video, "_PROGRESS_EVERY_S", 0.0)
    src = make_clip(tmp_path / "clip.mp4", frames=8)
    events = []
    video.colorize_video(src, tmp_path / "out", cgan, on_progress=events.append)
    assert [e.done for e in events] == list(range(1, 9)) + [8]
    assert all(e.stage == "frames" and e.total == 8 and e.current == "clip.mp4" for e in events)
    assert events[3].metrics["fps"] > 0 and events[3].eta_s is not None


def bad_clips(folder: Path) -> dict[str, Path]:
    """One of each kind of broken video a family's folder may hold."""
    folder.mkdir(parents=True, exist_ok=True)
    good = make_clip(folder / "good.mp4", frames=6)
    truncated = folder / "truncated.mp4"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    no_video = folder / "sound_only.mp4"
    import av

    with av.open(str(no_video), "w") as out:
        stream = out.add_stream("aac", rate=48000, layout="stereo")
        frame = av.AudioFrame.from_ndarray(np.zeros((2, 1024), np.float32), format="fltp", layout="stereo")
        frame.sample_rate, frame.pts = 48000, 0
        out.mux(stream.encode(frame))
        out.mux(stream.encode())
    empty_clip = folder / "no_frames.avi"
    with av.open(str(empty_clip), "w") as out:
        stream = out.add_stream("mjpeg", rate=24)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuvj420p"
        out.start_encoding()  # a header and no frames
    unknown = folder / "unknown_codec.avi"
    data = make_clip(folder / "tmp.avi", frames=4, codec="mjpeg", audio=None).read_bytes()
    unknown.write_bytes(data.replace(b"MJPG", b"QQQQ"))  # a codec FFmpeg has never heard of
    (folder / "tmp.avi").unlink()
    not_video = folder / "notes.mov"
    not_video.write_text("these are not moving pictures\n")
    return {"good": good, "truncated": truncated, "no_video": no_video, "empty": empty_clip,
            "unknown": unknown, "not_video": not_video}


def test_bad_videos_fail_clearly_and_the_batch_goes_on(tmp_path, cgan):
    clips = bad_clips(tmp_path / "films")
    result = run_batch([tmp_path / "films"], tmp_path / "out", cgan)
    assert [src.name for src, _ in result.done] == ["good.mp4"]
    reasons = {src.name: msg for src, msg in result.failed}
    assert set(reasons) == {p.name for k, p in clips.items() if k != "good"}
    assert "truncated" in reasons["truncated.mp4"]
    assert "no video stream" in reasons["sound_only.mp4"]
    assert "no frames" in reasons["no_frames.avi"]
    assert "cannot be decoded" in reasons["unknown_codec.avi"]
    assert "not a video" in reasons["notes.mov"]
    assert all("\n" not in msg and "Traceback" not in msg for msg in reasons.values())
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [".colorizer-copies", "good_color.mp4"]


def run_cli(args: list[str], env_home: Path, **kwargs) -> subprocess.Popen:
    env = dict(os.environ, COLORIZER_HOME=str(env_home), OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, "-m", "colorizer_gui", *args], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def test_cli_colorizes_a_clip_and_reports_bad_ones(tmp_path, tiny_weights):
    clips = bad_clips(tmp_path / "films")
    proc = run_cli(["colorize", str(clips["good"]), str(clips["no_video"]), "-o", str(tmp_path / "out"),
                    "--weights", str(tiny_weights), "--device", "cpu"], tmp_path / "home")
    out, err = proc.communicate(timeout=180)
    assert proc.returncode == 1, err
    assert f"FAILED {clips['no_video']}: there is no video stream in this file" in err
    assert (tmp_path / "out" / "good_color.mp4").is_file()
    assert "Colorized 1 of 2" in out


def wait_for_partial(folder: Path, proc: subprocess.Popen, timeout: float = 120) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = list(folder.glob(".colorizer-video-*.partial")) if folder.is_dir() else []
        if found and found[0].stat().st_size > 0:
            return found[0]
        if proc.poll() is not None:
            raise AssertionError(f"finished before it could be stopped: {proc.communicate()}")
        time.sleep(0.05)
    raise AssertionError("no video was being written")


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory):
    """Long enough (a few seconds' work) to be interrupted half way."""
    return make_clip(tmp_path_factory.mktemp("long") / "long.mp4", frames=400, width=192, height=144)


@pytest.mark.skipif(sys.platform.startswith("win"), reason="POSIX signals")
def test_ctrl_c_stops_cleanly_with_no_half_video(tmp_path, tiny_weights, long_clip):
    out_dir = tmp_path / "out"
    proc = run_cli(["colorize", str(long_clip), "-o", str(out_dir), "--weights", str(tiny_weights),
                    "--device", "cpu"], tmp_path / "home")
    wait_for_partial(out_dir, proc)
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Stopping" in err
    assert list(out_dir.iterdir()) == []


@pytest.mark.skipif(sys.platform.startswith("win"), reason="POSIX signals")
def test_killed_run_leaves_no_video_and_the_next_run_cleans_up(tmp_path, tiny_weights, long_clip):
    out_dir = tmp_path / "out"
    args = ["colorize", str(long_clip), "-o", str(out_dir), "--weights", str(tiny_weights), "--device", "cpu"]
    proc = run_cli(args, tmp_path / "home")
    partial = wait_for_partial(out_dir, proc)
    proc.kill()
    proc.wait(timeout=30)
    assert [p.name for p in out_dir.iterdir()] == [partial.name]  # only the hidden temp file
    again = run_cli(args, tmp_path / "home")
    _out, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    assert sorted(p.name for p in out_dir.iterdir()) == [".colorizer-copies", "long_color.mp4"]
    assert clip_facts(out_dir / "long_color.mp4")["frames"] == 400


def test_a_write_in_progress_is_not_cleaned_up(tmp_path):
    """Another window writing a video into the same folder keeps its temp file."""
    from colorizer_gui.core.photo import new_partial_path

    busy = new_partial_path(tmp_path, "video")
    fd = os.open(busy, os.O_RDWR | os.O_CREAT)
    try:
        assert video._lock(fd) or os.name == "nt"
        abandoned = new_partial_path(tmp_path, "video")
        abandoned.write_bytes(b"half a film")
        assert video.remove_abandoned_partials(tmp_path) == 1
        assert busy.exists() and not abandoned.exists()
    finally:
        os.close(fd)
