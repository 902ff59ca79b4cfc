"""The attacks issue 11 found on sign-in, each reproduced in real Chromium (or with httpx) against a real
`flexml-designer serve` on loopback, and shown to fail now."""

from __future__ import annotations

import re

import httpx
import pytest
from app_server import HeldSocket, Server, browser, page, serve  # noqa: F401  (fixtures)
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

PASSWORD = "open sesame"


def sign_in(page, url: str, password: str = PASSWORD) -> None:
    page.goto(url)
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()


def wrong_password_answer(page, url: str, forwarded_for: str) -> str:  # noqa: F811
    """What a browser claiming ``forwarded_for`` (X-Forwarded-For) is told after one wrong password.

    ``page`` is reused from try to try (its cached scripts make each try a third as long as a new
    context's), but its cookies are cleared first: each try comes, as far as the server can tell, from a
    browser it has never seen."""
    page.context.clear_cookies()
    page.set_extra_http_headers({"X-Forwarded-For": forwarded_for})
    sign_in(page, url + "/login", "not the password")
    said = page.get_by_text(re.compile("Wrong password; try again|Too many wrong passwords"))
    expect(said).to_be_visible()
    return said.inner_text()


@pytest.fixture(scope="module")
def password_server(tmp_path_factory):
    """One server with a password for the tests that only sign in (each in its own new browser context) and
    change nothing else the next test could see: started once for them, not once each (~3 s a start)."""
    server = Server(tmp_path_factory.mktemp("password_server"), "--require-login", env={"FLEXML_PASSWORD": PASSWORD})
    yield server
    server.stop()


def test_a_stale_set_password_page_cannot_replace_the_owners_password(serve, browser):  # noqa: F811
    server = serve("--require-login")
    owner, attacker = browser.new_context().new_page(), browser.new_context().new_page()
    for p in (owner, attacker):  # both opened before any password was set
        p.goto(server.url + "/settings")
        expect(p.get_by_text("Set a password")).to_be_visible()
    owner.get_by_label("Password", exact=True).fill(PASSWORD)
    owner.get_by_label("Type it again").fill(PASSWORD)
    owner.get_by_role("button", name="Set password and sign in").click()
    expect(owner.get_by_text("Public address")).to_be_visible()

    attacker.get_by_label("Password", exact=True).fill("the attacker's")
    attacker.get_by_label("Type it again").fill("the attacker's")
    attacker.get_by_role("button", name="Set password and sign in").click()
    expect(attacker.get_by_text("A password was already set")).to_be_visible()
    expect(attacker.get_by_role("button", name="Sign in")).to_be_visible()  # sent to sign in, not signed in
    attacker.get_by_label("Password", exact=True).fill("the attacker's")
    attacker.get_by_role("button", name="Sign in").click()
    expect(attacker.get_by_text("Wrong password; try again")).to_be_visible()

    third = browser.new_context().new_page()  # the owner's password still works
    sign_in(third, server.url + "/settings")
    expect(third.get_by_text("Public address")).to_be_visible()
    for p in (owner, attacker, third):
        p.context.close()


@pytest.mark.parametrize("target", ["/%5C127.0.0.1:{port}/x", "/%255C127.0.0.1:{port}/x", "//127.0.0.1:{port}/x",
                                    "http://127.0.0.1:{port}/x", "/%09/127.0.0.1:{port}/x"])
def test_sign_in_never_redirects_to_another_site(password_server, page, target):  # noqa: F811
    server = password_server
    other = server.port + 1  # (what the attacker would send the browser to; nothing needs to listen there)
    page.goto(server.url + "/login?redirect_to=" + target.format(port=other))
    sign_in(page, page.url)
    expect(page.get_by_text("Start from an example")).to_be_visible()
    assert page.url == server.url + "/"


def test_sign_in_still_returns_to_the_page_the_visit_started_on(password_server, page):  # noqa: F811
    server = password_server
    page.goto(server.url + "/numbers")
    sign_in(page, page.url)
    expect(page.get_by_text("Bind a number")).to_be_visible()
    assert page.url == server.url + "/numbers"


def test_a_cookie_from_before_sign_in_is_not_signed_in_afterwards(serve, browser):  # noqa: F811
    server = serve("--require-login", env={"FLEXML_PASSWORD": PASSWORD})
    planted = httpx.get(server.url + "/login").cookies["session"]  # the attacker's pre-login cookie
    context = browser.new_context()
    context.add_cookies([{"name": "session", "value": planted, "url": server.url}])
    page = context.new_page()
    sign_in(page, server.url + "/settings")
    expect(page.get_by_text("Public address")).to_be_visible()
    now = {c["name"]: c["value"] for c in context.cookies()}["session"]
    assert now != planted
    with httpx.Client(base_url=server.url, cookies={"session": planted}) as attacker:
        assert attacker.get("/settings").status_code == 303
        assert attacker.post("/_nicegui/client/any/upload/1", files={"file": b"x"}).status_code == 303  # nor uploads
    with httpx.Client(base_url=server.url, cookies={"session": now}) as victim:
        assert victim.get("/settings").status_code == 200
    context.close()


def test_signing_out_in_one_tab_signs_out_the_others(serve, browser):  # noqa: F811
    server = serve("--require-login", env={"FLEXML_PASSWORD": PASSWORD})
    context = browser.new_context()
    first, second = context.new_page(), context.new_page()
    sign_in(first, server.url + "/settings")
    expect(first.get_by_text("Public address")).to_be_visible()
    second.goto(server.url + "/settings")
    expect(second.get_by_text("Public address")).to_be_visible()
    session = {c["name"]: c["value"] for c in context.cookies()}["session"]

    first.get_by_role("button", name="Sign out").click()
    expect(first.get_by_role("button", name="Sign in")).to_be_visible()
    second.get_by_label("Public URL").fill("https://attacker.example")  # typing is a page action already
    expect(second.get_by_role("button", name="Sign in")).to_be_visible()
    assert "/login" in second.url
    with httpx.Client(base_url=server.url, cookies={"session": session}) as old:
        assert old.get("/settings").status_code == 303  # the session's cookie is dead too
    context.close()
    sign_in(page := browser.new_context().new_page(), server.url + "/settings")
    expect(page.get_by_label("Public URL")).not_to_have_value("https://attacker.example")
    page.context.close()


def test_x_forwarded_for_gives_no_fresh_password_tries_unless_the_proxy_is_trusted(serve, page):  # noqa: F811
    server = serve("--require-login", env={"FLEXML_PASSWORD": PASSWORD})
    answers = [wrong_password_answer(page, server.url, f"10.0.0.{n}") for n in range(1, 7)]
    assert answers[:5] == ["Wrong password; try again"] * 5
    assert answers[5].startswith("Too many wrong passwords")  # a sixth "address" counts with the others

    trusting = serve("--require-login", "--forwarded-allow-ips", "127.0.0.1", env={"FLEXML_PASSWORD": PASSWORD})
    answers = [wrong_password_answer(page, trusting.url, "10.0.0.1") for _ in range(6)]
    assert answers[5].startswith("Too many wrong passwords")
    assert wrong_password_answer(page, trusting.url, "10.0.0.2") == "Wrong password; try again"


def test_pages_refuse_framing_and_work_under_their_content_policy(serve, page, tmp_path):  # noqa: F811
    server = serve("--require-login", env={"FLEXML_PASSWORD": PASSWORD})
    for path in ("/login", "/", "/settings"):
        headers = httpx.get(server.url + path).headers
        assert headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
    answer = httpx.post(server.url + "/flexml", json={"To": "15162065337", "CallSid": "CA1"})
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/xml"
    assert b"<Hangup/>" in answer.content

    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda e: violations.append(str(e)))
    sign_in(page, server.url)
    page.locator(".q-card", has_text="Main menu").get_by_role("button", name="Use this example").click()
    page.wait_for_url(re.compile(r"/flows/main-menu$"))
    expect(page.locator(".vue-flow__node").first).to_be_visible()
    page.get_by_role("tab", name="Publish").click()
    page.get_by_role("button", name="Publish", exact=True).click()
    expect(page.get_by_text("Published: revision 1")).to_be_visible()
    for nav in ("Numbers", "Calls", "Settings"):
        page.get_by_role("link", name=nav).click()
        page.wait_for_load_state("networkidle")
    expect(page.get_by_text("Public address")).to_be_visible()
    assert violations == []

    # another site framing a page: the browser refuses to show it
    frame_page = tmp_path / "frame.html"
    frame_page.write_text(f'<iframe id="f" src="{server.url}/login"></iframe>')
    page.goto(frame_page.as_uri())  # (waits for the load event, which waits for the frame's navigation too)
    frame_urls = [f.url for f in page.frames if f != page.main_frame]
    assert frame_urls and server.url + "/login" not in frame_urls  # refused: it never became the login page
    frame = page.frame_locator("#f")
    expect(frame.get_by_role("button", name="Sign in")).to_have_count(0)


@pytest.mark.parametrize("public_url, secure", [("https://ivr.example.com", True), ("http://127.0.0.1:1", False)])
def test_the_session_cookie_is_secure_when_the_public_address_is_https(serve, public_url, secure):  # noqa: F811
    server = serve("--require-login", "--public-url", public_url)
    cookie = httpx.get(server.url + "/login").headers["set-cookie"]
    assert cookie.startswith("session=") and "httponly" in cookie.lower()
    assert ("secure" in cookie.lower().split("; ")) is secure


def test_nicegui_files_are_answered_from_memory_whole_and_with_no_other_visitors_cookie(serve):  # noqa: F811
    # the server keeps NiceGUI's versioned files gzipped (designer.ui.asset_cache): what it gives again
    # must be the file, with its headers, and never the first visitor's session
    from nicegui import __version__ as nicegui_version
    from designer.ui.preload import NICEGUI_FONTS_CSS
    server = serve("--require-login", env={"FLEXML_PASSWORD": PASSWORD})
    url = f"{server.url}/_nicegui/{nicegui_version}/static/quasar.umd.prod.js"
    on_disk = (NICEGUI_FONTS_CSS.parent / "quasar.umd.prod.js").read_bytes()
    first_visitor, second_visitor = httpx.Client(), httpx.Client()
    first = first_visitor.get(url)
    again = second_visitor.get(url)
    for answer in (first, again):
        assert answer.status_code == 200 and answer.content == on_disk  # (httpx un-gzips it)
        assert answer.headers["content-encoding"] == "gzip" and "immutable" in answer.headers["cache-control"]
        assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
    mine, theirs = first_visitor.cookies.get("session"), second_visitor.cookies.get("session")
    assert mine and mine != theirs  # each visitor has a session of its own, never the first one's
    assert first_visitor.get(url + "x").status_code == 404  # no such file: not made up from the cache


def test_a_quick_sign_in_is_judged_on_what_was_typed_whatever_reaches_the_server_first(password_server, page):  # noqa: F811
    # before the page's socket is connected, each event waits on a timer of its own: the click could
    # reach the server before the password field's update, and the right password was "wrong" (and
    # counted as a wrong try). Here the click always goes first: the socket's messages are held, then
    # sent in reverse
    server = password_server
    socket = HeldSocket(page, lambda m: '"event"' in m)
    page.goto(server.url + "/login")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    socket.wait_for(2)  # the field's update and the click
    socket.release(reverse=True)
    expect(page.get_by_text("Start from an example")).to_be_visible()
