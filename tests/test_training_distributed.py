"""Training at scale: devices and AMP, DDP under torchrun (gloo, CPU), and the ImageNet-format pipeline.

The distributed tests launch real processes with torchrun on 127.0.0.1 (a free
port, bounded time); the one-process references run in the test process. The
networks are tiny (a two-conv net, or 1.0-SqNxt-23 at width 0.25 with one unit
per stage) on 128 synthetic images, so the file stays within about a minute
on two shared cores.
"""

from __future__ import annotations

import json
import math
import os
import socket
import subprocess
import sys
from pathlib import Path

import ddp_worker as worker  # tests/ddp_worker.py (pytest puts tests/ on sys.path)
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from networks.training import ConfigError, TrainConfig, load_checkpoint, load_data, train
from networks.training.data import AugmentedDataset
from networks.training.loop import EpochSampler, pipelines
from networks.training.model import build_model
from networks.training.placement import resolve, resolve_device
from networks.training.transforms import RRC_RATIO, RRC_SCALE, ImagePipeline, resized_crop_window

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
TIMEOUT = 300  # seconds per launch; a healthy one takes 10-20 s on a shared 2-core machine


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    return {**env, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}


# ---------------------------------------------------------------- one process, CPU: numbers unchanged

#: Step losses and final validation of ``test_training._tiny_config()`` (SqNxt-23 width 0.25, one unit per
#: stage, 2 epochs x 4 steps, seed 7, 32 px), printed by the training loop as it was before devices, AMP
#: and DDP were added (commit beec48c) on this project's machine.
REFERENCE_LOSSES = [1.3872106075286865, 1.4708508253097534, 1.441511869430542, 1.3508460521697998,
                    1.4030293226242065, 1.3527017831802368, 1.3654471635818481, 1.462899923324585]  # fmt: skip
REFERENCE_VAL = (1.3853799700737, 0.328125)


def test_cpu_without_amp_reproduces_the_loop_before_devices_and_ddp() -> None:
    """Same numbers as before on the CPU; rel 1e-6 leaves room only for another CPU's float kernels."""
    config = TrainConfig(epochs=2, batch_size=32, lr=0.05, image_size=32, seed=7, device="cpu")
    assert worker.DATA == "synthetic:classes=4,size=32,train=128,val=64"  # test_training.SMALL_DATA
    losses, result = worker.run("sqnxt23", config)
    assert losses == pytest.approx(REFERENCE_LOSSES, rel=1e-6)
    assert (result.final.val.loss, result.final.val.top1) == pytest.approx(REFERENCE_VAL, rel=1e-6)
    assert result.final.processes == 1 and len(result.final.rank_images_per_second) == 1


def test_bf16_autocast_on_the_cpu_trains_close_to_float32() -> None:
    """Same weights, data and seed with and without bf16 autocast (8 mantissa bits, relative rounding 2^-9).

    Step 1 differs only by forward precision: within 0.01 nats (measured 0.0002). Later steps follow
    different weights, and this tiny net near chance (ln 4 = 1.386) is noisy: every step within 0.15
    (measured 0.075), the 8-step mean within 0.03 (measured 0.010), validation loss within 0.05 (0.004).
    """
    seen: set[torch.dtype] = set()
    runs = {}
    for amp in (False, True):
        torch.manual_seed(0)
        model = build_model("sqnxt23", worker.TINY, 4, 32)
        model.get_submodule("conv1").register_forward_hook(lambda m, i, o: seen.add(o.dtype))
        config = TrainConfig(epochs=2, batch_size=32, lr=0.05, image_size=32, seed=7, device="cpu", amp=amp)
        runs[amp] = worker.run(model, config)
    (fp32, plain), (bf16, mixed) = runs[False], runs[True]
    assert seen == {torch.float32, torch.bfloat16}  # the convolutions really ran in bf16
    assert bf16 != fp32 and abs(bf16[0] - fp32[0]) < 0.01
    assert max(abs(a - b) for a, b in zip(fp32, bf16, strict=True)) < 0.15
    assert abs(sum(bf16) / 8 - sum(fp32) / 8) < 0.03
    assert all(math.isfinite(x) for x in bf16) and abs(mixed.final.val.loss - plain.final.val.loss) < 0.05
    assert mixed.model.get_submodule("conv1").weight.dtype == torch.float32  # master weights stay fp32


def test_device_and_amp_errors_name_the_option(monkeypatch: pytest.MonkeyPatch) -> None:
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="device: cuda asked for, but CUDA is not available"):
            resolve_device("cuda")
        with pytest.raises(ConfigError, match="fp16 autocast needs a CUDA device"):
            resolve(TrainConfig(device="auto", amp=True, amp_dtype="fp16"))
    assert resolve_device("cpu") == torch.device("cpu")
    with pytest.raises(ConfigError, match="device: expected auto, cpu, cuda or cuda:N, got 'gpu'"):
        TrainConfig(device="gpu")
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    with pytest.raises(ConfigError, match="global batch 33 does not split evenly over 2 processes"):
        resolve(TrainConfig(batch_size=33))
    with pytest.raises(ConfigError, match="sync_bn: needs CUDA"):
        resolve(TrainConfig(device="cpu", sync_bn=True))
    place = resolve(TrainConfig(device="cpu", batch_size=32))
    assert (place.rank, place.world_size, place.backend, place.channels_last) == (1, 2, "gloo", False)


def test_distributed_sampler_shards_each_global_batch() -> None:
    """Rank r takes every 2nd index of the epoch's permutation from r: the k-th batches of both ranks
    (16 each) together are the k-th 32-image batch of one process; 130 images drop 2 to stay even."""
    whole = EpochSampler(130, seed=5)
    ranks = [EpochSampler(130, seed=5, num_replicas=2, rank=r) for r in (0, 1)]
    for sampler in (whole, *ranks):
        sampler.set_epoch(3)
    order, shards = list(whole), [list(s) for s in ranks]
    assert isinstance(ranks[0], torch.utils.data.DistributedSampler) and len(ranks[1]) == 65
    for k in range(4):
        assert sorted(shards[0][16 * k : 16 * k + 16] + shards[1][16 * k : 16 * k + 16]) == sorted(
            order[32 * k : 32 * k + 32]
        )
    ranks[1].set_epoch(3, skip=16)  # resuming after one step skips that rank's first batch
    assert list(ranks[1]) == shards[1][16:]


# ---------------------------------------------------------------- DDP under torchrun


@pytest.fixture(scope="module")
def ddp_reports(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict]]:
    out = tmp_path_factory.mktemp("ddp")
    command = [str(BIN / "torchrun"), "--nproc_per_node", "2", "--master_addr", "127.0.0.1",
               "--master_port", str(_free_port()), str(ROOT / "tests" / "ddp_worker.py"), str(out)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, env=_env(), cwd=out)
    assert done.returncode == 0, done.stderr[-3000:]
    return out, [json.loads((out / "reports" / f"rank{r}.json").read_text()) for r in (0, 1)]


def test_two_processes_equal_one_process_of_the_same_global_batch(ddp_reports: tuple[Path, list[dict]]) -> None:
    """Without batch norm or dropout, DDP's gradient mean over two 16-image shards is the 32-image mean, and
    each image keeps its augmentation (seeded per sample), so the loss curve matches to float rounding
    (rel 1e-5; measured 2e-7) and the validation sums over the two halves of the val split are the same."""
    _, reports = ddp_reports
    losses, result = worker.run(worker.PlainNet(), worker.config())
    for report in reports:
        assert report["plain"]["losses"] == pytest.approx(losses, rel=1e-5)
        assert report["plain"]["weights"] == pytest.approx(worker.weights_sum(result.model), rel=1e-5, abs=1e-5)
        assert report["plain"]["val"] == pytest.approx(result.final.val.to_dict(), rel=1e-5)
    assert len(losses) == 8 and reports[0]["world"] == 2


def test_batch_norm_per_process_stays_close_to_one_process(ddp_reports: tuple[Path, list[dict]]) -> None:
    """SqueezeNext normalises each rank's 16 images by their own statistics (no SyncBatchNorm on the CPU),
    so steps differ from the 32-image run: by at most 0.25 nats a step and 0.1 on the epoch mean
    (measured 0.135 and 0.012)."""
    _, reports = ddp_reports
    one, _ = worker.run("sqnxt23", worker.config(epochs=1, image_size=32))
    two = reports[0]["zoo"]
    assert two == reports[1]["zoo"] and len(two) == len(one) == 4
    assert max(abs(a - b) for a, b in zip(one, two, strict=True)) < 0.25
    assert abs(sum(one) / 4 - sum(two) / 4) < 0.1


def test_ddp_resume_restores_every_rank_and_only_rank_0_writes(ddp_reports: tuple[Path, list[dict]]) -> None:
    out, reports = ddp_reports
    for report in reports:  # dropout draws per rank; the resumed run continues both ranks' streams
        assert report["dropout_first"] + report["dropout_rest"] == report["dropout_whole"]
        assert len(report["dropout_first"]) == 3
    assert reports[0]["saves"] == [str(out / "ckpt" / "dropout.pt")] * 3 + [str(out / "ckpt" / "zoo.pt")]
    assert reports[1]["saves"] == [] and reports[1]["first_checkpoint"] is None
    assert sorted(p.name for p in (out / "ckpt").iterdir()) == ["dropout.pt", "zoo.pt"]
    saved = load_checkpoint(out / "ckpt" / "dropout.pt")
    assert saved["processes"] == 2 and len(saved["rank_rng"]) == 2 and saved["step"] == 8
    assert not torch.equal(saved["rank_rng"][0]["cpu"], saved["rank_rng"][1]["cpu"])


def test_cli_nproc_launches_torchrun_and_rank_0_alone_prints(tmp_path: Path) -> None:
    args = ["train", "sqnxt23", "--width", "0.25", "--depth", "1,1,1,1", "--data", worker.DATA, "--epochs", "1",
            "--image-size", "32", "--max-steps", "2", "--out", "runs/ck.pt", "--nproc", "2", "--throughput",
            "--device", "cpu", "--no-amp"]  # fmt: skip
    done = subprocess.run([str(BIN / "accelsim"), *args], capture_output=True, text=True, timeout=TIMEOUT,
                          env=_env(), cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("checkpoint: runs/ck.pt") == 1
    assert "device: cpu, 2 processes (gloo), float32" in done.stdout
    assert "throughput epoch 1:" in done.stdout and "over 2 processes (rank 0:" in done.stdout
    assert [p.name for p in (tmp_path / "runs").iterdir()] == ["ck.pt"]
    saved = load_checkpoint(tmp_path / "runs" / "ck.pt")
    assert (saved["processes"], saved["step"], saved["options"]["config"]["device"]) == (2, 2, "cpu")
    assert len(saved["history"]) == 0 and saved["partial"]["images"] == 64  # 2 global steps of 32


# ---------------------------------------------------------------- ImageNet-format folders

CLASSES = ["n01440764", "n01443537", "n01484850"]  # WordNet ids, as ImageNet names its class folders


@pytest.fixture(scope="module")
def imagenet_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """train/ with 4 PNGs per class of varied sizes, val/ with 2 per class but none of the last class.

    Pixel value = 60 * label + 20 in every channel, so a decoded image tells its class."""
    root = tmp_path_factory.mktemp("imagenet")
    sizes = [(40, 56), (64, 48), (50, 50), (37, 71)]
    for split, count, classes in (("train", 4, CLASSES), ("val", 2, CLASSES[:2])):
        for label, name in enumerate(classes):
            folder = root / split / name
            folder.mkdir(parents=True)
            for i in range(count):
                h, w = sizes[i]
                Image.fromarray(np.full((h, w, 3), 60 * label + 20, np.uint8)).save(folder / f"{name}_{i}.png")
    return root


def test_imagenet_folder_labels_follow_sorted_train_classes(imagenet_tree: Path) -> None:
    data = load_data(str(imagenet_tree))
    assert data.class_names == CLASSES and data.native_size is None
    assert data.train.labels.tolist() == [0] * 4 + [1] * 4 + [2] * 4
    assert data.val.labels.tolist() == [0, 0, 1, 1]  # val/ lacks n01484850: labels still index train's classes
    for split in (data.train, data.val):
        for i in range(len(split)):
            assert int(split.images[i][0, 0, 0]) == 60 * int(split.labels[i]) + 20


def test_imagenet_pipeline_crops_at_the_preset_size(imagenet_tree: Path) -> None:
    """SqueezeNext's 227 px: training random-resized crops come out 227x227; validation resizes the shorter
    side to ceil(227 / 0.875) = 260 and takes the centre 227x227 (the 256/224 recipe scaled)."""
    data = load_data(str(imagenet_tree))
    options = {"image_size": 227, "mean": (0.5,) * 3, "std": (0.25,) * 3, "flip": True, "augment": "rrc"}
    train_pipe, val_pipe = pipelines(options)
    assert train_pipe.augment == "rrc" and val_pipe.resize_to == 260
    sample, label = AugmentedDataset(data.train, train_pipe, seed=0)[5]
    assert sample.shape == (3, 227, 227) and label == 1
    assert torch.allclose(sample, torch.full_like(sample, (80 / 255 - 0.5) / 0.25), atol=1e-5)  # flat image
    image = torch.rand(3, 40, 56)  # val: 40x56 -> 260x364 (364 = round(56 * 260 / 40)), crop at (16, 68)
    resized = F.interpolate(image[None], size=(260, 364), mode="bilinear", align_corners=False)[0]
    expected = (resized[:, 16:243, 68:295] - 0.5) / 0.25
    assert torch.allclose(val_pipe(image, torch.Generator()), expected, atol=1e-6)


def test_random_resized_crop_window_ranges() -> None:
    """Area share in [0.08, 1] and aspect in [3/4, 4/3] (up to rounding to whole pixels), inside the image;
    a 4x200 strip fits no such window and falls back to the centred 4x5 one (aspect clamped to 4/3)."""
    rng = torch.Generator().manual_seed(0)
    for _ in range(300):
        top, left, h, w = resized_crop_window(300, 400, rng)
        assert 0 <= top <= 300 - h and 0 <= left <= 400 - w
        assert RRC_SCALE[0] * 0.95 <= h * w / 120_000 <= RRC_SCALE[1]
        assert RRC_RATIO[0] * 0.97 <= w / h <= RRC_RATIO[1] * 1.03
    assert resized_crop_window(4, 200, torch.Generator().manual_seed(0)) == (0, 97, 4, 5)
    pipe = ImagePipeline(image_size=24, train=True, mean=(0.0,) * 3, std=(1.0,) * 3, augment="rrc")
    out = pipe(torch.rand(3, 30, 50), torch.Generator().manual_seed(1))
    assert out.shape == (3, 24, 24)


def test_training_on_an_image_folder_uses_random_resized_crops(imagenet_tree: Path) -> None:
    config = TrainConfig(epochs=1, batch_size=4, image_size=32, workers=1, device="cpu", seed=0)
    result = train("sqnxt23", str(imagenet_tree), config, overrides=worker.TINY)
    assert result.options["augment"] == "rrc" and result.final.val.images == 4 and result.final.steps == 3
    synthetic = train("sqnxt23", worker.DATA, TrainConfig(epochs=1, image_size=32, max_steps=1), overrides=worker.TINY)
    assert synthetic.options["augment"] == "crop"


# ---------------------------------------------------------------- the co-design loop's devices


def test_candidates_spread_over_gpus_round_robin(monkeypatch: pytest.MonkeyPatch) -> None:
    from accelsim.codesign.train import candidate_devices

    assert candidate_devices(3, "cpu") == ["cpu"] * 3
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert candidate_devices(3, "auto") == ["auto"] * 3  # one GPU: one run after another, as on the CPU
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert candidate_devices(5, "cuda") == ["cuda:0", "cuda:1", "cuda:0", "cuda:1", "cuda:0"]
    assert candidate_devices(2, "cuda:1") == ["cuda:1"] * 2  # an explicit GPU is honoured


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message of a machine without CUDA")
def test_cli_cuda_without_cuda_is_one_line_exit_2() -> None:
    from typer.testing import CliRunner

    from accelsim.cli import app

    result = CliRunner().invoke(app, ["train", "sqnxt23", "--data", worker.DATA, "--device", "cuda"])
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert result.stderr.startswith("error: device: cuda asked for, but CUDA is not available")
