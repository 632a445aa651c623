"""Fine-tuning: data scan, discriminator, losses, the trainer (resume, crash safety,
export), multi-process training and the CLI. Tiny images and nets keep it fast."""
from __future__ import annotations

import math
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from training.checkpoint import CHECKPOINT_NAME, load_checkpoint
from training.cli import build_parser, options_from_args
from training.dataset import (ColorPhotoDataset, EpochSampler, is_gray_or_sepia, scan_photos,
                              split_indices)
from training.discriminator import build_discriminator
from training.errors import TrainingError
from training.losses import GANLoss
from training.options import TrainOptions
from training.trainer import STATE_HASH_ENV, train

REPO = Path(__file__).resolve().parents[2]
TINY_DECODER = {"decoder_channels": [16, 16, 8, 8, 8]}


@pytest.fixture(autouse=True)
def _few_threads():
    old = torch.get_num_threads()
    torch.set_num_threads(1)  # the machine is shared; oversubscribing is slower
    yield
    torch.set_num_threads(old)


def stripes(h: int, w: int, seed: int) -> np.ndarray:
    """A colour photo whose colour follows from brightness: bright = red, dark = blue."""
    rng = np.random.default_rng(seed)
    period = int(rng.integers(6, 16))
    x = np.arange(w) + int(rng.integers(0, 16))
    y = np.arange(h)[:, None]
    bright = ((x[None, :] + y * int(rng.integers(0, 2))) // period) % 2 == 0
    img = np.empty((h, w, 3), np.uint8)
    img[bright] = (225, 70 + seed % 31, 55)          # the small shifts keep files distinct
    img[~bright] = (25, 35 + (seed // 31) % 31, 125)
    return img


def make_photos(folder: Path, count: int, h: int = 48, w: int = 64, seed: int = 0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        Image.fromarray(stripes(h, w, seed * 1000 + i)).save(folder / f"photo_{i:02d}.png")
    return folder


def tiny_options(tmp_path: Path, data: Path, **kw) -> TrainOptions:
    base = dict(data_dir=str(data), out=str(tmp_path / "model.safetensors"), init="scratch",
                arch="lite0-unet", arch_kwargs=TINY_DECODER, size=32, batch_size=2, l1_epochs=1,
                gan_epochs=1, lr_l1=1e-3, ndf=4, eval_every=1000, checkpoint_every=1000,
                device="cpu", seed=3, workers=0, run_dir=str(tmp_path / "run"), deterministic=True)
    base.update(kw)
    return TrainOptions(**base)



# -- data -------------------------------------------------------------------

def test_scan_counts_each_kind_of_skipped_file(tmp_path):
    data = make_photos(tmp_path / "photos", 3, h=80, w=100)
    sub = data / "nested" / "deeper"
    sub.mkdir(parents=True)
    (sub / "copy.png").write_bytes((data / "photo_00.png").read_bytes())      # duplicate
    gray = np.repeat(stripes(80, 100, 7).mean(axis=2, keepdims=True), 3, axis=2).astype(np.uint8)
    Image.fromarray(gray).save(sub / "gray_rgb.jpg")                         # grayscale
    tone = np.linspace(30, 230, 100)[None, :, None] * np.array([1.0, 0.82, 0.6])
    Image.fromarray(np.broadcast_to(tone, (80, 100, 3)).astype(np.uint8)).save(data / "sepia.png")
    Image.fromarray(stripes(20, 100, 9)).save(data / "tiny.png")             # short side 20 < 32
    good = (data / "photo_01.png").read_bytes()
    (data / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 40)  # corrupt
    (sub / "cut.png").write_bytes(good[: len(good) // 2])                      # truncated
    (data / "notes.txt").write_text("not a photo")
    images, paths, report = scan_photos(data, size=64)
    assert (report.found, report.used) == (9, 3)
    assert (report.duplicate, report.grayscale, report.tiny, report.corrupt) == (1, 2, 1, 2)
    assert [p.name for p in paths] == ["photo_00.png", "photo_01.png", "photo_02.png"]
    # Cached at 1.25x the training size (short side 80 -> 80 since 80 == 1.25 * 64).
    assert all(min(img.shape[:2]) == 80 and img.dtype == np.uint8 for img in images)
    assert "2 unreadable" in report.summary() and "1 duplicates" in report.summary()


def test_keep_toned_trains_on_one_hue_photos_too(tmp_path):
    """A curated colour set's fog and sunsets look like toned prints to the sepia
    test; --keep-toned keeps them (the default model's data), the default skips them."""
    data = make_photos(tmp_path / "photos", 2, h=80, w=100)
    fog = np.linspace(30, 230, 100)[None, :, None] * np.array([0.82, 0.9, 1.0])
    Image.fromarray(np.broadcast_to(fog, (80, 100, 3)).astype(np.uint8)).save(data / "fog.png")
    _images, paths, report = scan_photos(data, size=64)
    assert report.used == 2 and report.grayscale == 1
    _images, paths, report = scan_photos(data, size=64, keep_toned=True)
    assert sorted(p.name for p in paths) == ["fog.png", "photo_00.png", "photo_01.png"]
    assert report.grayscale == 0
    args = build_parser().parse_args(["data", "--out", "m.safetensors", "--keep-toned"])
    assert options_from_args(args).keep_toned


def test_training_never_learns_from_colorizers_own_copies(tmp_path):
    """A folder the user once colorized holds our guesses beside their photos: a
    model trained on those would learn its own mistakes."""
    from colorizer_gui.core.batch import run_batch
    from fake_backends import FormulaBackend

    data = make_photos(tmp_path / "photos", 2, h=80, w=100)
    done = run_batch([data / "photo_00.png"], None, FormulaBackend())  # -> photos/colorized/
    assert len(done.done) == 1
    Image.fromarray(stripes(80, 100, 5)).save(data / "colorized" / "holiday_color.png")  # the user's own
    _images, paths, report = scan_photos(data, size=64)
    assert sorted(p.name for p in paths) == ["holiday_color.png", "photo_00.png", "photo_01.png"]
    assert report.colorized == 1 and "1 Colorizer's own copies" in report.summary()


def test_big_photos_are_cached_small(tmp_path):
    data = make_photos(tmp_path / "p", 2, h=300, w=450)
    images, _paths, report = scan_photos(data, size=64)
    assert [img.shape for img in images] == [(80, 120, 3)] * 2
    assert report.cache_mb == pytest.approx(2 * 80 * 120 * 3 / 2**20)


def test_gray_and_sepia_detection():
    color = stripes(64, 64, 1)
    assert not is_gray_or_sepia(color)
    gray = np.repeat(color[:, :, :1], 3, axis=2)
    assert is_gray_or_sepia(gray)
    sepia = (color.mean(axis=2, keepdims=True) * np.array([1.0, 0.85, 0.65])).astype(np.uint8)
    assert is_gray_or_sepia(sepia)


def test_one_hue_color_photo_is_not_taken_for_sepia():
    """A close-up face is nearly all one hue, but pale and ruddy skin share each
    lightness; in a toned print the tint follows the tone, so it is skipped."""
    from colorizer_gui.core.color import join_lab

    lightness = np.broadcast_to(np.linspace(35, 85, 96, dtype=np.float32), (96, 96))
    hue = np.float32(np.deg2rad(60))  # skin: between red and yellow
    chroma = np.where(np.arange(96)[:, None] % 24 < 12, 10.0, 32.0).astype(np.float32)
    ab = np.stack([chroma * np.cos(hue), chroma * np.sin(hue)], axis=-1)
    face = join_lab(np.ascontiguousarray(lightness), np.broadcast_to(ab, (96, 96, 2)).copy())
    assert not is_gray_or_sepia(face)
    toned = join_lab(np.ascontiguousarray(lightness),
                     np.broadcast_to(ab.mean(axis=0, keepdims=True), (96, 96, 2)).copy())
    assert is_gray_or_sepia(toned)


def test_validation_split_is_deterministic_and_sized():
    train_a, val_a = split_indices(100, 0.05, 4, seed=1)
    train_b, val_b = split_indices(100, 0.05, 4, seed=1)
    assert (train_a, val_a) == (train_b, val_b) and len(val_a) == 5
    assert set(train_a).isdisjoint(val_a) and len(train_a) + len(val_a) == 100
    assert split_indices(100, 0.05, 4, seed=2)[1] != val_a
    assert len(split_indices(20, 0.05, 4, seed=0)[1]) == 4  # at least 4
    assert len(split_indices(3, 0.05, 4, seed=0)[1]) == 1   # but leaves photos to train


def test_dataset_items_are_normalised_lab_with_deterministic_augmentation():
    photo = stripes(48, 80, 2)
    ds = ColorPhotoDataset([photo], size=32, augment=True, seed=5)
    l_norm, ab_norm = ds[(0, 0)]
    assert l_norm.shape == (1, 32, 32) and ab_norm.shape == (2, 32, 32)
    assert l_norm.min() >= -1 and l_norm.max() <= 1
    bright = l_norm[0] > 0
    assert ab_norm[0][bright].mean() > 0.3            # red: a > 0
    assert ab_norm[1][~bright].mean() < -0.3          # blue: b < 0
    assert torch.equal(ds[(0, 0)][0], l_norm)         # same (epoch, index): same sample
    views = {ds[(epoch, 0)][0].numpy().tobytes() for epoch in range(6)}
    assert len(views) > 1                              # other epochs: other crops/flips


def test_sampler_shards_and_skips_like_an_uninterrupted_epoch():
    full = list(EpochSampler(10, seed=4))
    skipped = EpochSampler(10, seed=4)
    skipped.set_epoch(0, skip=4)
    assert list(skipped) == full[4:] and len(skipped) == 6
    ranks = [EpochSampler(10, seed=4, rank=r, world_size=2) for r in (0, 1)]
    seen = sorted(i for s in ranks for _e, i in s)
    assert seen == list(range(10))
    other = EpochSampler(10, seed=4)
    other.set_epoch(1)
    assert [i for _e, i in other] != [i for _e, i in full]


# -- networks and losses ---------------------------------------------------------

def test_patchgan_output_shape_receptive_field_and_init():
    disc = build_discriminator(ndf=4)
    l_norm = torch.zeros(2, 1, 256, 256, requires_grad=True)
    out = disc(l_norm, torch.zeros(2, 2, 256, 256))
    assert out.shape == (2, 1, 30, 30)
    disc.eval()  # in training mode BatchNorm's batch statistics connect every pixel
    out = disc(l_norm, torch.zeros(2, 2, 256, 256))
    out[0, 0, 15, 15].backward()                      # which input pixels feed one patch logit?
    rows, cols = torch.nonzero(l_norm.grad[0, 0]).unbind(1)
    assert rows.max() - rows.min() + 1 == 70 and cols.max() - cols.min() + 1 == 70
    big = build_discriminator(ndf=64)
    convs = [m for m in big.modules() if isinstance(m, torch.nn.Conv2d)]
    weights = torch.cat([c.weight.flatten() for c in convs])
    assert weights.std().item() == pytest.approx(0.02, rel=0.05) and abs(weights.mean()) < 1e-3
    bns = [m for m in big.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert len(bns) == 3 and len(convs) == 5
    bn_w = torch.cat([b.weight for b in bns])
    assert bn_w.mean().item() == pytest.approx(1.0, abs=0.01) and bn_w.std().item() < 0.03
    assert convs[0].bias is not None and all(c.bias is None for c in convs[1:4])


def test_gan_loss_rewards_correct_logits():
    loss = GANLoss()
    sure_real = torch.full((2, 1, 4, 4), 8.0)
    assert loss(sure_real, True) < 0.01 < 7.0 < loss(sure_real, False)


# -- the trainer -----------------------------------------------------------------

def test_training_lowers_validation_l1_and_exports_loadable_weights(tmp_path):
    from colorizer_gui.nets.weights_io import load_generator

    data = make_photos(tmp_path / "photos", 12, h=64, w=80)
    events = []
    opts = tiny_options(tmp_path, data, size=64, batch_size=4, l1_epochs=8, gan_epochs=2,
                        lr_l1=3e-3, keep_snapshots=True)
    result = train(opts, on_progress=events.append)
    assert not result.cancelled and result.step == result.total_steps == 20
    first, last = result.evaluations[0], result.evaluations[-1]
    assert first["step"] == 0 and last["step"] == 20
    assert min(e["val_l1"] for e in result.evaluations[1:]) < 0.6 * first["val_l1"]
    assert result.best_val_l1 < 0.6 * first["val_l1"]
    stages = {e.stage for e in events}
    assert {"scan", "l1", "gan", "eval", "done"} <= stages
    gan_event = next(e for e in events if e.stage == "gan")
    assert {"loss_l1", "loss_g_gan", "loss_d", "images_per_s", "epoch"} <= set(gan_event.metrics)
    preview = Image.open(result.run_dir / "preview_latest.png")
    assert preview.size == (3 * 64, 4 * 64)          # gray | ours | truth, 4 rows
    assert (result.run_dir / "preview_0000020.png").is_file()
    assert (result.run_dir / "options.json").is_file()

    # Every evaluation's model is kept when asked; the exported one is the best of
    # the last (GAN) stage, not an earlier L1-stage model with a lower L1.
    snapshots = {p.name for p in (result.run_dir / "snapshots").iterdir()}
    assert {"l1-step0000000.safetensors", "gan-step0000020.safetensors"} <= snapshots
    assert len(snapshots) == len(result.evaluations)
    gan_scores = [e["val_l1"] for e in result.evaluations if e["stage"] == "gan"]
    assert gan_scores and result.best_val_l1 == pytest.approx(min(gan_scores))

    model, meta = load_generator(result.out)
    assert meta["arch"] == "lite0-unet" and meta["train_size"] == "64"
    assert '"stage": "gan"' in meta["metrics"]
    assert '"used": 12' in meta["data_summary"]
    assert float(eval(meta["metrics"].replace("null", "None"))["val_l1"]) == pytest.approx(
        result.best_val_l1, rel=1e-6)
    # The exported model colours a new photo: yellowish red where bright, blue where dark
    # (truth: b/110 is about +0.4 on the red stripes and -0.5 on the blue ones).
    from training.dataset import to_training_pair

    l_norm, _ab = to_training_pair(stripes(64, 64, 99))
    with torch.no_grad():
        ab = model(l_norm[None])[0]
    bright = l_norm[0] > 0
    assert ab[1][bright].mean() > ab[1][~bright].mean() + 0.2

    # ... and the app's cgan backend uses it.
    from colorizer_gui.backends import create_backend
    from colorizer_gui.core.color import lightness

    backend = create_backend("cgan", weights=result.out, device="cpu")
    backend.load()
    predicted = backend.predict_ab(lightness(stripes(64, 64, 98)))
    assert predicted.shape[-1] == 2 and np.abs(predicted).max() > 5


def _losses_by_step(events):
    return {e.done: e.metrics for e in events if e.stage in ("l1", "gan")}


def test_cancel_then_resume_matches_an_uninterrupted_run(tmp_path):
    data = make_photos(tmp_path / "photos", 12)   # 8 train -> 4 steps an epoch
    full_events = []
    full = train(tiny_options(tmp_path / "a", data, gan_epochs=2), on_progress=full_events.append)
    assert full.step == 12

    events = []
    stopped = train(tiny_options(tmp_path / "b", data, gan_epochs=2), on_progress=events.append,
                    should_stop=lambda: sum(e.stage in ("l1", "gan") for e in events) >= 6)
    assert stopped.cancelled and stopped.step == 6
    state = load_checkpoint(stopped.checkpoint)
    assert (state["step"], state["epoch"], state["step_in_epoch"], state["stage"]) == (6, 1, 2, "gan")

    resumed_events = []
    resumed = train(tiny_options(tmp_path / "b", data, gan_epochs=2, resume=True),
                    on_progress=resumed_events.append)
    assert not resumed.cancelled and resumed.step == 12
    steps = sorted(_losses_by_step(resumed_events))
    assert steps == list(range(7, 13))
    reference = _losses_by_step(full_events)
    for step, metrics in _losses_by_step(resumed_events).items():
        for key in ("loss_l1", "loss_g_gan", "loss_d"):
            assert metrics[key] == pytest.approx(reference[step][key], rel=1e-4, abs=1e-6), (step, key)
    assert resumed.best_val_l1 == pytest.approx(full.best_val_l1, rel=1e-4)


def test_cosine_schedule_settles_to_zero_and_resumes_on_the_same_curve(tmp_path):
    data = make_photos(tmp_path / "photos", 12)   # 8 train -> 4 steps an epoch
    kw = dict(l1_epochs=2, gan_epochs=1, lr_l1=1e-3, lr_gan=2e-4, lr_schedule="cosine")
    full_events = []
    full = train(tiny_options(tmp_path / "a", data, **kw), on_progress=full_events.append)
    rates = {step: m["lr"] for step, m in _losses_by_step(full_events).items()}
    assert full.step == 12 and sorted(rates) == list(range(1, 13))
    assert rates[1] == pytest.approx(1e-3)                       # the first step at the full rate
    assert rates[7] == pytest.approx(1e-3 * 0.5 * (1 + math.cos(math.pi * 6 / 12)))
    assert rates[9] == pytest.approx(2e-4 * 0.5 * (1 + math.cos(math.pi * 8 / 12)))  # GAN stage
    assert rates[12] < 0.02 * 2e-4                               # nearly still at the end
    assert all(rates[s + 1] < rates[s] for s in range(1, 8))      # falls through the L1 stage

    events = []
    stopped = train(tiny_options(tmp_path / "b", data, **kw), on_progress=events.append,
                    should_stop=lambda: sum(e.stage in ("l1", "gan") for e in events) >= 5)
    assert stopped.cancelled and stopped.step == 5
    resumed_events = []
    train(tiny_options(tmp_path / "b", data, **dict(kw, resume=True)), on_progress=resumed_events.append)
    for step, metrics in _losses_by_step(resumed_events).items():
        assert metrics["lr"] == pytest.approx(rates[step]), step
        assert metrics["loss_l1"] == pytest.approx(_losses_by_step(full_events)[step]["loss_l1"],
                                                   rel=1e-4, abs=1e-6), step
    with pytest.raises(ValueError, match="--lr-schedule must be one of"):
        TrainOptions(data_dir="d", out="o.safetensors", lr_schedule="step").validate()


def test_crash_while_writing_a_checkpoint_keeps_the_previous_one(tmp_path, monkeypatch):
    data = make_photos(tmp_path / "photos", 8)
    events = []
    first = train(tiny_options(tmp_path, data, l1_epochs=2), on_progress=events.append,
                  should_stop=lambda: sum(e.stage == "l1" for e in events) >= 3)
    ckpt = first.checkpoint
    before = ckpt.read_bytes()

    real_replace = os.replace

    def crash_on_checkpoint(src, dst):
        if Path(dst).name == CHECKPOINT_NAME:
            raise OSError("simulated crash while renaming the checkpoint")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", crash_on_checkpoint)
    with pytest.raises(OSError, match="simulated crash"):
        train(tiny_options(tmp_path, data, l1_epochs=2, resume=True))
    monkeypatch.setattr(os, "replace", real_replace)
    assert ckpt.read_bytes() == before
    assert load_checkpoint(ckpt)["step"] == 3
    assert not [p for p in ckpt.parent.iterdir() if p.name.endswith(".tmp")]
    done = train(tiny_options(tmp_path, data, l1_epochs=2, resume=True))
    assert done.step == done.total_steps and not done.cancelled


def test_refuses_to_overwrite_a_run_and_needs_default_weights(tmp_path, no_bundled_weights):
    data = make_photos(tmp_path / "photos", 4)
    with pytest.raises(TrainingError, match="--init imagenet"):
        train(tiny_options(tmp_path, data, init="default", arch_kwargs={}))
    train(tiny_options(tmp_path, data, l1_epochs=1, gan_epochs=0))
    with pytest.raises(TrainingError, match="--resume"):
        train(tiny_options(tmp_path, data))
    early = train(tiny_options(tmp_path / "y", data), should_stop=lambda: True)
    assert early.cancelled and early.step == 0 and not early.checkpoint.exists()
    with pytest.raises(TrainingError, match="at least 2"):
        train(tiny_options(tmp_path / "x", make_photos(tmp_path / "one", 1)))


def test_init_from_a_model_file_goes_on_from_its_weights(tmp_path):
    from colorizer_gui.nets.weights_io import load_generator, read_metadata

    data = make_photos(tmp_path / "photos", 4)
    first = train(tiny_options(tmp_path / "a", data, l1_epochs=1, gan_epochs=0))
    base, _ = load_generator(first.out, "cpu")
    # A vanishing learning rate: the second run's weights must be the first run's,
    # which a fresh (scratch) generator's are not.
    second = train(tiny_options(tmp_path / "b", data, init=str(first.out), l1_epochs=1,
                                gan_epochs=0, lr_l1=1e-12))
    went_on, _ = load_generator(second.out, "cpu")
    fresh = train(tiny_options(tmp_path / "c", data, l1_epochs=1, gan_epochs=0, lr_l1=1e-12))
    scratch, _ = load_generator(fresh.out, "cpu")
    for (name, a), b, c in zip(base.named_parameters(), went_on.parameters(), scratch.parameters()):
        assert torch.equal(a, b), name
    assert any(not torch.equal(a, c) for a, c in zip(base.parameters(), scratch.parameters()))
    assert read_metadata(second.out)["base_weights"] == first.out.name

    with pytest.raises(TrainingError, match="no model file"):
        train(tiny_options(tmp_path / "d", data, init=str(tmp_path / "missing.safetensors")))
    with pytest.raises(ValueError, match="--init must be"):
        train(tiny_options(tmp_path / "e", data, init="weights.pth"))


def test_pix2pix_gan_step_at_256(tmp_path):
    from colorizer_gui.nets.weights_io import load_generator

    data = make_photos(tmp_path / "photos", 4, h=256, w=256)
    result = train(tiny_options(tmp_path, data, arch="pix2pix", arch_kwargs={"ngf": 2}, size=256,
                                l1_epochs=0, gan_epochs=1))
    assert result.step == 1
    model, meta = load_generator(result.out)
    assert meta["arch"] == "pix2pix" and model.config == {"ngf": 2}
    assert model(torch.zeros(1, 1, 256, 256)).shape == (1, 2, 256, 256)


# -- command line and multi-process -------------------------------------------------

def test_cli_trains_and_reports_errors(tmp_path, capsys):
    from training.cli import main

    data = make_photos(tmp_path / "photos", 6)
    out = tmp_path / "cli.safetensors"
    code = main([str(data), "--out", str(out), "--init", "imagenet", "--size", "32",
                 "--batch-size", "2", "--l1-epochs", "1", "--gan-epochs", "0", "--device", "cpu",
                 "--run-dir", str(tmp_path / "run"), "--workers", "0"])
    captured = capsys.readouterr()
    assert code == 0 and out.is_file()
    assert "6 usable" in captured.out and "Model:" in captured.out
    assert main([str(tmp_path / "missing"), "--out", str(out), "--init", "imagenet"]) == 1
    assert "does not exist" in capsys.readouterr().err
    assert main([str(data), "--out", str(out), "--size", "33"]) == 1


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_two_process_training_keeps_ranks_identical(tmp_path):
    data = make_photos(tmp_path / "photos", 12)
    hash_file = tmp_path / "state"
    env = {**os.environ, STATE_HASH_ENV: str(hash_file), "OMP_NUM_THREADS": "1",
           "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
           "--master_port", str(_free_port()), "-m", "training",
           str(data), "--out", str(tmp_path / "ddp.safetensors"), "--init", "scratch",
           "--size", "32", "--batch-size", "2", "--l1-epochs", "1", "--gan-epochs", "1",
           "--device", "cpu", "--run-dir", str(tmp_path / "run"), "--workers", "0"]
    proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    hashes = [(tmp_path / f"state.rank{r}").read_text() for r in (0, 1)]
    assert hashes[0] == hashes[1]
    state = load_checkpoint(tmp_path / "run" / CHECKPOINT_NAME)
    # 8 training photos over 2 ranks at batch 2: 2 steps an epoch, 2 epochs.
    assert state["step"] == 4 and state["stage"] == "gan"
    assert (tmp_path / "ddp.safetensors").is_file()


def test_ctrl_c_saves_a_checkpoint_and_exits_130(tmp_path, monkeypatch, capsys):
    import signal

    from training import cli

    data = make_photos(tmp_path / "photos", 8)
    adapter = cli._TqdmProgress.__call__
    sent = []

    def press_ctrl_c_after_two_steps(self, event):
        adapter(self, event)
        if event.stage == "l1" and event.done == 2 and not sent:
            sent.append(True)
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(cli._TqdmProgress, "__call__", press_ctrl_c_after_two_steps)
    args = [str(data), "--out", str(tmp_path / "m.safetensors"), "--init", "imagenet",
            "--size", "32", "--batch-size", "2", "--l1-epochs", "3", "--gan-epochs", "0",
            "--device", "cpu", "--run-dir", str(tmp_path / "run"), "--workers", "0"]
    assert cli.main(args) == 130
    assert "--resume" in capsys.readouterr().err
    assert load_checkpoint(tmp_path / "run" / CHECKPOINT_NAME)["step"] == 2
    assert cli.main(args + ["--resume"]) == 0
    assert load_checkpoint(tmp_path / "run" / CHECKPOINT_NAME)["step"] == 6


def test_hints_and_aged_inputs_from_a_one_channel_file_train_a_hint_model(tmp_path):
    """--hints --degrade from an older 1-channel model file (the shipped model's path to
    hints): the run grows the net's inputs, trains both stages and exports a model the
    app loads."""
    from colorizer_gui.backends import create_backend
    from colorizer_gui.core.color import lightness
    from colorizer_gui.nets.weights_io import load_generator
    from tiny_cgan import make_tiny_generator_file

    base = make_tiny_generator_file(tmp_path / "old.safetensors")
    data = make_photos(tmp_path / "photos", 10, h=64, w=80)
    events = []
    opts = tiny_options(tmp_path, data, init=str(base), arch_kwargs={}, size=64, batch_size=4,
                        l1_epochs=2, gan_epochs=1, hints=True, degrade=True)
    result = train(opts, on_progress=events.append)
    assert not result.cancelled and result.step == result.total_steps
    losses = [e.metrics for e in events if e.stage in ("l1", "gan")]
    assert set(losses[0]) >= {"loss_l1"} and {"loss_g_gan", "loss_d", "loss_l1"} <= set(losses[-1])
    model, meta = load_generator(result.out)
    assert model.config["hint_channels"] == 3
    assert meta["objective"] == "l1" and meta["hint_channels"] == "3"
    assert meta["base_weights"] == "old.safetensors"
    backend = create_backend("cgan", weights=result.out, device="cpu")
    backend.load()
    predicted = backend.predict_ab(lightness(stripes(64, 64, 7)))
    assert predicted.shape == (64, 64, 2) and np.isfinite(predicted).all()


def test_train_cli_takes_the_fine_tuning_flags(tmp_path):
    from training.cli import build_parser, options_from_args

    args = build_parser().parse_args([str(tmp_path), "--out", "m.safetensors", "--hints",
                                      "--degrade", "--keep-toned", "--lr-schedule", "cosine",
                                      "--snapshots"])
    opts = options_from_args(args)
    assert (opts.hints, opts.degrade, opts.keep_toned, opts.keep_snapshots) == (True, True, True, True)
    assert opts.lr_schedule == "cosine"
    assert opts.generator_kwargs() == {"hint_channels": 3}
    # The experiments' options are gone from the command line...
    for retired in ("--objective", "--lambda-class", "--lambda-feature", "--lambda-chroma",
                    "--cool-cast-limit", "--gray-weight", "--decoder-channels"):
        assert retired not in build_parser().format_help()
    # ...and a saved run that used one is refused, not continued as another run.
    with pytest.raises(ValueError, match="no longer has \\(objective\\)"):
        TrainOptions.from_dict({"data_dir": "d", "out": "o.safetensors", "objective": "class"})
    assert TrainOptions.from_dict({"data_dir": "d", "out": "o.safetensors", "objective": "l1",
                                   "lambda_chroma": 0.0}).hints is False
