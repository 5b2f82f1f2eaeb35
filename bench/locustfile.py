"""Locust journeys for bench/load.py: caseworkers, chairs and finance officers.

Each simulated person signs in through the real login form and, for a chair
or a finance officer, the real second-factor page with the current TOTP code
of their own device (django_otp.oath.TOTP over the device key). The sign-in is
made with a plain requests session whose cookies are then handed to locust's
client, so the figures hold the journeys only. The journeys use locust's
FastHttpUser (geventhttpclient), the lighter of its two clients: the load
generator shares the two cores with the server it measures (bench/load.py
prints its CPU as u<N>_locust_cpu_s). What to sign in as, and which
households and applications to use, comes from the JSON file LOAD_PLAN names
(written by bench/load.py).

The production settings mark the cookies Secure; the server here speaks plain
HTTP on 127.0.0.1, so this process sends Secure cookies to 127.0.0.1 as a
browser would over HTTPS.
"""

import itertools
import json
import os
import random
import time
from html.parser import HTMLParser
from http.cookiejar import DefaultCookiePolicy
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from django_otp.oath import TOTP
from locust import between, task
from locust.contrib.fasthttp import FastHttpUser

PLAN: dict[str, Any] = json.loads(Path(os.environ["LOAD_PLAN"]).read_text(encoding="utf-8"))
OFFSET = int(os.environ.get("LOAD_OFFSET", "0"))
_counters = {role: itertools.count(OFFSET) for role in ("caseworker", "chair", "finance")}
SURNAMES = "王李张刘陈杨黄赵吴周"


_return_ok_secure = DefaultCookiePolicy.return_ok_secure


def _secure_to_bench_server(self: DefaultCookiePolicy, cookie: Any, request: Any) -> bool:
    """Secure cookies go to the bench server although it speaks plain HTTP.
    (requests copies the jar into a fresh one per request, so a policy set on
    a session's jar would be lost: the default policy itself is widened, in
    the locust process only; the journeys' own client uses it too.)"""
    if urlsplit(request.get_full_url()).hostname == "127.0.0.1":
        return True
    return bool(_return_ok_secure(self, cookie, request))


DefaultCookiePolicy.return_ok_secure = _secure_to_bench_server  # type: ignore[method-assign]


class FormFields(HTMLParser):
    """The fields of the first <form> whose action ends with `action` (or,
    the page being that address, has none), with their shown values: checked
    boxes, the selected (or first) option."""

    def __init__(self, action: str, here: bool) -> None:
        super().__init__()
        self.action = action
        self.here = here
        self.inside = False
        self.done = False
        self.fields: dict[str, str] = {}
        self.select: str | None = None
        self.textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and not self.done:
            target = a.get("action", "")
            self.inside = target.endswith(self.action) or (self.here and not target)
        if not self.inside:
            return
        name = a.get("name", "")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.fields[name] = a.get("value", "on")
            elif kind not in ("submit", "button", "file"):
                self.fields[name] = a.get("value", "")
        elif tag == "select" and name:
            self.select = name
        elif tag == "option" and self.select:
            value = a.get("value", "")
            if "selected" in a or (value and not self.fields.get(self.select)):
                self.fields[self.select] = value
        elif tag == "textarea" and name:
            self.textarea = name
            self.fields[name] = ""

    def handle_data(self, data: str) -> None:
        if self.textarea:
            self.fields[self.textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None
        elif tag == "form" and self.inside:
            self.inside, self.done = False, True


def form_fields(html: str, action: str, *, here: bool = False) -> dict[str, str]:
    parser = FormFields(action, here)
    parser.feed(html)
    return parser.fields


def sign_in(host: str, account: dict[str, Any]) -> requests.Session:
    """The login form, then the code page when the account has a device."""
    s = requests.Session()
    page = s.get(f"{host}/accounts/login/")
    fields = form_fields(page.text, "/accounts/login/", here=True)
    fields.update(username=account["username"], password=PLAN["password"])
    r = s.post(f"{host}/accounts/login/", data=fields, headers={"Referer": page.url})
    if account.get("key"):
        totp = TOTP(bytes.fromhex(account["key"]))
        for _attempt in range(3):
            if "/accounts/otp/verify/" not in r.url:
                break
            fields = form_fields(r.text, "/accounts/otp/verify/")
            fields["code"] = f"{totp.token():06d}"
            r = s.post(r.url, data=fields, headers={"Referer": r.url})
            if "/accounts/otp/verify/" in r.url:
                # A code is taken once: the last sign-in of this account used
                # it. Wait for the next 30-second step.
                time.sleep(31 - time.time() % 30)
    if "/accounts/" in r.url:
        raise RuntimeError(f"sign-in failed for {account['username']}: {r.url}")
    return s


class Person(FastHttpUser):
    abstract = True
    role = ""
    wait_time = between(1, 5)  # reading the page before the next click

    def on_start(self) -> None:
        self.index = next(_counters[self.role])
        accounts = PLAN["accounts"][self.role]
        account = accounts[self.index % len(accounts)]
        signed = sign_in(self.host or "", account)
        for cookie in signed.cookies:
            self.client.cookiejar.set_cookie(cookie)

    def post_form(self, page_url: str, action: str, names: tuple[str, str], **values: str) -> None:
        """Open the page with the form, then send it as the browser would."""
        page_name, name = names
        page = self.client.get(page_url, name=page_name)
        fields = form_fields(page.text or "", action, here=page_url == action)
        fields.update(values)
        with self.client.post(
            action,
            data=fields,
            name=name,
            headers={"Referer": f"{self.host}{page_url}"},
            allow_redirects=False,
            catch_response=True,
        ) as r:
            # Accepted, the form redirects; sent back with errors (200), it
            # is a failed journey, not a success.
            if r.status_code != 302:
                r.failure(f"form not accepted ({r.status_code})")


class Caseworker(Person):
    weight = 6
    role = "caseworker"

    @task(4)
    def household_list(self) -> None:
        self.client.get("/households/", name="household list")

    @task(3)
    def search(self) -> None:
        self.client.get(f"/households/?q={random.choice(SURNAMES)}", name="household search")

    @task(3)
    def detail(self) -> None:
        pk = random.choice(PLAN["households"])
        self.client.get(f"/households/{pk}/", name="household detail")

    @task(1)
    def visit(self) -> None:
        pk = random.choice(PLAN["households"])
        self.post_form(
            f"/households/{pk}/visits/new/",
            f"/households/{pk}/visits/new/",
            ("visit form", "visit POST"),
            kind=PLAN["visit_kind"],
            needs="孩子上学费用。",
            help_given="送去慰问品。",
        )


class Chair(Person):
    weight = 2
    role = "chair"

    def on_start(self) -> None:
        super().on_start()
        share = PLAN["awaiting"]
        users = max(1, len(PLAN["accounts"]["chair"]))
        self.todo = [pk for i, pk in enumerate(share) if i % users == self.index % users]

    @task(3)
    def queue(self) -> None:
        self.client.get("/aid/applications/", name="approval queue")

    @task(1)
    def approve(self) -> None:
        if not self.todo:
            return self.queue()
        pk = self.todo.pop()
        self.post_form(
            f"/aid/applications/{pk}/",
            f"/aid/applications/{pk}/decide/",
            ("application detail", "approve POST"),
            decision="approve",
            note="同意。",
        )


class Finance(Person):
    weight = 2
    role = "finance"

    def on_start(self) -> None:
        super().on_start()
        share = PLAN["payable"]
        users = max(1, len(PLAN["accounts"]["finance"]))
        self.todo = [pk for i, pk in enumerate(share) if i % users == self.index % users]

    @task(3)
    def queue(self) -> None:
        self.client.get("/aid/payments/", name="payment queue")

    @task(1)
    def pay(self) -> None:
        if not self.todo:
            return self.queue()
        pk = self.todo.pop()
        self.post_form(
            f"/aid/applications/{pk}/pay/",
            f"/aid/applications/{pk}/pay/",
            ("pay form", "pay POST"),
            method=PLAN["pay_method"],
        )
