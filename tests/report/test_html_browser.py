"""The HTML report in a real headless Chromium (Debian's, driven by Selenium, nothing
downloaded): what a reader sees after the page's script ran agrees with the JSON report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select
from test_formats import QUESTION, ROOT, cli

ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    folder = tmp_path_factory.mktemp("html")
    done = cli("check", *QUESTION, "--report-dir", str(folder))
    assert done.returncode == 1, done.stderr
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,2000"):
        options.add_argument(argument)
    browser = webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))
    try:
        browser.get((folder / "report.html").as_uri())
        yield browser, json.loads((folder / "report.json").read_text())
    finally:
        browser.quit()


def _visible_names(browser) -> list[str]:
    rows = browser.find_elements(By.CSS_SELECTOR, "#vms tbody tr.vm")
    return [r.find_element(By.TAG_NAME, "td").text for r in rows if r.is_displayed()]


def test_the_page_shows_every_vm_and_the_charts_agree_with_the_json(page):
    browser, report = page
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    assert browser.find_element(By.TAG_NAME, "h1").text.startswith("ASR readiness")
    assert sorted(_visible_names(browser)) == sorted(v["name"] for v in report["vms"])
    assert browser.find_element(By.ID, "shown").text == "18 of 18 VMs shown"
    bars = {
        b.get_attribute("data-label"): int(b.get_attribute("data-value"))
        for b in browser.find_elements(By.CSS_SELECTOR, "#chart-verdicts g.bar")
    }
    assert bars == {v: n for v, n in report["summary"]["verdicts"].items() if n}
    fails = [f for f in report["findings"] if f["status"] == "fail"]
    areas = {
        b.get_attribute("data-label"): int(b.get_attribute("data-value"))
        for b in browser.find_elements(By.CSS_SELECTOR, "#chart-areas g.bar")
    }
    assert sum(areas.values()) == len(fails)
    quota = browser.find_elements(By.CSS_SELECTOR, "#chart-quota g.quota")
    assert any(q.get_attribute("data-family") == "standardESv5Family" for q in quota)
    for svg in browser.find_elements(By.CSS_SELECTOR, "figure svg"):
        assert svg.get_attribute("role") == "img" and svg.get_attribute("aria-label")
    steps = browser.find_elements(By.CSS_SELECTOR, "#fix-steps li")
    kinds = {a["do"] for f in fails for a in f.get("actions", [])}
    assert steps and len(steps) >= len(kinds)
    assert any("register Microsoft.RecoveryServices" in s.text for s in steps)
    headers = browser.find_elements(By.CSS_SELECTOR, "#vms thead th")
    assert all(h.get_attribute("scope") == "col" for h in headers)
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "html-report.png"))
    assert (ARTIFACTS / "html-report.png").stat().st_size > 10_000


def test_search_and_the_verdict_filter_narrow_the_table(page):
    browser, report = page
    search = browser.find_element(By.ID, "search")
    search.send_keys("vm-web")
    assert sorted(_visible_names(browser)) == ["vm-web-01", "vm-web-02"]
    search.clear()
    search.send_keys(" ")  # an input event, with nothing to search for
    Select(browser.find_element(By.ID, "verdict")).select_by_value("blocked")
    blocked = sorted(v["name"] for v in report["vms"] if v["verdict"] == "blocked")
    assert sorted(_visible_names(browser)) == blocked
    Select(browser.find_element(By.ID, "verdict")).select_by_value("")
    assert len(_visible_names(browser)) == len(report["vms"])


def test_headers_sort_the_table_both_ways(page):
    browser, report = page
    button = browser.find_element(By.CSS_SELECTOR, "#vms thead th:first-child button")
    names = sorted(v["name"] for v in report["vms"])
    button.click()
    assert _visible_names(browser) == names
    button.click()
    assert _visible_names(browser) == names[::-1]
    header = browser.find_element(By.CSS_SELECTOR, "#vms thead th:first-child")
    assert header.get_attribute("aria-sort") == "descending"


def test_a_vm_opens_on_its_findings_target_and_network_paths(page):
    browser, _ = page
    row = next(
        r
        for r in browser.find_elements(By.CSS_SELECTOR, "#vms tbody tr.vm")
        if r.find_element(By.TAG_NAME, "td").text == "vm-nsg-01"
    )
    detail = browser.find_element(By.ID, row.get_attribute("data-detail"))
    assert not detail.is_displayed()
    toggle = row.find_element(By.CSS_SELECTOR, "button.toggle")
    toggle.click()
    assert detail.is_displayed() and toggle.get_attribute("aria-expanded") == "true"
    text = detail.text
    assert "ASR-NET-001" in text and "ASR-VM-008" in text and "Planned target" in text
    paths = detail.find_elements(By.CSS_SELECTOR, ".path")
    assert len(paths) >= 4  # one per endpoint ASR needs
    blocked = detail.find_elements(By.CSS_SELECTOR, ".hop.blocked")
    assert blocked and "nsg-lockdown" in blocked[0].text
    toggle.click()
    assert not detail.is_displayed()


def test_the_page_loads_nothing_from_the_network(page):
    browser, _ = page
    html = browser.page_source
    for marker in ("<link", 'src="http', "src='http", "@import", "url(http"):
        assert marker not in html
    resources = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
    )
    assert resources == []


def test_the_docs_screenshot_is_the_example_report():
    shot = ROOT / "docs" / "images" / "html-report.png"
    assert shot.stat().st_size > 10_000 and shot.read_bytes()[:4] == b"\x89PNG"
    assert "docs/images/html-report.png" in Path(ROOT / "README.md").read_text()
