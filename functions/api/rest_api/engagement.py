"""Likes, retweets and bookmarks: /tweets/{id}/like, /tweets/{id}/retweet, /tweets/{id}/bookmark, who engaged,
what a user liked, and the caller's bookmarks (/bookmarks: theirs alone, nobody else sees them).

Every act is idempotent: liking twice is one like, undoing what is not there answers the same 200. A like,
retweet or bookmark of a retweet engages the tweet it shows.
"""

from aws_lambda_powertools.event_handler.api_gateway import Router

from chirp.composition import services
from chirp.engagement.model import BookmarkState, EngagementState, Kind, PostPage
from chirp.observability import metrics, tracer
from chirp.social.model import UserPage
from rest_api.caller import caller
from rest_api.schemas import PageCursor, PageLimit, TweetId, UserId

router = Router()


def _counted(name: str, state: EngagementState) -> EngagementState:
    metrics.add_metric(name=name, unit="Count", value=1)
    return state


@router.post("/tweets/<tweet_id>/like")
@tracer.capture_method
def like(tweet_id: TweetId) -> EngagementState:
    return _counted("Likes", services().engagement.like(caller(router), tweet_id))


@router.delete("/tweets/<tweet_id>/like")
def unlike(tweet_id: TweetId) -> EngagementState:
    return _counted("Unlikes", services().engagement.unlike(caller(router), tweet_id))


@router.get("/tweets/<tweet_id>/likes")
def likers(tweet_id: TweetId, cursor: PageCursor = None, limit: PageLimit = 20) -> UserPage:
    """Who liked the tweet, newest first."""
    return services().engagement.engagers(Kind.LIKE, tweet_id, cursor=cursor, limit=limit)


@router.post("/tweets/<tweet_id>/retweet")
@tracer.capture_method
def retweet(tweet_id: TweetId) -> EngagementState:
    return _counted("Retweets", services().engagement.retweet(caller(router), tweet_id))


@router.delete("/tweets/<tweet_id>/retweet")
def unretweet(tweet_id: TweetId) -> EngagementState:
    return _counted("Unretweets", services().engagement.unretweet(caller(router), tweet_id))


@router.get("/tweets/<tweet_id>/retweets")
def retweeters(tweet_id: TweetId, cursor: PageCursor = None, limit: PageLimit = 20) -> UserPage:
    """Who retweeted the tweet, newest first."""
    return services().engagement.engagers(Kind.RETWEET, tweet_id, cursor=cursor, limit=limit)


@router.get("/users/<user_id>/likes")
def liked(user_id: UserId, cursor: PageCursor = None, limit: PageLimit = 20) -> PostPage:
    """What the user liked (`me`: the caller), most recently liked first."""
    viewer = caller(router)
    user_id = viewer if user_id == "me" else user_id
    return services().engagement.likes_of(user_id, viewer_id=viewer, cursor=cursor, limit=limit)


@router.post("/tweets/<tweet_id>/bookmark")
def bookmark(tweet_id: TweetId) -> BookmarkState:
    return services().engagement.bookmark(caller(router), tweet_id)


@router.delete("/tweets/<tweet_id>/bookmark")
def unbookmark(tweet_id: TweetId) -> BookmarkState:
    return services().engagement.unbookmark(caller(router), tweet_id)


@router.get("/bookmarks")
def bookmarks(cursor: PageCursor = None, limit: PageLimit = 20) -> PostPage:
    """The caller's bookmarks, most recently bookmarked first."""
    return services().engagement.bookmarks_of(caller(router), cursor=cursor, limit=limit)
