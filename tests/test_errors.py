"""One error model: every error meant for a person is a ``UserError``, and the
batch engine and the GUI's workers show its message as it is (issue 16, item 6)."""
from __future__ import annotations

import pytest

from colorizer_gui.backends.base import BackendError, MissingWeightsError
from colorizer_gui.core.batch import describe_error
from colorizer_gui.core.download import DownloadError
from colorizer_gui.core.errors import UserError
from colorizer_gui.core.hints import HintsError
from colorizer_gui.core.model_store import ModelImportError
from colorizer_gui.core.photo import PhotoError
from colorizer_gui.core.video import VideoError
from colorizer_gui.backends.zhang.files import CaffeModelError
from colorizer_gui.nets.weights_check import WeightsCheckError
from colorizer_gui.nets.weights_io import WeightsError
from training.checkpoint import CheckpointError
from training.errors import TrainingError

#: Each error and the base its callers still catch it by.
ERRORS = [
    (PhotoError, Exception), (VideoError, PhotoError), (BackendError, RuntimeError),
    (MissingWeightsError, BackendError), (TrainingError, RuntimeError), (WeightsError, ValueError),
    (WeightsCheckError, WeightsError), (DownloadError, RuntimeError), (HintsError, ValueError),
    (ModelImportError, ValueError), (CaffeModelError, ValueError), (CheckpointError, RuntimeError),
]


@pytest.mark.parametrize("cls,old_base", ERRORS, ids=[cls.__name__ for cls, _ in ERRORS])
def test_every_user_facing_error_is_a_user_error_and_keeps_its_base(cls, old_base):
    assert issubclass(cls, UserError)
    assert issubclass(cls, old_base)


@pytest.mark.parametrize("cls", [cls for cls, _ in ERRORS], ids=[cls.__name__ for cls, _ in ERRORS])
def test_the_batch_shows_a_user_errors_message_as_it_is(cls):
    assert describe_error(cls("grandma.jpg: the hints file is damaged")) == "grandma.jpg: the hints file is damaged"


def test_a_subclass_named_like_nothing_known_is_still_matched():
    class RenamedBackendTrouble(BackendError):
        pass

    assert describe_error(RenamedBackendTrouble("the model file is missing")) == "the model file is missing"


def test_other_errors_stay_unexpected():
    assert describe_error(KeyError("x")) == "unexpected error: KeyError: 'x'"


def test_the_gui_shows_a_user_errors_message_as_it_is():
    jobs = pytest.importorskip("colorizer_gui.gui.jobs")
    assert jobs.friendly_error(HintsError("hints.json: not a hints file")) == "hints.json: not a hints file"
    assert jobs.friendly_error(KeyError("x")).startswith("Something went wrong (KeyError")
