"""What a user reads: the home timeline and notifications (search and trends: discovery.py)."""

from aws_lambda_powertools.event_handler.api_gateway import Router

from chirp.composition import services
from chirp.notifications.model import NotificationPage
from chirp.observability import tracer
from chirp.timelines.model import TimelinePage
from rest_api.caller import caller
from rest_api.schemas import PageCursor, PageLimit

router = Router()


@router.get("/timelines/home")
@tracer.capture_method
def home_timeline(cursor: PageCursor = None, limit: PageLimit = 20) -> TimelinePage:
    return services().timelines.home(caller(router), cursor=cursor, limit=limit)


@router.get("/notifications")
def notifications(cursor: PageCursor = None, limit: PageLimit = 20) -> NotificationPage:
    return services().notifications.page(caller(router), cursor=cursor, limit=limit)
