"""Media uploads: /media/..."""

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router

from chirp.composition import services
from chirp.media.model import MediaRecord, UploadTicket
from rest_api.caller import caller
from rest_api.schemas import CompleteUpload, MediaId, MediaStatus, MediaUpdate, NewUpload, created

router = Router()


@router.post("/media", responses=created(UploadTicket))
def create_upload(body: NewUpload) -> Response[UploadTicket]:
    """A presigned PUT (or, above 8 MiB, presigned parts): the client uploads straight to S3; the transcoder
    picks the object up."""
    ticket = services().media.presign_upload(caller(router), body.content_type, body.size_bytes)
    return Response(201, content_types.APPLICATION_JSON, ticket.model_dump())


@router.get("/media/<media_id>")
def media_status(media_id: MediaId) -> MediaStatus:
    """Its status: 404 for an id never issued (or expired), and for anyone but its owner until it is attached."""
    return _status(services().media.get(caller(router), media_id))


@router.post("/media/<media_id>/complete")
def complete_upload(media_id: MediaId, body: CompleteUpload) -> MediaStatus:
    """Joins the parts of a MULTIPART ticket once every part is uploaded; the transcoder then picks the file up."""
    etags = {part.part_number: part.etag for part in body.parts}
    return _status(services().media.complete_upload(caller(router), media_id, etags))


@router.patch("/media/<media_id>")
def update_media(media_id: MediaId, body: MediaUpdate) -> MediaStatus:
    """Sets its alt text (at most 1,500 characters): the owner's, before it is attached."""
    return _status(services().media.set_alt_text(caller(router), media_id, body.alt_text))


def _status(record: MediaRecord) -> MediaStatus:
    return MediaStatus(
        media_id=record.media_id,
        status=record.status,
        reason=record.result.reason if record.result is not None else None,
        urls=services().media.variant_urls(record),
        alt_text=record.alt_text,
        tweet_id=record.tweet_id,
    )
