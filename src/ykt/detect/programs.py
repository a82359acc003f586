"""programs.yaml in the warehouse: the one table (`programs_cfg`) that rules and cases read it from."""

from __future__ import annotations

from dataclasses import fields

from ykt.config import Program, Programs
from ykt.warehouse import Warehouse

_PROGRAMS_CFG_DDL = """
create or replace table programs_cfg (
    code                    varchar primary key,
    name                    varchar not null,
    cadence                 varchar not null,
    pay_day                 integer,
    due_days_after_approval integer,
    grace_days              integer not null,
    reissue_days            integer not null,
    standard_amount         decimal(18, 2),
    tolerance               decimal(18, 2) not null,
    means_tested            boolean not null,
    department              varchar,
    supervisor              varchar,
    resolve_days            integer not null,
    outlier_check           boolean not null,
    benford_check           boolean not null
)
"""
# Every field of a Program but its aliases (the spellings matter only when reading files), in the
# order of the table's columns.
_PROGRAMS_CFG_FIELDS = tuple(f.name for f in fields(Program) if f.name != "aliases")


def install_programs(wh: Warehouse, programs: Programs) -> None:
    """(Re)create `programs_cfg` from programs.yaml; every value is a bound parameter."""
    wh.execute("programs_cfg", _PROGRAMS_CFG_DDL)
    placeholders = ", ".join("?" for _ in _PROGRAMS_CFG_FIELDS)
    rows = [tuple(getattr(p, f) for f in _PROGRAMS_CFG_FIELDS) for p in programs.programs]
    wh.execute_many("programs_cfg", f"insert into programs_cfg values ({placeholders})", rows)
