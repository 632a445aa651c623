"""Run the bad-input corpus through the real command line and record what a user gets.

Usage: python bench/bad_inputs.py [--no-write]

Builds the corpus of tests/test_robustness.py (empty, truncated, random-byte,
bomb, 1-pixel, 1x10000, CMYK/YCCK, 16-bit, palette, RGBA, EXIF 1-8, colour,
odd names, a path near PATH_MAX; and issue 18's: TIFF orientation 2-8 in 8 and
16 bit, 12-bit, 32-bit unsigned and float TIFFs, a thumbnail-first multi-page
TIFF, a JPEG with a 150 KB ICC profile, a PNG with a bad tEXt checksum, camera
RAW, AVIF, a backslash in a name) in a temp folder, runs
``python -m colorizer_gui colorize CORPUS -o OUT --backend cgan`` with a tiny
random cGAN model (what is measured here is the handling of each file, not the
colours), checks the originals are byte-identical afterwards, and prints a
markdown table. It replaces the "## Bad-input corpus" section of
bench/RESULTS.md unless ``--no-write``.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchlib import REPO, add_import_paths, write_results_section

add_import_paths("tests")

HEADING = "## Bad-input corpus"


def _snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _short(rel: str) -> str:
    return rel if len(rel) < 60 else f"{rel[:14]}...{rel[-24:]}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md alone")
    opts = parser.parse_args()

    from PIL import Image

    from test_robustness import build_bad_corpus, expected_output, failed_lines
    from tiny_cgan import make_tiny_generator_file

    with tempfile.TemporaryDirectory(prefix="colorizer-bad-") as tmp:
        base = Path(tmp)
        os.environ["COLORIZER_HOME"] = str(base / "home")
        root, out = base / "corpus", base / "out"
        cases = build_bad_corpus(root)
        model = make_tiny_generator_file(base / "tiny.safetensors")
        before = _snapshot(root)
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, "-m", "colorizer_gui", "colorize", str(root), "-o", str(out), "--backend", "cgan",
             "--weights", str(model), "--device", "cpu", "--render-size", "64"],
            cwd=REPO, capture_output=True, text=True, encoding="utf-8", errors="replace",
            env=dict(os.environ, OMP_NUM_THREADS="2", PYTHONIOENCODING="utf-8"))
        elapsed = time.monotonic() - started
        failed = failed_lines(result.stderr)
        skipped = failed_lines(result.stderr, "SKIPPED")
        notes = failed_lines(result.stderr, "NOTE")
        unchanged = _snapshot(root) == before
        rows, surprises = [], 0
        for case in cases:
            src = str(root / case.rel)
            dest = expected_output(case, out)
            if src in failed or src in skipped:
                said = skipped if case.skipped else failed
                outcome = f"{'skipped' if src in skipped else 'refused'}: \"{failed.get(src) or skipped[src]}\""
                as_expected = not case.ok and src in said and re.search(case.error, said[src]) is not None
            elif dest.is_file():
                with Image.open(dest) as im:
                    im.load()
                    outcome = f"{dest.name}: {im.size[0]}x{im.size[1]} {im.mode}"
                    as_expected = case.ok and im.size == case.size
                if case.check:
                    passed = case.check(dest)
                    outcome += "; picture checked" if passed else "; **picture wrong**"
                    as_expected = as_expected and passed
                if src in notes:
                    outcome += f" (note: {notes[src]})"
            else:
                outcome, as_expected = "no output and no message", False
            surprises += not as_expected
            rows.append(f"| `{_cell(_short(case.rel))}` | {_cell(case.what)} | {_cell(outcome)} | "
                        f"{'yes' if as_expected else '**NO**'} |")
        summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""

    text = [
        f"{HEADING}\n\n",
        "`python bench/bad_inputs.py`: the corpus of `tests/test_robustness.py` run through "
        "`python -m colorizer_gui colorize CORPUS -o OUT --backend cgan` (tiny random model, "
        f"CPU) in {elapsed:.1f} s. Exit code {result.returncode} "
        f"({'1 = some photos failed, as expected' if result.returncode == 1 else 'unexpected'}); "
        f"originals byte-identical afterwards (sha256): {'yes' if unchanged else '**NO**'}; "
        f"outcomes as the tests expect: {len(cases) - surprises} of {len(cases)}.\n\n",
        f"CLI summary: {summary}\n\n",
        "| input | what it is | outcome (message or output) | as expected |\n",
        "|---|---|---|---|\n",
        *(row + "\n" for row in rows),
        "\nAlso covered by the tests (not in this table): a 100 MP gray PNG (colorized at "
        "10000x10000, peak RSS about 1.5 GB), a file deleted mid-batch, read-only and full "
        "output disks, symlinks at output names, kill -9 during batches and training, "
        "pickled model files; and for issue 18 (tests/test_upright_and_depth.py, tests/test_found_and_said.py): "
        "all eight orientations in JPEG, PNG, WebP, HEIC and 8/16-bit TIFF (also through the window's Save), a "
        "photo whose path is past PATH_MAX (failed and named), a 1000-level folder tree, non-UTF-8 folder "
        "names through the CLI, skip rules (a copy matched to its own source, the user's own `colorized` "
        "folder and `*_color.jpg` files), `--render-size 33` and `--saturation inf` as usage errors, and the "
        "provenance of every copy (`info`).\n",
    ]
    print("".join(text))
    if not opts.no_write:
        print(f"wrote {write_results_section(HEADING, ''.join(text))}")
    return 0 if surprises == 0 and unchanged and result.returncode == 1 else 1


if __name__ == "__main__":
    sys.exit(main())
