"""Security headers on every response.

Scripts come from our own origin only (htmx runs with allowEval off and no inline styles).
The RQ dashboard under /ops/rq/ is a third-party page with inline scripts: it alone gets a
relaxed policy, and it is staff-only.
"""

from flask import Response, request

STRICT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; connect-src 'self'; font-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
OPS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
OPS_BLUEPRINT = "rq_dashboard"


def add_security_headers(response: Response) -> Response:
    csp = OPS_CSP if request.blueprint == OPS_BLUEPRINT else STRICT_CSP
    response.headers.setdefault("Content-Security-Policy", csp)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    response.headers.setdefault("Permissions-Policy", "geolocation=(self), microphone=(self), camera=()")
    return response
