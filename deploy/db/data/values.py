"""Column values as data compare sees them: each declared type maps to a kind, and values
from a file (CSV text, JSON) and from a live row (whatever the ODBC driver returns) are
turned into one canonical Python value of that kind, so `1.50` equals `1.5`, `t` equals
True and two instants in different time zones are the same instant. NULL stays NULL and
the empty string stays the empty string; trailing spaces are kept (they are data)."""

from __future__ import annotations

import binascii
import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

NULL_MARK = "\\N"  # a CSV field that is NULL (COPY's text-format marker); an empty field is '' in text columns


class BadValue(ValueError):
    pass


def kind_of(sql_type: str) -> str:
    """int, decimal, float, bool, binary, date, time, timestamp, timestamptz or text."""
    t = sql_type.lower()
    rules = [
        (r"with time zone|timestamptz|datetimeoffset", "timestamptz"),
        (r"^(timestamp|datetime|smalldatetime)", "timestamp"), (r"^date$", "date"), (r"^time\b", "time"),
        (r"^(bool|boolean|bit)$", "bool"), (r"int|serial", "int"),
        (r"^(numeric|decimal|money|smallmoney|dec)\b", "decimal"), (r"^(real|float|double)", "float"),
        (r"bytea|blob|binary|image|varbinary", "binary"),
    ]
    return next((k for pattern, k in rules if re.search(pattern, t)), "text")


def from_file(value: Any, kind: str, csv: bool) -> Any:
    """A desired value as written in a data file (CSV text, or a JSON value)."""
    if value is None or (csv and value == NULL_MARK):
        return None
    if csv and value == "" and kind != "text":
        return None  # an empty field can only mean NULL outside text columns
    try:
        return _parse(value, kind)
    except (ValueError, InvalidOperation, binascii.Error) as e:
        raise BadValue(f"{value!r} is not a {kind} value ({e})") from None


def _parse(value: Any, kind: str) -> Any:
    if kind == "text":
        return value if isinstance(value, str) else str(value)
    if kind == "int":
        return int(value)
    if kind == "decimal":
        return Decimal(str(value))
    if kind == "float":
        return float(value)
    if kind == "bool":
        return _bool(value)
    if kind == "binary":
        return _binary(value)
    return _temporal(value, kind)


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "t", "true", "y", "yes", "on"):
        return True
    if text in ("0", "f", "false", "n", "no", "off"):
        return False
    raise ValueError("expected true/false or 1/0")


def _binary(value: Any) -> bytes:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    text = str(value)
    if text[:2].lower() in ("\\x", "0x"):
        text = text[2:]
    return binascii.unhexlify(text)


def _temporal(value: Any, kind: str) -> Any:
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return canonical(value, kind)
    text = str(value).strip().replace(" ", "T", 1) if kind != "time" else str(value).strip()
    if kind == "date":
        return dt.date.fromisoformat(text[:10])
    if kind == "time":
        return dt.time.fromisoformat(text)
    stamp = dt.datetime.fromisoformat(re.sub(r"([+-]\d\d)$", r"\1:00", text))
    return canonical(stamp, kind)


def canonical(value: Any, kind: str) -> Any:
    """A live value (as pyodbc returns it) in the same form as `from_file` gives."""
    if value is None:
        return None
    if kind == "timestamptz" and isinstance(value, dt.datetime):
        # stored instants are read as UTC (see live.py); a file's aware value is converted to UTC
        return value.astimezone(dt.timezone.utc).replace(tzinfo=None) if value.tzinfo else value
    if kind == "timestamp" and isinstance(value, dt.datetime):
        return value.replace(tzinfo=None) if value.tzinfo is None else value
    if kind == "date" and isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, (dt.date, dt.time)) and not isinstance(value, str):
        return value
    try:
        return _parse(value, kind)
    except (ValueError, InvalidOperation, binascii.Error):
        return value  # compare what the server gave as it is: a difference, never a crash


def key_text(values: tuple) -> str:
    """A stable text form of a key, for the staging table and messages."""
    return "\x1f".join("\x00" if v is None else repr(v.normalize() if isinstance(v, Decimal) else v) for v in values)
