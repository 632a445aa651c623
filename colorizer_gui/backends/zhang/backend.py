"""Zhang, Isola and Efros, "Colorful Image Colorization" (ECCV 2016), run with OpenCV DNN.

The Caffe net sees L (224x224, minus 50) and predicts a distribution over 313
ab bins at 56x56; ``class8_ab`` (a 1x1 conv holding the bin centres) turns the
temperature-annealed distribution into ab. OpenCV is imported only at ``load``.
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import numpy as np

from ...core import model_store
from ..base import Availability, Backend, BackendError, MissingWeightsError
from .files import BINS_NAME, PROTOTXT_NAME, ZHANG_WEIGHTS_NAME, package_file

if TYPE_CHECKING:
    from ...core.progress import ProgressCallback, StopCallback

NET_SIZE = 224
N_BINS = 313
# The release scales logits by 2.606 before the softmax: temperature T = 1/2.606.
RELEASE_TEMPERATURE = 1.0 / 2.606
TEMPERATURE_RANGE = (0.01, 2.0)
DEVICES = ("auto", "cpu", "cuda")
DOWNLOAD_HINT = "python -m colorizer_gui models download zhang (or Models > Download in the app)"


def _side_or_package(weights: Path, name: str) -> Path:
    beside = weights.parent / name
    return beside if beside.is_file() else package_file(name)


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[-1].strip() if text else type(err).__name__


def read_net(caffemodel: Path, prototxt: Optional[Path] = None) -> Any:
    """Read the Caffe net with OpenCV; a damaged or foreign file gives ``BackendError``."""
    import cv2  # lazy: only a loaded backend needs OpenCV DNN

    prototxt = prototxt or package_file(PROTOTXT_NAME)
    try:
        net = cv2.dnn.readNetFromCaffe(str(prototxt), str(caffemodel))
    except cv2.error as err:
        raise BackendError(
            f"Cannot read the Zhang weights {caffemodel}: the file is damaged or is not the "
            f"ECCV16 colorization model ({_first_line(err)}). Get a fresh copy with: {DOWNLOAD_HINT}."
        ) from None
    if net.empty():
        raise BackendError(f"The Zhang weights {caffemodel} hold no network. Get a fresh copy with: {DOWNLOAD_HINT}.")
    return net


def load_bins(path: Path) -> np.ndarray:
    """The (313, 2) ab bin centres; refuses anything else (and never unpickles)."""
    try:
        bins = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as err:
        raise BackendError(f"Cannot read the ab bins {path}: {err}") from None
    if bins.shape != (N_BINS, 2):
        raise BackendError(f"The ab bins {path} have shape {bins.shape}, expected ({N_BINS}, 2)")
    return bins.astype(np.float32)


def _set_decoding(net: Any, bins: np.ndarray, temperature: float) -> None:
    # The annealed mean: softmax(logits / T) weighted by the bin centres.
    net.getLayer(net.getLayerId("class8_ab")).blobs = [
        np.ascontiguousarray(bins.T.reshape(2, N_BINS, 1, 1), dtype=np.float32)]
    net.getLayer(net.getLayerId("conv8_313_rh")).blobs = [
        np.full((1, N_BINS), 1.0 / temperature, np.float32)]


def _forward(net: Any, lightness: np.ndarray) -> np.ndarray:
    import cv2

    blob = (lightness.astype(np.float32) - np.float32(50.0)).reshape(1, 1, *lightness.shape)
    net.setInput(blob)
    try:
        out = net.forward("class8_ab")
    except cv2.error as err:
        raise BackendError(
            "The Zhang weights do not fit the ECCV16 colorization net "
            f"({_first_line(err)}). Get a fresh copy with: {DOWNLOAD_HINT}.") from None
    return np.ascontiguousarray(out[0].transpose(1, 2, 0), dtype=np.float32)


def verify_caffemodel(path: Path) -> None:
    """Raise ``BackendError`` unless OpenCV loads ``path`` with our net and runs it."""
    net = read_net(Path(path))
    _set_decoding(net, load_bins(package_file(BINS_NAME)), RELEASE_TEMPERATURE)
    ab = _forward(net, np.full((NET_SIZE, NET_SIZE), 50.0, np.float32))
    if ab.shape != (NET_SIZE // 4, NET_SIZE // 4, 2) or not np.all(np.isfinite(ab)):
        raise BackendError(f"The Zhang weights {path} give unusable output.")


def download_weights(on_progress: Optional["ProgressCallback"] = None,
                     should_stop: Optional["StopCallback"] = None,
                     base_url: Optional[str] = None) -> Path:
    """Download the official weights, trying each source in turn (SHA-256, size and an
    OpenCV load check; the authors' PyTorch release is converted to Caffe once); return the path."""
    from .convert import convert_pth_to_caffemodel
    from .download import download_zhang

    return download_zhang(on_progress=on_progress, should_stop=should_stop, base_url=base_url,
                          verify=verify_caffemodel, convert_pth=convert_pth_to_caffemodel)


def import_weights(src: Path) -> Path:
    """Import a model file the user picked: a .caffemodel is checked with OpenCV
    too, a .safetensors generator with every check the cgan backend makes."""
    from ..cgan import verify_weights
    from .files import caffemodel_import_rule

    return model_store.import_model_file(Path(src), verify_safetensors=verify_weights,
                                         other_formats=caffemodel_import_rule(verify_caffemodel))


class ZhangBackend(Backend):
    """Zhang et al. ECCV16 through OpenCV DNN: fixed 224x224 input, ab at 56x56."""

    name = "zhang"
    title = "Zhang et al. ECCV16 (OpenCV DNN)"
    default_render_size = NET_SIZE
    has_temperature = True
    can_download = True

    @classmethod
    def download_weights(cls, on_progress: Optional["ProgressCallback"] = None,  # type: ignore[override]
                         should_stop: Optional["StopCallback"] = None) -> Path:
        """The official weights, downloaded and checked (``download_weights`` above)."""
        return download_weights(on_progress=on_progress, should_stop=should_stop)

    def __init__(self, weights: Optional[Path] = None, device: str = "auto",
                 temperature: float = RELEASE_TEMPERATURE) -> None:
        super().__init__(weights, device)
        if device not in DEVICES:
            raise BackendError(f"Unknown device {device!r} for zhang; choose one of: {', '.join(DEVICES)}")
        low, high = TEMPERATURE_RANGE
        if not isinstance(temperature, (int, float)) or not low <= float(temperature) <= high:
            raise BackendError(f"Temperature must be between {low} and {high} (release: "
                               f"{RELEASE_TEMPERATURE:.2f}; lower gives more vivid colours), got {temperature!r}")
        self.temperature = float(temperature)
        self._net: Any = None
        self._lock = threading.Lock()  # one OpenCV net is not safe to run from two threads
        self._on_cuda = False

    def files(self) -> tuple[Optional[Path], Path, Path]:
        """(caffemodel or None, prototxt, bins) this backend would use now."""
        if self.weights is not None:
            model: Optional[Path] = self.weights
            return model, _side_or_package(self.weights, PROTOTXT_NAME), _side_or_package(self.weights, BINS_NAME)
        model = model_store.find_weights(ZHANG_WEIGHTS_NAME)
        return model, package_file(PROTOTXT_NAME), package_file(BINS_NAME)

    def _missing_reason(self) -> str:
        if self.weights is not None:
            return f"The Zhang weights file {self.weights} does not exist."
        folders = ", ".join(str(p) for p in model_store.weights_search_dirs())
        return (f"The Zhang model ({ZHANG_WEIGHTS_NAME}, 129 MB) was not found. Looked in: {folders}. "
                f"Get it with: {DOWNLOAD_HINT}.")

    def availability(self) -> Availability:
        model, prototxt, bins = self.files()
        if model is None or not model.is_file():
            return Availability(False, self._missing_reason())
        if self.weights is not None and model.suffix.lower() != ".caffemodel":
            return Availability(False, f"The zhang backend needs a .caffemodel file, not {model.name}.")
        for needed in (prototxt, bins):
            if not needed.is_file():
                return Availability(False, f"A file of the zhang backend is missing: {needed}. Reinstall Colorizer.")
        return Availability(True)

    def load(self) -> None:
        """Read the net, set the bins and temperature, pick the device; check with one forward pass."""
        if self._net is not None:
            return
        state = self.availability()
        if not state.ok:
            if "not found" in state.reason or "does not exist" in state.reason:
                raise MissingWeightsError(state.reason)
            raise BackendError(state.reason)
        model, prototxt, bins_path = self.files()
        assert model is not None
        net = read_net(model, prototxt)
        _set_decoding(net, load_bins(bins_path), self.temperature)
        self._on_cuda = self._choose_device(net)
        # A wrong or truncated file that OpenCV could still read fails here, at load.
        ab = _forward(net, np.full((NET_SIZE, NET_SIZE), 50.0, np.float32))
        if ab.shape != (NET_SIZE // 4, NET_SIZE // 4, 2):
            raise BackendError(f"The Zhang weights {model} give output of shape {ab.shape}; expected 56x56x2.")
        self._net = net

    def _choose_device(self, net: Any) -> bool:
        import cv2

        if self.device != "cuda":
            net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
            net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
            return False
        cuda_targets = cv2.dnn.getAvailableTargets(cv2.dnn.DNN_BACKEND_CUDA)
        has_gpu = hasattr(cv2, "cuda") and cv2.cuda.getCudaEnabledDeviceCount() > 0
        if not cuda_targets or not has_gpu:
            raise BackendError(
                "This OpenCV build has no CUDA support (the opencv-python wheels from PyPI never do), "
                "so the zhang backend runs on the CPU only: use --device cpu or auto.")
        net.setPreferableBackend(cv2.dnn.DNN_BACKEND_CUDA)
        net.setPreferableTarget(cv2.dnn.DNN_TARGET_CUDA)
        return True

    def render_shape(self, height: int, width: int, render_size: Optional[int]) -> tuple[int, int]:
        """Always 224x224: the Caffe net is fixed there (the paper's demo stretches the photo too)."""
        return NET_SIZE, NET_SIZE

    def predict_ab(self, lightness: np.ndarray, hints: Optional[np.ndarray] = None) -> np.ndarray:
        """ab (56, 56, 2) float32 for L (224, 224) float32 in [0, 100]; the released
        network has no hint input, so ``hints`` are not used (``accepts_hints`` is False)."""
        if lightness.shape != (NET_SIZE, NET_SIZE):
            raise ValueError(f"zhang needs L at {NET_SIZE}x{NET_SIZE}, got {lightness.shape}")
        self.load()
        with self._lock:
            return _forward(self._net, lightness)

    def model_file(self) -> Optional[Path]:
        return self.files()[0]

    def provenance_settings(self) -> dict[str, str]:
        return {"temperature": f"{self.temperature:g}"}

    def describe(self) -> str:
        model = self.files()[0]
        where = "CUDA" if self._on_cuda else "CPU"
        return f"{self.title}: {model or 'weights not found'}, OpenCV on {where}, temperature {self.temperature:.2f}"

