"""The auditor's export of a period (审计核验包): a zip an auditor checks on
their own computer with the script inside it, nothing of ours needed.

For each hash-chained table, the rows from just after the last daily digest
before the period up to the last digest within it, as JSON lines (content in
canonical form, content digest, seq, chain hash); the digest chain over the
same stretch; the redactions recorded for the exported rows; the script
(accounts/chain_check.py, run as `python3 verify.py <zip>`) and a short
note. The period is bounded by digests so that its first and last rows are
tied to hashes written down on those days.

The export covers every union's rows (one chain holds them all), so only an
auditor at every root union may make it. It can hold millions of rows, so
it is made by the background worker (reports/jobs.py), which asks for the
person's access again when it runs.
"""

import datetime
import json
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import chain_check
from accounts.audit import audit_record
from accounts.chain import (
    DIGEST_CHAIN,
    chain_name,
    chained_models,
    content_names,
    values_content,
)
from accounts.chain_check import GENESIS
from accounts.models import ChainDigest, Redaction, User
from accounts.scoping import covers_everything, require_action

from .jobs import JobOutput, Progress, job_kind, job_start
from .models import Job

KIND = "audit_export"
ACTION = "audit.export"
CHUNK = 5000
# The longest period one export may cover.
MAX_DAYS = 366


def require_export(actor: User) -> None:
    """Only an auditor covering every union: the chains hold all of them."""
    if not covers_everything(require_action(actor, ACTION)):
        raise PermissionDenied(
            _("审计核验包包含所有工会的记录，只有最上级工会的审计人员可以导出。")
        )


@dataclass
class Stretch:
    """The rows of one chain an export holds: seqs first..last, and the hash
    of the row before the first."""

    model: Any
    first: int
    last: int
    prev_hash: str

    @property
    def name(self) -> str:
        return chain_name(self.model)

    @property
    def rows(self) -> int:
        return max(0, self.last - self.first + 1)


def period_check(start: datetime.date, end: datetime.date) -> None:
    if end < start:
        raise ValidationError({"end": _("结束日期不能早于开始日期。")})
    if (end - start).days >= MAX_DAYS:
        raise ValidationError({"end": _("一次最多导出 %(n)s 天。") % {"n": MAX_DAYS}})


def stretches(start: datetime.date, end: datetime.date) -> list[Stretch]:
    """What an export of start..end holds, per chain (the digest chain first).
    A chain with no digest on or before `end` is left out."""
    found, digest_seqs = [], []
    for model in chained_models():
        name = chain_name(model)
        if name == DIGEST_CHAIN:
            continue
        digests = ChainDigest.objects.filter(chain=name).order_by("-day")
        before = digests.filter(day__lt=start).first()
        upto = digests.filter(day__lte=end).first()
        if upto is None:
            continue
        first_seq = before.last_seq + 1 if before is not None else 1
        prev = before.head_hash if before is not None else GENESIS
        found.append(Stretch(model, first_seq, upto.last_seq, prev))
        digest_seqs.append((before.chain_seq if before is not None else 1, upto.chain_seq))
    if not found:
        raise ValidationError(
            {"end": _("所选期间还没有每日摘要（每天由 audit_digest 记录），无法导出。")}
        )
    low = min(lo for lo, _hi in digest_seqs)
    high = max(hi for _lo, hi in digest_seqs)
    before_low = ChainDigest.objects.filter(chain_seq=low - 1).values_list("chain_hash", flat=True)
    digest_chain = Stretch(ChainDigest, low, high, before_low.first() or GENESIS)
    return [digest_chain, *found]


def audit_export_start(*, actor: User, start: datetime.date, end: datetime.date) -> Job:
    """Check the request and queue the export for the worker."""
    require_export(actor)
    period_check(start, end)
    rows = sum(s.rows for s in stretches(start, end))
    title = _("审计核验包 %(a)s 至 %(b)s") % {"a": start, "b": end}
    params = {"start": start.isoformat(), "end": end.isoformat(), "rows": rows}
    return job_start(actor=actor, kind=KIND, title=title, params=params)


def _rows(stretch: Stretch) -> Any:
    names = content_names(stretch.model)
    return (
        stretch.model._base_manager.filter(
            chain_seq__gte=stretch.first, chain_seq__lte=stretch.last
        )
        .order_by("chain_seq")
        .values_list("chain_seq", "chain_digest", "chain_hash", *names)
        .iterator(chunk_size=CHUNK)
    )


def _line(model: Any, row: tuple[Any, ...]) -> bytes:
    content = values_content(model, row[3:])
    record = {
        "seq": row[0],
        "id": content["id"],
        "digest": row[1],
        "hash": row[2],
        "content": content,
    }
    return json.dumps(record, ensure_ascii=False, sort_keys=True).encode() + b"\n"


README = """审计核验包 / audit-trail export

核验方法（需要 Python 3.10 或更新版本，不需要联网，不需要安装其他软件）：
    python3 verify.py {zip}
最后一行为 OK 表示全部相符；为 MISMATCH 时写明第一处不符的表、序号和编号。
请将每日摘要（manifest.json 中各链的 prev_hash、以及 chains/accounts.chaindigest.jsonl
中的 head_hash）与您自己保存的记录比对。详见用户手册“审计核验”一章。
"""


def build(start: datetime.date, end: datetime.date, progress: Progress | None = None) -> bytes:
    """The zip, written through a temporary file (the rows are streamed)."""
    parts = stretches(start, end)
    total = sum(s.rows for s in parts)
    done = 0
    filename = f"audit-{start:%Y%m%d}-{end:%Y%m%d}.zip"
    manifest: dict[str, Any] = {
        "period": {"start": start.isoformat(), "end": end.isoformat()},
        "generated_at": timezone.now().isoformat(),
        "chains": [],
        "script": "verify.py",
    }
    with tempfile.TemporaryFile() as spool:
        with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for stretch in parts:
                file = f"chains/{stretch.name}.jsonl"
                with archive.open(file, "w", force_zip64=True) as out:
                    for row in _rows(stretch):
                        out.write(_line(stretch.model, row))
                        done += 1
                        if progress is not None and done % CHUNK == 0:
                            progress(done, total)
                manifest["chains"].append(
                    {
                        "chain": stretch.name,
                        "file": file,
                        "first_seq": stretch.first,
                        "last_seq": stretch.last,
                        "prev_hash": stretch.prev_hash,
                    }
                )
            with archive.open("redactions.jsonl", "w", force_zip64=True) as out:
                for stretch in parts[1:]:
                    redactions = Redaction.objects.filter(
                        chain=stretch.name, row_seq__gte=stretch.first, row_seq__lte=stretch.last
                    ).order_by("row_seq", "chain_seq")
                    names = content_names(Redaction)
                    for row in redactions.values_list(
                        "chain_seq", "chain_digest", "chain_hash", *names
                    ).iterator(chunk_size=CHUNK):
                        out.write(_line(Redaction, row))
            archive.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1))
            archive.writestr("verify.py", Path(chain_check.__file__).read_text(encoding="utf-8"))
            archive.writestr("README.txt", README.format(zip=filename))
        spool.seek(0)
        return spool.read()


@job_kind(KIND)
def audit_export_job(job: Job, progress: Progress) -> JobOutput:
    user = job.created_by
    require_export(user)  # asked again: a role may have ended meanwhile
    start = datetime.date.fromisoformat(job.params["start"])
    end = datetime.date.fromisoformat(job.params["end"])
    content = build(start, end, progress)
    rows = sum(s.rows for s in stretches(start, end))
    with transaction.atomic():
        audit_record(
            actor=user,
            action=ACTION,
            obj=job,
            changes={"period": [None, f"{start}..{end}"], "rows": [None, rows]},
        )
    return JobOutput(
        filename=f"audit-{start:%Y%m%d}-{end:%Y%m%d}.zip",
        content=content,
        content_type="application/zip",
        message=_("已生成审计核验包，共 %(n)s 行。") % {"n": rows},
        result={"rows": rows},
    )
