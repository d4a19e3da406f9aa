"""docs/reliability.md cites tests as proof; a renamed or deleted test must not leave the
matrix claiming coverage it no longer has. Also keeps the printed counts true to the rows."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
DOC = REPO / "docs" / "reliability.md"


def test_every_cited_test_exists() -> None:
    text = DOC.read_text(encoding="utf-8")
    by_name = {p.name: p for p in (REPO / "tests").rglob("test_*.py")}
    missing = []
    cited = list(re.finditer(r"`(?:(tests/[\w/]+\.py)|(test_\w+\.py))::(test_\w+)", text))
    assert len(cited) > 100
    for match in cited:
        path = REPO / match.group(1) if match.group(1) else by_name.get(match.group(2))
        if path is None or not path.exists() or not re.search(
            rf"def {match.group(3)}\b", path.read_text(encoding="utf-8")
        ):
            missing.append(match.group(0))
    for match in re.finditer(r"`(tests/[\w/]+\.py)`", text):
        if not (REPO / match.group(1)).exists():
            missing.append(match.group(1))
    assert not missing, f"docs/reliability.md cites tests that do not exist: {missing}"


def _statuses(section: str, text: str) -> Counter[str]:
    part = text.split(f"## {section}")[1].split("\n## ")[0]
    counts: Counter[str] = Counter()
    for line in part.splitlines():
        if line.startswith("| ") and not line.startswith("| #"):
            status = line.split("|")[3].strip()
            for word in ("n/a", "not covered", "partly", "covered"):
                if status.startswith(word):
                    counts[word] += 1
                    break
            else:
                raise AssertionError(f"row without a status word: {line}")
    return counts


def test_the_counts_match_the_rows() -> None:
    text = DOC.read_text(encoding="utf-8")
    a, b = _statuses("(a) Controls", text), _statuses("(b) Scenarios", text)
    summary = text.split("## Counts")[1]
    assert (f"(a) {sum(a.values())} controls: covered {a['covered']}, partly {a['partly']}"
            in summary.replace("\n  ", " "))
    assert f"not covered {a['not covered']}" in summary and f"n/a {a['n/a']}" in summary
    assert (f"(b) {sum(b.values())} scenarios: covered {b['covered']}, partly {b['partly']}"
            in summary.replace("\n  ", " "))
