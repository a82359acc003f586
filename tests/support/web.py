"""The web desk's fixtures: a province of two tiny counties (counties.yaml), accounts, and the desk served
by uvicorn on a free localhost port in a thread (a real HTTP server, as a browser meets it)."""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn
import yaml

from ykt.counties import load_counties
from ykt.web import WebSettings, add_user, create_app

YANTING, SANTAI = "510723", "510722"  # the demo's county (the seed story) and its neighbour
PASSWORD = "一卡通-correct-horse-42"


def write_counties(root: Path) -> Path:
    """counties.yaml of 盐亭县 (510723) and 三台县 (510722): each its own inbox, warehouse and output."""
    body = {
        "province": {
            "code": "510000",
            "name": "四川省",
            "department": "省财政厅",
            "supervisor": "省纪委监委",
            "out": "province",
        },
        "counties": [
            {
                "code": code,
                "name": name,
                "inbox": f"{code}/inbox",
                "db": f"{code}/ykt.duckdb",
                "out": f"{code}/out",
            }
            for code, name in ((YANTING, "盐亭县"), (SANTAI, "三台县"))
        ],
    }
    path = root / "counties.yaml"
    path.write_text(yaml.safe_dump(body, allow_unicode=True), encoding="utf-8")
    for code in (YANTING, SANTAI):
        (root / code / "inbox").mkdir(parents=True, exist_ok=True)
    return path


def add_accounts(counties_path: Path) -> dict[str, str]:
    """A clerk and an inspector of each county, and an admin of 盐亭县 (who may see full IDs)."""
    counties = load_counties(counties_path)
    logins = {
        "clerk.yt": ("clerk", YANTING),
        "inspector.yt": ("inspector", YANTING),
        "clerk.st": ("clerk", SANTAI),
        "inspector.st": ("inspector", SANTAI),
        "admin.yt": ("admin", YANTING),
    }
    for login, (role, code) in logins.items():
        add_user(counties, login, role, [code], PASSWORD)
    return {login: role for login, (role, _) in logins.items()}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served(settings: WebSettings) -> Iterator[str]:
    """The desk on http://127.0.0.1:<free port> for the duration of the block (uvicorn in a thread)."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def today() -> dt.date:
    return dt.date.today()


def seed_demo(counties_path: Path, code: str = YANTING) -> None:
    """The demo's two nights (sample_data/generate.py: the seed story, 李安成's 农机购置补贴 case among
    them) run on the county's own warehouse and output folder, as its nights would."""
    from ykt.pipeline import NightOptions, run_night
    from ykt.sample_data.generate import generate_demo

    county = load_counties(counties_path).by_code(code)
    plan = generate_demo(counties_path.parent / "demo_inboxes")
    for inbox, as_of in plan.nights:
        run_night(NightOptions(inbox=inbox, as_of=as_of, db=county.db, out=county.out, quality=False))
