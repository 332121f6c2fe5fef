"""The local cloud's host-root proxy: what reaches MiniStack names the custom domain as Host (so MiniStack routes
it through the base path mapping) and the address the client used (so links point back to it); bodies and
answers pass unchanged."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from localstack.host_root_proxy import serve


class Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *_) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        answer = json.dumps({"path": self.path, "headers": dict(self.headers), "body": body.hex()}).encode()
        self.send_response(207)
        self.send_header("Content-Type", "application/json")
        self.send_header("Link", '</api/v1/timelines/home?max_id=1>; rel="next"')
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


def _running(server) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return thread


def test_given_a_request_when_proxied_then_ministack_sees_the_domain_and_the_client_its_answer():
    upstream = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    proxy = serve(0, upstream.server_address[1], "mastodon.chirp.test")
    _running(upstream), _running(proxy)
    try:
        port = proxy.server_address[1]
        data = bytes(range(256))
        answer = requests.post(f"http://127.0.0.1:{port}/api/v2/media?x=1", data=data, timeout=10)
        seen = answer.json()
        assert answer.status_code == 207
        assert answer.headers["Link"] == '</api/v1/timelines/home?max_id=1>; rel="next"'
        assert seen["path"] == "/api/v2/media?x=1"
        assert bytes.fromhex(seen["body"]) == data
        assert seen["headers"]["Host"] == "mastodon.chirp.test"
        assert seen["headers"]["X-Forwarded-Host"] == f"127.0.0.1:{port}"
        assert seen["headers"]["X-Forwarded-Proto"] == "http"
        assert requests.get(f"http://127.0.0.1:{port}/_proxy/health", timeout=10).json() == {"proxy": "ok"}
    finally:
        proxy.shutdown(), upstream.shutdown()


def test_given_a_websocket_upgrade_of_the_streaming_path_when_proxied_then_it_reaches_the_websocket_stage(tmp_path):
    """Mastodon clients open `<streaming_api>/api/v1/streaming`: the proxy tunnels it to the deployed WebSocket
    API's stage (named by the environment file), keeps the query, and names the offered subprotocol in the
    answer where the upstream (the emulator) did not."""
    from websockets.sync.client import connect
    from websockets.sync.server import serve as websocket_serve

    seen = {}

    def echo(socket) -> None:
        seen["path"], seen["headers"] = socket.request.path, socket.request.headers
        for message in socket:
            socket.send(f"echo {message}")

    cloud_env = tmp_path / "cloud.env"
    cloud_env.write_text("export WEBSOCKET_API_ID=abc123\nexport WEBSOCKET_STAGE=v1\n")
    with websocket_serve(echo, "127.0.0.1", 0) as upstream:
        _running(upstream)
        proxy = serve(0, upstream.socket.getsockname()[1], "mastodon.chirp.test", cloud_env)
        _running(proxy)
        try:
            port = proxy.server_address[1]
            url = f"ws://127.0.0.1:{port}/api/v1/streaming?stream=user"
            with connect(url, subprotocols=["the-token"], open_timeout=10) as client:
                client.send("hello")
                assert client.recv(timeout=10) == "echo hello"
                assert client.subprotocol == "the-token"
            assert seen["path"] == "/_aws/execute-api/abc123/v1?stream=user"
            assert seen["headers"]["X-Forwarded-Host"] == f"127.0.0.1:{port}"
            assert seen["headers"]["Sec-WebSocket-Protocol"] == "the-token"
        finally:
            proxy.shutdown()


@pytest.mark.parametrize("method", ["TRACE", "CONNECT", "BREW"])
def test_given_a_method_the_proxy_does_not_forward_when_sent_then_405_in_json_naming_the_allowed_ones(method):
    upstream = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    proxy = serve(0, upstream.server_address[1], "mastodon.chirp.test")
    _running(upstream), _running(proxy)
    try:
        answer = requests.request(method, f"http://127.0.0.1:{proxy.server_address[1]}/api/v1/instance", timeout=10)
        assert answer.status_code == 405
        assert answer.json() == {"error": f"method {method} is not allowed"}
        assert answer.headers["Allow"] == "GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS"
    finally:
        proxy.shutdown(), upstream.shutdown()


def test_given_a_refused_method_with_a_body_when_the_connection_is_reused_then_the_next_request_is_answered():
    # Given one connection carrying a QUERY with a body (refused), then a GET, sent back to back
    upstream = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    proxy = serve(0, upstream.server_address[1], "mastodon.chirp.test")
    _running(upstream), _running(proxy)
    body = b"--boundary\r\n" * 10
    requests_sent = (
        b"QUERY /api/v1/media HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
        + b"GET /_proxy/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    try:
        with socket.create_connection(proxy.server_address, timeout=10) as client:
            client.sendall(requests_sent)
            answers = b""
            while chunk := client.recv(65536):
                answers += chunk

        # Then the body was not taken for a request: each request gets its own answer, the GET its health
        assert answers.count(b"HTTP/1.1 405") == 1
        assert answers.endswith(b'{"proxy":"ok"}'), answers[-300:]
    finally:
        proxy.shutdown(), upstream.shutdown()
