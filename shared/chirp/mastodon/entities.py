"""Chirp's models as Mastodon's entities (https://docs.joinmastodon.org/entities/): pure functions of what the
services return, so every shape is unit-tested against Mastodon's OpenAPI description without a server.

Every id is a string (Snowflake ids exceed 2**53), every time ISO 8601 in UTC, text is safe HTML: escaped,
with mentions of known accounts, hashtags and links as Mastodon marks them up.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

from chirp.markers.model import Marker
from chirp.media.model import ALLOWED_TYPES, MAX_UPLOAD_BYTES, TranscodeResult
from chirp.notifications.model import Notification
from chirp.oauth.model import ClientApp, IssuedToken
from chirp.social.model import Profile
from chirp.trends.rules import Trend
from chirp.tweets.model import MAX_MEDIA, Tweet
from chirp.tweets.text import MAX_CHARS

# The Mastodon version and API version Chirp answers as: clients decide what to call by them (Mastodon.py
# needs at least 4.3.0 and api_versions.mastodon to use v2 media, search and trends without probing forever).
MASTODON_VERSION = "4.3.0 (compatible; Chirp 1.0)"
API_VERSIONS = {"mastodon": 2}
SOURCE_URL = "https://github.com/chirp-social/chirp"
# Tokens of text that HTML marks up, in Chirp's own syntax (chirp.tweets.text): a mention, a hashtag, a link.
_TOKENS = re.compile(
    r"(?P<mention>(?<![\w@])@(?P<handle>[A-Za-z0-9_]{1,15}))"
    r"|(?P<hashtag>(?<![\w#])#(?P<tag>\w{1,100}))"
    r"|(?P<link>https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]])"
)
# Chirp's notification kinds as Mastodon's types (a reply is a mention there).
NOTIFICATION_TYPES = {
    "mention": "mention",
    "reply": "mention",
    "quote": "quote",
    "follow": "follow",
    "like": "favourite",
    "retweet": "reblog",
}


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def iso_day(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).date().isoformat()


def content_html(text: str, base: str, known_handles: dict[str, str] | None = None) -> str:
    """The text as Mastodon's safe HTML: paragraphs, line breaks, every character escaped; mentions of known
    accounts (`known_handles`: lower-cased handle -> the account's handle), hashtags and http(s) links become
    links."""
    known_handles = known_handles or {}
    paragraphs = [p for p in re.split(r"\n\s*\n", text.replace("\r\n", "\n")) if p.strip()] or [""]
    return "".join(f"<p>{_inline(p, base, known_handles).replace(chr(10), '<br />')}</p>" for p in paragraphs)


def _inline(text: str, base: str, known_handles: dict[str, str]) -> str:
    out, at = [], 0
    for match in _TOKENS.finditer(text):
        out.append(html.escape(text[at : match.start()]))
        at = match.end()
        if match["mention"] and match["handle"].lower() in known_handles:
            handle = html.escape(known_handles[match["handle"].lower()])
            out.append(
                f'<span class="h-card" translate="no"><a href="{base}/@{handle}" class="u-url mention">'
                f"@<span>{handle}</span></a></span>"
            )
        elif match["hashtag"]:
            tag = html.escape(match["tag"])
            out.append(f'<a href="{base}/tags/{tag.lower()}" class="mention hashtag" rel="tag">#<span>{tag}</span></a>')
        elif match["link"]:
            url = html.escape(match["link"])
            out.append(f'<a href="{url}" rel="nofollow noopener" translate="no" target="_blank">{url}</a>')
        else:
            out.append(html.escape(match[0]))
    out.append(html.escape(text[at:]))
    return "".join(out)


def account(profile: Profile, base: str, *, credential: bool = False) -> dict:
    """An Account; with `credential`, the CredentialAccount of the caller (verify_credentials)."""
    default_image = f"{base}/avatars/original/missing.png"
    entity = {
        "id": profile.user_id,
        "username": profile.handle,
        "acct": profile.handle,
        "url": f"{base}/@{profile.handle}",
        "uri": f"{base}/users/{profile.handle}",
        "display_name": profile.display_name,
        "note": "",
        "avatar": default_image,
        "avatar_static": default_image,
        "header": f"{base}/headers/original/missing.png",
        "header_static": f"{base}/headers/original/missing.png",
        "locked": False,
        "fields": [],
        "emojis": [],
        "bot": False,
        "group": False,
        "discoverable": True,
        "indexable": True,
        "noindex": False,
        "roles": [],
        "created_at": iso(profile.created_at_ms),
        "last_status_at": None,
        "statuses_count": profile.tweets_count,
        "followers_count": profile.followers_count,
        "following_count": profile.following_count,
    }
    if credential:
        entity["source"] = {
            "privacy": "public",
            "sensitive": False,
            "language": None,
            "note": "",
            "fields": [],
            "follow_requests_count": 0,
            "hide_collections": False,
            "discoverable": True,
            "indexable": True,
        }
        # Everyone has Mastodon's base role (id -99, no permissions): Chirp has no moderators.
        entity["role"] = {"id": "-99", "name": "", "color": "", "permissions": "0", "highlighted": False}
    return entity


def mention(profile: Profile, base: str) -> dict:
    return {
        "id": profile.user_id,
        "username": profile.handle,
        "acct": profile.handle,
        "url": f"{base}/@{profile.handle}",
    }


def status_tag(name: str, base: str) -> dict:
    return {"name": name, "url": f"{base}/tags/{name}"}


def status(
    tweet: Tweet,
    author: Profile,
    base: str,
    *,
    mentioned: list[Profile] = (),
    media: list[dict] = (),
    in_reply_to_account_id: str | None = None,
    with_source: bool = False,
) -> dict:
    """A Status. `tweet` with its counts and the viewer's flags (a TweetView) or without (zeros, false);
    `mentioned`: the profiles of the handles it mentions that exist; `media`: its attachments."""
    counts = {
        field: getattr(tweet, field, 0) for field in ("like_count", "retweet_count", "reply_count", "quote_count")
    }
    entity = {
        "id": str(tweet.tweet_id),
        "uri": f"{base}/users/{author.handle}/statuses/{tweet.tweet_id}",
        "url": f"{base}/@{author.handle}/{tweet.tweet_id}",
        "created_at": iso(tweet.created_at_ms),
        "account": account(author, base),
        "content": content_html(tweet.text, base, {p.handle.lower(): p.handle for p in mentioned}),
        "visibility": "public",
        "sensitive": False,
        "spoiler_text": "",
        "media_attachments": list(media),
        "application": None,
        "mentions": [mention(p, base) for p in mentioned],
        "tags": [status_tag(tag, base) for tag in tweet.hashtags],
        "emojis": [],
        "reblogs_count": counts["retweet_count"],
        "favourites_count": counts["like_count"],
        "replies_count": counts["reply_count"],
        "quotes_count": counts["quote_count"],
        "in_reply_to_id": tweet.reply_to_id_str,
        "in_reply_to_account_id": in_reply_to_account_id if tweet.reply_to_id is not None else None,
        "reblog": None,
        "poll": None,
        "card": None,
        "language": None,
        "edited_at": None,
        "favourited": bool(getattr(tweet, "liked", False)),
        "reblogged": bool(getattr(tweet, "retweeted", False)),
        "muted": False,
        "bookmarked": bool(getattr(tweet, "bookmarked", False)),
        "pinned": False,
        "filtered": [],
    }
    if with_source:  # what a deleted status answers, for "delete and redraft"
        entity["text"] = tweet.text
    return entity


def reblog(retweet_id: int, created_at_ms: int, reblogger: Profile, original: dict, base: str) -> dict:
    """The Status a reblog (a Chirp retweet) is: its own id and time, by whoever reblogged, empty, with the
    original in `reblog` (and the original's counts and the viewer's flags, as Mastodon shows them)."""
    entity = {
        **original,
        "id": str(retweet_id),
        "uri": f"{base}/users/{reblogger.handle}/statuses/{retweet_id}/activity",
        "url": None,
        "created_at": iso(created_at_ms),
        "account": account(reblogger, base),
        "content": "",
        "media_attachments": [],
        "mentions": [],
        "tags": [],
        "in_reply_to_id": None,
        "in_reply_to_account_id": None,
        "reblog": original,
    }
    entity.pop("text", None)
    return entity


# Chirp's variant -> the attachment's meta entry (a video's: its largest rendition up to 720p, and the poster)
MASTODON_SIZES = {"orig": "original", "medium": "small", "720p": "original", "poster": "small"}


def media_attachment(
    media_id: str, result: TranscodeResult | None, urls: dict[str, str], description: str | None
) -> dict:
    """A MediaAttachment: `url` is null while the upload is processing (the client polls GET /api/v1/media/:id)."""
    meta: dict = {}
    ready = result is not None and result.status == "ready"
    if ready:
        for name, variant in result.variants.items():
            if name in MASTODON_SIZES:
                size = {"width": variant.width, "height": variant.height}
                size.update(size=f"{variant.width}x{variant.height}", aspect=round(variant.width / variant.height, 4))
                meta[MASTODON_SIZES[name]] = size
    video = ready and result.kind == "video"
    return {
        "id": media_id,
        "type": ("gifv" if result.source.format == "image/gif" else "video") if video else "image",
        "url": (urls.get("720p") or urls.get("360p") if video else urls.get("orig")) if ready else None,
        "preview_url": urls.get("poster" if video else "medium") if ready else None,
        "remote_url": None,
        "meta": meta,
        "description": description,
        "blurhash": result.blurhash if ready else None,
    }


def relationship(other_id: str, edges: dict) -> dict:
    """A Relationship from the social service's edges (FOLLOWS, BLOCKS, MUTES, followed_by, blocked_by)."""
    muting = bool(edges["MUTES"])
    return {
        "id": other_id,
        "following": bool(edges["FOLLOWS"]),
        "showing_reblogs": bool(edges["FOLLOWS"]),
        "notifying": False,
        "languages": None,
        "followed_by": bool(edges["followed_by"]),
        "blocking": bool(edges["BLOCKS"]),
        "blocked_by": bool(edges["blocked_by"]),
        "muting": muting,
        "muting_notifications": muting,
        "muting_expires_at": None,
        "requested": False,
        "requested_by": False,
        "domain_blocking": False,
        "endorsed": False,
        "note": "",
    }


def notification(item: Notification, actor: Profile, base: str, status_entity: dict | None) -> dict:
    return {
        "id": str(item.id),
        "type": NOTIFICATION_TYPES.get(item.kind, item.kind),
        "group_key": f"ungrouped-{item.id}",
        "created_at": iso(item.at_ms),
        "account": account(actor, base),
        "status": status_entity,
    }


def marker(item: Marker) -> dict:
    return {"last_read_id": str(item.last_read_id), "version": item.version, "updated_at": iso(item.updated_at_ms)}


def tag(name: str, base: str, history: list[dict] | None = None) -> dict:
    return {"id": name, "name": name, "url": f"{base}/tags/{name}", "history": history or [], "following": False}


def trend_tag(trend: Trend, base: str, now_ms: int) -> dict:
    """A trending Tag. Chirp ranks tags by distinct accounts in the last hour against their usual hourly rate, so
    today's history entry holds the last hour's accounts (Mastodon's holds the day's)."""
    day_s = now_ms // 1000 // 86_400 * 86_400
    accounts = str(round(trend.accounts_last_hour))
    return tag(trend.hashtag, base, [{"day": str(day_s), "uses": accounts, "accounts": accounts}])


def application(app: ClientApp, *, secret: str | None = None) -> dict:
    """An Application; with its secret, the CredentialApplication answered once, at registration."""
    entity = {
        "id": app.client_id[:16],
        "name": app.name,
        "website": app.website,
        "scopes": app.scopes,
        "redirect_uri": "\n".join(app.redirect_uris),
        "redirect_uris": app.redirect_uris,
        "vapid_key": "",
    }
    if secret is not None:
        entity.update(client_id=app.client_id, client_secret=secret, client_secret_expires_at=0)
    return entity


def preferences() -> dict:
    """A user's Preferences: Chirp's, the same for everyone (every status public, no content warnings)."""
    return {
        "posting:default:visibility": "public",
        "posting:default:sensitive": False,
        "posting:default:language": None,
        "reading:expand:media": "default",
        "reading:expand:spoilers": False,
    }


def token(issued: IssuedToken) -> dict:
    return {
        "access_token": issued.access_token,
        "token_type": "Bearer",
        "scope": " ".join(issued.scopes),
        "created_at": issued.created_at_ms // 1000,
    }


def _configuration() -> dict:
    image_types = list(ALLOWED_TYPES)
    return {
        "accounts": {"max_featured_tags": 0, "max_pinned_statuses": 0},
        "statuses": {
            "max_characters": MAX_CHARS,
            "max_media_attachments": MAX_MEDIA,
            "characters_reserved_per_url": 23,
        },
        "media_attachments": {
            "supported_mime_types": image_types,
            "image_size_limit": MAX_UPLOAD_BYTES,
            "image_matrix_limit": 40_000_000,
            "video_size_limit": 0,
            "video_frame_rate_limit": 0,
            "video_matrix_limit": 0,
        },
        "polls": {"max_options": 0, "max_characters_per_option": 0, "min_expiration": 0, "max_expiration": 0},
    }


INSTANCE_TITLE = "Chirp"
INSTANCE_DESCRIPTION = "A serverless, Twitter-like backend that speaks the Mastodon client API."


def _contact(domain: str) -> str:
    return f"admin@{domain.split(':')[0]}"


def _streaming(base: str, streaming_url: str) -> str:
    """Where clients open the streaming API (`<this>/api/v1/streaming`): its own domain where it has one, else this
    instance's address as a WebSocket URL."""
    return streaming_url or base.replace("http", "ws", 1)


def instance_v1(base: str, domain: str, streaming_url: str = "") -> dict:
    return {
        "uri": domain,
        "title": INSTANCE_TITLE,
        "short_description": INSTANCE_DESCRIPTION,
        "description": INSTANCE_DESCRIPTION,
        "email": _contact(domain),
        "version": MASTODON_VERSION,
        "urls": {"streaming_api": _streaming(base, streaming_url)},
        "stats": {"user_count": 0, "status_count": 0, "domain_count": 0},
        "thumbnail": None,
        "languages": ["en"],
        "registrations": False,
        "approval_required": False,
        "invites_enabled": False,
        "configuration": _configuration(),
        "contact_account": None,
        "rules": [],
    }


def instance_v2(base: str, domain: str, streaming_url: str = "") -> dict:
    configuration = _configuration()
    configuration.update(
        urls={"streaming": _streaming(base, streaming_url), "status": None},
        vapid={"public_key": ""},
        translation={"enabled": False},
    )
    return {
        "domain": domain,
        "title": INSTANCE_TITLE,
        "version": MASTODON_VERSION,
        "source_url": SOURCE_URL,
        "description": INSTANCE_DESCRIPTION,
        "usage": {"users": {"active_month": 0}},
        "thumbnail": {"url": f"{base}/thumbnail.png"},
        "icon": [],
        "languages": ["en"],
        "configuration": configuration,
        "registrations": {"enabled": False, "approval_required": False, "message": None, "url": None},
        "api_versions": API_VERSIONS,
        "contact": {"email": _contact(domain), "account": None},
        "rules": [],
    }
