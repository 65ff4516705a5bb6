"""Small conversions between Bumble and bleak representations."""

from __future__ import annotations

import uuid

from bumble.core import UUID as BumbleUUID


def uuid_str(u: BumbleUUID) -> str:
    """Bleak's form of a UUID: 128-bit, lower case, dashed (16-bit ones on the SIG base)."""
    return str(uuid.UUID(bytes=u.to_bytes(force_128=True)[::-1]))


def bumble_uuid(u: str) -> BumbleUUID:
    """Bumble's UUID for bleak's string form (accepts 16-bit ``"180f"`` too)."""
    u = u.strip().lower()
    if len(u) == 4:
        return BumbleUUID.from_16_bits(int(u, 16))
    return BumbleUUID(u)
