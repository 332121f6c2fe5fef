"""Finding tweets: /search and /trends (served by the discovery function)."""

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from chirp.composition import services
from chirp.engagement.model import EntryPage
from chirp.trends.rules import Trend
from rest_api.caller import caller
from rest_api.schemas import PageCursor, PageLimit

router = Router()


@router.get("/search")
def search(
    q: Annotated[str | None, Query(max_length=500)] = None,
    hashtag: Annotated[str | None, Query(max_length=100)] = None,
    author: Annotated[str | None, Query(max_length=128)] = None,
    cursor: PageCursor = None,
    limit: PageLimit = 20,
) -> EntryPage:
    page = services().search.search(q, hashtag=hashtag, author_id=author, cursor=cursor, limit=limit)
    return services().engagement.timeline(page, caller(router))  # counts and the caller's flags on every hit


@router.get("/trends")
def trends(limit: Annotated[int, Query(ge=1, le=50)] = 10) -> list[Trend]:
    return services().trends.top(limit)
