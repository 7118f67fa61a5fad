"""What the test OpenID Connect provider (lib.tools.oidc_provider) works with, in the shapes Authlib's server side
asks for: who signs in, the one client, authorization codes and access tokens (kept in memory), and a request made
from a WSGI environ (Authlib ships adapters for Flask and Django only)."""
import hashlib
import hmac
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qs
from wsgiref.util import request_uri

from authlib.oauth2 import OAuth2Request
from authlib.oauth2.rfc6749 import AuthorizationCodeMixin, ClientMixin, TokenMixin
from authlib.oidc.core import UserInfo

SCOPES = ("openid", "email", "profile")
CODE_SECONDS = 300   # an authorization code is good for this long (RFC 6749 recommends at most 10 minutes)


@dataclass(frozen=True)
class Identity:
    """Who signs in at the provider: what goes into the id_token."""

    email: str
    email_verified: bool = True

    @property
    def sub(self) -> str:   # stable per e-mail, as a real provider's subject is per person
        return hashlib.sha256(self.email.lower().encode()).hexdigest()[:24]

    def claims(self, scope: str) -> dict:
        granted = (scope or "").split()
        info = UserInfo(sub=self.sub)
        if "email" in granted:
            info.update(email=self.email, email_verified=self.email_verified)
        if "profile" in granted:
            info["name"] = self.email.split("@")[0].replace(".", " ").title()
        return info


@dataclass
class Client(ClientMixin):
    client_id: str
    client_secret: str
    redirect_uris: list[str]
    client_metadata: dict = field(default_factory=dict)

    def get_client_id(self):
        return self.client_id

    def get_default_redirect_uri(self):
        return self.redirect_uris[0]

    def get_allowed_scope(self, scope):
        return " ".join(s for s in (scope or "").split() if s in SCOPES)

    def check_redirect_uri(self, redirect_uri):
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret):
        return hmac.compare_digest(client_secret.encode(), self.client_secret.encode())

    def check_endpoint_auth_method(self, method, endpoint):
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type):
        return response_type == "code"

    def check_grant_type(self, grant_type):
        return grant_type == "authorization_code"


@dataclass
class Code(AuthorizationCodeMixin):
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user: Identity
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int = field(default_factory=lambda: int(time.time()))

    def get_redirect_uri(self):
        return self.redirect_uri

    def get_scope(self):
        return self.scope

    def get_nonce(self):
        return self.nonce

    def get_auth_time(self):
        return self.auth_time

    def get_acr(self):
        return None

    def get_amr(self):
        return None

    def is_expired(self) -> bool:
        return time.time() > self.auth_time + CODE_SECONDS


@dataclass
class Token(TokenMixin):
    access_token: str
    client: Client
    user: Identity
    scope: str
    expires_in: int
    issued_at: float = field(default_factory=time.time)

    def check_client(self, client):
        return client.get_client_id() == self.client.client_id

    def get_scope(self):
        return self.scope

    def get_expires_in(self):
        return self.expires_in

    def is_expired(self):
        return time.time() > self.issued_at + self.expires_in

    def is_revoked(self):
        return False

    def get_user(self):
        return self.user

    def get_client(self):
        return self.client


class _Payload:
    """The request's parameters, query and form together, as Authlib's grants read them."""

    def __init__(self, lists: dict[str, list[str]]):
        self.datalist = lists
        self.data = {k: v[0] for k, v in lists.items()}

    client_id = property(lambda self: self.data.get("client_id"))
    redirect_uri = property(lambda self: self.data.get("redirect_uri"))
    scope = property(lambda self: self.data.get("scope"))
    state = property(lambda self: self.data.get("state"))
    grant_type = property(lambda self: self.data.get("grant_type"))

    @property
    def response_type(self):
        value = self.data.get("response_type")
        return " ".join(sorted(value.split())) if value and " " in value else value


class WsgiRequest(OAuth2Request):
    """An Authlib request from a WSGI environ."""

    def __init__(self, environ: dict):
        headers = {key[5:].replace("_", "-").title(): value for key, value in environ.items()
                   if key.startswith("HTTP_")}
        super().__init__(environ["REQUEST_METHOD"], request_uri(environ), headers=headers)
        self._args = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        self._form = {}
        if environ["REQUEST_METHOD"] == "POST":
            size = int(environ.get("CONTENT_LENGTH") or 0)
            self._form = parse_qs(environ["wsgi.input"].read(size).decode(), keep_blank_values=True)
        merged = {k: list(v) for k, v in self._args.items()}
        for k, v in self._form.items():
            merged.setdefault(k, []).extend(v)
        self.payload = _Payload(merged)

    @property
    def args(self):
        return {k: v[0] for k, v in self._args.items()}

    @property
    def form(self):
        return {k: v[0] for k, v in self._form.items()}
