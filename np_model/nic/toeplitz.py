"""Toeplitz (RSS) hash: the bit-serial reference and a table-driven fast form.

The bit-serial form is Microsoft's published definition ("RSS hashing
functions"): for every input bit, MSB of byte 0 first, XOR the leftmost 32
bits of the key into the result when the bit is set, then shift the key left
by one.  The hash is linear over GF(2), so the contribution of each input
byte depends only on its position and value; :class:`ToeplitzTable`
precomputes those 256 contributions per position (the same XOR-reduce of key
windows the RTL pipelines).
"""

from __future__ import annotations

import numpy as np

__all__ = ["MS_VERIFICATION_KEY", "toeplitz_hash", "ToeplitzTable"]

# The key of Microsoft's "Verifying the RSS Hash Calculation" page.
MS_VERIFICATION_KEY = bytes([
    0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2,
    0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0,
    0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4,
    0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30, 0xf2, 0x0c,
    0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
])


def toeplitz_hash(key: bytes, data: bytes) -> int:
    """Bit-serial Toeplitz hash of ``data`` (at most ``len(key) - 4`` bytes)."""
    if len(data) > len(key) - 4:
        raise ValueError(f"input of {len(data)} bytes needs a key of at least {len(data) + 4} bytes")
    key_int = int.from_bytes(key, "big")
    key_bits = 8 * len(key)
    result = 0
    for i in range(8 * len(data)):
        if data[i // 8] >> (7 - i % 8) & 1:
            result ^= (key_int >> (key_bits - 32 - i)) & 0xFFFF_FFFF
    return result


class ToeplitzTable:
    """Per-byte-position lookup tables for one key: hash = XOR of ``table[pos][byte]``."""

    def __init__(self, key: bytes, max_bytes: int = 36) -> None:
        if len(key) < max_bytes + 4:
            raise ValueError(f"key of {len(key)} bytes is too short for {max_bytes}-byte inputs")
        self.key = bytes(key)
        self.max_bytes = max_bytes
        key_int = int.from_bytes(key, "big")
        key_bits = 8 * len(key)
        # window[i] = key bits i .. i+31 (i counted from the MSB of key byte 0)
        windows = [(key_int >> (key_bits - 32 - i)) & 0xFFFF_FFFF for i in range(8 * max_bytes)]
        table = np.zeros((max_bytes, 256), dtype=np.uint32)
        values = np.arange(256)
        for pos in range(max_bytes):
            col = np.zeros(256, dtype=np.uint32)
            for bit in range(8):
                selected = (values >> (7 - bit)) & 1
                col ^= np.where(selected, np.uint32(windows[8 * pos + bit]), np.uint32(0)).astype(np.uint32)
            table[pos] = col
        self._table = table
        self._rows = [list(map(int, row)) for row in table]

    def hash(self, data: bytes) -> int:
        """Hash of ``data`` (at most ``max_bytes`` bytes)."""
        rows = self._rows
        result = 0
        for pos, byte in enumerate(data):
            result ^= rows[pos][byte]
        return result

    def hash_batch(self, data: np.ndarray) -> np.ndarray:
        """Hashes of the rows of an ``(n, max_bytes)`` uint8 array (zero-padded inputs)."""
        data = np.asarray(data, dtype=np.uint8)
        gathered = self._table[np.arange(data.shape[1]), data]
        return np.bitwise_xor.reduce(gathered, axis=1)
