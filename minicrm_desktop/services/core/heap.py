"""Keeping the garbage collector's full passes short while a campaign sends.

CPython's cyclic collector walks every tracked object of the oldest generation in a full
pass, holding the GIL throughout. The app's own state — SQLAlchemy, Qt's wrappers, the
loaded pages — is a few hundred thousand objects, and a campaign promotes many short-lived
ones (messages in flight, outcome events) into the oldest generation, so full passes come
every few seconds and each one froze every thread, the GUI's included, for 100–450 ms
(benchmarks/delivery.py, measured with gc.callbacks). Moving the objects alive at start-up
and at each run's start into the permanent generation (`gc.freeze`) leaves a full pass only
the objects made since: a few milliseconds.

The price: cyclic garbage that exists at the moment of a freeze is never collected. Each
freeze first collects the young generations, where nearly all such garbage is, so what
stays is bounded by what the last full pass had not yet reached.
"""

from __future__ import annotations

import gc


def freeze_long_lived() -> None:
    """Exempt the objects alive now from later full collections (see the module's text)."""
    gc.collect(1)
    gc.freeze()
