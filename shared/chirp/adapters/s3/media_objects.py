"""Media objects in the S3 bucket, with SigV4 presigned URLs."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from chirp.media.ports import PartsRefused, StoredObject

COPY_CHUNK = 1 << 20  # bytes per read while a download streams to its file


class S3MediaObjects:
    def __init__(self, s3_client: Any, bucket: str):
        self.s3, self.bucket = s3_client, bucket

    def upload_url(self, key: str, content_type: str, size_bytes: int, ttl_s: int) -> str:
        # Both headers are signed (X-Amz-SignedHeaders): a body of another length or type fails the signature.
        params = {"Bucket": self.bucket, "Key": key, "ContentType": content_type, "ContentLength": size_bytes}
        return self._presign("put_object", params, ttl_s)

    def start_parts(self, key: str, content_type: str) -> str:
        return self.s3.create_multipart_upload(Bucket=self.bucket, Key=key, ContentType=content_type)["UploadId"]

    def part_url(self, key: str, upload_id: str, part_number: int, size_bytes: int, ttl_s: int) -> str:
        params = {
            "Bucket": self.bucket,
            "Key": key,
            "UploadId": upload_id,
            "PartNumber": part_number,
            "ContentLength": size_bytes,
        }
        return self._presign("upload_part", params, ttl_s)

    def complete_parts(self, key: str, upload_id: str, etags: dict[int, str]) -> None:
        parts = [{"PartNumber": number, "ETag": etag} for number, etag in sorted(etags.items())]
        try:
            self.s3.complete_multipart_upload(
                Bucket=self.bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
            )
        except self.s3.exceptions.ClientError as error:
            code = error.response["Error"]["Code"]
            if code in ("InvalidPart", "InvalidPartOrder", "NoSuchUpload", "EntityTooSmall"):
                raise PartsRefused(f"{code}: {error.response['Error'].get('Message', '')}") from error
            raise

    def download_url(self, key: str, ttl_s: int) -> str:
        return self._presign("get_object", {"Bucket": self.bucket, "Key": key}, ttl_s)

    def read(self, key: str, *, max_bytes: int) -> StoredObject | None:
        try:
            stored = self.s3.get_object(Bucket=self.bucket, Key=key)
        except self.s3.exceptions.NoSuchKey:
            return None
        size = stored["ContentLength"]
        if size > max_bytes:
            stored["Body"].close()
            return StoredObject(size=size, data=None)
        return StoredObject(size=size, data=stored["Body"].read())

    def write(self, key: str, data: bytes, content_type: str) -> None:
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)

    def download(self, key: str, path: Path, *, max_bytes: int) -> int | None:
        try:
            size = self.s3.head_object(Bucket=self.bucket, Key=key)["ContentLength"]
        except self.s3.exceptions.ClientError as error:
            if error.response["Error"]["Code"] in ("404", "NoSuchKey"):
                return None
            raise
        if size <= max_bytes:
            body = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"]
            with body, path.open("wb") as file:
                shutil.copyfileobj(body, file, COPY_CHUNK)  # streamed: a video never sits whole in memory
        return size

    def upload(self, path: Path, key: str, content_type: str) -> None:
        # One PUT from the file (S3 takes up to 5 GB so): the clients are plain botocore, without boto3's
        # managed transfers, whose import every cold start would pay.
        with path.open("rb") as file:
            self.s3.put_object(Bucket=self.bucket, Key=key, Body=file, ContentType=content_type)

    def _presign(self, operation: str, params: dict[str, str | int], ttl_s: int) -> str:
        url = self.s3.generate_presigned_url(operation, Params=params, ExpiresIn=ttl_s)
        # Unless its client asks for SigV4, botocore presigns us-east-1 URLs with the deprecated SigV2 (which the
        # local cloud does not even check): refuse to hand such URLs out.
        if "X-Amz-Signature=" not in url:
            raise RuntimeError("presigned URLs need an S3 client built with Config(signature_version='s3v4')")
        return url
