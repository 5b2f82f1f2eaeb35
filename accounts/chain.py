"""Hash chains over the append-only tables (审计核验): anyone holding the
rows can check that none was changed, removed, inserted or reordered.

Each chained table is one chain. A row stores
- `chain_seq`: its place in the chain, 1, 2, 3, … with no gaps;
- `chain_digest`: SHA-256 of its content in canonical form (every column
  but these three, the id included: dates ISO, datetimes in UTC, money as
  text with its decimal places, foreign keys as ids, JSON with sorted keys);
- `chain_hash`: SHA-256 of (chain, seq, previous row's chain_hash, digest).

The digest and the link are apart on purpose. The retention job lawfully
rewrites personal text in old rows (cases/services/retention.py); it records
each rewrite as a `Redaction` row (itself chained) holding the row's digest
before and after. The link still covers the digest the row was written
with, so the chain stays whole; the row's content matches either that
digest or the end of its recorded redactions. A silent edit matches
neither and is named by `manage.py audit_verify`.

Linking takes the chain's head row (`ChainHead`, the last seq and hash)
with SELECT … FOR UPDATE in the inserting transaction, so two writers
cannot give out one seq or fork the chain. All heads are locked at once in
a fixed order, so two transactions that write to several chains (a payment
writes the ledger and the audit trail) cannot deadlock on them. Services
lock their own rows with FOR NO KEY UPDATE (`select_for_update(no_key=True)`),
never FOR UPDATE: PostgreSQL checks a foreign key at commit with FOR KEY
SHARE on the row it points to, and a transaction already holding the heads
must not wait there for one that is waiting for the heads. The row's id
is taken before the insert (the table's sequence on PostgreSQL, SQLite's
AUTOINCREMENT counter) because the digest covers it. Linking adds two
queries to each insert call (a save(), or a bulk_create of any number of
rows): the lock that also takes the ids, and the head's update.

Every insert path goes through `chain_link`: `save()`/`objects.create` and
`objects.bulk_create` of a `Chained` model, `accounts.bulk.bulk_insert`
(the imports) and `ChainStream` for a COPY load (bench/scale.py) that
hands out its own ids. The digest and hash functions are those of
accounts/chain_check.py, the standalone script an auditor runs on an export.
"""

import datetime
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from typing import Any

from django.apps import apps
from django.db import connections, models, router, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .chain_check import GENESIS, content_digest, link_hash, redacted_to

CHAIN_FIELDS = ("chain_seq", "chain_digest", "chain_hash")
HEAD_TABLE = "accounts_chainhead"


def inserted_now() -> datetime.datetime:
    """The default of a chained row's own timestamp (created_at and the like):
    set when the instance is made, so the digest covers it before the insert,
    which `auto_now_add` would overwrite. Looked up at each call, as
    auto_now_add does, so a test that patches timezone.now still moves it."""
    return timezone.now()


class ChainedQuerySet(models.QuerySet[Any]):
    def bulk_create(self, objs: Iterable[Any], *args: Any, **kwargs: Any) -> list[Any]:
        """Link the rows into their chain, then insert them, in one
        transaction. A skipped conflict would leave a gap, so none is allowed."""
        if kwargs.get("ignore_conflicts") or kwargs.get("update_conflicts"):
            raise ValueError("a chained table takes no conflicting rows")
        objs = list(objs)
        with transaction.atomic(using=self.db, savepoint=False):
            chain_link(objs, using=self.db)
            return super().bulk_create(objs, *args, **kwargs)


class Chained(models.Model):
    """An append-only model whose rows are hash-chained (see module doc)."""

    chain_seq = models.BigIntegerField(_("链序号"), unique=True, editable=False)
    chain_digest = models.CharField(_("内容摘要"), max_length=64, editable=False)
    chain_hash = models.CharField(_("链哈希"), max_length=64, editable=False)

    objects = ChainedQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            super().save(*args, **kwargs)
            return
        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        with transaction.atomic(using=using, savepoint=False):
            chain_link([self], using=using)
            # The id is set now: insert, without Django's UPDATE-first probe.
            kwargs["force_insert"] = True
            super().save(*args, **kwargs)


def chain_name(model: Any) -> str:
    return str(model._meta.label_lower)


def chained_models() -> list[Any]:
    """Every chained table, in a fixed order (the digest chain last)."""
    found = [m for m in apps.get_models() if issubclass(m, Chained)]
    return sorted(found, key=lambda m: (chain_name(m) == DIGEST_CHAIN, chain_name(m)))


DIGEST_CHAIN = "accounts.chaindigest"


# -- canonical content ----------------------------------------------------------------


@cache
def content_fields(model: Any) -> tuple[tuple[str, Callable[[Any], Any]], ...]:
    """(attname, canonical form of a value) for every column the digest covers."""
    return tuple((f.attname, _canonical(f)) for f in _content_columns(model))


def _canonical(f: Any) -> Callable[[Any], Any]:
    target = f.target_field if f.is_relation else f
    kind = target.get_internal_type()
    if kind in ("AutoField", "BigAutoField", "SmallAutoField") or kind.endswith("IntegerField"):
        return lambda v: None if v is None else int(v)
    if kind == "BooleanField":
        return lambda v: None if v is None else bool(target.to_python(v))
    if kind == "DecimalField":
        places = Decimal(1).scaleb(-target.decimal_places)
        return lambda v: None if v is None else format(target.to_python(v).quantize(places), "f")
    if kind == "DateTimeField":
        return lambda v: None if v is None else _utc(target.to_python(v))
    if kind == "DateField":
        return lambda v: None if v is None else target.to_python(v).isoformat()
    if kind == "JSONField":
        return _plain_json
    return lambda v: None if v is None else str(target.to_python(v))


def _utc(value: datetime.datetime) -> str:
    if timezone.is_naive(value):
        # As Django stores a naive datetime under USE_TZ.
        value = timezone.make_aware(value, timezone.get_default_timezone())
    return value.astimezone(datetime.UTC).isoformat(timespec="microseconds")


def _plain_json(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return [_plain_json(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain_json(v) for k, v in value.items()}
    return value


def row_content(obj: Any) -> dict[str, Any]:
    """A model instance's content, as the digest covers it. Empty (NULL)
    columns are left out, so a nullable column added to a chained table
    later leaves every older row's digest as it was written."""
    model: Any = type(obj)
    content = ((name, form(getattr(obj, name))) for name, form in content_fields(model))
    return {name: value for name, value in content if value is not None}


def values_content(model: Any, values: Iterable[Any]) -> dict[str, Any]:
    """The same from a row read with `values_list(*content_names(model))`.
    The database's converters already give ints, text, booleans and plain
    JSON: only dates, datetimes and money are spelled out (the verifier's
    hot loop, millions of rows)."""
    return {
        name: value if form is None else form(value)
        for (name, form), value in zip(stored_forms(model), values, strict=True)
        if value is not None
    }


@cache
def stored_forms(model: Any) -> tuple[tuple[str, Callable[[Any], Any] | None], ...]:
    plain = ("AutoField", "BigAutoField", "SmallAutoField", "BooleanField", "JSONField",
             "CharField", "TextField", "GenericIPAddressField")  # fmt: skip
    forms = []
    for f, (name, form) in zip(_content_columns(model), content_fields(model), strict=True):
        kind = (f.target_field if f.is_relation else f).get_internal_type()
        exact = kind in plain or kind.endswith("IntegerField")
        forms.append((name, None if exact else form))
    return tuple(forms)


def _content_columns(model: Any) -> list[Any]:
    return [f for f in model._meta.concrete_fields if f.attname not in CHAIN_FIELDS]


def content_names(model: Any) -> list[str]:
    return [name for name, _form in content_fields(model)]


# -- linking --------------------------------------------------------------------------


_LOCK_POSTGRES = (
    "SELECT seq, hash, CASE WHEN chain = %s THEN ARRAY(SELECT"
    " nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)) END"
    " FROM accounts_chainhead ORDER BY chain FOR UPDATE"
)
_LOCK_SQLITE = (
    "SELECT h.seq, h.hash, (SELECT seq FROM sqlite_sequence WHERE name = %s)"
    " FROM accounts_chainhead h WHERE h.chain = %s"
)


def _lock_heads(connection: Any, model: Any, chain: str, ids: int) -> tuple[int, str, list[int]]:
    """Lock every chain head (in one order, so no deadlock between chains),
    return this chain's (seq, hash) and `ids` fresh ids for its table."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        for _attempt in range(2):
            if connection.vendor == "postgresql":
                # Every head, locked in the order of the sort (a filter would
                # lock this chain's alone); the ids only with this chain's.
                cursor.execute(_LOCK_POSTGRES, [chain, table, model._meta.pk.column, ids])
                found = next((r for r in cursor.fetchall() if r[2] is not None), None)
                if found is not None:
                    return int(found[0]), found[1], list(found[2])
            else:
                # SQLite: the transaction already holds the write lock
                # (transaction_mode IMMEDIATE); the next ids follow the
                # table's AUTOINCREMENT counter.
                cursor.execute(_LOCK_SQLITE, [table, chain])
                found = cursor.fetchone()
                if found is not None:
                    last = int(found[2] or 0)
                    return int(found[0]), found[1], list(range(last + 1, last + 1 + ids))
            # The chain's first row (or a database flushed by a test):
            # make its head, then lock it.
            cursor.execute(
                f"INSERT INTO {HEAD_TABLE} (chain, seq, hash) VALUES (%s, 0, %s)"  # noqa: S608
                " ON CONFLICT (chain) DO NOTHING",
                [chain, GENESIS],
            )
    raise RuntimeError(f"chain head {chain} cannot be locked")


def heads_ensure(*, using: str = "default", **kwargs: Any) -> None:
    """Every chain's head row, made after `migrate` (and after a test
    database is flushed). A head made inside a writing transaction would be
    invisible to the others until it commits: two writers could then each
    wait for the other's head (tests/accounts/test_chain_race.py)."""
    from .models import ChainHead

    if HEAD_TABLE not in connections[using].introspection.table_names():
        return  # migrated back to before the chains
    ChainHead.objects.using(using).bulk_create(
        [ChainHead(chain=chain_name(m), seq=0, hash=GENESIS) for m in chained_models()],
        ignore_conflicts=True,
    )


def _set_head(connection: Any, chain: str, seq: int, hash_: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {HEAD_TABLE} SET seq = %s, hash = %s WHERE chain = %s",  # noqa: S608
            [seq, hash_, chain],
        )


def chain_link(objs: list[Any], *, using: str) -> None:
    """Give unsaved rows of one chained model their ids, seqs, digests and
    hashes, and move the chain's head past them. The caller inserts the rows
    in the same transaction (the head stays locked until it commits)."""
    if not objs:
        return
    model = type(objs[0])
    chain = chain_name(model)
    connection = connections[using]
    if not connection.in_atomic_block:
        raise RuntimeError("chain_link runs inside the inserting transaction")
    seq, prev, ids = _lock_heads(connection, model, chain, sum(obj.pk is None for obj in objs))
    fresh = iter(ids)
    for obj in objs:
        if obj.pk is None:
            obj.pk = next(fresh)
        seq += 1
        obj.chain_seq = seq
        obj.chain_digest = content_digest(row_content(obj))
        obj.chain_hash = prev = link_hash(chain, seq, prev, obj.chain_digest)
    _set_head(connection, chain, seq, prev)


@dataclass
class ChainStream:
    """Linking for a load that writes rows itself (COPY) and hands out its own
    ids (bench/scale.py): `link(values)` takes a row's {attname: value} and
    returns (seq, digest, hash) in the order the rows are sent; `save()`
    after each batch is sent moves the head. The head is read once: nothing
    else may write to the chain while the stream is open, and `save()`
    refuses if something did."""

    model: Any
    using: str = "default"
    seq: int = 0
    hash: str = GENESIS
    saved_seq: int = 0

    def __post_init__(self) -> None:
        from .models import ChainHead

        head = ChainHead.objects.using(self.using).filter(chain=chain_name(self.model)).first()
        if head is not None:
            self.seq, self.hash = head.seq, head.hash
        self.saved_seq = self.seq
        self._names = content_fields(self.model)

    def link(self, values: dict[str, Any]) -> tuple[int, str, str]:
        canonical = ((name, form(values[name])) for name, form in self._names)
        content = {name: value for name, value in canonical if value is not None}
        self.seq += 1
        digest = content_digest(content)
        self.hash = link_hash(chain_name(self.model), self.seq, self.hash, digest)
        return self.seq, digest, self.hash

    def save(self) -> None:
        from .models import ChainHead

        chain = chain_name(self.model)
        with transaction.atomic(using=self.using):
            head, _created = (
                ChainHead.objects.using(self.using)
                .select_for_update(no_key=True)
                .get_or_create(chain=chain, defaults={"seq": 0, "hash": GENESIS})
            )
            if head.seq != self.saved_seq:
                raise RuntimeError(f"chain {chain} was written to while a stream was open")
            ChainHead.objects.using(self.using).filter(chain=chain).update(
                seq=self.seq, hash=self.hash
            )
        self.saved_seq = self.seq


def chain_backfill(model: Any, head_model: Any, *, using: str, chunk: int = 5000) -> int:
    """Link the rows a table held before it was chained, in id order (a
    migration step: the trigger refusing updates is bypassed by the caller)."""
    chain = chain_name(model)
    head, _created = head_model.objects.using(using).get_or_create(
        chain=chain, defaults={"seq": 0, "hash": GENESIS}
    )
    seq, prev = head.seq, head.hash
    names = content_names(model)
    linked = 0
    while True:
        rows = list(
            model.objects.using(using)
            .filter(chain_seq__isnull=True)
            .order_by("pk")
            .values_list(*names)[:chunk]
        )
        if not rows:
            break
        for values in rows:
            # The verifier's own reading of a stored row (NULLs left out).
            content = values_content(model, values)
            seq += 1
            digest = content_digest(content)
            prev = link_hash(chain, seq, prev, digest)
            model.objects.using(using).filter(pk=content["id"]).update(
                chain_seq=seq, chain_digest=digest, chain_hash=prev
            )
            linked += 1
    head_model.objects.using(using).filter(chain=chain).update(seq=seq, hash=prev)
    return linked


# -- verifying ------------------------------------------------------------------------


@dataclass
class Finding:
    chain: str
    seq: int
    row_id: Any
    reason: str

    def __str__(self) -> str:
        return f"{self.chain} seq={self.seq} id={self.row_id}: {self.reason}"


@dataclass
class ChainReport:
    chain: str
    rows: int = 0
    redacted: int = 0
    digests: int = 0
    finding: Finding | None = None
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


class _Peek:
    """An iterator one can look ahead in by one."""

    def __init__(self, items: Iterator[Any]) -> None:
        self._items = items
        self._next: Any = None
        self._done = False
        self._advance()

    def _advance(self) -> None:
        try:
            self._next = next(self._items)
        except StopIteration:
            self._next, self._done = None, True

    def take_while(self, accept: Callable[[Any], bool]) -> list[Any]:
        taken = []
        while not self._done and accept(self._next):
            taken.append(self._next)
            self._advance()
        return taken


def _upto(seq: int) -> Callable[[Any], bool]:
    return lambda redaction: bool(redaction[0] <= seq)


def chain_verify(
    model: Any,
    *,
    using: str = "default",
    chunk: int = 5000,
    progress: Callable[[int], None] | None = None,
) -> ChainReport:
    """Walk one chain in seq order (streamed, `chunk` rows at a time) and
    name its first row that does not match: a gap in the seqs (a row
    removed), a broken link (a row inserted, reordered or its digest
    changed), content that matches neither its digest nor its recorded
    redactions (a silent edit), a daily digest naming another hash, or a
    head past the last row (rows removed at the end)."""
    from .models import ChainDigest, ChainHead, Redaction

    started = time.monotonic()
    chain = chain_name(model)
    report = ChainReport(chain)
    head = ChainHead.objects.using(using).filter(chain=chain).values_list("seq", "hash").first()
    head_seq, head_hash = head if head is not None else (0, GENESIS)
    digests = {
        last_seq: (day, hash_)
        for day, last_seq, hash_ in ChainDigest.objects.using(using)
        .filter(chain=chain)
        .values_list("day", "last_seq", "head_hash")
    }
    redactions = _Peek(
        Redaction.objects.using(using)
        .filter(chain=chain, row_seq__lte=head_seq)
        .order_by("row_seq", "chain_seq")
        .values_list("row_seq", "before", "after")
        .iterator(chunk_size=chunk)
    )
    names = content_names(model)
    rows = (
        model._base_manager.using(using)
        .filter(chain_seq__lte=head_seq)
        .order_by("chain_seq")
        .values_list("chain_seq", "chain_digest", "chain_hash", *names)
        .iterator(chunk_size=chunk)
    )
    seq, prev = 0, GENESIS

    def found(at: int, row_id: Any, reason: str) -> ChainReport:
        report.finding = Finding(chain, at, row_id, reason)
        report.seconds = time.monotonic() - started
        return report

    if 0 in digests and digests[0][1] != GENESIS:
        return found(0, "-", str(_("%(d)s 的每日摘要与链头不符") % {"d": digests[0][0]}))
    pk_index = names.index("id") + 3
    for row in rows:
        row_seq, digest, hash_ = row[0], row[1], row[2]
        row_id = row[pk_index]
        seq += 1
        if row_seq != seq:
            return found(row_seq, row_id, str(_("缺少第 %(n)s 行（已被删除？）") % {"n": seq}))
        if link_hash(chain, seq, prev, digest) != hash_:
            return found(seq, row_id, str(_("链哈希不符（被插入、调换或改动）")))
        actual = content_digest(values_content(model, row[3:]))
        if actual != digest:
            steps = [(b, a) for at, b, a in redactions.take_while(_upto(seq)) if at == seq]
            if not steps or redacted_to(digest, steps) != actual:
                return found(seq, row_id, str(_("内容与摘要不符（被改动）")))
            report.redacted += 1
        prev = hash_
        if seq in digests:
            day, named = digests[seq]
            if named != hash_:
                return found(seq, row_id, str(_("%(d)s 的每日摘要与本行不符") % {"d": day}))
            report.digests += 1
        report.rows += 1
        if progress is not None and report.rows % chunk == 0:
            progress(report.rows)
    if seq != head_seq or prev != head_hash:
        return found(seq + 1, "-", str(_("链头在第 %(n)s 行，之后的行缺失") % {"n": head_seq}))
    beyond = [s for s in digests if s > seq]
    if beyond:
        day = digests[min(beyond)][0]
        return found(min(beyond), "-", str(_("%(d)s 的每日摘要所指的行缺失") % {"d": day}))
    report.digests += int(0 in digests)
    report.seconds = time.monotonic() - started
    return report


# -- redaction and digests ------------------------------------------------------------


def redaction_record(rows: list[tuple[Any, str]], *, reason: str) -> int:
    """Record that the retention job rewrote these rows of one chained model
    ((instance as rewritten, digest of its content before)), in the caller's
    transaction; the digest after is computed here."""
    from .models import Redaction

    records = []
    for obj, before in rows:
        after = content_digest(row_content(obj))
        if after != before:
            records.append(
                Redaction(
                    chain=chain_name(type(obj)),
                    row_id=obj.pk,
                    row_seq=obj.chain_seq,
                    before=before,
                    after=after,
                    reason=reason,
                )
            )
    Redaction.objects.bulk_create(records)
    return len(records)


def digests_record(*, day: datetime.date | None = None) -> list[Any]:
    """Write today's digest row for every chain (its last seq and head hash
    now), once per day and chain: a second run the same day adds nothing.
    Returns the rows written."""
    from .models import ChainDigest, ChainHead

    day = day or timezone.localdate()
    written = []
    with transaction.atomic():
        # The heads locked (in the order linking locks them): two runs at
        # once write one set of rows, and no chain moves while it is read.
        heads = {
            chain: (seq, hash_)
            for chain, seq, hash_ in ChainHead.objects.select_for_update(no_key=True)
            .order_by("chain")
            .values_list("chain", "seq", "hash")
        }
        done = set(ChainDigest.objects.filter(day=day).values_list("chain", flat=True))
        for model in chained_models():
            chain = chain_name(model)
            if chain == DIGEST_CHAIN or chain in done:
                continue
            seq, hash_ = heads.get(chain, (0, GENESIS))
            written.append(ChainDigest(day=day, chain=chain, last_seq=seq, head_hash=hash_))
        ChainDigest.objects.bulk_create(written)
    return written


def backfill_operation(*models: tuple[str, str, str]) -> Any:
    """The migration step that links the rows tables held before they were
    chained: (app label, model name, append-only trigger name) each."""
    from django.db import migrations

    def forwards(app_registry: Any, schema_editor: Any) -> None:
        import pgtrigger

        using = schema_editor.connection.alias
        head_model = app_registry.get_model("accounts", "ChainHead")
        for app_label, model_name, trigger in models:
            model = app_registry.get_model(app_label, model_name)
            with pgtrigger.ignore(f"{app_label}.{model_name}:{trigger}"):
                chain_backfill(model, head_model, using=using)

    return migrations.RunPython(forwards, migrations.RunPython.noop)


def chain_fields_final(*model_names: str) -> list[Any]:
    """The migration steps that make the chain columns required, once the
    rows are linked (`backfill_operation`)."""
    from django.db import migrations

    final: dict[str, Callable[[], Any]] = {
        "chain_seq": lambda: models.BigIntegerField(
            editable=False, unique=True, verbose_name="链序号"
        ),
        "chain_digest": lambda: models.CharField(
            editable=False, max_length=64, verbose_name="内容摘要"
        ),
        "chain_hash": lambda: models.CharField(
            editable=False, max_length=64, verbose_name="链哈希"
        ),
    }
    return [
        migrations.AlterField(model_name=name, name=field, field=make())
        for name in model_names
        for field, make in final.items()
    ]
