#!/usr/bin/env python3
"""A Flask app behind `entraweb proxy`: who is signed in, and their roles.

The proxy signs the user in with Entra ID and passes the request on with
X-MS-CLIENT-PRINCIPAL (base64 JSON, App Service's format) and
X-Entraweb-Assertion (an ES256 JWT). A header alone can be forged by anyone
who reaches this app without the proxy, so every request is refused (403)
unless the assertion verifies with the proxy's public keys (/.auth/keys),
and the principal must name the same user as the assertion.

Settings (environment):
  ENTRAWEB_KEYS_URL  the proxy's keys   (default http://127.0.0.1:4180/.auth/keys)
  APP_ORIGIN         this app's origin as the proxy reaches it, its -upstream
                     without a path: the assertion's audience
                                        (default http://127.0.0.1:8050)
  ENTRAWEB_ISSUER    the proxy's public origin, checked when set
  HOST, PORT         where to listen    (default 127.0.0.1, 8050)

Needs Flask and PyJWT with its crypto extra (Debian: python3-flask
python3-jwt).
"""
import base64
import binascii
import json
import os

import jwt
from flask import Flask, abort, render_template_string, request

KEYS_URL = os.environ.get("ENTRAWEB_KEYS_URL", "http://127.0.0.1:4180/.auth/keys")
APP_ORIGIN = os.environ.get("APP_ORIGIN", "http://127.0.0.1:8050").rstrip("/")
ISSUER = os.environ.get("ENTRAWEB_ISSUER") or None

ROLE_CLAIM = "http://schemas.microsoft.com/ws/2008/06/identity/claims/role"
OID_CLAIM = "http://schemas.microsoft.com/identity/claims/objectidentifier"

# PyJWKClient caches the key set (and each key), fetching again only for a
# key id it has not seen: one fetch, not one per request.
jwks = jwt.PyJWKClient(KEYS_URL, cache_jwk_set=True, lifespan=300)

app = Flask(__name__)


def verified_assertion():
    """The assertion's claims, or None when it is missing or does not verify."""
    token = request.headers.get("X-Entraweb-Assertion", "")
    if not token:
        return None
    try:
        key = jwks.get_signing_key_from_jwt(token)
        return jwt.decode(
            token,
            key.key,
            algorithms=["ES256"],  # never take the algorithm from the token
            audience=APP_ORIGIN,
            issuer=ISSUER,
            leeway=30,
            options={"require": ["exp", "nbf", "iat", "iss", "aud", "sub"]},
        )
    except jwt.PyJWKClientError as e:
        app.logger.warning("proxy keys unavailable: %s", e)
        return None
    except jwt.InvalidTokenError as e:
        app.logger.warning("assertion refused: %s: %s", type(e).__name__, e)
        return None


def client_principal():
    """X-MS-CLIENT-PRINCIPAL decoded: standard base64, then UTF-8 JSON."""
    raw = request.headers.get("X-MS-CLIENT-PRINCIPAL", "")
    try:
        p = json.loads(base64.b64decode(raw, validate=True).decode("utf-8"))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return p if isinstance(p, dict) and isinstance(p.get("claims"), list) else None


def claim_values(principal, *types):
    return [c.get("val", "") for c in principal["claims"]
            if isinstance(c, dict) and c.get("typ") in types]


PAGE = """<!doctype html>
<title>Signed in</title>
<h1>Hello, {{ name }}</h1>
<p>Signed in as {{ username }}.</p>
<h2>Roles</h2>
<ul>{% for r in roles %}<li>{{ r }}</li>{% else %}<li>(none)</li>{% endfor %}</ul>
<p><a href="/.auth/logout">Sign out</a></p>
"""


@app.route("/")
def index():
    claims = verified_assertion()
    if claims is None:
        abort(403)
    principal = client_principal()
    if principal is None:
        abort(403)
    oids = claim_values(principal, OID_CLAIM)
    # The principal must be the assertion's user: headers and assertion
    # come from the proxy together.
    if oids != [claims.get("oid", claims["sub"])]:
        abort(403)
    role_typ = principal.get("role_typ") or ROLE_CLAIM
    roles = sorted(set(claim_values(principal, "roles", role_typ)))
    names = claim_values(principal, "name")
    usernames = claim_values(principal, "preferred_username")
    return render_template_string(
        PAGE,
        name=names[0] if names else claims.get("name", ""),
        username=usernames[0] if usernames else claims.get("preferred_username", ""),
        roles=roles,
    )


if __name__ == "__main__":
    app.run(host=os.environ.get("HOST", "127.0.0.1"),
            port=int(os.environ.get("PORT", "8050")))
