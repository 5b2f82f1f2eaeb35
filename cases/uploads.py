"""What a file someone uploads may be, and how a private file goes back out.

One set of checks for attachments, minutes, notice proofs and visit photos:
the size limit, and the type read from the file's own first bytes rather
than from its name or the browser's claim. One way to serve a stored file:
only after the caller checked rights, never sniffed or run by the browser.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.http import FileResponse
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

MAGIC = {
    "application/pdf": b"%PDF-",
    "image/jpeg": b"\xff\xd8\xff",
    "image/png": b"\x89PNG\r\n\x1a\n",
}
EXTENSIONS = {"pdf": "application/pdf", "jpg": "image/jpeg", "jpeg": "image/jpeg",
              "png": "image/png"}  # fmt: skip
# The extension a stored file gets for its detected type.
SUFFIX = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}


def sniff(head: bytes) -> str | None:
    for content_type, magic in MAGIC.items():
        if head.startswith(magic):
            return content_type
    return None


def checked_upload(
    upload: UploadedFile, *, images_only: bool = False, match_extension: bool = True
) -> str:
    """The upload's real content type, or a ValidationError saying why not.

    Photos straight from a phone camera may carry any name, so they are
    checked by content only (`match_extension=False`)."""
    limit = settings.ATTACHMENT_MAX_BYTES
    if (upload.size or 0) > limit:
        raise ValidationError(
            _("文件过大：%(size)s，上限为 %(limit)s。")
            % {"size": filesizeformat(upload.size or 0), "limit": filesizeformat(limit)}
        )
    allowed = {e: t for e, t in EXTENSIONS.items() if not images_only or t.startswith("image/")}
    ext = (upload.name or "").rsplit(".", 1)[-1].lower()
    if match_extension and ext not in allowed:
        if images_only:
            raise ValidationError(_("只接受 JPG 或 PNG 照片。"))
        raise ValidationError(_("只接受 PDF、JPG 或 PNG 文件。"))
    head = upload.read(16)
    upload.seek(0)
    detected = sniff(head)
    if detected is None or detected not in allowed.values():
        if images_only:
            raise ValidationError(_("不是 JPG 或 PNG 照片，请用手机相机拍照或选择相册中的照片。"))
        raise ValidationError(_("文件内容与扩展名不符，或不是 PDF、JPG、PNG 文件。"))
    if match_extension and detected != allowed[ext]:
        raise ValidationError(_("文件内容与扩展名不符，或不是 PDF、JPG、PNG 文件。"))
    return detected


def private_file_response(
    file: File,
    content_type: str | None = None,
    *,
    filename: str = "",
    download: bool = False,
) -> FileResponse:
    """Stream a stored private file. The caller has checked rights and logged
    the access; the headers keep the browser from sniffing or running it."""
    handle = file.open("rb")
    if content_type is None:
        # Older rows store no type: read it from the bytes, as on upload.
        content_type = sniff(handle.read(16)) or "application/octet-stream"
        handle.seek(0)
    response = FileResponse(
        handle, content_type=content_type, as_attachment=download, filename=filename
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
