"""The web chat: a thin Gradio layer over :func:`rag.answer.answer`.

``build_app`` wires the components; all formatting lives in :mod:`ui.render` (escaped
HTML) and :mod:`rag.memo` (exports). The index is read-only, so one loaded index and
encoder serve every session; Gradio's queue bounds how many questions run at once.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

import gradio as gr

from rag.answer import Answer, answer
from rag.core.documents import AUTHORITY, KIND_LABELS
from rag.core.filters import Filters
from rag.encoders import Encoder
from rag.export.docx import memo_docx
from rag.export.markdown import memo_markdown
from rag.search import Index
from rag.search.hybrid import MAX_QUESTION_CHARS
from ui import render

EXAMPLES = (
    "利用内幕消息炒股会被罚多少钱？",
    "操纵证券市场构成犯罪吗？",
    "《证券法》第一百九十一条",
    "What is the penalty for market manipulation?",
)
KIND_CHOICES = tuple((label, kind) for kind, label in KIND_LABELS.items())
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


def build_app(
    *,
    index: Index,
    encoder: Encoder,
    k: int = 5,
    concurrency: int = 4,
    examples: tuple[str, ...] = EXAMPLES,
) -> gr.Blocks:
    """The chat app for one loaded index. Call ``.launch()`` on it (or use :func:`serve`)."""
    info = index.info()

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
            last = render.answer_text(turns[-1]) if turns else ""
            return render.transcript_html(turns), turns, "", last
        try:
            filters = Filters(doc_ids=tuple(doc_ids or ()), kinds=tuple(kinds or ()),
                              as_of=as_of, date_from=date_from, date_to=date_to)
            result = answer(question, index=index, encoder=encoder, k=int(top or k),
                            filters=filters)
        except ValueError as error:
            raise gr.Error(str(error)) from None
        turns.append(result)
        return render.transcript_html(turns), turns, "", render.answer_text(result)

    def export(turns: list[Answer] | None) -> gr.File:
        if not turns:
            gr.Warning("Nothing to export yet: ask a question first.")
            return gr.File(value=None, visible=False)
        stamp = dt.datetime.now().astimezone()
        folder = Path(tempfile.mkdtemp(prefix="rag-memo-"))
        name = f"compliance-memo-{stamp:%Y%m%d-%H%M%S}"
        md = folder / f"{name}.md"
        md.write_text(memo_markdown(turns, generated_at=stamp, index=info), encoding="utf-8")
        docx = memo_docx(turns, folder / f"{name}.docx", generated_at=stamp, index=info)
        return gr.File(value=[str(md), str(docx)], visible=True)

    def clear() -> tuple[list[Answer], str, str, gr.File]:
        return [], render.transcript_html([]), "", gr.File(value=None, visible=False)

    with gr.Blocks(title=TITLE, analytics_enabled=False) as demo:
        turns = gr.State([])
        gr.Markdown(HEADER)
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                transcript = gr.HTML(
                    render.transcript_html([]), elem_id="transcript",
                    css_template=render.CSS, js_on_load=render.COPY_JS,
                )
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
                        document_choices(index), value=[], multiselect=True,
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
                    files = gr.File(label="Memo", file_count="multiple", interactive=False,
                                    visible=False, elem_id="memo-files")
                last_text = gr.Textbox(
                    label="最近回答纯文本 Last answer as plain text", lines=6, max_lines=16,
                    interactive=False, buttons=["copy"],
                )
                clear_button = gr.Button("清空对话 Clear conversation")
                gr.HTML(render.index_html(info, documents=len(index.documents)))

        gr.on(
            triggers=[question.submit, ask.click], fn=respond,
            inputs=[question, turns, docs, kinds, as_of, top, date_from, date_to],
            outputs=[transcript, turns, question, last_text], api_name="ask",
        )
        export_button.click(export, inputs=[turns], outputs=[files], api_name="export")
        clear_button.click(clear, outputs=[turns, transcript, last_text, files],
                           api_visibility="private")
    demo.queue(default_concurrency_limit=concurrency, max_size=512)
    return demo


def serve(
    *,
    index: Index,
    encoder: Encoder,
    host: str = "127.0.0.1",
    port: int = 7860,
    share: bool = False,
    concurrency: int = 4,
    k: int = 5,
    **launch: Any,
) -> gr.Blocks:
    """Build the app and serve it (blocks until Ctrl+C unless ``prevent_thread_lock``)."""
    demo = build_app(index=index, encoder=encoder, k=k, concurrency=concurrency)
    demo.launch(
        server_name=host, server_port=port, share=share, show_error=True, ssr_mode=False,
        **launch,
    )
    return demo
