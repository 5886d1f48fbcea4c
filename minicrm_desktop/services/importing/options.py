"""How an import reads amounts and dates: the strict contract unless the user chose otherwise.

The defaults are the contract (plain amounts, ISO 8601 dates). A lenient reading is only
ever applied because the user (or a script) asked for it, usually after the format report
(`detect.py`) proposed it: nothing is guessed silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

AmountReading = Literal["strict", "lenient"]
DateOrder = Literal["ISO", "DMY", "MDY"]
AMOUNT_READINGS: tuple[AmountReading, ...] = ("strict", "lenient")
DATE_ORDERS: tuple[DateOrder, ...] = ("ISO", "DMY", "MDY")


@dataclass(frozen=True)
class ImportOptions:
    """`amounts`: strict (plain `5000.50` only) or lenient (also thousands separators,
    Indian grouping and ₹/Rs/Rs./INR signs). `dates`: ISO (the contract) or DMY/MDY,
    which read `31/12/2024` / `12/31/2024` and still accept ISO 8601 cells."""

    amounts: AmountReading = "strict"
    dates: DateOrder = "ISO"

    def __post_init__(self) -> None:
        if self.amounts not in AMOUNT_READINGS:
            raise ValueError(f"amounts must be one of {', '.join(AMOUNT_READINGS)}")
        if self.dates not in DATE_ORDERS:
            raise ValueError(f"dates must be one of {', '.join(DATE_ORDERS)}")

    @property
    def strict(self) -> bool:
        return self.amounts == "strict" and self.dates == "ISO"

    def describe(self) -> str:
        return f"--amounts {self.amounts} --dates {self.dates}"


STRICT = ImportOptions()
