"""The web desk: FastAPI, server-rendered Jinja2 pages (all text Chinese), no CDN, no build step.

Every page under `/counties/{code}/` is authorised here, server-side, on each request: a session
(else a redirect to /login), a user bound to `{code}` (else 403, also for a county that does not exist,
so codes cannot be probed), and a role allowed on the page (clerks upload, inspectors read cases;
admins both). Ids in URLs are looked up within the county only (an upload or night of another county,
or a case not in this county's warehouse, is not found). Every form carries the session's CSRF token.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Awaitable, Callable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from openpyxl.utils import get_column_letter
from starlette.datastructures import UploadFile

from ykt.counties import Counties, County
from ykt.kinds import KIND_SPECS
from ykt.labels import HEALTH_STATUS_LABELS, KPI_LABELS
from ykt.masking import neutralise_formula, printable
from ykt.pipeline import Config, load_config
from ykt.web import accounts, desk, uploads
from ykt.web.nights import Gates, NightInProgress
from ykt.web.portal import Portal, Session

SESSION_COOKIE = "ykt_session"
LOGIN_CSRF_COOKIE = "ykt_login_csrf"
MAX_FILES_PER_UPLOAD = 10
# Our pages: scripts and styles from this server only (the small inline scripts of drag-and-drop and polling)
PAGE_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
# A night's HTML report opened from the desk: its own inline styles, no script, nothing fetched
REPORT_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"
CHECK_WORKERS = 2  # background checks at once (a county server has few cores)
UPLOAD_STATUS_LABELS = {
    "received": "已接收",
    "checking": "正在检查",
    "checked": "已通过检查",
    "problems": "有问题，未提交",
    "refused": "拒收",
    "accepted": "已提交核对",
    "duplicate": "重复上传",
}
NIGHT_STATUS_LABELS = {"running": "核对正在进行", **HEALTH_STATUS_LABELS}
CLERK_ROLES = ("clerk", "admin")
INSPECTOR_ROLES = ("inspector", "admin")


@dataclass(frozen=True)
class WebSettings:
    counties: Counties
    max_upload_bytes: int = uploads.DEFAULT_MAX_UPLOAD_BYTES
    quality: bool = True  # the night's data-quality step (Great Expectations)
    # files this large are checked in the background and their page follows the check; smaller ones are
    # answered at once (a few seconds)
    background_check_bytes: int = 2 * uploads.MB
    secure_cookies: bool = True  # browsers accept Secure cookies on http://localhost too


class NotLoggedIn(Exception):
    pass


class Forbidden(Exception):
    def __init__(self, message: str = "您无权查看此页面"):
        super().__init__(message)
        self.message = message


class _BodyTooLarge(Exception):
    pass


class BodyLimit:
    """Refuses a request body over `limit` bytes while it streams in (before the form parser spools it
    to disk): by its Content-Length at once, else when the bytes received pass the limit."""

    def __init__(self, app: Any, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await _too_large(send, self.limit)
            return
        seen = 0
        started = False

        async def limited_receive() -> Any:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise _BodyTooLarge
            return message

        async def tracking_send(message: Any) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLarge:
            if not started:
                await _too_large(send, self.limit)


async def _too_large(send: Any, limit: int) -> None:
    body = f"上传内容超过 {limit // uploads.MB} MB 上限，未保存。请拆分文件后分别上传。".encode()
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def create_app(settings: WebSettings) -> Any:
    """The ASGI application (FastAPI inside the body limit)."""
    desk_app = Desk(settings)
    limit = settings.max_upload_bytes * MAX_FILES_PER_UPLOAD + uploads.MB
    return BodyLimit(desk_app.app, limit)


class Desk:
    """The application and what it holds: the portal database, each county's configuration, the gates."""

    def __init__(self, settings: WebSettings):
        self.settings = settings
        self.counties = settings.counties
        self.portal = Portal(accounts.portal_path(self.counties))
        # uploads hold full IDs until the night archives them: the folder is its owner's alone
        (accounts.portal_path(self.counties).parent / "uploads").mkdir(mode=0o700, exist_ok=True)
        (accounts.portal_path(self.counties).parent / "uploads").chmod(0o700)
        self.portal.abandon_running_nights()
        self.portal.abandon_checking()
        self.checkers = ThreadPoolExecutor(max_workers=CHECK_WORKERS, thread_name_prefix="ykt-check")
        self.configs: dict[str, Config] = {c.code: load_config(c.programs) for c in self.counties.counties}
        self.titles = {r.code: r.title for r in next(iter(self.configs.values())).registry.rules}
        self.gates = Gates(self.counties.codes)
        package = resources.files("ykt.web")
        self.templates = Jinja2Templates(directory=str(package.joinpath("templates")))
        self.templates.env.globals.update(
            upload_labels=UPLOAD_STATUS_LABELS,
            night_labels=NIGHT_STATUS_LABELS,
            kinds=KIND_SPECS,
            kpi_labels=KPI_LABELS,
            health_labels=HEALTH_STATUS_LABELS,
            age_labels=desk.AGE_LABELS,
            route_labels=desk.ROUTE_LABELS,
        )
        self.templates.env.filters["column_letter"] = column_letter
        self.app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
        self.app.mount("/static", StaticFiles(directory=str(package.joinpath("static"))), name="static")
        self.app.middleware("http")(self._headers)
        self.app.exception_handler(NotLoggedIn)(self._to_login)
        self.app.exception_handler(Forbidden)(self._forbidden)
        self.app.exception_handler(NightInProgress)(self._busy)
        self._routes()

    # -- plumbing ------------------------------------------------------------------------------------
    async def _headers(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", PAGE_POLICY)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Frame-Options"] = "DENY"
        if not request.url.path.startswith("/static/"):
            response.headers["Cache-Control"] = "no-store"
        return response

    async def _to_login(self, request: Request, exc: Exception) -> Response:
        return RedirectResponse("/login", status_code=303)

    async def _forbidden(self, request: Request, exc: Exception) -> Response:
        message = exc.message if isinstance(exc, Forbidden) else "您无权查看此页面"
        return self._page(request, "error.html", {"title": "无权访问", "message": message}, status=403)

    async def _busy(self, request: Request, exc: Exception) -> Response:
        return self._page(
            request,
            "error.html",
            {
                "title": "核对正在进行",
                "message": "本县的核对正在进行，数据仓库暂时不能读取；请稍候刷新本页。",
            },
            status=503,
        )

    def _page(self, request: Request, name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
        session = self._session(request)
        context = {"session": session, "user": session.user if session else None, **context}
        return self.templates.TemplateResponse(request, name, context, status_code=status)

    def _session(self, request: Request) -> Session | None:
        token = request.cookies.get(SESSION_COOKIE)
        return self.portal.session(accounts.token_hash(token)) if token else None

    def _guard(self, request: Request, code: str, roles: tuple[str, ...]) -> tuple[Session, County]:
        session = self._session(request)
        if session is None:
            raise NotLoggedIn
        if code not in session.user.counties or code not in self.counties.codes:
            raise Forbidden("您的账号未绑定该县，无权查看")
        if session.user.role not in roles:
            raise Forbidden("您的角色无权使用此页面")
        return session, self.counties.by_code(code)

    async def _form(self, request: Request, session: Session) -> Any:
        form = await request.form(max_files=MAX_FILES_PER_UPLOAD, max_fields=50)
        given = form.get("csrf")
        if not accounts.same_token(given if isinstance(given, str) else None, session.csrf):
            raise Forbidden("表单已过期或来源不明（CSRF 校验失败）；请刷新页面后重试")
        return form

    @staticmethod
    def _ip(request: Request) -> str:
        return request.client.host if request.client else ""

    def _routes(self) -> None:
        app = self.app
        app.get("/")(self.home)
        app.get("/login")(self.login_page)
        app.post("/login")(self.login)
        app.post("/logout")(self.logout)
        app.get("/counties/{code}/uploads")(self.uploads_page)
        app.post("/counties/{code}/uploads")(self.upload)
        app.get("/counties/{code}/uploads.csv")(self.uploads_csv)
        app.get("/counties/{code}/uploads/{upload_id}")(self.upload_page)
        app.post("/counties/{code}/uploads/{upload_id}/recheck")(self.recheck)
        app.post("/counties/{code}/uploads/{upload_id}/accept")(self.accept_with_problems)
        app.get("/counties/{code}/uploads/{upload_id}/annotated")(self.annotated)
        app.get("/counties/{code}/uploads/{upload_id}/status")(self.upload_status)
        app.post("/counties/{code}/nights")(self.start_night)
        app.get("/counties/{code}/nights/{night_id}")(self.night_page)
        app.get("/counties/{code}/nights/{night_id}/status")(self.night_status)
        app.get("/counties/{code}/cases")(self.cases_page)
        app.get("/counties/{code}/cases/{case_id}")(self.case_page)
        app.post("/counties/{code}/cases/{case_id}/full-ids")(self.case_full_ids)
        app.get("/counties/{code}/reports")(self.reports_page)
        app.get("/counties/{code}/reports/{night}/{name}")(self.report_download)

    # -- login ---------------------------------------------------------------------------------------
    async def home(self, request: Request) -> Response:
        session = self._session(request)
        if session is None:
            return RedirectResponse("/login", status_code=303)
        code = session.user.counties[0] if session.user.counties else ""
        page = "uploads" if session.user.role == "clerk" else "cases"
        return RedirectResponse(f"/counties/{code}/{page}", status_code=303)

    async def login_page(self, request: Request, message: str = "", status: int = 200) -> Response:
        token = accounts.new_token()
        response = self._page(request, "login.html", {"csrf": token, "message": message}, status=status)
        self._cookie(response, LOGIN_CSRF_COOKIE, token, max_age=3600)
        return response

    async def login(self, request: Request) -> Response:
        form = await request.form(max_files=0, max_fields=10)
        login, password = str(form.get("username") or ""), str(form.get("password") or "")
        given = form.get("csrf")
        if not accounts.same_token(
            given if isinstance(given, str) else None, request.cookies.get(LOGIN_CSRF_COOKIE, "")
        ) or not request.cookies.get(LOGIN_CSRF_COOKIE):
            return await self.login_page(request, "登录表单已过期，请重新输入", status=403)
        ip = self._ip(request)
        if accounts.throttled(self.portal, login, ip):
            self.portal.audit(login, "login_throttled", "", ip=ip)
            minutes = int(accounts.THROTTLE_WINDOW.total_seconds() // 60)
            return await self.login_page(
                request,
                f"登录失败次数过多，该账号已暂停登录；请 {minutes} 分钟后再试，或联系管理员",
                status=429,
            )
        user = self.portal.user(login)
        if not accounts.password_matches(user, password) or user is None or user.disabled:
            self.portal.add_failure(login, ip)
            self.portal.audit(login, "login_failed", "", ip=ip)
            return await self.login_page(request, "用户名或密码错误", status=401)
        self.portal.clear_failures(login, ip)
        token = accounts.new_token()
        self.portal.add_session(
            accounts.token_hash(token), login, accounts.new_token(), accounts.SESSION_LIFETIME
        )
        self.portal.audit(login, "login", user.role, ip=ip)
        response = RedirectResponse("/", status_code=303)
        self._cookie(response, SESSION_COOKIE, token, max_age=int(accounts.SESSION_LIFETIME.total_seconds()))
        response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
        return response

    def _cookie(self, response: Response, name: str, value: str, max_age: int) -> None:
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            path="/",
            secure=self.settings.secure_cookies,
            httponly=True,
            samesite="strict",
        )

    async def logout(self, request: Request) -> Response:
        session = self._session(request)
        if session is not None:
            await self._form(request, session)
            self.portal.end_session(accounts.token_hash(request.cookies.get(SESSION_COOKIE, "")))
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    # -- clerk: uploads and nights -------------------------------------------------------------------
    async def uploads_page(self, request: Request, code: str, just: str = "") -> Response:
        session, county = self._guard(request, code, CLERK_ROLES)
        ids = {int(part) for part in just.split(",") if part.isdigit()}
        history = self.portal.uploads(code)
        context = {
            "county": county,
            "history": history,
            "just": [u for u in history if u.id in ids],
            "nights": self.portal.nights(code, limit=5),
            "programs": self.configs[code].programs.programs,
            "today": dt.date.today().isoformat(),
            "max_mb": self.settings.max_upload_bytes // uploads.MB,
            "running": self.gates.running(county),
        }
        return self._page(request, "uploads.html", context)

    async def upload(self, request: Request, code: str) -> Response:
        session, county = self._guard(request, code, CLERK_ROLES)
        form = await self._form(request, session)
        choice = self._choice(form, code)
        files = [f for f in form.getlist("files") if isinstance(f, UploadFile) and f.filename]
        if not files:
            return RedirectResponse(f"/counties/{code}/uploads", status_code=303)
        ids = [self._take(county, session, f, choice) for f in files]
        if len(ids) == 1:
            return RedirectResponse(f"/counties/{code}/uploads/{ids[0]}", status_code=303)
        return RedirectResponse(
            f"/counties/{code}/uploads?{urlencode({'just': ','.join(map(str, ids))})}", status_code=303
        )

    def _choice(self, form: Any, code: str) -> dict[str, str | None]:
        """Kind, program and period as the clerk chose them, each only when it is one we know."""
        kind = str(form.get("kind") or "")
        program = str(form.get("program") or "")
        period = str(form.get("period") or "").strip()
        known = {p.code for p in self.configs[code].programs.programs}
        return {
            "kind": kind if kind in KIND_SPECS else None,
            "program": program if program in known else None,
            "period": period if uploads.periods_ok(period) else None,
        }

    def _take(self, county: County, session: Session, file: UploadFile, choice: dict[str, str | None]) -> int:
        """Receive one file, record it, and check it (then accept it when it has no problem)."""
        name = uploads.display_name(file.filename or "")
        blobs = self._county_dir(county) / "blobs"
        config = self.configs[county.code]
        login = session.user.login
        try:
            received = uploads.receive(file.file, blobs, self.settings.max_upload_bytes, config.programs)
        except uploads.UploadRefused as refused:
            upload_id = self.portal.add_upload(county.code, login, name, "", "")
            self.portal.update_upload(upload_id, status="refused", message=refused.message)
            self.portal.audit(login, "upload_refused", f"{name}: {refused.message}", county.code)
            return upload_id
        upload_id = self.portal.add_upload(county.code, login, name, received.file_hash, received.suffix)
        self.portal.audit(login, "upload", f"#{upload_id} {name} {received.file_hash}", county.code)
        earlier = self.portal.accepted_upload(county.code, received.file_hash)
        if earlier is not None or uploads.already_archived(county, received.file_hash, received.suffix):
            when = (
                f"已于 {earlier.at} 由 {earlier.login} 上传（{earlier.file_name}）"
                if earlier
                else "已在本县收件归档中"
            )
            self.portal.update_upload(
                upload_id, status="duplicate", message=f"内容完全相同的文件{when}，不会重复载入"
            )
            return upload_id
        job = (
            county,
            upload_id,
            received.path,
            file.filename or "",
            received.suffix,
            received.file_hash,
            choice,
            login,
        )
        self._schedule(received.size, job)
        return upload_id

    def _schedule(self, size: int, job: tuple[Any, ...]) -> None:
        """Check now, or in the background for a large file (its page polls until the check ends)."""
        if size < self.settings.background_check_bytes:
            self._check(*job)
            return
        self.portal.update_upload(job[1], status="checking", message=None)
        self.checkers.submit(self._check_in_background, job)

    def _check_in_background(self, job: tuple[Any, ...]) -> None:
        try:
            self._check(*job)
        except Exception as exc:  # the page must learn the check ended; the message names the error
            self.portal.update_upload(
                job[1], status="refused", message=f"检查时出现意外错误：{type(exc).__name__}"
            )

    def _county_dir(self, county: County) -> Path:
        return accounts.portal_path(self.counties).parent / "uploads" / county.code

    def _check(
        self,
        county: County,
        upload_id: int,
        blob: Path,
        name: str,
        suffix: str,
        file_hash: str,
        choice: dict[str, str | None],
        login: str,
    ) -> None:
        config = self.configs[county.code]
        program_name = next((p.name for p in config.programs.programs if p.code == choice["program"]), None)
        stem = uploads.composed_stem(name, program_name, choice["period"])
        folder = self._county_dir(county) / str(upload_id)
        work = uploads.working_copy(blob, folder, stem, suffix)
        result = uploads.check_upload(work, config.programs, config.aliases, choice["kind"])
        view = uploads.result_view(result, config.programs)
        uploads.save_view(folder, view)
        status = "checked" if result.ok else ("refused" if result.file_error else "problems")
        message = None if result.ok else (result.file_error or f"有问题的行 {result.rows_rejected} 行")
        self.portal.update_upload(
            upload_id,
            kind=result.kind,
            program=choice["program"],
            period=choice["period"],
            status=status,
            rows_read=result.rows_read,
            rows_rejected=result.rows_rejected,
            message=message,
        )
        if result.ok and result.kind is not None:
            self._accept(county, upload_id, work, file_hash, result.kind, login)

    def _accept(
        self, county: County, upload_id: int, work: Path, file_hash: str, kind: str, login: str
    ) -> None:
        target = uploads.accept(work, file_hash, kind, county, login)
        self.portal.update_upload(
            upload_id, status="accepted", message=f"已放入收件目录：{KIND_SPECS[kind].label}/{target.name}"
        )
        self.portal.audit(login, "upload_accepted", f"#{upload_id} {file_hash}", county.code)

    def _upload_or_404(self, code: str, upload_id: str) -> Any:
        upload = self.portal.upload(code, int(upload_id)) if upload_id.isdigit() else None
        if upload is None:
            raise Forbidden("找不到该上传记录（或它不属于本县）")
        return upload

    async def upload_page(self, request: Request, code: str, upload_id: str) -> Response:
        session, county = self._guard(request, code, CLERK_ROLES)
        upload = self._upload_or_404(code, upload_id)
        view = uploads.load_view(self._county_dir(county) / str(upload.id))
        context = {
            "county": county,
            "upload": upload,
            "view": view,
            "programs": self.configs[code].programs.programs,
            "today": dt.date.today().isoformat(),
        }
        return self._page(request, "upload.html", context)

    async def upload_status(self, request: Request, code: str, upload_id: str) -> Response:
        self._guard(request, code, CLERK_ROLES)
        upload = self._upload_or_404(code, upload_id)
        return JSONResponse(
            {
                "status": upload.status,
                "label": UPLOAD_STATUS_LABELS.get(upload.status, upload.status),
                "done": upload.status != "checking",
            }
        )

    async def recheck(self, request: Request, code: str, upload_id: str) -> Response:
        session, county = self._guard(request, code, CLERK_ROLES)
        form = await self._form(request, session)
        upload = self._upload_or_404(code, upload_id)
        if upload.status in ("problems", "refused", "checked") and upload.file_hash:
            blob = self._county_dir(county) / "blobs" / f"{upload.file_hash}{upload.suffix}"
            if blob.exists():
                job = (county, upload.id, blob, upload.file_name, upload.suffix, upload.file_hash)
                self._schedule(blob.stat().st_size, (*job, self._choice(form, code), session.user.login))
        return RedirectResponse(f"/counties/{code}/uploads/{upload.id}", status_code=303)

    async def accept_with_problems(self, request: Request, code: str, upload_id: str) -> Response:
        """A file whose only problems are rows: submitted anyway, its bad rows to be rejected by the night."""
        session, county = self._guard(request, code, CLERK_ROLES)
        await self._form(request, session)
        upload = self._upload_or_404(code, upload_id)
        folder = self._county_dir(county) / str(upload.id)
        work = next(
            (p for p in folder.glob(f"*{upload.suffix}") if not p.name.endswith(".检查结果.xlsx")), None
        )
        if upload.status == "problems" and upload.kind and work is not None:
            self._accept(county, upload.id, work, upload.file_hash, upload.kind, session.user.login)
        return RedirectResponse(f"/counties/{code}/uploads/{upload.id}", status_code=303)

    async def annotated(self, request: Request, code: str, upload_id: str) -> Response:
        session, county = self._guard(request, code, CLERK_ROLES)
        upload = self._upload_or_404(code, upload_id)
        folder = self._county_dir(county) / str(upload.id)
        view = uploads.load_view(folder) or {}
        name = view.get("annotated")
        path = (
            folder / str(name)
            if isinstance(name, str) and name in {p.name for p in folder.iterdir()}
            else None
        )
        if path is None:
            raise Forbidden("该文件没有标注副本")
        download = f"{uploads.safe_stem(upload.file_name)}.检查结果.xlsx"
        return FileResponse(
            path,
            filename=download,
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )

    async def uploads_csv(self, request: Request, code: str) -> Response:
        """The upload history as CSV (UTF-8 with BOM for Excel); every text neutralised as a formula."""
        session, county = self._guard(request, code, CLERK_ROLES)
        buffer = io.StringIO()
        buffer.write("\ufeff时间,上传人,文件名,内容哈希,状态,读取行数,有问题行数,说明\n")
        writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\n")
        for u in self.portal.uploads(code, limit=10_000):
            cells = [
                u.at,
                u.login,
                u.file_name,
                u.file_hash,
                UPLOAD_STATUS_LABELS.get(u.status, u.status),
                str(u.rows_read),
                str(u.rows_rejected),
                u.message or "",
            ]
            writer.writerow([neutralise_formula(printable(c)) for c in cells])
        return Response(
            buffer.getvalue().encode("utf-8"),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": "attachment; filename*=UTF-8''uploads.csv"},
        )

    async def start_night(self, request: Request, code: str) -> Response:
        session, county = self._guard(request, code, CLERK_ROLES)
        form = await self._form(request, session)
        try:
            as_of = dt.date.fromisoformat(str(form.get("as_of") or dt.date.today().isoformat()))
        except ValueError:
            as_of = dt.date.today()
        night_id = self.gates.start(county, self.portal, session.user.login, as_of, self.settings.quality)
        self.portal.audit(
            session.user.login, "night_started", f"#{night_id} {as_of}", code, self._ip(request)
        )
        return RedirectResponse(f"/counties/{code}/nights/{night_id}", status_code=303)

    def _night_or_404(self, code: str, night_id: str) -> Any:
        night = self.portal.night(code, int(night_id)) if night_id.isdigit() else None
        if night is None:
            raise Forbidden("找不到该次核对（或它不属于本县）")
        return night

    async def night_page(self, request: Request, code: str, night_id: str) -> Response:
        session, county = self._guard(request, code, CLERK_ROLES + INSPECTOR_ROLES)
        night = self._night_or_404(code, night_id)
        return self._page(request, "night.html", {"county": county, "night": night})

    async def night_status(self, request: Request, code: str, night_id: str) -> Response:
        self._guard(request, code, CLERK_ROLES + INSPECTOR_ROLES)
        night = self._night_or_404(code, night_id)
        return JSONResponse(
            {
                "status": night.status,
                "label": NIGHT_STATUS_LABELS.get(night.status, night.status),
                "finished": night.finished_at is not None,
                "message": night.message or "",
            }
        )

    # -- inspector: cases, one case, reports ---------------------------------------------------------
    async def cases_page(self, request: Request, code: str) -> Response:
        session, county = self._guard(request, code, INSPECTOR_ROLES)
        chosen = {k: v for k, v in request.query_params.items() if k in desk.FILTERS and v}
        night = request.query_params.get("night", "")
        as_of = dt.date.fromisoformat(night) if desk._NIGHT_NAME.match(night) else None
        with self.gates.reading(county) as wh:
            listing = desk.night_listing(wh, self.titles, chosen, as_of) if wh is not None else None
        return self._page(
            request, "cases.html", {"county": county, "listing": listing, "titles": self.titles}
        )

    async def case_page(self, request: Request, code: str, case_id: str) -> Response:
        session, county = self._guard(request, code, INSPECTOR_ROLES)
        return self._case(request, session, county, case_id, full_ids=False)

    async def case_full_ids(self, request: Request, code: str, case_id: str) -> Response:
        session, county = self._guard(request, code, INSPECTOR_ROLES)
        await self._form(request, session)
        if not session.user.may_see_full_ids:
            self.portal.audit(session.user.login, "full_ids_denied", case_id, code, self._ip(request))
            raise Forbidden("您的账号无权查看完整身份证号和卡号")
        self.portal.audit(session.user.login, "full_ids_viewed", case_id, code, self._ip(request))
        return self._case(request, session, county, case_id, full_ids=True)

    def _case(
        self, request: Request, session: Session, county: County, case_id: str, *, full_ids: bool
    ) -> Response:
        with self.gates.reading(county) as wh:
            view = desk.case_view(wh, case_id, self.titles, full_ids=full_ids) if wh is not None else None
        if view is None:
            raise Forbidden("本县没有这个案件编号")
        return self._page(request, "case.html", {"county": county, "view": view})

    async def reports_page(self, request: Request, code: str) -> Response:
        session, county = self._guard(request, code, INSPECTOR_ROLES)
        return self._page(request, "reports.html", {"county": county, "nights": desk.night_reports(county)})

    async def report_download(self, request: Request, code: str, night: str, name: str) -> Response:
        session, county = self._guard(request, code, INSPECTOR_ROLES)
        path = desk.report_file(county, night, name)
        if path is None:
            raise Forbidden("找不到该报告文件")
        self.portal.audit(session.user.login, "report_download", f"{night}/{name}", code, self._ip(request))
        if path.suffix == ".html":
            return FileResponse(
                path,
                media_type="text/html; charset=utf-8",
                headers={"Content-Security-Policy": REPORT_POLICY},
            )
        return FileResponse(path, filename=f"{county.name}{night}{path.name}")


def column_letter(col: int | None) -> str:
    """1 -> A, 27 -> AA: a column as the clerk's spreadsheet names it."""
    return get_column_letter(col) if col else ""


def serve(settings: WebSettings, host: str, port: int) -> None:
    import uvicorn

    app = create_app(settings)
    uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=False, server_header=False)
