"""The co-design loop's last step: train the best candidates (and the base) and attach measured accuracy.

Hardware cost alone cannot pick a network; the paper reports v5 is both faster *and* more
accurate than v2. This trains the ``top_k`` best feasible candidates of a search and the base
network on the same data, schedule and seed with ``networks.training.train_variant`` (imported
here, on first use: torch loads only when training is asked for), and returns the result with
``measured`` accuracies (percent) on those candidates. On small data sets (``digits``,
``synthetic``) the numbers compare candidates with each other; they are not ImageNet accuracy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from accelsim.codesign.result import Accuracy, Candidate, RedistributionResult
from accelsim.codesign.space import Depth

#: ``progress(done, total, depth)``: called before each training run (done = runs finished so far).
TrainProgress = Callable[[int, int, Depth], None]


@dataclass(frozen=True)
class TrainingPlan:
    """What to train and how.

    Attributes:
        top_k: best feasible candidates to train (the base is always trained as well).
        data: a ``networks.training`` data source (folder, .npz, ``digits``, ``synthetic:...``).
        epochs: training epochs per candidate.
        image_size: square training side in pixels; None uses the data's native size.
        seed: one seed for every run, so candidates differ only in their depth.
        max_steps: stop each run after this many SGD steps (smoke runs); None trains fully.
    """

    top_k: int
    data: str
    epochs: int
    image_size: int | None = None
    seed: int = 0
    max_steps: int | None = None


def to_train(result: RedistributionResult, top_k: int) -> list[Candidate]:
    """The ``top_k`` best feasible candidates, then the base if it is not among them."""
    chosen = list(result.ranked()[:top_k])
    if all(c.depth != result.base.depth for c in chosen):
        chosen.append(result.base)
    return chosen


def train_candidates(result: RedistributionResult, plan: TrainingPlan,
                     progress: TrainProgress | None = None) -> RedistributionResult:
    """Train the chosen candidates and return ``result`` with their measured top-1/top-5 (percent).

    Raises:
        networks.training.TrainingError: bad data source, image size or training option (one line).
    """
    from networks.training import load_data, train_variant

    if plan.top_k < 1 or plan.epochs < 1:
        from networks.training import ConfigError

        raise ConfigError(f"train-top and epochs must be >= 1; got {plan.top_k} and {plan.epochs}")
    splits = load_data(plan.data)  # loaded once, shared by every run
    chosen = to_train(result, plan.top_k)
    measured: dict[Depth, Accuracy] = {}
    extra = {} if plan.max_steps is None else {"max_steps": plan.max_steps}
    for done, candidate in enumerate(chosen):
        if progress is not None:
            progress(done, len(chosen), candidate.depth)
        overrides = {**result.options, "depth": candidate.depth}
        run = train_variant(result.network, overrides, splits, plan.epochs, plan.image_size,  # type: ignore[arg-type]
                            plan.seed, **extra)
        source = f"trained {run['epochs']} epoch(s) on {plan.data}, seed {plan.seed}"
        measured[candidate.depth] = Accuracy(100.0 * run["top1"], 100.0 * run["top5"], source, int(run["k"]))
    if progress is not None:
        progress(len(chosen), len(chosen), chosen[-1].depth)
    info = {"data": plan.data, "epochs": plan.epochs, "image_size": plan.image_size, "seed": plan.seed,
            "max_steps": plan.max_steps, "trained": [list(c.depth) for c in chosen]}
    return result.with_measured(measured, info)
