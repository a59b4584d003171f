"""The GPE server model (host.spp.gpe) on the substrate (network.gpe_node):
a slice's slow path serves at its reserved share of a core, its queue is
bounded (drops named), a faulting hook loses only its packet, and every
frame is accounted for. The GPE here takes plain Ethernet/IPv4/UDP frames
from a host (its decoder is given; an SPP node gives the fabric's)."""
from __future__ import annotations

import ipaddress

import pytest

from host.spp.gpe import SlowPacket, SlowPath
from network import Host, Network
from network.gpe_node import GPENode
from network.overlay import TunnelFlow

GPE_IP = "10.0.0.1"


class Echo(SlowPath):
    """Sends every packet back to where it came from, from the endpoint it reached."""

    def on_packet(self, pkt: SlowPacket) -> None:
        if pkt.payload[:4] == b"boom":
            raise RuntimeError("slice bug")
        self.ctx.send(pkt.dst, pkt.src, pkt.payload)


def build(cores: float, shares: dict[str, float], cost_us: float = 10.0, queue: int = 8):
    net = Network()
    owners = {(GPE_IP, 30000 + i): s for i, s in enumerate(shares)}
    host_mac, gpe_mac = bytes.fromhex("020000000102"), bytes.fromhex("020000000201")

    def decode(f: bytes):
        ip = f[14:]
        ihl = (ip[0] & 15) * 4
        ep = (str(ipaddress.IPv4Address(ip[16:20])), ip[ihl + 2] << 8 | ip[ihl + 3])
        s = owners.get(ep)
        return (s, "packet", "default_filter", None, ip) if s else "gpe_unknown_endpoint"

    def encode(slice_: str, where: str, ip: bytes) -> bytes:
        return host_mac + gpe_mac + b"\x08\x00" + ip

    g = GPENode("gpe", cores=cores, decode=decode, encode=encode, endpoint_owner=owners.get, cost_us=cost_us,
                per_byte_ns=0.0)
    for s, share in shares.items():
        g.server.host(s, Echo(), None, share=share, queue=queue)
    h = Host("h", "10.0.0.2/24", "02:00:00:00:01:02")
    h.arp[ipaddress.IPv4Address(GPE_IP).packed] = (gpe_mac, float("inf"))
    net.add_node(g)
    net.add_node(h)
    net.add_link("h", 0, "gpe", 0, rate_bps=10e9, delay_ns=1000)
    return net, g, h


def test_slowpath_rate_follows_its_share_and_cost():
    """A saturated slow path forwards share / cost packets per second (the
    model's definition); twice the share, twice the rate."""
    rates = {}
    for share in (0.25, 0.5):
        net, g, h = build(1.0, {"a": share}, cost_us=10.0, queue=10_000)
        f = TunnelFlow(h, (GPE_IP, 30000), sport=5000, start_ns=0, rate_bps=1e9, size=100, duration_ms=2,
                       flow_id=1, overlay="raw")
        net.run(duration_ns=2e6)
        done = g.server.slices["a"].counters["consumed"]
        rates[share] = done / 2e-3
        assert done < f.sent                                   # saturated: the queue holds the rest
        expect = share / 10e-6
        assert expect * 0.95 <= rates[share] <= expect * 1.01
    assert 1.9 <= rates[0.5] / rates[0.25] <= 2.1


def test_queue_bound_drops_named_and_other_slice_unaffected():
    net, g, h = build(1.0, {"a": 0.5, "b": 0.5}, cost_us=10.0, queue=8)
    flood = TunnelFlow(h, (GPE_IP, 30000), sport=5000, start_ns=0, rate_bps=1e9, size=100, duration_ms=1,
                       flow_id=1, overlay="raw")
    calm = TunnelFlow(h, (GPE_IP, 30001), sport=5001, start_ns=0, rate_bps=100 * 8 * 10_000, size=100,
                      duration_ms=1, flow_id=2, overlay="raw")      # 10 kpps: well under b's 50 kpps
    net.run(duration_ns=3e6)
    led = g.settle()
    assert led.dropped["gpe_queue_full"] > 0
    a, b = g.server.slices["a"].counters, g.server.slices["b"].counters
    assert a["dropped.gpe_queue_full"] == led.dropped["gpe_queue_full"] and not b["dropped.gpe_queue_full"]
    assert b["consumed"] == calm.sent                            # b's slow path kept up with all of b's traffic
    assert a["consumed"] + a["dropped.gpe_queue_full"] == flood.sent
    assert net.conservation().ok


def test_fault_in_slice_code_is_contained():
    net, g, h = build(1.0, {"a": 1.0})
    h.send_udp(ipaddress.IPv4Address(GPE_IP).packed, 5000, 30000, b"boom")
    h.send_udp(ipaddress.IPv4Address(GPE_IP).packed, 5000, 30000, b"fine")
    got = []
    h.bind_udp(5000, lambda src, sport, data, now: got.append(data))
    net.run(duration_ns=1e6)
    st = g.server.slices["a"]
    assert st.counters["dropped.slowpath_fault"] == 1 and "RuntimeError: slice bug" in st.faults[0]
    assert got == [b"fine"]
    assert g.settle().dropped["slowpath_fault.a"] == 1 and net.conservation().ok


def test_unknown_endpoint_is_a_named_drop_and_spoofed_source_refused():
    net, g, h = build(1.0, {"a": 1.0})
    h.send_udp(ipaddress.IPv4Address(GPE_IP).packed, 5000, 31999, b"x" * 20)
    net.run(duration_ns=1e5)
    assert g.settle().dropped["gpe_unknown_endpoint"] == 1
    from host.spp.srm import AccessError
    with pytest.raises(AccessError, match="not an allocated endpoint"):
        g.server.slices["a"].ctx.send((GPE_IP, 31999), ("10.0.0.2", 5000), b"x")
