"""Opaque page tokens: HMAC-signed, bound to the query's parameters, hidden by a keyed stream."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import struct
from collections.abc import Mapping

from .messages import _bad
from .spec import _UNBOUND_PARAMS


def _signature(params: Mapping[str, str]) -> bytes:
    bound = sorted((k, v) for k, v in params.items() if k not in _UNBOUND_PARAMS)
    return hashlib.sha256(json.dumps(bound).encode("utf-8")).digest()


def _make_token(secret: bytes, signature: bytes, offset: int, page_index: int) -> str:
    # Synthetic-IV style: the MAC of the payload keys the stream that hides it, so a token
    # looks random, cannot be forged or edited, and a foreign server's token fails the MAC.
    payload = struct.pack(">IH", offset, page_index) + signature[:10]
    mac = hmac.new(secret, payload, hashlib.sha256).digest()[:12]
    stream = hashlib.sha256(secret + mac).digest()
    hidden = bytes(a ^ b for a, b in zip(payload, stream, strict=False))
    return base64.urlsafe_b64encode(mac + hidden).decode("ascii").rstrip("=")


def _read_token(secret: bytes, token: str, signature: bytes) -> tuple[int, int]:
    invalid = _bad(f"`pageToken` is invalid: {token!r}")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raise invalid from None
    if len(raw) != 12 + 16 or base64.urlsafe_b64encode(raw).decode().rstrip("=") != token:
        raise invalid  # the wrong size, or spare bits set in the last character
    mac, hidden = raw[:12], raw[12:]
    stream = hashlib.sha256(secret + mac).digest()
    payload = bytes(a ^ b for a, b in zip(hidden, stream, strict=False))
    expected = hmac.new(secret, payload, hashlib.sha256).digest()[:12]
    if not hmac.compare_digest(mac, expected):
        raise invalid
    offset, page_index = struct.unpack(">IH", payload[:6])
    if payload[6:] != signature[:10]:
        raise _bad(
            "`pageToken` was issued for other parameters: every parameter except "
            "pageToken, pageSize and countTotal must repeat unchanged"
        )
    return offset, page_index
