"""HTMX helpers: one URL serves the page or, for htmx, just its fragment."""

from flask import Response, flash, redirect, render_template, request, url_for


def is_htmx() -> bool:
    """True when htmx made this request (and did not ask for the whole page, as in a boost)."""
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-Boosted") != "true"


def render_page_or_fragment(page: str, fragment: str, **context) -> str:
    """The fragment template for htmx requests, the full page otherwise (same context)."""
    return render_template(fragment if is_htmx() else page, **context)


def add_vary_hx_request(response: Response) -> Response:
    """Caches must key pages and fragments of one URL apart."""
    response.vary.add("HX-Request")
    return response


def notice(message: str, endpoint: str):
    """Say something was done: a toast for htmx, else back to `endpoint` with a flash."""
    if is_htmx():
        return render_template("safety/_done.html", message=message)
    flash(message, "success")
    return redirect(url_for(endpoint), 303)


def go(target: str):
    """Send the browser to `target`: HX-Redirect for htmx (a whole page load), else 303."""
    return ("", 204, {"HX-Redirect": target}) if is_htmx() else redirect(target, 303)
