"""Fit [A] knobs of hardware specs to measurements, selected by grouped cross-validation.

The method (``accelsim calibrate``; README "Calibration"):

1. **Knobs.** Each ``--fit FIELD[=...]`` is one of three kinds:

   * *structural* (a list of values, or a boolean/enum field with none given): an assumption
     the data must choose between. Every combination of the structural values is a
     **setting**; settings are what cross-validation ranks and the ensemble keeps.
   * *continuous* (``FIELD=LO:HI`` on a numeric field outside ``energy``, e.g. the clock): a
     grid of ``points`` values between LO and HI (geometric), simulated once; each fit picks
     the grid value with the lowest training error. With one such knob the grid is then
     refined ``refine`` times around the values the ensemble's fits chose (midpoints to the
     neighbours, simulated for those settings only) and the folds are re-run.
   * *energy* (``FIELD=LO:HI`` on an ``energy.*`` field): energy is linear in the access
     counts, so these are fitted without re-simulating, by minimising the squared log error
     of the training energies (golden-section search per knob, coordinate descent when there
     are several).

2. **Predictions.** ``cycles`` and ``energy`` rows are compared as they are. ``time_rel``
   rows are relative to an unknown per-hardware reference (the paper normalises to its
   fastest network), so their normaliser is fitted: the geometric mean of measured / our
   cycles over the *training* rows of that hardware. A fold whose training set has no row of
   a hardware (leave one configuration out) fits it on the held-out rows, so that fold tests
   the relative times within the configuration, not their absolute scale.

3. **Folds.** ``family`` (leave each family out: e.g. 1.0 width vs 2.0 width), ``hardware``
   (fit on one configuration, predict the other, and back) and ``network`` (leave each
   network out, on every configuration at once). In each fold every setting is fitted on
   the training rows (continuous and energy knobs) and predicts the held-out rows.

4. **Selection.** A setting's CV error is the RMS of the relative errors of all its held-out
   predictions over all folds (each row is held out once per fold group, so each group
   weighs the same). The lowest wins, whatever its in-sample error. The **ensemble** is
   every setting whose CV error is within ``tolerance`` (absolute, in RMS units) of the
   best; each member is then refitted on all rows. Its spread on a prediction is the band.

Errors are relative: ``predicted / measured - 1``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from accelsim import __version__
from accelsim.calibration.measurements import Measurement, Measurements
from accelsim.energy import energy_of
from accelsim.errors import CalibrationError, SpecError
from accelsim.hardware.spec import (
    Calibration,
    CalibrationCell,
    CalibrationFold,
    CalibrationMember,
    EnergyCosts,
    HardwareSpec,
)
from accelsim.results import AccessCounts, NetworkResult
from accelsim.simulation import SimCache, simulate_graph
from accelsim.workload.graph import LayerGraph

#: Cross-validation fold groups, in report order.
FOLD_GROUPS: tuple[str, ...] = ("family", "hardware", "network")

#: Default ensemble tolerance: settings whose CV RMS error is within 1 percentage point of the best.
DEFAULT_TOLERANCE = 0.01

#: Default grid points of a continuous knob.
DEFAULT_POINTS = 5

#: Default rounds of refinement of the grid around the ensemble's chosen values.
DEFAULT_REFINE = 2

STRUCTURAL, CONTINUOUS, ENERGY = "structural", "continuous", "energy"

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Knob:
    """One fitted field: its kind, its grid values (structural/continuous) or range (energy)."""

    path: str
    kind: str
    values: tuple[Any, ...] = ()
    labels: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None

    def describe(self) -> str:
        if self.kind == ENERGY:
            return f"{self.path} in [{self.low:g}, {self.high:g}] (fitted per fold, no re-simulation)"
        what = "structural" if self.kind == STRUCTURAL else "grid, fitted per fold"
        return f"{self.path} = {', '.join(self.labels)} ({what})"


def parse_knob(item: str, base: HardwareSpec, points: int = DEFAULT_POINTS) -> Knob:
    """``FIELD``, ``FIELD=V1,V2,...`` or ``FIELD=LO:HI`` (``--fit``) -> a :class:`Knob`.

    A field without values must be boolean (tries false, true) or an enum (every value). A
    range needs a numeric field; ``energy.*`` ranges are fitted by repricing.
    """
    from accelsim.codesign.hw_sweep import make_axis, split_values
    from accelsim.hardware.load import parse_value
    from accelsim.hardware.overrides import resolve_field_path

    name, sep, text = item.partition("=")
    name = name.strip()
    try:
        found = resolve_field_path(name)
    except SpecError as exc:
        raise CalibrationError(f"--fit {exc}") from exc
    path = found.path
    annotation = found.info.annotation
    if sep and ":" in text and "," not in text and not text.strip().startswith("["):
        low_text, _, high_text = text.partition(":")
        try:
            low = _canonical(base, path, parse_value(low_text.strip()))
            high = _canonical(base, path, parse_value(high_text.strip()))
        except SpecError as exc:
            raise CalibrationError(f"--fit {item}: {exc}") from exc
        if isinstance(low, bool) or not isinstance(low, int | float) or not isinstance(high, int | float):
            raise CalibrationError(f"--fit {item}: a LO:HI range needs a numeric field ({path} is not)")
        if not low < high:
            raise CalibrationError(f"--fit {item}: expected LO < HI (got {low:g} and {high:g})")
        if path.startswith("energy."):
            return Knob(path, ENERGY, low=float(low), high=float(high))
        if points < 2:
            raise CalibrationError(f"--points: expected at least 2 grid points (got {points})")
        if low > 0:
            grid = [low * (high / low) ** (i / (points - 1)) for i in range(points)]
        else:
            grid = [low + (high - low) * i / (points - 1) for i in range(points)]
        grid = [float(f"{v:.3g}") for v in grid]  # readable grid values (707 MHz, not 707.107 MHz)
        if annotation is int:
            grid = sorted({round(v) for v in grid})
        axis = make_axis(path, [float(v) if annotation is not int else int(v) for v in grid], base)
        return Knob(path, CONTINUOUS, axis.values, axis.labels, float(low), float(high))
    if sep:
        values: list[Any] = split_values(text)
    elif annotation is bool:
        values = [False, True]
    elif isinstance(annotation, type) and hasattr(annotation, "__members__"):
        values = [m.value for m in annotation]  # type: ignore[attr-defined]
    else:
        raise CalibrationError(f"--fit {name}: give the values to try (FIELD=V1,V2 or FIELD=LO:HI); only "
                               "boolean and choice fields have them implied")
    try:
        axis = make_axis(path, values, base)
    except SpecError as exc:
        raise CalibrationError(f"--fit {exc}".replace("--vary ", "")) from exc
    if len(axis.values) < 2:
        raise CalibrationError(f"--fit {item}: expected at least two values to choose between")
    return Knob(path, STRUCTURAL, axis.values, axis.labels)


def _canonical(base: HardwareSpec, path: str, value: Any) -> Any:
    data: Any = base.with_changes({path: value}).model_dump(mode="json")
    for key in path.split("."):
        data = data[key]
    return data


def spec_value(spec: HardwareSpec, path: str) -> Any:
    """The value of the dotted ``path`` in ``spec`` (JSON form, as ``with_changes`` takes it)."""
    return _canonical_value(spec.model_dump(mode="json"), path)


def _canonical_value(data: Any, path: str) -> Any:
    for key in path.split("."):
        data = data[key]
    return data


# ---- the simulated table ---------------------------------------------------------------------
@dataclass(frozen=True)
class Target:
    """A measured row matched to its spec and its graph (what is simulated for it)."""

    row: Measurement
    hw: str  #: key of the spec in the fit's ``specs``
    graph: str  #: key of the graph in the fit's ``graphs``


@dataclass(frozen=True)
class Simulated:
    """Our cycles and access counts of every target under one (setting, grid point)."""

    cycles: tuple[float, ...]
    counts: tuple[AccessCounts, ...]


def _counts(result: NetworkResult, layer: str | None) -> tuple[float, AccessCounts]:
    if layer is None:
        total = AccessCounts()
        for r in result.layers:
            total = total + r.counts
        return result.cycles, total
    try:
        r = result.layer(layer)
    except KeyError:
        raise CalibrationError(f"{result.network}: no layer {layer!r}") from None
    return r.cycles, r.counts


def match_hardware(rows: Sequence[Measurement], specs: Mapping[str, HardwareSpec], path: str) -> dict[int, str]:
    """Row index -> spec key, by label, name, short key or the ``--hw`` text."""
    names: dict[str, str] = {}
    for key, spec in specs.items():
        for alias in (key, spec.name, spec.label, spec.label.split("/")[0]):
            names.setdefault(alias, key)
    out = {}
    for i, row in enumerate(rows):
        if row.hardware not in names:
            raise CalibrationError(f"{path}:{row.line}: hardware {row.hardware!r} is none of the --hw specs "
                                   f"({', '.join(dict.fromkeys(names))})")
        out[i] = names[row.hardware]
    return out


# ---- fitting one setting on a subset of rows -------------------------------------------------
@dataclass(frozen=True)
class Fitted:
    """A setting fitted on some rows: the grid point, the energy knobs and the normalisers."""

    point: int
    energy: tuple[tuple[str, float], ...]
    normalisers: tuple[tuple[str, float], ...]
    train_error: float


class Problem:
    """The measurements, specs, knobs and every simulated (setting, grid point)."""

    def __init__(self, measurements: Measurements, specs: Mapping[str, HardwareSpec],
                 graphs: Mapping[str, LayerGraph], knobs: Sequence[Knob]) -> None:
        self.measurements = measurements
        self.specs = dict(specs)
        self.graphs = dict(graphs)
        self.knobs = tuple(knobs)
        rows = measurements.rows
        hw = match_hardware(rows, specs, measurements.path)
        self.targets = tuple(Target(row, hw[i], row.network) for i, row in enumerate(rows))
        self.structural = [k for k in self.knobs if k.kind == STRUCTURAL]
        self.continuous = [k for k in self.knobs if k.kind == CONTINUOUS]
        self.energy_knobs = [k for k in self.knobs if k.kind == ENERGY]
        self.settings = list(itertools.product(*(k.values for k in self.structural)))
        self.points = list(itertools.product(*(k.values for k in self.continuous)))
        # (quantity, target index) of every measured value
        self.values = [(q, i) for i, t in enumerate(self.targets) for q, _ in t.row.values]
        self.table: dict[tuple[int, int], Simulated] = {}
        self._simulated: dict[tuple[tuple[str, Any], ...], Simulated] = {}

    def changes(self, setting: int, point: int) -> dict[str, Any]:
        out = {k.path: v for k, v in zip(self.structural, self.settings[setting], strict=True)}
        out |= {k.path: v for k, v in zip(self.continuous, self.points[point], strict=True)}
        return out

    def simulate(self, cache: SimCache, progress: Progress | None = None,
                 combos: Sequence[tuple[int, int]] | None = None) -> None:
        """Simulate every target under every (setting, grid point) once (or just ``combos``).

        Structural ``energy.*`` values change no cycle or access count, so settings that
        differ only in them share one simulation and are priced with their own costs.
        """
        combos = list(itertools.product(range(len(self.settings)), range(len(self.points)))) \
            if combos is None else list(combos)
        done = self._simulated
        for n, (s, p) in enumerate(combos):
            changes = {k: v for k, v in self.changes(s, p).items() if not k.startswith("energy.")}
            key = tuple(sorted(changes.items()))
            if key not in done:
                specs = {hw: spec.with_changes(changes) for hw, spec in self.specs.items()}
                results: dict[tuple[str, str], NetworkResult] = {}
                cycles, counts = [], []
                for t in self.targets:
                    pair = (t.graph, t.hw)
                    if pair not in results:
                        results[pair] = simulate_graph(self.graphs[t.graph], specs[t.hw], cache=cache)
                    c, a = _counts(results[pair], t.row.layer)
                    cycles.append(c)
                    counts.append(a)
                done[key] = Simulated(tuple(cycles), tuple(counts))
            self.table[(s, p)] = done[key]
            if progress is not None:
                progress(n + 1, len(combos))

    def knob_values(self, setting: int, fitted: Fitted) -> dict[str, Any]:
        """Every knob of ``setting`` as ``fitted`` (energy values to 4 significant digits)."""
        return dict(self.changes(setting, fitted.point)) | {
            p: float(f"{v:.4g}") for p, v in fitted.energy if p not in self.structural_energy(setting)}

    def structural_energy(self, setting: int) -> dict[str, float]:
        """The structural ``energy.*`` values of ``setting`` (priced, never simulated)."""
        return {k.path: v for k, v in zip(self.structural, self.settings[setting], strict=True)
                if k.path.startswith("energy.")}

    # -- predictions ----------------------------------------------------------------------
    def _costs(self, hw: str, energy: Mapping[str, float]) -> EnergyCosts:
        base = self.specs[hw].energy.model_dump()
        return EnergyCosts.model_validate(base | {p.removeprefix("energy."): v for p, v in energy.items()})

    def energies(self, sim: Simulated, energy: Mapping[str, float], which: Sequence[int]) -> dict[int, float]:
        costs = {hw: self._costs(hw, energy) for hw in self.specs}
        return {i: energy_of(sim.counts[i], costs[self.targets[i].hw]).total for i in which}

    def fit(self, setting: int, train: Sequence[int]) -> Fitted:
        """Fit the grid point, energy knobs and time normalisers of ``setting`` on the targets ``train``."""
        best: Fitted | None = None
        fixed = self.structural_energy(setting)
        for p in range(len(self.points)):
            if (setting, p) not in self.table:
                continue  # a refinement point simulated for other settings only
            sim = self.table[(setting, p)]
            energy = fixed | self._fit_energy(sim, train, fixed)
            norms = self._normalisers(sim, train, train)
            errors = self._errors(sim, energy, norms, train)
            rms = _rms(list(errors.values()))
            if best is None or rms < best.train_error - 1e-12:
                best = Fitted(p, tuple(energy.items()), tuple(norms.items()), rms)
        assert best is not None
        return best

    def _normalisers(self, sim: Simulated, train: Sequence[int], test: Sequence[int]) -> dict[str, float]:
        """Per hardware: geometric mean of measured time_rel / our cycles over ``train`` (else ``test``)."""
        out = {}
        for hw in self.specs:
            for pool in (train, test):
                logs = [math.log(v / sim.cycles[i]) for i in pool if self.targets[i].hw == hw
                        and (v := self.targets[i].row.value("time_rel")) is not None]
                if logs:
                    out[hw] = math.exp(sum(logs) / len(logs))
                    break
        return out

    def _fit_energy(self, sim: Simulated, train: Sequence[int], fixed: Mapping[str, float]) -> dict[str, float]:
        current = {k.path: float(spec_value(next(iter(self.specs.values())), k.path)) for k in self.energy_knobs}
        rows = [i for i in train if self.targets[i].row.value("energy") is not None]
        if not self.energy_knobs or not rows:
            return current

        def loss(values: Mapping[str, float]) -> float:
            e = self.energies(sim, {**fixed, **values}, rows)
            return sum(math.log(e[i] / self.targets[i].row.value("energy")) ** 2 for i in rows)  # type: ignore[operator]

        for _ in range(3 if len(self.energy_knobs) > 1 else 1):
            for k in self.energy_knobs:
                assert k.low is not None and k.high is not None
                current[k.path] = _golden(lambda v, k=k: loss({**current, k.path: v}), k.low, k.high)
        return current

    def _errors(self, sim: Simulated, energy: Mapping[str, float], norms: Mapping[str, float],
                which: Sequence[int]) -> dict[tuple[str, int], float]:
        """(quantity, target) -> relative error, for the measured values of ``which``."""
        wanted = set(which)
        need_energy = [i for q, i in self.values if q == "energy" and i in wanted]
        energies = self.energies(sim, energy, need_energy)
        out = {}
        for q, i in self.values:
            if i not in wanted:
                continue
            measured = self.targets[i].row.value(q)
            assert measured is not None
            if q == "cycles":
                predicted = sim.cycles[i]
            elif q == "time_rel":
                predicted = norms[self.targets[i].hw] * sim.cycles[i]
            else:
                predicted = energies[i]
            out[(q, i)] = predicted / measured - 1.0
        return out

    def predict(self, setting: int, fitted: Fitted, test: Sequence[int],
                train: Sequence[int]) -> dict[tuple[str, int], float]:
        sim = self.table[(setting, fitted.point)]
        norms = dict(fitted.normalisers) | {hw: v for hw, v in self._normalisers(sim, train, test).items()
                                            if hw not in dict(fitted.normalisers)}
        return self._errors(sim, dict(fitted.energy), norms, test)

    def groups(self, group: str) -> dict[str, list[int]]:
        """Group value -> target indices, for one fold group."""
        out: dict[str, list[int]] = {}
        for i, t in enumerate(self.targets):
            value = {"family": t.row.family, "hardware": self.specs[t.hw].label, "network": t.row.network}[group]
            if value is not None:
                out.setdefault(value, []).append(i)
        return out


def _golden(f: Callable[[float], float], low: float, high: float, iterations: int = 60) -> float:
    """Minimise a unimodal ``f`` on [low, high] (golden section in log space when low > 0)."""
    log = low > 0
    a, b = (math.log(low), math.log(high)) if log else (low, high)
    g = (math.sqrt(5) - 1) / 2
    x1, x2 = b - g * (b - a), a + g * (b - a)

    def at(x: float) -> float:
        return f(math.exp(x) if log else x)

    f1, f2 = at(x1), at(x2)
    for _ in range(iterations):
        if f1 <= f2:
            b, x2, f2 = x2, x1, f1
            x1 = b - g * (b - a)
            f1 = at(x1)
        else:
            a, x1, f1 = x1, x2, f2
            x2 = a + g * (b - a)
            f2 = at(x2)
    x = (a + b) / 2
    return math.exp(x) if log else x


def _rms(errors: Sequence[float]) -> float:
    return math.sqrt(sum(e * e for e in errors) / len(errors)) if errors else 0.0


# ---- cross-validation and the ensemble --------------------------------------------------------
@dataclass(frozen=True)
class FoldResult:
    """One setting on one fold: what was held out and the held-out errors."""

    group: str
    held_out: str
    errors: Mapping[tuple[str, int], float]
    knobs: Mapping[str, Any] = field(default_factory=dict)  #: every knob as fitted on the training rows

    def rms(self, quantities: Sequence[str] | None = None) -> float | None:
        values = [e for (q, _), e in self.errors.items() if quantities is None or q in quantities]
        return _rms(values) if values else None


@dataclass(frozen=True)
class SettingResult:
    """One structural setting: its folds, CV error, and its fit on all rows."""

    index: int
    knobs: Mapping[str, Any]  #: structural values
    folds: tuple[FoldResult, ...]
    full: Fitted
    full_errors: Mapping[tuple[str, int], float]
    fitted_knobs: Mapping[str, Any] = field(default_factory=dict)  #: all knobs, fitted on all rows

    def cv_errors(self, quantities: Sequence[str] | None = None) -> list[float]:
        return [e for f in self.folds for (q, _), e in f.errors.items() if quantities is None or q in quantities]

    @property
    def cv_error(self) -> float:
        return _rms(self.cv_errors())

    @property
    def fit_error(self) -> float:
        return _rms(list(self.full_errors.values()))

    def group_error(self, group: str) -> float:
        return _rms([e for f in self.folds if f.group == group for e in f.errors.values()])


@dataclass(frozen=True)
class CalibrationResult:
    """Every setting ranked by CV error, the ensemble, and what they were fitted to."""

    problem: Problem
    settings: tuple[SettingResult, ...]  #: best CV error first
    tolerance: float
    fold_groups: tuple[str, ...]

    @property
    def best(self) -> SettingResult:
        return self.settings[0]

    @property
    def ensemble(self) -> tuple[SettingResult, ...]:
        limit = self.best.cv_error + self.tolerance
        return tuple(s for s in self.settings if s.cv_error <= limit + 1e-12)

    def record(self, command: str) -> Calibration:
        """The ``calibration`` section written into each fitted spec."""
        best = self.best
        folds = tuple(
            CalibrationFold(group=f.group, held_out=f.held_out, rows=len(f.errors),
                            time_error=f.rms(("cycles", "time_rel")), energy_error=f.rms(("energy",)))
            for f in best.folds)
        cells = []
        for q, i in self.problem.values:
            t = self.problem.targets[i]
            cv = {f.group: f.errors[(q, i)] for f in best.folds if (q, i) in f.errors}
            cells.append(CalibrationCell(
                network=t.row.network, hardware=self.problem.specs[t.hw].label, layer=t.row.layer, quantity=q,
                measured=t.row.value(q), fit_error=round(best.full_errors[(q, i)], 6),
                cv_errors=tuple((g, round(e, 6)) for g, e in cv.items())))
        members = []
        seen: set[tuple[tuple[str, Any], ...]] = set()
        for s in self.ensemble:
            fits = [("all rows", s.fitted_knobs)] + [(f"{f.group} {f.held_out} held out", f.knobs) for f in s.folds]
            for fitted_on, knobs in fits:
                key = tuple(knobs.items())
                if key in seen:
                    continue
                seen.add(key)
                members.append(CalibrationMember(knobs=key, cv_error=round(s.cv_error, 6),
                                                 fit_error=round(s.fit_error, 6), fitted_on=fitted_on))
        return Calibration(data=self.problem.measurements.describe(), command=command, version=__version__,
                           tolerance=self.tolerance, settings=len(self.settings), folds=folds,
                           cells=tuple(cells), members=tuple(members))


def calibrate(measurements: Measurements, specs: Mapping[str, HardwareSpec], knobs: Sequence[Knob], *,
              graphs: Mapping[str, LayerGraph] | None = None, fold_groups: Sequence[str] = FOLD_GROUPS,
              tolerance: float = DEFAULT_TOLERANCE, cache: SimCache | None = None,
              progress: Progress | None = None, refine: int = DEFAULT_REFINE) -> CalibrationResult:
    """Cross-validate every structural setting of ``knobs`` on ``measurements`` (module docstring).

    Args:
        specs: spec key -> base spec; each row's ``hardware`` names one (label, name or key).
        graphs: network name -> graph (default: loaded from the zoo / JSON files by name).
        fold_groups: which of ``family``, ``hardware``, ``network`` to run; a group with fewer
            than two values in the data is skipped.
        refine: rounds of grid refinement of a single continuous knob around the values the
            ensemble's fits chose (:func:`refine_points`; each round halves the step there).
    """
    if not knobs:
        raise CalibrationError("--fit: no knobs to fit; give at least one --fit FIELD[=...]")
    paths = [k.path for k in knobs]
    for path in paths:
        if paths.count(path) > 1:
            raise CalibrationError(f"--fit {path}: given twice")
    for group in fold_groups:
        if group not in FOLD_GROUPS:
            raise CalibrationError(f"--folds: unknown fold group {group!r}; expected some of {', '.join(FOLD_GROUPS)}")
    if not tolerance >= 0:
        raise CalibrationError(f"--tolerance: expected a number >= 0 (got {tolerance:g})")
    graphs = dict(graphs) if graphs is not None else _load_graphs(measurements)
    problem = Problem(measurements, specs, graphs, knobs)
    cache = cache if cache is not None else SimCache()
    problem.simulate(cache, progress)
    result = cross_validate(problem, fold_groups, tolerance)
    for _ in range(refine if len(problem.continuous) == 1 else 0):
        new = refine_points(result)
        if not new:
            break
        problem.simulate(cache, None, new)
        result = cross_validate(problem, fold_groups, tolerance)
    return result


def refine_points(result: CalibrationResult) -> list[tuple[int, int]]:
    """New (setting, point) pairs that halve the grid step around each ensemble member's value.

    For the one continuous knob: the geometric (or arithmetic, for a range through 0) midpoints
    between the value every fit of the member chose (on all rows and in each fold) and its
    simulated neighbours; each is added to ``problem.points`` and returned for simulation.
    """
    problem = result.problem
    knob = problem.continuous[0]
    out: list[tuple[int, int]] = []
    for member in result.ensemble:
        s = member.index
        have = sorted((problem.points[p][0], p) for (ss, p) in problem.table if ss == s)
        values = [v for v, _ in have]
        chosen = {member.fitted_knobs[knob.path]} | {f.knobs[knob.path] for f in member.folds}
        for v in sorted(chosen):
            i = values.index(v)
            for j in (i - 1, i + 1):
                if not 0 <= j < len(values):
                    continue
                a, b = sorted((v, values[j]))
                mid = math.sqrt(a * b) if a > 0 else (a + b) / 2
                mid = float(f"{mid:.3g}")
                if isinstance(knob.values[0], int):
                    mid = round(mid)
                if mid in values or not a < mid < b:
                    continue
                if (mid,) not in problem.points:
                    problem.points.append((mid,))
                pair = (s, problem.points.index((mid,)))
                if pair not in problem.table and pair not in out:
                    out.append(pair)
    return out


def cross_validate(problem: Problem, fold_groups: Sequence[str] = FOLD_GROUPS,
                   tolerance: float = DEFAULT_TOLERANCE) -> CalibrationResult:
    """Rank the settings of a simulated ``problem`` by CV error (steps 3-4 of the module docstring)."""
    everything = list(range(len(problem.targets)))
    groups = {g: problem.groups(g) for g in fold_groups}
    used = tuple(g for g in fold_groups if len(groups[g]) >= 2)
    if not used:
        raise CalibrationError(f"{problem.measurements.path}: no fold group has two or more values "
                               f"({', '.join(fold_groups)}); cross-validation needs at least two")
    results = []
    for s, structural in enumerate(problem.settings):
        folds = []
        for group in used:
            for value, test in groups[group].items():
                held = set(test)
                train = [i for i in everything if i not in held]
                fitted = problem.fit(s, train)
                folds.append(FoldResult(group, value, problem.predict(s, fitted, test, train),
                                        problem.knob_values(s, fitted)))
        full = problem.fit(s, everything)
        full_errors = problem.predict(s, full, everything, everything)
        knobs_all = problem.knob_values(s, full)
        results.append(SettingResult(s, dict(zip((k.path for k in problem.structural), structural, strict=True)),
                                     tuple(folds), full, full_errors, knobs_all))
    ranked = tuple(sorted(results, key=lambda r: (round(r.cv_error, 12), r.index)))
    return CalibrationResult(problem, ranked, tolerance, used)


def _load_graphs(measurements: Measurements) -> dict[str, LayerGraph]:
    from pathlib import Path

    from accelsim.workload.zoo import load_graph

    out: dict[str, LayerGraph] = {}
    for row in measurements.rows:
        if row.network in out:
            continue
        try:
            if row.network.endswith(".json") and Path(row.network).is_file():
                out[row.network] = LayerGraph.load_json(row.network)
            else:
                out[row.network] = load_graph(row.network)
        except (ValueError, KeyError) as exc:
            raise CalibrationError(f"{measurements.path}:{row.line}: network {row.network!r}: {exc}") from None
    return out
