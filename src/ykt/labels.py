"""Every Chinese display label of the product's vocabulary, in one place.

What a clerk, an inspector or a villager reads for a code the machines use: file statuses, case
statuses and events, KPIs, input kinds. Rule titles and case sentences live with the rules
(rules/rules.yaml) and reason texts with their codes (ykt.reasons); everything else is here.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from ykt.kinds import KIND_SPECS

# What a person calls each kind of input, and the data-quality step's file-level batch.
FILES_BATCH = "files"
BATCH_LABELS: Mapping[str, str] = MappingProxyType(
    {**{code: spec.label for code, spec in KIND_SPECS.items()}, FILES_BATCH: "文件"}
)

FILE_STATUS_LABELS: Mapping[str, str] = MappingProxyType(
    {"loaded": "已入库", "duplicate": "重复文件（此前已入库）", "rejected": "已拒收"}
)

# A payment row's status as the product reads it (the bank's own words vary).
PAYMENT_STATUS_LABELS: Mapping[str, str] = MappingProxyType(
    {"success": "成功", "failure": "失败", "returned": "退回（已退款）", "stopped": "停发"}
)

CASE_STATUS_LABELS: Mapping[str, str] = MappingProxyType(
    {"open": "办理中", "escalated": "已督办", "resolved": "已办结"}
)

# A case's history, one label per lifecycle event (`ykt history`), and the sentence its event row keeps.
EVENT_LABELS: Mapping[str, str] = MappingProxyType(
    {"opened": "立案", "reopened": "重新立案", "escalated": "督办", "resolved": "办结"}
)
EVENT_DETAILS: Mapping[str, str] = MappingProxyType(
    {
        "opened": "新立案",
        "reopened": "问题再次出现，重新立案",
        "escalated": "超过办理期限仍未解决，转督办",
        "resolved": "复核已无该问题，办结",
    }
)

# The night's case activity and the totals after it (the workbook's 汇总).
NIGHT_EVENT_LABELS: Mapping[str, str] = MappingProxyType(
    {"opened": "本次新立案", "reopened": "本次重新立案", "escalated": "本次督办", "resolved": "本次办结"}
)
# 待办: whether a case is new tonight or carried over from an earlier night.
NOVELTY_LABELS: Mapping[str, str] = MappingProxyType({"new": "新增", "carried": "延续"})
CASE_TOTAL_LABELS: Mapping[str, str] = MappingProxyType(
    {"open": "当前办理中", "escalated": "当前已督办", "resolved": "累计已办结", "all": "案件总数"}
)

KPI_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "opened": "受理（件）",
        "resolved": "办结（件）",
        "resolution_rate": "办结率",
        "median_days_to_resolve": "办结天数（中位数）",
        "escalated": "督办（件）",
        "open_now": "办理中（件）",
        "escalated_now": "督办中（件）",
        "overdue_now": "超期未办结（件）",
        "amount_at_stake": "涉及金额（元）",
        "amount_paid": "已到账金额（元）",
        "clues_open": "线索（件）",
        "amount_in_question": "存疑金额（元）",
        "amount_recovered": "已追回金额（元）",
    }
)

# Data Docs: a check's outcome in words instead of GX's icons.
CHECK_OUTCOME_LABELS: Mapping[str, str] = MappingProxyType(
    {"fa-check-circle": "✓ 通过", "fa-times": "✗ 未通过"}
)

# Data Docs: GX's own page labels in Chinese (whole text nodes; what GX writes elsewhere stays as it is).
DATA_DOCS_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "A collection of Expectations defined for batches of data.": "每批数据要满足的一组检查。",
        "Actions": "操作",
        "Asset Name": "数据批次",
        "Batch ID": "批次编号",
        "Batch Markers": "批次标记",
        "Batch Parameters": "批次参数",
        "Batch Spec": "批次说明",
        "Clear Filters": "清除筛选",
        "Count": "文件数",
        "Data Docs": "数据质量文档",
        "Evaluated Expectations": "检查项数",
        "Evaluates whether a batch of data matches expectations.": "检查一批数据是否满足各项要求。",
        "Expectation": "检查项",
        "Expectation Suite": "检查套件",
        "Expectation Suite Name": "检查套件名称",
        "Expectation Suite:": "检查套件：",
        "Expectation Suites": "检查套件",
        "Expectation Validation Result": "检查结果",
        "Failed": "失败",
        "Failed Only": "只看未满足",
        "Home": "首页",
        "Info": "信息",
        "Notes": "说明",
        "Notes:": "说明：",
        "Observed Value": "实际值",
        "Overview": "概览",
        "Run Name": "运行编号",
        "Run Time": "运行时间",
        "Show All": "全部",
        "Show more info...": "更多信息",
        "Statistics": "统计",
        "Status": "状态",
        "Status:": "状态：",
        "Succeeded": "成功",
        "Success Percent": "满足率",
        "Successful Expectations": "满足的检查项",
        "Table of Contents": "目录",
        "Table-Level Expectations": "整批检查",
        "Unexpected Value": "不符合的值",
        "Unsuccessful Expectations": "未满足的检查项",
        "Validation Filter:": "筛选：",
        "Validation Results": "检查结果",
    }
)

# What each column role means, as a clerk is told which role a column was given (`ykt check`, the
# FILE_LAYOUT_SUSPECT message). One label per role of ykt.kinds' fields.
ROLE_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "name": "享受人姓名",
        "id_number": "身份证号",
        "head_name": "户主",
        "head_id": "户主身份证号",
        "payee_name": "收款人",
        "payee_id": "收款人身份证号",
        "card_number": "银行卡号",
        "bank": "开户银行",
        "program": "补贴项目",
        "period": "发放期间",
        "amount": "金额",
        "approval_date": "审批日期",
        "due_date": "应发日期",
        "pay_date": "发放日期",
        "status": "发放状态",
        "failure_reason": "失败原因",
        "township": "乡镇",
        "village": "村（社区）",
        "group_name": "组",
        "death_date": "死亡日期",
        "employer": "工作单位",
    }
)

# A night's health (run.json `health.status`): whether its findings can be trusted as they stand.
HEALTH_STATUS_LABELS: Mapping[str, str] = MappingProxyType(
    {"ok": "正常", "attention": "需关注", "failed": "失败"}
)
