"""A recording proxy for the e2e tests: real clients (Mastodon.py in this process, the toot CLI in another) talk
to it as to the instance; it forwards every request to the Mastodon API and keeps every answer, so a test can
replay them through Mastodon's OpenAPI document afterwards. Loopback only, one thread per request."""

from __future__ import annotations

import http.client
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

HOP_BY_HOP = {"connection", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade", "host", "content-length"}


@dataclass(frozen=True)
class Exchange:
    client: str  # which client sent it (the User-Agent's first word)
    method: str
    path: str
    query: str
    status: int
    content_type: str | None
    body: bytes
    headers: dict[str, str]


class RecordingProxy:
    def __init__(self, upstream: str):
        target = urlsplit(upstream)
        self.upstream_host, self.upstream_port = target.hostname, target.port or 80
        self.exchanges: list[Exchange] = []
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> RecordingProxy:
        self._thread.start()
        return self

    def __exit__(self, *_) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_) -> None:
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                upstream = http.client.HTTPConnection(proxy.upstream_host, proxy.upstream_port, timeout=60)
                try:
                    upstream.request(self.command, self.path, body=body, headers=headers)
                    response = upstream.getresponse()
                    data = response.read()
                    answer_headers = dict(response.getheaders())
                finally:
                    upstream.close()
                path, _, query = self.path.partition("?")
                agent = (self.headers.get("User-Agent") or "?").split("/")[0]
                with proxy._lock:
                    proxy.exchanges.append(
                        Exchange(agent, self.command, path, query, response.status,
                                 response.getheader("Content-Type"), data, answer_headers)
                    )  # fmt: skip
                self.send_response(response.status, response.reason)
                for name, value in answer_headers.items():
                    if name.lower() not in HOP_BY_HOP | {"date", "server"}:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _forward  # noqa: N815 (http.server names)

        return Handler
