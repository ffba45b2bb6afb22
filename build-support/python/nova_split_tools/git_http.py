"""A smart-HTTP git server on loopback: ``git http-backend`` behind a small ``http.server``.

For the clone self-test and ``bench-clone``: a URL that git fetches from the way it fetches from a
real hosting service (protocol v2, ``--filter`` negotiation, lazy fetches of missing blobs), with
no web server to install. Each request runs ``git http-backend`` as a CGI program; the served
repositories allow ``--filter`` (``uploadpack.allowFilter``). Use it as a context manager::

    with GitHttpServer(parent_dir) as server:
        url = server.url("repo")          # http://127.0.0.1:PORT/repo, serving parent_dir/repo

The server counts the bytes it sent (``sent``), which is what a clone fetched over the wire.
"""

from __future__ import annotations

import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType

from nova_common_cli.args import start_without_interrupts

__all__ = ["GitHttpServer"]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        self._cgi(b"")

    def do_POST(self) -> None:
        self._cgi(self.rfile.read(int(self.headers.get("Content-Length") or 0)))

    def _cgi(self, body: bytes) -> None:
        path, _, query = self.path.partition("?")
        env = {
            "GIT_PROJECT_ROOT": str(self.server.root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "REQUEST_METHOD": self.command,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_ADDR": self.client_address[0],
            "GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
            "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", ""),  # git gzips large requests
            "PATH": "/usr/bin:/bin:/usr/local/bin",
        }
        proc = subprocess.run(["git", "http-backend"], input=body, capture_output=True, env=env)
        head, _, payload = proc.stdout.partition(b"\r\n\r\n")
        status, headers = 200, []
        for line in head.decode("latin-1").split("\r\n"):
            key, _, value = line.partition(":")
            if key.lower() == "status":
                status = int(value.split()[0])
            elif key:
                headers.append((key, value.strip()))
        if proc.returncode != 0 and not head:
            status, payload = 500, proc.stderr
        self.send_response(status)
        for key, value in headers:
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
        self.server.count(len(payload))

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (http.server's name)
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, root: Path) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.root = root
        self.sent = 0
        self._lock = threading.Lock()

    def count(self, n: int) -> None:
        with self._lock:
            self.sent += n


class GitHttpServer:
    """Serves every repository under ``root`` over smart HTTP on 127.0.0.1 (an ephemeral port)."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def url(self, name: str) -> str:
        assert self._server is not None, "the server is not running"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/{name}"

    @property
    def sent(self) -> int:
        """Bytes of response bodies sent so far."""
        return self._server.sent if self._server else 0

    def reset(self) -> None:
        if self._server:
            self._server.sent = 0

    def __enter__(self) -> GitHttpServer:
        for config in self.root.glob("*/.git/config"):
            subprocess.run(["git", "-C", str(config.parent.parent), "config", "uploadpack.allowFilter", "true"])
        for config in self.root.glob("*.git/config"):
            subprocess.run(["git", "--git-dir", str(config.parent), "config", "uploadpack.allowFilter", "true"])
        self._server = _Server(self.root)
        self._thread = start_without_interrupts(threading.Thread(target=self._server.serve_forever, daemon=True))
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = self._thread = None
