"""``python -m training DATA_DIR --out MODEL.safetensors ...`` (same as ``colorizer_gui train``)."""
from __future__ import annotations

import sys

from .cli import main

if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["train"]:  # accept the "colorizer_gui train" spelling too
        args = args[1:]
    sys.exit(main(args))
