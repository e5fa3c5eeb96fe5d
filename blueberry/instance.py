"""Prepare `instance/` before any process starts: `python -m blueberry.instance`.

The secret key is generated once here, so the web workers, the RQ worker and the scheduler
all sign with the same key (each gunicorn worker generating its own would break sessions).
"""

import secrets
import sys

from blueberry.config import INSTANCE, SECRET_KEY_FILE


def ensure_instance() -> None:
    INSTANCE.mkdir(parents=True, exist_ok=True)
    if not SECRET_KEY_FILE.exists():
        SECRET_KEY_FILE.write_text(secrets.token_urlsafe(48))
        SECRET_KEY_FILE.chmod(0o600)
        print(f"generated a secret key in {SECRET_KEY_FILE}")


if __name__ == "__main__":
    ensure_instance()
    sys.exit(0)
