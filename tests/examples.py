"""How many examples hypothesis tries: sized for CI, ten times more on demand.

`make test` runs the "ci" profile; `make test-deep` (MINICRM_HYPOTHESIS=deep) multiplies
every property test's example count by ten and lets tests without one try 1,000.
"""

from __future__ import annotations

import os

from hypothesis import settings

PROFILE = os.environ.get("MINICRM_HYPOTHESIS", "ci")
SCALE = {"ci": 1, "deep": 10}.get(PROFILE, 1)

settings.register_profile("ci", deadline=None, print_blob=True)
settings.register_profile("deep", deadline=None, print_blob=True, max_examples=1000)
settings.load_profile(PROFILE if PROFILE in ("ci", "deep") else "ci")


def examples(n: int) -> int:
    """`n` examples in CI, ten times as many in the deep profile."""
    return n * SCALE
