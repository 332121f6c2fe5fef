"""What a user reads: the home timeline, search, trends and notifications."""

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from chirp.composition import services
from chirp.notifications.model import NotificationPage
from chirp.observability import tracer
from chirp.timelines.model import TimelinePage
from chirp.trends.rules import Trend
from rest_api.caller import caller
from rest_api.schemas import PageCursor, PageLimit

router = Router()


@router.get("/timelines/home")
@tracer.capture_method
def home_timeline(cursor: PageCursor = None, limit: PageLimit = 20) -> TimelinePage:
    return services().timelines.home(caller(router), cursor=cursor, limit=limit)


@router.get("/search")
def search(
    q: Annotated[str | None, Query(max_length=500)] = None,
    hashtag: Annotated[str | None, Query(max_length=100)] = None,
    author: Annotated[str | None, Query(max_length=128)] = None,
    cursor: PageCursor = None,
    limit: PageLimit = 20,
) -> TimelinePage:
    return services().search.search(q, hashtag=hashtag, author_id=author, cursor=cursor, limit=limit)


@router.get("/trends")
def trends(limit: Annotated[int, Query(ge=1, le=50)] = 10) -> list[Trend]:
    return services().trends.top(limit)


@router.get("/notifications")
def notifications(cursor: PageCursor = None, limit: PageLimit = 20) -> NotificationPage:
    return services().notifications.page(caller(router), cursor=cursor, limit=limit)
