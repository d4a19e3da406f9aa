"""``catalyst-ibkr kill``: the kill switch, through the running service's admin API.

HALTED, cancel every working order, verify by reconciliation that none remain
(reliability (a) 21-22). It goes through the service rather than to IBKR directly so the
halt is journaled and persists, and the service's single writer stays the only one that
changes orders. Exit codes (interfaces.md): 0 verified; 1 IBKR refused the cancel;
2 usage (no admin key, not confirmed without a terminal); 3 not verified or the answer was
lost (the halt may be in place: check `GET /v1/risk` and `/v1/orders`); 4 service unreachable.
"""

from __future__ import annotations

import os
from typing import Annotated, Any

import httpx
import typer

from catalyst_ibkr.cli.confirm import YesOption, confirm_or_exit
from catalyst_ibkr.cli.context import load_cli_settings
from catalyst_ibkr.cli.exit_codes import ExitCode
from catalyst_ibkr.cli.main import GlobalOptions, app
from catalyst_ibkr.cli.output import Output

__all__ = ["kill_command"]

#: Cancel all plus verification by reconciliation can take the in-doubt budget (30 s).
KILL_TIMEOUT_S = 90.0


def _default_service_url(host: str, port: int) -> str:
    # A wildcard bind is reachable on loopback; any other address is used as configured.
    reach = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    if ":" in reach and not reach.startswith("["):
        reach = f"[{reach}]"
    return f"http://{reach}:{port}"


def _report(out: Output, report: dict[str, Any]) -> None:
    if out.json_mode:
        out.result(report)
        return
    out.line(f"trading state: {report.get('trading_state')}")
    out.line(f"cancel all:    {report.get('cancel_status')}")
    verified = "yes, no working order remains" if report.get("verified") else "NO"
    out.line(f"verified:      {verified}")
    remaining = report.get("remaining") or []
    if remaining:
        out.table(["order_ref", "symbol", "side", "quantity", "status"],
                  [[o.get("order_ref"), o.get("symbol"), o.get("side"), o.get("quantity"),
                    o.get("status")] for o in remaining], title="still working")
    if report.get("detail"):
        out.line(str(report["detail"]))


@app.command("kill")
def kill_command(
    ctx: typer.Context,
    yes: YesOption = False,
    service: Annotated[str | None, typer.Option(
        "--service", help="The service's URL (default: from [service] host/port).")] = None,
) -> None:
    """HALT trading, cancel every working order and verify none remain (via the service)."""
    options: GlobalOptions = ctx.obj
    out = Output(options.json)
    settings = load_cli_settings(options, out, ctx=ctx).settings
    url = service or _default_service_url(settings.service.host, settings.service.port)
    key = settings.service.admin_key
    headers = {"Authorization": f"Bearer {key.get_secret_value()}"} if key else {}
    confirm_or_exit(f"HALT trading and cancel every working order through {url}?",
                    yes=yes, out=out)
    try:
        with httpx.Client(base_url=url, timeout=KILL_TIMEOUT_S, trust_env=False) as client:
            response = client.post("/v1/kill", headers=headers)
    except httpx.TimeoutException:
        out.fail(ExitCode.OUTCOME_UNKNOWN,
                 f"no answer from {url} within {KILL_TIMEOUT_S:.0f} s; the halt may be in place. "
                 f"Check: curl {url}/v1/risk and {url}/v1/orders?open_only=true")
    except httpx.HTTPError as exc:
        out.fail(ExitCode.GATEWAY_UNAVAILABLE,
                 f"cannot reach the service at {url} ({type(exc).__name__}); is "
                 "`catalyst-ibkr serve` running? (--service URL to name another)")
    if response.status_code in (401, 403):
        hint = "set CATALYST_ADMIN_KEY to the service's admin key" if not os.environ.get(
            "CATALYST_ADMIN_KEY") else "CATALYST_ADMIN_KEY is not this service's admin key"
        out.fail(ExitCode.USAGE_OR_CONFIG, f"the service refused the kill: {hint}")
    if response.status_code != 200:
        out.fail(ExitCode.OUTCOME_UNKNOWN,
                 f"the service answered HTTP {response.status_code}; the halt may be in place. "
                 f"Check: curl {url}/v1/risk")
    report: dict[str, Any] = response.json()
    _report(out, report)
    if report.get("cancel_status") == "REJECTED":
        raise typer.Exit(int(ExitCode.REJECTED))
    if not report.get("verified"):
        out.error("not verified: working orders may remain; the service stays HALTED and keeps "
                  "reconciling. Run kill again or check /v1/orders?open_only=true")
        raise typer.Exit(int(ExitCode.OUTCOME_UNKNOWN))
