"""The dashboard serves only its own pages' requests: a WebSocket or HTTP request whose Origin header
names another site (or a foreign name made to point here) is refused; its own origin, under any of
this machine's local names, and clients that send no Origin (not browsers) are served."""

import http.client
import sys
import uuid
from pathlib import Path

import pytest

from sim.viz.dashboard_server import origin_allowed, own_names

from .helpers import SCENARIOS, running_dashboard

SIM = str(Path(sys.executable).with_name("sim"))
NAMES = own_names("127.0.0.1")


@pytest.mark.parametrize(
    "origin, host, scheme, allowed",
    [
        ("http://127.0.0.1:8765", "127.0.0.1:8765", "ws", True),
        ("http://localhost:8765", "localhost:8765", "ws", True),
        ("http://[::1]:8765", "[::1]:8765", "http", True),
        ("http://192.168.1.5:8765", "192.168.1.5:8765", "ws", True),  # served on the network (--host 0.0.0.0)
        ("http://evil.example", "127.0.0.1:8765", "ws", False),
        ("http://evil.example:8765", "evil.example:8765", "ws", False),  # DNS rebinding: Origin and Host agree
        ("http://127.0.0.1:9999", "127.0.0.1:8765", "ws", False),  # another local server's page
        ("https://127.0.0.1:8765", "127.0.0.1:8765", "ws", False),
        ("http://localhost:8765", "127.0.0.1:8765", "http", False),
        ("null", "127.0.0.1:8765", "ws", False),  # sandboxed frames, file:// pages
        ("http://127.0.0.1:8765", None, "ws", False),
    ],
)
def test_origin_allowed(origin, host, scheme, allowed):
    assert origin_allowed(origin, host, scheme, NAMES) is allowed


def test_the_host_given_counts_as_one_of_the_dashboards_names():
    assert origin_allowed("http://workshop.lan:80", "workshop.lan:80", "ws", own_names("workshop.lan"))
    assert not origin_allowed("http://workshop.lan:80", "workshop.lan:80", "ws", own_names("0.0.0.0"))


@pytest.fixture(scope="module")
def dashboard_port(tmp_path_factory):
    with running_dashboard(SCENARIOS / "china_ban.yaml", tmp_path_factory.mktemp("dashboard") / "server.log") as port:
        yield port


def open_websocket(host: str, port: int, origin: str | None) -> str:
    """'accepted', or the HTTP status the handshake was refused with."""
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    url = f"ws://{host}:{port}/jupyter/api/kernels/{uuid.uuid4()}/channels?session_id={uuid.uuid4()}"
    try:
        with connect(url, origin=origin, open_timeout=30):
            return "accepted"
    except InvalidStatus as exc:
        return str(exc.response.status_code)


def post(port: int, headers: dict[str, str]) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("POST", f"/_solara/api/close/{uuid.uuid4()}?session_id=x", headers=headers)
        return connection.getresponse().status
    finally:
        connection.close()


@pytest.mark.slow
def test_a_websocket_from_another_sites_page_is_refused(dashboard_port):
    assert open_websocket("127.0.0.1", dashboard_port, "http://evil.example") == "403"
    assert open_websocket("127.0.0.1", dashboard_port, f"http://evil.example:{dashboard_port}") == "403"
    assert open_websocket("127.0.0.1", dashboard_port, f"http://127.0.0.1:{dashboard_port + 1}") == "403"


@pytest.mark.slow
def test_a_websocket_from_the_dashboards_own_page_is_accepted(dashboard_port):
    assert open_websocket("127.0.0.1", dashboard_port, f"http://127.0.0.1:{dashboard_port}") == "accepted"
    assert open_websocket("localhost", dashboard_port, f"http://localhost:{dashboard_port}") == "accepted"
    assert open_websocket("127.0.0.1", dashboard_port, None) == "accepted"  # not a browser


@pytest.mark.slow
def test_http_requests_from_another_site_are_refused(dashboard_port):
    own = f"127.0.0.1:{dashboard_port}"
    assert post(dashboard_port, {"Origin": "http://evil.example"}) == 403
    rebound = f"evil.example:{dashboard_port}"
    assert post(dashboard_port, {"Origin": f"http://{rebound}", "Host": rebound}) == 403
    assert post(dashboard_port, {"Origin": f"http://{own}"}) == 200
    assert post(dashboard_port, {}) == 200
