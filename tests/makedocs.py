"""Real PDF and Word files for the tests, made on the spot (nothing binary is checked in).

PDFs are typeset by ReportLab (BSD) with a CJK TrueType font embedded, as a word
processor exports them: justified text with a two-character first-line indent, a running
header and a page number on every page, optionally two columns. :func:`rasterise` turns
pages into images only (a scan). Word files are written by python-docx, with real
automatic numbering (``numbering.xml``) when asked.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from xml.sax.saxutils import escape

# Debian's fonts-wqy-microhei: a CJK font with TrueType outlines, so ReportLab can embed it
# and PIL can draw it. `make fonts` (part of `make test`) installs it.
FONT_FILE = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
FONT = "WenQuanYiMicroHei"
TWO_COLUMNS = "<two columns from the next page>"
PAGE_BREAK = "<page break>"


class MissingFont(RuntimeError):
    """The CJK font the PDF tests typeset with is not installed."""


@dataclass(frozen=True)
class Heading:
    """A centred heading line (title or 第一章 …) in a generated PDF."""

    text: str
    size: float = 14


def font() -> str:
    """Register the CJK font with ReportLab once; its name."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if FONT in pdfmetrics.getRegisteredFontNames():
        return FONT
    if not FONT_FILE.is_file():
        raise MissingFont(
            f"{FONT_FILE} is missing: the PDF tests need Debian's fonts-wqy-microhei "
            "(run `make fonts`, or apt-get install fonts-wqy-microhei)"
        )
    pdfmetrics.registerFont(TTFont(FONT, str(FONT_FILE), subfontIndex=0))
    return FONT


def make_pdf(
    path: Path,
    items: Sequence[str | Heading],
    *,
    title: str | None = None,
    header: str | None = None,
    page_numbers: bool = True,
    created: datetime | None = None,
    size: float = 11,
    password: str | None = None,
    indent: bool = True,
) -> Path:
    """A text PDF: one justified, indented paragraph per string, headings centred.

    ``indent=False`` typesets paragraphs flush left, with no first-line indent.

    ``TWO_COLUMNS`` in ``items`` switches to two columns from a new page; ``PAGE_BREAK``
    starts a new page. ``header`` is drawn on top of every page, ``- N -`` at the bottom.
    """
    from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.pdfencrypt import StandardEncryption
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import (
        BaseDocTemplate,
        Frame,
        NextPageTemplate,
        PageBreak,
        PageTemplate,
        Paragraph,
    )

    name = font()
    width, height = A4
    margin, gap = 72.0, 24.0

    def furniture(canvas, doc) -> None:  # type: ignore[no-untyped-def]
        canvas.saveState()
        canvas.setFont(name, 9)
        if header:
            canvas.drawCentredString(width / 2, height - 40, header)
        if page_numbers:
            canvas.drawCentredString(width / 2, 36, f"- {doc.page} -")
        canvas.restoreState()

    body = height - 2 * margin
    one = Frame(margin, margin, width - 2 * margin, body, id="one")
    column = (width - 2 * margin - gap) / 2
    two = [Frame(margin, margin, column, body, id="left"),
           Frame(margin + column + gap, margin, column, body, id="right")]
    encrypt = StandardEncryption(password, canPrint=0) if password else None
    doc = BaseDocTemplate(str(path), pagesize=A4, title=title or "", author="tests",
                          encrypt=encrypt, creator="tests/makedocs.py")
    doc.addPageTemplates([PageTemplate("one", [one], onPage=furniture),
                          PageTemplate("two", two, onPage=furniture)])
    text = ParagraphStyle("body", fontName=name, fontSize=size, leading=size * 1.6,
                          wordWrap="CJK", alignment=TA_JUSTIFY,
                          firstLineIndent=2 * size if indent else 0)
    story: list[object] = []
    for item in items:
        if item == TWO_COLUMNS:
            story += [NextPageTemplate("two"), PageBreak()]
        elif item == PAGE_BREAK:
            story.append(PageBreak())
        elif isinstance(item, Heading):
            style = ParagraphStyle("heading", fontName=name, fontSize=item.size,
                                   leading=item.size * 1.8, alignment=TA_CENTER,
                                   spaceBefore=6, spaceAfter=6)
            story.append(Paragraph(escape(item.text), style))
        else:
            story.append(Paragraph(escape(item), text))
    doc.build(story)
    if created is not None:
        _set_creation_date(path, created)
    return path


def _set_creation_date(path: Path, created: datetime) -> None:
    """Rewrite the PDF's /CreationDate (ReportLab stamps the current time)."""
    data = path.read_bytes()
    stamp = created.strftime("D:%Y%m%d%H%M%S+08'00'").encode()
    data = re.sub(rb"/CreationDate \(D:[^)]*\)", b"/CreationDate (" + stamp + b")", data)
    path.write_bytes(data)


def rasterise(
    source: Path, dest: Path, *, pages: set[int], dpi: int = 150, blank: bool = False
) -> Path:
    """``source`` with the 1-based ``pages`` replaced by images of themselves (a scan);
    ``blank`` makes those images white (a scan of nothing legible)."""
    import pypdfium2 as pdfium
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    src = pdfium.PdfDocument(str(source))
    out = pdfium.PdfDocument.new()
    for index in range(len(src)):
        if index + 1 not in pages:
            out.import_pages(src, [index])
            continue
        page = src[index]
        width, height = page.get_size()
        image = page.render(scale=dpi / 72, grayscale=True).to_pil()
        if blank:
            image.paste(255, (0, 0, *image.size))
        buffer = io.BytesIO()
        sheet = canvas.Canvas(buffer, pagesize=(width, height))
        sheet.drawImage(ImageReader(image), 0, 0, width=width, height=height)
        sheet.showPage()
        sheet.save()
        scan = pdfium.PdfDocument(buffer.getvalue())
        out.import_pages(scan, [0])
    out.save(str(dest))
    return dest


# ------------------------------------------------------------------------------ Word


ARTICLE_LIST = "90"  # numId of the 第%1条 / （%2） list that :func:`make_docx` defines


def make_docx(
    path: Path,
    items: Sequence[tuple[str, str]],
    *,
    title: str | None = None,
    created: datetime | None = None,
) -> Path:
    """A Word file from ``(kind, text)`` items.

    Kinds: ``title`` (Title style), ``heading`` (Heading 1), ``article`` (text numbered
    by Word as 第一条, 第二条 … through numbering.xml; the label is NOT in the text),
    ``item`` (numbered （一）, （二） … under the current article), ``text`` (plain),
    ``table`` (cells separated by ``|``).
    """
    import docx

    document = docx.Document()
    _add_article_numbering(document)
    for kind, text in items:
        if kind == "title":
            document.add_paragraph(text, style="Title")
        elif kind == "heading":
            document.add_heading(text, level=1)
        elif kind in ("article", "item"):
            paragraph = document.add_paragraph(text)
            num_pr = paragraph._p.get_or_add_pPr().get_or_add_numPr()
            num_pr.get_or_add_ilvl().val = 0 if kind == "article" else 1
            num_pr.get_or_add_numId().val = int(ARTICLE_LIST)
        elif kind == "table":
            rows = [row.split("|") for row in text.split("\n")]
            table = document.add_table(rows=len(rows), cols=len(rows[0]))
            for r, row in enumerate(rows):
                for c, cell in enumerate(row):
                    table.cell(r, c).text = cell
        else:
            document.add_paragraph(text)
    if title is not None:
        document.core_properties.title = title
    if created is not None:
        document.core_properties.created = created
    document.save(str(path))
    return path


def _add_article_numbering(document) -> None:  # type: ignore[no-untyped-def]
    """A two-level list: 第%1条 (chineseCounting, then a space), （%2） (no separator)."""
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls, qn

    numbering = document.part.numbering_part.element
    abstract = parse_xml(
        f'<w:abstractNum {nsdecls("w")} w:abstractNumId="{ARTICLE_LIST}">'
        '<w:multiLevelType w:val="multilevel"/>'
        '<w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="chineseCounting"/>'
        '<w:lvlText w:val="第%1条"/><w:suff w:val="space"/><w:lvlJc w:val="left"/></w:lvl>'
        '<w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="chineseCounting"/>'
        '<w:lvlText w:val="（%2）"/><w:suff w:val="nothing"/><w:lvlJc w:val="left"/></w:lvl>'
        "</w:abstractNum>"
    )
    first_num = numbering.find(qn("w:num"))
    if first_num is not None:
        first_num.addprevious(abstract)
    else:
        numbering.append(abstract)
    numbering.append(parse_xml(
        f'<w:num {nsdecls("w")} w:numId="{ARTICLE_LIST}">'
        f'<w:abstractNumId w:val="{ARTICLE_LIST}"/></w:num>'
    ))


# ------------------------------------------------------------------------------ content

POLICY_TITLE = "某证券公司员工证券投资行为管理办法"
# An internal policy that exists only as a PDF: three pages, 第十二条 on page 3.
POLICY: list[str | Heading] = [
    Heading(POLICY_TITLE, 16),
    Heading("第一章 总则"),
    "第一条 为规范本公司员工及其配偶、利害关系人的证券投资行为，防范内幕交易和利益冲突，"
    "根据《中华人民共和国证券法》等法律法规，制定本办法。",
    "第二条 本办法适用于本公司全体员工，包括与公司签订劳动合同的正式员工、劳务派遣人员和"
    "实习人员。",
    "第三条 员工从事证券投资，应当遵守法律法规和公司规定，不得利用职务便利或者未公开信息"
    "谋取利益。",
    "第四条 合规管理部负责本办法的组织实施和监督检查，人力资源部负责员工入职时的告知和培训。",
    "第五条 员工应当在入职后十个工作日内，向合规管理部申报本人及其配偶的证券账户信息。",
    PAGE_BREAK,
    Heading("第二章 行为规范"),
    "第六条 员工证券账户信息发生变更的，应当在变更之日起五个工作日内补充申报。",
    "第七条 员工不得买卖本公司承销、保荐或者提供财务顾问服务的公司的股票，限制期间由合规"
    "管理部公布。",
    "第八条 员工买卖证券的持有期限不得少于三十个自然日，但因司法强制执行等被动原因卖出的"
    "除外。",
    "第九条 员工不得向他人泄露公司客户的交易信息，也不得根据该等信息买卖证券或者建议他人"
    "买卖证券。",
    "第十条 员工不得参与证券市场的配资、代客理财等活动。",
    "第十一条 投资银行部门员工在项目执行期间，不得买卖项目相关公司的证券。",
    PAGE_BREAK,
    "第十二条 员工及其配偶买卖股票，应当在交易前三个交易日通过合规系统向合规管理部报备，"
    "报备内容包括证券代码、拟交易数量和资金来源。",
    "合规管理部应当在收到报备后一个交易日内作出是否同意的答复；未获同意的，员工不得进行该笔"
    "交易。",
    Heading("第三章 附则"),
    "第十三条 员工违反本办法的，公司可以视情节轻重给予警告、通报批评、降级或者解除劳动合同"
    "等处分；涉嫌违法犯罪的，移送司法机关处理。",
    "第十四条 本办法由合规管理部负责解释，自发布之日起施行。",
]
POLICY_HEADER = "某证券公司内部制度汇编"


def statute_items(text: str, headings: Sequence[str], lines: slice) -> list[str | Heading]:
    """Lines of a statute's text as PDF items, its chapter lines as headings."""
    heads = set(headings)
    return [Heading(line) if line in heads else line for line in text.split("\n")[lines]]


def make_long_pdf(path: Path, pages: int) -> Path:
    """``pages`` pages, page N holding 第N条 (one short article) under a running header."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    from rag.core.numbering import int_to_cn

    name = font()
    width, height = A4
    sheet = canvas.Canvas(str(path), pagesize=A4)
    sheet.setTitle("长篇测试文件")
    for page in range(1, pages + 1):
        sheet.setFont(name, 9)
        sheet.drawCentredString(width / 2, height - 40, "长篇测试文件")
        sheet.drawCentredString(width / 2, 36, f"第 {page} 页 共 {pages} 页")
        sheet.setFont(name, 11)
        sheet.drawString(72 + 22, height - 100,
                         f"第{int_to_cn(page)}条 本条是第{page}页的唯一条文，用于测试长文件。")
        sheet.showPage()
    sheet.save()
    return path


def make_scanned_statute(folder: Path, statute_text: str) -> Path:
    """Three pages of 证券法: page 1 (title, 第一条–第三条) and page 3 (第七条, 第八条) with a
    text layer, page 2 (第四条–第六条) an image only, as a scanner makes it."""
    lines = statute_text.split("\n")

    def article(number: str) -> list[str | Heading]:
        """The article's lines: its 第X条 line and the 款 lines up to the next article."""
        first = next(n for n, line in enumerate(lines) if line.startswith(f"第{number}条 "))
        last = next(n for n in range(first + 1, len(lines))
                    if re.match(r"^第\S+条 |^第\S+章 ", lines[n]))
        return list(lines[first:last])

    typed = folder / "typed.pdf"
    make_pdf(typed, [
        Heading("中华人民共和国证券法（节选）", 16), *article("一"), *article("二"),
        *article("三"), PAGE_BREAK, *article("四"), *article("五"), *article("六"),
        PAGE_BREAK, *article("七"), *article("八"),
    ], title="证券法节选扫描件", header=LAW_EXCERPT_HEADER)
    return rasterise(typed, folder / "证券法节选扫描件.pdf", pages={2})


LAW_EXCERPT_HEADER = "证券法节选"
