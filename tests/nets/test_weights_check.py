"""Model files are checked before they are trusted, the same way at every entry
point: ``models import``, ``models set-default``, ``colorize --weights``,
``train --init`` (and the GUI's Models menu, which calls the same functions).

The broken files are made from a real tiny generator: NaN, Inf and int8
weights, a tensor of the wrong shape, another network's tensors, and a small
file whose metadata asks for an enormous network.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from colorizer_gui.cli import main
from colorizer_gui.core import model_store, paths
from colorizer_gui.nets.weights_check import MAX_PARAMETERS
from colorizer_gui.nets.weights_io import WeightsError, load_generator

from photo_factory import color_scene, gray_scene, make_jpeg
from tiny_cgan import make_tiny_generator_file

REPO = Path(__file__).resolve().parents[2]


def _tensors(good: Path) -> tuple[dict, dict]:
    from safetensors import safe_open

    with safe_open(str(good), framework="pt") as fh:
        return {k: fh.get_tensor(k) for k in fh.keys()}, dict(fh.metadata())


def make_bad_models(folder: Path) -> dict[str, Path]:
    """name -> file, one per kind of broken model (all ``.safetensors``)."""
    folder.mkdir(parents=True, exist_ok=True)
    good = make_tiny_generator_file(folder / "good.safetensors")
    tensors, meta = _tensors(good)
    head = "head.weight"
    files = {}

    def write(kind: str, values: dict, metadata: dict) -> None:
        files[kind] = folder / f"{kind}.safetensors"
        save_file(values, str(files[kind]), metadata=metadata)

    write("nan", {**tensors, head: torch.full_like(tensors[head], float("nan"))}, meta)
    write("inf", {**tensors, head: torch.full_like(tensors[head], float("inf"))}, meta)
    write("int8", {**tensors, head: tensors[head].to(torch.int8)}, meta)
    write("wrong-shape", {**tensors, head: torch.zeros(2, 8, 5, 5, dtype=torch.float16)}, meta)
    foreign = {"features.0.weight": torch.zeros(64, 3, 3, 3), "classifier.weight": torch.zeros(10, 64)}
    write("foreign", foreign, {"arch": "pix2pix", "config": json.dumps({"ngf": 4})})
    write("oversized", tensors, {**meta, "config": json.dumps({"decoder_channels": [4096] * 5})})
    wild_gain = {**json.loads(meta["config"]), "ab_gain": 50.0}  # colours 50x: no real model's
    write("wild-gain", tensors, {**meta, "config": json.dumps(wild_gain)})
    # Widths each within bounds, but a network far above any real model's size.
    write("too-many-params", tensors, {**meta, "arch": "pix2pix", "config": json.dumps({"ngf": 128})})
    return files


@pytest.fixture(scope="module")
def bad_models(tmp_path_factory) -> dict[str, Path]:
    return make_bad_models(tmp_path_factory.mktemp("bad models"))


EXPECTED = {
    "nan": "NaN or infinite", "inf": "NaN or infinite", "int8": "stored as I8",
    "wrong-shape": r"head\.weight: file \(2, 8, 5, 5\)", "foreign": "do not fit a pix2pix generator",
    "oversized": r"decoder_channels=4096 .* not a width real models have",
    "too-many-params": "real models have at most",
    "wild-gain": r"ab_gain=50\.0 in its metadata is not valid",
}


@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_load_refuses_each_broken_file_naming_it(bad_models, kind):
    with pytest.raises(WeightsError, match=EXPECTED[kind]) as err:
        load_generator(bad_models[kind])
    assert str(err.value).startswith(f"{kind}.safetensors: ")


def test_every_entry_point_refuses_them_and_installs_nothing(bad_models, tmp_path, capsys):
    photo = make_jpeg(tmp_path / "in" / "a.jpg", gray_scene(64, 64))
    photos = tmp_path / "colour"
    for i in range(4):
        make_jpeg(photos / f"c{i}.jpg", color_scene(64, 64, seed=i))
    for kind, path in bad_models.items():
        if kind == "good":
            continue
        assert main(["models", "import", str(path)]) == 1
        err = capsys.readouterr().err
        assert f"{kind}.safetensors" in err and ".import-" not in err, err
        assert main(["models", "set-default", str(path)]) == 1
        assert f"{kind}.safetensors" in capsys.readouterr().err
        assert main(["colorize", str(photo), "-o", str(tmp_path / "out"), "--weights", str(path),
                     "--device", "cpu"]) == 2
        assert f"{kind}.safetensors" in capsys.readouterr().err
        assert main(["train", str(photos), "--out", str(tmp_path / "m.safetensors"), "--init", str(path),
                     "--size", "32", "--l1-epochs", "1", "--gan-epochs", "0", "--device", "cpu",
                     "--run-dir", str(tmp_path / f"run-{kind}"), "--workers", "0"]) == 1
        assert f"{kind}.safetensors" in capsys.readouterr().err
    weights = paths.user_weights_dir()
    assert not weights.exists() or list(weights.iterdir()) == []
    assert model_store.user_default_cgan_weights() is None
    assert not (tmp_path / "out").exists() and not (tmp_path / "m.safetensors").exists()


# The process's own peak: /proc's VmHWM (Linux). ru_maxrss would do elsewhere, but
# on Linux a child keeps the high-water mark of the process it was forked from.
_PEAK_MB = ("def peak_mb():\n"
            "    try:\n"
            "        for line in open('/proc/self/status'):\n"
            "            if line.startswith('VmHWM:'):\n"
            "                return int(line.split()[1]) // 1024\n"
            "    except OSError:\n"
            "        pass\n"
            "    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024\n")


def test_refusing_an_oversized_network_stays_small_in_memory(bad_models):
    probe = ("import resource, sys\n"
             "from colorizer_gui.nets.weights_io import WeightsError, load_generator\n"
             "try:\n    load_generator(sys.argv[1])\nexcept WeightsError as e:\n    print('refused', e)\n"
             f"{_PEAK_MB}\nprint(peak_mb())\n")
    for kind in ("oversized", "too-many-params"):
        out = subprocess.run([sys.executable, "-c", probe, str(bad_models[kind])], cwd=REPO, capture_output=True,
                             text=True, timeout=120, env=dict(os.environ, OMP_NUM_THREADS="1"))
        lines = out.stdout.splitlines()
        assert lines[0].startswith("refused"), out.stderr
        assert int(lines[-1]) < 500, f"{kind}: peak {lines[-1]} MB"
    assert MAX_PARAMETERS >= 55_000_000  # pix2pix unet_256 at ngf=64 (54.4 M) stays loadable


def test_import_checks_the_header_before_copying_a_huge_file(tmp_path, monkeypatch):
    huge = tmp_path / "huge.safetensors"
    with open(huge, "wb") as fh:
        fh.write((2 ** 40).to_bytes(8, "little"))  # a header "length" of 1 TB: not a model
        fh.truncate(2 << 30)  # 2 GB, sparse
    copies = []
    monkeypatch.setattr(model_store.shutil, "copyfileobj", lambda *a, **k: copies.append(a))
    assert main(["models", "import", str(huge)]) == 1
    assert copies == []
    assert not paths.user_weights_dir().exists() or list(paths.user_weights_dir().iterdir()) == []


def test_import_never_shadows_the_bundled_default(tmp_path, capsys):
    bundled = paths.bundled_weights_dir() / model_store.CGAN_DEFAULT_NAME
    assert bundled.is_file()
    mine = make_tiny_generator_file(tmp_path / "cgan-default.safetensors", arch="pix2pix")
    assert main(["models", "import", str(mine)]) == 0
    installed = paths.user_weights_dir() / "cgan-default-imported.safetensors"
    assert installed.is_file() and not (paths.user_weights_dir() / model_store.CGAN_DEFAULT_NAME).exists()
    assert model_store.resolve_cgan_weights() == bundled
    assert main(["models", "set-default", str(installed)]) == 0
    assert model_store.resolve_cgan_weights() == installed.resolve()
    assert main(["models", "set-default", "--reset"]) == 0
    assert model_store.resolve_cgan_weights() == bundled
    capsys.readouterr()


def test_upper_case_suffix_imports_and_is_listed(tmp_path, capsys):
    src = make_tiny_generator_file(tmp_path / "x.safetensors")
    upper = src.rename(tmp_path / "Family.SAFETENSORS")
    assert main(["models", "import", str(upper)]) == 0
    dest = paths.user_weights_dir() / "Family.safetensors"
    assert dest.read_bytes() == upper.read_bytes()
    assert main(["models", "import", str(upper)]) == 0  # again: the same file, not a second copy
    assert [p.name for _w, p in model_store.list_weight_files() if _w == "user"] == ["Family.safetensors"]
    main(["models"])
    assert str(dest) in capsys.readouterr().out


def test_training_stops_on_nan_loss_and_exports_nothing_broken(tmp_path, monkeypatch, capsys):
    import training.trainer as trainer
    from colorizer_gui.nets.weights_check import nonfinite_tensors

    real_step = trainer._Run.train_step

    def poisoned(self, l_norm, ab_norm):
        losses = real_step(self, l_norm, ab_norm)
        if self.step >= 1:  # the second step blows up, as with a far too high learning rate
            with torch.no_grad():
                for p in self.gen.parameters():
                    p.fill_(float("nan"))
            losses = {k: float("nan") for k in losses}
        return losses

    monkeypatch.setattr(trainer._Run, "train_step", poisoned)
    photos = tmp_path / "colour"
    for i in range(6):
        make_jpeg(photos / f"c{i}.jpg", color_scene(64, 64, seed=i))
    out = tmp_path / "m.safetensors"
    code = main(["train", str(photos), "--out", str(out), "--init", "imagenet", "--size", "32",
                 "--batch-size", "2", "--l1-epochs", "2", "--gan-epochs", "0", "--device", "cpu",
                 "--run-dir", str(tmp_path / "run"), "--workers", "0"])
    err = capsys.readouterr().err
    assert code == 1 and "loss became NaN or infinite" in err and "Traceback" not in err
    if out.exists():  # the baseline export before the blow-up may be there: it must be sound
        model, _ = load_generator(out)
        assert nonfinite_tensors(model.state_dict()) == []
