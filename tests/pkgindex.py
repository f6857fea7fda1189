"""A PEP 503 simple package index served from memory, for engine tests: minimal pure-Python
wheels, versions added while it runs, optional basic-auth credentials.

It listens on the host's address on the engine's default bridge (:func:`bridge_gateway`),
which build steps can reach.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import io
import re
import subprocess
import threading
import zipfile
from typing import Any


def bridge_gateway() -> str:
    """The host's address on the engine's default bridge: what build steps can reach."""
    return subprocess.run(
        ["docker", "network", "inspect", "bridge", "--format", "{{(index .IPAM.Config 0).Gateway}}"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip


def make_wheel(dist: str, version: str) -> tuple[str, bytes]:
    """A minimal pure-Python wheel of ``dist`` (module: its name with '_'), which holds
    ``VALUE = "probe VERSION"``."""
    module = re.sub(r"[-.]+", "_", dist)
    name = f"{module}-{version}-py3-none-any.whl"
    info = f"{module}-{version}.dist-info"
    files = {
        f"{module}/__init__.py": f'VALUE = "probe {version}"\n',
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: devbox-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        record.append(f"{path},sha256={digest.decode()},{len(text.encode())}")
    files[f"{info}/RECORD"] = "\n".join([*record, f"{info}/RECORD,,"]) + "\n"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for path, text in files.items():
            zf.writestr(path, text)
    return name, buf.getvalue()


class SimpleIndex:
    """``/simple/DIST/`` lists every wheel added for DIST; ``/files/NAME`` serves it. With
    ``user`` and ``token``, only requests with those basic-auth credentials are answered."""

    def __init__(self, host: str, user: str | None = None, token: str | None = None) -> None:
        self.wheels: dict[str, dict[str, bytes]] = {}  # dist → wheel file name → bytes
        self.expected = (
            "Basic " + base64.b64encode(f"{user}:{token}".encode()).decode() if user else None
        )
        #: paths answered (with the right credentials)
        self.authorized: list[str] = []
        index = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_HEAD(self) -> None:
                self.do_GET(head=True)

            def do_GET(self, head: bool = False) -> None:
                if index.expected and self.headers.get("Authorization") != index.expected:
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="devbox-test"')
                    self.end_headers()
                    return
                index.authorized.append(self.path)
                body, kind = index.answer(self.path)
                if body is None:
                    self.send_response(404)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if not head:
                    self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer((host, 0), Handler)
        self.url = f"{host}:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def add(self, dist: str, version: str) -> str:
        """Serve a wheel of ``dist`` at ``version``; returns the wheel's file name."""
        name, data = make_wheel(dist, version)
        self.wheels.setdefault(dist, {})[name] = data
        return name

    def answer(self, path: str) -> tuple[bytes | None, str]:
        for dist, wheels in self.wheels.items():
            if path.rstrip("/") == f"/simple/{dist}":
                links = "".join(
                    f'<a href="/files/{n}#sha256={hashlib.sha256(w).hexdigest()}">{n}</a>\n'
                    for n, w in wheels.items()
                )
                return links.encode(), "text/html"
            for name, data in wheels.items():
                if path == f"/files/{name}":
                    return data, "application/octet-stream"
        return None, ""

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
