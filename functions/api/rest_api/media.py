"""Media uploads: /media/..."""

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router

from chirp.composition import services
from chirp.media.model import UploadTicket
from rest_api.caller import caller
from rest_api.schemas import MediaId, MediaStatus, NewUpload, created

router = Router()


@router.post("/media", responses=created(UploadTicket))
def create_upload(body: NewUpload) -> Response[UploadTicket]:
    """A presigned PUT: the client uploads straight to S3; the transcoder picks the object up."""
    ticket = services().media.presign_upload(caller(router), body.content_type, body.size_bytes)
    return Response(201, content_types.APPLICATION_JSON, ticket.model_dump())


@router.get("/media/<media_id>")
def media_status(media_id: MediaId) -> MediaStatus:
    media = services().media
    result = media.status(media_id)
    if result is None:
        return MediaStatus(media_id=media_id, status="processing")
    urls = {name: media.presign_download(media_id, name) for name in result.variants}
    return MediaStatus(media_id=media_id, status=result.status, reason=result.reason, urls=urls)
