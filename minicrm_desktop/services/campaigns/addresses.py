"""Addresses as the unit of sending: one message per normalised address in a campaign.

Customers may share an address (a family phone, one mailbox imported twice); a campaign
messages the address once. The normal forms decide what counts as "the same address":

- email: Unicode NFC, stripped, lower-cased. The whole address is lower-cased although the
  local part is case-sensitive in theory: no real mailbox provider treats it so, and the
  import already treats emails case-insensitively.
- phone: the digits alone (any Unicode decimal digit, as ASCII), with a leading "+" kept.
  "+91 90000 00001", "+91-9000000001" and "+919000000001" are one number. Nothing is
  guessed about country codes or trunk prefixes: "+91 …", "0091 …" and "0 …" stay distinct,
  as a wrong merge would drop a real recipient, while a missed one only sends twice.
"""

from __future__ import annotations

import re
import unicodedata
from array import array

from ...models.campaign import Channel

_NOT_DIGITS = re.compile(r"\D")  # \d is any Unicode decimal digit
_MASK64 = (1 << 64) - 1


def normal_email(address: str) -> str:
    return unicodedata.normalize("NFC", address).strip().lower()


def normal_phone(number: str) -> str:
    """Digits with a leading "+" kept; "" when there are no digits at all."""
    text = number.strip()
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text).strip()  # "＋" and "１" become ASCII
    digits = _NOT_DIGITS.sub("", text)
    if not digits.isascii():  # other scripts' digits: "९" is 9
        digits = "".join(str(unicodedata.decimal(ch)) for ch in digits)
    if not digits:
        return ""
    return ("+" if text.startswith("+") else "") + digits


def normal_address(channel: str, address: str | None) -> str:
    """The form two addresses are compared in on `channel`; "" for no usable address."""
    if address is None:
        return ""
    return normal_phone(address) if channel == Channel.SMS else normal_email(address)


class SeenAddresses:
    """The normalised addresses a campaign already messages, as 64-bit hashes.

    An open-addressing table in one flat array: 16-32 bytes an address (a Python set of the
    same hashes takes about 70, of the strings more), so freezing a million-customer
    audience stays small. Two different addresses share a hash with odds of about
    n²/2**65 (3e-8 at a million): the cost would be one customer wrongly marked duplicate.
    """

    def __init__(self) -> None:
        self._table = array("Q", bytes(8 * 1024))
        self._mask = 1023
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def add(self, normal: str) -> bool:
        """Record `normal`; False if it was seen before."""
        # Python's own string hash (SipHash, 64 bits here, salted per process: the table
        # lives for one freeze): as good a spread as a digest, at a fraction of the cost.
        key = (hash(normal) & _MASK64) or 1  # 0 marks an empty slot
        table, mask = self._table, self._mask
        slot = key & mask
        while True:
            held = table[slot]
            if held == 0:
                table[slot] = key
                self._count += 1
                if self._count * 2 > mask:  # keep the table at most half full
                    self._grow()
                return True
            if held == key:
                return False
            slot = (slot + 1) & mask

    def _grow(self) -> None:
        old = self._table
        self._mask = self._mask * 2 + 1
        self._table = table = array("Q", bytes(8 * (self._mask + 1)))
        mask = self._mask
        for key in old:
            if key:
                slot = key & mask
                while table[slot]:
                    slot = (slot + 1) & mask
                table[slot] = key
