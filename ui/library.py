"""The library page (``/library``): browse, search and read the indexed documents; with an
admin token, add files, remove uploaded ones and re-index with a live progress bar.

Without an admin token the write controls and their functions are never created, so
neither the page nor Gradio's API has them. With one, every write function checks the
token typed into the page on the server, each time; a browser session that has signed
in with it may also upload files (see :class:`rag.api.auth.AdminToken`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import quote

import gradio as gr

from rag.api.library import NotInLibrary
from rag.api.live import BuildStatus
from rag.api.service import Service, UnknownDocument
from rag.api.views import document_detail, list_documents
from rag.core.documents import KIND_CHOICES
from rag.core.filters import Filters
from rag.links import links_for
from rag.readers import SUFFIXES
from ui.library_html import CSS, reader_html, report_html, status_html, table_html
from ui.server import session_of

WRONG_TOKEN = ("管理令牌不对 The admin token is wrong: type the token given to "
               "`rag serve --admin-token-file`.")


def library_page(demo: gr.Blocks, *, service: Service) -> None:
    """Add the library page to ``demo`` (at ``/library``)."""
    live = service.live

    def status() -> str:
        if not live.ready:
            return status_html(live.status())
        index = live.index
        return status_html(live.status(), documents=len(index.documents),
                           clauses=len(index.clauses))

    def signed_in(request: gr.Request | None) -> bool:
        """Whether this browser session signed in with the admin token (it then sees the
        documents' absolute source paths; everyone else sees them relative)."""
        admin = service.admin
        session = session_of(request.headers) if request is not None else None
        return bool(admin is not None and session and admin.granted(session))

    def listing(query: str, kinds: list[str] | None,
                admin: bool = False) -> tuple[str, Any, Any]:
        """Table, open-choices and remove-choices for a search."""
        if not live.ready:
            return table_html_empty(), gr.update(choices=[]), gr.update(choices=[])
        index = live.index
        found = list_documents(index, Filters(kinds=tuple(kinds or ())), owned=service.owned,
                               query=query or "", limit=500)
        choices = [(f"{d.title}（{d.version or d.date}）" if d.version or d.date else d.title,
                    d.doc_id) for d in found.documents]
        mine = [(label, doc_id) for (label, doc_id), d in zip(choices, found.documents,
                                                              strict=True) if d.library]
        paths = {d.doc_id: index.documents[d.doc_id].source_path
                 for d in found.documents} if admin else None
        return (table_html(found, paths=paths), gr.update(choices=choices),
                gr.update(choices=mine, value=None))

    def register_link(doc_id: str) -> str:
        """A link to the document's register of duties (``GET /api/v1/duties/…``), or
        nothing when it has no duty sentences."""
        if not links_for(live.index).duties(doc_id):
            return ""
        href = "/api/v1/duties/" + quote(doc_id, safe="") + "?format=xlsx"
        return (f'<a class="register" id="library-register-link" href="{escape(href)}" '
                'download>义务清单 Register of duties (.xlsx)</a>')

    def open_document(doc_id: str | None, request: gr.Request) -> tuple[str, str]:
        if not doc_id or not live.ready:
            return "", ""
        index = live.index
        doc = index.documents.get(doc_id)
        if doc is None:
            return '<p class="empty">This document is no longer in the index.</p>', ""
        return (reader_html(document_detail(doc, index, owned=service.owned),
                            path=doc.source_path if signed_in(request) else None),
                register_link(doc_id))

    def search(query: str, kinds: list[str] | None, request: gr.Request) -> tuple[Any, ...]:
        found = listing(query, kinds, signed_in(request))
        return found if service.writes else found[:2]

    def refresh(query: str, kinds: list[str] | None, request: gr.Request) -> tuple[Any, ...]:
        return (status(), *search(query, kinds, request))

    with demo.route("文库 Library", "library"):
        gr.Markdown("## 文库 Library\nThe documents answers are quoted from. "
                    + ("Sign in with the admin token below to add or remove files."
                       if service.writes else "This server is read-only."))
        status_box = gr.HTML(status(), elem_id="library-status", css_template=CSS)
        with gr.Row():
            query = gr.Textbox(label="搜索 Search", placeholder="title, id or file name",
                               elem_id="library-search", scale=3)
            kinds = gr.Dropdown(list(KIND_CHOICES), value=[], multiselect=True, label="类别 Kinds",
                                elem_id="library-kinds", scale=2)
        table = gr.HTML("", elem_id="library-table", css_template=CSS)
        opened = gr.Dropdown([], value=None, label="打开 Open a document",
                             elem_id="library-open", filterable=True)
        register = gr.HTML("", elem_id="library-register", css_template=CSS)
        reader = gr.HTML("", elem_id="library-reader", css_template=CSS)
        search_outputs: list[Any] = [table, opened]
        if service.writes:
            search_outputs.append(_write_controls(
                service, status=status, listing=listing, status_box=status_box, query=query,
                kinds=kinds, table=table, opened=opened))
        gr.on([query.submit, kinds.change], search, inputs=[query, kinds],
              outputs=search_outputs, api_visibility="private", queue=False)
        opened.change(open_document, inputs=[opened], outputs=[reader, register],
                      api_visibility="private")
        demo.load(refresh, inputs=[query, kinds],
                  outputs=[status_box, *search_outputs], api_visibility="private",
                  queue=False)


def _uploaded(path: Path) -> bool:
    """Whether ``path`` is a regular file in Gradio's upload folder (not a server file)."""
    from gradio.utils import get_upload_folder

    folder = Path(get_upload_folder()).resolve()
    try:
        return not path.is_symlink() and path.resolve().is_relative_to(folder) \
            and path.is_file()
    except OSError:
        return False


def table_html_empty() -> str:
    return '<p class="empty">The index is being built; the documents appear when it is ready.</p>'


def _write_controls(service: Service, *, status: Any, listing: Any, status_box: gr.HTML,
                    query: gr.Textbox, kinds: gr.Dropdown, table: gr.HTML,
                    opened: gr.Dropdown) -> gr.Dropdown:
    """The admin controls and their functions (made only on a server with writes)."""
    admin = service.admin
    assert admin is not None

    def check(token: str | None) -> None:
        if not admin.check(token):
            raise gr.Error(WRONG_TOKEN)

    def sign_in(token: str, request: gr.Request) -> str:
        check(token)
        session = session_of(request.headers)
        if not session:
            raise gr.Error("This browser session has no cookie; reload the page.")
        admin.grant(session)
        review = (" [反馈审核 Review the feedback queue →](/review)"
                  if service.feedback is not None else "")
        return "✓ 已验证 Signed in: this browser may add files now." + review

    def follow(report: str, first: BuildStatus, query_text: str,
               kind_list: list[str] | None) -> Iterator[tuple[Any, ...]]:
        """Yield (report, status, table, open, remove) while the re-index runs."""
        skip = (gr.skip(), gr.skip(), gr.skip())
        yield (report, status(), *skip)
        if first.state != "building":
            yield (report, status(), *listing(query_text, kind_list, True))
            return
        for _ in service.live.follow(every=0.5):
            yield (report, status(), *skip)
        yield (report, status(), *listing(query_text, kind_list, True))

    def add(files: list[str] | None, token: str, query_text: str,
            kind_list: list[str] | None) -> Iterator[tuple[Any, ...]]:
        check(token)
        if not files:
            raise gr.Error("Drop or choose files first (" + " ".join(SUFFIXES) + ").")
        uploads = [(Path(f).name, Path(f)) for f in files]
        if not all(_uploaded(path) for _, path in uploads):  # the gate checks first
            raise gr.Error("Only files uploaded from this page can be added.")
        try:
            stored, refused, first = service.add_files(uploads)
        except ValueError as error:
            raise gr.Error(str(error)) from None
        finally:
            for f in files:  # Gradio's copies: nothing uploaded stays outside the library
                with contextlib.suppress(OSError):
                    Path(f).unlink()
        report = report_html([f"{s.name} → {s.document.title} ({s.document.doc_id})"
                              for s in stored], [r.reason for r in refused])
        yield from follow(report, first, query_text, kind_list)

    def remove(doc_id: str | None, token: str, query_text: str,
               kind_list: list[str] | None) -> Iterator[tuple[Any, ...]]:
        check(token)
        if not doc_id:
            raise gr.Error("Choose an uploaded document to remove first.")
        try:
            document, path, first = service.remove(doc_id)
        except (UnknownDocument, NotInLibrary, ValueError) as error:
            raise gr.Error(str(error)) from None
        report = report_html([f"removed {path.name} ({document.doc_id})"], [])
        yield from follow(report, first, query_text, kind_list)

    def reindex(token: str, query_text: str,
                kind_list: list[str] | None) -> Iterator[tuple[Any, ...]]:
        check(token)
        try:
            first = service.reindex()
        except ValueError as error:
            raise gr.Error(str(error)) from None
        yield from follow("", first, query_text, kind_list)

    with gr.Accordion("管理 Manage (admin)", open=True, elem_id="library-admin"):
        with gr.Row():
            token = gr.Textbox(label="管理令牌 Admin token", type="password",
                               elem_id="admin-token", scale=3)
            sign_in_button = gr.Button("验证 Sign in", elem_id="admin-sign-in", scale=1)
        signed = gr.Markdown("", elem_id="admin-signed")
        files = gr.File(label="添加文件 Add files (drag and drop, several at once)",
                        file_count="multiple", file_types=list(SUFFIXES), type="filepath",
                        elem_id="library-files")
        add_button = gr.Button("添加并重建索引 Add and re-index", variant="primary",
                               elem_id="library-add")
        with gr.Row():
            remove_choice = gr.Dropdown([], value=None, label="移除已上传的文件 Remove an "
                                        "uploaded document", elem_id="library-remove-choice",
                                        scale=3)
            remove_button = gr.Button("移除 Remove", variant="stop", elem_id="library-remove",
                                      scale=1)
        reindex_button = gr.Button("重建索引 Re-index now", elem_id="library-reindex")
        report = gr.HTML("", elem_id="library-report", css_template=CSS)

    outputs = [report, status_box, table, opened, remove_choice]
    common = {"concurrency_limit": 1, "concurrency_id": "library-writes",
              "api_visibility": "undocumented"}
    sign_in_button.click(sign_in, inputs=[token], outputs=[signed],
                         api_name="library_sign_in", api_visibility="undocumented")
    add_button.click(add, inputs=[files, token, query, kinds], outputs=outputs,
                     api_name="library_add", **common).then(
        lambda: None, outputs=[files], api_visibility="private", queue=False)
    remove_button.click(remove, inputs=[remove_choice, token, query, kinds], outputs=outputs,
                        api_name="library_remove", **common)
    reindex_button.click(reindex, inputs=[token, query, kinds], outputs=outputs,
                         api_name="library_reindex", **common)
    return remove_choice
