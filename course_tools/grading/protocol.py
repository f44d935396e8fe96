"""The wire between the grader and a submission's sandbox: framed JSON carrying plain data only.

Both sides use this module, but only the grader trusts its own half. Whatever arrives from the
sandbox is decoded into fresh built-in objects and NumPy arrays (`np.load(allow_pickle=False)`):
an answer object whose `__eq__` always returns True, an ndarray subclass, a patched module: none
of them can cross. Functions stay in the sandbox and are called remotely with plain arguments;
Keras models cross as `.keras` files that the grader loads in safe mode.
"""

import base64
import io
import json
import os
import select
import struct
import time

import numpy as np

#: Largest message either side accepts (arrays included).
MAX_MESSAGE_BYTES = 64 * 1024 * 1024
#: Deepest nesting of lists, tuples and dicts that is decoded.
MAX_DEPTH = 32
_HEADER = struct.Struct(">I")


class ProtocolError(RuntimeError):
    """The other side sent something that is not a well-formed message."""


# --- framing ------------------------------------------------------------------------------------


def send(fd: int, message: dict) -> None:
    data = json.dumps(message, allow_nan=True).encode("utf-8")
    if len(data) > MAX_MESSAGE_BYTES:
        raise ProtocolError(f"message of {len(data):,} bytes is too large")
    payload = _HEADER.pack(len(data)) + data
    view = memoryview(payload)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _read_exactly(fd: int, size: int, deadline: float | None) -> bytes:
    chunks, left = [], size
    while left:
        if deadline is not None:
            wait = deadline - time.monotonic()
            if wait <= 0 or not select.select([fd], [], [], wait)[0]:
                raise ProtocolError("a message stopped half-way")
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise EOFError("the other side closed the channel")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def receive(fd: int, deadline: float | None = None) -> dict:
    """The next message; with a `deadline` (time.monotonic()), one that has not fully arrived
    by then is a ProtocolError, so a sender that stalls half-way cannot hold the reader."""
    (size,) = _HEADER.unpack(_read_exactly(fd, _HEADER.size, deadline))
    if size > MAX_MESSAGE_BYTES:
        raise ProtocolError(f"announced message of {size:,} bytes is too large")
    try:
        message = json.loads(_read_exactly(fd, size, deadline).decode("utf-8"))
    except RecursionError as error:
        raise ProtocolError("JSON nested too deeply") from error
    except (UnicodeDecodeError, ValueError) as error:  # ValueError: an integer too long
        raise ProtocolError(f"not JSON: {str(error)[:200]}") from error
    if not isinstance(message, dict):
        raise ProtocolError("a message must be a JSON object")
    return message


# --- plain data ---------------------------------------------------------------------------------


def _npy(array: np.ndarray) -> str:
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array), allow_pickle=False)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _from_npy(text: str) -> np.ndarray:
    try:
        array = np.load(io.BytesIO(base64.b64decode(text)), allow_pickle=False)
    except Exception as error:  # anything malformed is the sender's fault
        raise ProtocolError(f"bad array: {error}") from error
    if type(array) is not np.ndarray or array.dtype.hasobject:
        raise ProtocolError("bad array")
    return array


def encode(value, *, on_other=None, depth: int = 0):
    """Plain data to JSON-ready form; `on_other(value)` encodes anything else (or raises)."""
    if depth > MAX_DEPTH:
        raise ValueError("nested too deeply")
    if value is None or type(value) in (bool, str):
        return value
    if type(value) is int:
        return value
    if type(value) is float:
        return {"$": "float", "v": repr(value)}
    if value is Ellipsis:
        return {"$": "ellipsis"}
    if type(value) in (list, tuple, set, frozenset):
        kind = type(value).__name__
        items = sorted(value, key=repr) if kind in ("set", "frozenset") else value
        return {
            "$": kind,
            "v": [encode(item, on_other=on_other, depth=depth + 1) for item in items],
        }
    if type(value) is dict:
        return {
            "$": "dict",
            "v": [
                [
                    encode(key, on_other=on_other, depth=depth + 1),
                    encode(item, on_other=on_other, depth=depth + 1),
                ]
                for key, item in value.items()
            ],
        }
    if type(value) is np.ndarray and not value.dtype.hasobject:
        return {"$": "ndarray", "v": _npy(value)}
    if isinstance(value, np.generic) and not isinstance(value, np.object_):
        return {"$": "npscalar", "v": _npy(np.asarray(value))}
    if on_other is None:
        raise TypeError(f"not plain data: {type(value).__name__}")
    return on_other(value)


def decode(data, *, on_other=None, depth: int = 0):
    """Inverse of `encode`; `on_other(tagged_dict)` decodes tags this module does not know."""
    if depth > MAX_DEPTH:
        raise ProtocolError("nested too deeply")
    if data is None or type(data) in (bool, int, str):
        return data
    if type(data) is float:  # plain JSON numbers are accepted too
        return data
    if type(data) is not dict or type(data.get("$")) is not str:
        raise ProtocolError(f"unexpected {type(data).__name__} in a message")
    tag, payload = data["$"], data.get("v")
    if tag == "float":
        if type(payload) is not str:
            raise ProtocolError("bad float")
        try:
            return float(payload)
        except ValueError as error:
            raise ProtocolError("bad float") from error
    if tag == "ellipsis":
        return Ellipsis
    if tag in ("list", "tuple", "set", "frozenset"):
        if type(payload) is not list:
            raise ProtocolError(f"bad {tag}")
        items = [decode(item, on_other=on_other, depth=depth + 1) for item in payload]
        try:
            return {"list": list, "tuple": tuple, "set": set, "frozenset": frozenset}[
                tag
            ](items)
        except TypeError as error:  # an unhashable item in a set
            raise ProtocolError(f"bad {tag}: {error}") from error
    if tag == "dict":
        if type(payload) is not list:
            raise ProtocolError("bad dict")
        result = {}
        for pair in payload:
            if type(pair) is not list or len(pair) != 2:
                raise ProtocolError("bad dict item")
            key = decode(pair[0], on_other=on_other, depth=depth + 1)
            try:
                result[key] = decode(pair[1], on_other=on_other, depth=depth + 1)
            except TypeError as error:
                raise ProtocolError(f"unhashable dict key: {error}") from error
        return result
    if tag == "ndarray":
        return _from_npy(payload)
    if tag == "npscalar":
        array = _from_npy(payload)
        if array.ndim != 0:
            raise ProtocolError("bad NumPy scalar")
        return array[()]
    if on_other is None:
        raise ProtocolError(f"unknown tag {tag!r}")
    return on_other(data)
