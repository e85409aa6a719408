"""Google sign-in: the OpenID Connect authorization-code flow with PKCE, run by core so every check is ours.

The dashboard asks for a sign-in URL (``begin_sign_in``); the browser goes to the provider and comes back
with ``code`` and ``state``; ``finish_sign_in`` exchanges the code at the token endpoint and validates the
id_token: signature against the provider's JWKS, iss, aud (and azp), exp, iat, nonce and email_verified.
The state is encrypted (Fernet, key derived from SECRET_KEY), expires after ten minutes and carries the
nonce and the PKCE verifier, so a sign-in survives the full-page round trip that ends the Streamlit
session it started in, and nobody who sees the URL learns the verifier.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import jwt
import requests
from cryptography.fernet import Fernet, InvalidToken

from core.auth.errors import AuthenticationFailed
from core.auth.schemas import VerifiedIdentity
from core.config import Settings
from core.errors import ConnectorError
from core.logging import get_logger

CONNECTOR = "oidc"
SCOPES = "openid email profile"
ALGORITHMS = ("RS256",)  # what Google signs with; "none" and HMAC algorithms are never accepted
STATE_TTL_SECONDS = 600
CLOCK_SKEW_SECONDS = 60
JWKS_REFRESH_SECONDS = 30.0  # an unknown key id refetches the JWKS at most this often
SIGN_IN_FAILED = "Google sign-in failed. Sign in again."
STATE_INVALID = "This sign-in has expired or was not started here. Sign in again."
EMAIL_NOT_VERIFIED = "Your Google account's email address is not verified, so it cannot be used to sign in."
# Google's id_tokens carry either spelling of its issuer.
_GOOGLE_ISSUERS = frozenset({"https://accounts.google.com", "accounts.google.com"})

log = get_logger("core.auth.oidc")


@dataclass(frozen=True)
class SignInStart:
    url: str
    state: str


def _refuse(reason: str, message: str = SIGN_IN_FAILED) -> AuthenticationFailed:
    log.warning("oidc sign-in refused", reason=reason)
    return AuthenticationFailed(message, details={"reason": reason})


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class OidcProvider:
    """One OpenID Connect provider (Google by default); discovery document and keys are cached."""

    label = "Google sign-in (OpenID Connect)"

    def __init__(self, *, issuer: str, client_id: str, client_secret: str, redirect_uri: str, state_secret: str,
                 timeout: float = 10.0, http: requests.Session | None = None) -> None:
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        self._client_secret = client_secret
        self.redirect_uri = redirect_uri
        self._fernet = Fernet(base64.urlsafe_b64encode(hashlib.sha256(b"oidc-state:" + state_secret.encode()).digest()))
        self._timeout = timeout
        self._http = http or requests.Session()
        self._metadata: dict[str, Any] | None = None
        self._keys: dict[str, jwt.PyJWK] = {}
        self._keys_fetched = 0.0
        self._lock = threading.Lock()

    # Provider documents ---------------------------------------------------------------------------

    def _accepted_issuers(self) -> frozenset[str]:
        return _GOOGLE_ISSUERS if self.issuer in _GOOGLE_ISSUERS else frozenset({self.issuer})

    def _get_json(self, url: str) -> dict[str, Any]:
        try:
            response = self._http.get(url, timeout=self._timeout, headers={"Accept": "application/json"})
        except requests.RequestException as exc:
            raise ConnectorError(f"{url} is unreachable ({type(exc).__name__})", connector=CONNECTOR,
                                 retryable=True) from None
        if response.status_code != 200:
            raise ConnectorError(f"{url} answered {response.status_code}", connector=CONNECTOR,
                                 retryable=response.status_code >= 500 or response.status_code == 429,
                                 status=response.status_code)
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise ConnectorError(f"{url} did not answer a JSON object", connector=CONNECTOR, retryable=False)
        return body

    def metadata(self) -> dict[str, Any]:
        """The discovery document; it must name our issuer (OpenID Connect Discovery 1.0, section 4.3)."""
        with self._lock:
            if self._metadata is None:
                doc = self._get_json(f"{self.issuer}/.well-known/openid-configuration")
                missing = [f for f in ("authorization_endpoint", "token_endpoint", "jwks_uri") if not doc.get(f)]
                if doc.get("issuer") not in self._accepted_issuers() or missing:
                    raise ConnectorError(f"the discovery document of {self.issuer} is not for this issuer or lacks "
                                         f"{', '.join(missing) or 'nothing'}", connector=CONNECTOR, retryable=False)
                self._metadata = doc
            return self._metadata

    def _signing_key(self, kid: str | None) -> jwt.PyJWK:
        jwks_uri = str(self.metadata()["jwks_uri"])
        with self._lock:
            stale = time.monotonic() - self._keys_fetched >= JWKS_REFRESH_SECONDS
            if (kid not in self._keys) and stale:  # the provider rotated its keys, or this is the first use
                try:
                    keyset = jwt.PyJWKSet.from_dict(self._get_json(jwks_uri))
                except jwt.PyJWKSetError as exc:
                    raise ConnectorError(f"unusable JWKS at {jwks_uri}: {exc}", connector=CONNECTOR,
                                         retryable=False) from None
                self._keys = {str(k.key_id): k for k in keyset.keys if k.public_key_use in (None, "sig")}
                self._keys_fetched = time.monotonic()
            key = self._keys.get(str(kid))
        if key is None:
            raise _refuse("unknown_key")
        return key

    # The flow -------------------------------------------------------------------------------------

    def begin_sign_in(self, *, now: datetime) -> SignInStart:
        """The provider's authorization URL, with a fresh nonce, PKCE challenge and encrypted state."""
        nonce, verifier = secrets.token_urlsafe(24), secrets.token_urlsafe(48)
        state = self._fernet.encrypt_at_time(json.dumps({"n": nonce, "v": verifier}).encode(),
                                             int(now.timestamp())).decode("ascii")
        params = {"response_type": "code", "client_id": self.client_id, "redirect_uri": self.redirect_uri,
                  "scope": SCOPES, "state": state, "nonce": nonce, "prompt": "select_account",
                  "code_challenge": _b64url(hashlib.sha256(verifier.encode()).digest()),
                  "code_challenge_method": "S256"}
        endpoint = str(self.metadata()["authorization_endpoint"])
        return SignInStart(url=f"{endpoint}{'&' if '?' in endpoint else '?'}{urlencode(params)}", state=state)

    def finish_sign_in(self, *, code: str, state: str, now: datetime) -> VerifiedIdentity:
        """Exchange the code the browser brought back and validate the id_token; AuthenticationFailed if not."""
        try:
            pending = json.loads(self._fernet.decrypt_at_time(state.encode("ascii"), STATE_TTL_SECONDS,
                                                              int(now.timestamp())))
        except (InvalidToken, UnicodeEncodeError, ValueError):
            raise _refuse("state", STATE_INVALID) from None
        tokens = self._exchange(code, str(pending["v"]))
        id_token = tokens.get("id_token")
        if not isinstance(id_token, str):
            raise _refuse("no_id_token")
        return self.verify_id_token(id_token, nonce=str(pending["n"]), now=now)

    def _exchange(self, code: str, verifier: str) -> dict[str, Any]:
        endpoint = str(self.metadata()["token_endpoint"])
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": self.redirect_uri,
                "client_id": self.client_id, "client_secret": self._client_secret, "code_verifier": verifier}
        try:
            response = self._http.post(endpoint, data=form, timeout=self._timeout,
                                       headers={"Accept": "application/json"})
        except requests.RequestException as exc:
            raise ConnectorError(f"the token endpoint is unreachable ({type(exc).__name__})", connector=CONNECTOR,
                                 retryable=True) from None
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code in (400, 401):  # invalid_grant, invalid_client…: this sign-in cannot succeed
            raise _refuse(f"token_endpoint:{body.get('error', response.status_code)}")
        if response.status_code != 200 or not isinstance(body, dict):
            raise ConnectorError(f"the token endpoint answered {response.status_code}", connector=CONNECTOR,
                                 retryable=response.status_code >= 500 or response.status_code == 429,
                                 status=response.status_code)
        return body

    def verify_id_token(self, id_token: str, *, nonce: str, now: datetime) -> VerifiedIdentity:
        try:
            header = jwt.get_unverified_header(id_token)
        except jwt.PyJWTError:
            raise _refuse("malformed") from None
        if header.get("alg") not in ALGORITHMS:
            raise _refuse("algorithm")
        key = self._signing_key(header.get("kid"))
        try:
            # Times are checked below against our clock, like the API's own tokens.
            claims: dict[str, Any] = jwt.decode(
                id_token, key.key, algorithms=list(ALGORITHMS), audience=self.client_id,
                options={"require": ["iss", "aud", "exp", "iat", "sub"], "verify_exp": False, "verify_iat": False,
                         "verify_nbf": False, "verify_iss": False})
        except jwt.InvalidAudienceError:
            raise _refuse("audience") from None
        except jwt.InvalidSignatureError:
            raise _refuse("signature") from None
        except jwt.PyJWTError:
            raise _refuse("claims") from None
        self._check_claims(claims, nonce=nonce, now=now)
        email = str(claims.get("email") or "").strip().lower()
        if "@" not in email:
            raise _refuse("no_email")
        hosted = claims.get("hd")
        return VerifiedIdentity(issuer=str(claims["iss"]), subject=str(claims["sub"]), email=email,
                                name=str(claims.get("name") or ""), hosted_domain=str(hosted) if hosted else None,
                                issued_at=datetime.fromtimestamp(int(claims["iat"]), UTC))

    def _check_claims(self, claims: dict[str, Any], *, nonce: str, now: datetime) -> None:
        if claims["iss"] not in self._accepted_issuers():
            raise _refuse("issuer")
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if (len(audiences) > 1 or "azp" in claims) and claims.get("azp") != self.client_id:
            raise _refuse("authorized_party")
        moment = now.timestamp()
        try:
            expires, issued = int(claims["exp"]), int(claims["iat"])
        except (TypeError, ValueError):
            raise _refuse("claims") from None
        if expires + CLOCK_SKEW_SECONDS <= moment:
            raise _refuse("expired")
        if issued - CLOCK_SKEW_SECONDS > moment:
            raise _refuse("issued_in_the_future")
        if not hmac.compare_digest(str(claims.get("nonce", "")).encode(), nonce.encode()):
            raise _refuse("nonce")
        if claims.get("email_verified") not in (True, "true"):
            raise _refuse("email_not_verified", EMAIL_NOT_VERIFIED)


def make_identity_provider(settings: Settings) -> OidcProvider | None:
    """Google sign-in when OIDC_CLIENT_ID and OIDC_CLIENT_SECRET are set; otherwise passwords only."""
    if not settings.oidc_enabled or settings.oidc_client_id is None or settings.oidc_client_secret is None:
        return None
    return OidcProvider(issuer=settings.oidc_issuer, client_id=settings.oidc_client_id,
                        client_secret=settings.oidc_client_secret.get_secret_value(),
                        redirect_uri=settings.effective_oidc_redirect_uri, state_secret=settings.effective_secret_key)
