"""A fake Google identity provider on 127.0.0.1, speaking OpenID Connect as accounts.google.com does.

Discovery document, authorization endpoint (no consent screen: it redirects straight back with a code, as
Google does for a returning user), token endpoint (client auth in the body or Basic, PKCE S256, one-use
codes, Google's error bodies) and JWKS. id_tokens are RS256-signed with the key the JWKS publishes;
``next_identity`` says who signs in next, ``id_token_changes`` and ``sign_with_foreign_key`` spoil the
next token on purpose.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from typing import Any
from urllib.parse import urlencode

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from tests.fakes.hubspot import QuietHandler

KID = "fake-google-key-1"
AUTHORIZE_PATH = "/o/oauth2/v2/auth"
TOKEN_PATH = "/token"
JWKS_PATH = "/oauth2/v3/certs"


def _rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _json(body: dict[str, Any], status: int = 200) -> Response:
    import json

    return Response(json.dumps(body), status=status, mimetype="application/json",
                    headers={"Cache-Control": "no-cache, no-store, max-age=0, must-revalidate"})


class FakeOidcProvider:
    def __init__(self, *, client_id: str = "sales-agent.apps.googleusercontent.com",
                 client_secret: str = "GOCSPX-fake-secret", redirect_uris: tuple[str, ...] = ()) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uris = set(redirect_uris)
        self._key = _rsa_key()
        self._foreign_key = _rsa_key()
        self.next_identity: dict[str, Any] = {"sub": "110169484474386276334", "email": "pat@example.com",
                                              "email_verified": True, "name": "Pat Prospect"}
        self.id_token_changes: dict[str, Any] = {}
        self.sign_with_foreign_key = False
        self._codes: dict[str, dict[str, Any]] = {}
        self.token_requests: list[dict[str, str]] = []
        self._server: BaseWSGIServer | None = None

    def __enter__(self) -> FakeOidcProvider:
        self._server = make_server("127.0.0.1", 0, self._wsgi, threaded=True, request_handler=QuietHandler)
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    @property
    def issuer(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_port}"

    # Endpoints ------------------------------------------------------------------------------------

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        routes = {"/.well-known/openid-configuration": self._discovery, AUTHORIZE_PATH: self._authorize,
                  TOKEN_PATH: self._token, JWKS_PATH: self._jwks}
        handler = routes.get(request.path)
        response = handler(request) if handler else Response("Not Found", status=404)
        return response(environ, start_response)

    def _discovery(self, request: Request) -> Response:
        return _json({
            "issuer": self.issuer,
            "authorization_endpoint": self.issuer + AUTHORIZE_PATH,
            "token_endpoint": self.issuer + TOKEN_PATH,
            "userinfo_endpoint": self.issuer + "/v1/userinfo",
            "revocation_endpoint": self.issuer + "/revoke",
            "jwks_uri": self.issuer + JWKS_PATH,
            "response_types_supported": ["code", "token", "id_token", "code token", "code id_token",
                                         "token id_token", "code token id_token", "none"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "claims_supported": ["aud", "email", "email_verified", "exp", "family_name", "given_name", "iat",
                                 "iss", "name", "picture", "sub"],
            "code_challenge_methods_supported": ["plain", "S256"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
        })

    def _jwks(self, request: Request) -> Response:
        jwk = RSAAlgorithm.to_jwk(self._key.public_key(), as_dict=True)
        return _json({"keys": [{**jwk, "kid": KID, "use": "sig", "alg": "RS256"}]})

    def _authorize(self, request: Request) -> Response:
        args = request.args
        # Google shows an error page (no redirect) for an unknown client or an unregistered redirect URI.
        if args.get("client_id") != self.client_id:
            return Response("Error 401: invalid_client", status=401, mimetype="text/html")
        redirect_uri = args.get("redirect_uri", "")
        if self.redirect_uris and redirect_uri not in self.redirect_uris:
            return Response("Error 400: redirect_uri_mismatch", status=400, mimetype="text/html")
        if args.get("response_type") != "code" or "openid" not in args.get("scope", "").split():
            return Response("Error 400: invalid_request", status=400, mimetype="text/html")
        code = "4/0A" + secrets.token_urlsafe(40)
        self._codes[code] = {"redirect_uri": redirect_uri, "nonce": args.get("nonce"),
                             "challenge": args.get("code_challenge"), "method": args.get("code_challenge_method"),
                             "identity": dict(self.next_identity)}
        back = {"state": args.get("state", ""), "code": code, "scope": "email profile openid", "authuser": "0",
                "prompt": "none"}
        return Response("", status=302, headers={"Location": f"{redirect_uri}?{urlencode(back)}"})

    def _client_ok(self, request: Request) -> bool:
        form = request.form
        client_id, secret = form.get("client_id"), form.get("client_secret")
        header = request.headers.get("Authorization", "")
        if header.startswith("Basic "):
            client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
        return client_id == self.client_id and secret == self.client_secret

    def _token(self, request: Request) -> Response:
        if request.method != "POST":
            return Response("Method Not Allowed", status=405)
        form = request.form
        self.token_requests.append(dict(form))
        if not self._client_ok(request):
            return _json({"error": "invalid_client", "error_description": "Unauthorized"}, 401)
        if form.get("grant_type") != "authorization_code":
            return _json({"error": "unsupported_grant_type", "error_description": "Invalid grant_type: "}, 400)
        grant = self._codes.pop(form.get("code", ""), None)  # one use, like Google's
        if grant is None:
            return _json({"error": "invalid_grant", "error_description": "Bad Request"}, 400)
        if form.get("redirect_uri") != grant["redirect_uri"]:
            return _json({"error": "redirect_uri_mismatch", "error_description": "Bad Request"}, 400)
        if grant["challenge"]:
            verifier = form.get("code_verifier", "")
            digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            expected = digest if grant["method"] == "S256" else verifier
            if not verifier:
                return _json({"error": "invalid_request", "error_description": "Missing code verifier."}, 400)
            if expected != grant["challenge"]:
                return _json({"error": "invalid_grant", "error_description": "Invalid code verifier."}, 400)
        access = "ya29." + secrets.token_urlsafe(60)
        return _json({"access_token": access, "expires_in": 3599, "token_type": "Bearer",
                      "scope": "https://www.googleapis.com/auth/userinfo.email openid "
                               "https://www.googleapis.com/auth/userinfo.profile",
                      "id_token": self._id_token(grant, access)})

    def _id_token(self, grant: dict[str, Any], access_token: str) -> str:
        now = int(time.time())
        digest = hashlib.sha256(access_token.encode()).digest()
        claims: dict[str, Any] = {
            "iss": self.issuer, "azp": self.client_id, "aud": self.client_id,
            "at_hash": base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode(),
            "iat": now, "exp": now + 3600, **grant["identity"],
        }
        if grant["nonce"]:
            claims["nonce"] = grant["nonce"]
        claims.update(self.id_token_changes)
        key = self._foreign_key if self.sign_with_foreign_key else self._key
        return jwt.encode(claims, _pem(key), algorithm="RS256", headers={"kid": KID})
