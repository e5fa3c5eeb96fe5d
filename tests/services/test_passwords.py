"""Password hashing must not stall the gevent loop: other greenlets keep running meanwhile."""

import subprocess
import sys

from tests.servers import ROOT

PROBE = """
from gevent import monkey; monkey.patch_all()
import gevent, time
from blueberry import create_app
from blueberry.services.passwords import hash_password, verify_password

app = create_app({"SECRET_KEY": "x", "PASSWORD_HASH_METHOD": "scrypt:65536:8:1"})
ticks = []
def ticker():
    while True:
        ticks.append(time.monotonic()); gevent.sleep(0.005)
with app.app_context():
    gevent.spawn(ticker); gevent.sleep(0.02)
    before = len(ticks)
    digest = hash_password("correct-horse")
    ok = verify_password(digest, "correct-horse") and not verify_password(digest, "wrong")
    during = len(ticks) - before
print(during, ok)
"""


def test_hashing_runs_off_the_event_loop():
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, check=True)
    during, ok = out.stdout.split()
    assert ok == "True"
    # A hash and two checks at this cost take well over 50 ms; the ticker must have kept going.
    assert int(during) >= 5, out.stdout
