"""Security headers on every response.

Scripts come from our own origin only (htmx runs with allowEval off and no inline styles).
The RQ dashboard under /ops/rq/ is a third-party page with inline scripts: it alone gets a
relaxed policy, and it is staff-only. Book covers are remote images: their hosts
(`BOOK_COVER_HOSTS`, Aladin's image server by default) may be shown. Forms may also lead to
the configured sign-in providers:
"connect Kakao" posts to us and we redirect there, and browsers check redirects of a form
against `form-action` too.
"""

from urllib.parse import urlsplit

from flask import Response, current_app, request

from blueberry import oauth

STRICT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob: {cover_hosts}; "
    "media-src 'self' blob:; connect-src 'self'; font-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action {form_action}; frame-ancestors 'none'"
)
OPS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
OPS_BLUEPRINT = "rq_dashboard"


def add_security_headers(response: Response) -> Response:
    csp = (
        OPS_CSP
        if request.blueprint == OPS_BLUEPRINT
        else STRICT_CSP.format(form_action=_form_action(), cover_hosts=current_app.config["BOOK_COVER_HOSTS"])
    )
    response.headers.setdefault("Content-Security-Policy", csp)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    response.headers.setdefault("Permissions-Policy", "geolocation=(self), microphone=(self), camera=()")
    return response


def _form_action() -> str:
    origins = current_app.extensions.get("bb_form_action")
    if origins is None:  # once per app: the providers do not change while it runs
        urls = [current_app.config[f"{provider.name.upper()}_AUTHORIZE_URL"] for provider in oauth.enabled()]
        origins = " ".join(["'self'", *sorted({f"{urlsplit(u).scheme}://{urlsplit(u).netloc}" for u in urls})])
        current_app.extensions["bb_form_action"] = origins
    return origins
