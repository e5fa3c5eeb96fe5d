"""SQL models, one module per domain. Importing this package registers every table."""

from blueberry.models.book import Author, Book, BookAuthor, BookGram, BookRank, Category
from blueberry.models.chat import Attachment, Conversation, ConversationMember, Message
from blueberry.models.claim import Claim
from blueberry.models.matching import MatchedRoom, MatchHistory, MatchSetting
from blueberry.models.meeting import Meeting, MeetingParticipant
from blueberry.models.message_request import MessageRequest
from blueberry.models.news import Article, ArticleSummary, NewsCategory, NewsSource, SourceCategory
from blueberry.models.notification import Notification
from blueberry.models.recommendation import Recommendation, TasteProfile
from blueberry.models.run import AiRun, JobRun
from blueberry.models.safety import Block, Report
from blueberry.models.user import SocialAccount, User, UserSession

__all__ = [
    "AiRun",
    "Article",
    "ArticleSummary",
    "Attachment",
    "Author",
    "Block",
    "Book",
    "BookAuthor",
    "BookGram",
    "BookRank",
    "Category",
    "Claim",
    "Conversation",
    "ConversationMember",
    "JobRun",
    "Message",
    "MessageRequest",
    "MatchHistory",
    "MatchSetting",
    "Meeting",
    "MeetingParticipant",
    "MatchedRoom",
    "NewsCategory",
    "NewsSource",
    "Notification",
    "Recommendation",
    "Report",
    "SocialAccount",
    "SourceCategory",
    "TasteProfile",
    "User",
    "UserSession",
]
