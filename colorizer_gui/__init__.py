"""Colorizer: bring black-and-white family photos to colour."""

__version__ = "0.1.0"
