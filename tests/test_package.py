"""The package installs and runs anywhere: a wheel built from this checkout, installed into a fresh virtual
environment, serves a working designer from an empty folder, canvas included (its Vue Flow copy is in the wheel).

Slow-ish (a wheel build and an install, once per run): everything shares one installed server."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from serving import free_port, wait_until_answering

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
# what a user's shell would not have: nothing may point the installed package back at this checkout
CHECKOUT_VARIABLES = ("PYTHONPATH", "FLEXML_NODE_MODULES", "FLEXML_DB", "FLEXML_PASSWORD", "FLEXML_REQUIRE_LOGIN",
                      "PYTEST_CURRENT_TEST", "VIRTUAL_ENV")

pytestmark = pytest.mark.skipif(shutil.which("npm") is None,
                                reason="building the wheel needs npm to fetch the canvas's JavaScript "
                                       "(bash .ci/do test installs it)")


def run(*command: str | Path, cwd: Path | None = None) -> str:
    """Run a command; on failure the test fails with its output (a build or install error says why)."""
    done = subprocess.run([str(c) for c in command], cwd=cwd, capture_output=True, text=True, env=clean_env())
    assert done.returncode == 0, f"{' '.join(map(str, command))} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in CHECKOUT_VARIABLES}


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> Path:
    """A fresh virtual environment holding the wheel built from this checkout (dependencies from pip's sources)."""
    tmp = tmp_path_factory.mktemp("package")
    run(sys.executable, "-m", "pip", "wheel", ROOT, "--no-deps", "-q", "-w", tmp / "dist")
    (wheel,) = (tmp / "dist").glob("flexml_designer-*.whl")
    run(sys.executable, "-m", "venv", "--without-pip", tmp / "venv")
    # this run's pip installs into the new environment (it has no pip of its own: quicker to make)
    run(sys.executable, "-m", "pip", "--python", tmp / "venv" / "bin" / "python", "install", "-q", wheel)
    return tmp / "venv"


@pytest.fixture(scope="module")
def server(venv, tmp_path_factory) -> Iterator[str]:
    """`flexml-designer serve` of the installed package, started from an empty folder."""
    folder = tmp_path_factory.mktemp("empty")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = open(folder.parent / "serve.log", "w+")

    def output() -> str:
        log.seek(0)
        return log.read()

    proc = subprocess.Popen([venv / "bin" / "flexml-designer", "serve", "--port", str(port), "--db",
                             folder.parent / "x.sqlite"], cwd=folder, env=clean_env(), stdout=log,
                            stderr=subprocess.STDOUT)
    try:
        wait_until_answering(proc, url, output)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
    assert list(folder.iterdir()) == [], "serve wrote into the folder it was started from"


def test_the_installed_package_is_the_wheel_not_this_checkout(venv, tmp_path):
    where = run(venv / "bin" / "python", "-c", "import designer, static; print(designer.__file__, static.__file__)",
                cwd=tmp_path)
    site = str(venv / "lib")
    assert all(path.startswith(site) for path in where.split()), where
    vendor = Path(where.split()[1]).parent / "vendor"
    assert sorted(p.name for p in (vendor / "vue-flow-dist").iterdir()) == [
        "LICENSE", "style.css", "theme-default.css", "vue-flow-core.mjs"]


def test_version_comes_from_the_project_metadata(venv, tmp_path):
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert run(venv / "bin" / "flexml-designer", "--version", cwd=tmp_path).strip() == f"flexml-designer {version}"


def test_flows_page_and_the_canvas_javascript_answer(server):
    page = httpx.get(server + "/")
    assert page.status_code == 200
    assert "Start from an example" in page.text and "No flows yet" in page.text
    # the page's import map says where the browser loads Vue Flow from; each file it needs answers
    imports = json.loads(re.search(r'<script type="importmap">\s*(.*?)\s*</script>', page.text, re.S).group(1))
    base = imports["imports"]["vue-flow-dist/"]
    script = httpx.get(server + base + "vue-flow-core.mjs")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert "VueFlow" in script.text
    for css in ("style.css", "theme-default.css"):
        assert httpx.get(server + base + css).status_code == 200


def test_the_host_answers_the_carrier_with_flexml(server):
    answer = httpx.post(server + "/flexml", json={"To": "15550000000"})
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/xml"
    assert "<Response>" in answer.text and "<Hangup/>" in answer.text  # no flow for that number: an apology


def test_the_canvas_draws_an_example_in_a_browser(server):
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed")
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 860})
            page.goto(server)
            page.locator(".q-card", has_text="Main menu").get_by_role("button", name="Use this example").click()
            page.wait_for_url(re.compile(r"/flows/main-menu$"))
            # Vue Flow drew the steps (only those in view: the canvas skips the rest), with their outputs
            for step in ("welcome", "menu"):
                expect(page.locator(f'.vue-flow__node[data-id="{step}"]')).to_be_visible(timeout=20_000)
            expect(page.locator('.vue-flow__node[data-id="menu"] .vue-flow__handle').first).to_be_visible()
        finally:
            browser.close()
