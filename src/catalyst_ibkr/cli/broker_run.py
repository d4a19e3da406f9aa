"""Running one broker command from the CLI: settings -> broker -> action -> exit code.

Why one place: every command must map failures to the same exit codes (interfaces.md) and
print the same kind of message, so a script can rely on them:

- ``OutcomeUnknown``      -> 3, with the cOID and the command that looks it up;
- ``BrokerUnavailable`` and every Web API transport/session/pacing error -> 4;
- an unknown or ambiguous symbol, a malformed URL or certificate option -> 2;
- ``Rejected`` outcomes are the commands' own business (exit 1 with IBKR's reason).

``--insecure`` warnings go through ``Output.warn`` (stderr), every time a command runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, NoReturn, TypeVar

import typer

from catalyst_ibkr.adapters.factory import make_broker
from catalyst_ibkr.adapters.webapi import errors as web
from catalyst_ibkr.adapters.webapi.broker import WebApiBroker
from catalyst_ibkr.adapters.webapi.contracts import AmbiguousSymbol
from catalyst_ibkr.adapters.webapi.orders import QuestionRecord
from catalyst_ibkr.cli.context import load_cli_settings, resolve_account, resolve_gateway
from catalyst_ibkr.cli.exit_codes import ExitCode
from catalyst_ibkr.cli.output import Output
from catalyst_ibkr.config.errors import ConfigError
from catalyst_ibkr.config.settings import LoadedSettings
from catalyst_ibkr.core.errors import InvalidInput
from catalyst_ibkr.ports.broker import (
    Broker,
    BrokerError,
    BrokerUnavailable,
    InstrumentNotFound,
    OutcomeUnknown,
)

__all__ = ["BrokerCommand", "broker_command", "lookup_hint"]

T = TypeVar("T")


def lookup_hint(coid: str | None) -> str:
    """The command that finds an order whose outcome is unknown."""
    if coid:
        return f"catalyst-ibkr orders --coid {coid}"
    return "catalyst-ibkr orders"


@dataclass
class BrokerCommand:
    """What a command needs: output, settings, gateway, account, and a way to run."""

    ctx: typer.Context
    out: Output
    loaded: LoadedSettings
    gateway: str
    account: str | None
    insecure: bool
    client_id: int
    questions: list[QuestionRecord]
    #: set by an order command just before it sends: an interrupt after that is exit 3
    pending_coid: str | None = None

    def run(
        self,
        action: Callable[[Broker], Awaitable[T]],
        *,
        start: bool = True,
    ) -> T:
        """Build the broker, run ``action`` on it, close it; map failures to exit codes."""
        try:
            return asyncio.run(self._run(action, start=start))
        except typer.Exit:
            raise
        except KeyboardInterrupt:
            if self.pending_coid is not None:
                self.out.fail(
                    ExitCode.OUTCOME_UNKNOWN,
                    f"interrupted while order {self.pending_coid} was being sent; it may or "
                    f"may not be at IBKR. Look it up with: {lookup_hint(self.pending_coid)}",
                    details={"cOID": self.pending_coid,
                             "lookup": lookup_hint(self.pending_coid)},
                )
            self.out.fail(ExitCode.REJECTED, "interrupted; nothing was sent")
        except OutcomeUnknown as exc:
            coid = str(exc.client_order_id) if exc.client_order_id else None
            self.out.fail(
                ExitCode.OUTCOME_UNKNOWN,
                f"{exc.detail}\nIt was NOT resent. Look it up with: {lookup_hint(coid)}",
                details={"cOID": coid, "lookup": lookup_hint(coid)},
            )
        except (InstrumentNotFound, AmbiguousSymbol, InvalidInput) as exc:
            self.out.fail(ExitCode.USAGE_OR_CONFIG, f"{exc}. Nothing was sent.")
        except web.TlsError as exc:
            # a --ca file that does not exist is the user's to fix, not the gateway's
            bad_option = exc.message.startswith("--ca ")
            self.out.fail(ExitCode.USAGE_OR_CONFIG if bad_option
                          else ExitCode.GATEWAY_UNAVAILABLE, str(exc))
        except (BrokerUnavailable, web.WebApiError) as exc:
            self.out.fail(ExitCode.GATEWAY_UNAVAILABLE, str(exc))
        except BrokerError as exc:
            self.out.fail(ExitCode.GATEWAY_UNAVAILABLE, str(exc))
        except ValueError as exc:
            self.out.fail(ExitCode.USAGE_OR_CONFIG, f"{exc}. Nothing was sent.")

    async def _run(self, action: Callable[[Broker], Awaitable[T]], *, start: bool) -> T:
        broker = make_broker(
            self.gateway, self.loaded.settings, account=self.account,
            client_id=self.client_id, insecure=self.insecure, warn=self.out.warn,
            on_question=self.questions.append,
        )
        try:
            if isinstance(broker, WebApiBroker):
                if start:  # without: the keeper's tickle answers status on its own
                    await broker.start(keepalive=False, stream=False)
            else:  # a socket backend knows nothing until it is connected
                starter: Any = getattr(broker, "start", None)
                if starter is not None:
                    await starter()
            return await action(broker)
        finally:
            closer: Any = getattr(broker, "close", None)
            if closer is not None:
                await closer()

    def fail(self, code: ExitCode, message: str, **details: Any) -> NoReturn:
        self.out.fail(code, message, details=details or None)


def broker_command(ctx: typer.Context) -> BrokerCommand:
    """Settings and gateway for a broker command (exit 2 on a bad config or flag)."""
    from catalyst_ibkr.cli.main import GlobalOptions

    options = ctx.obj if isinstance(ctx.obj, GlobalOptions) else None
    if options is None:  # a command invoked without the root callback (tests of one command)
        options = GlobalOptions(None, None, False, False, None, None, 1)
    out = Output(options.json)
    loaded = load_cli_settings(options, out, ctx=ctx)
    try:
        gateway = resolve_gateway(options, loaded).url
    except ConfigError as exc:
        out.fail(ExitCode.USAGE_OR_CONFIG, f"invalid configuration:\n{exc}")
    return BrokerCommand(
        ctx=ctx, out=out, loaded=loaded, gateway=gateway,
        account=resolve_account(options, loaded), insecure=options.insecure,
        client_id=loaded.settings.gateway.client_id, questions=[],
    )
