"""Stable reason codes (for machines) with their Chinese explanation (for clerks).

Row-level codes end up in rejects.csv; file-level codes in run.json. A code, once
published, never changes meaning: other systems read it.
"""

from __future__ import annotations

ROW_REASONS: dict[str, str] = {
    # identity numbers
    "ID_MISSING": "身份证号码为空",
    "ID_SCIENTIFIC": "Excel 已将身份证号转为科学计数法，后几位已丢失，请将该列设为文本后重新导出",
    "ID_FORMAT": "身份证号码格式错误（应为18位，最后一位可为X）",
    "ID_CHECKSUM": "身份证号码校验位错误",
    "ID_BIRTHDATE": "身份证号码中的出生日期不存在",
    # names
    "NAME_MISSING": "姓名为空",
    # cards
    "CARD_INVALID": "银行卡号格式错误（应为8–32位数字；若显示为科学计数法，请将该列设为文本后重新导出）",
    # amounts
    "AMOUNT_MISSING": "金额为空，且该项目未设定补贴标准",
    "AMOUNT_INVALID": "金额无法识别（应为数字，如 1350.00）",
    "AMOUNT_NEGATIVE": "金额为负数",
    # dates and periods
    "DATE_INVALID": "日期无法识别或不存在（如 2024-02-30）",
    "DEATH_DATE_MISSING": "死亡日期为空",
    "PERIOD_INVALID": "发放期间无法识别（应为 2024-03、2024年3月、202403、2024年第一季度 或 2024）",
    "PERIOD_MISSING": "缺少发放期间，文件标题和文件名中也没有",
    "DUE_DATE_UNKNOWN": "无法确定应发日期（既无应发日期，也无审批日期）",
    # programs
    "PROGRAM_UNKNOWN": "补贴项目名称不在项目清单（programs.yaml）中",
    "PROGRAM_MISSING": "缺少补贴项目，文件标题和文件名中也没有",
    # payment status
    "STATUS_MISSING": "发放状态为空",
    "STATUS_UNKNOWN": "发放状态无法识别（应为 成功/失败/退回/已停发 等）",
    "PAY_DATE_MISSING": "发放记录缺少发放日期",
    # duplicates inside the warehouse key
    "DUPLICATE_ROW": "同一对象、同一项目、同一期间在本文件中重复出现",
    "ENTITLEMENT_EXISTS": "同一对象、同一项目、同一期间已在其他花名册中登记",
}

# How a clerk fixes a row of each reason in the file itself (the web desk's problems table). A reason
# without its own entry takes ROW_FIX_DEFAULT.
ROW_FIXES: dict[str, str] = {
    "ID_MISSING": "补填该对象的18位身份证号码",
    "ID_SCIENTIFIC": "把身份证号码列设为“文本”格式，从原系统重新导出或重新录入完整号码（不要手工补零）",
    "ID_FORMAT": "核对并改正为18位身份证号码（最后一位可为X）",
    "ID_CHECKSUM": "对照身份证原件核对号码，常见为某一位录错或相邻两位颠倒",
    "ID_BIRTHDATE": "对照身份证原件核对号码中的出生日期（第7–14位）",
    "NAME_MISSING": "补填姓名",
    "CARD_INVALID": "把卡号列设为“文本”格式后录入完整卡号（8–32位数字）",
    "AMOUNT_MISSING": "补填金额",
    "AMOUNT_INVALID": "只填数字，如 1350.00（不要写“元”或其他文字）",
    "AMOUNT_NEGATIVE": "核对金额，改为正数",
    "DATE_INVALID": "改为真实存在的日期，如 2024-03-10",
    "DEATH_DATE_MISSING": "补填死亡日期",
    "PERIOD_INVALID": "改为 2024-03、2024年3月 或 202403 这样的期间",
    "PERIOD_MISSING": "在表中加“发放期间”列，或在上传时选择发放期间",
    "DUE_DATE_UNKNOWN": "补填审批日期或应发日期",
    "PROGRAM_UNKNOWN": "改为项目清单中的项目名称（如 城乡低保金）",
    "PROGRAM_MISSING": "在表中加“补贴项目”列，或在上传时选择补贴项目",
    "STATUS_MISSING": "补填发放状态（成功/失败/退回）",
    "STATUS_UNKNOWN": "改为 成功、失败、退回 或 已停发",
    "PAY_DATE_MISSING": "补填发放日期",
    "DUPLICATE_ROW": "删除重复的一行，或核对是否应为不同对象或不同期间",
    "ENTITLEMENT_EXISTS": "该对象本期已在其他花名册中登记；如需更正，请上传更正花名册",
}
ROW_FIX_DEFAULT = "在原文件中改正该单元格后重新上传"

# Row reasons that show the file was read as meant (an ID Excel turned into a number, a key given twice):
# however many rows fail for them, the layout alarm (FILE_LAYOUT_SUSPECT) does not count them, and the
# clerk gets each row marked with its own fix.
READ_AS_MEANT: frozenset[str] = frozenset({"ID_SCIENTIFIC", "DUPLICATE_ROW", "ENTITLEMENT_EXISTS"})

FILE_REASONS: dict[str, str] = {
    "FILE_UNREADABLE": "文件无法打开或已损坏",
    "FILE_ENCODING": "文件编码无法识别（应为 GB18030/GBK 或 UTF-8）",
    "FILE_EMPTY": "文件中没有数据",
    "FILE_HEADERS_UNKNOWN": "找不到可识别的表头",
    "FILE_PROGRAM_UNKNOWN": "无法确定补贴项目（无项目列，标题和文件名中也没有）",
    "FILE_PROGRAM_AMBIGUOUS": "标题或文件名同时匹配多个补贴项目，无法确定",
    "FILE_PERIOD_UNKNOWN": "无法确定发放期间（无期间列，标题和文件名中也没有）",
    "FILE_TOTAL_MISMATCH": "合计行金额与明细合计不符",
    "FILE_COLUMNS_AMBIGUOUS": "有两列都可能是同一项（如都像身份证号），表头无法区分",
    "FILE_LAYOUT_SUSPECT": "文件大部分行因同一原因、在同一列出错，疑似表头或列的含义读错，整个文件未载入",
    "FILE_KIND_UNKNOWN": "文件所在目录无法判断文件类别（应为 roster/payments/reference/deaths/reference/public_employees）",
    "INBOX_NOT_REGULAR": "收件目录中的这一项不是普通文件（符号链接、命名管道或设备文件），未读取",
    "FILE_TOO_LARGE": "文件超过读取上限（大小、解压后大小、行数、列数或单元格长度），整个文件未读取",
}

WARNINGS: dict[str, str] = {
    "ID_AREA_UNKNOWN": "身份证号码地区码不在行政区划表中",
    "ID_FROM_15": "15位身份证号码已转换为18位",
    "ID_NUMERIC_SUSPECT": "身份证号码疑似曾被存为数字，请核对",
    "NAME_RARE_CHAR": "姓名含 ? * 或造字区字符，疑似生僻字丢失",
    "CARD_LUHN": "银行卡号未通过校验（存折或农信账户可能属正常）",
    "TEXT_CONTROL_CHARS": "该行单元格中含不可见的控制字符（如 NUL），已删除后载入，请核对该行",
}


# Why a night needs attention (run.json `health.reasons[].code`), each with what a person calls it.
HEALTH_REASONS: dict[str, str] = {
    "NO_INPUT_FILES": "收件目录中没有文件",
    "ALL_FILES_REJECTED": "收到的文件全部被拒收",
    "FILE_LAYOUT_SUSPECT": "文件版式无法识别",
    "FILE_REJECTED": "文件整份拒收",
    "COVERAGE_GAP": "数据覆盖缺口",
    "PROGRAM_STALLED": "整个项目未发放",
    "REJECTS_ABOVE_SHARE": "拒收行比例过高",
    # not in run.json (a night that stopped writes none): the webhook's reason for a night that stopped on an error
    "NIGHT_STOPPED": "核对中途停止",
}


def reason_text(code: str) -> str:
    for table in (ROW_REASONS, FILE_REASONS, WARNINGS, HEALTH_REASONS):
        if code in table:
            return table[code]
    raise KeyError(code)
