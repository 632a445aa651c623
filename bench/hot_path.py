"""The hot path: one 12 MP photo end to end (decode, network, join, encode, save)
with every feature on, against a bare read + write of the same file, side by side.

    .venv/bin/python bench/hot_path.py [--repeats 7] [--backend cgan|zhang] [--weights FILE] [--no-write]
                                       [--compare PACKAGE_DIR]

Three pipelines, interleaved in one process so a busy machine slows all alike:

- bare: ``cv2.imread`` + ``cv2.imwrite`` of the photo (the floor any pipeline pays);
- anchor: the PySimpleGUI colorizer's pipeline (imread, float Lab of the whole
  photo, L resized for the net, ab resized back, Lab -> BGR, imwrite), with the
  same cgan network in place of its Caffe one, so only the pipelines differ;
- Colorizer: ``pipeline.colorize_file`` with the photo's hints sidecar (two
  hints, read as the CLI reads them), EXIF orientation, provenance (XMP, EXIF
  Software) and the atomic, fsynced save.

``--compare DIR`` adds another version of the package, interleaved with the
rest (DIR is a copy of a ``colorizer_gui`` folder under another name, e.g.
``git archive COMMIT colorizer_gui | tar -x -C /tmp/old && mv /tmp/old/colorizer_gui
/tmp/old/colorizer_old``), so a change is measured against what came before in one run.

Two photos: a gray JPEG (one channel) and a gray scan stored as RGB with EXIF,
both 4000 x 3000. Prints medians and ratios to bare and writes them to the
"## Hot path" section of bench/RESULTS.md. The default weights are the bundled
model (it takes colour hints, so the hints reach the network). ``--backend zhang``
times the Zhang backend instead (it takes no hints); without ``--weights`` it runs
a Zhang-shaped caffemodel of random weights (its speed does not depend on them),
written as ``bench/speed_zhang.py`` writes it.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchlib import REPO, add_import_paths, gray_pixels, machine_summary, write_gray_jpeg, write_results_section

add_import_paths()

SECTION = "## Hot path: 12 MP end to end with every feature on (bench/hot_path.py)"


def make_photos(work: Path) -> dict[str, Path]:
    """The two 12 MP test photos, each with a hints sidecar."""
    from PIL import Image

    from colorizer_gui.core.hints import Hint, save_hints

    gray = gray_pixels(3000, 4000)
    photos = {"gray JPEG": write_gray_jpeg(work / "gray.jpg", gray)}
    exif = Image.Exif()
    exif[274] = 1  # Orientation: upright, read and applied as for any photo
    exif[306] = "1961:07:01 12:00:00"
    rgb = work / "scan-rgb.jpg"
    Image.fromarray(np.dstack([gray] * 3)).save(rgb, quality=92, exif=exif.tobytes())
    photos["gray scan stored as RGB, with EXIF"] = rgb
    for path in photos.values():
        save_hints(path, [Hint(0.3, 0.4, (200, 40, 40), name="dress"), Hint(0.7, 0.2, (60, 110, 200))])
    return photos


def anchor_pipeline(src: Path, dest: Path, backend) -> None:
    """The PySimpleGUI colorizer's steps, with ``backend``'s network."""
    import cv2

    image = cv2.imread(str(src))
    scaled = image.astype(np.float32) / 255.0
    lab = cv2.cvtColor(scaled, cv2.COLOR_BGR2LAB)
    lightness = lab[:, :, 0]
    height, width = backend.render_shape(*lightness.shape, None)
    small = cv2.resize(lightness, (width, height))
    ab = backend.predict_ab(small)
    ab = cv2.resize(ab, (image.shape[1], image.shape[0]))
    colorized = cv2.cvtColor(np.concatenate((lightness[:, :, np.newaxis], ab), axis=2), cv2.COLOR_LAB2BGR)
    colorized = (255 * np.clip(colorized, 0, 1)).astype("uint8")
    cv2.imwrite(str(dest), colorized)


def colorizer_run(package: str, backend_name: str, weights: Path, out: Path):
    """``run(src)``: ``package``'s colorize_file with the photo's sidecar hints."""
    import importlib

    backends = importlib.import_module(f"{package}.backends")
    hints_module = importlib.import_module(f"{package}.core.hints")
    pipeline = importlib.import_module(f"{package}.core.pipeline")
    backend = backends.create_backend(backend_name, weights=weights, device="cpu")
    backend.load()

    def run(src: Path) -> None:
        hints, _found = hints_module.hints_for(src)  # as the batch reads each photo's sidecar
        pipeline.colorize_file(src, out, backend, hints=hints)
    return backend, run


def measure(photos: dict[str, Path], weights: Path, work: Path, repeats: int,
            compare: Path | None = None, backend_name: str = "cgan") -> dict[str, dict[str, float]]:
    import cv2

    backend, ours = colorizer_run("colorizer_gui", backend_name, weights, work / "out")

    def bare(src: Path) -> None:
        cv2.imwrite(str(work / "bare.jpg"), cv2.imread(str(src)))

    def anchor(src: Path) -> None:
        anchor_pipeline(src, work / "anchor.jpg", backend)

    runs = {"bare": bare, "anchor": anchor, "Colorizer": ours}
    if compare is not None:
        sys.path.insert(0, str(Path(compare).parent))
        runs["compared"] = colorizer_run(Path(compare).name, backend_name, weights, work / "out-compared")[1]
    out = {}
    for label, src in photos.items():
        for run in runs.values():
            run(src)  # warm-up: caches, the net's first call
        times: dict[str, list[float]] = {name: [] for name in runs}
        for _ in range(repeats):
            for name, run in runs.items():
                start = time.perf_counter()
                run(src)
                times[name].append(time.perf_counter() - start)
        out[label] = {name: statistics.median(t) for name, t in times.items()}
        print(label, {k: round(v, 3) for k, v in out[label].items()}, flush=True)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="interleaved runs of each pipeline (median)")
    parser.add_argument("--backend", choices=("cgan", "zhang"), default="cgan")
    parser.add_argument("--weights", type=Path, default=None,
                        help="model file (default: the bundled cgan model; for zhang a random-weight one)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md alone")
    parser.add_argument("--compare", type=Path, default=None, metavar="PACKAGE_DIR",
                        help="another version of the package (a renamed copy) to time side by side")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="hot-path-") as tmp:
        work = Path(tmp)
        if args.weights is None and args.backend == "zhang":
            add_import_paths("tests")  # the random-weight model writer lives with the tests
            from zhang_model import write_random_zhang_caffemodel

            args.weights = write_random_zhang_caffemodel(work / "random.caffemodel")
        elif args.weights is None:
            args.weights = REPO / "weights" / "cgan-default.safetensors"
        results = measure(make_photos(work), args.weights, work, args.repeats, args.compare, args.backend)
    lines = [SECTION, "",
             f"`.venv/bin/python bench/hot_path.py --repeats {args.repeats}"
             f"{f' --backend {args.backend}' if args.backend != 'cgan' else ''}"
             f"{f' --compare DIR/{args.compare.name}' if args.compare else ''}` on {machine_summary()}; "
             f"{args.backend} backend, model {args.weights.name}, CPU; medians of {args.repeats} interleaved runs. "
             "Colorizer: hints sidecar (2 hints), EXIF orientation, provenance, atomic fsynced save. "
             "Target: Colorizer at most 1.9x bare.", "",
             "| 12 MP photo | bare read+write | anchor pipeline | Colorizer | anchor / bare | Colorizer / bare |",
             "|---|---|---|---|---|---|"]
    for label, t in results.items():
        lines.append(f"| {label} | {t['bare']:.3f} s | {t['anchor']:.3f} s | {t['Colorizer']:.3f} s | "
                     f"{t['anchor'] / t['bare']:.2f}x | {t['Colorizer'] / t['bare']:.2f}x |")
    if args.compare is not None:
        lines += ["", f"Side by side with {args.compare.name}, a renamed copy of another version's package "
                  "(``git archive COMMIT colorizer_gui | tar -x -C DIR``, then renamed), in the same runs:", "",
                  "| 12 MP photo | compared | compared / bare | Colorizer / bare |", "|---|---|---|---|"]
        for label, t in results.items():
            lines.append(f"| {label} | {t['compared']:.3f} s | {t['compared'] / t['bare']:.2f}x | "
                         f"{t['Colorizer'] / t['bare']:.2f}x |")
    body = "\n".join(lines) + "\n"
    print(body)
    if not args.no_write:
        write_results_section(SECTION, body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
