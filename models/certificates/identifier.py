"""GB/T 36904 certificate identifiers (证照标识)::

    1.2.156.3005.2.<type code>.<issuer code>.<serial>.<version>.<check>

- type code: the defining authority's 统一社会信用代码 (18) + 3 digits;
- issuer code: the issuing authority's 统一社会信用代码 (18);
- serial (流水号): for certificates issued by this system, the station code followed by an
  8-digit station sequence (``GXZX00000042``). The sequence width is fixed, so the station
  part is recovered unambiguously even when one station code is a prefix of another, and two
  stations never need to ask anyone for a number;
- version (版本号): 3 digits, ``001`` for a first issue;
- check (校验位): one character of ``0-9A-Z`` computed with the ISO 7064 MOD 37,36 hybrid
  system (the alphanumeric system of GB/T 17710) over every letter and digit of the identifier
  before it, separators removed, upper case. python-stdnum's ``iso7064.mod_37_36`` computes
  it, so the checksum is not hand-written. Identifiers issued elsewhere are kept verbatim and
  checked for shape only (their issuer may compute the check another way).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from stdnum.iso7064 import mod_37_36

ID_PREFIX = "1.2.156.3005.2"
SERIAL_DIGITS = 8
FIRST_VERSION = "001"
_USCC = "[0-9A-HJ-NPQRTUWXY]{18}"
_IDENTIFIER = re.compile(
    rf"^1\.2\.156\.3005\.2\.(?P<type>{_USCC}[0-9]{{3}})\.(?P<issuer>{_USCC})"
    r"\.(?P<serial>[0-9A-Z]{1,40})\.(?P<version>[0-9]{3})\.(?P<check>[0-9A-Z])$"
)


def check_character(body: str) -> str:
    """ISO 7064 MOD 37,36 check character over the letters and digits of ``body``."""
    return str(mod_37_36.calc_check_digit(re.sub(r"[^0-9A-Z]", "", body.upper())))


def serial_for(station: str, sequence: int) -> str:
    """The 流水号 of a station's ``sequence``-th certificate."""
    if not 0 < sequence < 10**SERIAL_DIGITS:
        raise ValueError(f"certificate sequence {sequence} is out of range")
    return f"{station.upper()}{sequence:0{SERIAL_DIGITS}d}"


@dataclass(frozen=True, slots=True)
class Identifier:
    """A GB/T 36904 certificate identifier, split into its parts."""

    type_code: str
    issuer_code: str
    serial: str
    version: str
    check: str

    @classmethod
    def build(cls, type_code: str, issuer_code: str, serial: str, version: str = FIRST_VERSION) -> Identifier:
        """A new identifier with its check character computed."""
        body = f"{ID_PREFIX}.{type_code}.{issuer_code}.{serial}.{version}"
        made = cls(type_code, issuer_code, serial, version, check_character(body))
        if not _IDENTIFIER.match(str(made)):
            raise ValueError(f"not a GB/T 36904 identifier: {made}")
        return made

    @classmethod
    def parse(cls, text: str) -> Identifier | None:
        """Split ``text``; ``None`` when it does not have the GB/T 36904 shape."""
        match = _IDENTIFIER.match(text.strip())
        if match is None:
            return None
        return cls(match["type"], match["issuer"], match["serial"], match["version"], match["check"])

    @property
    def check_ok(self) -> bool:
        """Whether the check character is the one this system computes."""
        body = f"{ID_PREFIX}.{self.type_code}.{self.issuer_code}.{self.serial}.{self.version}"
        return check_character(body) == self.check

    @property
    def station_sequence(self) -> tuple[str, int] | None:
        """(station, sequence) of a serial this system made; ``None`` for another scheme."""
        head, tail = self.serial[:-SERIAL_DIGITS], self.serial[-SERIAL_DIGITS:]
        if not head or not tail.isdigit() or len(self.serial) <= SERIAL_DIGITS:
            return None
        return head, int(tail)

    def __str__(self) -> str:
        return f"{ID_PREFIX}.{self.type_code}.{self.issuer_code}.{self.serial}.{self.version}.{self.check}"


def looks_like_identifier(text: str) -> bool:
    """Whether ``text`` starts like a certificate identifier (for lookups by reference)."""
    return text.strip().startswith(ID_PREFIX + ".")
