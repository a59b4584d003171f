"""IPv4 options: processed and forwarded in software, or parameter problem."""
from __future__ import annotations

import pytest
from scapy.layers.inet import (ICMP, IP, UDP, IPOption_LSRR, IPOption_Router_Alert, IPOption_RR, IPOption_SSRR,
                               IPOption_Timestamp)
from scapy.layers.l2 import Ether
from scapy.packet import Raw

from tests.helpers import host_ip, host_mac, port_ip, port_mac
from tests.host.hostlab import HOST_QID, icmp_error, make_lab


def _with_options(options, *, ttl: int = 9, dst: str | None = None) -> Ether:
    return Ether(bytes(Ether(dst=port_mac(0), src=host_mac(0))
                       / IP(src=host_ip(0), dst=dst or host_ip(1), ttl=ttl, id=55, options=options)
                       / UDP(sport=7, dport=9) / Raw(b"options!" * 3)))


def _forwarded(options, *, ttl: int = 8) -> bytes:
    return bytes(Ether(dst=host_mac(1), src=port_mac(1))
                 / IP(src=host_ip(0), dst=host_ip(1), ttl=ttl, id=55, options=options)
                 / UDP(sport=7, dport=9) / Raw(b"options!" * 3))


def _run(lab, f, at_ns=None):
    lab.send(f, 0, at_ns=at_ns)
    lab.run_us(300 if at_ns is None else at_ns / 1e3 + 300)
    assert lab.r.exceptions() == {"ip_options": 1}
    lab.r.check_conservation()


def test_record_route_records_the_outgoing_interface():
    lab = make_lab()
    _run(lab, _with_options([IPOption_RR(routers=["0.0.0.0"] * 3)]))
    assert lab.out() == [_forwarded([IPOption_RR(pointer=8, routers=[port_ip(1), "0.0.0.0", "0.0.0.0"])])]
    [t] = lab.r.transmitted()
    assert t.queue == HOST_QID and t.from_host            # forwarded by the host, pass-through
    assert (lab.c("options.record_route"), lab.c("options.forwarded")) == (1, 1)


def test_full_record_route_is_forwarded_unchanged():
    lab = make_lab()
    full = IPOption_RR(pointer=8, routers=["10.9.9.9"])
    _run(lab, _with_options([full]))
    assert lab.out() == [_forwarded([full])]


def test_timestamp_with_address():
    lab = make_lab()
    _run(lab, _with_options([IPOption_Timestamp(flg=1, pointer=5, internet_address="0.0.0.0", timestamp=0)]),
         at_ns=5.0e6)
    # simulated time 5 ms; the high-order bit says "not milliseconds since midnight UT" (RFC 791)
    assert lab.out() == [_forwarded([IPOption_Timestamp(flg=1, pointer=13, internet_address=port_ip(1),
                                                        timestamp=0x80000005)])]


def test_full_timestamp_counts_overflow():
    lab = make_lab()
    full = IPOption_Timestamp(flg=1, pointer=13, oflw=2, internet_address="10.9.9.9", timestamp=7)
    _run(lab, _with_options([full]))
    full.oflw = 3
    assert lab.out() == [_forwarded([full])]


def test_router_alert_is_passed_on():
    lab = make_lab()
    _run(lab, _with_options([IPOption_Router_Alert()]))
    assert lab.out() == [_forwarded([IPOption_Router_Alert()])]


@pytest.mark.parametrize("opt", [IPOption_LSRR(routers=[port_ip(0), "10.0.2.2"]),
                                 IPOption_SSRR(routers=[port_ip(0), "10.0.2.2"])], ids=["lsrr", "ssrr"])
def test_source_routed_transit_is_dropped_by_default(opt):
    """RFC 7126 4.3.4 / 4.4.4: source-routed datagrams are dropped by default
    (``slow_path.source_route: drop``); tests/host/test_host_rfc1812.py has
    reject and accept."""
    lab = make_lab()
    _run(lab, _with_options([opt]))
    assert lab.out() == []
    assert (lab.c("options.source_route_drops"), lab.c("icmp.param_problem")) == (1, 0)


def _checksummed(b: bytearray) -> bytes:
    b[24:26] = b"\0\0"
    ihl = (b[14] & 15) * 4
    s = sum(int.from_bytes(b[i:i + 2], "big") for i in range(14, 14 + ihl, 2))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    b[24:26] = (~s & 0xFFFF).to_bytes(2, "big")
    return bytes(b)


@pytest.mark.parametrize("offset,value,pointer", [
    (21, 40, 21),          # record route length runs past the header: points at the length octet
    (22, 5, 22),           # record route pointer 5 is not 4 + 4k: points at the pointer
])
def test_malformed_option_is_a_parameter_problem(offset, value, pointer):
    lab = make_lab()
    b = bytearray(bytes(_with_options([IPOption_RR(routers=["0.0.0.0"] * 3)])))
    b[14 + offset] = value
    f = Ether(_checksummed(b))
    _run(lab, f)
    assert lab.out() == [icmp_error(bytes(f)[14:], in_port=0, to_port=0, icmp=ICMP(type=12, code=0, ptr=pointer))]
