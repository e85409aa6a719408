"""A fake Slack incoming webhook on 127.0.0.1: records each JSON body and answers "ok" like Slack does."""

from __future__ import annotations

import json
import threading
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from tests.fakes.hubspot_model import QuietHandler


class FakeSlack:
    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self._server: BaseWSGIServer | None = None

    def __enter__(self) -> FakeSlack:
        self._server = make_server("127.0.0.1", 0, self._wsgi, threaded=True, request_handler=QuietHandler)
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_port}/services/T000/B000/XXXX"

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        try:
            body = json.loads(request.get_data())
        except ValueError:
            return Response("invalid_payload", status=400)(environ, start_response)
        if "text" not in body:
            return Response("no_text", status=400)(environ, start_response)
        self.messages.append(body)
        return Response("ok", mimetype="text/html")(environ, start_response)
