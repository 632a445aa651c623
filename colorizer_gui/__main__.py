"""``python -m colorizer_gui``: the command line (no arguments opens the window)."""
import sys

from colorizer_gui.cli import main

if __name__ == "__main__":
    sys.exit(main())
