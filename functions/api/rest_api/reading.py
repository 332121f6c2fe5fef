"""What a user reads: the home timeline and notifications (search and trends: discovery.py)."""

from aws_lambda_powertools.event_handler.api_gateway import Router

from chirp.composition import services
from chirp.engagement.model import EntryPage, NotificationViewPage
from chirp.observability import tracer
from rest_api.caller import caller
from rest_api.schemas import PageCursor, PageLimit

router = Router()


@router.get("/timelines/home")
@tracer.capture_method
def home_timeline(cursor: PageCursor = None, limit: PageLimit = 20) -> EntryPage:
    """Tweets and retweets of the caller and whom they follow, newest first, each tweet once, with counts."""
    viewer = caller(router)
    return services().engagement.timeline(services().timelines.home(viewer, cursor=cursor, limit=limit), viewer)


@router.get("/notifications")
def notifications(cursor: PageCursor = None, limit: PageLimit = 20) -> NotificationViewPage:
    """Mentions, replies, quotes, follows, and likes and retweets (one notification per tweet that updates), each
    with the tweet it is about, counted."""
    viewer = caller(router)
    page = services().notifications.page(viewer, cursor=cursor, limit=limit)
    return services().engagement.notifications_view(page, viewer)
