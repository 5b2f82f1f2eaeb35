"""Write today's digest row for every hash chain (accounts/chain.py). Run
daily by hardship-audit-digest.timer; a second run the same day adds nothing."""

from typing import Any

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from accounts.chain import digests_record


class Command(BaseCommand):
    help = "Record each hash chain's head (last seq and hash) for today, once per day."

    def handle(self, *args: Any, **options: Any) -> None:
        written = digests_record()
        for digest in written:
            self.stdout.write(f"{digest.day} {digest.chain} #{digest.last_seq} {digest.head_hash}")
        self.stdout.write(_("已记录 %(n)s 条每日摘要。") % {"n": len(written)})
