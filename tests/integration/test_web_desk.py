"""The web desk over HTTP (FastAPI's TestClient on the real app, real portal SQLite, real warehouse):
who may see what, and one test per protection against hostile requests and uploads.

The module's province (tests/support/web.py) has two tiny counties. In 盐亭县 (510723) the clerk uploads
a roster with a bad ID (an upload with an annotated copy) and a good one (accepted), then starts a night
that turns the good roster's unpaid villagers into cases: so 盐亭县 has an upload, a night, cases and a
report, and 三台县's clerk and inspector can be asked for each of them.
"""

from __future__ import annotations

import io
import json
import os
import re
import socket
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pytest
from fastapi.testclient import TestClient

from tests.support.checking_fixture import broken, person_id, roster_rows, write_roster_xlsx
from tests.support.web import PASSWORD, SANTAI, YANTING, add_accounts, write_counties
from ykt.cli import main
from ykt.counties import load_counties
from ykt.web import WebSettings, add_user, create_app, portal_path

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class Province:
    root: Path
    counties_path: Path
    app: object
    upload_id: int  # 盐亭县's upload with problems (it has an annotated copy)
    night_id: int
    case_id: str
    night_name: str  # the night's reports folder name


def client(app: object) -> TestClient:
    # https: the session cookie is Secure, and a client keeps it for https only
    return TestClient(app, base_url="https://testserver")  # type: ignore[arg-type]


def logged_in(app: object, login: str) -> tuple[TestClient, str]:
    """A client with `login`'s session, and the session's CSRF token."""
    c = client(app)
    token = CSRF.search(c.get("/login").text)[1]
    response = c.post("/login", data={"username": login, "password": PASSWORD, "csrf": token})
    assert response.status_code == 200, response.text
    return c, CSRF.search(response.text)[1]


def upload(c: TestClient, csrf: str, code: str, name: str, body: bytes, **choice: str):
    return c.post(f"/counties/{code}/uploads", data={"csrf": csrf, **choice}, files=[("files", (name, body))])


def upload_id(response) -> int:
    return int(str(response.url).rsplit("/", 1)[1])


def wait_for_night(c: TestClient, code: str, night_id: int) -> dict:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        status = c.get(f"/counties/{code}/nights/{night_id}/status").json()
        if status["finished"]:
            return status
        time.sleep(0.5)
    raise AssertionError("the night did not finish")


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Province]:
    root = tmp_path_factory.mktemp("province")
    counties_path = write_counties(root)
    add_accounts(counties_path)
    app = create_app(WebSettings(load_counties(counties_path), quality=False))
    c, csrf = logged_in(app, "clerk.yt")
    bad = roster_rows()
    bad[1][1] = broken(bad[1][1])
    bad_id = upload_id(upload(c, csrf, YANTING, "低保花名册.xlsx", _xlsx(root / "bad.xlsx", bad)))
    good = upload(c, csrf, YANTING, "低保花名册（改正）.xlsx", _xlsx(root / "good.xlsx", roster_rows()))
    assert "已提交核对" in good.text
    started = c.post(f"/counties/{YANTING}/nights", data={"csrf": csrf, "as_of": "2024-06-30"})
    night_id = int(str(started.url).rsplit("/", 1)[1])
    assert wait_for_night(c, YANTING, night_id)["status"] != "failed"
    inspector, _ = logged_in(app, "inspector.yt")
    cases = inspector.get(f"/counties/{YANTING}/cases").text
    case_id = re.search(r"/cases/(YKT-[0-9A-F]+)", cases)[1]
    night_name = re.search(
        rf"/counties/{YANTING}/reports/([0-9-]+)/exceptions.xlsx",
        inspector.get(f"/counties/{YANTING}/reports").text,
    )[1]
    yield Province(root, counties_path, app, bad_id, night_id, case_id, night_name)


def _xlsx(path: Path, rows: list[list[str]]) -> bytes:
    return write_roster_xlsx(path, rows).read_bytes()


def yanting_urls(p: Province, code: str = YANTING) -> list[tuple[str, str]]:
    """Every page and file under the county (method, path)."""
    u, n, k = p.upload_id, p.night_id, p.case_id
    return [
        ("GET", f"/counties/{code}/uploads"),
        ("GET", f"/counties/{code}/uploads.csv"),
        ("GET", f"/counties/{code}/uploads/{u}"),
        ("GET", f"/counties/{code}/uploads/{u}/annotated"),
        ("GET", f"/counties/{code}/nights/{n}"),
        ("GET", f"/counties/{code}/nights/{n}/status"),
        ("GET", f"/counties/{code}/cases"),
        ("GET", f"/counties/{code}/cases/{k}"),
        ("GET", f"/counties/{code}/reports"),
        ("GET", f"/counties/{code}/reports/{p.night_name}/exceptions.xlsx"),
        ("POST", f"/counties/{code}/uploads"),
        ("POST", f"/counties/{code}/uploads/{u}/recheck"),
        ("POST", f"/counties/{code}/uploads/{u}/accept"),
        ("POST", f"/counties/{code}/nights"),
        ("POST", f"/counties/{code}/cases/{k}/full-ids"),
    ]


def test_every_page_without_a_session_goes_to_login(province: Province) -> None:
    """No cookie, no page: each one (and each file) answers with a redirect to /login."""
    c = client(province.app)
    for method, path in yanting_urls(province):
        response = c.request(method, path, follow_redirects=False)
        assert (response.status_code, response.headers.get("location")) == (303, "/login"), path


@pytest.mark.parametrize("login", ["clerk.st", "inspector.st"])
def test_another_countys_users_get_403_for_every_page_and_file(province: Province, login: str) -> None:
    """三台县's clerk and inspector ask for each page and file of 盐亭县 (their own CSRF token in every
    POST): 403 each time, and no 盐亭县 data in any answer."""
    c, csrf = logged_in(province.app, login)
    for method, path in yanting_urls(province):
        response = c.request(method, path, data={"csrf": csrf} if method == "POST" else None)
        assert response.status_code == 403, (method, path)
        assert "村民" not in response.text and province.case_id not in response.text.replace(path, "")


@pytest.mark.parametrize("login", ["clerk.st", "inspector.st"])
def test_guessed_ids_under_ones_own_county_find_nothing(province: Province, login: str) -> None:
    """盐亭县's upload, night and case ids put under 三台县's own address: looked up within 三台县 only."""
    c, csrf = logged_in(province.app, login)
    for method, path in yanting_urls(province, code=SANTAI)[2:]:
        if path.endswith(("/cases", "/reports", "/uploads", "/nights")):
            continue
        response = c.request(method, path, data={"csrf": csrf} if method == "POST" else None)
        assert response.status_code == 403, (method, path)
        assert "村民" not in response.text
    assert client(province.app).get("/counties/999999/cases", follow_redirects=False).status_code == 303
    assert c.get("/counties/999999/cases").status_code == 403


def test_roles_keep_to_their_pages(province: Province) -> None:
    """A clerk reads no cases; an inspector uploads nothing (both of 盐亭县)."""
    clerk, _ = logged_in(province.app, "clerk.yt")
    inspector, _ = logged_in(province.app, "inspector.yt")
    assert clerk.get(f"/counties/{YANTING}/cases").status_code == 403
    assert clerk.get(f"/counties/{YANTING}/reports").status_code == 403
    assert inspector.get(f"/counties/{YANTING}/uploads").status_code == 403
    assert inspector.get(f"/counties/{YANTING}/cases").status_code == 200


def test_a_form_without_the_sessions_csrf_token_is_refused(province: Province) -> None:
    """An upload and a night posted with a foreign token (a cross-site form) do nothing."""
    c, _ = logged_in(province.app, "clerk.yt")
    before = c.get(f"/counties/{YANTING}/uploads").text.count('<tr class="status-')
    response = upload(c, "forged", YANTING, "x.xlsx", b"PK")
    assert response.status_code == 403 and "CSRF" in response.text
    assert c.post(f"/counties/{YANTING}/nights", data={"csrf": "forged"}).status_code == 403
    assert c.get(f"/counties/{YANTING}/uploads").text.count('<tr class="status-') == before
    fresh = client(province.app)
    assert fresh.post("/login", data={"username": "clerk.yt", "password": PASSWORD}).status_code == 403


def test_session_cookie_is_secure_httponly_samesite_strict(province: Province) -> None:
    c = client(province.app)
    token = CSRF.search(c.get("/login").text)[1]
    response = c.post(
        "/login", data={"username": "clerk.yt", "password": PASSWORD, "csrf": token}, follow_redirects=False
    )
    cookie = next(
        v for k, v in response.headers.multi_items() if k == "set-cookie" and v.startswith("ykt_session=")
    )
    assert all(flag in cookie for flag in ("Secure", "HttpOnly", "SameSite=strict")), cookie


def test_passwords_are_argon2_hashes_and_never_stored(province: Province) -> None:
    raw = portal_path(load_counties(province.counties_path)).read_bytes()
    assert PASSWORD.encode() not in raw
    assert b"$argon2id$" in raw
    assert oct(portal_path(load_counties(province.counties_path)).stat().st_mode & 0o777) == "0o600"


def test_login_is_throttled_after_five_failures(province: Province) -> None:
    """Five wrong passwords for one login from one address: the right one is refused for 15 minutes."""
    add_user(load_counties(province.counties_path), "throttle.me", "clerk", [YANTING], PASSWORD)
    c = client(province.app)
    for _ in range(5):
        token = CSRF.search(c.get("/login").text)[1]
        assert (
            c.post(
                "/login", data={"username": "throttle.me", "password": "wrong-guess-123", "csrf": token}
            ).status_code
            == 401
        )
    token = CSRF.search(c.get("/login").text)[1]
    response = c.post("/login", data={"username": "throttle.me", "password": PASSWORD, "csrf": token})
    assert response.status_code == 429 and "登录失败次数过多" in response.text


def test_duplicate_upload_is_recognised(province: Province) -> None:
    """The accepted roster sent again (under another name) is said to be a duplicate and not placed twice."""
    c, csrf = logged_in(province.app, "clerk.yt")
    inbox = load_counties(province.counties_path).by_code(YANTING).inbox / "roster"
    before = sorted(inbox.iterdir())
    response = upload(c, csrf, YANTING, "又一份.xlsx", (province.root / "good.xlsx").read_bytes())
    assert "重复上传" in response.text and "clerk.yt" in response.text
    assert sorted(inbox.iterdir()) == before


def test_a_file_that_does_not_say_its_program_asks_for_it(province: Province) -> None:
    """A roster without title and a bland name: the page asks for program and period; chosen, it checks
    clean and lands in the inbox under a name that says them (so the night reads them too)."""
    c, csrf = logged_in(province.app, "clerk.yt")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["姓名", "身份证号码", "银行卡号", "乡镇(街道)", "村(社区)", "组", "应发金额"])
    for row in roster_rows(12)[6:]:
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    first = upload(c, csrf, YANTING, "名单.xlsx", buffer.getvalue())
    assert "请说明文件的类别、补贴项目或发放期间" in first.text
    chosen = c.post(
        f"/counties/{YANTING}/uploads/{upload_id(first)}/recheck",
        data={"csrf": csrf, "kind": "roster", "program": "DIBAO", "period": "2024-05"},
    )
    assert "已提交核对" in chosen.text, chosen.text
    assert "城乡居民最低生活保障金" in chosen.text and "2024-05" in chosen.text
    inbox = load_counties(province.counties_path).by_code(YANTING).inbox / "roster"
    assert (inbox / "城乡居民最低生活保障金2024-05.xlsx").exists()


# -- hostile uploads: one test per protection ------------------------------------------------------


def test_an_upload_over_the_size_limit_is_refused_and_not_kept(province: Province) -> None:
    """1 MB limit: a 2 MB file is refused while it streams in (nothing kept); a request body over the
    server's own bound is answered 413 before the form is parsed."""
    app = create_app(
        WebSettings(load_counties(province.counties_path), quality=False, max_upload_bytes=1 << 20)
    )
    c, csrf = logged_in(app, "clerk.yt")
    blobs = province.root / "uploads" / YANTING / "blobs"
    before = sorted(blobs.iterdir())
    response = upload(c, csrf, YANTING, "大文件.csv", b"x" * (2 << 20))
    assert "拒收" in response.text and "超过 1 MB" in response.text
    assert sorted(blobs.iterdir()) == before
    huge = upload(c, csrf, YANTING, "巨大.csv", b"x" * (12 << 20))
    assert huge.status_code == 413


@pytest.mark.parametrize(
    "body",
    [
        b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" * 64,
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + bytes(range(256)) * 8,
    ],
    ids=["exe", "pdf"],
)
def test_type_is_decided_by_content_not_by_the_name(province: Province, body: bytes) -> None:
    """A program or PDF named 花名册.xlsx is refused as not a spreadsheet; nothing reaches the inbox."""
    c, csrf = logged_in(province.app, "clerk.yt")
    response = upload(c, csrf, YANTING, "花名册.xlsx", body)
    assert "文件内容不是表格" in response.text


def test_a_real_workbook_named_csv_is_read_as_a_workbook(province: Province) -> None:
    c, csrf = logged_in(province.app, "clerk.yt")
    response = upload(
        c, csrf, YANTING, "花名册.csv", _xlsx(province.root / "named.xlsx", roster_rows(30)[20:])
    )
    assert "已提交核对" in response.text
    assert list((province.root / "uploads" / YANTING / str(upload_id(response))).glob("*.xlsx"))


def test_a_zip_bomb_is_refused_before_anything_is_unpacked(province: Province) -> None:
    """A roster carrying a 60 MB member of zeros (ratio ~1000): refused from its zip directory; no
    working copy was made, so no reader ever opened it."""
    buffer = io.BytesIO(_xlsx(province.root / "base.xlsx", roster_rows(3)))
    with zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/media/padding.bin", b"\0" * (60 << 20))
    c, csrf = logged_in(province.app, "clerk.yt")
    response = upload(c, csrf, YANTING, "炸弹.xlsx", buffer.getvalue())
    assert "疑似压缩炸弹" in response.text
    assert not (province.root / "uploads" / YANTING / str(upload_id(response))).exists()


def test_xml_with_entities_is_refused_by_defusedxml(province: Province) -> None:
    """[Content_Types].xml with a billion-laughs DTD: refused as hostile XML, never expanded."""
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + "".join(
            f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10)
        )
        + ']><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">&lol9;</Types>'
    )
    source = zipfile.ZipFile(io.BytesIO(_xlsx(province.root / "xml.xlsx", roster_rows(2))))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for info in source.infolist():
            z.writestr(info, laughs if info.filename == "[Content_Types].xml" else source.read(info))
    c, csrf = logged_in(province.app, "clerk.yt")
    response = upload(c, csrf, YANTING, "实体.xlsx", buffer.getvalue())
    assert "XML 含有不允许的结构" in response.text


def test_file_names_are_never_paths(province: Province) -> None:
    """A name climbing out of every folder: the bytes are stored under their hash, the working copy and
    the inbox file under a name with no separator or dot, and nothing lands outside the province."""
    c, csrf = logged_in(province.app, "clerk.yt")
    rows = roster_rows(40)[35:]
    response = upload(
        c,
        csrf,
        YANTING,
        "../../../../tmp/逃逸..\\..\\花名册2024年4月城乡低保金.xlsx",
        _xlsx(province.root / "esc.xlsx", rows),
    )
    assert "已提交核对" in response.text, response.text
    assert not Path("/tmp/逃逸").exists()
    created = [p for p in province.root.rglob("*") if "逃逸" in p.name or ".." in p.name]
    assert created == []
    inbox = load_counties(province.counties_path).by_code(YANTING).inbox / "roster"
    assert (inbox / "花名册2024年4月城乡低保金.xlsx").exists()
    blobs = [p.name for p in (province.root / "uploads" / YANTING / "blobs").iterdir()]
    assert all(re.fullmatch(r"[0-9a-f]{64}\.(xlsx|xls|ods|csv)", name) for name in blobs)


def test_formulas_typed_by_a_clerk_are_never_written_back_live(province: Province) -> None:
    """A CSV whose name cell is =HYPERLINK(…) and whose file name starts with '=': the annotated workbook
    holds the text (apostrophe first), not a formula; the upload history CSV too."""
    rows = roster_rows(45)[41:]
    rows[0][0] = '=HYPERLINK("http://evil.example/","点我")'
    rows[1][1] = broken(rows[1][1])
    text = (
        "三台县2024年4月城乡低保金发放花名册\n" + "姓名,身份证号码,银行卡号,乡镇(街道),村(社区),组,应发金额\n"
    )
    text += "".join(
        ",".join(f'"{v}"' if "," in v or '"' in v else v for v in (cell.replace('"', '""') for cell in row))
        + "\n"
        for row in rows
    )
    c, csrf = logged_in(province.app, "clerk.yt")
    response = upload(c, csrf, YANTING, "=1+2.csv", text.encode("utf-8"))
    annotated = c.get(f"/counties/{YANTING}/uploads/{upload_id(response)}/annotated")
    assert annotated.status_code == 200
    ws = openpyxl.load_workbook(io.BytesIO(annotated.content))["数据"]
    cells = [cell for row in ws.iter_rows() for cell in row if cell.value and "HYPERLINK" in str(cell.value)]
    assert cells and all(cell.data_type == "s" and str(cell.value).startswith("'") for cell in cells)
    summary = openpyxl.load_workbook(io.BytesIO(annotated.content))["检查汇总"]
    assert all(
        not (isinstance(c.value, str) and c.value.startswith("=")) for row in summary.iter_rows() for c in row
    )
    history = c.get(f"/counties/{YANTING}/uploads.csv").content.decode("utf-8-sig")
    assert '"\'=1+2.csv"' in history and '"=1+2.csv"' not in history


# -- full IDs, the night lock, the command line ---------------------------------------------------


def test_full_ids_only_for_a_role_allowed_and_each_view_audited(province: Province) -> None:
    inspector, csrf = logged_in(province.app, "inspector.yt")
    page = inspector.get(f"/counties/{YANTING}/cases/{province.case_id}")
    assert page.status_code == 200 and "******" in page.text
    assert not any(person_id(i) in page.text for i in range(1, 6))
    assert "显示完整身份证号" not in page.text
    denied = inspector.post(f"/counties/{YANTING}/cases/{province.case_id}/full-ids", data={"csrf": csrf})
    assert denied.status_code == 403
    admin, admin_csrf = logged_in(province.app, "admin.yt")
    assert "显示完整身份证号" in admin.get(f"/counties/{YANTING}/cases/{province.case_id}").text
    shown = admin.post(f"/counties/{YANTING}/cases/{province.case_id}/full-ids", data={"csrf": admin_csrf})
    assert shown.status_code == 200 and any(person_id(i) in shown.text for i in range(1, 6))
    from ykt.web.portal import Portal

    audit = Portal(portal_path(load_counties(province.counties_path))).audit_rows()
    actions = [(login, action, detail) for _, login, _, action, detail, _ in audit]
    assert ("admin.yt", "full_ids_viewed", province.case_id) in actions
    assert ("inspector.yt", "full_ids_denied", province.case_id) in actions
    for action in ("login", "upload", "upload_accepted", "night_started"):
        assert any(a == action for _, a, _ in actions), action


def test_a_running_night_is_said_not_waited_for(province: Province) -> None:
    """While a night holds 盐亭县's lock (another process's `ykt run`), its pages say 核对正在进行."""
    county = load_counties(province.counties_path).by_code(YANTING)
    inspector, _ = logged_in(province.app, "inspector.yt")
    lock = Path(f"{county.db}.lock")
    lock.write_text(
        json.dumps({"pid": os.getpid(), "started_at": "2024-09-12T01:00:00", "host": socket.gethostname()})
    )
    try:
        response = inspector.get(f"/counties/{YANTING}/cases")
        assert response.status_code == 503 and "核对正在进行" in response.text
    finally:
        lock.unlink()


def test_user_commands_read_the_password_from_stdin(
    province: Province, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    path = str(province.counties_path)
    add = ["user", "add", "zhang.san", "--role", "inspector", "--county", SANTAI, "--counties", path]
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(add) == 2 and "密码太短" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(add) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(add) == 2  # exists already
    logged_in(province.app, "zhang.san")
    assert main(["user", "disable", "zhang.san", "--counties", path]) == 0
    c = client(province.app)
    token = CSRF.search(c.get("/login").text)[1]
    assert (
        c.post("/login", data={"username": "zhang.san", "password": PASSWORD, "csrf": token}).status_code
        == 401
    )
    unknown = ["user", "add", "li.si", "--role", "clerk", "--county", "999999", "--counties", path]
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(unknown) == 2


def test_names_from_uploads_are_escaped_in_pages(province: Province) -> None:
    """A file named like a script is shown as text on the result page and in the history (Jinja escapes)."""
    c, csrf = logged_in(province.app, "clerk.yt")
    response = upload(c, csrf, YANTING, "<script>alert(1)</script>.csv", b"\x00\x01binary")
    assert "<script>alert(1)</script>" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
    assert "<script>alert(1)</script>" not in c.get(f"/counties/{YANTING}/uploads").text


def test_a_large_file_is_checked_in_the_background_and_its_page_follows(province: Province) -> None:
    """Above `background_check_bytes` the upload answers at once (正在检查) and the status says when the
    check has ended; the page then shows its problems."""
    app = create_app(
        WebSettings(load_counties(province.counties_path), quality=False, background_check_bytes=1)
    )
    c, csrf = logged_in(app, "clerk.yt")
    rows = roster_rows(60)[50:]
    rows[0][1] = broken(rows[0][1])
    response = upload(
        c, csrf, YANTING, "盐亭县2024年4月低保花名册（大）.xlsx", _xlsx(province.root / "big.xlsx", rows)
    )
    number = upload_id(response)
    deadline = time.monotonic() + 120
    while not c.get(f"/counties/{YANTING}/uploads/{number}/status").json()["done"]:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    page = c.get(f"/counties/{YANTING}/uploads/{number}").text
    assert "有问题，未提交" in page and "身份证号码校验位错误" in page


def test_a_nights_html_report_opens_without_scripts(province: Province) -> None:
    """report.html of a night (issue 16's page) is listed and served with its own styles and no script."""
    county = load_counties(province.counties_path).by_code(YANTING)
    folder = next(
        p for p in (county.out, county.out / province.night_name) if (p / "exceptions.xlsx").exists()
    )
    (folder / "report.html").write_text(
        "<style>p{color:red}</style><p>报告</p><script>alert(1)</script>", encoding="utf-8"
    )
    inspector, _ = logged_in(province.app, "inspector.yt")
    assert "网页报告" in inspector.get(f"/counties/{YANTING}/reports").text
    response = inspector.get(f"/counties/{YANTING}/reports/{province.night_name}/report.html")
    assert response.status_code == 200 and "报告" in response.text
    policy = response.headers["content-security-policy"]
    assert "script-src" not in policy and "default-src 'none'" in policy
    assert (
        inspector.get(f"/counties/{YANTING}/reports/{province.night_name}/discrepancies.csv").status_code
        == 403
    )


def test_report_listing_follows_night_links_inside_the_output_folder_only(tmp_path: Path) -> None:
    """Nights are `out/<as_of>` links into `out/.versions/`: listed; a dated link planted to a folder outside
    `out` (someone else's reports) is never listed nor served."""
    from ykt.counties import County
    from ykt.web.desk import night_reports, report_file

    out = tmp_path / "out"
    version = out / ".versions" / "run-1"
    version.mkdir(parents=True)
    (version / "exceptions.xlsx").write_bytes(b"x")
    (out / "2024-09-12").symlink_to(Path(".versions") / "run-1")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "exceptions.xlsx").write_bytes(b"secret")
    (out / "2024-09-13").symlink_to(outside)
    county = County("510723", "盐亭县", tmp_path / "inbox", tmp_path / "db.duckdb", out, None)
    assert [night.name for night in night_reports(county)] == ["2024-09-12"]
    assert report_file(county, "2024-09-13", "exceptions.xlsx") is None
