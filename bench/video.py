"""Video bench: speed, flicker and quality of colorizing a real gray-ified clip.

    .venv/bin/python bench/video.py /work/shared/datasets/camvid/test [--write]

The colour frames in FOLDER (sorted by name; CamVid's test frames are a drive
through a city) become two gray H.264 clips in a temporary folder (nothing is
copied into the project):

- "sequence": the frames one after another at 640x480 (CamVid's are 3 s apart,
  so motion between them is large, as in fast or jumpy home movies);
- "pans": a slow camera pan (4 px a frame, 12 frames) over each frame, with a
  cut between frames: the steady shots home movies are mostly made of.

Each clip is colorized twice with the default cgan backend on the CPU: frame by
frame (``steady=None``) and steadied (the app's default), through the same
``colorize_video`` the app uses. Reported:

- flicker: mean |ab(t) - ab(t-1)| of the output, divided by the ground truth's
  own (motion changes colours too, so the truth's figure is the floor); the
  target is that the steadied copy keeps at most half of per-frame's excess
  over the truth: (steady - 1) <= 0.5 * (per_frame - 1) in these ratios;
- quality per frame against the true colours (PSNR, ab AuC, colourfulness
  ratio; bench/quality_metrics.py), so steadiness does not cost colour;
- speed: frames/s of the whole video path (decode, colorize, steady, encode) at
  640x480 and 1280x720.

Frames stream through (memory stays flat); ``--write`` replaces the "Video"
section of bench/RESULTS.md.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib  # noqa: E402

benchlib.add_import_paths()
import av  # noqa: E402
import cv2  # noqa: E402
import quality_metrics as qm  # noqa: E402

from colorizer_gui.core import color, video  # noqa: E402
from colorizer_gui.core.temporal import FlickerMeter, SteadyOptions  # noqa: E402

PAN_FRAMES = 12
PAN_STEP = 4


def frame_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))


def fit(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    """Centre crop to the aspect, then resize."""
    h, w = rgb.shape[:2]
    scale = max(width / w, height / h)
    resized = cv2.resize(rgb, (max(width, round(w * scale)), max(height, round(h * scale))),
                         interpolation=cv2.INTER_AREA)
    y0, x0 = (resized.shape[0] - height) // 2, (resized.shape[1] - width) // 2
    return np.ascontiguousarray(resized[y0:y0 + height, x0:x0 + width])


def truth_frames(files: list[Path], width: int, height: int, kind: str):
    """The true colour frames of a clip, one at a time (RGB uint8)."""
    for path in files:
        rgb = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
        if kind == "sequence":
            yield fit(rgb, width, height)
        else:  # a slow pan across a frame a little wider than the clip
            wide = fit(rgb, width + PAN_STEP * PAN_FRAMES, height)
            for i in range(PAN_FRAMES):
                yield wide[:, i * PAN_STEP:i * PAN_STEP + width]


def write_gray_clip(path: Path, frames, width: int, height: int, fps: int = 10) -> int:
    """The colorizer's input: each true frame's L as 8-bit gray, nearly lossless H.264."""
    count = 0
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps, options={"crf": "10", "preset": "fast"})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for rgb in frames:
            gray = qm.gray_from_lightness(color.lightness(rgb))
            frame = av.VideoFrame.from_ndarray(gray, format="gray")
            frame.pts = count
            out.mux(stream.encode(frame))
            count += 1
        out.mux(stream.encode())
    return count


def decoded(path: Path):
    with av.open(str(path)) as c:
        for frame in c.decode(c.streams.video[0]):
            yield frame.to_ndarray(format="rgb24")


def score(output: Path, truths) -> dict[str, float]:
    """Flicker and per-frame quality of an output clip against the true frames."""
    meter, truth_meter = FlickerMeter(), FlickerMeter()
    psnr, auc, color_out, color_truth = [], [], [], []
    for pred, truth in zip(decoded(output), truths):
        small = (160, 120) if pred.shape[1] * 3 == pred.shape[0] * 4 else (160, 90)
        meter.add(color.rgb_to_lab(cv2.resize(pred, small, interpolation=cv2.INTER_AREA))[:, :, 1:])
        truth_meter.add(color.rgb_to_lab(cv2.resize(truth, small, interpolation=cv2.INTER_AREA))[:, :, 1:])
        psnr.append(qm.psnr(truth, pred))
        auc.append(qm.ab_auc(truth, pred))
        color_out.append(qm.colorfulness(pred))
        color_truth.append(qm.colorfulness(truth))
    return {"flicker": meter.value, "truth_flicker": truth_meter.value,
            "ratio": meter.value / truth_meter.value, "psnr": float(np.mean(psnr)), "auc": float(np.mean(auc)),
            "colourfulness": float(np.mean(color_out) / np.mean(color_truth))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path, help="colour frames of a sequence, in name order")
    parser.add_argument("--frames", type=int, default=78, help="use at most this many frames (default 78)")
    parser.add_argument("--pan-frames", type=int, default=20, help="source frames for the pans clip (default 20)")
    parser.add_argument("--speed-frames", type=int, default=30, help="frames timed at each size (default 30)")
    parser.add_argument("--write", action="store_true", help="replace the Video section of bench/RESULTS.md")
    opts = parser.parse_args(argv)

    from colorizer_gui.backends import create_backend

    files = frame_files(opts.folder)[:opts.frames]
    if len(files) < 3:
        parser.error(f"{opts.folder} has fewer than 3 frames")
    backend = create_backend("cgan", device="cpu")
    backend.load()
    rows, speed = [], []
    with tempfile.TemporaryDirectory(prefix="colorizer-video-bench-") as tmp_name:
        tmp = Path(tmp_name)
        for kind, sources in (("sequence", files), ("pans", files[:opts.pan_frames])):
            clip = tmp / f"{kind}.mp4"
            count = write_gray_clip(clip, truth_frames(sources, 640, 480, kind), 640, 480)
            for label, steady in (("per-frame", None), ("steadied", SteadyOptions())):
                start = time.perf_counter()
                out = video.colorize_video(clip, tmp / label, backend, steady=steady)
                seconds = time.perf_counter() - start
                result = score(out, truth_frames(sources, 640, 480, kind))
                rows.append((kind, count, label, result, count / seconds))
                print(f"{kind:8} {label:9} flicker {result['flicker']:.2f} (truth {result['truth_flicker']:.2f}, "
                      f"ratio {result['ratio']:.2f})  PSNR {result['psnr']:.2f}  AuC {result['auc']:.3f}  "
                      f"colourfulness {result['colourfulness']:.2f}  {count / seconds:.1f} frames/s", flush=True)
                out.unlink()
        for width, height in ((640, 480), (1280, 720)):
            clip = tmp / f"speed_{width}.mp4"
            count = write_gray_clip(clip, truth_frames(files[:opts.speed_frames], width, height, "sequence"),
                                    width, height)
            start = time.perf_counter()
            out = video.colorize_video(clip, tmp / "speed", backend)
            seconds = time.perf_counter() - start
            speed.append((width, height, count, count / seconds))
            print(f"speed {width}x{height}: {count / seconds:.2f} frames/s ({count} frames, steadied)", flush=True)
            out.unlink()

    lines = [f"`bench/video.py {opts.folder}` ({time.strftime('%Y-%m-%d')}); {benchlib.machine_summary()}; "
             f"cgan default weights on the CPU (OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}).",
             "",
             "Flicker = mean |ab(t) - ab(t-1)| of the output / the truth's own (1.0 = as steady as the real "
             "colours). Target: steadied excess (ratio - 1) at most half of per-frame's.",
             "",
             "| clip | frames | colorization | flicker ratio | PSNR dB | AuC | colourfulness vs truth | frames/s |",
             "|---|---|---|---|---|---|---|---|"]
    for kind, count, label, r, fps in rows:
        lines.append(f"| {kind} | {count} | {label} | {r['ratio']:.2f} | {r['psnr']:.2f} | {r['auc']:.3f} | "
                     f"{r['colourfulness']:.2f} | {fps:.1f} |")
    lines.append("")
    for kind in ("sequence", "pans"):
        per, steady = [r for k, _c, _l, r, _f in rows if k == kind]
        if per["ratio"] <= 1:  # the truth itself changes more than the per-frame output: no excess
            lines.append(f"- {kind}: per-frame flicker is already below the truth's own (the frames are far "
                         f"apart, so real colours change more); steadied {steady['ratio']:.2f} vs "
                         f"per-frame {per['ratio']:.2f}.")
            continue
        excess_kept = (steady["ratio"] - 1) / (per["ratio"] - 1)
        verdict = "met" if excess_kept <= 0.5 else "NOT met"
        lines.append(f"- {kind}: steadied keeps {excess_kept:.0%} of per-frame's excess flicker (target 50%: {verdict}).")
    lines.append("")
    lines.append("| size | frames | frames/s (decode + colorize + steady + encode) |")
    lines.append("|---|---|---|")
    for width, height, count, fps in speed:
        lines.append(f"| {width}x{height} | {count} | {fps:.2f} |")
    heading = "## Video: steady colour, quality and speed (bench/video.py)"
    body = heading + "\n\n" + "\n".join(lines) + "\n"
    print(body)
    if opts.write:
        benchlib.write_results_section(heading, body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
