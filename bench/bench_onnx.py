"""Benchmark ONNX import and simulation: a ResNet-50 exported from torch, and the models the
``onnx`` wheel ships (its backend test data, ``onnx/backend/test/data/light``: real
architectures, AlexNet to VGG-19, whose weights are ``ConstantOfShape`` fills).

Run: ``python bench/bench_onnx.py [--repeat N]`` (prints; asserts nothing).
Target: importing and simulating ResNet-50 on 16x16/128KB well under 2 s.

* ResNet-50 (torchvision's layout: bottleneck blocks 3, 4, 6, 3, stride on the 3x3 conv,
  25.6 M params) is built here in torch and written with ``export_onnx`` to a temporary file
  before any timing; the export itself is excluded.
* **import**: ``import_onnx(path)`` (reads the file, infers shapes, folds constants).
* **simulate**: ``simulate_graph`` on the paper's 16x16/128KB accelerator with a fresh
  ``SimCache``, so every distinct layer is searched (cold).
* Times are the best of ``--repeat`` runs, wall clock and process CPU time (the machine is
  shared; CPU time is what the code costs). MACs are checked against an independent count
  from ONNX's own shape inference (conv: output elements x weight elements per output
  channel; Gemm/MatMul: weight elements).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path


def _resnet50() -> object:
    from torch import nn

    class Bottleneck(nn.Module):
        def __init__(self, cin: int, width: int, stride: int) -> None:
            super().__init__()
            cout = 4 * width
            self.conv1, self.bn1 = nn.Conv2d(cin, width, 1, bias=False), nn.BatchNorm2d(width)
            self.conv2, self.bn2 = nn.Conv2d(width, width, 3, stride, 1, bias=False), nn.BatchNorm2d(width)
            self.conv3, self.bn3 = nn.Conv2d(width, cout, 1, bias=False), nn.BatchNorm2d(cout)
            self.relu = nn.ReLU()
            self.down = (nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
                         if stride != 1 or cin != cout else None)

        def forward(self, x):  # type: ignore[no-untyped-def]
            y = self.relu(self.bn1(self.conv1(x)))
            y = self.relu(self.bn2(self.conv2(y)))
            y = self.bn3(self.conv3(y))
            return self.relu(y + (x if self.down is None else self.down(x)))

    layers: list[nn.Module] = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
                               nn.MaxPool2d(3, 2, 1)]
    cin = 64
    for width, blocks, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
        for i in range(blocks):
            layers.append(Bottleneck(cin, width, stride if i == 0 else 1))
            cin = 4 * width
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2048, 1000)]
    return nn.Sequential(*layers)


def independent_macs(path: Path) -> int:
    """MACs from ONNX's shape inference, sharing no code with accelsim's importer."""
    import numpy as np
    import onnx

    model = onnx.shape_inference.infer_shapes(onnx.load(str(path)), data_prop=True)
    dims = {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim]
            for v in [*model.graph.value_info, *model.graph.output, *model.graph.input]}
    dims.update({t.name: list(t.dims) for t in model.graph.initializer})  # ConstantOfShape weights: value_info
    total = 0
    for node in model.graph.node:
        if node.op_type == "Conv":
            total += int(np.prod(dims[node.output[0]][1:])) * int(np.prod(dims[node.input[1]][1:]))
        elif node.op_type in ("Gemm", "MatMul"):
            total += int(np.prod(dims[node.input[1]]))
    return total


def _time(fn, repeat: int) -> tuple[float, float, object]:  # type: ignore[no-untyped-def]
    best_wall = best_cpu = float("inf")
    out = None
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        out = fn()
        best_wall, best_cpu = min(best_wall, time.perf_counter() - wall), min(best_cpu, time.process_time() - cpu)
    return best_wall, best_cpu, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="timed repetitions (best is reported)")
    args = parser.parse_args()

    import onnx
    import torch

    from accelsim.hardware.spec import PAPER_16X16
    from accelsim.simulation import SimCache, simulate_graph
    from accelsim.workload.export import export_onnx
    from accelsim.workload.onnx import import_onnx

    light = Path(onnx.__file__).parent / "backend" / "test" / "data" / "light"
    with tempfile.TemporaryDirectory() as tmp:
        resnet = Path(tmp) / "resnet50.onnx"
        torch.manual_seed(0)
        export_onnx(_resnet50(), resnet, (3, 224, 224))  # excluded from the timings
        models = [resnet, *sorted(light.glob("*.onnx"))]
        simulate_graph(import_onnx(models[0]), PAPER_16X16)  # warm up imports and numpy
        print(f"{'model':<28} {'layers':>6} {'MACs':>16} {'independent':>16} {'import ms':>14} {'simulate ms':>14}"
              f" {'cycles':>12}")
        for path in models:
            try:
                wi, ci, graph = _time(lambda p=path: import_onnx(p), args.repeat)
            except Exception as exc:  # a model the importer refuses: say why, go on
                print(f"{path.stem:<28} refused: {' '.join(str(exc).split())[:150]}")
                continue
            ws, cs, result = _time(lambda g=graph: simulate_graph(g, PAPER_16X16, cache=SimCache()), args.repeat)
            print(f"{path.stem:<28} {len(graph):>6} {graph.macs:>16,} {independent_macs(path):>16,} "
                  f"{wi * 1e3:>7.0f} ({ci * 1e3:>4.0f}) {ws * 1e3:>7.0f} ({cs * 1e3:>4.0f}) {result.cycles:>12,.0f}")
    print("times: best wall clock (process CPU time in parentheses); simulate: cold SimCache, 16x16/128KB")


if __name__ == "__main__":
    main()
