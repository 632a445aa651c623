"""The PySimpleGUI desktop app."""
