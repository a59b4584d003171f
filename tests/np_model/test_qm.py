"""Queue manager: WDRR shares, port rates, thresholds, datagram queues."""
from __future__ import annotations

import numpy as np
import pytest

from np_model.assemblies import FilterAction
from np_model.traffic import Stream, build, wire_bytes
from tests.helpers import host_ip, host_mac, make_npr, port_mac, udp_frame


def _saturate_port4(r, ms: float, size: int = 1000) -> None:
    """Ports 0, 1 and 2 each offer line rate toward port 4's neighbour."""
    streams = [Stream(p, f"{host_ip(4)}/32", f"10.0.{p + 1}.0/24", port_mac(p), sizes=((size, 1.0),))
               for p in range(3)]
    b = build(streams, ms * 1e6)
    r.feed_arrays(b.t_cycles, b.ports, b.lens, b.offsets, b.data)
    r.run(duration_ns=ms * 1e6)


@pytest.mark.parametrize("quanta,rate_kbps", [((1000, 2000, 4000), None), ((3000, 1500, 1500), 300_000),
                                               ((256, 256, 512), None)])
def test_wdrr_shares_follow_quanta_under_saturation(quanta, rate_kbps):
    r = make_npr("c")
    for p, (qid, q) in enumerate(zip((100, 101, 102), quanta)):
        r.add_filter(FilterAction("queue", port=4, qid=qid, mac=host_mac(4)), in_port=p)
        r.set_queue(4, qid, quantum=q, threshold=2_000_000)
    if rate_kbps:
        r.set_port_rate(4, rate_kbps)
    _saturate_port4(r, 6.0)
    tx = [t for t in r.transmitted(port=4) if 0.5e6 <= t.t_start_ns <= 6e6]
    got = np.array([sum(len(t.data) for t in tx if t.queue == q) for q in (100, 101, 102)], dtype=float)
    want = np.array(quanta, dtype=float)
    share, target = got / got.sum(), want / want.sum()
    assert np.all(np.abs(share / target - 1) < 0.05), (share, target)
    r.check_conservation()


def test_port_rate_is_met_within_one_rate_quantum():
    r = make_npr("c")
    eff = r.set_port_rate(1, 100_000)
    assert eff == 100_000 // 683 * 683          # stored as rate/683 [C-code]
    b = build([Stream(0, f"{host_ip(1)}/32", "10.0.1.0/24", port_mac(0), sizes=((1000, 1.0),))], 20e6)
    r.feed_arrays(b.t_cycles, b.ports, b.lens, b.offsets, b.data)
    r.run(duration_ns=20e6)
    tx = r.transmitted(port=1)
    assert len(tx) > 100
    bits = sum(wire_bytes(len(t.data)) * 8 for t in tx[:-1])
    rate_kbps = bits / (tx[-1].t_start_ns - tx[0].t_start_ns) * 1e6
    assert abs(rate_kbps - eff) < 683
    # 1 Gb/s offered into 100 Mb/s: the excess waits, spread over the datagram queues
    backlog = [q for k, q in r.stats()["queues"].items() if k.startswith("port1.") and q["bytes"]]
    assert len(backlog) > 10 and sum(q["bytes"] for q in backlog) > 1_000_000


def test_queue_threshold_drops_and_counts():
    r = make_npr("c")
    r.add_filter(FilterAction("queue", port=1, qid=200, mac=host_mac(1)), in_port=0)
    r.set_queue(1, 200, threshold=10_000)
    r.set_port_rate(1, 10_000)
    frames = [bytes(udp_frame(0, host_ip(1), size=1000))] * 30
    r.send(frames, port=0)
    r.run(duration_ns=5e6)
    st = r.stats()["queues"]["port1.q200"]
    sent = len(r.transmitted(port=1)) + st["pkts"]
    assert r.drops() == {"qm_threshold": st["drops"]}
    assert sent + st["drops"] == 30
    assert 10 <= sent <= 13                # 10 x 1000 B fit under the threshold, plus those already sent
    assert st["bytes"] <= 10_000
    r.check_conservation()


def test_datagram_queues_spread_flows_by_address_hash():
    r = make_npr("c")
    frames = [bytes(udp_frame(0, host_ip(1), src=f"10.0.1.{i}")) for i in range(2, 102)]
    r.send(frames, port=0, at_ns=[i * 2000.0 for i in range(100)])
    r.run(duration_ns=400_000)
    qids = {t.queue for t in r.transmitted(port=1)}
    assert qids <= set(range(64)) and len(qids) >= 30
    # one flow always lands in the same datagram queue
    r2 = make_npr("c")
    r2.send([bytes(udp_frame(0, host_ip(1), src="10.0.1.7", sport=s)) for s in range(20)], port=0)
    r2.run(duration_ns=200_000)
    assert len({t.queue for t in r2.transmitted(port=1)}) == 1


def test_queue_config_errors():
    r = make_npr("c")
    with pytest.raises(ValueError, match="queue id 70000 out of range"):
        r.set_queue(0, 70000, quantum=10)
    with pytest.raises(ValueError, match="QID 0x4005 is encoded for port 1, not port 0"):
        r.set_queue(0, 0x4005, quantum=10)
    r.set_queue(0, 0x2005, quantum=10)          # encoded for port 0: queue 5
    assert r.queue(0, 5)["quantum"] == 10
    with pytest.raises(ValueError, match="port 0 rate must be an integer 683..1048576 Kb/s, got 500"):
        r.set_port_rate(0, 500)
