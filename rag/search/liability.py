"""What a question asks about liability and which law it implies; what a clause sanctions.

The one home of the question-side vocabularies: whether a question asks what happens on
breach (the answer then quotes the penalties, :mod:`rag.answer.penalties`), whether it
mentions a penalty at all or asks about crime or a fine (reranker features).

Cheap, word-level facts the reranker (:mod:`rag.search.rerank`) crosses with each
candidate: a question about insider trading (内幕消息炒股) implies the securities laws; one
asking how much the fine is (罚多少钱) asks for an administrative sanction (罚款, 没收违法所得),
one asking about prison (判刑, 坐牢, 刑事责任) for a criminal one (有期徒刑, 拘役); a clause in
a criminal code or a criminal-case interpretation is criminal liability.
"""

from __future__ import annotations

import math
import re

from rag.core.titles import criminal_code, title_key

# law families a question implies by its words: a title word of the family → the question
# words that imply it (lay and legal, Chinese and English)
IMPLIED: dict[str, tuple[str, ...]] = {
    "证券": ("证券", "股票", "炒股", "股市", "股价", "内幕", "上市公司", "操纵市场",
           "操纵股价", "信息披露", "虚假陈述", "券商", "securities", "stock", "insider",
           "listed compan", "disclosure"),
    "期货": ("期货", "衍生品", "futures", "derivative"),
    "基金": ("基金", "私募", "fund"),
    "洗钱": ("洗钱", "launder"),
    "集资": ("集资", "非法吸收公众存款", "fundrais"),
    "劳动": ("工资", "加班", "辞退", "解雇", "试用期", "劳动", "工伤", "用人单位", "员工"),
    "商标": ("商标", "trademark"),
    "著作权": ("著作权", "版权", "盗版", "copyright"),
    "专利": ("专利", "patent"),
    "保险": ("保险", "insurance"),
    "道路交通": ("交通事故", "酒驾", "醉驾", "驾驶证", "驾照", "车祸", "闯红灯"),
}
# asks what happens on breach: the answer quotes the penalty clauses after each duty
_CONSEQUENCE = re.compile(
    r"违反|会怎样|会怎么样|怎么处理|什么责任|何种责任|法律责任|承担.{0,4}责任|罚款|罚金|罚则|"
    r"处罚|惩罚|被罚|罚多少|判刑|刑事|坐牢|后果|制裁|"
    r"\bpenalt|\bsanction|\bfine[sd]?\b|\bliab|\bconsequence|\bpunish|\bbreach|\bviolat",
    re.I,
)
# names a penalty or liability anywhere (the reranker's asks_penalty feature: its trained
# trees read this pattern, so it changes only with a retrain)
_MENTIONS_PENALTY = re.compile(
    r"罚|处罚|判刑|坐牢|刑事|拘留|赔偿|责任|吊销|没收|penalt|fine|punish|liab|prison|sentence",
    re.IGNORECASE)
_ASKS_CRIME = re.compile(r"犯罪|判刑|坐牢|刑事责任|判几年|量刑|[什何]么罪|罪名|是否构成.{0,6}罪"
                         r"|crime|criminal|prison|jail", re.IGNORECASE)
_ASKS_FINE = re.compile(r"罚款|罚多少|罚几|罚钱|怎么罚|如何处罚|处罚|\bfine[sd]?\b|penalt",
                        re.IGNORECASE)
_CRIMINAL_SANCTION = re.compile(r"有期徒刑|拘役|无期徒刑|死刑|罚金")
_ADMIN_SANCTION = re.compile(r"罚款|没收违法所得|警告|吊销|责令改正|责令停止|责令关闭|暂停|"
                             r"市场禁入|通报批评|撤销.{0,8}(资格|许可|登记)")


def implied_families(question: str) -> tuple[str, ...]:
    """The law families (:data:`IMPLIED` keys) the question's words imply, in table order."""
    text = question.lower()
    return tuple(family for family, words in IMPLIED.items() if any(w in text for w in words))


def implied_law(families: tuple[str, ...], title: str) -> float:
    """1 when the document titled ``title`` is of a family the question implies, 0 when the
    question implies some family but not this one, NaN when it implies none."""
    if not families:
        return math.nan
    return 1.0 if any(family in title_key(title) for family in families) else 0.0


def asks_consequence(question: str) -> bool:
    """Whether ``question`` asks what happens on breach (penalty, liability, fine)."""
    return bool(_CONSEQUENCE.search(question))


def mentions_penalty(question: str) -> bool:
    """Whether ``question`` names a penalty or liability at all (罚, 责任, prison…)."""
    return bool(_MENTIONS_PENALTY.search(question))


def asks_crime(question: str) -> bool:
    """Whether the question asks about criminal liability (犯罪, 判刑, 坐牢, 刑事责任)."""
    return bool(_ASKS_CRIME.search(question))


def asks_fine(question: str) -> bool:
    """Whether the question asks what the penalty or fine is (罚款, 罚多少, 处罚)."""
    return bool(_ASKS_FINE.search(question))


def criminal_law(title: str) -> bool:
    """Whether a document titled ``title`` states criminal liability: a criminal code
    (刑法 and its amendments) or a criminal-case interpretation (…刑事案件…); not the
    criminal procedure law."""
    return criminal_code(title) or "刑事案件" in title_key(title)


def criminal_sanction(text: str) -> bool:
    """Whether a clause imposes a criminal sentence (有期徒刑, 拘役, 罚金…)."""
    return bool(_CRIMINAL_SANCTION.search(text))


def admin_sanction(text: str) -> bool:
    """Whether a clause imposes an administrative sanction (罚款, 没收违法所得, 警告…)."""
    return bool(_ADMIN_SANCTION.search(text))


def liability_match(*, crime: bool, fine: bool, criminal: bool, administrative: bool) -> float:
    """Whether the liability a clause states is the one the question asks about: 1 a match,
    -1 the other kind, 0 neither stated, NaN when the question asks about neither. A
    question asking about crime asks for the criminal clause; one asking only about a
    fine or penalty asks for the administrative one."""
    if crime:
        return 1.0 if criminal else (-1.0 if administrative else 0.0)
    if fine:
        return 1.0 if administrative and not criminal else (-1.0 if criminal else 0.0)
    return math.nan
