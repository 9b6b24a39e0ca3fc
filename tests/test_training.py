"""Training module: transforms, data sources, learning, deterministic resume, checkpoints and the CLI.

Networks are the real zoo's SqueezeNext at width 0.25 with one unit per stage
(``TINY``) on 32x32 synthetic images, so the whole file runs in well under a
minute on two CPU cores.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import typer
from PIL import Image
from torch import nn
from typer.testing import CliRunner

from accelsim.cli.train import register
from networks.registry import get_preset
from networks.training import (
    CheckpointError,
    ConfigError,
    DataError,
    StepInfo,
    TrainCallback,
    TrainConfig,
    evaluate_checkpoint,
    load_checkpoint,
    load_data,
    train,
    train_variant,
)
from networks.training.data import ArrayImages, FileImages, Split, stratified_split
from networks.training.loop import lr_at
from networks.training.model import training_overrides
from networks.training.transforms import (
    ImagePipeline,
    center_crop,
    crop,
    hflip,
    normalize,
    random_crop,
    resize_shorter,
    to_float,
    to_rgb,
)


def pixels(split: Split) -> torch.Tensor:
    """The ``(N, C, H, W)`` tensor of an in-memory split."""
    assert isinstance(split.images, ArrayImages)
    return split.images.images


def files(split: Split) -> list[Path]:
    """The image paths of a folder split."""
    assert isinstance(split.images, FileImages)
    return split.images.paths


TINY = {"width": 0.25, "depth": (1, 1, 1, 1)}
SMALL_DATA = "synthetic:classes=4,size=32,train=128,val=64"


# ---------------------------------------------------------------- transforms


def test_center_crop_takes_the_middle_window_with_extra_pixel_bottom_right() -> None:
    image = torch.arange(5 * 6).view(1, 5, 6)
    out = center_crop(image, 3)
    assert torch.equal(out, image[:, 1:4, 1:4])
    assert out.tolist() == [[[7, 8, 9], [13, 14, 15], [19, 20, 21]]]


def test_crop_rejects_windows_outside_the_image() -> None:
    with pytest.raises(ConfigError, match="does not fit a 5x6 image"):
        crop(torch.zeros(1, 5, 6), 3, 0, 3)


def test_hflip_reverses_columns_only() -> None:
    image = torch.tensor([[[1, 2, 3], [4, 5, 6]]])
    assert hflip(image).tolist() == [[[3, 2, 1], [6, 5, 4]]]


def test_random_crop_is_a_seeded_in_bounds_window() -> None:
    image = torch.arange(8 * 8).view(1, 8, 8)
    first = random_crop(image, 4, torch.Generator().manual_seed(3))
    again = random_crop(image, 4, torch.Generator().manual_seed(3))
    assert torch.equal(first, again)
    top, left = divmod(int(first[0, 0, 0]), 8)
    assert 0 <= top <= 4 and 0 <= left <= 4
    assert torch.equal(first, image[:, top : top + 4, left : left + 4])


def test_greyscale_to_rgb_and_float_scaling() -> None:
    grey = torch.tensor([[[0, 255]]], dtype=torch.uint8)
    rgb = to_rgb(to_float(grey))
    assert rgb.shape == (3, 1, 2)
    assert rgb.tolist() == [[[0.0, 1.0]]] * 3
    with pytest.raises(ConfigError, match="2 channels"):
        to_rgb(torch.zeros(2, 4, 4))


def test_normalize_is_per_channel() -> None:
    image = torch.ones(2, 1, 1)
    assert normalize(image, (0.5, 1.0), (0.25, 2.0)).flatten().tolist() == [2.0, 0.0]


def test_resize_shorter_keeps_aspect_and_constants() -> None:
    out = resize_shorter(torch.full((1, 4, 8), 0.5), 2)
    assert out.shape == (1, 2, 4)
    assert torch.allclose(out, torch.full_like(out, 0.5))


def test_pipeline_output_shape_and_eval_determinism() -> None:
    pipe = ImagePipeline(image_size=16, train=False, mean=(0.5,) * 3, std=(0.25,) * 3)
    image = torch.randint(0, 256, (1, 10, 12), dtype=torch.uint8)
    out = pipe(image, torch.Generator().manual_seed(0))
    assert out.shape == (3, 16, 16) and out.dtype == torch.float32
    assert torch.equal(out, pipe(image, torch.Generator().manual_seed(99)))
    assert pipe.resize_to == 19  # ceil(16 / 0.875)


# ---------------------------------------------------------------- schedule and splits


def test_learning_rate_schedules() -> None:
    cosine = TrainConfig(lr=0.4, schedule="cosine")
    assert lr_at(0, 100, cosine) == pytest.approx(0.4)
    assert lr_at(50, 100, cosine) == pytest.approx(0.2)
    assert lr_at(100, 100, cosine) == pytest.approx(0.0)
    poly = TrainConfig(lr=0.4, schedule="poly", poly_power=2.0)
    assert lr_at(50, 100, poly) == pytest.approx(0.1)


def test_stratified_split_keeps_every_class_on_both_sides() -> None:
    labels = np.array([0] * 10 + [1] * 3 + [2] * 2)
    train_idx, val_idx = stratified_split(labels, 0.2, seed=0)
    assert set(train_idx).isdisjoint(val_idx) and len(train_idx) + len(val_idx) == 15
    assert set(labels[val_idx]) == set(labels[train_idx]) == {0, 1, 2}
    assert np.array_equal(val_idx, stratified_split(labels, 0.2, seed=0)[1])


# ---------------------------------------------------------------- data sources


def test_synthetic_is_deterministic_and_balanced() -> None:
    a, b = load_data(SMALL_DATA), load_data(SMALL_DATA)
    assert torch.equal(pixels(a.train), pixels(b.train))
    assert pixels(a.train).shape == (128, 3, 32, 32)
    assert torch.bincount(a.train.labels).tolist() == [32] * 4
    assert a.class_names == ["hstripes", "vstripes", "disc", "checker"]
    assert a.source == SMALL_DATA + ",seed=0"
    assert not torch.equal(pixels(a.train), pixels(load_data(SMALL_DATA + ",seed=1").train))


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("synthetic:classes=11", "classes=11 must be between 2 and 10"),
        ("synthetic:colour=red", "unknown option 'colour'"),
        ("synthetic:size=big", "size=big is not an integer"),
        ("synthetic:size", "not of the form key=value"),
    ],
)
def test_synthetic_option_errors(spec: str, message: str) -> None:
    with pytest.raises(DataError, match=message):
        load_data(spec)


@pytest.mark.parametrize(
    ("shape", "dtype"),
    [((6, 8, 8), np.uint8), ((6, 8, 8, 3), np.uint8), ((6, 3, 8, 8), np.float32), ((6, 8, 8, 1), np.float64)],
)
def test_npz_layouts_become_nchw(tmp_path: Path, shape: tuple[int, ...], dtype: type) -> None:
    x: np.ndarray = (np.random.default_rng(0).uniform(size=shape) * (255 if dtype == np.uint8 else 1)).astype(dtype)
    path = tmp_path / "d.npz"
    np.savez(path, x_train=x, y_train=np.arange(6) % 2, x_test=x[:2], y_test=np.array([0, 1]))
    data = load_data(str(path))
    channels = 3 if 3 in shape[1:] else 1
    assert pixels(data.train).shape == (6, channels, 8, 8)
    assert len(data.val) == 2 and data.num_classes == 2


def test_npz_with_x_y_only_is_split_by_fraction(tmp_path: Path) -> None:
    path = tmp_path / "xy.npz"
    np.savez(path, x=np.zeros((20, 8, 8), np.uint8), y=np.arange(20) % 4, class_names=np.array(list("abcd")))
    data = load_data(str(path), val_fraction=0.25)
    assert (len(data.train), len(data.val)) == (16, 4)
    assert data.class_names == ["a", "b", "c", "d"]


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"images": np.zeros((4, 8, 8), np.uint8)}, "expected keys x_train/y_train"),
        ({"x_train": np.zeros((4, 8, 8), np.uint8)}, "has key 'x_train' but not 'y_train'"),
        ({"x": np.zeros((4, 8, 8), np.uint8), "y": np.zeros(3, np.int64)}, r"\[y\]: has 3 labels for 4 images"),
        ({"x": np.zeros((4, 8, 8), np.uint8), "y": np.zeros(4, np.float32)}, "expected 1-D integer labels"),
        ({"x": np.zeros((4, 8, 8, 5), np.uint8), "y": np.zeros(4, np.int64)}, r"shape \(4, 8, 8, 5\) is not an image"),
        ({"x": np.full((4, 8, 8), 255.0), "y": np.zeros(4, np.int64)}, "float images must lie in 0..1"),
    ],
)
def test_malformed_npz_errors_name_the_key(tmp_path: Path, arrays: dict[str, np.ndarray], message: str) -> None:
    path = tmp_path / "bad.npz"
    np.savez(path, allow_pickle=False, **arrays)
    with pytest.raises(DataError, match=message) as info:
        load_data(str(path))
    assert str(path) in str(info.value)


def test_npz_that_is_not_an_archive(tmp_path: Path) -> None:
    path = tmp_path / "junk.npz"
    path.write_text("not a zip")
    with pytest.raises(DataError, match="junk.npz: not a readable .npz archive"):
        load_data(str(path))


def _write_images(folder: Path, count: int, value: int) -> None:
    folder.mkdir(parents=True)
    for i in range(count):
        Image.fromarray(np.full((12, 10), value + i, np.uint8)).save(folder / f"{i}.png")


def test_image_folder_with_train_and_val(tmp_path: Path) -> None:
    for split, count in (("train", 3), ("val", 2)):
        _write_images(tmp_path / split / "cat", count, 10)
        _write_images(tmp_path / split / "dog", count, 200)
    data = load_data(str(tmp_path))
    assert data.class_names == ["cat", "dog"] and (len(data.train), len(data.val)) == (6, 4)
    image = data.train.images[0]
    assert image.shape == (3, 12, 10) and image.dtype == torch.uint8 and int(image[0, 0, 0]) == 10
    assert data.val.labels.tolist() == [0, 0, 1, 1]


def test_single_image_tree_is_split_by_fraction(tmp_path: Path) -> None:
    _write_images(tmp_path / "a", 5, 0)
    _write_images(tmp_path / "b", 5, 100)
    data = load_data(str(tmp_path), val_fraction=0.2)
    assert (len(data.train), len(data.val)) == (8, 2)
    assert sorted(data.val.labels.tolist()) == [0, 1]


def test_image_folder_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no class folders"):
        load_data(str(tmp_path))
    (tmp_path / "a").mkdir()
    _write_images(tmp_path / "b", 2, 0)
    with pytest.raises(DataError, match=f"{tmp_path / 'a'}: no image files"):
        load_data(str(tmp_path))
    (tmp_path / "a" / "broken.png").write_text("not a png")
    data = load_data(str(tmp_path), val_fraction=0.5)
    broken = files(data.train).index(tmp_path / "a" / "broken.png")
    with pytest.raises(DataError, match="broken.png: cannot read image"):
        data.train.images[broken]


def test_missing_source() -> None:
    with pytest.raises(DataError, match="nowhere/at/all: no such file or folder"):
        load_data("nowhere/at/all")


def test_digits_builtin() -> None:
    pytest.importorskip("sklearn")
    data = load_data("digits", val_fraction=0.1)
    assert data.num_classes == 10 and len(data.train) + len(data.val) == 1797
    assert pixels(data.train).shape[1:] == (1, 8, 8) and not data.flip and data.native_size == 32


# ---------------------------------------------------------------- networks


def test_alexnet_gets_adaptive_pool_only_off_its_native_size() -> None:
    assert training_overrides("alexnet", {}, 64) == {"adaptive_pool": True}
    assert training_overrides("alexnet", {}, 227) == {}
    assert "adaptive_pool" not in get_preset("alexnet").options
    with pytest.raises(ConfigError, match="width: not an option of AlexNet"):
        training_overrides("alexnet", {"width": 2.0}, 64)


def test_too_small_image_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="image_size: 8 px is too small for 1.0-SqNxt-23"):
        train("sqnxt23", SMALL_DATA, TrainConfig(image_size=8), overrides=TINY)


# ---------------------------------------------------------------- training


class Recorder(TrainCallback):
    def __init__(self) -> None:
        self.steps: list[StepInfo] = []

    def on_step(self, info: StepInfo) -> None:
        self.steps.append(info)


def test_two_epochs_reduce_loss_and_beat_chance() -> None:
    """4 balanced classes: chance is 25% top-1; two epochs (64 steps) must reach >= 40% on 256 val images.

    Three seeds measured 52-62%; 40% is 5.5 binomial standard deviations above chance.
    """
    config = TrainConfig(epochs=2, batch_size=32, lr=0.05, image_size=32, seed=0)
    result = train("sqnxt23", "synthetic:classes=4,size=32,train=1024,val=256", config, overrides=TINY)
    first, second = result.history
    assert second.train_loss < first.train_loss
    assert second.train_loss < math.log(4)
    assert second.val.k == 4 and second.val.images == 256
    assert second.val.top1 >= 0.40


def _tiny_config(**changes: Any) -> TrainConfig:
    """Two epochs of 4 steps (128 images, batch 32) at 32x32."""
    return replace(TrainConfig(epochs=2, batch_size=32, lr=0.05, image_size=32, seed=7), **changes)


@pytest.mark.parametrize("stop_at", [3, 4])
def test_resume_reproduces_the_uninterrupted_run(tmp_path: Path, stop_at: int) -> None:
    """128 images / batch 32 = 4 steps per epoch; stop mid-epoch (3) or at the boundary (4), then resume."""
    whole = Recorder()
    reference = train("sqnxt23", SMALL_DATA, _tiny_config(), overrides=TINY, callbacks=[whole])
    ckpt = tmp_path / "ck.pt"
    first = Recorder()
    train("sqnxt23", SMALL_DATA, _tiny_config(max_steps=stop_at), overrides=TINY, callbacks=[first], out=ckpt)
    assert [s.step for s in first.steps] == list(range(1, stop_at + 1))
    rest = Recorder()
    resumed = train(resume=ckpt, callbacks=[rest], out=ckpt)
    assert [s.loss for s in first.steps + rest.steps] == [s.loss for s in whole.steps]
    assert rest.steps[0].step == stop_at + 1
    for key, value in reference.model.state_dict().items():
        assert torch.equal(value, resumed.model.state_dict()[key]), key
    timing = {"seconds": 0, "images_per_second": 0, "rank_images_per_second": ()}
    assert [m.to_dict() | timing for m in resumed.history] == [m.to_dict() | timing for m in reference.history]


def test_worker_processes_do_not_change_the_run() -> None:
    """Augmentation is seeded per (seed, epoch, sample), so loading in 2 workers gives the same steps."""
    runs = []
    for workers in (0, 2):
        recorder = Recorder()
        train("sqnxt23", SMALL_DATA, _tiny_config(epochs=1, workers=workers), overrides=TINY, callbacks=[recorder])
        runs.append([s.loss for s in recorder.steps])
    assert runs[0] == runs[1]


class DropoutNet(nn.Module):
    """A tiny custom module with dropout, to check the torch RNG is restored on resume."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Sequential(nn.Dropout(0.5), nn.Linear(8, 4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


def test_resume_of_a_custom_module_with_dropout(tmp_path: Path) -> None:
    config = TrainConfig(epochs=1, batch_size=32, image_size=16, seed=1)
    whole = Recorder()
    torch.manual_seed(0)
    train(DropoutNet(), SMALL_DATA, config, callbacks=[whole])
    torch.manual_seed(0)
    first = Recorder()
    train(
        DropoutNet(),
        SMALL_DATA,
        replace(config, max_steps=2),
        callbacks=[first],
        out=tmp_path / "c.pt",
    )
    rest = Recorder()
    train(DropoutNet(), resume=tmp_path / "c.pt", callbacks=[rest])
    assert [s.loss for s in first.steps + rest.steps] == [s.loss for s in whole.steps]
    with pytest.raises(CheckpointError, match="checkpoint is of a custom module"):
        train("sqnxt23", resume=tmp_path / "c.pt")


def test_checkpoint_contents_and_evaluate(tmp_path: Path) -> None:
    ckpt = tmp_path / "run" / "m.pt"
    result = train("sqnxt23", SMALL_DATA, _tiny_config(epochs=1), overrides=TINY, out=ckpt)
    saved = load_checkpoint(ckpt)
    assert saved["epoch"] == 1 and saved["step"] == 4 and saved["step_in_epoch"] == 0
    opts = saved["options"]
    assert opts["network"] == "1.0-SqNxt-23" and opts["overrides"] == TINY
    assert opts["data"] == SMALL_DATA + ",seed=0" and opts["config"]["lr"] == 0.05
    assert len(saved["history"]) == 1 and set(saved["optimizer_state"]) == {"state", "param_groups"}
    metrics = evaluate_checkpoint(ckpt)
    assert result.final is not None and metrics == result.final.val
    # issue 13: a 4-class checkpoint on 3- or 10-class data is refused, not scored
    for classes in (3, 10):
        other = f"synthetic:classes={classes},size=32,train=32,val=32"
        with pytest.raises(DataError, match=rf"^{other},seed=0: has {classes} classes; the checkpoint was trained "
                                            r"on 4 \(4 outputs\), so its scores would mean nothing here$"):
            evaluate_checkpoint(ckpt, other)
    with pytest.raises(CheckpointError, match="config.lr is 0.05 in the checkpoint, got 0.1"):
        train(resume=ckpt, config=TrainConfig.from_dict({**opts["config"], "lr": 0.1}))
    with pytest.raises(CheckpointError, match="not 1.0-SqNxt-23v5"):
        train("sqnxt23v5", resume=ckpt)


def test_unreadable_checkpoint(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"garbage")
    with pytest.raises(CheckpointError, match="bad.pt: not a readable checkpoint"):
        load_checkpoint(bad)


def test_train_variant_summary() -> None:
    summary = train_variant("sqnxt23v5", TINY, SMALL_DATA, epochs=1, image_size=32, seed=0, batch_size=32)
    assert summary["network"] == "1.0-SqNxt-23v5" and (summary["epochs"], summary["steps"]) == (1, 4)
    assert 0.0 <= summary["top1"] <= summary["top5"] <= 1.0 and summary["k"] == 4
    assert summary["params"] == sum(p.numel() for p in get_preset("sqnxt23v5").build(4, **TINY).parameters())


def test_config_validation_names_the_field() -> None:
    with pytest.raises(ConfigError, match="schedule: expected one of cosine, poly"):
        TrainConfig(schedule="step")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"val_fraction: expected a value in \(0, 1\)"):
        TrainConfig(val_fraction=1.0)


# ---------------------------------------------------------------- CLI


@pytest.fixture
def cli() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """Test app."""

    register(app)
    return app


def test_cli_train_then_evaluate(cli: typer.Typer, tmp_path: Path) -> None:
    ckpt = tmp_path / "tiny.pt"
    args = ["train", "sqnxt23", "--width", "0.25", "--depth", "1,1,1,1", "--data", SMALL_DATA, "--epochs", "1"]
    result = CliRunner().invoke(cli, [*args, "--image-size", "32", "--out", str(ckpt)])
    assert result.exit_code == 0, result.output
    assert "epoch 1/1: train loss" in result.stdout and f"checkpoint: {ckpt}" in result.stdout
    result = CliRunner().invoke(cli, ["evaluate", str(ckpt), "--json"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["network"] == "1.0-SqNxt-23" and record["k"] == 4 and record["images"] == 64
    assert record["top1"] == load_checkpoint(ckpt)["history"][0]["val"]["top1"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "sqnxt23", "--data", "{tmp}/missing"], "missing: no such file or folder"),
        (["train", "sqnxt23", "--data", "{tmp}"], "no class folders"),
        (["train", "sqnxt23", "--data", "{tmp}/junk.npz"], "junk.npz: not a readable .npz archive"),
        (["train", "sqnxtt23", "--data", "synthetic"], "unknown network 'sqnxtt23'"),
        (["train", "sqnxt23", "--width", "0.3", "--data", "synthetic"], "width: 32*width must be an integer"),
        (
            ["train", "alexnet", "--depth", "1,1", "--data", "synthetic"],
            "--depth: applies to SqueezeNext networks only",
        ),
        (["train", "sqnxt23", "--data", "synthetic", "--lr", "-1"], "lr: expected a positive learning rate"),
        (["evaluate", "{tmp}/none.pt"], "none.pt: no such checkpoint file"),
    ],
)
def test_cli_errors_are_one_line_exit_2(cli: typer.Typer, tmp_path: Path, args: list[str], message: str) -> None:
    (tmp_path / "junk.npz").write_text("not a zip")
    result = CliRunner().invoke(cli, [a.replace("{tmp}", str(tmp_path)) for a in args])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")
    assert message in result.stderr
    assert "Traceback" not in result.output
