"""The Docker restart path: the real ``docker`` SDK against a fake Engine API on loopback."""

from __future__ import annotations

import pytest

from catalyst_ibkr.service.watchdog import DockerRestarter
from catalyst_ibkr.service.watchdog.docker_restart import docker_base_url
from ops_receivers import fake_docker_engine


async def test_restart_addresses_the_container_by_name_only() -> None:
    restarted: list[bool] = []
    engine = fake_docker_engine("catalyst-ibeam", on_restart=lambda: restarted.append(True))
    await engine.start()
    try:
        result = await DockerRestarter(engine.url, "catalyst-ibeam", stop_timeout_s=7).restart()
    finally:
        await engine.stop()
    assert result.ok, result.detail
    assert restarted == [True]
    posts = [c for c in engine.calls if c.method == "POST"]
    assert len(posts) == 1
    assert posts[0].path.endswith("/containers/catalyst-ibeam/restart")
    assert posts[0].query.get("t") == "7"
    # nothing but the version probe and the restart: what the socket proxy allows
    assert {c.path.rsplit("/", 1)[-1] for c in engine.calls} <= {"version", "restart"}


async def test_a_refused_or_unknown_container_is_a_failed_step_not_a_crash() -> None:
    engine = await fake_docker_engine("catalyst-ibeam").start()
    try:
        result = await DockerRestarter(engine.url, "someone-else").restart()
    finally:
        await engine.stop()
    assert not result.ok
    assert "someone-else" in result.detail and "HTTP 403" in result.detail


async def test_unreachable_proxy_is_a_failed_step() -> None:
    engine = await fake_docker_engine("catalyst-ibeam").start()
    url = engine.url
    await engine.stop()
    result = await DockerRestarter(url, "catalyst-ibeam", timeout_s=3).restart()
    assert not result.ok and "failed" in result.detail


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://docker-proxy:2375", ("tcp://docker-proxy:2375", False)),
        ("https://docker-proxy", ("tcp://docker-proxy:2376", True)),
    ],
)
def test_proxy_url_becomes_the_sdk_base_url(url: str, expected: tuple[str, bool]) -> None:
    assert docker_base_url(url) == expected


def test_unix_socket_urls_are_refused() -> None:
    with pytest.raises(ValueError, match="http"):
        docker_base_url("unix:///var/run/docker.sock")
