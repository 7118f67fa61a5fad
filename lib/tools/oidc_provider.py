"""A small OpenID Connect provider, to try and to test "Sign in with your company account" (issue #16).

Authlib's server side (the authorization code flow with PKCE and a signed id_token, a discovery document, a JWKS, a
token endpoint and userinfo) served by wsgiref on a loopback port, in a thread. Its sign-in page asks for no
password: whoever opens it chooses which e-mail signs in and whether the provider vouches for it, so it is for
demos and tests only — never in front of real data. Nothing is kept: codes and tokens live in memory.

    python -m lib.tools.oidc_provider            # prints the [auth] section for .streamlit/secrets.toml, then serves
"""
import argparse
import html
import json
import secrets
import socketserver
import threading
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from authlib.common.security import generate_token
from authlib.oauth2 import AuthorizationServer, ResourceProtector
from authlib.oauth2.rfc6749 import OAuth2Error, grants
from authlib.oauth2.rfc6750 import BearerTokenGenerator, BearerTokenValidator
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import OpenIDCode, UserInfoEndpoint
from joserfc.jwk import RSAKey

from lib.tools.oidc_records import SCOPES, Client, Code, Identity, Token, WsgiRequest

# The seeded demo accounts' e-mails (lib/seed): one click each on the sign-in page of a demo.
DEMO_EMAILS = tuple(f"{name}@voiddesk.example"
                    for name in ("lead", "ops", "sales", "finance", "warehouse", "analyst", "admin"))


class _CodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def save_authorization_code(self, code, request):
        data = request.payload.data
        self.server.provider.codes[code] = Code(
            code, request.client.client_id, data.get("redirect_uri"), request.scope, request.user,
            data.get("nonce"), data.get("code_challenge"), data.get("code_challenge_method"))

    def query_authorization_code(self, code, client):
        found = self.server.provider.codes.get(code)
        if found and found.client_id == client.client_id and not found.is_expired():
            return found
        return None

    def delete_authorization_code(self, authorization_code):
        self.server.provider.codes.pop(authorization_code.code, None)

    def authenticate_user(self, authorization_code):
        return authorization_code.user


class _OpenIDCode(OpenIDCode):
    def __init__(self, provider: "OidcProvider"):
        super().__init__(require_nonce=True)
        self.provider = provider

    def exists_nonce(self, nonce, request):
        return any(code.nonce == nonce for code in list(self.provider.codes.values()))

    def resolve_client_private_key(self, client):
        return self.provider.key

    def get_client_algorithm(self, client):
        return "RS256"

    def get_encode_header(self, client):
        return {"alg": "RS256", "kid": self.provider.key.kid}

    def get_client_claims(self, client):
        return {"iss": self.provider.issuer, "aud": [client.client_id]}

    def generate_user_info(self, user, scope):
        return user.claims(scope)


class _TokenValidator(BearerTokenValidator):
    def __init__(self, provider: "OidcProvider"):
        super().__init__()
        self.provider = provider

    def authenticate_token(self, token_string):
        return self.provider.tokens.get(token_string)


class _Protector(ResourceProtector):
    """Finds the request of this thread: Authlib's userinfo endpoint asks for the token without passing it."""

    def __init__(self, provider: "OidcProvider"):
        super().__init__()
        self.current = threading.local()
        self.register_token_validator(_TokenValidator(provider))

    def acquire_token(self, scopes):
        return self.validate_request([scopes] if isinstance(scopes, str) else scopes, self.current.request)


class _UserInfo(UserInfoEndpoint):
    def generate_user_info(self, user, scope):
        return user.claims(scope)

    def get_issuer(self):
        return self.server.provider.issuer


class _Server(AuthorizationServer):
    def __init__(self, provider: "OidcProvider"):
        super().__init__(scopes_supported=list(SCOPES))
        self.provider = provider

    def query_client(self, client_id):
        client = self.provider.client
        return client if client_id == client.client_id else None

    def save_token(self, token, request):
        self.provider.tokens[token["access_token"]] = Token(
            token["access_token"], request.client, request.user, token.get("scope", ""), token["expires_in"])

    def create_oauth2_request(self, request):
        return request

    def handle_response(self, status, body, headers):
        if isinstance(body, dict):
            body = json.dumps(body)
        return status, body, headers

    def send_signal(self, name, *args, **kwargs):
        pass


class _ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):   # the tests read their own output; a request log would drown it
        pass


class OidcProvider:
    """The provider for one client (VoidDesk), on 127.0.0.1: start(), .issuer, .metadata_url, stop()."""

    def __init__(self, redirect_uris: list[str], client_id: str = "voiddesk", client_secret: str | None = None,
                 port: int = 0, quick_picks: tuple[str, ...] = ()):
        self.client = Client(client_id, client_secret or secrets.token_urlsafe(24), list(redirect_uris))
        self.quick_picks = quick_picks
        self.key = RSAKey.generate_key(2048, parameters={"use": "sig", "alg": "RS256"}, auto_kid=True)
        self.codes: dict[str, Code] = {}
        self.tokens: dict[str, Token] = {}
        self.httpd = make_server("127.0.0.1", port, self.wsgi, server_class=_ThreadingServer,
                                 handler_class=_QuietHandler)
        self.issuer = f"http://127.0.0.1:{self.httpd.server_port}"
        self.metadata_url = f"{self.issuer}/.well-known/openid-configuration"
        self.protector = _Protector(self)
        self.server = _Server(self)
        self.server.register_token_generator("default", BearerTokenGenerator(lambda **_: generate_token(42)))
        self.server.register_grant(_CodeGrant, [_OpenIDCode(self), CodeChallenge(required=False)])
        self.server.register_endpoint(_UserInfo(resource_protector=self.protector))
        self._thread: threading.Thread | None = None

    def start(self) -> "OidcProvider":
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="oidc-provider", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def auth_section(self, cookie_secret: str | None = None) -> str:
        """The [auth] section of .streamlit/secrets.toml that points st.login at this provider."""
        values = {"redirect_uri": self.client.redirect_uris[0],
                  "cookie_secret": cookie_secret or secrets.token_urlsafe(32),
                  "client_id": self.client.client_id, "client_secret": self.client.client_secret,
                  "server_metadata_url": self.metadata_url}
        return "[auth]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in values.items())

    def metadata(self) -> dict:
        return {"issuer": self.issuer, "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token", "userinfo_endpoint": f"{self.issuer}/userinfo",
                "jwks_uri": f"{self.issuer}/jwks", "scopes_supported": list(SCOPES),
                "response_types_supported": ["code"], "grant_types_supported": ["authorization_code"],
                "subject_types_supported": ["public"], "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
                "code_challenge_methods_supported": ["S256"],
                "claims_supported": ["sub", "email", "email_verified", "name"]}

    def wsgi(self, environ, start_response):
        path, method = environ.get("PATH_INFO", "/"), environ["REQUEST_METHOD"]
        request = WsgiRequest(environ)
        if path == "/.well-known/openid-configuration":
            status, body, headers = 200, json.dumps(self.metadata()), [("Content-Type", "application/json")]
        elif path == "/jwks":
            keys = {"keys": [self.key.as_dict(private=False)]}
            status, body, headers = 200, json.dumps(keys), [("Content-Type", "application/json")]
        elif path == "/authorize":
            status, body, headers = self._authorize(request, method)
        elif path == "/token" and method == "POST":
            status, body, headers = self.server.create_token_response(request)
        elif path == "/userinfo":
            self.protector.current.request = request
            status, body, headers = self.server.create_endpoint_response("userinfo", request)
        else:
            status, body, headers = 404, "not found", [("Content-Type", "text/plain")]
        reason = {200: "OK", 302: "Found", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found"}
        start_response(f"{status} {reason.get(status, 'Error')}", list(headers))
        return [body.encode() if isinstance(body, str) else body]

    def _authorize(self, request: WsgiRequest, method: str):
        """GET: the sign-in page for a valid request. POST: the chosen e-mail signs in, back to the app."""
        try:
            grant = self.server.get_consent_grant(request)
        except OAuth2Error as error:
            return self.server.handle_error_response(request, error)
        form = request.form
        if method != "POST":
            return 200, self._page(request), [("Content-Type", "text/html; charset=utf-8")]
        email = (form.get("email") or "").strip()
        user = Identity(email, form.get("email_verified") == "yes") if email and "deny" not in form else None
        return self.server.create_authorization_response(request, grant_user=user, grant=grant)

    def _page(self, request: WsgiRequest) -> str:
        action = html.escape(request.uri, quote=True)
        picks = "".join(
            f'<form method="post" action="{action}"><input type="hidden" name="email" value="{html.escape(e)}">'
            f'<input type="hidden" name="email_verified" value="yes">'
            f'<button type="submit">{html.escape(e)}</button></form>' for e in self.quick_picks)
        return (
            "<!doctype html><html><head><meta charset='utf-8'><title>Test identity provider</title></head><body>"
            "<h1>Test identity provider</h1><p>For demos and tests: no password, choose who signs in.</p>"
            f"{picks}<form method='post' action='{action}'>"
            "<label>E-mail <input type='email' name='email' required></label> "
            "<label><input type='checkbox' name='email_verified' value='yes' checked> e-mail verified</label> "
            "<button type='submit'>Sign in</button></form>"
            f"<form method='post' action='{action}'><button type='submit' name='deny' value='1'>Cancel</button></form>"
            "</body></html>")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m lib.tools.oidc_provider",
        description="A test OpenID Connect provider on 127.0.0.1 for trying 'Sign in with your company account'. "
                    "Its sign-in page asks for no password: for demos and tests only. Prints the [auth] section "
                    "to put in .streamlit/secrets.toml, then serves until Ctrl-C.")
    parser.add_argument("--port", type=int, default=9400, help="the provider's port (default 9400)")
    parser.add_argument("--app", default="http://localhost:8501",
                        help="the app's address as the browser opens it (default http://localhost:8501); its "
                             "/oauth2callback is the only redirect URI the provider accepts")
    parser.add_argument("--client-id", default="voiddesk", help="default voiddesk")
    parser.add_argument("--client-secret", help="default: a random one, printed in the [auth] section")
    parser.add_argument("--email", action="append", metavar="EMAIL",
                        help="an e-mail offered with one click on the sign-in page (repeatable; default the demo "
                             "accounts': lead@voiddesk.example, …); any other can be typed in")
    args = parser.parse_args(argv)
    provider = OidcProvider([args.app.rstrip("/") + "/oauth2callback"], args.client_id, args.client_secret,
                            args.port, tuple(args.email or DEMO_EMAILS))
    print(f"# OpenID Connect test provider at {provider.issuer}; put this in .streamlit/secrets.toml:\n")
    print(provider.auth_section(), flush=True)
    try:
        provider.httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        provider.httpd.server_close()


if __name__ == "__main__":
    main()
