"""deploy/: the compose file, the gateway's conf.yaml, .env.example, the Dockerfile and the
service's TOML, parsed and checked against what docs/deploy.md and the watchdog rely on.

Docker cannot run here; these checks are what can be verified without it.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from catalyst_ibkr.config.loader import load_settings

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"
SEED_NAMES = (
    "IBEAM_ACCOUNT",
    "IBEAM_PASSWORD",
    "IBEAM_GATEWAY_BASE_URL",
    "IBEAM_LOG_LEVEL",
    "IBEAM_REQUEST_RETRIES",
    "IBEAM_REQUEST_TIMEOUT",
    "IBEAM_PAGE_LOAD_TIMEOUT",
    "IBEAM_TWO_FA_HANDLER",
)
SECRET = re.compile(r"PASSWORD|_KEY$|SECRET|TOKEN|WEBHOOK|USERID|^IBEAM_ACCOUNT$")
VAR = re.compile(r"\$\{([A-Z0-9_]+)(:?[-?+])?([^}]*)\}")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    return data


def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    result: dict[str, dict[str, Any]] = compose["services"]
    return result


def by_image(compose: dict[str, Any], fragment: str) -> list[str]:
    return [n for n, s in services(compose).items() if fragment in str(s.get("image", ""))]


def test_the_stack_has_ibeam_service_postgres_and_socket_proxy(compose: dict[str, Any]) -> None:
    svc = services(compose)
    assert by_image(compose, "voyzdev/ibeam") == ["ibeam"]
    assert svc["catalyst"]["build"]["dockerfile"] == "deploy/Dockerfile"
    assert by_image(compose, "postgres:")
    assert by_image(compose, "socket-proxy")
    for name in ("ibeam", "catalyst", "postgres", "docker-proxy"):
        assert "profiles" not in svc[name], f"{name} must run without a profile"


def test_a_profile_runs_ib_gateway_for_the_socket_backend(compose: dict[str, Any]) -> None:
    gateways = by_image(compose, "gnzsnz/ib-gateway") + by_image(compose, "heshiming/ibga")
    assert gateways
    svc = services(compose)
    for name in gateways:
        assert svc[name].get("profiles"), "IB Gateway runs only in its profile"
    tws_services = [
        n for n, s in svc.items() if "tws://" in " ".join(map(str, s.get("command", [])))
    ]
    assert tws_services and all(svc[n].get("profiles") for n in tws_services)


def test_every_service_in_every_profile_has_a_healthcheck(compose: dict[str, Any]) -> None:
    for name, service in services(compose).items():
        check = service.get("healthcheck")
        assert check and check.get("test"), f"{name} has no healthcheck"
        assert not check.get("disable"), f"{name} disables its healthcheck"


def test_only_the_socket_proxy_mounts_the_docker_socket(compose: dict[str, Any]) -> None:
    for name, service in services(compose).items():
        mounts = " ".join(map(str, service.get("volumes", [])))
        if "docker.sock" in mounts:
            assert "socket-proxy" in service["image"], f"{name} must not mount the Docker socket"
            assert all(":ro" in m for m in service["volumes"] if "docker.sock" in m)
    assert "docker.sock" not in str(services(compose)["catalyst"])


def test_the_proxy_allows_only_restarting_the_ibeam_container(compose: dict[str, Any]) -> None:
    (proxy_name,) = by_image(compose, "socket-proxy")
    proxy = services(compose)[proxy_name]
    allows = [f for f in proxy["command"] if f.startswith("-allow") and "=" in f]
    verbs = {f.split("=", 1)[0] for f in allows}
    assert verbs <= {"-allowGET", "-allowPOST", "-allowfrom"}
    ibeam = services(compose)["ibeam"]["container_name"]
    posts = [f.split("=", 1)[1] for f in allows if f.startswith("-allowPOST")]
    assert posts == [rf"/v1\.[0-9]{{1,2}}/containers/{ibeam}/restart"]
    gets = [f.split("=", 1)[1] for f in allows if f.startswith("-allowGET")]
    for pattern in gets:
        assert re.fullmatch(pattern, "/v1.47/version")
        assert not re.fullmatch(pattern, f"/v1.47/containers/{ibeam}/json")
    assert re.fullmatch(posts[0], f"/v1.47/containers/{ibeam}/restart")
    assert not re.fullmatch(posts[0], "/v1.47/containers/catalyst-postgres/restart")
    allow_from = [f.split("=", 1)[1] for f in allows if f.startswith("-allowfrom")]
    assert allow_from == [services(compose)["catalyst"]["container_name"]]
    # the proxy is reachable only on an internal network it shares with the service
    networks = set(proxy["networks"])
    assert all(compose["networks"][n].get("internal") for n in networks)
    assert networks <= set(services(compose)["catalyst"]["networks"])


def compose_text() -> str:
    """The compose file without its comments (which mention ${VAR:?...} as an example)."""
    lines = (DEPLOY / "docker-compose.yml").read_text().splitlines()
    return "\n".join(line for line in lines if not line.lstrip().startswith("#"))


def compose_subnet(compose: dict[str, Any]) -> ipaddress.IPv4Network:
    subnet = compose["networks"]["catalyst"]["ipam"]["config"][0]["subnet"]
    return ipaddress.IPv4Network(subnet)


def test_gateway_allow_list_is_the_compose_network_only(compose: dict[str, Any]) -> None:
    conf = yaml.safe_load((DEPLOY / "ibeam" / "conf.yaml").read_text())
    allowed = conf["ips"]["allow"]
    assert allowed
    subnet = compose_subnet(compose)
    for entry in allowed:
        assert not str(entry).startswith("192."), "the sample's 192.* is far too broad"
        if entry == "127.0.0.1":
            continue
        prefix = str(entry).rstrip("*").rstrip(".")
        network = ipaddress.IPv4Network(prefix + ".0" * (4 - len(prefix.split("."))) + "/" +
                                        str(8 * len(prefix.split("."))))
        assert network.subnet_of(subnet), f"{entry} is outside {subnet}"
    mount = " ".join(services(compose)["ibeam"]["volumes"])
    assert "./ibeam:/srv/inputs" in mount


def test_secrets_are_required_and_have_no_default(compose: dict[str, Any]) -> None:
    text = compose_text()
    secret_refs = [m for m in VAR.finditer(text) if SECRET.search(m.group(1))]
    assert {m.group(1) for m in secret_refs} >= {
        "IBEAM_ACCOUNT", "IBEAM_PASSWORD", "CATALYST_API_KEY", "CATALYST_ADMIN_KEY",
        "POSTGRES_PASSWORD", "CATALYST_ALERTS_WEBHOOK_URL",
    }
    for match in secret_refs:
        assert match.group(2) == ":?", f"{match.group(0)} must be required (${{NAME:?msg}})"
    for name, service in services(compose).items():
        for key, value in (service.get("environment") or {}).items():
            if SECRET.search(key) and not key.endswith("_FILE"):
                assert "${" in str(value), f"{name}: {key} is written into the compose file"
    assert "env_file" not in services(compose)["catalyst"], "IBeam's password stays with IBeam"


def test_env_example_has_the_seed_names_and_no_secret_values() -> None:
    lines = (DEPLOY / ".env.example").read_text().splitlines()
    values = dict(
        line.split("=", 1) for line in lines if line and not line.startswith("#") and "=" in line
    )
    for name in SEED_NAMES:
        assert name in values, f".env.example lacks the seed's {name}"
    for name, value in values.items():
        if SECRET.search(name):
            assert value == "", f"{name} must be empty in the example"
    assert values["IBEAM_TWO_FA_HANDLER"] == "IB_KEY"
    assert values["CATALYST_GATEWAY_MODE"] == "paper"


def test_env_example_covers_every_variable_compose_needs(compose: dict[str, Any]) -> None:
    text = compose_text()
    needed = {m.group(1) for m in VAR.finditer(text) if m.group(2) == ":?"}
    example = (DEPLOY / ".env.example").read_text()
    missing = [name for name in needed if not re.search(rf"^{name}=", example, re.M)]
    assert not missing


@pytest.mark.shared
def test_env_example_names_match_the_seed_plan(shared_dir: Path) -> None:
    seed = (shared_dir / "seed" / "ibeam-plan.md").read_text()
    block = seed.split("Create `/opt/catalyst/ibeam/.env`", 1)[1].split("```", 2)[1]
    seed_names = set(re.findall(r"^([A-Z_]+)=", block, re.M))
    example = (DEPLOY / ".env.example").read_text()
    assert seed_names and all(re.search(rf"^{n}=", example, re.M) for n in seed_names)


def test_dockerfile_is_multi_stage_non_root_and_installs_the_repo() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    assert len(re.findall(r"^FROM ", text, re.M)) >= 2
    assert re.search(r"-slim", text)
    users = re.findall(r"^USER (\S+)", text, re.M)
    assert users and users[-1].split(":")[0] not in ("0", "root")
    assert re.search(r"pip install \"\.\[postgres\]\"", text)
    assert "COPY src" in text and "docker.sock" not in text
    assert "HEALTHCHECK" in text


def test_service_config_loads_and_matches_the_compose_wiring(compose: dict[str, Any]) -> None:
    env = {
        "CATALYST_API_KEY": "k" * 32,
        "CATALYST_ADMIN_KEY": "a" * 32,
        "CATALYST_GATEWAY_ACCOUNT": "DU1234567",
        "CATALYST_ALERTS_WEBHOOK_URL": "https://hooks.example.com/T/B/X",
        "CATALYST_DB_URL": "postgresql+psycopg://catalyst:pw@postgres:5432/catalyst",
    }
    text = (DEPLOY / "catalyst-ibkr.toml").read_text()
    loaded = load_settings(text, env, path=DEPLOY / "catalyst-ibkr.toml")
    settings = loaded.settings
    wd = settings.watchdog
    svc = services(compose)
    assert wd.docker_restart and wd.docker_container == svc["ibeam"]["container_name"]
    assert wd.docker_url == "http://docker-proxy:2375"
    assert wd.ibeam_health_url == "http://ibeam:5001"
    assert svc["ibeam"]["environment"]["IBEAM_HEALTH_SERVER_PORT"] == "5001"
    assert settings.gateway.mode == "paper"
    assert settings.alerts.webhook_url is not None
    assert "B/X" not in str(settings.alerts.webhook_url)  # masked
