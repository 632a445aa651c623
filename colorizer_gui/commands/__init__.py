"""The command line's subcommands, one module each (``colorizer_gui.cli`` dispatches)."""
