"""docs/core.md must show the transition table the code actually uses."""

from __future__ import annotations

import re
from pathlib import Path

from catalyst_ibkr.core.order_fsm import TRANSITIONS

DOC = Path(__file__).resolve().parents[3] / "docs" / "core.md"
ROW = re.compile(r"^\| ([A-Z_]+) \| ([A-Z_]+) \| ([A-Z_]+) \|", re.MULTILINE)


def test_documented_transition_table_equals_the_code() -> None:
    documented = {(a, b, c) for a, b, c in ROW.findall(DOC.read_text(encoding="utf-8"))}
    in_code = {(s.value, t.value, n.value) for (s, t), n in TRANSITIONS.items()}
    assert documented == in_code, {
        "missing from docs/core.md": sorted(in_code - documented),
        "only in docs/core.md": sorted(documented - in_code),
    }
