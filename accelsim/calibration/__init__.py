"""Calibration: fit [A] knobs of hardware specs to measurements by grouped cross-validation,
keep the ensemble of settings that generalise about equally well, and put its spread on
every prediction as an error band.

* :mod:`~accelsim.calibration.measurements`: the measurements CSV (``accelsim calibrate``'s input).
* :mod:`~accelsim.calibration.fit`: knobs, folds, CV selection and the ensemble.
* :mod:`~accelsim.calibration.bands`: a prediction's band from a spec's ``calibration`` section.
* :mod:`~accelsim.calibration.table3`: the paper's Table 3 rows as calibration data, and its orderings.
"""

from accelsim.calibration.fit import (
    DEFAULT_POINTS,
    DEFAULT_TOLERANCE,
    FOLD_GROUPS,
    CalibrationResult,
    Knob,
    calibrate,
    parse_knob,
)
from accelsim.calibration.measurements import Measurement, Measurements, load_measurements, parse_measurements

__all__ = [
    "DEFAULT_POINTS",
    "DEFAULT_TOLERANCE",
    "FOLD_GROUPS",
    "CalibrationResult",
    "Knob",
    "Measurement",
    "Measurements",
    "calibrate",
    "load_measurements",
    "parse_knob",
    "parse_measurements",
]
