"""English legal terms and law names with their Chinese equivalents, for English questions.

The dense model matches across languages, but BM25 and the refusal evidence are lexical:
an English question shares no words with a Chinese statute. Expanding the question with
the standard Chinese terms for the English ones it uses ("insider trading" → 内幕交易)
lets both work. Longest phrases win; matching is case-insensitive on word boundaries.
"""

from __future__ import annotations

import re

# English names people use for the shipped laws, matched case-insensitively; the look-up
# of named clauses uses them too.
ENGLISH_TITLES = {
    "securities law": "证券法",
    "criminal law": "刑法",
    "penal code": "刑法",
    "company law": "公司法",
    "futures and derivatives law": "期货和衍生品法",
    "securities investment fund law": "证券投资基金法",
    "anti-money laundering law": "反洗钱法",
    "anti money laundering law": "反洗钱法",
    "aml law": "反洗钱法",
    "civil code": "民法典",
    "regulations on the supervision and administration of securities companies":
        "证券公司监督管理条例",
    "regulations on futures trading": "期货交易管理条例",
    "regulations on the supervision and administration of private investment funds":
        "私募投资基金监督管理条例",
}

TERMS: dict[str, str] = {
    **ENGLISH_TITLES,  # law names: the same table the exact look-up uses
    # securities and markets
    "insider trading": "内幕交易",
    "inside information": "内幕信息",
    "insider": "内幕信息 知情人",
    "market manipulation": "操纵 证券市场",
    "manipulating": "操纵",
    "manipulation": "操纵",
    "manipulate": "操纵",
    "securities market": "证券市场",
    "securities regulator": "证券监督管理机构",
    "regulator": "监督管理机构",
    "securities": "证券",
    "stock exchange": "证券交易所",
    "exchange": "交易所",
    "shares": "股票 股份",
    "stock": "股票",
    "bonds": "债券",
    "listed company": "上市公司",
    "listed companies": "上市公司",
    "issuer": "发行人",
    "public offering": "公开发行",
    "issuance": "发行",
    "prospectus": "招股说明书",
    "information disclosure": "信息披露",
    "disclose": "披露",
    "disclosure": "披露",
    "false statement": "虚假陈述",
    "false statements": "虚假陈述",
    "misrepresentation": "虚假陈述",
    "false information": "虚假信息",
    "rumours": "虚假信息",
    "rumors": "虚假信息",
    "takeover": "收购",
    "acquisition": "收购",
    "securities company": "证券公司",
    "securities companies": "证券公司",
    "broker": "证券公司",
    "brokerage": "证券公司 经纪",
    "underwriting": "承销",
    "sponsor": "保荐人",
    "futures": "期货",
    "derivatives": "衍生品",
    "fund manager": "基金管理人",
    "fund": "基金",
    "funds": "基金",
    "private fund": "私募基金",
    "private investment fund": "私募投资基金",
    "private investment funds": "私募投资基金",
    "investor": "投资者",
    "investors": "投资者",
    "qualified investor": "合格投资者",
    "short-swing": "短线交易",
    "illegal fund-raising": "非法集资",
    "illegal fundraising": "非法集资",
    "fund-raising": "集资",
    "fundraising": "集资",
    "money laundering": "洗钱",
    "anti-money laundering": "反洗钱",
    "customer due diligence": "客户尽职调查",
    "financial institution": "金融机构",
    "financial institutions": "金融机构",
    "representative action": "代表人诉讼",
    "class action": "代表人诉讼",
    "commitment": "承诺",
    "settlement": "和解 承诺",
    # companies
    "company": "公司",
    "director": "董事",
    "directors": "董事",
    "supervisor": "监事",
    "senior management": "高级管理人员",
    "shareholder": "股东",
    "shareholders": "股东",
    "controlling shareholder": "控股股东",
    "actual controller": "实际控制人",
    "duty of loyalty": "忠实义务",
    "duties": "义务",
    "registered capital": "注册资本",
    "capital contribution": "出资",
    "capital contributions": "出资",
    "contribution deadline": "出资期限",
    "subscribed capital": "认缴 出资额",
    # liability
    "penalty": "处罚 罚款",
    "penalties": "处罚 罚款",
    "punishment": "处罚 刑罚",
    "punished": "处罚",
    "fine": "罚款 罚金",
    "fines": "罚款 罚金",
    "confiscate": "没收",
    "illegal gains": "违法所得",
    "crime": "犯罪 罪",
    "criminal": "刑事 犯罪",
    "criminal liability": "刑事责任",
    "imprisonment": "有期徒刑",
    "prison": "有期徒刑",
    "sentence": "判处 刑罚",
    "fraud": "欺诈 诈骗",
    "fraudulent": "欺诈",
    "embezzlement": "挪用 侵占",
    "misappropriate": "挪用",
    "bribery": "贿赂",
    "compensation": "赔偿",
    "compensate": "赔偿",
    "compensated": "赔偿",
    "liability": "责任",
    "liable": "责任",
    "civil liability": "民事赔偿责任",
    "lawsuit": "诉讼",
    "sue": "诉讼 起诉",
    "investigation": "调查",
    "freeze": "冻结",
    "seal up": "查封",
    "bank accounts": "银行账户",
    "account": "账户",
    "registration": "登记 注册",
    "license": "许可",
    "supervision": "监督管理",
    "administrative penalty": "行政处罚",
    "statute of limitations": "时效",
    "limitation period": "时效",
    # reporting and enforcement
    "whistleblower": "举报人 举报",
    "whistleblowers": "举报人 举报",
    "whistleblowing": "举报",
    "tip-off": "举报",
    "report": "报告 举报",
    "reward": "奖励",
    "rewarded": "奖励",
    "leak": "泄露",
    "leaking": "泄露",
    "tipping": "泄露 建议",
    # markets and intermediaries
    "listing": "上市",
    "delisting": "终止上市 退市",
    "delisted": "终止上市 退市",
    "short selling": "融券 卖空",
    "margin trading": "融资融券",
    "custody": "托管",
    "custodian": "托管人",
    "related party": "关联",
    "related-party": "关联",
    "related party transaction": "关联交易",
    "audit": "审计",
    "auditor": "会计师事务所 审计",
    "accounting firm": "会计师事务所",
    "law firm": "律师事务所",
    "false report": "虚假记载 虚假报告",
    "false reports": "虚假记载 虚假报告",
    "false records": "虚假记载",
    "financial fraud": "财务造假 虚假记载",
    "accounting fraud": "财务造假 虚假记载",
    "cross-border": "跨境",
    "overseas listing": "境外上市",
    "china concept stocks": "中概股",
}

_PATTERN = re.compile(
    r"(?<![A-Za-z])("
    + "|".join(re.escape(t) for t in sorted(TERMS, key=len, reverse=True))
    + r")(?![A-Za-z])",
    re.IGNORECASE,
)


def chinese_terms(question: str) -> list[str]:
    """Chinese equivalents of the English legal terms in ``question``, in order, once each."""
    found: list[str] = []
    for match in _PATTERN.finditer(question):
        for term in TERMS[match.group(1).lower()].split():
            if term not in found:
                found.append(term)
    return found


def expand(question: str) -> str:
    """``question`` followed by the Chinese terms for its English legal vocabulary."""
    terms = chinese_terms(question)
    return f"{question} {' '.join(terms)}" if terms else question
