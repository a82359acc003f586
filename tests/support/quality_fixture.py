"""A tiny warehouse of two runs with designed data-quality problems (shared by the quality tests)."""

from __future__ import annotations

from ykt.warehouse import Warehouse

# Run Q1 loaded a roster and a bank file and rejected a third file; run Q0 loaded an older roster.
# Designed problems (each one check must catch, with the file and row it names):
#   roster.xlsx row 6: 99,999.00 for DIBAO, whose median current amount is 1,350.00 (limit 10x = 13,500).
#   roster.xlsx row 5: due date 2024-04-01 before its approval date 2024-04-05.
#   bank.csv: 2 of 5 payments failed (40% > the 20% allowed); its 合计 row says 100.00, the rows sum to 6,050.00.
#   broken.xlsx: 3 rows read but 0 loaded + 2 rejected (row accounting broken).
# Everything else is clean: IDs 18 characters, periods canonical, row counts as the ingest step reported.
FIXTURE = """
insert into files (file_hash, kind, original_name, archived_path, received_at, run_id, status, rows_read, rows_loaded,
                   rows_rejected, control_total, detail_total) values
  ('h_old', 'roster', 'old.xlsx', 'a/h_old', '2024-03-20 01:00:00', 'Q0', 'loaded', 1, 1, 0, null, 1350.00),
  ('h_r', 'roster', 'roster.xlsx', 'a/h_r', '2024-04-20 01:00:00', 'Q1', 'loaded', 4, 4, 0, 103149.00, 103149.00),
  ('h_p', 'payments', 'bank.csv', 'a/h_p', '2024-04-20 01:00:00', 'Q1', 'loaded', 5, 5, 0, 100.00, 6050.00);
insert into run_files values
  ('Q0', 'h_old', 'old.xlsx', 'roster', 'loaded', 1, 1, 0, null, null, null),
  ('Q1', 'h_r', 'roster.xlsx', 'roster', 'loaded', 4, 4, 0, null, null, null),
  ('Q1', 'h_p', 'bank.csv', 'payments', 'loaded', 5, 5, 0, null, null, null),
  ('Q1', 'h_x', 'broken.xlsx', 'roster', 'rejected', 3, 0, 2, '文件无法打开或已损坏', 'FILE_UNREADABLE', null);
insert into entitlements (file_hash, sheet, source_row, id_number, program_code, period, name, amount_due, approval_date,
                          due_date) values
  ('h_old', 's', 3, '510723199001010015', 'DIBAO', '2024-03', '甲', 1350.00, null, '2024-03-10'),
  ('h_r', 's', 3, '510723199001010015', 'DIBAO', '2024-04', '甲', 1350.00, null, '2024-04-10'),
  ('h_r', 's', 4, '510723198502020027', 'DIBAO', '2024-04', '乙', 1350.00, null, '2024-04-10'),
  ('h_r', 's', 5, '510723197003030041', 'DIBAO', '2024-04', '丙', 1350.00, '2024-04-05', '2024-04-01'),
  ('h_r', 's', 6, '510723196004040052', 'DIBAO', '2024-04', '丁', 99999.00, null, '2024-04-10');
insert into payments (file_hash, sheet, source_row, id_number, program_code, period, amount, pay_date, status) values
  ('h_p', 's', 2, '510723199001010015', 'DIBAO', '2024-04', 1350.00, '2024-04-10', 'success'),
  ('h_p', 's', 3, '510723198502020027', 'DIBAO', '2024-04', 1350.00, '2024-04-10', 'success'),
  ('h_p', 's', 4, '510723197003030041', 'DIBAO', '2024-04', 1350.00, '2024-04-10', 'failure'),
  ('h_p', 's', 5, '510723196004040052', 'DIBAO', '2024-04', 1000.00, '2024-04-10', 'failure'),
  ('h_p', 's', 6, '510124201201010038', 'CHILD', '2024-04', 1000.00, '2024-04-10', 'success');
"""


def fixture_warehouse() -> Warehouse:
    wh = Warehouse(":memory:")
    wh.execute("quality fixture", FIXTURE)
    return wh
