"""SQL models, one module per domain. Importing this package registers every table."""

from blueberry.models.matching import MatchSetting
from blueberry.models.notification import Notification
from blueberry.models.user import User, UserSession

__all__ = ["MatchSetting", "Notification", "User", "UserSession"]
