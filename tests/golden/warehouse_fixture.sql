-- A tiny warehouse as the night of 2024-04-20 (run R2) leaves it, one night after 2024-03-20 (run R1).
-- Used by tests/support/report_fixture.py (tests/integration/test_reports.py, test_rendering.py); every expected value there is derived from
-- the design below, not copied from output.
--
-- Files seen by R2: a roster (5 read = 4 loaded + 1 rejected), a payments file (6 = 6 + 0), a second copy of
-- R1's March roster under another name (duplicate: its reject was reported by R1 and must not come back) and
-- a file rejected as a whole. R1 saw only the March roster.
-- Findings of 2024-04-20: MISSING x2, FAILED_NOT_REISSUED x1, DUPLICATE x1 (clue), PAID_LATE x1 (record, no case),
-- BATCH_STALLED x1 heading two of its villagers' MISSING findings (absorbed: they carry C6, the batch's case, and
-- are shown on the batch members' sheet, not on 应发未发); one stale finding of 2024-03-20 that must not be reported.
-- Cases: C1 open (opened this run), C2 escalated this run, C3 resolved this run, C4 resolved a month ago
-- (not listed any more), C5 a DUPLICATE clue opened this run, C6 a BATCH_STALLED case opened this run whose
-- department is a township office (programs.yaml template already applied by the cases step).

insert into run_files values
  ('R2', 'h_apr', '低保花名册2024年4月.xlsx', 'roster', 'loaded', 5, 4, 1, null, null, []),
  ('R2', 'h_pay', '代发明细202404.csv', 'payments', 'loaded', 6, 6, 0, null, null, []),
  ('R2', 'h_mar', '低保花名册2024年3月(副本).xlsx', 'roster', 'duplicate', 0, 0, 0, '与已入库文件内容相同', null, []),
  ('R2', 'h_bad', '未知表格.xlsx', 'roster', 'rejected', 0, 0, 0, '找不到可识别的表头', 'FILE_HEADERS_UNKNOWN', []),
  ('R1', 'h_mar', '低保花名册2024年3月.xlsx', 'roster', 'loaded', 3, 2, 1, null, null, []);

insert into rejects values
  ('h_apr', '低保花名册2024年4月.xlsx', '花名册', 7, '身份证号码', '510723199001010011', 'ID_CHECKSUM', '身份证号码校验位错误'),
  ('h_mar', '低保花名册2024年3月.xlsx', '花名册', 5, '补贴金额', 'abc', 'AMOUNT_INVALID', '金额无法识别（应为数字，如 1350.00）');

insert into findings values
  ('2024-04-20', 'MISSING', 'complaint', 'YKT-00000000000000C1', 'DIBAO', '2024-04', '510723199001010015', '张三',
   '6217000000001234', '凤灵街道', '万安社区', '一组', 1350.00, null, '2024-04-10', null, 10, '到期未发放'),
  ('2024-04-20', 'MISSING', 'complaint', 'YKT-00000000000000C2', 'DIBAO', '2024-04', '510723198502020027', '李四',
   '6217000000005678', '凤灵街道', '万安社区', '二组', 980.50, null, '2024-04-10', null, 10, '到期未发放'),
  ('2024-04-20', 'FAILED_NOT_REISSUED', 'complaint', 'YKT-00000000000000C3', 'CHILD', '2024-03', '510124201201010038',
   '黄小明', '6228480000009999', '唐昌镇', '永安村', null, 1350.00, 0.00, '2024-03-10', null, 41, '账户未激活，未重新发放'),
  ('2024-04-20', 'DUPLICATE', 'clue', 'YKT-00000000000000C5', 'DIBAO', '2024-03', '510723197003030041', '王五',
   '6217000000004321', '凤灵街道', '万安社区', '一组', 1350.00, 2700.00, '2024-03-10', '2024-03-12', null, '同期发放2次'),
  ('2024-04-20', 'PAID_LATE', 'record', null, 'DIBAO', '2024-03', '510723196004040052', '赵六',
   '6217000000002468', '凤灵街道', '万安社区', '三组', 1350.00, 1350.00, '2024-03-10', '2024-03-25', 15, '晚发15天'),
  ('2024-04-20', 'BATCH_STALLED', 'complaint', 'YKT-00000000000000C6', 'LAND_COMP', '2024-01', null, null,
   null, '江口街道', '武阳社区', '7组', 171520.00, null, '2024-03-01', null, 50, '268人整批未发放'),
  ('2024-04-20', 'MISSING', 'complaint', 'YKT-00000000000000C6', 'LAND_COMP', '2024-01', '511403196505050071', '孙八',
   '6217000000003579', '江口街道', '武阳社区', '7组', 640.00, null, '2024-03-01', null, 50, '到期未发放'),
  ('2024-04-20', 'MISSING', 'complaint', 'YKT-00000000000000C6', 'LAND_COMP', '2024-01', '511403197006060086', '周九',
   '6217000000008642', '江口街道', '武阳社区', '7组', 640.00, null, '2024-03-01', null, 50, '到期未发放'),
  ('2024-03-20', 'MISSING', 'complaint', 'YKT-00000000000000C4', 'DIBAO', '2024-03', '510723199901010063', '钱七',
   '6217000000001357', '凤灵街道', '万安社区', '一组', 1350.00, null, '2024-03-10', null, 10, '到期未发放');

insert into cases (case_id, rule, route, program_code, period, case_key, township, village, group_name, persons, amount,
                   department, supervisor, opened_on, deadline, status, escalated_on, resolved_on, reopened_count,
                   last_seen_on, summary) values
  ('YKT-00000000000000C1', 'MISSING', 'complaint', 'DIBAO', '2024-04', '510723199001010015', '凤灵街道', '万安社区', '一组',
   1, 1350.00, '县民政局', '驻县民政局纪检监察组', '2024-04-20', '2024-05-05', 'open', null, null, 0, '2024-04-20',
   '凤灵街道万安社区一组 张三（510723********0015）2024年4月城乡居民最低生活保障金1,350.00元，截至2024-04-20尚未发放，已逾期10天。'),
  ('YKT-00000000000000C2', 'MISSING', 'complaint', 'DIBAO', '2024-04', '510723198502020027', '凤灵街道', '万安社区', '二组',
   1, 980.50, '县民政局', '驻县民政局纪检监察组', '2024-03-20', '2024-04-04', 'escalated', '2024-04-20', null, 0, '2024-04-20',
   '李四 2024年4月低保金到期未发放'),
  ('YKT-00000000000000C3', 'FAILED_NOT_REISSUED', 'complaint', 'CHILD', '2024-03', '510124201201010038', '唐昌镇', '永安村', null,
   1, 1350.00, '县民政局', '驻县民政局纪检监察组', '2024-03-20', '2024-04-04', 'resolved', null, '2024-04-20', 0, '2024-03-20',
   '黄小明 事实无人抚养儿童基本生活补贴发放失败未重发'),
  ('YKT-00000000000000C4', 'MISSING', 'complaint', 'DIBAO', '2024-03', '510723199901010063', '凤灵街道', '万安社区', '一组',
   1, 1350.00, '县民政局', '驻县民政局纪检监察组', '2024-03-20', '2024-04-04', 'resolved', null, '2024-03-25', 0, '2024-03-20',
   '钱七 2024年3月低保金到期未发放'),
  ('YKT-00000000000000C5', 'DUPLICATE', 'clue', 'DIBAO', '2024-03', '510723197003030041', '凤灵街道', '万安社区', '一组',
   1, 1350.00, '县民政局', '驻县民政局纪检监察组', '2024-04-20', '2024-05-05', 'open', null, null, 0, '2024-04-20',
   '同一对象同期两次发放'),
  ('YKT-00000000000000C6', 'BATCH_STALLED', 'complaint', 'LAND_COMP', '2024-01', '江口街道/武阳社区/7组', '江口街道', '武阳社区', '7组',
   268, 171520.00, '江口街道办事处', '江口街道纪工委', '2024-04-20', '2024-05-20', 'open', null, null, 0, '2024-04-20',
   '江口街道武阳社区7组 268人 征地拆迁补偿款合计171,520.00元 应于2024-03-01前发放，截至2024-04-20均未发放。');

insert into case_events (case_id, event, on_date, run_id, status_after, detail, days_to_resolve) values
  ('YKT-00000000000000C2', 'opened', '2024-03-20', 'R1', 'open', null, null),
  ('YKT-00000000000000C3', 'opened', '2024-03-20', 'R1', 'open', null, null),
  ('YKT-00000000000000C4', 'opened', '2024-03-20', 'R1', 'open', null, null),
  ('YKT-00000000000000C4', 'resolved', '2024-03-25', 'R0', 'resolved', null, 5),
  ('YKT-00000000000000C1', 'opened', '2024-04-20', 'R2', 'open', null, null),
  ('YKT-00000000000000C2', 'escalated', '2024-04-20', 'R2', 'escalated', null, null),
  ('YKT-00000000000000C3', 'resolved', '2024-04-20', 'R2', 'resolved', null, 31),
  ('YKT-00000000000000C5', 'opened', '2024-04-20', 'R2', 'open', null, null),
  ('YKT-00000000000000C6', 'opened', '2024-04-20', 'R2', 'open', null, null);

-- Columns the cases step fills as it opens and resolves cases.
update cases set program_name = case program_code when 'DIBAO' then '城乡居民最低生活保障金'
                                                 when 'CHILD' then '事实无人抚养儿童基本生活补贴'
                                                 when 'LAND_COMP' then '征地拆迁补偿款' end;
update cases set days_to_resolve = resolved_on - opened_on where status = 'resolved';

-- The fixture county's nights (counties.yaml code 510723): every finding and case carries it.
insert into runs (run_id, as_of, started_at, finished_at, county_code) values
    ('R1', '2024-03-20', '2024-03-20 01:00:00', '2024-03-20 01:03:00', '510723'),
    ('R2', '2024-04-20', '2024-04-20 01:00:00', '2024-04-20 01:03:30', '510723');
