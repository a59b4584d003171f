"""Toeplitz hash against Microsoft's published RSS verification vectors."""

import ipaddress
import random

import pytest

from np_model.nic.toeplitz import MS_VERIFICATION_KEY, ToeplitzTable, toeplitz_hash

# (source, source port, destination, destination port, 2-tuple hash, 4-tuple hash)
IPV4_VECTORS = [
    ("66.9.149.187", 2794, "161.142.100.80", 1766, 0x323E8FC2, 0x51CCC178),
    ("199.92.111.2", 14230, "65.69.140.83", 4739, 0xD718262A, 0xC626B0EA),
    ("24.19.198.95", 12898, "12.22.207.184", 38024, 0xD2D0A5DE, 0x5C2B394A),
    ("38.27.205.30", 48228, "209.142.163.6", 2217, 0x82989176, 0xAFC7327F),
    ("153.39.163.191", 44251, "202.188.127.2", 1303, 0x5D1809C5, 0x10E828A2),
]
IPV6_VECTORS = [
    ("3ffe:2501:200:1fff::7", 2794, "3ffe:2501:200:3::1", 1766, 0x2CC18CD5, 0x40207D3D),
    ("3ffe:501:8::260:97ff:fe40:efab", 14230, "ff02::1", 4739, 0x0F0C461C, 0xDDE51BBF),
    ("3ffe:1900:4545:3:200:f8ff:fe21:67cf", 44251, "fe80::200:f8ff:fe21:67cf", 38024, 0x4B61E985, 0x02D1FEEF),
]


def _input(src, sport, dst, dport, ports):
    data = ipaddress.ip_address(src).packed + ipaddress.ip_address(dst).packed
    if ports:
        data += sport.to_bytes(2, "big") + dport.to_bytes(2, "big")
    return data


@pytest.mark.parametrize("vector", IPV4_VECTORS + IPV6_VECTORS, ids=lambda v: v[0])
def test_microsoft_vectors(vector):
    src, sport, dst, dport, h2, h4 = vector
    table = ToeplitzTable(MS_VERIFICATION_KEY)
    for ports, want in ((False, h2), (True, h4)):
        data = _input(src, sport, dst, dport, ports)
        assert toeplitz_hash(MS_VERIFICATION_KEY, data) == want
        assert table.hash(data) == want


def test_table_matches_bit_serial_on_random_keys():
    rng = random.Random(5)
    for _ in range(20):
        key = rng.randbytes(40)
        table = ToeplitzTable(key)
        for _ in range(20):
            data = rng.randbytes(rng.randint(0, 36))
            assert table.hash(data) == toeplitz_hash(key, data)


def test_batch_matches_scalar():
    rng = random.Random(6)
    table = ToeplitzTable(rng.randbytes(40))
    import numpy as np

    rows = np.frombuffer(rng.randbytes(36 * 50), dtype=np.uint8).reshape(50, 36)
    assert [int(h) for h in table.hash_batch(rows)] == [table.hash(bytes(r)) for r in rows]


def test_trailing_zero_bytes_do_not_change_the_hash():
    # the RTL hashes a zero-padded 36-byte vector for every input length
    data = _input(*IPV4_VECTORS[0][:4], True)
    assert toeplitz_hash(MS_VERIFICATION_KEY, data + bytes(24)) == IPV4_VECTORS[0][5]


def test_input_longer_than_key_allows_is_rejected():
    with pytest.raises(ValueError, match="key of at least"):
        toeplitz_hash(MS_VERIFICATION_KEY, bytes(37))
