"""``--self-test``: prove that an installed (or PyInstaller-bundled) app can colorize.

Runs the real pipeline headless on a photo it draws itself, then on a short
clip with sound it makes itself with PyAV (so the bundle's FFmpeg libraries,
the H.264 encoder and the audio copy are exercised), with the default
weights shipped inside the app (never the user's own models), and answers with
one line. When no default weights are bundled yet, it saves a freshly built
generator (ImageNet encoder from the bundled package data, untrained decoder)
to a temporary safetensors file and loads that instead, so the network code,
the model-file loader, torch and OpenCV are still all exercised.
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Optional

import numpy as np

from . import __version__

WIDTH, HEIGHT = 320, 240
# The pipeline keeps the photo's own L; what is left is 8-bit rounding.
MAX_MEAN_DL = 0.5


def test_photo(width: int = WIDTH, height: int = HEIGHT) -> np.ndarray:
    """A gray uint8 test picture: a diagonal gradient with a disc, a box and a bar."""
    import cv2

    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    gray = 30.0 + 190.0 * (xs / max(1, width - 1) + ys / max(1, height - 1)) / 2.0
    img = np.rint(gray).astype(np.uint8)
    cv2.circle(img, (width // 3, height // 2), min(width, height) // 5, 235, thickness=-1)
    cv2.rectangle(img, (width * 3 // 5, height // 5), (width * 4 // 5, height * 3 // 5), 15, thickness=-1)
    cv2.line(img, (0, height - 20), (width - 1, height - 40), 128, thickness=6)
    return img


def check_result(gray: np.ndarray, rgb: np.ndarray) -> tuple[bool, float, str]:
    """(ok, mean |dL|, problem) for a colorized ``rgb`` of the gray input ``gray``."""
    from .core import color

    if rgb.ndim != 3 or rgb.shape[:2] != gray.shape[:2] or rgb.shape[2] != 3:
        return False, float("nan"), f"output is {rgb.shape}, expected {gray.shape[:2] + (3,)}"
    if not np.all(np.isfinite(rgb.astype(np.float32))):
        return False, float("nan"), "output has NaN or infinite values"
    d_l = float(np.mean(np.abs(color.lightness(rgb) - color.lightness(gray))))
    if not d_l < MAX_MEAN_DL:
        return False, d_l, f"lightness changed: mean |dL| {d_l:.2f} (limit {MAX_MEAN_DL})"
    return True, d_l, ""


CLIP_FRAMES = 12


def make_test_clip(path: Path, frames: int = CLIP_FRAMES, width: int = 160, height: int = 120) -> Path:
    """A short gray H.264 clip with an AAC tone: the test picture panning right."""
    import av

    picture = test_photo(width + frames * 2, height)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        sound = out.add_stream("aac", rate=48000, layout="mono")
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(picture[:, i * 2:i * 2 + width]), format="gray")
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode())
        samples = 48000 * frames // 24
        tone = (0.2 * np.sin(np.arange(samples) * (2 * np.pi * 440 / 48000))).astype(np.float32)
        for start in range(0, samples, 1024):
            chunk = av.AudioFrame.from_ndarray(tone[None, start:start + 1024], format="fltp", layout="mono")
            chunk.sample_rate, chunk.pts = 48000, start
            out.mux(sound.encode(chunk))
        out.mux(sound.encode())
    return path


def check_video(backend: object, folder: Path) -> tuple[bool, str]:
    """Colorize a clip made here; (ok, problem or a few words on what was checked)."""
    import av

    from .core.video import colorize_video

    src = make_test_clip(folder / "selftest-clip.mp4")
    out = colorize_video(src, folder / "out", backend)  # type: ignore[arg-type]

    def audio(path: Path) -> list[bytes]:
        with av.open(str(path)) as c:
            return [bytes(p) for s in c.streams.audio[:1] for p in c.demux(s) if p.size]

    with av.open(str(out)) as c:
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(c.streams.video[0])]
    if len(frames) != CLIP_FRAMES:
        return False, f"video: {len(frames)} frames written, expected {CLIP_FRAMES}"
    if frames[0].shape[:2] != (120, 160):
        return False, f"video: frames are {frames[0].shape[1]}x{frames[0].shape[0]}, expected 160x120"
    if audio(out) != audio(src):
        return False, "video: the sound was not copied unchanged"
    return True, f"clip {CLIP_FRAMES} frames with sound"


def bundled_default_weights() -> Optional[Path]:
    """The default cGAN weights shipped with the app, if there are any."""
    from .core import model_store, paths

    candidate = paths.bundled_weights_dir() / model_store.CGAN_DEFAULT_NAME
    return candidate if candidate.is_file() else None


def _check_zhang_data() -> str:
    """Problem with the shipped Zhang net description or bins ('' when fine)."""
    import cv2

    from .backends import BackendError, zhang

    try:
        zhang.load_bins(zhang.package_file(zhang.BINS_NAME))
        net = cv2.dnn.readNetFromCaffe(str(zhang.package_file(zhang.PROTOTXT_NAME)))
    except (BackendError, cv2.error) as err:
        return f"zhang data: {err}"
    return "" if "class8_ab" in net.getLayerNames() else "zhang data: class8_ab layer missing"


def _random_init_weights(folder: Path) -> Path:
    """Save a generator with the ImageNet encoder and an untrained decoder; return its file."""
    import torch

    from .nets import build_generator, save_generator

    torch.manual_seed(0)
    model = build_generator("lite0-unet", pretrained=True)
    # Batch-norm statistics from one pass over noise (as a first training step
    # would set them): with the default ones, the untrained decoder saturates.
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.reset_running_stats()
                module.momentum = None  # cumulative average: one pass sets the stats
        model.train()
        model(torch.rand(2, 1, 64, 64) * 2 - 1)
    model.eval()
    return save_generator(model, folder / "selftest-generator.safetensors",
                          {"data_summary": "self-test: untrained decoder"})


def run_self_test(weights: Optional[Path] = None, device: str = "auto") -> tuple[bool, str]:
    """Colorize a generated 320x240 picture with the bundled default cgan weights.

    ``weights`` overrides the bundled file (tests use a tiny generator). Returns
    (ok, one line for the user). Opens no window and writes nothing outside a
    temporary folder it removes.
    """
    head = f"Colorizer {__version__} self-test"
    try:
        problem = _check_zhang_data()
        if problem:
            return False, f"{head} FAILED: {problem}"
        from .backends import DEFAULT_BACKEND, create_backend
        from .core.pipeline import colorize_array

        weights = weights or bundled_default_weights()
        note = ""
        with tempfile.TemporaryDirectory(prefix="colorizer-selftest-") as tmp:
            if weights is None:
                weights = _random_init_weights(Path(tmp))
                note = "; no default weights bundled (checked a random-init generator)"
            backend = create_backend(DEFAULT_BACKEND, weights=weights, device=device)
            availability = backend.availability()
            if not availability.ok:
                return False, f"{head} FAILED: {DEFAULT_BACKEND} not available: {availability.reason}"
            backend.load()
            gray = test_photo()
            start = time.perf_counter()
            rgb = colorize_array(gray, backend)
            seconds = time.perf_counter() - start
            used = getattr(backend, "loaded_device", None) or device
            ok, d_l, problem = check_result(gray, rgb)
            if not ok:
                return False, f"{head} FAILED: cgan on {used}: {problem}"
            video_ok, video_note = check_video(backend, Path(tmp))
            if not video_ok:
                return False, f"{head} FAILED: {video_note}"
        return True, (f"{head} OK: cgan on {used}, {WIDTH}x{HEIGHT} in {seconds:.2f} s, "
                      f"mean |dL| {d_l:.2f}, {video_note}{note}")
    except Exception as err:  # noqa: BLE001 - the self-test reports any failure in its one line
        text = str(err).strip().splitlines()
        return False, f"{head} FAILED: {type(err).__name__}: {text[-1] if text else ''}"


def main() -> int:
    """Print the self-test line; exit code 0 when it passed, 1 when not."""
    ok, line = run_self_test()
    print(line, flush=True)
    return 0 if ok else 1
