"""The run report opened in a real headless Chromium: every figure renders, offline."""

from __future__ import annotations

from pathlib import Path

import pytest

from clusterlearn import Scenario, simulate
from clusterlearn.report import FIGURES, build_report

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.mark.slow
def test_report_images_render_in_chromium(tmp_path: Path) -> None:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} missing: run `bash .ci/prepare` to install Chromium")
    from playwright.sync_api import Request, Route, sync_playwright

    result = simulate(Scenario.preset("baseline").with_overrides({"firms.n": 60}), steps=8, rng=3)
    path = build_report(result, tmp_path)
    blocked: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = browser.new_page()

            # Offline: anything but the file itself is refused and recorded.
            def guard(route: Route, request: Request) -> None:
                if request.url.startswith("file:"):
                    route.continue_()
                else:
                    blocked.append(request.url)
                    route.abort()

            page.route("**/*", guard)
            page.goto(path.resolve().as_uri(), wait_until="load")
            sizes = page.evaluate(
                "Array.from(document.images).map(i => [i.alt, i.complete, i.naturalWidth,"
                " i.naturalHeight])"
            )
            title = page.title()
        finally:
            browser.close()
    assert not blocked, f"the report asked the network for {blocked}"
    assert "Run report" in title or "run report" in title
    assert [s[0] for s in sizes] == [spec.title for spec in FIGURES]
    for alt, complete, width, height in sizes:
        assert complete and width > 0 and height > 0, alt
