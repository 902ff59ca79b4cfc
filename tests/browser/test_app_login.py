"""Sign-in in real Chromium: pages need the password, the host's /flexml routes stay open to the carrier."""

from __future__ import annotations

import httpx
import pytest
from app_server import browser, page, screenshot, serve  # noqa: F401  (fixtures)
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_first_visit_sets_the_password_then_pages_need_it(serve, page, browser):  # noqa: F811
    server = serve("--require-login")
    page.goto(server.url + "/numbers")
    expect(page.get_by_text("Set a password")).to_be_visible()
    assert "/login" in page.url
    screenshot(page, "10-login-set-password")

    # the carrier is never asked to sign in
    answer = httpx.post(server.url + "/flexml", json={"To": "15162065337", "CallSid": "CA1"})
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/xml"
    assert b"<Hangup/>" in answer.content
    assert httpx.get(server.url + "/", follow_redirects=False).status_code == 303

    page.get_by_label("Password", exact=True).fill("short")
    page.get_by_label("Type it again").fill("short")
    page.get_by_role("button", name="Set password and sign in").click()
    expect(page.get_by_text("use at least 8")).to_be_visible()
    page.get_by_label("Password", exact=True).fill("open sesame")
    page.get_by_label("Type it again").fill("open sesame")
    page.get_by_role("button", name="Set password and sign in").click()
    expect(page.get_by_text("Bind a number")).to_be_visible()  # back where the visit started
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    # another browser (no session) must sign in with that password
    other = browser.new_context().new_page()
    other.goto(server.url + "/settings")
    expect(other.get_by_role("button", name="Sign in")).to_be_visible()
    other.get_by_label("Password", exact=True).fill("wrong password")
    other.get_by_role("button", name="Sign in").click()
    expect(other.get_by_text("Wrong password; try again")).to_be_visible()
    screenshot(other, "11-login-wrong-password")
    other.get_by_label("Password", exact=True).fill("open sesame")
    other.get_by_role("button", name="Sign in").click()
    expect(other.get_by_text("Public address")).to_be_visible()
    other.context.close()

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()


def test_password_from_the_environment(serve, page):  # noqa: F811
    server = serve("--require-login", env={"FLEXML_PASSWORD": "from the env"})
    page.goto(server.url)
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    expect(page.get_by_text("Set a password")).to_have_count(0)
    page.get_by_label("Password", exact=True).fill("from the env")
    page.keyboard.press("Enter")
    expect(page.get_by_text("Start from an example")).to_be_visible()


def test_loopback_needs_no_login(serve, page):  # noqa: F811
    server = serve()
    page.goto(server.url + "/settings")
    expect(page.get_by_text("asks for no password")).to_be_visible()
    assert "/login" not in page.url
