"""Every directed VMDq scenario against the golden model, with explicit expectations.

The same scenarios run on the RTL in ``testbench/vmdq_classifier``.
"""

import pytest

from np_model.nic import make_nic
from np_model.nic.result import VmdqResult
from testbench.vmdq_classifier.scenarios import Case, check, scenarios

SCENARIOS = scenarios()


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_scenario(scenario):
    nic = make_nic("model", scenario.config)
    results = nic.classify([c.frame for c in scenario.cases])
    failures = [f"{c.note or i}: {'; '.join(check(c, r))}"
                for i, (c, r) in enumerate(zip(scenario.cases, results)) if check(c, r)]
    assert not failures, "\n".join(failures)


def test_check_reports_wrong_expectations():
    # guard for the scenario tests above: a wrong expectation must be reported
    result = VmdqResult(pools=0b110, queue=1, rss_hash=5, hash_type=1, drop=False, reason=None)
    assert check(Case(b"", pools={1, 2}, hash_type=1, rss_hash=5, queue=1), result) == []
    assert check(Case(b"", pools={1}), result)
    assert check(Case(b"", reason="no_pool"), result)
    assert check(Case(b"", pools={1, 2}, queue=0), result)
    assert check(Case(b"", pools={1, 2}, queue=0), result, check_queue=False) == []


def test_every_drop_reason_and_hash_type_is_exercised():
    reasons, types = set(), set()
    for sc in SCENARIOS:
        reasons |= {c.reason for c in sc.cases}
        types |= {c.hash_type for c in sc.cases if c.hash_type is not None}
    assert reasons == {None, "runt", "vlan_filter", "no_pool", "pool_vlan", "pool_disabled"}
    assert types == {0, 1, 2, 3, 5, 7, 8}
