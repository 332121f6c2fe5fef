"""Media: presigned uploads and transcoding into clean variants."""
