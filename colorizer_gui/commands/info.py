"""``colorizer info COPY...``: how a colour copy was made, and the original's EXIF it keeps."""
from __future__ import annotations

import argparse
from pathlib import Path

from .common import EXIT_FAILED, EXIT_OK, _error, _shown

def _cmd_info(argv: list[str]) -> int:
    """Print how each colour copy was made, and the original's EXIF it carries."""
    parser = argparse.ArgumentParser(
        prog="colorizer info",
        description="Show what a colour copy records about itself: that Colorizer made it, the "
                    "version, backend, model file and its hash, the settings, the number of colour "
                    "hints, and the original photo's EXIF (dates, camera, caption).")
    parser.add_argument("files", nargs="+", type=Path, metavar="COPY")
    opts = parser.parse_args(argv)
    from ..core.provenance import read_provenance

    code = EXIT_OK
    labels = {"Version": "version", "Repaired": "repair", "Backend": "backend", "Model": "model file", "ModelSHA256": "model SHA-256",
              "Settings": "settings", "Hints": "colour hints", "Source": "from", "Page": "page",
              "Date": "made on"}
    for path in opts.files:
        try:
            found = read_provenance(path)
        except Exception as err:  # noqa: BLE001 - one unreadable file, a clear line
            _error(f"{_shown(path)}: cannot be read ({err})")
            code = EXIT_FAILED
            continue
        ours, exif = found["colorizer"], found["exif"]
        print(f"{_shown(path)}:")
        if ours:
            if ours.get("Colourised", "True") != "False":
                print("  Colourised by Colorizer (the colours are predicted, not the original's)")
            if ours.get("Repaired"):
                print("  Repaired by Colorizer (scratches, dust and creases painted out)")
            for key, label in labels.items():
                if ours.get(key):
                    print(f"  {label + ':':<15}{ours[key]}")
        else:
            print("  no Colorizer record: not a colour copy Colorizer made (or its metadata was removed)")
            code = EXIT_FAILED
        for key, value in exif.items():
            print(f"  {'EXIF ' + key + ':':<24}{value}")
    return code
