"""The user's own seed client (../shared/seed/ibeam-plan.md), run UNMODIFIED against the sim.

The ``IBKRClient`` class and the ``test_paper_trade.py`` flow are extracted from the markdown
at test time; the only change is the base URL.  It runs in a child process, so its own
``urllib3.disable_warnings`` and ``verify=False`` (the user's code, not ours) cannot leak into
other tests.  ``requests`` lets ``REQUESTS_CA_BUNDLE`` override a session's ``verify=False``
(a known requests quirk); we point that variable at the simulator's certificate, so the
connection is in fact verified against the sim's CA rather than against nothing.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from sim_fixtures import RunningSim


def _block(markdown: str, first_line: str) -> str:
    for match in re.finditer(r"```python\n(.*?)```", markdown, re.S):
        if match.group(1).lstrip().startswith(first_line):
            return match.group(1)
    raise AssertionError(f"no python block starting with {first_line!r} in the seed plan")


@pytest.mark.shared
def test_seed_paper_trade_flow_places_and_confirms_an_order(
    sim: RunningSim, shared_dir: Path, tmp_path: Path
) -> None:
    plan = (shared_dir / "seed" / "ibeam-plan.md").read_text("utf-8")
    client_code = _block(plan, "# /opt/catalyst/services/ibkr_client/ibkr_client.py")
    flow = _block(plan, "# test_paper_trade.py")
    assert 'IBKRClient("https://localhost:5000")' in flow
    (tmp_path / "ibkr_client.py").write_text(client_code, "utf-8")
    (tmp_path / "test_paper_trade.py").write_text(
        flow.replace("https://localhost:5000", sim.base_url), "utf-8"
    )
    env = {k: v for k, v in os.environ.items() if k != "CURL_CA_BUNDLE"}
    env["REQUESTS_CA_BUNDLE"] = str(sim.ca_file)
    result = subprocess.run(
        [sys.executable, "test_paper_trade.py"], cwd=tmp_path, capture_output=True, text=True,
        timeout=60, env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "Account: DU1234567" in out and "AAPL conid: 265598" in out
    assert re.search(r"Confirmation: \[\{'order_id': '\d+', 'order_status': '\w+'", out), out
    orders = sim.state()["orders"]
    assert len(orders) == 1 and orders[0]["conid"] == 265598 and orders[0]["side"] == "BUY"
    assert orders[0]["status"] == "Filled"
