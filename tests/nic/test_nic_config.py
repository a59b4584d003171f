"""The ``nic:`` configuration: errors that name the problem, and backend selection."""

import pytest

from np_model.nic import (
    BACKENDS,
    CONFIG_KEYS,
    ConfigError,
    NicFrontEnd,
    VmdqResult,
    make_nic,
    nic_from_router_config,
)
from np_model.nic.config import parse_config


def test_unknown_key_names_it_and_lists_valid_keys():
    with pytest.raises(ConfigError) as err:
        parse_config({"mode": "32x4", "mac_filter": []})
    assert "'mac_filter'" in str(err.value)
    assert all(k in str(err.value) for k in CONFIG_KEYS)


@pytest.mark.parametrize(("config", "message"), [
    ({"mode": "8x16"}, "valid modes: 64x2, 32x4, 16x8"),
    ({"mode": "16x8", "default_pool": 16}, "default_pool: 16 is out of range 0..15"),
    ({"mac_filters": [{"mac": "02:00:00:00:00:zz", "pools": [1]}]}, "mac_filters[0].mac"),
    ({"mac_filters": [{"mac": "02:00:00:00:00:01", "pool": [1]}]}, "unknown key 'pool'"),
    ({"mac_filters": [{"mac": "02:00:00:00:00:01", "pools": [32]}]}, "pool: 32 is out of range 0..31"),
    ({"vlan_filter": [4096]}, "vlan_filter: VLAN ID: 4096 is out of range 0..4095"),
    ({"pool_vlans": [{"vlan": v, "pools": [0]} for v in range(65)]}, "at most 64 fit"),
    ({"broadcast": "some"}, "broadcast"),
    ({"mc_hash": ["02:00:00:00:00:01"]}, "not a multicast address"),
    ({"rss_key": "abcd"}, "80 hex digits"),
    ({"rss_types": ["ipv4", "sctp"]}, "'sctp' is not a hash type"),
    ({"reta": [0] * 100}, "length dividing 128"),
    ({"mode": "64x2", "reta": [0, 2]}, "2 queues per pool"),
    ({"min_frame_len": 100}, "min_frame_len: 100 is out of range 0..64"),
    ({"replication": "yes"}, "replication: expected true or false"),
])
def test_bad_values_say_what_is_wrong(config, message):
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("(", r"\(")):
        parse_config(config)


def test_unknown_backend_lists_valid_ones():
    with pytest.raises(ValueError, match="valid backends: model, rtl"):
        make_nic("verilator")
    assert BACKENDS == ("model", "rtl")


def test_unknown_parameter_lists_valid_ones():
    with pytest.raises(ValueError, match="valid parameters: num_mac_filters"):
        make_nic("model", data_width=64)


def test_model_front_end_protocol_and_results():
    nic = make_nic("model", {"mode": "16x8", "mac_filters": [{"mac": "02:00:00:00:00:01", "pools": [3, 9]}]})
    assert isinstance(nic, NicFrontEnd) and nic.backend == "model"
    frame = bytes.fromhex("020000000001" "020000000002" "0800") + bytes(46)
    (res,) = nic.classify([bytearray(frame)])
    assert isinstance(res, VmdqResult) and res.pool_list() == [3, 9] and not res.drop
    assert res.abs_queue(9) == 9 * 8 + res.queue
    assert nic.classify([]) == []
    nic.close()


def test_router_config_switches_backend_by_name():
    assert nic_from_router_config("model").backend == "model"
    assert nic_from_router_config(None).backend == "model"
    nic = nic_from_router_config({"backend": "model", "mode": "64x2", "broadcast": [5]})
    (res,) = nic.classify([b"\xff" * 6 + bytes(54)])
    assert res.pool_list() == [5]
    with pytest.raises(ValueError, match="'fpga' unknown; valid: model, rtl"):
        nic_from_router_config({"backend": "fpga"})
    with pytest.raises(ConfigError, match="unknown nic configuration key 'bogus'"):
        nic_from_router_config({"backend": "model", "bogus": 1})
