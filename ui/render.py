"""Pure formatting for the web chat: answers → escaped HTML and plain text.

Every piece of document text (quotes, titles, citation strings, paths, URLs) is passed
through :func:`html.escape` before it is put into HTML. Highlights are applied by slicing
the raw quote at the highlight offsets and escaping each slice, so markup in a document
can never become markup on the page, and the text a reader sees (and copies) is the quote.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from urllib.parse import urlparse

from rag.answer import Answer, Citation, Highlight
from rag.answer.wording import CANDIDATES, INNER, LOW_CONFIDENCE, NOT_FOUND, RELATED
from rag.core.pages import page_label, page_label_en
from rag.core.versions import status_label
from rag.export.common import duty_line, mark_spans, penalty_line
from rag.export.text import format_answer
from ui import compare, feedback
from ui.escape import esc

__all__ = ["esc"]  # the pages' one escape, re-exported for ui.library_html
# badge colour by status code (rag.answer.status); an unknown code is "info"
STATUS_CLASS = {"in_force": "ok", "repealed": "bad", "superseded": "warn",
                "not_yet_in_force": "info"}


def _covered(spans: Sequence[tuple[int, int]], start: int, end: int) -> bool:
    return any(s <= start and end <= e for s, e in spans)


def quote_html(text: str, highlights: Sequence[Highlight] = ()) -> str:
    """The quote with its key sentence in ``<mark class="key">`` and matched terms in
    ``<b class="term">``; each slice of the raw quote is escaped on its own."""
    n = len(text)
    sentences = mark_spans(highlights, "sentence", n)
    terms = mark_spans(highlights, "term", n)
    cuts = sorted({0, n, *(p for span in sentences + terms for p in span)})
    out: list[str] = []
    in_sentence = False
    for start, end in itertools.pairwise(cuts):
        piece = esc(text[start:end])
        if _covered(terms, start, end):
            piece = f'<b class="term">{piece}</b>'
        marked = _covered(sentences, start, end)
        if marked != in_sentence:
            out.append('<mark class="key">' if marked else "</mark>")
            in_sentence = marked
        out.append(piece)
    if in_sentence:
        out.append("</mark>")
    return "".join(out)


def copy_text(citation: Citation) -> str:
    """What the copy button puts on the clipboard: the formal citation, then the quote."""
    return f"{citation.citation}\n{citation.text}"


def _safe_url(url: str | None) -> str | None:
    if not url:
        return None
    parsed = urlparse(url.strip())
    return url.strip() if parsed.scheme in ("http", "https") and parsed.netloc else None


def _badges(citation: Citation) -> str:
    badges = []
    if citation.status:
        kind = STATUS_CLASS.get(citation.status, "info")
        badges.append(f'<span class="badge {kind}" data-status="{esc(citation.status)}">'
                      f"{esc(status_label(citation.status))}</span>")
    if citation.version or citation.date:
        label = f"版本 {citation.version}" if citation.version else f"日期 {citation.date}"
        badges.append(f'<span class="badge plain">{esc(label)}</span>')
    if citation.kind:
        badges.append(f'<span class="badge plain">{esc(citation.kind)}</span>')
    if citation.pages:
        shown = f"{page_label(citation.pages)} {page_label_en(citation.pages)}"
        badges.append(f'<span class="badge page">{esc(shown)}</span>')
    if citation.ocr:
        score = citation.ocr_confidence
        title = "text read by OCR from a scanned page" + (
            f", confidence {score:.2f}" if score is not None else "")
        shown = "OCR" + (f" {score:.0%}" if score is not None else "")
        badges.append(f'<span class="badge ocr" title="{esc(title)}">{esc(shown)}</span>')
    if citation.version_note:
        badges.append(f'<span class="badge warn">{esc(citation.version_note)}</span>')
    if citation.low_confidence:
        badges.append(f'<span class="badge low">{LOW_CONFIDENCE} 低置信度</span>')
    return "".join(badges)


def _penalty_html(citation: Citation, cited: Sequence[Citation] = ()) -> str:
    """由第一百八十一条处罚 · 刑法第一百六十条: what enforces the quoted clause; 对应义务 第五十条:
    the duty among ``cited`` a quoted penalty enforces."""
    lines = [line for line in (penalty_line(citation), duty_line(citation, cited)) if line]
    return "".join(f'<div class="penalty">{esc(line)}</div>' for line in lines)


def _inner_html(citation: Citation) -> str:
    """前款 → 第一款 for each in-article reference; the named text when it is not quoted."""
    if not citation.inner:
        return ""
    items = []
    for ref in citation.inner:
        quote = f'<blockquote class="quote">{esc(ref.text)}</blockquote>'
        body = "" if citation.quotes(ref) else quote
        items.append(f"<li>{esc(ref.phrase)} → 本条{esc(ref.label)}{body}</li>")
    return f'<ul class="inner" title="{esc(INNER)}">{"".join(items)}</ul>'


def citation_card_html(
    citation: Citation, *, rank: str | None = None, open_compare: bool = False,
    with_feedback: bool = False, cited: Sequence[Citation] = (),
) -> str:
    """One quoted clause as a card: citation, badges, where it sits, quote, copy button,
    the same article in the law's other versions (:mod:`ui.compare`), and with
    ``with_feedback`` 👍/👎 for it (:mod:`ui.feedback`); a penalty names the duty among
    ``cited`` (the answer's citations) that it enforces."""
    meta = []
    if citation.path:
        meta.append(f'<span class="path">{esc(" › ".join(citation.path))}</span>')
    meta.append(f'<span class="source">{esc(citation.source)}</span>')
    url = _safe_url(citation.url)
    if url:
        meta.append(
            f'<a href="{esc(url)}" target="_blank" rel="noopener noreferrer nofollow">'
            f"{esc(url)}</a>"
        )
    elif citation.url:
        meta.append(f'<span class="url">{esc(citation.url)}</span>')
    classes = "card low" if citation.low_confidence else "card"
    return (
        f'<article class="{classes}" data-clause="{esc(citation.clause_id)}">'
        f'<header><span class="rank">{esc(rank or citation.rank)}</span>'
        f'<span class="cite">{esc(citation.citation)}</span>{_badges(citation)}</header>'
        f'<div class="meta">{" · ".join(meta)}</div>'
        f"{_penalty_html(citation, cited)}"
        f'<blockquote class="quote">{quote_html(citation.text, citation.highlights)}'
        "</blockquote>"
        f"{_inner_html(citation)}"
        f"{compare.compare_html(citation, open_=open_compare)}"
        f'<footer><button type="button" class="copy" data-copy="{esc(copy_text(citation))}"'
        ' title="Copy the citation and the quote">复制引文 Copy citation</button>'
        f"{feedback.buttons_html(citation.clause_id) if with_feedback else ''}"
        f'<span class="cid">{esc(citation.clause_id)}</span></footer>'
        "</article>"
    )


def _filters_line(answer: Answer) -> str:
    if not answer.filters:
        return ""
    parts = []
    for key, value in answer.filters.items():
        shown = ", ".join(map(str, value)) if isinstance(value, list | tuple) else str(value)
        parts.append(f"{key}: {shown}")
    return f'<div class="filters">筛选 Filters — {esc("; ".join(parts))}</div>'


def answer_html(answer: Answer, *, with_feedback: bool = False) -> str:
    """One answer: the verdict, then a card per citation (candidates marked when refused);
    with ``with_feedback`` each card's 👍/👎 and "the right clause is …" at the end."""
    if answer.answered:
        verdict = (
            f'<div class="verdict ok">✔ {esc(answer.message)}'
            f' <span class="conf">confidence {answer.confidence:.2f}</span></div>'
        )
    else:
        verdict = (
            f'<div class="verdict refused">✘ {esc(NOT_FOUND)}'
            f' <span class="conf">confidence {answer.confidence:.2f}</span></div>'
        )
        if answer.citations:
            verdict += f'<div class="candidates">{esc(CANDIDATES)}</div>'
    changes = any(c.via == "version" for c in answer.citations)  # a "what changed" answer
    cards = "".join(citation_card_html(c, open_compare=changes, with_feedback=with_feedback,
                                       cited=answer.citations)
                    for c in answer.citations)
    related = ""
    if answer.related:
        inner = "".join(citation_card_html(c, rank="→", with_feedback=with_feedback)
                        for c in answer.related)
        related = (
            f'<details class="related"><summary>{esc(RELATED)} ({len(answer.related)})'
            f"</summary>{inner}</details>"
        )
    state = "answered" if answer.answered else "refused"
    right = feedback.right_clause_html() if with_feedback else ""
    return (
        f'<div class="answer {state}">{verdict}{_filters_line(answer)}{cards}{related}'
        f"{right}</div>"
    )


def turn_html(answer: Answer, *, number: int = 0, with_feedback: bool = False) -> str:
    """One question and its answer; ``number`` tells repeated questions apart; with
    ``with_feedback`` the reader's 👍/👎 controls, which send the question they hold."""
    asked = f" {feedback.question_attr(answer.question)}" if with_feedback else ""
    return (
        f'<section class="turn" data-turn="{number}"{asked}>'
        f'<div class="question"><span class="who">问 Q</span>{esc(answer.question)}</div>'
        f"{answer_html(answer, with_feedback=with_feedback)}</section>"
    )


WELCOME = (
    '<div class="welcome"><b>合规问答 · Compliance Q&amp;A</b><br>'
    "提出问题（中文或英文），系统只引用语料库中法律、法规、政策、新闻的原文条款并注明出处；"
    "没有条款能回答时会明确说明。<br>"
    "Ask in Chinese or English. Every answer quotes the governing clauses verbatim with "
    "citations; nothing is generated, and when no clause answers, it says so.</div>"
)


def clear_marker(token: str) -> str:
    """What the chat sends to empty the conversation in the browser (see APPEND_JS)."""
    return f"<!--clear {esc(token)}-->"


def transcript_html(answers: Sequence[Answer]) -> str:
    """The whole conversation, oldest first."""
    if not answers:
        return f'<div class="chat">{WELCOME}</div>'
    return '<div class="chat">' + "".join(turn_html(a) for a in answers) + "</div>"


def answer_text(answer: Answer) -> str:
    """Plain text of an answer for copying: what ``rag ask`` prints (verdict, then each
    citation and its verbatim quote), without colour."""
    return format_answer(answer, color=False)


def index_html(info: dict[str, object], *, documents: int) -> str:
    """A one-line footer naming the index the answers come from."""
    fingerprint = str(info.get("fingerprint") or "")[:12]
    return (
        f'<div class="index-info">{documents} documents · {esc(info.get("clauses"))} clauses'
        f" · model {esc(info.get('model'))} · index {esc(fingerprint)}"
        f" built {esc(info.get('created'))}</div>"
    )


# Scoped to the transcript component by gr.HTML(css_template=...). It is evaluated as a
# JS template string: no backticks, no dollar-brace, no double braces.
CSS = """
.chat { display: flex; flex-direction: column; gap: 14px; max-height: 68vh;
  overflow-y: auto; padding-right: 4px; position: relative; }
.welcome { padding: 14px 16px; border-radius: 10px; background: #f1f5f9; color: #1e293b;
  line-height: 1.6; }
.turn { display: flex; flex-direction: column; gap: 8px; }
.question { align-self: flex-end; max-width: 85%; background: #1d4ed8; color: #fff;
  padding: 8px 12px; border-radius: 12px 12px 2px 12px; white-space: pre-wrap; }
.question .who { font-size: 0.75em; opacity: 0.8; margin-right: 8px; }
.answer { display: flex; flex-direction: column; gap: 10px; }
.verdict { padding: 8px 12px; border-radius: 8px; font-weight: 600; }
.verdict.ok { background: #ecfdf5; color: #065f46; border: 1px solid #a7f3d0; }
.verdict.refused { background: #fef2f2; color: #991b1b; border: 1px solid #fecaca; }
.conf { font-weight: 400; font-size: 0.8em; opacity: 0.75; margin-left: 6px; }
.candidates { color: #92400e; font-size: 0.9em; }
.filters { color: #475569; font-size: 0.85em; }
.card { border: 1px solid #cbd5e1; border-left: 4px solid #1d4ed8; border-radius: 8px;
  background: #fff; color: #0f172a; padding: 10px 14px; }
.card.low { border-left-color: #d97706; background: #fffbeb; }
.card header { display: flex; flex-wrap: wrap; align-items: center; gap: 6px; }
.rank { display: inline-block; min-width: 1.6em; text-align: center; border-radius: 999px;
  background: #1e293b; color: #fff; font-size: 0.8em; padding: 1px 6px; }
.cite { font-weight: 700; }
.badge { font-size: 0.75em; border-radius: 999px; padding: 1px 8px; border: 1px solid; }
.badge.ok { color: #065f46; border-color: #6ee7b7; background: #ecfdf5; }
.badge.bad { color: #991b1b; border-color: #fca5a5; background: #fef2f2; }
.badge.warn { color: #92400e; border-color: #fcd34d; background: #fffbeb; }
.badge.info, .badge.plain { color: #334155; border-color: #cbd5e1; background: #f8fafc; }
.badge.low { color: #fff; border-color: #d97706; background: #d97706; }
.badge.page { color: #1e3a8a; border-color: #93c5fd; background: #eff6ff; }
.badge.ocr { color: #6b21a8; border-color: #d8b4fe; background: #faf5ff; }
.meta { color: #475569; font-size: 0.8em; margin: 4px 0 6px; word-break: break-all; }
.meta a { color: #1d4ed8; }
.quote { margin: 0; padding: 8px 12px; background: #f8fafc; border-radius: 6px;
  white-space: pre-wrap; line-height: 1.75; font-size: 0.95em; color: #0f172a; }
.quote mark.key { background: #fde68a; color: inherit; padding: 0; }
.quote b.term { font-weight: 700; color: #1e3a8a; }
.card footer { display: flex; align-items: center; gap: 10px; margin-top: 6px; }
.copy { cursor: pointer; border: 1px solid #94a3b8; border-radius: 6px; background: #fff;
  color: #1e293b; padding: 2px 10px; font-size: 0.8em; }
.copy:hover { background: #eff6ff; }
.cid { color: #94a3b8; font-size: 0.7em; word-break: break-all; }
.inner { margin: 4px 0 0; padding-left: 18px; color: #475569; font-size: 0.85em; }
.penalty { color: #7f1d1d; font-size: 0.9em; margin: 4px 0; }
.related summary { cursor: pointer; color: #334155; font-size: 0.9em; margin-bottom: 6px; }
.related .card { margin-top: 8px; border-left-color: #64748b; }
.chat:has(.turn) .welcome { display: none; }
""" + compare.CSS + feedback.CSS

# Runs once when the (invisible) latest-turn component mounts: each new answer arrives
# alone and is appended to the transcript, so per-question traffic does not grow with the
# conversation. The HTML is built and escaped by turn_html on the server.
APPEND_JS = """
watch('value', () => {
  const chat = document.querySelector('#transcript .chat');
  const value = props.value || '';
  if (!chat || !value) return;
  if (value.startsWith('<!--clear')) {
    chat.querySelectorAll('.turn').forEach((turn) => turn.remove());
    return;
  }
  chat.insertAdjacentHTML('beforeend', value);
  const turns = chat.querySelectorAll('.turn');
  chat.scrollTop = turns[turns.length - 1].offsetTop;
});
"""

# Runs once when the transcript component mounts; one delegated listener serves every
# copy button, including those of answers appended later.
COPY_JS = """
element.addEventListener('click', async (event) => {
  const button = event.target.closest('button.copy');
  if (!button || !element.contains(button)) return;
  const text = button.getAttribute('data-copy') || '';
  let copied = false;
  try {
    await navigator.clipboard.writeText(text);
    copied = true;
  } catch (error) {
    const area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.style.position = 'fixed';
    area.style.opacity = '0';
    document.body.appendChild(area);
    area.select();
    try { copied = document.execCommand('copy'); } catch (ignored) { copied = false; }
    area.remove();
  }
  if (!button.dataset.label) button.dataset.label = button.textContent;
  button.textContent = copied ? '已复制 Copied ✓' : '复制失败 Copy failed';
  setTimeout(() => { button.textContent = button.dataset.label; }, 1500);
});
"""
