"""The web desk as clerks and inspectors meet it: Debian's Chromium (headless, driven by Playwright) against
uvicorn on a free localhost port, for a province of two counties (tests/support/web.py):

- 盐亭县 (510723) holds the demo's two nights (sample_data/generate.py), with the seed's 农机购置补贴 case
  of 李安成 (凤灵街道万安社区: not paid at night 1, resolved at night 2);
- 三台县 (510722) starts empty: its clerk goes from a bad workbook to an accepted one using only the page,
  then starts a night and watches it finish.

Screenshots of every main page go to tests/browser/screenshots/ (gitignored) for a person to look at.
`make test` installs Debian's chromium; without it these tests fail (they do not skip).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from tests.support.checking_fixture import broken, roster_rows, write_roster_xlsx
from tests.support.web import PASSWORD, SANTAI, YANTING, add_accounts, seed_demo, served, write_counties
from ykt.counties import load_counties
from ykt.web import WebSettings

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
SHOTS = Path(__file__).parent / "screenshots"
TIMEOUT_MS = 30_000
NIGHT_TIMEOUT_MS = 300_000  # a night on a busy 2-core machine


@dataclass
class Desk:
    url: str
    root: Path
    counties_path: Path
    browser: Browser


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    root = tmp_path_factory.mktemp("web")
    counties_path = write_counties(root)
    add_accounts(counties_path)
    seed_demo(counties_path, YANTING)
    SHOTS.mkdir(exist_ok=True)
    # every upload is checked in the background, so the result page's polling is what the clerk sees
    settings = WebSettings(load_counties(counties_path), quality=False, background_check_bytes=0)
    with served(settings) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            yield Desk(url, root, counties_path, browser)
        finally:
            browser.close()


def session(desk: Desk, login: str) -> tuple[BrowserContext, Page]:
    """A fresh browser context logged in through the login form."""
    context = desk.browser.new_context(
        accept_downloads=True, locale="zh-CN", viewport={"width": 1360, "height": 900}
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(f"{desk.url}/login")
    page.fill("input[name=username]", login)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return context, page


def shot(page: Page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_login_page(desk: Desk) -> None:
    """Without a session the desk's pages lead to the login form; a wrong password is said in Chinese."""
    context = desk.browser.new_context(locale="zh-CN")
    page = context.new_page()
    page.goto(f"{desk.url}/counties/{YANTING}/cases")
    assert page.url.endswith("/login")
    page.fill("input[name=username]", "clerk.st")
    page.fill("input[name=password]", "not-the-password")
    page.click("button[type=submit]")
    expect(page.locator(".alert")).to_contain_text("用户名或密码错误")
    shot(page, "01_login")
    context.close()


def test_clerk_goes_from_a_bad_workbook_to_an_accepted_one_and_runs_the_night(desk: Desk) -> None:
    """三台县's clerk: uploads a roster with a wrong ID check digit and an amount 'abc', reads both problems
    on the page, downloads the annotated workbook (the bad cells commented), drops the fixed roster on the
    page, sees it accepted, starts the night (立即核对) and sees it finish."""
    context, page = session(desk, "clerk.st")
    assert page.url.endswith(f"/counties/{SANTAI}/uploads")
    shot(page, "02_clerk_uploads_empty")
    rows = roster_rows()
    bad = [list(r) for r in rows]
    bad[1][1] = broken(bad[1][1])
    bad[3][6] = "abc"
    bad_path = write_roster_xlsx(desk.root / "三台县2024年4月低保花名册.xlsx", bad)
    page.set_input_files("#files", str(bad_path))
    page.click("#upload-button")
    expect(page.locator("#verdict")).to_have_text("有问题，未提交")
    problems = page.locator("#problems")
    expect(problems).to_contain_text("身份证号码校验位错误")
    expect(problems).to_contain_text("金额无法识别")
    expect(page.locator("body")).to_contain_text("城乡居民最低生活保障金")
    expect(page.locator("body")).to_contain_text("2024-04")
    shot(page, "03_clerk_result_problems")
    with page.expect_download() as download:
        page.click("#annotated")
    annotated = desk.root / "annotated.xlsx"
    download.value.save_as(annotated)
    ws = openpyxl.load_workbook(annotated)["花名册"]
    assert "身份证号码校验位错误" in ws["B4"].comment.text
    assert "金额" in ws["G6"].comment.text

    fixed = write_roster_xlsx(desk.root / "fixed.xlsx", rows)
    page.goto(f"{desk.url}/counties/{SANTAI}/uploads")
    drop_file(page, "#drop", "三台县2024年4月低保花名册（改正）.xlsx", fixed.read_bytes())
    expect(page.locator("#chosen")).to_contain_text("改正")
    page.click("#upload-button")
    expect(page.locator("#verdict")).to_have_text("已提交核对")
    expect(page.locator("#rows-rejected")).to_have_text("0")
    shot(page, "04_clerk_result_accepted")
    inbox = load_counties(desk.counties_path).by_code(SANTAI).inbox / "roster"
    assert [p.name for p in inbox.iterdir()] == ["三台县2024年4月低保花名册（改正）.xlsx"]

    page.goto(f"{desk.url}/counties/{SANTAI}/uploads")
    page.fill("input[name=as_of]", "2024-06-30")
    shot(page, "05_clerk_uploads_history")
    page.click('button:has-text("立即核对")')
    expect(page.locator("#night-status")).to_have_text(re.compile("核对正在进行|正常|需关注"))
    shot(page, "06_night_running")
    expect(page.locator("#night-status")).to_have_text(
        re.compile("^(正常|需关注)$"), timeout=NIGHT_TIMEOUT_MS
    )
    expect(page.locator("#night-message")).to_contain_text("处理文件 1 个")
    shot(page, "07_night_finished")
    context.close()


def drop_file(page: Page, target: str, name: str, body: bytes) -> None:
    """Drag-and-drop as the browser delivers it: a drop event carrying a DataTransfer with the file."""
    transfer = page.evaluate_handle(
        """([name, data]) => {
            const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
            const dt = new DataTransfer();
            dt.items.add(new File([bytes], name, {type: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}));
            return dt;
        }""",
        [name, base64.b64encode(body).decode()],
    )
    page.dispatch_event(target, "drop", {"dataTransfer": transfer})


def test_inspector_opens_the_seeds_farm_machinery_case(desk: Desk) -> None:
    """盐亭县's inspector: the latest night's cases and clues, filtered to 农机购置补贴; 李安成's case (200 元,
    县农业农村局) opened at night 1 and resolved at night 2, his ID masked; the reports of the night."""
    context, page = session(desk, "inspector.yt")
    assert page.url.endswith(f"/counties/{YANTING}/cases")
    expect(page.locator("h1")).to_contain_text("2024-09-13")
    shot(page, "08_inspector_cases")
    page.select_option("select[name=program]", "农机购置补贴")
    page.click("text=筛选")
    rows = page.locator("table.cases tr", has_text="万安社区")
    expect(rows.first).to_contain_text("农机购置补贴")
    shot(page, "09_inspector_cases_filtered")
    rows.first.locator("a").click()
    expect(page.locator("#findings")).to_contain_text("李安成")
    expect(page.locator("#case-status")).to_have_text("已办结")
    expect(page.locator("body")).to_contain_text("县农业农村局")
    expect(page.locator("#events")).to_contain_text("2024-09-12")
    expect(page.locator("#events")).to_contain_text("2024-09-13")
    assert re.search(r"\d{6}\*{8}\d{3}[\dX]", page.locator("#findings").inner_text())
    assert "显示完整身份证号" not in page.content()
    shot(page, "10_inspector_case")
    page.click("text=历次报告")
    link = page.locator("a", has_text="稽查报告（Excel）").first
    expect(link).to_be_visible()
    shot(page, "11_inspector_reports")
    with page.expect_download() as download:
        link.click()
    saved = desk.root / "report.xlsx"
    download.value.save_as(saved)
    assert openpyxl.load_workbook(saved, read_only=True).sheetnames
    context.close()


@pytest.mark.parametrize("login", ["clerk.st", "inspector.st"])
def test_other_countys_users_get_403_for_every_page_and_file(desk: Desk, login: str) -> None:
    """三台县's clerk and inspector, in the browser, at every page and file of 盐亭县 — the ones an
    inspector of 盐亭县 can see (the case and report links) and the ones a clerk can (an upload's result
    and annotated copy), including guessed ids under their own county's address."""
    owner, owner_page = session(desk, "clerk.yt")
    bad = roster_rows(3)
    bad[0][1] = broken(bad[0][1])
    owner_page.set_input_files(
        "#files", str(write_roster_xlsx(desk.root / f"盐亭县2024年4月低保花名册{login}.xlsx", bad))
    )
    owner_page.click("#upload-button")
    upload_path = owner_page.url.removeprefix(desk.url)
    owner.close()
    reader, reader_page = session(desk, "inspector.yt")
    reader_page.goto(f"{desk.url}/counties/{YANTING}/cases")
    case_path = reader_page.locator("table.cases a").first.get_attribute("href")
    reader_page.goto(f"{desk.url}/counties/{YANTING}/reports")
    report_paths = [a.get_attribute("href") for a in reader_page.locator("table.reports a").all()]
    reader.close()
    assert case_path and report_paths
    paths = [
        f"/counties/{YANTING}/uploads",
        f"/counties/{YANTING}/uploads.csv",
        upload_path,
        f"{upload_path}/annotated",
        f"/counties/{YANTING}/cases",
        case_path,
        f"/counties/{YANTING}/reports",
        *report_paths,
    ]
    guessed = [
        p.replace(f"/counties/{YANTING}/", f"/counties/{SANTAI}/")
        for p in (upload_path, f"{upload_path}/annotated", case_path, *report_paths)
    ]
    context, page = session(desk, login)
    for path in [*paths, *guessed]:
        response = page.goto(f"{desk.url}{path}")
        assert response is not None and response.status == 403, path
        assert "李安成" not in page.content()
    page.goto(f"{desk.url}{case_path}")
    shot(page, f"12_forbidden_{login.split('.')[0]}")
    context.close()
