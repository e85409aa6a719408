"""Google's token signing keys (https://www.googleapis.com/oauth2/v3/certs) on 127.0.0.1, and a signer.

Serves a JWKS the way Google does (RSA keys with kid, use=sig, alg=RS256, Cache-Control max-age) and signs
Pub/Sub push tokens with the private half, so the endpoint verifies real RS256 signatures.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

CERTS_PATH = "/oauth2/v3/certs"
KID = "fake-google-key-1"


def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class FakeGoogleCerts:
    def __init__(self) -> None:
        self.key = rsa_key()
        self.fetches = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{CERTS_PATH}"

    def __enter__(self) -> FakeGoogleCerts:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def jwks(self) -> dict[str, Any]:
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**public, "kid": KID, "use": "sig", "alg": "RS256"}]}

    def sign(self, *, key: rsa.RSAPrivateKey | None = None, kid: str = KID, **claims: Any) -> str:
        """A push token as Pub/Sub makes it; ``claims`` override the defaults (None removes one)."""
        now = int(time.time())
        values: dict[str, Any] = {"iss": "https://accounts.google.com", "iat": now, "exp": now + 3600,
                                  "sub": "113774264463038321964", "azp": "113774264463038321964"}
        values.update(claims)
        return jwt.encode({k: v for k, v in values.items() if v is not None}, key or self.key, algorithm="RS256",
                          headers={"kid": kid})

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                if self.path != CERTS_PATH:
                    self.send_error(404)
                    return
                fake.fetches += 1
                data = json.dumps(fake.jwks()).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Cache-Control", "public, max-age=20000, must-revalidate, no-transform")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler
