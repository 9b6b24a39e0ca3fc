"""``accelsim calibrate``: fit [A] knobs of hardware specs to measurements by cross-validation.

    accelsim calibrate my_chip.csv --hw my_chip.yaml --fit clock=500MHz:1GHz --fit energy.scale=0.3:2
    accelsim calibrate hwconfigs/calibration/table3_squeezenext.csv --hw 8x8 --hw 16x16 \\
        --fit clock=500MHz:1GHz --fit energy.scale=0.3:2 --fit model.fuse_pool --out hwconfigs

Prints the ranking of the structural settings by cross-validated error, the selected
setting's error per fold, the ensemble and the in-sample fit; with ``--out`` writes each
fitted spec as ``DIR/<spec name>.yaml`` (atomically) with a ``calibration`` section, from
which every later prediction's band is computed. ``--json`` prints the same as one object.
"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from accelsim.cli.common import HwListOption, check_output_dir, cli_errors


def _progress(quiet: bool) -> Any:
    if quiet or not sys.stderr.isatty():
        return None

    def show(done: int, total: int) -> None:
        end = "\n" if done == total else ""
        print(f"\rcalibrate: {done}/{total} settings x grid points simulated", end=end, file=sys.stderr, flush=True)

    return show


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def render(result: Any, written: list[Path], top: int) -> str:
    """The human-readable report of a :class:`~accelsim.calibration.CalibrationResult`."""
    from accelsim.reporting.writers import markdown_table

    problem = result.problem
    best = result.best
    lines = [f"calibrate: {len(problem.targets)} measured rows ({problem.measurements.describe()})",
             f"knobs: {'; '.join(k.describe() for k in problem.knobs)}",
             f"folds: {', '.join(result.fold_groups)}; {len(result.settings)} structural settings x "
             f"{len(problem.points)} grid points simulated", ""]
    header = ["rank", *(k.path for k in problem.structural), "CV error",
              *(f"CV {g}" for g in result.fold_groups), "in-sample", "ensemble"]
    members = {s.index for s in result.ensemble}
    body = []
    for rank, s in enumerate(result.settings[:top], 1):
        body.append([str(rank), *(str(v).lower() if isinstance(v, bool) else str(v) for v in s.knobs.values()),
                     _pct(s.cv_error), *(_pct(s.group_error(g)) for g in result.fold_groups), _pct(s.fit_error),
                     "yes" if s.index in members else ""])
    lines += ["settings by cross-validated error (RMS of held-out relative errors):", "",
              markdown_table(header, body), ""]
    folds = [[f.group, f.held_out, str(len(f.errors)), _pct(f.rms(("cycles", "time_rel"))),
              _pct(f.rms(("energy",)))] for f in best.folds]
    lines += ["selected setting, per fold (held-out RMS error):", "",
              markdown_table(["fold", "held out", "values", "time", "energy"], folds), ""]
    lines += [f"ensemble: {len(result.ensemble)} of {len(result.settings)} settings within "
              f"{100 * result.tolerance:.1f} points of the best CV error ({_pct(best.cv_error)}):"]
    for s in result.ensemble:
        knobs = ", ".join(f"{p}={_human(p, v)}" for p, v in s.fitted_knobs.items())
        lines.append(f"  CV {_pct(s.cv_error)}  in-sample {_pct(s.fit_error)}  {knobs}")
    lines += ["", "selected setting, in sample (predicted / measured - 1):", ""]
    cells = []
    for (q, i), e in best.full_errors.items():
        t = problem.targets[i]
        cv = [f.errors[(q, i)] for f in best.folds if (q, i) in f.errors]
        cells.append([t.row.network + (f" {t.row.layer}" if t.row.layer else ""), problem.specs[t.hw].label, q,
                      f"{t.row.value(q):g}", f"{100 * e:+.1f}%",
                      " ".join(f"{100 * c:+.1f}%" for c in cv)])
    lines += [markdown_table(["network", "hardware", "quantity", "measured", "in-sample", "held out (per fold group)"],
                             cells), ""]
    lines += [f"wrote {p}" for p in written]
    return "\n".join(lines)


def _human(path: str, value: Any) -> str:
    from accelsim.codesign.hw_sweep import _human as human

    if isinstance(value, float) and path.startswith("energy."):
        return f"{value:.4g}"
    return human(path, value)


def to_dict(result: Any, written: list[Path], command: str) -> dict[str, Any]:
    problem = result.problem
    return {
        "command": command,
        "calibration": result.record(command).model_dump(mode="json"),
        "knobs": [k.describe() for k in problem.knobs],
        "settings": [{"knobs": s.knobs, "fitted": s.fitted_knobs, "cv_error": s.cv_error, "fit_error": s.fit_error,
                      "cv_by_group": {g: s.group_error(g) for g in result.fold_groups},
                      "in_ensemble": s in result.ensemble} for s in result.settings],
        "written": [str(p) for p in written],
    }


@cli_errors
def calibrate(
    measurements: Annotated[Path, typer.Argument(
        metavar="MEASUREMENTS.csv", help="CSV: network, hardware and any of cycles, time_rel, energy "
                                         "(optional: layer, family); '#' lines are comments.")],
    hws: HwListOption = None,
    fits: Annotated[list[str] | None, typer.Option(
        "--fit", metavar="FIELD[=LO:HI|=V1,V2]",
        help="A knob to fit, repeatable: FIELD=LO:HI (numeric; energy.* fields are fitted without "
             "re-simulating, others on a grid of --points values), FIELD=V1,V2,... (structural: every "
             "value is a setting), or a boolean/choice FIELD alone (all its values).")] = None,
    points: Annotated[int, typer.Option("--points", metavar="N", help="Grid points of a LO:HI knob.")] = 5,
    refine: Annotated[int, typer.Option(
        "--refine", metavar="N", help="Rounds of grid refinement around the ensemble's chosen values "
                                      "(one continuous knob only; each halves the step there).")] = 2,
    folds: Annotated[str, typer.Option(
        "--folds", metavar="GROUPS", help="Fold groups, comma-separated: family, hardware, network.")]
    = "family,hardware,network",
    tolerance: Annotated[float, typer.Option(
        "--tolerance", metavar="T",
        help="Ensemble: settings whose CV RMS error is within T of the best (0.01 = 1 point).")] = 0.01,
    out: Annotated[Path | None, typer.Option(
        "--out", metavar="DIR", help="Write each fitted spec as DIR/<name>.yaml (default: write nothing).")] = None,
    top: Annotated[int, typer.Option("--top", metavar="N", help="Settings shown in the ranking.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as one JSON object.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress on stderr.")] = False,
) -> None:
    """Fit [A] knobs to measured cycles/time/energy; select by grouped cross-validation; keep the
    ensemble whose spread is every prediction's band; optionally write the fitted specs.

    Example: accelsim calibrate hwconfigs/calibration/table3_squeezenext.csv --hw 8x8 --hw 16x16
    --fit clock=500MHz:1GHz --fit energy.scale=0.3:2 --fit model.fuse_pool
    """
    from accelsim.calibration import calibrate as run_calibration
    from accelsim.calibration import load_measurements, parse_knob
    from accelsim.cli.common import fail, hardware_list_from_options
    from accelsim.hardware.load import write_spec

    if points < 2:
        fail(f"--points: expected at least 2 (got {points})")
    if out is not None:
        check_output_dir(out, "--out")
    data = load_measurements(measurements)
    hw_texts = [str(h) for h in (hws or ["16x16"])]
    specs = dict(zip(hw_texts, hardware_list_from_options(hws), strict=True))
    names = [s.name for s in specs.values()]
    if out is not None and len(set(names)) != len(names):
        fail(f"--hw: two specs share the name {next(n for n in names if names.count(n) > 1)!r}; "
             "--out writes one file per name")
    base = next(iter(specs.values()))
    knobs = [parse_knob(item, base, points) for item in fits or []]
    groups = tuple(g.strip() for g in folds.split(",") if g.strip())
    if refine < 0:
        fail(f"--refine: expected a number >= 0 (got {refine})")
    result = run_calibration(data, specs, knobs, fold_groups=groups, tolerance=tolerance, progress=_progress(quiet),
                             refine=refine)
    command = " ".join(["accelsim", "calibrate", shlex.quote(str(measurements)),
                        *(f"--hw {shlex.quote(h)}" for h in hw_texts),
                        *(f"--fit {shlex.quote(f)}" for f in fits or []),
                        *([f"--points {points}"] if points != 5 else []),
                        *([f"--refine {refine}"] if refine != 2 else []),
                        *([f"--folds {folds}"] if folds != "family,hardware,network" else []),
                        *([f"--tolerance {tolerance:g}"] if tolerance != 0.01 else []),
                        *([f"--out {shlex.quote(str(out))}"] if out is not None else [])])
    written: list[Path] = []
    if out is not None:
        record = result.record(command)
        best = result.best
        summary = (f"calibrated by accelsim calibrate: CV error {100 * best.cv_error:.1f}% (RMS, held-out; "
                   f"folds {', '.join(result.fold_groups)}), in-sample {100 * best.fit_error:.1f}%, "
                   f"ensemble of {len(record.members)} members from {len(result.ensemble)} setting(s)")
        for key, spec in specs.items():
            description = spec.description.split(" | calibrated by")[0]
            fitted = spec.with_changes(dict(best.fitted_knobs) | {"description": f"{description} | {summary}"})
            fitted = fitted.model_validate(fitted.model_dump() | {"calibration": record.model_dump()})
            header = [f"Written by: {command}",
                      "Do not edit by hand: re-run the command (hwconfigs/README.md: where each number comes from).",
                      ""]
            path = write_spec(out / f"{spec.name}.yaml", fitted, header=header)
            written.append(out / f"{spec.name}.yaml" if (out / f"{spec.name}.yaml").resolve() == path else path)
            del key
    if as_json:
        typer.echo(json.dumps(to_dict(result, written, command), indent=2))
    else:
        typer.echo(render(result, written, top))


def register(app: typer.Typer) -> None:
    """Add the ``calibrate`` command."""
    app.command("calibrate")(calibrate)
