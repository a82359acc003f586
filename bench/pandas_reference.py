"""The issue-2 rules written the way a competent analyst would in pandas.

This is the yardstick for the benchmark (ours must be at least 5× faster) and an
independent cross-check of the SQL rules' semantics (the counts must agree on the
same data). It is deliberately not a straw man: one groupby per payment outcome,
vectorised merges, no per-row Python, categorical keys.

Inputs are plain pandas frames:
- entitlements: id_number, program_code, period, amount_due (float), due_date (datetime64)
- payments:     id_number, program_code, period, amount (float), pay_date (datetime64), status
                ('success' | 'failure' | 'returned' | 'stopped'; a return on or after a success of
                its key cancels one success, otherwise it is a failed attempt)
- programs:     program_code, grace_days, reissue_days, tolerance
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

KEY = ["id_number", "program_code", "period"]
RULES = ("MISSING", "FAILED_NOT_REISSUED", "PAID_LATE", "UNDERPAID", "OVERPAID", "DUPLICATE", "UNENTITLED")


def payment_outcomes(payments: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Per entitlement key: successes (count, sum, first date), failures (count, first date), stops."""
    known = payments[payments["pay_date"] <= as_of]
    success = (
        known[known["status"] == "success"]
        .groupby(KEY, observed=True, sort=False)
        .agg(n_success=("amount", "size"), paid=("amount", "sum"), first_success=("pay_date", "min"))
    )
    failure = (
        known[known["status"] == "failure"]
        .groupby(KEY, observed=True, sort=False)
        .agg(n_failure=("amount", "size"), first_failure=("pay_date", "min"))
    )
    stopped = (
        known[known["status"] == "stopped"].groupby(KEY, observed=True, sort=False).size().rename("n_stopped")
    )
    outcomes = success.join(failure, how="outer").join(stopped, how="outer")
    returned = known[known["status"] == "returned"]
    if returned.empty:
        return outcomes.reset_index()
    return _net_of_returns(outcomes, returned).reset_index()


def _net_of_returns(outcomes: pd.DataFrame, returned: pd.DataFrame) -> pd.DataFrame:
    """Each return on or after a key's first success cancels one success (the money came back); a key
    left with none is unpaid from its last return; a return before any success is a failure."""
    rows = returned.join(outcomes["first_success"], on=KEY)
    cancels = rows["pay_date"] >= rows["first_success"]
    back = (
        rows[cancels]
        .groupby(KEY, observed=True, sort=False)
        .agg(n_back=("amount", "size"), back=("amount", "sum"), last_back=("pay_date", "max"))
    )
    bounced = (
        rows[~cancels]
        .groupby(KEY, observed=True, sort=False)
        .agg(n_bounced=("amount", "size"), first_bounced=("pay_date", "min"))
    )
    out = outcomes.join(back, how="outer").join(bounced, how="outer")
    out["n_failure"] = out["n_failure"].fillna(0) + out["n_bounced"].fillna(0)
    out["first_failure"] = out[["first_failure", "first_bounced"]].min(axis=1)
    n_back = out["n_back"].fillna(0)
    out["n_success"] = out["n_success"].fillna(0) - n_back.clip(upper=out["n_success"].fillna(0))
    out["paid"] = (out["paid"].fillna(0) - out["back"].fillna(0)).clip(lower=0)
    unpaid_again = (n_back > 0) & (out["n_success"] == 0)
    out.loc[unpaid_again, "n_failure"] = out.loc[unpaid_again, "n_failure"] + n_back[unpaid_again]
    out.loc[unpaid_again, "first_failure"] = out.loc[unpaid_again, "last_back"]
    out.loc[unpaid_again, "first_success"] = pd.NaT
    return out.drop(columns=["n_back", "back", "last_back", "n_bounced", "first_bounced"])


def reconcile(entitlements: pd.DataFrame, outcomes: pd.DataFrame, programs: pd.DataFrame) -> pd.DataFrame:
    """Entitlements with their payment outcome and program settings (left join on the key)."""
    merged = entitlements.merge(outcomes, on=KEY, how="left").merge(programs, on="program_code", how="left")
    for col in ("n_success", "n_failure", "n_stopped", "paid"):
        merged[col] = merged[col].fillna(0)
    merged["late_after"] = merged["due_date"] + pd.to_timedelta(merged["grace_days"], unit="D")
    return merged


def _fen(yuan: pd.Series) -> pd.Series:
    """Amounts as whole fen for comparing: binary floats make 170.27 − 0.01 = 170.26000000000002, so a
    sum exactly at due − tolerance (two halves rounded down by one fen) would look underpaid."""
    return (yuan * 100).round().astype("int64")


def reference_findings(
    entitlements: pd.DataFrame, payments: pd.DataFrame, programs: pd.DataFrame, as_of: dt.date
) -> dict[str, pd.DataFrame]:
    """The keys (id_number, program_code, period) each issue-2 rule finds as of `as_of`."""
    as_of_ts = pd.Timestamp(as_of)
    outcomes = payment_outcomes(payments, as_of_ts)
    r = reconcile(entitlements, outcomes, programs)
    unpaid = r["n_success"] == 0
    reissue_by = r["first_failure"] + pd.to_timedelta(r["reissue_days"], unit="D")
    found = {
        "MISSING": r[unpaid & (r["n_failure"] == 0) & (r["n_stopped"] == 0) & (r["late_after"] < as_of_ts)],
        "FAILED_NOT_REISSUED": r[unpaid & (r["n_failure"] > 0) & (reissue_by < as_of_ts)],
        "PAID_LATE": r[r["first_success"] > r["late_after"]],
        "UNDERPAID": r[(r["paid"] > 0) & (_fen(r["paid"]) < _fen(r["amount_due"] - r["tolerance"]))],
        "OVERPAID": r[(r["n_success"] == 1) & (_fen(r["paid"]) > _fen(r["amount_due"] + r["tolerance"]))],
        "DUPLICATE": outcomes[outcomes["n_success"] >= 2],
    }
    paid_keys = outcomes.loc[outcomes["n_success"] > 0, KEY]
    entitled = entitlements[KEY].drop_duplicates().assign(_entitled=True)
    with_roster = paid_keys.merge(entitled, on=KEY, how="left")
    found["UNENTITLED"] = with_roster[with_roster["_entitled"].isna()]
    # a program-period with no roster at all is one COVERAGE record, not a clue per payment
    rostered = entitlements[["program_code", "period"]].drop_duplicates().assign(_rostered=True)
    for rule in ("UNENTITLED", "DUPLICATE"):
        covered = found[rule].merge(rostered, on=["program_code", "period"], how="left")
        found[rule] = covered[covered["_rostered"].notna()]
    _drop_one_edit_pairs(found)
    return {rule: frame[KEY].reset_index(drop=True) for rule, frame in found.items()}


def reference_counts(
    entitlements: pd.DataFrame, payments: pd.DataFrame, programs: pd.DataFrame, as_of: dt.date
) -> dict[str, int]:
    return {
        rule: len(keys) for rule, keys in reference_findings(entitlements, payments, programs, as_of).items()
    }


def _drop_one_edit_pairs(found: dict[str, pd.DataFrame]) -> None:
    """An unpaid roster ID and a bank ID with no roster row, of one program and period, whose 17-digit
    bodies are one edit apart (one digit substituted or two adjacent ones swapped; the check character
    follows the body) are one mistyped ID (ID_MISMATCH), neither MISSING nor UNENTITLED. (Names are not
    compared here: the frames carry none.)"""
    pairs = found["MISSING"][KEY].merge(
        found["UNENTITLED"][KEY], on=["program_code", "period"], suffixes=("", "_bank")
    )
    pairs = pairs[(pairs["id_number"].str.len() == 18) & (pairs["id_number_bank"].str.len() == 18)]
    if pairs.empty:
        return
    width = 17
    a = np.array(pairs["id_number"].str[:width].tolist(), dtype=f"U{width}").view("U1").reshape(-1, width)
    b = (
        np.array(pairs["id_number_bank"].str[:width].tolist(), dtype=f"U{width}")
        .view("U1")
        .reshape(-1, width)
    )
    differ = a != b
    count = differ.sum(axis=1)
    first = differ.argmax(axis=1)
    rows = np.arange(len(pairs))
    nxt = np.minimum(first + 1, width - 1)
    swapped = (
        (count == 2) & differ[rows, nxt] & (a[rows, first] == b[rows, nxt]) & (a[rows, nxt] == b[rows, first])
    )
    one_edit = pairs[(count == 1) | swapped]
    roster = one_edit[KEY].assign(_pair=True)
    bank = one_edit[["id_number_bank", "program_code", "period"]].rename(
        columns={"id_number_bank": "id_number"}
    )
    for rule, keys in (("MISSING", roster), ("UNENTITLED", bank.assign(_pair=True))):
        flagged = found[rule].merge(keys, on=KEY, how="left")
        found[rule] = flagged[flagged["_pair"].isna()][KEY]
