"""Mapping: candidate tilings (tile sizes and loop orders) and a formula-free vectorised search.

``mapping`` never imports ``engine``: the engine passes its evaluator to :func:`search`.
"""

from accelsim.mapping.search import Choice, Evaluation, Objective, ObjectiveKind, argbest, search
from accelsim.mapping.tiling import DIMS, LOOP_ORDERS, CandidateTable, Split, tile_values

__all__ = [
    "DIMS",
    "LOOP_ORDERS",
    "CandidateTable",
    "Choice",
    "Evaluation",
    "Objective",
    "ObjectiveKind",
    "Split",
    "argbest",
    "search",
    "tile_values",
]
