"""Finding tweets: /search and /trends (served by the discovery function)."""

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from chirp.composition import services
from chirp.engagement.model import EntryPage
from chirp.search.query import Sort
from chirp.trends.rules import Trend
from rest_api.caller import caller
from rest_api.schemas import PageCursor, PageLimit

router = Router()


@router.get("/search")
def search(
    q: Annotated[str | None, Query(max_length=500)] = None,
    hashtag: Annotated[str | None, Query(max_length=100)] = None,
    author: Annotated[str | None, Query(max_length=128, description="a user id, or @handle")] = None,
    sort: Sort = Sort.LATEST,
    cursor: PageCursor = None,
    limit: PageLimit = 20,
) -> EntryPage:
    """Tweets matching every word of `q`, its "quoted phrases", #tags and from:handle, without the tweets of
    whom the caller blocks or mutes or who blocks the caller; `latest` first or `top` (most relevant) first."""
    viewer = caller(router)
    page = services().search.search(
        q, hashtag=hashtag, author_id=author, cursor=cursor, limit=limit, viewer_id=viewer, sort=sort
    )
    return services().engagement.timeline(page, viewer)  # counts and the caller's flags on every hit


@router.get("/trends")
def trends(limit: Annotated[int, Query(ge=1, le=50)] = 10) -> list[Trend]:
    return services().trends.top(limit)
