"""Who is in a voice room right now, across processes.

Redis keys owned here: `bb:roompeers:<room id>` — hash user id → connection token; TTL
ROOM_PRESENCE_S, refreshed by each connection's heartbeat. Gone: nobody has been there for a while.
"""

import redis
from flask import current_app

# KEYS: peers hash. ARGV: user id, token. Forget the user only if this connection is theirs.
_LEAVE = """
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  return redis.call('HDEL', KEYS[1], ARGV[1])
end
return 0
"""


def peers_key(room_id: int) -> str:
    return f"bb:roompeers:{room_id}"


def enter(client: redis.Redis, room_id: int, user_id: int, token: str) -> set[int]:
    """Mark `user_id` present as `token`; everyone present now."""
    key = peers_key(room_id)
    pipe = client.pipeline()
    pipe.hset(key, str(user_id), token)
    pipe.expire(key, current_app.config["ROOM_PRESENCE_S"])
    pipe.hkeys(key)
    return {int(uid) for uid in pipe.execute()[-1]}


def refresh(client: redis.Redis, room_id: int, user_id: int, token: str) -> None:
    key = peers_key(room_id)
    pipe = client.pipeline()
    pipe.hset(key, str(user_id), token)
    pipe.expire(key, current_app.config["ROOM_PRESENCE_S"])
    pipe.execute()


def leave(client: redis.Redis, room_id: int, user_id: int, token: str) -> bool:
    """Forget the user's presence if `token` is still theirs (not a newer reconnect's)."""
    return bool(client.eval(_LEAVE, 1, peers_key(room_id), str(user_id), token))


def is_present(client: redis.Redis, room_id: int, user_id: int) -> bool:
    return bool(client.hexists(peers_key(room_id), str(user_id)))


def anyone_present(client: redis.Redis, room_id: int) -> bool:
    return bool(client.exists(peers_key(room_id)))
