"""A loopback proxy that serves an API Gateway custom domain at the root of a local port, as DNS and TLS
termination do on AWS: every request to 127.0.0.1:PORT goes to MiniStack with `Host: DOMAIN`, which MiniStack
routes through the domain's base path mapping (the stack's AWS::ApiGateway::DomainName and BasePathMapping),
exactly as API Gateway does for the real domain. `X-Forwarded-Host` and `X-Forwarded-Proto` tell the API the
address clients used, so the links it answers point back here.

A WebSocket upgrade of `/api/v1/streaming` (Mastodon's streaming API, where Mastodon clients look for it under
the instance's `streaming_api` URL) is tunnelled to the stack's WebSocket API instead, whose id the deployed
environment file names (`--cloud-env`, read at each upgrade: the proxy starts before the first deploy). On AWS a
WebSocket API cannot share a custom domain with a REST API: the README says how the streaming URL maps there.

Usage: python localstack/host_root_proxy.py --port 4631 --upstream-port 4566 --domain mastodon.chirp.test \
    --cloud-env .local/cloud.env
Standard library only (the local cloud's launcher starts it before any venv exists). Loopback only.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import shlex
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

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
STREAMING_PATH = "/api/v1/streaming"
MAX_HEAD = 64 * 1024


def websocket_stage_path(cloud_env: Path | None) -> str | None:
    """The deployed WebSocket API's stage path in MiniStack, from the environment file; None before a deploy."""
    if cloud_env is None or not cloud_env.exists():
        return None
    values = dict(word.split("=", 1) for word in shlex.split(cloud_env.read_text(), comments=True) if "=" in word)
    api_id, stage = values.get("WEBSOCKET_API_ID"), values.get("WEBSOCKET_STAGE")
    return f"/_aws/execute-api/{api_id}/{stage}" if api_id and stage else None


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    """Copies bytes until either side closes, then closes both (the other direction's copy ends with them)."""
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for end in (source, sink):
            with contextlib.suppress(OSError):  # closed already
                end.shutdown(socket.SHUT_RDWR)


FORWARDED_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


def make_handler(upstream_port: int, domain: str, public_host: str, cloud_env: Path | None = None):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args) -> None:
            pass  # MiniStack logs every request already

        def _forward(self) -> None:
            if self.path == HEALTH_PATH:
                self._answer(200, b'{"proxy":"ok"}', {"Content-Type": "application/json"})
                return
            path, _, query = self.path.partition("?")
            if path.rstrip("/") == STREAMING_PATH and self.headers.get("Upgrade", "").lower() == "websocket":
                self._tunnel(query)
                return
            body = self._body()
            if isinstance(body, int):
                self._answer(body, b"", {"Connection": "close"})
                return
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            headers.update({"Host": domain, "X-Forwarded-Host": public_host, "X-Forwarded-Proto": "http"})
            upstream = http.client.HTTPConnection("127.0.0.1", upstream_port, timeout=TIMEOUT_S)
            try:
                upstream.request(self.command, self.path, body=body or None, headers=headers)
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

        def _tunnel(self, query: str) -> None:
            """The upgrade sent on to the WebSocket API's stage (the query kept: `stream`, `access_token`), then
            the two sockets joined until either closes."""
            stage_path = websocket_stage_path(cloud_env)
            if stage_path is None:
                self._answer(503, b'{"error":"the WebSocket API is not deployed yet"}', {"Retry-After": "5"})
                return
            headers = [(k, v) for k, v in self.headers.items() if k.lower() not in ("host", "x-forwarded-host")]
            headers += [("Host", f"127.0.0.1:{upstream_port}"), ("X-Forwarded-Host", public_host)]
            headers += [("X-Forwarded-Proto", "http")]
            target = f"{stage_path}?{query}" if query else stage_path
            request = f"GET {target} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
            try:
                upstream = socket.create_connection(("127.0.0.1", upstream_port), timeout=TIMEOUT_S)
            except OSError as error:
                self._answer(502, f'{{"error":"upstream unavailable: {type(error).__name__}"}}'.encode(), {})
                return
            with upstream:
                upstream.sendall(request.encode("latin-1"))
                head = b""
                while b"\r\n\r\n" not in head and len(head) < MAX_HEAD:
                    chunk = upstream.recv(4096)
                    if not chunk:
                        break
                    head += chunk
                head, separator, rest = head.partition(b"\r\n\r\n")
                self.connection.sendall(self._with_subprotocol(head) + separator + rest)
                self.close_connection = True
                if not head.startswith(b"HTTP/1.1 101"):
                    return
                upstream.settimeout(None)
                self.connection.settimeout(None)
                back = threading.Thread(target=_pipe, args=(upstream, self.connection), daemon=True)
                back.start()
                _pipe(self.connection, upstream)
                back.join()

        def _with_subprotocol(self, head: bytes) -> bytes:
            """The emulator accepts a WebSocket without naming the subprotocol the client offered (the Mastodon web
            app offers its token as one), which a browser refuses; API Gateway names the one the $connect function
            answers (the realtime function answers the offered one), so the proxy adds it here."""
            offered = self.headers.get("Sec-WebSocket-Protocol", "").split(",")[0].strip()
            if not offered or not head.startswith(b"HTTP/1.1 101") or b"sec-websocket-protocol" in head.lower():
                return head
            return head + f"\r\nSec-WebSocket-Protocol: {offered}".encode("latin-1")

        def _answer(self, status: int, data: bytes, headers: dict[str, str], reason: str | None = None) -> None:
            self.send_response(status, reason)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _forward  # noqa: N815 (http.server names)

        def __getattr__(self, name: str):
            """Any other method (TRACE, CONNECT, made-up ones) is refused as API Gateway refuses it, with a 4xx in
            the API's error shape: http.server's own answer would be an HTML 501."""
            if name.startswith("do_"):
                return self._refuse
            raise AttributeError(name)

        def _refuse(self) -> None:
            body = f'{{"error":"method {self.command} is not allowed"}}'.encode()
            headers = {"Content-Type": "application/json", "Allow": ", ".join(FORWARDED_METHODS)}
            if isinstance(self._body(), int):
                headers["Connection"] = "close"
            self._answer(405, body, headers)

        def _body(self) -> bytes | int:
            """The request's body, read whole so that the connection's next request starts after it; or the status
            refusing a body this proxy does not read (411 chunked, 413 over MAX_BODY), the connection then closed
            after the answer: the unread body would be parsed as the next request."""
            length = int(self.headers.get("Content-Length") or 0)
            if self.headers.get("Transfer-Encoding") or length > MAX_BODY:
                self.close_connection = True
                return 413 if length > MAX_BODY else 411
            return self.rfile.read(length)

    return Handler


def serve(port: int, upstream_port: int, domain: str, cloud_env: Path | None = None) -> ThreadingHTTPServer:
    """The proxy bound to 127.0.0.1:port (0: any free port), not serving yet."""
    server = ThreadingHTTPServer(("127.0.0.1", port), BaseHTTPRequestHandler)
    public_host = f"127.0.0.1:{server.server_address[1]}"
    server.RequestHandlerClass = make_handler(upstream_port, domain, public_host, cloud_env)
    server.daemon_threads = True
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream-port", type=int, required=True)
    parser.add_argument("--domain", required=True)
    parser.add_argument("--cloud-env", type=Path, help="the deployed environment file (the WebSocket API's id)")
    args = parser.parse_args()
    serve(args.port, args.upstream_port, args.domain, args.cloud_env).serve_forever()


if __name__ == "__main__":
    main()
