"""Workloads: layers, layer graphs, export from PyTorch and the network zoo bridge."""

from accelsim.workload.graph import LayerGraph
from accelsim.workload.layer import INPUT, Layer, LayerKind

__all__ = ["INPUT", "Layer", "LayerGraph", "LayerKind"]
