"""``python -m colorizer_gui``: the command line (no arguments opens the window)."""
from colorizer_gui.cli import console_main

if __name__ == "__main__":
    console_main()
