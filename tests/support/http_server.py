"""HTTP plumbing of the fake Bot API: parse requests, hand them to FakeBotApi.handle, answer.

A stdlib ThreadingHTTPServer on 127.0.0.1 (a free port), HTTP/1.1 keep-alive as httpx expects.
Bodies may be JSON, form-urlencoded or multipart/form-data (uploads become UploadedFile).
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from tests.support.records import JSON, UploadedFile

# Parameters that are plain strings even when they look like JSON ("123", "true").
STRING_PARAMS = frozenset(
    (  # noqa: SIM905 - a word list reads better than 18 quoted strings
        "text caption parse_mode callback_query_id url secret_token action emoji "
        "language_code inline_message_id description short_description name file_id "
        "certificate ip_address document photo"
    ).split(" ")
)


class _Drop:
    """Answer nothing and close the connection."""


DROP = _Drop()


class Answerer(Protocol):
    def handle(
        self, token: str, method: str, params: JSON, files: dict[str, UploadedFile]
    ) -> Any: ...


def _form_value(name: str, raw: str) -> Any:
    """PTB sends form fields JSON-encoded, except plain strings, which it sends as they are."""
    if name in STRING_PARAMS:
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def parse_request(
    content_type: str, body: bytes, query: str
) -> tuple[JSON, dict[str, UploadedFile]]:
    """Parameters from the query string and a JSON, urlencoded or multipart body."""
    params: JSON = {k: _form_value(k, v[-1]) for k, v in parse_qs(query).items()}
    files: dict[str, UploadedFile] = {}
    kind = content_type.split(";")[0].strip().lower()
    if not body:
        return params, files
    if kind == "application/json":
        loaded = json.loads(body)
        if not isinstance(loaded, dict):
            raise ValueError("the JSON body is not an object")
        params.update(loaded)
    elif kind == "multipart/form-data":
        head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
        parsed = BytesParser(policy=HTTP).parsebytes(head + body)
        for part in parsed.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if not isinstance(name, str):
                continue
            payload = part.get_payload(decode=True)
            data = payload if isinstance(payload, bytes) else b""
            filename = part.get_filename()
            if filename is not None:
                files[name] = UploadedFile(name, filename, part.get_content_type(), data)
            else:
                params[name] = _form_value(name, data.decode("utf-8"))
    else:
        parsed_form = parse_qs(body.decode("utf-8"), keep_blank_values=True)
        params.update({k: _form_value(k, v[-1]) for k, v in parsed_form.items()})
    return params, files


class BotApiServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, fake: Answerer, port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.fake = fake
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()

    def close_connections(self) -> None:
        with self.connections_lock:
            for connection in list(self.connections):
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as httpx expects
    server: BotApiServer

    def setup(self) -> None:
        super().setup()
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: test output stays readable (and the token stays out of it)."""

    def do_POST(self) -> None:
        self._serve()

    def do_GET(self) -> None:
        self._serve()

    def _serve(self) -> None:
        url = urlsplit(self.path)
        body = self._read_body()
        parts = url.path.split("/")
        if len(parts) != 3 or not parts[1].startswith("bot") or not parts[2]:
            self._send(404, {"ok": False, "error_code": 404, "description": "Not Found"})
            return
        token, method = parts[1].removeprefix("bot"), parts[2]
        try:
            params, files = parse_request(self.headers.get("Content-Type", ""), body, url.query)
        except (ValueError, UnicodeDecodeError) as error:
            self._send(
                400, {"ok": False, "error_code": 400, "description": f"Bad Request: {error}"}
            )
            return
        answer = self.server.fake.handle(token, method, params, files)
        if isinstance(answer, _Drop):
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        status, payload = answer
        self._send(status, payload)

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, payload: JSON) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            self.close_connection = True
