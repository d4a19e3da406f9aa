"""Status mapping tables: every known IBKR word maps, unknown words raise, variants agree."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from core_builders import T0, sent_order

from catalyst_ibkr.core.errors import UnknownBrokerStatus
from catalyst_ibkr.core.order_fsm import OrderStatus
from catalyst_ibkr.core.status_maps import (
    CLIENT_PORTAL_CCP_STATUS,
    CLIENT_PORTAL_STATUS,
    TWS_STATUS,
    map_client_portal_status,
    map_tws_status,
)

S = OrderStatus


@pytest.mark.parametrize(
    ("status", "ccp", "expected"),
    [
        ("Inactive", "Pending Submit", S.PENDING_SUBMIT),  # first sor frame of a new order
        ("PendingSubmit", None, S.PENDING_SUBMIT),
        ("PreSubmitted", None, S.SUBMITTED),
        ("Submitted", "Submitted", S.SUBMITTED),
        ("PendingCancel", None, S.PENDING_CANCEL),
        ("PreCancelled", None, S.PENDING_CANCEL),
        ("Cancelled", "Cancelled", S.CANCELLED),
        ("Filled", "Filled", S.FILLED),
        ("Filled", "2", S.FILLED),  # /order/status pairs the word with a code
        ("Inactive", None, S.REJECTED),
        ("Inactive", "Inactive", S.REJECTED),
        ("WarnState", None, S.SUBMITTED),
        ("pending_submit", None, S.PENDING_SUBMIT),  # orders-list filter spelling
        ("Pending Cancel", None, S.PENDING_CANCEL),
        (None, "Pending Submit", S.PENDING_SUBMIT),  # only the ccp field present
        (None, "4", S.CANCELLED),
        ("SomethingNew", "Filled", S.FILLED),  # unknown word, known ccp: the ccp decides
    ],
)
def test_client_portal_mapping(status: str | None, ccp: str | None, expected: OrderStatus) -> None:
    assert map_client_portal_status(status, ccp) is expected


@pytest.mark.parametrize(("status", "ccp"), [("Exploded", None), (None, None), ("", "zz")])
def test_client_portal_unknown_raises_with_the_raw_value(
    status: str | None, ccp: str | None
) -> None:
    with pytest.raises(UnknownBrokerStatus) as info:
        map_client_portal_status(status, ccp)
    assert info.value.api == "Client Portal"
    assert "left unchanged" in str(info.value)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("ApiPending", S.PENDING_SUBMIT),
        ("PendingSubmit", S.PENDING_SUBMIT),
        ("PendingCancel", S.PENDING_CANCEL),
        ("PreSubmitted", S.SUBMITTED),
        ("Submitted", S.SUBMITTED),
        ("ApiCancelled", S.CANCELLED),
        ("Cancelled", S.CANCELLED),
        ("Filled", S.FILLED),
        ("Inactive", S.REJECTED),
        ("ApiUpdate", S.SUBMITTED),
        ("ValidationError", S.SUBMITTED),
    ],
)
def test_tws_mapping(status: str, expected: OrderStatus) -> None:
    assert map_tws_status(status) is expected


@pytest.mark.parametrize("status", ["", "filled", "Unknown", "PreCancelled"])
def test_tws_unknown_raises(status: str) -> None:
    with pytest.raises(UnknownBrokerStatus, match="TWS"):
        map_tws_status(status)


def test_every_mapped_status_is_one_an_order_can_take_as_a_report() -> None:
    targets = (
        set(CLIENT_PORTAL_STATUS.values())
        | set(CLIENT_PORTAL_CCP_STATUS.values())
        | set(TWS_STATUS.values())
    )
    for target in targets:
        order = sent_order()
        order.apply_status_report(target, T0, str(target))  # must not raise ValueError


def test_words_shared_by_both_apis_map_alike() -> None:
    from catalyst_ibkr.core.status_maps import normalize_status_word

    for word, status in TWS_STATUS.items():
        key = normalize_status_word(word)
        if key in CLIENT_PORTAL_STATUS:
            assert CLIENT_PORTAL_STATUS[key] is status, word


def test_the_observed_cp_sequence_walks_an_order_to_cancelled() -> None:
    order = sent_order()
    frames = [
        ("Inactive", "Pending Submit"),
        ("PendingSubmit", None),
        ("PreSubmitted", None),
        ("Submitted", "Submitted"),
        ("PendingCancel", None),
        ("Cancelled", "Cancelled"),
    ]
    for status, ccp in frames:
        order.apply_status_report(map_client_portal_status(status, ccp), T0, status)
    assert order.status is S.CANCELLED
    assert order.broker_status == "Cancelled"


@pytest.mark.shared
def test_every_status_value_in_the_cp_notes_is_mapped(shared_dir: Path) -> None:
    notes = (shared_dir / "ibkr" / "cpapi.md").read_text(encoding="utf-8")
    match = re.search(r"### 6\.6 Order status values.*?\n`([^`]+)`", notes)
    if match is None:
        pytest.skip("cpapi.md has no '6.6 Order status values' list to compare against")
    words = [w.strip() for w in match.group(1).split(",")]
    assert len(words) >= 5
    for word in words:
        map_client_portal_status(word)  # raises UnknownBrokerStatus if a listed word is missing
