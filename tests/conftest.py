"""Suite-wide test settings.

Hypothesis runs derandomised (the same examples on every run, so CI is reproducible) and
without per-example deadlines (wall-clock time on a shared 2-core machine is not what the
property tests check).
"""

from hypothesis import settings

settings.register_profile("accelsim", deadline=None, derandomize=True, print_blob=True)
settings.load_profile("accelsim")
