"""No output a person or the platform reads carries an ID or card number, however it was typed or wherever.

Fixture: a 城乡低保 roster of three villagers never paid (MISSING complaint cases, so their text reaches
cases.jsonl and the platform's outbox) whose 姓名 and 村 cells hold an ID with a letter O, an ID split by
dashes and a card split by spaces, plus a bank file whose failure reason quotes a card number. Every output
(cases.jsonl, clues.jsonl, rejects.csv, run.json, report.html, exceptions.xlsx, clues.xlsx, the text columns of
discrepancies.csv)
and every outbox payload is swept for each planted value, as typed and as bare digits.
"""

from __future__ import annotations

import csv
import json
import re
import zipfile
from pathlib import Path

import duckdb

from tests.support.hostile import make_id
from ykt.cli import main

ID_WITH_O = "510723197O01010011"
ID_DASHED = "510723-19700101-0038-1"
CARD_SPACED = "6217 0000 1234 5678"
CARD_IN_REASON = "6217000099998888"
PLANTED = (ID_WITH_O, ID_DASHED, CARD_SPACED, CARD_IN_REASON)


def _digits(text: str) -> str:
    return re.sub(r"[ \-]", "", text).replace("O", "0")


def _write(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes("\n".join(lines).encode("gbk"))


def _inbox(inbox: Path) -> None:
    roster = ["村(社区),姓名,身份证号码,补贴项目,发放期间,应发金额"]
    roster += [
        f"永安村,{ID_WITH_O},{make_id('510723', '19600101', 1)},城乡低保,2024-08,1350.00",
        f"{CARD_SPACED},村民二,{make_id('510723', '19600101', 2)},城乡低保,2024-08,1350.00",
        f"永安村,张{ID_DASHED},{make_id('510723', '19600101', 3)},城乡低保,2024-08,1350.00",
        f"永安村,村民四,{make_id('510723', '19600101', 4)},城乡低保,2024-08,1350.00",
    ]
    _write(inbox / "roster" / "低保花名册.csv", roster)
    bank = ["姓名,身份证号码,补贴项目,发放期间,发放金额,发放日期,发放状态,失败原因"]
    bank.append(
        f"村民四,{make_id('510723', '19600101', 4)},城乡低保,2024-08,1350.00,2024-08-08,失败,账号{CARD_IN_REASON}已销户"
    )
    _write(inbox / "payments" / "代发明细.csv", bank)


def _texts(out: Path, db: Path) -> dict[str, str]:
    texts = {
        n: (out / n).read_text(encoding="utf-8-sig")
        for n in ("cases.jsonl", "clues.jsonl", "rejects.csv", "run.json", "report.html")
    }
    for workbook in ("exceptions.xlsx", "clues.xlsx"):
        with zipfile.ZipFile(out / workbook) as book:
            texts[workbook] = "".join(
                book.read(n).decode("utf-8") for n in book.namelist() if n.endswith(".xml")
            )
    with (out / "discrepancies.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    # discrepancies.csv keeps full IDs and cards in their own columns for the bureau's systems, by design
    texts["discrepancies.csv (text columns)"] = json.dumps(
        [{k: v for k, v in r.items() if k not in ("id_number", "card_number")} for r in rows],
        ensure_ascii=False,
    )
    with duckdb.connect(str(db), read_only=True) as con:
        payloads = [p for (p,) in con.execute("select payload from outbox").fetchall()]
    assert payloads, "the fixture must put complaint cases in the outbox"
    texts["outbox payloads"] = "\n".join(payloads)
    return texts


def test_every_output_and_payload_is_free_of_every_planted_identifier(tmp_path):
    _inbox(tmp_path / "inbox")
    db = tmp_path / "w.duckdb"
    args = ["run", "--inbox", str(tmp_path / "inbox"), "--as-of", "2024-09-12", "--db", str(db)]
    main([*args, "--out", str(tmp_path / "out"), "--engine", "plain", "--no-quality"])
    for name, text in _texts(tmp_path / "out" / "latest", db).items():
        bare = re.sub(r"[ \-]", "", text).replace("O", "0")
        for secret in PLANTED:
            assert secret not in text, (name, secret)
            assert _digits(secret) not in bare, (name, secret)
