"""Media uploads: POST /api/v2/media (and /api/v1/media), GET and PUT /api/v1/media/:id.

The file arrives in the request (multipart/form-data, base64 through API Gateway: about 4.5 MB of file fit a
synchronous Lambda's 6 MB payload) and is stored where a presigned upload lands, so the transcoder makes the
same WebP variants. The answer comes at once with `url: null` (202) while it is processed; the client polls
GET /api/v1/media/:id (206 until ready), as Mastodon's own asynchronous processing asks."""

import time

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router

from chirp.composition import services
from chirp.errors import InvalidInput, NotFound, Unprocessable
from chirp.mastodon import entities
from mastodon_api.context import caller, params

router = Router()
MAX_DESCRIPTION = 1500
V1_WAIT_S = 8.0  # the synchronous v1 upload waits this long for the transcoder at most


def _attachment(media_id: str) -> tuple[dict, bool]:
    """The attachment as it is now, and whether it is processed."""
    media = services().media
    try:
        record = media.get(caller(router), media_id)  # an id never issued, or another's: 404
    except (NotFound, InvalidInput) as error:
        raise NotFound("Record not found") from error
    result = record.result
    if result is not None and result.status == "rejected":
        raise Unprocessable(f"the file could not be processed: {result.reason}")
    urls = media.variant_urls(record)
    description = services().client_store.media_descriptions([media_id]).get(media_id)
    return entities.media_attachment(media_id, result, urls, description), result is not None


def _description() -> str | None:
    description = params(router).get("description")
    if description is not None and len(description) > MAX_DESCRIPTION:
        raise InvalidInput(f"description is at most {MAX_DESCRIPTION} characters")
    return description


def _upload() -> str:
    upload = params(router).files.get("file")
    if upload is None:
        raise InvalidInput("send the file as the multipart/form-data field `file`")
    description = _description()
    user_id = caller(router)
    media_id = services().media.store_upload(user_id, upload.data, upload.content_type)
    if description:
        services().client_store.put_media_description(media_id, user_id, description)
    return media_id


def _answer(attachment: dict, processed: bool) -> Response:
    return Response(200 if processed else 202, content_types.APPLICATION_JSON, attachment)


@router.post("/api/v2/media")
def upload_v2() -> Response:
    media_id = _upload()
    return _answer(*_attachment_processing(media_id))


def _attachment_processing(media_id: str) -> tuple[dict, bool]:
    """A fresh upload: not processed yet (nothing to read)."""
    description = params(router).get("description")
    return entities.media_attachment(media_id, None, {}, description), False


@router.post("/api/v1/media")
def upload_v1() -> Response:
    """The synchronous upload of Mastodon 1.x-3.x: waits a little for the variants."""
    media_id = _upload()
    deadline = time.monotonic() + V1_WAIT_S
    attachment, processed = _attachment_processing(media_id)
    while not processed and time.monotonic() < deadline:
        time.sleep(0.3)
        attachment, processed = _attachment(media_id)
    return _answer(attachment, processed)


@router.get("/api/v1/media/<media_id>")
def get_media(media_id: str) -> Response:
    attachment, processed = _attachment(media_id)
    return Response(200 if processed else 206, content_types.APPLICATION_JSON, attachment)


@router.put("/api/v1/media/<media_id>")
def update_media(media_id: str) -> Response:
    description = _description()
    _, _ = _attachment(media_id)  # the caller's own, or 404
    if description is not None:
        services().client_store.put_media_description(media_id, caller(router), description)
    attachment, processed = _attachment(media_id)
    return Response(200 if processed else 206, content_types.APPLICATION_JSON, attachment)
