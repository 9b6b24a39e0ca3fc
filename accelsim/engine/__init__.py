"""The analytical engine: dataflow models (WS, OS, streaming) behind one Protocol, DRAM
traffic and timing, access counts. Pure functions of (layer work, tiling, spec).

Typical use (``accelsim.simulate`` does this per layer)::

    work = build_work(layer, spec)
    mapped = map_best(MODELS[Dataflow.WS], work, spec, objective)
"""

from accelsim.engine.base import (
    ComputeModel,
    DataflowModel,
    GridMemo,
    Mapped,
    Prepared,
    candidate_space,
    grid_key,
    map_best,
    map_fixed,
    min_buffer_words,
)
from accelsim.engine.os import OutputStationary
from accelsim.engine.streaming import Streaming
from accelsim.engine.timing import DmaStream, layer_cycles
from accelsim.engine.traffic import LoopNest, Traffic, refetch_factors, touched
from accelsim.engine.work import Work, WorkKind, build_work, pack_factor
from accelsim.engine.ws import WeightStationary
from accelsim.hardware.spec import Dataflow

#: One model instance per dataflow (models are stateless).
MODELS: dict[Dataflow, DataflowModel] = {
    Dataflow.WS: WeightStationary(),
    Dataflow.OS: OutputStationary(),
    Dataflow.STREAM: Streaming(),
}

__all__ = [
    "MODELS",
    "ComputeModel",
    "DataflowModel",
    "DmaStream",
    "GridMemo",
    "LoopNest",
    "Mapped",
    "OutputStationary",
    "Prepared",
    "Streaming",
    "Traffic",
    "WeightStationary",
    "Work",
    "WorkKind",
    "build_work",
    "candidate_space",
    "grid_key",
    "layer_cycles",
    "map_best",
    "map_fixed",
    "min_buffer_words",
    "pack_factor",
    "refetch_factors",
    "touched",
]
