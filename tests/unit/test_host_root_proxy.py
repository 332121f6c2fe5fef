"""The local cloud's host-root proxy: what reaches MiniStack names the custom domain as Host (so MiniStack routes
it through the base path mapping) and the address the client used (so links point back to it); bodies and
answers pass unchanged."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

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
