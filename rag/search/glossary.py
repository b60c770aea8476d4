"""English legal terms and law names with their Chinese equivalents, for English questions.

The dense model matches across languages, but BM25 and the refusal evidence are lexical:
an English question shares no words with a Chinese statute. Expanding the question with
the standard Chinese terms for the English ones it uses ("insider trading" → 内幕交易)
lets both work. Longest phrases win; matching is case-insensitive on word boundaries, a
hyphen and a space are the same ("fund-raising", "fund raising"), and a term also
matches its plural and verb forms ("fine" → fines, fined; "disclose" → disclosed,
disclosing).

The table is general legal and market vocabulary of the shipped laws, sorted by field:
the terms their chapters and definitions use, in the English that practitioners and
official translations use for them. It is not tuned to particular questions: the
English question set (benchmarks/data/english_questions.jsonl) keeps held-out questions
that were written before the table was extended.
"""

from __future__ import annotations

import re
from functools import lru_cache

from rag.core.script import has_chinese

# English names people use for the shipped laws, matched case-insensitively; the look-up
# of named clauses (named.py) uses them too, so each value is one of the Chinese names
# ``rag.core.titles.title_aliases`` gives the document.
ENGLISH_TITLES = {
    "securities law": "证券法",
    "criminal law": "刑法", "penal code": "刑法",
    "company law": "公司法", "companies law": "公司法",
    "futures and derivatives law": "期货和衍生品法", "futures law": "期货和衍生品法",
    "securities investment fund law": "证券投资基金法", "investment fund law": "证券投资基金法",
    "fund law": "证券投资基金法",
    "anti-money laundering law": "反洗钱法", "anti money laundering law": "反洗钱法",
    "aml law": "反洗钱法",
    "civil code": "民法典",
    "regulations on the supervision and administration of securities companies":
        "证券公司监督管理条例",
    "securities company regulations": "证券公司监督管理条例",
    "regulations on futures trading": "期货交易管理条例",
    "regulations on the administration of futures trading": "期货交易管理条例",
    "futures trading regulations": "期货交易管理条例",
    "regulations on the supervision and administration of private investment funds":
        "私募投资基金监督管理条例",
    "private fund regulations": "私募投资基金监督管理条例",
    "private investment fund regulations": "私募投资基金监督管理条例",
    "regulations on preventing and handling illegal fund-raising": "防范和处置非法集资条例",
    "illegal fund-raising regulations": "防范和处置非法集资条例",
    "commitment system measures": "证券期货行政执法当事人承诺制度实施办法",
    "measures on the commitment system": "证券期货行政执法当事人承诺制度实施办法",
    "false statement provisions":
        "最高人民法院关于审理证券市场虚假陈述侵权民事赔偿案件的若干规定",
    "provisions on false statements":
        "最高人民法院关于审理证券市场虚假陈述侵权民事赔偿案件的若干规定",
    "representative action provisions": "最高人民法院关于证券纠纷代表人诉讼若干问题的规定",
    "provisions on representative actions": "最高人民法院关于证券纠纷代表人诉讼若干问题的规定",
    "insider trading interpretation":
        "最高人民法院、最高人民检察院关于办理内幕交易、泄露内幕信息刑事案件具体应用法律若干问题的解释",
    "manipulation interpretation":
        "最高人民法院最高人民检察院关于办理操纵证券、期货市场刑事案件适用法律若干问题的解释",
    "opinions on cracking down on illegal securities activities":
        "关于依法从严打击证券违法活动的意见",
    "opinion on cracking down on securities violations": "关于依法从严打击证券违法活动的意见",
}

TERMS: dict[str, str] = {
    **ENGLISH_TITLES,  # law names: the same table the exact look-up uses
    # regulators, courts and market bodies
    "csrc": "证券监督管理机构 证监会",
    "china securities regulatory commission": "证券监督管理机构 证监会",
    "securities regulator": "证券监督管理机构", "futures regulator": "期货监督管理机构",
    "regulator": "监督管理机构", "regulatory authority": "监督管理机构", "supervision": "监督管理",
    "supervise": "监督管理", "regulate": "监督管理", "people's bank of china": "中国人民银行",
    "pboc": "中国人民银行", "central bank": "中国人民银行", "stock exchange": "证券交易所",
    "futures exchange": "期货交易所", "exchange": "交易所 交易场所", "trading venue": "交易场所",
    "clearing house": "结算机构", "clearing": "结算", "central counterparty": "中央对手方",
    "depository": "登记结算机构", "securities association": "证券业协会",
    "futures association": "期货业协会", "industry association": "协会 自律",
    "self-regulatory": "自律", "investor protection institution": "投资者保护机构",
    "investor protection agency": "投资者保护机构",
    "securities service institution": "证券服务机构", "service provider": "服务机构",
    "court": "人民法院", "procuratorate": "人民检察院", "prosecutor": "人民检察院 检察",
    "police": "公安机关", "public security": "公安机关", "customs": "海关",
    # securities and issuers
    "securities": "证券", "securities market": "证券市场", "capital market": "资本市场",
    "stock": "股票", "shares": "股票 股份", "shareholding": "持股 股份", "stake": "持股 股份",
    "equity": "股权", "bond": "债券", "corporate bond": "公司债券",
    "depositary receipt": "存托凭证", "listed company": "上市公司", "listing": "上市",
    "delisting": "终止上市 退市", "delisted": "终止上市 退市", "issuer": "发行人",
    "issuance": "发行", "offering": "发行", "issue": "发行 出具", "public offering": "公开发行",
    "initial public offering": "首次公开发行", "ipo": "首次公开发行",
    "private placement": "非公开发行", "prospectus": "招股说明书 招募说明书",
    "registration": "注册 登记", "register": "注册 登记", "underwriting": "承销",
    "underwriter": "承销", "sponsor": "保荐人 保荐机构", "lock-up": "转让期限 持有期限",
    "stock price": "股价 交易价格", "share price": "股价 交易价格", "price": "价格",
    # disclosure and false statements
    "information disclosure": "信息披露", "disclose": "信息披露 披露",
    "disclosure": "信息披露 披露", "annual report": "年度报告", "periodic report": "定期报告",
    "interim report": "临时报告", "major event": "重大事件", "material information": "重大信息",
    "materiality": "重大性", "false statement": "虚假陈述", "misrepresentation": "虚假陈述",
    "false record": "虚假记载", "misleading statement": "误导性陈述",
    "material omission": "重大遗漏", "false report": "虚假记载 虚假报告",
    "false information": "虚假信息", "misleading information": "误导性信息", "rumour": "虚假信息",
    "rumor": "虚假信息", "forecast": "预测性信息 预测", "financial fraud": "财务造假 虚假记载",
    "accounting fraud": "财务造假 虚假记载", "fraudulent issuance": "欺诈发行",
    "financial report": "财务会计报告", "financial statement": "财务会计报告",
    # trading misconduct
    "insider trading": "内幕交易", "insider dealing": "内幕交易", "insider trade": "内幕交易",
    "inside information": "内幕信息", "insider": "内幕信息 知情人", "sensitive period": "敏感期",
    "tipping": "泄露 明示 暗示", "leak": "泄露", "market manipulation": "操纵 证券市场",
    "manipulation": "操纵", "manipulate": "操纵", "manipulator": "操纵",
    "spoofing": "不以成交为目的 撤销申报", "wash trade": "自己实际控制的账户",
    "short-swing": "短线交易 六个月内 买入 卖出", "front running": "未公开信息",
    "rat trading": "利用未公开信息交易 未公开信息", "undisclosed information": "未公开信息",
    "non-public information": "未公开信息", "takeover": "收购", "acquisition": "收购",
    "tender offer": "要约收购",
    # trading, accounts and brokerage
    "trade": "交易", "trader": "交易者", "buy": "买入 买卖", "sell": "卖出 销售", "hold": "持有",
    "transfer": "转让", "account": "账户", "bank account": "银行账户", "real-name": "实名",
    "securities company": "证券公司", "securities firm": "证券公司", "broker": "证券公司",
    "brokerage": "证券公司 经纪", "brokerage business": "经纪业务",
    "proprietary trading": "自营业务", "asset management": "资产管理",
    "investment advice": "投资建议 投资咨询", "investment adviser": "投资顾问 投资咨询",
    "investment advisory": "投资咨询 投资顾问", "compliance officer": "合规负责人",
    "compliance": "合规", "client": "客户", "customer": "客户",
    "client funds": "客户资金 交易结算资金", "client assets": "客户资产",
    "settlement funds": "交易结算资金", "settlement": "结算 和解 承诺",
    "margin trading": "融资融券", "margin financing": "融资融券 融资", "securities lending": "融券",
    "short selling": "融券 卖空", "off-market margin financing": "场外配资",
    "off-exchange financing": "场外配资", "fee": "收费 费用", "commission": "佣金",
    # investors
    "investor": "投资者", "investor protection": "投资者保护", "qualified investor": "合格投资者",
    "professional investor": "专业投资者", "retail investor": "普通投资者",
    "ordinary investor": "普通投资者", "suitability": "适当性",
    "know your customer": "了解 客户 尽职调查", "proxy solicitation": "征集 股东权利",
    "solicit": "征集", "advance compensation": "先行赔付", "compensate first": "先行赔付",
    # futures and derivatives
    "futures": "期货", "futures contract": "期货合约", "derivatives": "衍生品",
    "derivative": "衍生品", "derivatives transaction": "衍生品交易", "option": "期权",
    "swap": "互换", "forward contract": "远期合约", "futures company": "期货公司",
    "futures broker": "期货公司 期货经营机构", "futures firm": "期货公司 期货经营机构",
    "margin": "保证金", "margin call": "追加保证金", "top up": "追加",
    "forced liquidation": "强行平仓", "liquidate position": "平仓", "position limit": "持仓限额",
    "hedging": "套期保值", "hedge": "套期保值", "hedger": "套期保值",
    "algorithmic trading": "程序化交易", "programmatic trading": "程序化交易",
    "program trading": "程序化交易", "high-frequency trading": "程序化交易", "delivery": "交割",
    "overseas futures": "境外期货",
    # funds
    "fund": "基金", "fund manager": "基金管理人", "fund custodian": "基金托管人", "custody": "托管",
    "custodian": "托管人", "unitholder": "基金份额持有人", "fund unit": "基金份额",
    "fund share": "基金份额", "redemption": "赎回", "redeem": "赎回", "subscription": "认购 申购",
    "net asset value": "资产净值 基金份额净值", "open-end fund": "开放式基金",
    "closed-end fund": "封闭式基金", "fund contract": "基金合同", "public fund": "公开募集基金",
    "publicly offered fund": "公开募集基金", "mutual fund": "公开募集基金",
    "private fund": "私募基金 非公开募集基金", "privately offered fund": "非公开募集基金 私募基金",
    "private investment fund": "私募投资基金", "private equity fund": "私募基金",
    "venture capital": "创业投资", "venture capital fund": "创业投资基金",
    "raise money": "募集 集资", "raise fund": "募集 集资", "promote": "宣传推介",
    "promotion": "宣传推介", "marketing": "宣传推介 推介", "advertise": "广告 宣传",
    "advertisement": "广告", "filing": "备案", "record-filing": "备案", "file": "备案 报送",
    # anti-money laundering
    "money laundering": "洗钱", "launder": "洗钱 掩饰 隐瞒", "anti-money laundering": "反洗钱",
    "aml": "反洗钱", "customer due diligence": "客户尽职调查", "due diligence": "尽职调查",
    "beneficial owner": "受益所有人", "beneficial ownership": "受益所有人",
    "large-value transaction": "大额交易", "large transaction": "大额交易",
    "suspicious transaction": "可疑交易", "transaction record": "交易记录", "identity": "身份",
    "identification": "身份 识别", "terrorist financing": "恐怖主义融资", "cash": "现金",
    "cross-border": "跨境", "proceeds": "所得 收益", "proceeds of crime": "犯罪所得 收益",
    "financial institution": "金融机构", "bank": "银行 金融机构",
    "payment institution": "非银行支付机构",
    # illegal fund-raising
    "illegal fund-raising": "非法集资", "illegal fundraising": "非法集资", "fund-raising": "集资",
    "fundraising": "集资", "fund-raising fraud": "集资诈骗", "fundraising fraud": "集资诈骗",
    "deposit": "存款", "public deposit": "公众存款", "absorb deposit": "吸收 存款",
    "ponzi": "非法集资 诈骗", "participant": "参与人", "organiser": "发起 组织",
    "organizer": "发起 组织", "refund": "清退 退还", "guaranteed return": "保本 收益 还本付息",
    "return on investment": "投资回报",
    # companies
    "company": "公司", "limited liability company": "有限责任公司", "llc": "有限责任公司",
    "joint stock company": "股份有限公司", "company limited by shares": "股份有限公司",
    "articles of association": "公司章程", "bylaws": "公司章程", "board of directors": "董事会",
    "board": "董事会", "director": "董事", "independent director": "独立董事", "supervisor": "监事",
    "board of supervisors": "监事会", "supervisory board": "监事会", "manager": "经理",
    "senior management": "高级管理人员", "senior executive": "高级管理人员",
    "audit committee": "审计委员会", "shareholders' meeting": "股东会 股东大会",
    "general meeting": "股东会 股东大会", "employee representative": "职工代表", "employee": "职工",
    "trade union": "工会", "legal representative": "法定代表人", "shareholder": "股东",
    "controlling shareholder": "控股股东", "actual controller": "实际控制人",
    "minority shareholder": "中小股东 股东", "capital contribution": "出资",
    "contribute capital": "出资", "pay in": "缴纳 缴足", "subscribed capital": "认缴 出资额",
    "contribution deadline": "出资期限",
    "registered capital": "注册资本", "duty of loyalty": "忠实义务", "loyalty": "忠实义务",
    "diligence": "勤勉义务", "duty of diligence": "勤勉义务", "duty of care": "勤勉义务",
    "fiduciary duty": "忠实义务 勤勉义务", "conflict of interest": "利益冲突",
    "related party": "关联", "related party transaction": "关联交易", "disqualified": "不得担任",
    "derivative action": "股东 提起诉讼 公司利益", "derivative suit": "股东 提起诉讼 公司利益",
    "on behalf of the company": "公司利益", "corporate veil": "法人独立地位 连带责任",
    "creditor": "债权人", "debt": "债务", "merger": "合并", "demerger": "分立",
    "dissolution": "解散", "liquidation": "清算", "bankruptcy": "破产", "capital reduction": "减资",
    "capital increase": "增资", "dividend": "分配利润", "profit distribution": "分配利润",
    "statutory reserve": "法定公积金", "reserve fund": "公积金", "after-tax profit": "税后利润",
    "accounting book": "会计账簿", "accounting record": "会计账簿 会计凭证", "inspect": "查阅",
    "audit": "审计", "auditor": "会计师事务所 审计", "audit report": "审计报告",
    "legal opinion": "法律意见书",
    # accounting and law firms are what the Securities Law calls 证券服务机构
    "accounting firm": "会计师事务所 证券服务机构", "law firm": "律师事务所 证券服务机构",
    "asset appraisal": "资产评估", "credit rating": "资信评级", "guarantee": "担保",
    "loan": "借款 贷款", "lend": "出借 借款", "borrow": "借用 借款",
    "financial assistance": "财务资助", "employee stock ownership plan": "员工持股计划",
    "state-owned": "国有 国家出资", "branch": "分支机构",
    # crimes and criminal penalties
    "crime": "犯罪 罪", "criminal": "刑事 犯罪", "offence": "犯罪 违法", "offense": "犯罪 违法",
    "criminal liability": "刑事责任", "prosecute": "追究刑事责任 起诉",
    "prosecution": "追究刑事责任 起诉", "punishment": "处罚 刑罚", "punish": "处罚",
    "sentence": "判处 刑罚", "prison": "有期徒刑", "imprisonment": "有期徒刑", "jail": "有期徒刑",
    "life imprisonment": "无期徒刑", "criminal detention": "拘役",
    "confiscation of property": "没收财产", "probation": "缓刑", "suspended sentence": "缓刑",
    "self-surrender": "自首", "unit crime": "单位犯罪", "corporate crime": "单位犯罪",
    "person in charge": "直接负责的主管人员",
    "directly responsible": "直接负责的主管人员 直接责任人员", "serious circumstances": "情节严重",
    "illegal gains": "违法所得", "illegal income": "违法所得", "illegal profit": "违法所得",
    "bribery": "贿赂", "bribe": "贿赂", "embezzlement": "侵占 挪用", "embezzle": "侵占 挪用",
    "misappropriate": "挪用", "misappropriation": "挪用", "fraud": "欺诈 诈骗",
    "fraudulent": "欺诈", "forge": "伪造", "falsify": "伪造 变造",
    # administrative penalties and enforcement
    "penalty": "处罚 罚款", "administrative penalty": "行政处罚", "fine": "罚款 罚金",
    "warning": "警告", "rectify": "改正", "rectification": "责令改正",
    "order to correct": "责令改正", "confiscate": "没收", "revoke": "吊销 撤销", "license": "许可",
    "licence": "许可", "permit": "许可", "market ban": "市场禁入", "investigation": "调查",
    "investigate": "调查", "freeze": "冻结", "seal up": "查封", "seize": "查封 冻结 扣押",
    "inspection": "检查", "hearing": "听证", "enforcement": "执法", "crack down": "打击",
    "zero tolerance": "零容忍", "extraterritorial": "域外适用", "outside china": "境外 域外",
    "overseas": "境外", "overseas listing": "境外上市", "china concept stocks": "中概股",
    "data security": "数据安全", "integrity record": "诚信档案 诚信",
    "credit record": "信用记录 诚信", "whistleblower": "举报人 举报", "whistleblowing": "举报",
    "tip-off": "举报", "report": "报告", "reward": "奖励", "confidential": "保密",
    "commitment": "承诺", "administrative settlement": "行政执法当事人承诺 承诺", "opinion": "意见",
    # civil liability and procedure
    "compensation": "赔偿", "compensate": "赔偿", "damages": "赔偿 损失", "loss": "损失",
    "liability": "责任", "liable": "责任", "civil liability": "民事赔偿责任",
    "joint and several": "连带责任", "jointly liable": "连带责任 连带赔偿责任",
    "joint liability": "连带责任", "fault": "过错", "negligence": "过错 过失",
    "burden of proof": "举证 证明", "causation": "因果关系", "causal": "因果关系",
    "lawsuit": "诉讼", "sue": "诉讼 起诉", "litigation": "诉讼", "legal action": "诉讼",
    "plaintiff": "原告", "defendant": "被告", "class action": "代表人诉讼",
    "representative action": "代表人诉讼", "representative suit": "代表人诉讼",
    "jurisdiction": "管辖", "mediation": "调解", "arbitration": "仲裁",
    "statute of limitations": "诉讼时效 时效", "limitation period": "诉讼时效 时效",
    # duties and procedure
    "duties": "职责 义务", "obligation": "义务", "prohibited": "禁止 不得", "apply": "适用 申请",
    "apply for": "申请", "application": "申请", "approve": "批准 核准", "approval": "批准 核准",
    "accept": "受理", "terminate": "终止", "termination": "终止", "suspend": "中止 暂停",
    "negotiation": "沟通协商", "negotiate": "沟通协商", "agreement": "协议", "appoint": "聘任",
    "dismiss": "解聘", "resign": "辞任", "qualification": "资格", "deadline": "期限",
    "condition": "条件", "requirement": "要求 条件", "criteria": "条件 标准",
    "criterion": "条件 标准", "standard": "标准", "public": "公开 公众",
    "without approval": "未经批准 擅自", "without registration": "未经注册 擅自",
    "without register": "未经注册 擅自", "unregistered": "未经注册 擅自",
    "unauthorised": "擅自 未经许可", "unauthorized": "擅自 未经许可",
    "without a licence": "未经许可 擅自", "without a license": "未经许可 擅自",
    "working day": "工作日", "record keeping": "保存", "keep record": "保存", "retain": "保存",
}


def _key(text: str) -> str:
    """A term as the table keys it: lower case, one space between words."""
    return re.sub(r"[\s\-]+", " ", text.strip().lower())


_TABLE = {_key(english): chinese for english, chinese in TERMS.items()}


def _inflected(term: str) -> str:
    """Regex for ``term`` and its plural and verb forms; hyphen or space between words."""
    words = [re.escape(word) for word in term.split(" ")]
    last = words[-1]
    if last.endswith("e"):
        words[-1] = last[:-1] + "(?:e[sd]?|ing)"  # disclose, discloses, disclosed, disclosing
    else:
        words[-1] = last + "(?:s|es|ed|ing)?"  # fine→fines; freeze→…; report→reported
    return r"[\s\-]+".join(words)


_PATTERN = re.compile(
    r"(?<![A-Za-z])("
    + "|".join(_inflected(t) for t in sorted(_TABLE, key=len, reverse=True))
    + r")(?![A-Za-z])",
    re.IGNORECASE,
)


def _lookup(found: str) -> str:
    """The table entry a match stands for: the words as found, else without the ending."""
    key = _key(found)
    candidates = [key]
    for ending, restore in (("ing", "e"), ("ing", ""), ("es", "e"), ("es", ""),
                            ("ed", "e"), ("ed", ""), ("s", "")):
        if key.endswith(ending):
            candidates.append(key[: -len(ending)] + restore)
    return next(_TABLE[c] for c in candidates if c in _TABLE)


def written_in_chinese(question: str) -> bool:
    """Whether ``question`` contains Chinese characters (else it is searched cross-lingually)."""
    return has_chinese(question)


def chinese_terms(question: str) -> list[str]:
    """Chinese equivalents of the English legal terms in ``question``, in order, once each."""
    found: list[str] = []
    for words in _matches(question):
        for term in _lookup(words).split():
            if term not in found:
                found.append(term)
    return found


def translated_words(question: str) -> set[str]:
    """The English words of ``question`` (lower case) that are part of a glossary term."""
    return {word.lower() for words in _matches(question)
            for word in re.findall(r"[A-Za-z]+", words)}


@lru_cache(maxsize=1024)
def _matches(question: str) -> tuple[str, ...]:
    """The glossary terms found in ``question``, as written (answering a question asks
    twice: for its Chinese terms and its translated words)."""
    return tuple(match.group(1) for match in _PATTERN.finditer(question))


def expand(question: str) -> str:
    """``question`` followed by the Chinese terms for its English legal vocabulary."""
    terms = chinese_terms(question)
    return f"{question} {' '.join(terms)}" if terms else question
