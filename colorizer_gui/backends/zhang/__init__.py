"""The ``zhang`` backend (Zhang et al. 2016, ECCV16 weights, run by OpenCV DNN) and all
it owns: the model file's name, sources and hashes (``files``), its download
(``download``), the conversion of the authors' PyTorch release (``convert``, with
``prototxt``) and the backend itself (``backend``). Importing this package is cheap:
OpenCV DNN and torch are imported only where they run."""
from __future__ import annotations

from .backend import (BINS_NAME, DEVICES, DOWNLOAD_HINT, N_BINS, NET_SIZE, PROTOTXT_NAME,
                      RELEASE_TEMPERATURE, TEMPERATURE_RANGE, ZhangBackend, download_weights,
                      import_weights, load_bins, package_file, read_net, verify_caffemodel)
from .files import ZHANG_WEIGHTS_NAME

__all__ = ["BINS_NAME", "DEVICES", "DOWNLOAD_HINT", "N_BINS", "NET_SIZE", "PROTOTXT_NAME",
           "RELEASE_TEMPERATURE", "TEMPERATURE_RANGE", "ZHANG_WEIGHTS_NAME", "ZhangBackend",
           "download_weights", "import_weights", "load_bins", "package_file", "read_net",
           "verify_caffemodel"]
