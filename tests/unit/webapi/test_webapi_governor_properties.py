"""Property: whatever the workload, the governor's sends pass the simulator's pacing rules.

The simulator's ``Pacer`` is an independent implementation of cpapi.md §7 (sliding
windows counted on arrival); replaying our grant times into it must never produce a 429.
"""

from __future__ import annotations

import asyncio

from hypothesis import given, settings
from hypothesis import strategies as st
from webapi_fakes import FakeClock

from catalyst_ibkr.adapters.webapi.pacing import PacingGovernor, Priority
from catalyst_ibkr.adapters.webapi.pacing_store import MemoryPacingStore, PacingState
from ibkr_sim.pacing import Pacer

REQUESTS = [
    ("GET", "/v1/api/iserver/accounts", Priority.ACCOUNT),
    ("GET", "/v1/api/iserver/marketdata/snapshot", Priority.MARKET_DATA),
    ("GET", "/v1/api/iserver/account/orders", Priority.ACCOUNT),
    ("GET", "/v1/api/iserver/account/trades", Priority.ACCOUNT),
    ("GET", "/v1/api/portfolio/accounts", Priority.ACCOUNT),
    ("POST", "/v1/api/tickle", Priority.ACCOUNT),
    ("POST", "/v1/api/iserver/account/DU1/orders", Priority.ORDER),
    ("DELETE", "/v1/api/iserver/account/DU1/order/7", Priority.CANCEL),
    ("GET", "/v1/api/sso/validate", Priority.ACCOUNT),
]

#: (start delay, which request, how many copies at once): bursts are where limits break
workloads = st.lists(
    st.tuples(
        st.one_of(st.sampled_from([0.0, 0.0, 0.01, 0.5, 1.0]), st.floats(0, 3)),
        st.integers(0, len(REQUESTS) - 1),
        st.integers(1, 15),
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=40, deadline=None)
@given(workload=workloads, fresh=st.booleans(), scale=st.sampled_from([1.0, 20.0]))
def test_grants_never_trip_the_simulators_pacer(
    workload: list[tuple[float, int, int]], fresh: bool, scale: float
) -> None:
    clock = FakeClock()
    store = MemoryPacingStore()
    if not fresh:
        store.state = PacingState(origin=clock.now - 3600)
    gov = PacingGovernor(store, clock=clock, time_scale=scale)
    granted: list[tuple[float, str, str]] = []

    async def one(delay: float, index: int) -> None:
        await clock.sleep(delay)
        method, path, prio = REQUESTS[index]
        await gov.acquire(method, path, prio)
        granted.append((clock.now, method, path))

    async def main() -> None:
        await clock.run(*(one(d, i) for d, i, n in workload for _ in range(n)))

    asyncio.run(main())
    assert len(granted) == sum(n for _, _, n in workload)
    sim_time = 0.0
    # the sim's windows are IBKR seconds; at time_scale F its clock runs F times faster
    pacer = Pacer(lambda: sim_time, penalty_s=900.0)
    for when, method, path in sorted(granted):
        sim_time = (when - clock.now) * scale
        decision = pacer.check("127.0.0.1", method, path.removeprefix("/v1/api"))
        assert decision.allowed, (decision, method, path)
