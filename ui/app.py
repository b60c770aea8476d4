"""The web chat: a thin Gradio layer over :func:`rag.answer.answer`.

``build_app`` wires the components; formatting lives in :mod:`ui.render` (escaped HTML),
exports in :mod:`rag.export`, private memo files in :mod:`ui.memos`, the server in
:mod:`ui.server`, the library page in :mod:`ui.library`, the readers' 👍/👎 on each card
(when the server keeps feedback) in :mod:`ui.feedback`. Every question takes the live
index (:class:`rag.api.live.LiveIndex`) once, so one loaded index serves every session
and a re-index swaps in the next without disturbing an answer; Gradio's queue bounds how
many questions run at once. The conversation stays on
the server (``gr.State``): each answer sends only its own turn to the browser, which
appends it, so a long conversation costs no more per question than a short one.
"""

from __future__ import annotations

import datetime as dt
import html
import secrets

import gradio as gr

from rag.answer import Answer, answer
from rag.api.live import IndexNotReady
from rag.api.service import Service
from rag.core.documents import AUTHORITY, KIND_CHOICES
from rag.core.filters import Filters
from rag.encoders import Encoder
from rag.export.docx import memo_docx_bytes
from rag.export.markdown import memo_markdown
from rag.search import Index
from rag.search.hybrid import MAX_QUESTION_CHARS
from ui import render
from ui.feedback import script as feedback_script
from ui.library import library_page
from ui.memos import MemoStore
from ui.server import session_of

EXAMPLES = (
    "利用内幕消息炒股会被罚多少钱？",
    "操纵证券市场构成犯罪吗？",
    "《证券法》第一百九十一条",
    "What is the penalty for market manipulation?",
)
TITLE = "合规问答 · Compliance Q&A"
HEADER = (
    "## 合规问答 · Compliance Q&A\n"
    "Answers quote the governing clauses **verbatim** with formal citations — "
    "nothing is generated. 答案只引用原文条款并注明出处。"
)


def document_choices(index: Index) -> list[tuple[str, str]]:
    """(label, doc_id) for the documents filter, statutes first."""
    docs = sorted(
        index.documents.values(),
        key=lambda d: (-AUTHORITY.get(d.kind, 0), d.title, d.version or d.date or ""),
    )
    out = []
    for doc in docs:
        when = doc.version or doc.date
        out.append((f"{doc.title}（{when}）" if when else doc.title, doc.doc_id))
    return out


def memo_files(turns: list[Answer], *, info: dict[str, object] | None) -> dict[str, bytes]:
    """The conversation as a memo: ``{name.md: …, name.docx: …}``."""
    stamp = dt.datetime.now().astimezone()
    name = f"compliance-memo-{stamp:%Y%m%d-%H%M%S}"
    word = memo_docx_bytes(turns, generated_at=stamp, index=info)
    markdown = memo_markdown(turns, generated_at=stamp, index=info)
    return {f"{name}.md": markdown.encode("utf-8"), f"{name}.docx": word}


def build_app(
    *,
    memos: MemoStore,
    index: Index | None = None,
    encoder: Encoder | None = None,
    service: Service | None = None,
    k: int = 5,
    concurrency: int = 4,
    examples: tuple[str, ...] = EXAMPLES,
) -> gr.Blocks:
    """The chat (and library page) for ``service``, or for one loaded ``index`` read with
    ``encoder``; :func:`ui.server.make_app` serves it."""
    if service is None:
        if index is None or encoder is None:
            raise ValueError("build_app needs service=, or index= and encoder=")
        service = Service.fixed(index, encoder)
    live = service.live
    with_feedback = service.feedback is not None  # 👍/👎 on cards → POST /api/v1/feedback

    def footer() -> str:
        if not live.ready:
            return ('<div class="index-info">索引构建中 The index is being built; questions '
                    "are answered once it is ready.</div>")
        return render.index_html(live.index.info(), documents=len(live.index.documents))

    def refreshed() -> tuple[dict[str, object], str]:
        choices = document_choices(live.index) if live.ready else []
        return gr.update(choices=choices), footer()

    def respond(
        question: str,
        turns: list[Answer] | None,
        doc_ids: list[str] | None,
        kinds: list[str] | None,
        as_of: str | None,
        top: float | None,
        date_from: str | None = None,
        date_to: str | None = None,
    ) -> tuple[str, list[Answer], str, str]:
        turns = list(turns or [])
        question = (question or "").strip()
        if not question:
            gr.Warning("请输入问题 · Type a question first.")
            return gr.skip(), turns, "", gr.skip()
        if len(question) > MAX_QUESTION_CHARS:  # the gate refuses it first; as POST /ask
            raise gr.Error(f"A question is at most {MAX_QUESTION_CHARS:,} characters; this "
                           f"one has {len(question):,}.")
        try:
            index = live.index  # once: this answer comes from one generation
            filters = Filters(doc_ids=tuple(doc_ids or ()), kinds=tuple(kinds or ()),
                              as_of=as_of, date_from=date_from, date_to=date_to)
            result = answer(question, index=index, encoder=live.encoder, k=int(top or k),
                            filters=filters)
        except (ValueError, IndexNotReady) as error:
            raise gr.Error(str(error)) from None
        turns.append(result)
        turn = render.turn_html(result, number=len(turns), with_feedback=with_feedback)
        return turn, turns, "", render.answer_text(result)

    def export(turns: list[Answer] | None, request: gr.Request) -> str:
        if not turns:
            gr.Warning("Nothing to export yet: ask a question first.")
            return ""
        session = session_of(request.headers)
        if not session:
            raise gr.Error("This browser session has no cookie; reload the page and export "
                           "again.")
        files = memo_files(turns, info=None)  # each answer names its own index
        memo_id = memos.save(session, files)
        links = " · ".join(
            f'<a href="/memo/{memo_id}/{html.escape(name)}" download>{html.escape(name)}</a>'
            for name in files)
        minutes = int(memos.ttl // 60)
        return (f'<div class="memo-links">{links}<br><small>Private to this browser; each '
                f"file can be downloaded once, within {minutes} minutes.</small></div>")

    def clear() -> tuple[list[Answer], str, str, str]:
        return [], render.clear_marker(secrets.token_hex(4)), "", ""

    with gr.Blocks(title=TITLE, analytics_enabled=False) as demo:
        turns = gr.State([])
        gr.Markdown(HEADER)
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                gr.HTML(render.transcript_html([]), elem_id="transcript",
                        css_template=render.CSS, js_on_load=render.COPY_JS
                        + (feedback_script("element") if with_feedback else ""))
                latest = gr.HTML("", html_template="", elem_id="latest-turn",
                                 js_on_load=render.APPEND_JS, padding=False)
                with gr.Row():
                    question = gr.Textbox(
                        show_label=False, placeholder="输入问题 · Ask a question (中文 / English)",
                        lines=1, max_lines=4, scale=5, elem_id="question",
                        max_length=MAX_QUESTION_CHARS, autofocus=True,
                    )
                    ask = gr.Button("提问 Ask", variant="primary", scale=1, elem_id="ask")
                gr.Examples(
                    examples=[[q] for q in examples], inputs=[question],
                    label="示例问题 Examples",
                )
            with gr.Column(scale=2):
                with gr.Accordion("筛选 Filters", open=True):
                    docs = gr.Dropdown(
                        document_choices(live.index) if live.ready else [], value=[],
                        multiselect=True,
                        label="文件 Documents", info="Empty = all documents",
                    )
                    kinds = gr.CheckboxGroup(list(KIND_CHOICES), label="类别 Kinds")
                    as_of = gr.Textbox(
                        label="时点 As of (YYYY-MM-DD)", placeholder="e.g. 2020-03-01",
                        info="Prefer the versions in force on this date",
                    )
                    with gr.Row():
                        date_from = gr.Textbox(label="起 From (YYYY-MM-DD)",
                                               placeholder="e.g. 2019-01-01")
                        date_to = gr.Textbox(label="止 To (YYYY-MM-DD)",
                                             placeholder="e.g. 2022-12-31")
                    top = gr.Slider(1, 20, value=k, step=1, label="引文数 Citations")
                with gr.Accordion("导出 Export", open=True):
                    export_button = gr.Button("导出备忘录 Export memo (.md + .docx)")
                    memo_links = gr.HTML("", elem_id="memo-links")
                last_text = gr.Textbox(
                    label="最近回答纯文本 Last answer as plain text", lines=6, max_lines=16,
                    interactive=False, buttons=["copy"],
                )
                clear_button = gr.Button("清空对话 Clear conversation")
                footer_html = gr.HTML(footer())

        gr.on(
            triggers=[question.submit, ask.click], fn=respond,
            inputs=[question, turns, docs, kinds, as_of, top, date_from, date_to],
            outputs=[latest, turns, question, last_text], api_name="ask",
        )
        export_button.click(export, inputs=[turns], outputs=[memo_links], api_name="export")
        clear_button.click(clear, outputs=[turns, latest, last_text, memo_links],
                           api_visibility="private")
        # after a re-index the page shows the documents of the index answering now
        demo.load(refreshed, outputs=[docs, footer_html], api_visibility="private",
                  queue=False)
    library_page(demo, service=service)
    demo.queue(default_concurrency_limit=concurrency, max_size=512)
    return demo
