"""A fake YouTube on 127.0.0.1 serving the real captured responses that youtube-transcript-api ships
(youtube_transcript_api/test/assets), and a requests Session that sends the official client's
https://www.youtube.com/... requests to it over real HTTP."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
import youtube_transcript_api
from requests.adapters import HTTPAdapter

ASSETS = Path(youtube_transcript_api.__file__).parent / "test" / "assets"
CAPTIONED = "GJLlxj_dtq8"  # the video id of the captured responses
NO_CAPTIONS = "NoCaptions1"  # answered with the captured "transcripts disabled" player response


def asset(name: str) -> bytes:
    return (ASSETS / name).read_bytes()


class _Handler(BaseHTTPRequestHandler):
    server: FakeYouTube  # type: ignore[assignment]

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, body: bytes, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self.server.paths.append(self.path)
        parts = urlsplit(self.path)
        if parts.path == "/watch":
            self._send(asset("youtube.html.static"), "text/html; charset=utf-8")
        elif parts.path == "/api/timedtext":
            self._send(asset("transcript.xml.static"), "text/xml; charset=utf-8")
        else:
            self.send_error(404)

    def do_POST(self) -> None:
        self.server.paths.append(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode()
        if urlsplit(self.path).path != "/youtubei/v1/player":
            self.send_error(404)
            return
        name = ("youtube_transcripts_disabled.innertube.json.static" if NO_CAPTIONS in body
                else "youtube.innertube.json.static")
        self._send(asset(name), "application/json")


class FakeYouTube(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.paths: list[str] = []


class _ToFake(HTTPAdapter):
    """Rewrites https://www.youtube.com/<path> to http://127.0.0.1:<port>/<path>; everything else refused."""

    def __init__(self, port: int) -> None:
        super().__init__()
        self._port = port

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        parts = urlsplit(request.url or "")
        if parts.hostname not in ("www.youtube.com", "youtube.com"):
            raise requests.ConnectionError(f"test network: {parts.hostname} is not faked")
        request.url = f"http://127.0.0.1:{self._port}{parts.path}" + (f"?{parts.query}" if parts.query else "")
        return super().send(request, **kwargs)


def session_for(server: FakeYouTube) -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    adapter = _ToFake(server.server_address[1])
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


@contextmanager
def running_youtube() -> Iterator[FakeYouTube]:
    server = FakeYouTube()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


__all__ = ["CAPTIONED", "NO_CAPTIONS", "FakeYouTube", "parse_qs", "running_youtube", "session_for"]
