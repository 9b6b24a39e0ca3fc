"""The brute-force loop-nest walker lives in the package (``accelsim.oracle``) so that
``accelsim validate`` can run it; the tests import it from here as before."""

from accelsim.oracle import *  # noqa: F403
from accelsim.oracle import ExhaustiveTiles, Walk, walk  # noqa: F401
