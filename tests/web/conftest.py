"""Browser tests: a real lrs-server (tests/service fixtures, SQLite or PostgreSQL) on a free port, a real
``lrs-web serve`` process in front of it, and Debian's Chromium driven by Playwright. axe-core runs in
each page checked; screenshots go to tests/web/screenshots/ (git-ignored)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.service.conftest import Api
from tests.service.conftest import api as api_fixture

api = api_fixture  # the service fixture, re-exported

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("LRS_TEST_CHROMIUM", "/usr/bin/chromium")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = Path(__file__).parent / "screenshots"
VENDORED = ROOT / "lrs_web" / "static" / "vendor" / "govuk-frontend.min.css"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 740}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Web:
    """A running ``lrs-web serve``."""

    url: str
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_web(server_port: int, *extra: str) -> Web:
    if not VENDORED.exists():
        pytest.skip("GOV.UK Frontend is not vendored: run scripts/vendor_govuk.py (scripts/test.sh does)")
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "lrs_web.cli",
        "serve",
        "--server",
        f"127.0.0.1:{server_port}",
        "--listen",
        f"127.0.0.1:{port}",
        *extra,
    ]
    process = subprocess.Popen(command, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/", timeout=1).status_code == 200:
                return Web(url, process)
        except httpx.TransportError:
            pass
        if process.poll() is not None:
            raise RuntimeError(f"lrs-web exited with {process.returncode}")
        time.sleep(0.1)
    process.kill()
    raise RuntimeError("lrs-web did not start")


@pytest.fixture
def web(api: Api) -> Iterator[Web]:
    running = start_web(api.server.port)
    yield running
    running.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing in CI (.ci/run installs Debian's chromium)")
        pytest.skip(f"browser tests need Debian's chromium at {CHROMIUM} (apt-get install chromium)")
    if not AXE.exists():
        pytest.skip("browser tests need axe-core: run `npm ci`")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


@dataclass
class Visit:
    """One browser context on lrs-web: records every request so that a test can assert that no page
    asked any other host; ``check`` runs axe-core and takes the screenshots."""

    page: Any
    own_host: str
    foreign: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    def check(self, name: str) -> None:
        assert_accessible(self.page, name)
        screenshot(self.page, name)


def assert_accessible(page: Any, name: str) -> None:
    page.wait_for_load_state("load")
    results = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']]}"
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not bad, f"axe-core on {name}: {bad}"


def screenshot(page: Any, name: str) -> None:
    """Desktop and phone width; at phone width nothing may make the page itself scroll sideways (a
    wide table scrolls inside its own region)."""
    SHOTS.mkdir(exist_ok=True)
    page.set_viewport_size(PHONE)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{name} is {width}px wide at phone width"
    page.screenshot(path=str(SHOTS / f"{name}-phone.png"), full_page=True)
    page.set_viewport_size(DESKTOP)
    page.screenshot(path=str(SHOTS / f"{name}-desktop.png"), full_page=True)


@pytest.fixture
def visit(browser: Any, web: Web) -> Iterator[Visit]:
    yield from open_visit(browser, web)


def open_visit(browser: Any, web: Web) -> Iterator[Visit]:
    context = browser.new_context(viewport=DESKTOP, accept_downloads=True)
    # axe-core is added as an init script (run by the browser itself): the pages' CSP rightly refuses
    # the inline <script> that page.add_script_tag would insert.
    context.add_init_script(path=str(AXE))
    page = context.new_page()
    own = urlsplit(web.url).netloc
    v = Visit(page, own)
    page.on("request", lambda r: None if urlsplit(r.url).netloc == own else v.foreign.append(r.url))
    # Refusals by the Content-Security-Policy (an error page's own status is not one of them).
    page.on("console", lambda m: v.console_errors.append(m.text) if "Refused" in m.text else None)
    yield v
    context.close()
    assert not v.foreign, f"pages asked other hosts: {v.foreign}"
    assert not v.console_errors, f"the CSP refused: {v.console_errors}"


def have_browser() -> bool:
    return Path(CHROMIUM).exists() and shutil.which("node") is not None
