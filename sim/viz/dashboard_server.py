"""The dashboard's server process: `solara run`, with a same-origin check in front of solara's app.

Run as `python -m sim.viz.dashboard_server run <app> --host H --port P ...` (solara's own command line).

Without the check, any web page open in a browser on the workshop network could open a WebSocket to
the dashboard (browsers do not apply the same-origin policy to WebSockets) and drive its models. So a
request that carries an Origin header is served only when that origin is the dashboard's own: the
same scheme and host:port as the request was sent to (its Host header), and a host that is an IP
address, `localhost`, this machine's name or the --host given. The last condition refuses DNS
rebinding, where a foreign name is made to point at this machine so that Origin and Host agree.
A request without an Origin header is served: browsers send one with every WebSocket handshake and
every cross-origin request, so its absence means a non-browser client (curl, a script on this
machine), which the check is not about and which could send any header anyway.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import socket
import sys
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

SCHEMES = {"http": "http", "ws": "http", "https": "https", "wss": "https"}  # a request's scheme -> its page's


def own_names(host: str) -> frozenset[str]:
    """Host names (lower case) under which browsers may legitimately reach this dashboard."""
    names = {"localhost", host.lower().strip("[]"), socket.gethostname().lower(), socket.getfqdn().lower()}
    return frozenset(name for name in names if name)


def is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    return True


def origin_allowed(origin: str, host_header: str | None, scheme: str, names: frozenset[str]) -> bool:
    """Whether a request sent to `scheme://host_header` from a page of `origin` comes from the dashboard."""
    try:
        parts = urlsplit(origin)
        hostname = parts.hostname or ""
    except ValueError:
        return False
    return (
        host_header is not None
        and parts.scheme == SCHEMES.get(scheme)
        and parts.netloc.lower() == host_header.lower()
        and (is_ip(hostname) or hostname in names)
    )


class SameOriginOnly:
    """ASGI middleware: refuse HTTP requests (403) and WebSocket handshakes (closed before acceptance,
    which the server answers with 403) whose Origin header names another site."""

    def __init__(self, app: ASGIApp, names: frozenset[str]) -> None:
        self.app = app
        self.names = names

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            headers = {key.decode("latin-1"): value.decode("latin-1") for key, value in scope["headers"]}
            origin = headers.get("origin")
            if origin is not None and not origin_allowed(origin, headers.get("host"), scope["scheme"], self.names):
                await self.refuse(scope, receive, send)
                return
        await self.app(scope, receive, send)

    @staticmethod
    async def refuse(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await receive()  # websocket.connect
            await send({"type": "websocket.close", "code": 1008})
            return
        body = b"cross-origin request refused\n"
        headers = [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 403, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def main() -> None:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("command")
    parser.add_argument("app")
    parser.add_argument("--host", default="127.0.0.1")
    known, _ = parser.parse_known_args(sys.argv[1:])
    # solara reads the app from here when its server module is first imported, which is now: early, so
    # that the check goes in before the server starts (starlette takes no middleware after that).
    os.environ["SOLARA_APP"] = known.app
    import solara.__main__
    import solara.server.starlette

    solara.server.starlette.app.add_middleware(SameOriginOnly, names=own_names(known.host))
    solara.__main__.main()


if __name__ == "__main__":
    main()
