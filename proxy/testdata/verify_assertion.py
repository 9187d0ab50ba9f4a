#!/usr/bin/env python3
"""Verify entraweb proxy's X-Entraweb-Assertion with PyJWT.

An upstream written in Python (Flask, Dash, Django) checks who the user
is with the proxy's public keys instead of trusting a plain header:

    from verify_assertion import verify
    claims = verify(request.headers["X-Entraweb-Assertion"])

Needs PyJWT with its crypto extra (Debian: python3-jwt, which brings
python3-cryptography). Run as a script it verifies one token:

    verify_assertion.py JWKS_URL AUDIENCE ISSUER TOKEN
"""
import json
import sys

import jwt

# The proxy's keys: /.auth/keys on its public or internal address.
JWKS_URL = "http://127.0.0.1:4180/.auth/keys"
# This app's origin as the proxy reaches it (the proxy's -upstream).
AUDIENCE = "http://127.0.0.1:8050"
# The proxy's public origin.
ISSUER = "https://app.example.com"

_clients = {}


def verify(token, jwks_url=JWKS_URL, audience=AUDIENCE, issuer=ISSUER):
    """Return the assertion's claims, or raise jwt.InvalidTokenError."""
    client = _clients.get(jwks_url)
    if client is None:
        # PyJWKClient caches the keys and fetches again for an unknown kid.
        client = _clients[jwks_url] = jwt.PyJWKClient(jwks_url)
    key = client.get_signing_key_from_jwt(token)
    return jwt.decode(
        token,
        key.key,
        algorithms=["ES256"],  # never take the algorithm from the token
        audience=audience,
        issuer=issuer,
        leeway=30,
        options={"require": ["exp", "nbf", "iat", "iss", "aud", "sub"]},
    )


if __name__ == "__main__":
    jwks_url, audience, issuer, token = sys.argv[1:5]
    try:
        print(json.dumps(verify(token, jwks_url, audience, issuer)))
    except jwt.InvalidTokenError as e:
        print("invalid: %s: %s" % (type(e).__name__, e), file=sys.stderr)
        sys.exit(1)
