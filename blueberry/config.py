"""Configuration read from the environment (and `.env`), with embedded defaults for development.

Every setting that differs between machines comes from an environment variable; nothing
secret lives in the code. `make run` prepares `instance/` (secret key, SQLite database,
embedded Redis socket) before any process starts, so every process reads the same values.
"""

import json
import os
from datetime import timedelta
from pathlib import Path

from dotenv import load_dotenv

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = Path(os.environ.get("BLUEBERRY_INSTANCE", ROOT / "instance"))
SECRET_KEY_FILE = INSTANCE / "secret_key"
REDIS_SOCKET = INSTANCE / "redis.sock"

load_dotenv(ROOT / ".env")


def _env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def bound_origins(bind: str) -> list[str]:
    """The origins of a page served from `bind` (gunicorn's `host:port`): its 127.0.0.1 and
    localhost forms, and the host itself when it is another name or address."""
    host, _, port = bind.rpartition(":")
    origins = [f"http://127.0.0.1:{port}", f"http://localhost:{port}"]
    if host not in ("127.0.0.1", "localhost", "0.0.0.0", ""):
        origins.append(f"http://{host}:{port}")
    return origins


def allowed_origins(env: str) -> list[str]:
    """Where pages may open websockets from. In development they follow the bound address
    (`BIND=127.0.0.1:8000 make run` just works, as `localhost` too); elsewhere only the explicit
    list, for a public site sits behind a proxy whose address the server cannot know."""
    if "ALLOWED_ORIGINS" in os.environ or env != "development":
        return _env_list("ALLOWED_ORIGINS")
    return bound_origins(os.environ.get("BIND", "127.0.0.1:5000"))


def _json_env(name: str, default: str):
    try:
        return json.loads(os.environ.get(name, default))
    except ValueError as error:
        raise RuntimeError(f"{name} must be JSON: {error}") from error


def _secret_key(env: str) -> str | None:
    """SECRET_KEY from the environment, else the one `make run` generated into instance/."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    if env != "production" and SECRET_KEY_FILE.exists():
        return SECRET_KEY_FILE.read_text().strip()
    return None


def redis_url_default() -> str:
    return os.environ.get("REDIS_URL") or f"unix://{REDIS_SOCKET}"


class Config:
    ENV = os.environ.get("BLUEBERRY_ENV", "development")
    SECRET_KEY = _secret_key(ENV)
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE / 'blueberry.db'}")
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    REDIS_URL = redis_url_default()
    # Web processes must never wait long on Redis: live features degrade instead.
    REDIS_SOCKET_TIMEOUT = float(os.environ.get("REDIS_SOCKET_TIMEOUT", "0.5"))
    REDIS_BREAKER_COOLDOWN = float(os.environ.get("REDIS_BREAKER_COOLDOWN", "2"))
    ALLOWED_ORIGINS = allowed_origins(ENV)

    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_CONTENT_LENGTH", str(1024 * 1024)))
    PERMANENT_SESSION_LIFETIME = timedelta(days=int(os.environ.get("SESSION_DAYS", "30")))
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "0") == "1"
    SESSION_COOKIE_NAME = "bb_session"
    # Pages stay open for hours: a CSRF token is bound to the session, not to a clock.
    WTF_CSRF_TIME_LIMIT = None
    WTF_CSRF_HEADERS = ["X-CSRFToken"]

    RATELIMIT_ENABLED = True
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_KEY_PREFIX = "bb:limit"
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    # Wrong passwords (right ones are given back): per address, and per account from one address,
    # refused beyond; per account from everywhere, slowed by LOGIN_SLOWDOWN_S beyond, never refused.
    LOGIN_LIMIT_PER_IP = os.environ.get("LOGIN_LIMIT_PER_IP", "30 per minute;200 per hour")
    LOGIN_LIMIT_PER_ACCOUNT_IP = os.environ.get("LOGIN_LIMIT_PER_ACCOUNT_IP", "5 per minute;20 per hour")
    LOGIN_SLOWDOWN_PER_ACCOUNT = os.environ.get("LOGIN_SLOWDOWN_PER_ACCOUNT", "10 per minute;50 per hour")
    LOGIN_SLOWDOWN_S = float(os.environ.get("LOGIN_SLOWDOWN_S", "3"))
    SIGNUP_LIMIT_PER_IP = os.environ.get("SIGNUP_LIMIT_PER_IP", "10 per hour")
    # Inline checks while typing (is this username free?) have their own, larger allowance.
    SIGNUP_CHECK_LIMIT_PER_IP = os.environ.get("SIGNUP_CHECK_LIMIT_PER_IP", "300 per hour")
    PROXY_FIX_X_FOR = int(os.environ.get("PROXY_FIX_X_FOR", "0"))

    LANGUAGES = ("en", "ko")
    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "Asia/Seoul"
    BABEL_TRANSLATION_DIRECTORIES = str(ROOT / "blueberry" / "translations")
    PHONE_DEFAULT_REGION = os.environ.get("PHONE_DEFAULT_REGION", "KR")

    PASSWORD_HASH_METHOD = os.environ.get("PASSWORD_HASH_METHOD", "scrypt")
    SSE_KEEPALIVE_S = float(os.environ.get("SSE_KEEPALIVE_S", "15"))
    WS_KEEPALIVE_S = 25.0
    SCHEDULER_INTERVAL = 1
    # An idle RQ worker heartbeats every WORKER_TTL_S - 15 s (and a busy one every 30 s), so
    # /healthz can tell a dead worker within WORKER_STALE_S.
    WORKER_TTL_S = int(os.environ.get("WORKER_TTL_S", "35"))
    WORKER_STALE_S = int(os.environ.get("WORKER_STALE_S", "60"))
    # The `ingest` queue's jobs (feeds, the catalog) run this much nicer than the web: a bulk
    # run's burst of CPU waits for readers' requests instead of queueing them (0: as the web).
    INGEST_NICE = int(os.environ.get("INGEST_NICE", "10"))
    SESSION_PURGE_EVERY_S = int(os.environ.get("SESSION_PURGE_EVERY_S", "3600"))

    # Random matching: the offer window, presence lifetime, how far a join scans the queue.
    MATCH_OFFER_S = float(os.environ.get("MATCH_OFFER_S", "300"))
    MATCH_PRESENCE_S = 60.0
    MATCH_HEARTBEAT_S = 20.0
    MATCH_SCAN_LIMIT = int(os.environ.get("MATCH_SCAN_LIMIT", "200"))
    MATCH_CENSUS_EVERY_S = 5.0
    MATCH_SWEEP_EVERY_S = 30
    # A voice room's presence lives ROOM_PRESENCE_S, refreshed every ROOM_HEARTBEAT_S by its socket.
    ROOM_PRESENCE_S = 60
    ROOM_HEARTBEAT_S = 20.0
    # A voice room with nobody in it for this long is ended by the sweep.
    ROOM_EMPTY_GRACE_S = int(os.environ.get("ROOM_EMPTY_GRACE_S", "120"))
    # "Keep in touch" stays possible this long after a call ends (on the end screen).
    KEEP_IN_TOUCH_AFTER_S = int(os.environ.get("KEEP_IN_TOUCH_AFTER_S", "600"))
    # STUN/TURN for WebRTC, as RTCIceServer JSON. No servers: peers on one network still connect.
    ICE_SERVERS = _json_env("ICE_SERVERS", '[{"urls": "stun:stun.l.google.com:19302"}]')

    # The site's address as mail from a worker links to it (a job has no request to take it from).
    PUBLIC_URL = os.environ.get("PUBLIC_URL", "http://" + os.environ.get("BIND", "127.0.0.1:5000")).rstrip("/")
    # Who has a live connection anywhere (reminders email only those who have none): a connection
    # refreshes its entry every ONLINE_BEAT_S; one of a crashed worker lapses after ONLINE_TTL_S.
    ONLINE_BEAT_S = float(os.environ.get("ONLINE_BEAT_S", "20"))
    ONLINE_TTL_S = float(os.environ.get("ONLINE_TTL_S", "60"))
    # Who is in a group's room: an open window refreshes its entry every PRESENCE_BEAT_S, a lost
    # one lapses after PRESENCE_TTL_S, a closed one after PRESENCE_GRACE_S (a reload shows no leaving).
    PRESENCE_BEAT_S = float(os.environ.get("PRESENCE_BEAT_S", "10"))
    PRESENCE_TTL_S = float(os.environ.get("PRESENCE_TTL_S", "30"))
    PRESENCE_GRACE_S = float(os.environ.get("PRESENCE_GRACE_S", "10"))

    CHAT_SENDS_PER_10S = int(os.environ.get("CHAT_SENDS_PER_10S", "30"))
    # Message requests to people one has not met, per sender per day (delivered or not).
    MESSAGE_REQUESTS_PER_DAY = int(os.environ.get("MESSAGE_REQUESTS_PER_DAY", "20"))
    # Chat images and files: stored outside static/, served to the conversation's members only.
    UPLOAD_DIR = Path(os.environ.get("UPLOAD_DIR", INSTANCE / "uploads"))
    UPLOAD_MAX_BYTES = int(os.environ.get("UPLOAD_MAX_BYTES", str(10 * 1024 * 1024)))
    UPLOAD_QUOTA_BYTES = int(os.environ.get("UPLOAD_QUOTA_BYTES", str(200 * 1024 * 1024)))

    # Kakao and Discord sign-in: a provider's button shows only when its id and secret are set.
    # The endpoints default to the real ones; tests and staging point them at local servers.
    KAKAO_CLIENT_ID = os.environ.get("KAKAO_CLIENT_ID", "")
    KAKAO_CLIENT_SECRET = os.environ.get("KAKAO_CLIENT_SECRET", "")
    KAKAO_AUTHORIZE_URL = os.environ.get("KAKAO_AUTHORIZE_URL", "https://kauth.kakao.com/oauth/authorize")
    KAKAO_TOKEN_URL = os.environ.get("KAKAO_TOKEN_URL", "https://kauth.kakao.com/oauth/token")
    KAKAO_USERINFO_URL = os.environ.get("KAKAO_USERINFO_URL", "https://kapi.kakao.com/v2/user/me")
    DISCORD_CLIENT_ID = os.environ.get("DISCORD_CLIENT_ID", "")
    DISCORD_CLIENT_SECRET = os.environ.get("DISCORD_CLIENT_SECRET", "")
    DISCORD_AUTHORIZE_URL = os.environ.get("DISCORD_AUTHORIZE_URL", "https://discord.com/oauth2/authorize")
    DISCORD_TOKEN_URL = os.environ.get("DISCORD_TOKEN_URL", "https://discord.com/api/oauth2/token")
    DISCORD_USERINFO_URL = os.environ.get("DISCORD_USERINFO_URL", "https://discord.com/api/v10/users/@me")
    OAUTH_TIMEOUT_S = float(os.environ.get("OAUTH_TIMEOUT_S", "10"))
    # Connecting another login or setting a password needs a login this recent.
    RECENT_LOGIN_S = int(os.environ.get("RECENT_LOGIN_S", "600"))

    # Mail goes out from a worker job. No MAIL_SERVER: the mail is written to the log instead.
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "587"))
    MAIL_USE_TLS = os.environ.get("MAIL_USE_TLS", "1") == "1"
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME", "")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD", "")
    MAIL_FROM = os.environ.get("MAIL_FROM", "Blueberry <no-reply@blueberry.local>")
    EMAIL_VERIFY_MAX_AGE_S = 2 * 24 * 3600
    PASSWORD_RESET_MAX_AGE_S = 3600
    PASSWORD_RESET_LIMIT = os.environ.get("PASSWORD_RESET_LIMIT", "5 per hour")
    # Saving an address and resending its link each send a mail.
    EMAIL_SEND_LIMIT = os.environ.get("EMAIL_SEND_LIMIT", "10 per hour")

    # The book catalog: Aladin's bestseller list, daily on the `ingest` queue, when a key is set.
    # Without one, `make run` loads the sample catalog shipped in blueberry/data/.
    ALADIN_TTB_KEY = os.environ.get("ALADIN_TTB_KEY", "")
    ALADIN_BASE_URL = os.environ.get("ALADIN_BASE_URL", "https://www.aladin.co.kr/ttb/api")
    ALADIN_PAGES = int(os.environ.get("ALADIN_PAGES", "4"))  # 50 books a page: 200 in all
    ALADIN_TIMEOUT_S = float(os.environ.get("ALADIN_TIMEOUT_S", "15"))
    # Where covers come from (CSP img-src); space-separated origins.
    BOOK_COVER_HOSTS = os.environ.get("BOOK_COVER_HOSTS", "https://image.aladin.co.kr")
    BOOKS_INGEST_EVERY_S = int(os.environ.get("BOOKS_INGEST_EVERY_S", str(24 * 3600)))
    # Category path segments a book club has no use for (compared to Aladin's real segment names).
    BOOKS_EXCLUDED_SEGMENTS = frozenset(
        segment.strip()
        for segment in os.environ.get(
            "BOOKS_EXCLUDED_SEGMENTS",
            "어린이,유아,만화,외국어,잡지,수험서/자격증,초등학교참고서,중학교참고서,고등학교참고서",
        ).split(",")
        if segment.strip()
    )

    # AI work (recommendations) through any OpenAI-compatible server: OpenAI, or a local Ollama
    # or vLLM at OPENAI_BASE_URL. Without a key, recommendations come from the local scorer.
    OPENAI_API_KEY = os.environ.get("OPENAI_API_KEY", "")
    OPENAI_BASE_URL = os.environ.get("OPENAI_BASE_URL", "") or None
    # gpt-4o-mini is announced to be retired: its successor is this one setting away.
    OPENAI_MODEL = os.environ.get("OPENAI_MODEL", "gpt-4o-mini")
    # One run's whole time with the model, retries and the repair round included.
    AI_BUDGET_S = float(os.environ.get("AI_BUDGET_S", "30"))
    # Processes of `worker.py ai`: each waits on one model call at a time (docs/PERFORMANCE.md).
    AI_WORKERS = int(os.environ.get("AI_WORKERS", "8"))
    RECOMMENDATION_RUNS_PER_DAY = int(os.environ.get("RECOMMENDATION_RUNS_PER_DAY", "10"))

    # News: publishers' RSS/Atom feeds, read hourly on the `ingest` queue. NEWS_SOURCES (a JSON
    # list) or the file NEWS_SOURCES_FILE names them (docs/operations.md); "" for none. Without
    # any article, `make run` loads the samples in blueberry/data/news/.
    NEWS_SOURCES = os.environ.get("NEWS_SOURCES", "")
    NEWS_SOURCES_FILE = os.environ.get("NEWS_SOURCES_FILE", str(ROOT / "blueberry" / "data" / "news" / "sources.json"))
    NEWS_INGEST_EVERY_S = int(os.environ.get("NEWS_INGEST_EVERY_S", "3600"))
    NEWS_FETCH_TIMEOUT_S = float(os.environ.get("NEWS_FETCH_TIMEOUT_S", "15"))
    NEWS_FETCH_THREADS = int(os.environ.get("NEWS_FETCH_THREADS", "4"))
    NEWS_MAX_FEED_BYTES = int(os.environ.get("NEWS_MAX_FEED_BYTES", str(5 * 1024 * 1024)))
    NEWS_MAX_ITEMS = int(os.environ.get("NEWS_MAX_ITEMS", "200"))  # per feed and fetch
    # Feeds and their images on private or loopback addresses: only for development and tests.
    NEWS_ALLOW_PRIVATE_ADDRESSES = os.environ.get("NEWS_ALLOW_PRIVATE_ADDRESSES", "") == "1"
    # Model summaries of new stories (with OPENAI_API_KEY); off: the stories' first sentences only.
    NEWS_AI_SUMMARIES = os.environ.get("NEWS_AI_SUMMARIES", "1") == "1"
    NEWS_AI_BUDGET_S = float(os.environ.get("NEWS_AI_BUDGET_S", "20"))  # per article
    NEWS_PAGE_SIZE = int(os.environ.get("NEWS_PAGE_SIZE", "20"))
    # The list pages' Redis cache (services/news_cache.py); 0 turns it off (the benchmark compares).
    NEWS_CACHE = os.environ.get("NEWS_CACHE", "1") == "1"
    NEWS_CACHE_TTL_S = int(os.environ.get("NEWS_CACHE_TTL_S", "600"))
    NEWS_CACHE_WARM_PAGES = int(os.environ.get("NEWS_CACHE_WARM_PAGES", "2"))  # written by ingestion
    NEWS_CACHE_WAIT_S = float(os.environ.get("NEWS_CACHE_WAIT_S", "0.5"))  # for another request's fill
    # /news/stream needs no session: how often one address may open it (a page opens one, and
    # reconnects after an outage with a growing pause).
    NEWS_STREAM_LIMIT = os.environ.get("NEWS_STREAM_LIMIT", "60 per minute")
    # ... and how many it may hold open at once (an office or a carrier's NAT shares an address).
    NEWS_STREAMS_PER_ADDRESS = int(os.environ.get("NEWS_STREAMS_PER_ADDRESS", "50"))
    NEWS_IMAGE_MAX_BYTES = int(os.environ.get("NEWS_IMAGE_MAX_BYTES", str(3 * 1024 * 1024)))
    NEWS_IMAGE_TIMEOUT_S = float(os.environ.get("NEWS_IMAGE_TIMEOUT_S", "5"))

    # No hoarding: at most this many upcoming meetings a person is going to (or waiting for).
    MEETINGS_GOING_MAX = int(os.environ.get("MEETINGS_GOING_MAX", "10"))
    # How long the first person waiting may take a freed place before it passes on.
    MEETING_OFFER_S = int(os.environ.get("MEETING_OFFER_S", "900"))
    # How often the sweep looks for meeting moments whose timed job never ran.
    MEETING_SWEEP_EVERY_S = int(os.environ.get("MEETING_SWEEP_EVERY_S", "60"))
    # Meeting reminders whose job was lost are sent by this sweep (while still before the start).
    REMINDER_SWEEP_EVERY_S = int(os.environ.get("REMINDER_SWEEP_EVERY_S", "15"))

    TESTING = False


class TestConfig(Config):
    ENV = "test"
    TESTING = True
    SECRET_KEY = "test-secret-key"
    # Real hashing, cheaper work factor: tests create many users.
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"
    WTF_CSRF_ENABLED = True
    LOGIN_LIMIT_PER_IP = "100 per minute"
    LOGIN_LIMIT_PER_ACCOUNT_IP = "5 per minute"
    LOGIN_SLOWDOWN_PER_ACCOUNT = "1000 per minute"
    LOGIN_SLOWDOWN_S = 0.3
    SIGNUP_LIMIT_PER_IP = "1000 per minute"
    SIGNUP_CHECK_LIMIT_PER_IP = "1000 per minute"
    ICE_SERVERS: list = []  # loopback peers need no STUN
    OPENAI_API_KEY = ""  # tests that want a model point these at tests/fakes/openai.py
    OPENAI_BASE_URL = None
    NEWS_SOURCES_FILE = ""  # tests that want feeds point NEWS_SOURCES at tests/fakes/feeds.py
    NEWS_ALLOW_PRIVATE_ADDRESSES = True
