"""The compact QR text format ``ZZ2``: every field packed into one number, written in decimal.

Why: a certificate QR must show whole on an 80x24 counter terminal (half blocks, two modules a
cell: 23 rows hold a version 5 symbol with a 4-module quiet zone), and the 64-byte SM2
signature alone takes 155 decimal digits of the 255 a version 5-L symbol holds in numeric mode.
The ``ZZ1`` text (base32 of the UTF-8 content, ~194 bytes) needs version 9.

The text is ``2`` (the format version), three digits giving how many digits the integer has,
the decimal digits of one integer, and two check digits (ISO 7064 MOD 97-10 over the whole
text, as an IBAN's: every single mistyped digit and swap of neighbours is caught before
anything is decoded; a text cut short or run on no longer has the length it states). Digits only, so
the QR symbol is in numeric mode (3.33 bits a digit: as dense as byte mode, and plain text for
any scanner). The integer packs, least significant first, in mixed radix:

=========================  =================================================================
signature                  SM2 r||s as a 512-bit number
key                        the 12 hex digits of the key id (its station is the serial's)
type reference             CRC-32 of the GB/T 36904 type code, low 16 bits (see below)
issued on                  days since 2000-01-01 (16 bits)
validity                   none (长期) | whole years after the issue date (1-99) | days
sequence                   its digit count (1-8), then the number
version (版本号)            ``001`` in one bit, else 3 digits
check (校验位)              one of 0-9A-Z
holder                     ID type; its masked ID's visible characters (6 + 4)
station                    its length (1-16), then each character of 0-9A-Z
holder name                its length (1-100), then each character: a GB 2312 slot, printable
                           ASCII, a middle dot, or an escape and the Unicode code point
=========================  =================================================================

The issuer code and the full type code do not travel: a station's key may only seal its own
issuer code and the types its catalogue items issue (:func:`models.seal.binding_problem`), so
every verifier that could call the certificate valid already holds both. The verifier takes
the issuer code of the key's station and the type codes of that station whose reference
matches (a collision only costs a second verification). What is signed is not this packing but
:meth:`QrPayload.content() <models.certificates.payload.QrPayload.content>` — the full
identifier included — exactly as in ``ZZ1``: the signature binds every code whatever
catalogue a verifier holds, and one signature serves both formats.

Decoding is strict: each field must be in range and the number must be used up exactly, so a
cut-off or mistyped text is refused as malformed (or fails the signature) rather than misread.
"""

from __future__ import annotations

import datetime as dt
import re
import zlib
from typing import NamedTuple

from models.certificates.body import add_years
from models.certificates.codes import HolderIdType
from models.certificates.identifier import Identifier, serial_for
from models.certificates.payload import QrPayload
from models.certificates.qr_text import SIGNATURE_BYTES, malformed
from models.identity import NAME_LIMIT

COMPACT_VERSION = "2"
# Shorter texts cannot hold a signature and an issue date; longer ones are no certificate
# (a 100-character name of escapes stays under it) and would cost int() time.
MIN_DIGITS = 173
MAX_DIGITS = 1203
_HEAD = 4  # the version digit and the three of the integer's length
_DIGITS = re.compile(r"^[0-9]+$")
_MASK_512 = (1 << 512) - 1
_MASK_48 = (1 << 48) - 1
_EPOCH = dt.date(2000, 1, 1)
_DAYS = 1 << 16
_ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_ID_LAST = "0123456789X"
_STATION = re.compile(r"^[0-9A-Z]{1,16}$")
_KEY_HEX = re.compile(r"^[0-9A-F]{12}$")
_CITIZEN_MASKED = re.compile(r"^([0-9]{6})\*{8}([0-9]{3})([0-9X])$")
_USCC_MASKED = re.compile(r"^([0-9A-HJ-NPQRTUWXY]{6})\*{8}([0-9A-HJ-NPQRTUWXY]{4})$")
# Name characters: 0 is never written (a cut-off number runs into zeros), then the 94x94 GB 2312
# grid (two bytes each: every common hanzi, full-width brackets), printable ASCII, the middle
# dots GB 2312 lacks, and an escape followed by any code point.
_GB_SLOTS = 94 * 94
_ASCII_BASE = 1 + _GB_SLOTS
_EXTRAS = "·•"
_EXTRA_BASE = _ASCII_BASE + 95
_ESCAPE = _EXTRA_BASE + len(_EXTRAS)
_NAME_RADIX = _ESCAPE + 1
_CODE_POINTS = 0x110000


def type_ref(type_code: str) -> int:
    """The 16-bit reference a ``ZZ2`` text carries for a GB/T 36904 type code.

    Not a security measure (the signature covers the full code); CRC-32 because it is in C.
    """
    return zlib.crc32(type_code.encode("utf-8")) & 0xFFFF


class CompactQr(NamedTuple):
    """The fields of a ``ZZ2`` text, before the catalogue supplies the codes it refers to."""

    signature: bytes
    station: str
    sequence: int
    version: str
    check: str
    type_ref: int
    key_hex: str
    holder_id_type: HolderIdType
    holder_id_masked: str
    holder_name: str
    issued_on: dt.date
    valid_until: dt.date | None

    @property
    def key_id(self) -> str:
        """The sealing key's id (``<station>-<12 hex>``)."""
        return f"{self.station}-{self.key_hex}"

    def identifier(self, type_code: str, issuer_code: str) -> Identifier:
        """The identifier with the type and issuer codes the text refers to."""
        serial = serial_for(self.station, self.sequence)
        return Identifier(type_code, issuer_code, serial, self.version, self.check)

    def payload(self, identifier: Identifier) -> QrPayload:
        """The signed fields, with ``identifier`` (from :meth:`identifier`)."""
        return QrPayload(
            identifier=str(identifier),
            holder_id_type=self.holder_id_type,
            holder_id_masked=self.holder_id_masked,
            holder_name=self.holder_name,
            issued_on=self.issued_on,
            valid_until=self.valid_until,
            key_id=self.key_id,
        )


def is_compact_text(text: str) -> bool:
    """Whether ``text`` is meant as a ``ZZ2`` text (digits only, blanks aside)."""
    cleaned = "".join(text.split())
    return bool(cleaned) and _DIGITS.match(cleaned) is not None


# ---------------------------------------------------------------- mixed-radix packing


class _Packer:
    """Fields appended least significant first; :meth:`number` is their mixed-radix value."""

    __slots__ = ("fields",)

    def __init__(self) -> None:
        self.fields: list[tuple[int, int]] = []

    def put(self, value: int, radix: int) -> None:
        if not 0 <= value < radix:
            raise ValueError(f"{value} is out of range for radix {radix}")
        self.fields.append((value, radix))

    def number(self) -> int:
        value = 0
        for digit, radix in reversed(self.fields):
            value = value * radix + digit
        return value


class _Unpacker:
    """Takes the fields back in the order they were put."""

    __slots__ = ("value",)

    def __init__(self, value: int) -> None:
        self.value = value

    def take(self, radix: int) -> int:
        self.value, digit = divmod(self.value, radix)
        return digit

    def take_in(self, alphabet: str, count: int) -> str:
        # One division of the big number, then small ones: the same as ``count`` takes.
        base = len(alphabet)
        packed = self.take(base**count)
        chars = []
        for _ in range(count):
            packed, digit = divmod(packed, base)
            chars.append(alphabet[digit])
        return "".join(chars)


# ---------------------------------------------------------------- encoding


def encode_compact(payload: QrPayload, signature: bytes) -> str | None:
    """The ``ZZ2`` text of ``payload`` signed with ``signature``; ``None`` when a field has no
    compact form (an identifier of another scheme, an unusual ID): such a certificate keeps ``ZZ1``."""
    if len(signature) != SIGNATURE_BYTES:
        raise ValueError("an SM2 signature r||s has 64 bytes")
    identifier = Identifier.parse(payload.identifier)
    own = identifier.station_sequence if identifier is not None else None
    if identifier is None or own is None:
        return None
    station, sequence = own
    key_hex = payload.key_id.removeprefix(f"{station}-")
    if not (_STATION.match(station) and _KEY_HEX.match(key_hex) and payload.key_id == f"{station}-{key_hex}"):
        return None
    packer = _Packer()
    try:
        packer.put(int.from_bytes(signature, "big"), 1 << 512)
        packer.put(int(key_hex, 16), 1 << 48)
        packer.put(type_ref(identifier.type_code), 1 << 16)
        _put_dates(packer, payload.issued_on, payload.valid_until)
        _put_identifier(packer, identifier, sequence)
        _put_holder(packer, payload.holder_id_type, payload.holder_id_masked)
        packer.put(len(station) - 1, 16)
        for ch in station:
            packer.put(_ALNUM.index(ch), len(_ALNUM))
        _put_name(packer, payload.holder_name)
    except ValueError:  # a field outside what the packing holds
        return None
    digits = str(packer.number())
    body = f"{COMPACT_VERSION}{len(digits):03d}{digits}"
    text = body + f"{98 - int(body + '00') % 97:02d}"  # ISO 7064 MOD 97-10, as IBAN
    decoded = decode_compact(text)  # lossless, or not used at all
    if decoded.payload(decoded.identifier(identifier.type_code, identifier.issuer_code)) != payload:
        return None
    return text


def _put_dates(packer: _Packer, issued_on: dt.date, valid_until: dt.date | None) -> None:
    packer.put((issued_on - _EPOCH).days, _DAYS)
    if valid_until is None:
        packer.put(0, 3)
        return
    years = valid_until.year - issued_on.year
    if 0 < years < 100 and add_years(issued_on, years) == valid_until:
        packer.put(1, 3)
        packer.put(years, 100)
    else:
        packer.put(2, 3)
        packer.put((valid_until - issued_on).days, _DAYS)


def _put_identifier(packer: _Packer, identifier: Identifier, sequence: int) -> None:
    digits = len(str(sequence))
    packer.put(digits - 1, 8)
    packer.put(sequence, 10**digits)
    if identifier.version == "001":
        packer.put(0, 2)
    else:
        packer.put(1, 2)
        packer.put(int(identifier.version), 1000)
    packer.put(_ALNUM.index(identifier.check), len(_ALNUM))


def _put_holder(packer: _Packer, id_type: HolderIdType, masked: str) -> None:
    if id_type is HolderIdType.CITIZEN_ID:
        citizen = _CITIZEN_MASKED.match(masked)
        if citizen is None:
            raise ValueError("not a masked 公民身份号码")
        packer.put(0, 2)
        packer.put(int(citizen[1]), 10**6)
        packer.put(int(citizen[2]), 10**3)
        packer.put(_ID_LAST.index(citizen[3]), len(_ID_LAST))
        return
    uscc = _USCC_MASKED.match(masked)
    if uscc is None:
        raise ValueError("not a masked 统一社会信用代码")
    packer.put(1, 2)
    for ch in uscc[1] + uscc[2]:
        packer.put(_USCC_CHARS.index(ch), len(_USCC_CHARS))


def _name_symbol(ch: str) -> int:
    """The symbol of one name character (:data:`_ESCAPE` when it needs its code point)."""
    code = ord(ch)
    if 0x20 <= code < 0x7F:
        return _ASCII_BASE + code - 0x20
    if ch in _EXTRAS:
        return _EXTRA_BASE + _EXTRAS.index(ch)
    try:
        raw = ch.encode("gb2312")
    except UnicodeEncodeError:
        return _ESCAPE
    return 1 + (raw[0] - 0xA1) * 94 + raw[1] - 0xA1 if len(raw) == 2 else _ESCAPE


def _put_name(packer: _Packer, name: str) -> None:
    packer.put(len(name) - 1, NAME_LIMIT)
    for ch in name:
        symbol = _name_symbol(ch)
        packer.put(symbol, _NAME_RADIX)
        if symbol == _ESCAPE:
            packer.put(ord(ch), _CODE_POINTS)


# ---------------------------------------------------------------- decoding


def decode_compact(text: str) -> CompactQr:
    """The fields of a ``ZZ2`` text; :class:`~models.certificates.codes.QrDecodeError`
    (malformed) when it is not one.

    Only the packing is checked here; whether the signature holds is the verifier's to decide.
    """
    cleaned = "".join(text.split())
    if not cleaned:
        raise malformed("cert.verify.empty")
    if not (cleaned.isascii() and cleaned.isdigit()):
        raise malformed("cert.verify.digits_charset")
    if not cleaned.startswith(COMPACT_VERSION):
        raise malformed("cert.verify.version", version=cleaned[0])
    if len(cleaned) < MIN_DIGITS:
        raise malformed("cert.verify.digits_truncated", got=len(cleaned), expected=MIN_DIGITS)
    if len(cleaned) > MAX_DIGITS:
        raise malformed("cert.verify.digits_too_long", got=len(cleaned), limit=MAX_DIGITS)
    stated = int(cleaned[1:_HEAD])
    if len(cleaned) != _HEAD + stated + 2:  # cut short (a partial copy) or run on
        raise malformed("cert.verify.digits_truncated", got=len(cleaned), expected=_HEAD + stated + 2)
    number = int(cleaned[_HEAD:-2])
    # The whole text's value mod 97, from its parts (one conversion of the long number).
    head = int(cleaned[:_HEAD]) * pow(10, len(cleaned) - _HEAD, 97)
    if (head + number % 97 * 100 + int(cleaned[-2:])) % 97 != 1:
        raise malformed("cert.verify.digits_check")  # a mistyped text
    if cleaned[_HEAD] == "0":  # no encoder writes a leading zero
        raise malformed("cert.verify.digits")
    try:
        return _unpack(_Unpacker(number))
    except (ValueError, IndexError) as exc:  # a field out of range; UnicodeDecodeError is a ValueError
        raise malformed("cert.verify.digits") from exc


def _unpack(unpacker: _Unpacker) -> CompactQr:
    value = unpacker.value  # the power-of-two fields by bit operations
    signature = (value & _MASK_512).to_bytes(SIGNATURE_BYTES, "big")
    key_hex = f"{(value >> 512) & _MASK_48:012X}"
    ref = (value >> 560) & 0xFFFF
    unpacker.value = value >> 576
    issued_on, valid_until = _take_dates(unpacker)
    sequence, version, check = _take_identifier(unpacker)
    holder_id_type, masked = _take_holder(unpacker)
    station = unpacker.take_in(_ALNUM, unpacker.take(16) + 1)
    name = _take_name(unpacker)
    if unpacker.value != 0:
        raise ValueError("digits left over")
    return CompactQr(
        signature, station, sequence, version, check, ref, key_hex,
        holder_id_type, masked, name, issued_on, valid_until,
    )  # fmt: skip


def _take_dates(unpacker: _Unpacker) -> tuple[dt.date, dt.date | None]:
    issued_on = _EPOCH + dt.timedelta(days=unpacker.take(_DAYS))
    kind = unpacker.take(3)
    if kind == 0:
        return issued_on, None
    if kind == 1:
        years = unpacker.take(100)
        if years == 0:
            raise ValueError("a validity of 0 years")
        return issued_on, add_years(issued_on, years)
    return issued_on, issued_on + dt.timedelta(days=unpacker.take(_DAYS))


def _take_identifier(unpacker: _Unpacker) -> tuple[int, str, str]:
    digits = unpacker.take(8) + 1
    sequence = unpacker.take(10**digits)
    if sequence < 10 ** (digits - 1) or sequence == 0:
        raise ValueError("a sequence with a leading zero")
    version = f"{unpacker.take(1000):03d}" if unpacker.take(2) else "001"
    return sequence, version, _ALNUM[unpacker.take(len(_ALNUM))]


def _take_holder(unpacker: _Unpacker) -> tuple[HolderIdType, str]:
    if unpacker.take(2) == 0:
        head, middle = unpacker.take(10**6), unpacker.take(10**3)
        last = _ID_LAST[unpacker.take(len(_ID_LAST))]
        return HolderIdType.CITIZEN_ID, f"{head:06d}{'*' * 8}{middle:03d}{last}"
    visible = unpacker.take_in(_USCC_CHARS, 10)
    return HolderIdType.USCC, visible[:6] + "*" * 8 + visible[6:]


_GB_CHARS: dict[int, str] = {}  # GB 2312 slots decoded so far (at most 8,836 one-character strings)


def _gb_char(symbol: int) -> str:
    """The character of a GB 2312 slot; ``UnicodeDecodeError`` for an unassigned one."""
    row, col = divmod(symbol - 1, 94)
    char = bytes((0xA1 + row, 0xA1 + col)).decode("gb2312")
    _GB_CHARS[symbol] = char
    return char


def _take_name(unpacker: _Unpacker) -> str:
    chars = []
    for _ in range(unpacker.take(NAME_LIMIT) + 1):
        symbol = unpacker.take(_NAME_RADIX)
        if symbol == 0:
            raise ValueError("symbol 0 is never written")
        if symbol < _ASCII_BASE:
            chars.append(_GB_CHARS.get(symbol) or _gb_char(symbol))
        elif symbol < _EXTRA_BASE:
            chars.append(chr(0x20 + symbol - _ASCII_BASE))
        elif symbol < _ESCAPE:
            chars.append(_EXTRAS[symbol - _EXTRA_BASE])
        else:
            ch = chr(unpacker.take(_CODE_POINTS))
            if _name_symbol(ch) != _ESCAPE or not ch.isprintable():
                raise ValueError("an escaped character that has a shorter form or does not print")
            chars.append(ch)
    return "".join(chars)
