"""A loopback proxy that serves an API Gateway custom domain at the root of a local port, as DNS and TLS
termination do on AWS: every request to 127.0.0.1:PORT goes to MiniStack with `Host: DOMAIN`, which MiniStack
routes through the domain's base path mapping (the stack's AWS::ApiGateway::DomainName and BasePathMapping),
exactly as API Gateway does for the real domain. `X-Forwarded-Host` and `X-Forwarded-Proto` tell the API the
address clients used, so the links it answers point back here.

Usage: python localstack/host_root_proxy.py --port 4631 --upstream-port 4566 --domain mastodon.chirp.test
Standard library only (the local cloud's launcher starts it before any venv exists). Loopback only.
"""

from __future__ import annotations

import argparse
import http.client
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HEALTH_PATH = "/_proxy/health"
# Headers of one connection, not of the message (RFC 9110 section 7.6.1): never forwarded.
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
}
MAX_BODY = 12 * 1024 * 1024  # above API Gateway's 10 MB payload limit: the gateway refuses, not this proxy
TIMEOUT_S = 60


def make_handler(upstream_port: int, domain: str, public_host: str):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args) -> None:
            pass  # MiniStack logs every request already

        def _forward(self) -> None:
            if self.path == HEALTH_PATH:
                self._answer(200, b'{"proxy":"ok"}', {"Content-Type": "application/json"})
                return
            length = int(self.headers.get("Content-Length") or 0)
            if self.headers.get("Transfer-Encoding") or length > MAX_BODY:
                self._answer(413 if length > MAX_BODY else 411, b"", {})
                return
            body = self.rfile.read(length) if length else None
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            headers.update({"Host": domain, "X-Forwarded-Host": public_host, "X-Forwarded-Proto": "http"})
            upstream = http.client.HTTPConnection("127.0.0.1", upstream_port, timeout=TIMEOUT_S)
            try:
                upstream.request(self.command, self.path, body=body, headers=headers)
                response = upstream.getresponse()
                data = response.read()
                kept = {
                    k: v
                    for k, v in response.getheaders()
                    if k.lower() not in HOP_BY_HOP | {"content-length", "date", "server"}
                }
                self._answer(response.status, data, kept, reason=response.reason)
            except OSError as error:
                self._answer(502, f'{{"error":"upstream unavailable: {type(error).__name__}"}}'.encode(), {})
            finally:
                upstream.close()

        def _answer(self, status: int, data: bytes, headers: dict[str, str], reason: str | None = None) -> None:
            self.send_response(status, reason)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _forward  # noqa: N815 (http.server names)

    return Handler


def serve(port: int, upstream_port: int, domain: str) -> ThreadingHTTPServer:
    """The proxy bound to 127.0.0.1:port (0: any free port), not serving yet."""
    server = ThreadingHTTPServer(("127.0.0.1", port), BaseHTTPRequestHandler)
    server.RequestHandlerClass = make_handler(upstream_port, domain, f"127.0.0.1:{server.server_address[1]}")
    server.daemon_threads = True
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream-port", type=int, required=True)
    parser.add_argument("--domain", required=True)
    args = parser.parse_args()
    serve(args.port, args.upstream_port, args.domain).serve_forever()


if __name__ == "__main__":
    main()
