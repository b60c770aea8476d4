"""Two plain pages beside the chat: hit testing (``/explain``) and the feedback review queue
(``/review``).

``/explain`` is rendered here from :func:`rag.evaluate.explain.explain` (every text
escaped); each row has 👍 governs / 👎 not relevant, and "the right clause is …" takes a
citation or a clause id — all sent to the open ``POST /api/v1/feedback`` by the controls
the chat's cards use too (:mod:`ui.feedback`). ``/review``
is a static page whose script lists pending feedback with the admin token the reviewer
types, quotes each clause, and accepts or rejects (one or in bulk) through the admin API;
it writes data into the page with ``textContent`` only, never as markup.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import FastAPI, Query
from fastapi.responses import HTMLResponse

from rag.api.live import IndexNotReady
from rag.api.service import Service
from rag.evaluate.explain import CHANNEL_ORDER, Explanation, explain
from rag.search.query import MAX_QUESTION_CHARS
from ui.escape import esc
from ui.feedback import CSS as FEEDBACK_CSS
from ui.feedback import buttons_html, question_attr, right_clause_html, script

STYLE = ("body{font-family:sans-serif;margin:1.5em;max-width:72em}table{border-collapse:"
         "collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.2em .45em;text-align:"
         "left;vertical-align:top}th{background:#f4f4f4}.why{color:#555;font-size:.9em}"
         "input[type=text],input[type=password]{width:32em}.sent{color:#2f7d32}"
         ".err{color:#c62828}")

REVIEW_SCRIPT = """
const $ = (id) => document.getElementById(id);
function headers() {
  return {'Authorization': 'Bearer ' + $('token').value,
          'Content-Type': 'application/json'};
}
function cell(row, text) { const td = row.insertCell(); td.textContent = text; return td; }
async function quote(clauseId, td) {
  const reply = await fetch('/api/v1/clauses/' + encodeURIComponent(clauseId));
  if (!reply.ok) { td.textContent = clauseId + ' (not in the index)'; return; }
  const body = await reply.json();
  const clause = body.clause || body;
  td.textContent = (clause.citation || clauseId) + ': ' + (clause.text || '');
}
async function load() {
  const status = $('filter').value;
  const reply = await fetch('/api/v1/feedback?status=' + status, {headers: headers()});
  const body = await reply.json();
  const table = $('queue').tBodies[0];
  table.replaceChildren();
  if (!reply.ok) { $('message').textContent = body.detail; return; }
  $('message').textContent = Object.entries(body.counts).map(
    ([k, v]) => v + ' ' + k).join(', ') + (body.missing_clauses.length ?
    '; ' + body.missing_clauses.length + ' confirmed clause(s) no longer in the index: ' +
    body.missing_clauses.map((r) => r.clause_id).join(', ') : '');
  for (const record of body.records) {
    const row = table.insertRow();
    const pick = document.createElement('input');
    pick.type = 'checkbox'; pick.value = record.id;
    row.insertCell().appendChild(pick);
    cell(row, record.question);
    quote(record.clause_id, cell(row, record.clause_id));
    cell(row, record.verdict === 'governs' ? '👍 governs' : '👎 not relevant');
    cell(row, record.client + ' · ' + record.created);
    cell(row, record.status);
    const actions = row.insertCell();
    for (const action of ['accept', 'reject']) {
      const button = document.createElement('button');
      button.textContent = action;
      button.onclick = () => decide([record.id], action);
      actions.appendChild(button);
    }
  }
}
async function decide(ids, action) {
  for (const id of ids) {
    const reply = await fetch('/api/v1/feedback/' + id + '/' + action,
                              {method: 'POST', headers: headers()});
    if (!reply.ok) { $('message').textContent = (await reply.json()).detail; return; }
  }
  load();
}
function chosen() {
  return [...document.querySelectorAll('#queue input:checked')].map((c) => c.value);
}
$('load').onclick = load;
$('bulk-accept').onclick = () => decide(chosen(), 'accept');
$('bulk-reject').onclick = () => decide(chosen(), 'reject');
"""


def _page(title: str, body: str, script: str) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><html lang=\"zh\"><head><meta charset=\"utf-8\"><title>{esc(title)}"
        f"</title><style>{STYLE}{FEEDBACK_CSS}</style></head><body>{body}<script>{script}"
        "</script></body></html>", headers={"Cache-Control": "no-store"})


def explanation_html(result: Explanation) -> str:
    """The explanation as an HTML table (every text escaped), with the readers' feedback
    controls (:mod:`ui.feedback`) for ``result.question``."""
    channels = [c for c in CHANNEL_ORDER if any(c in r.ranks for r in result.rows)]
    head = "".join(f"<th>{esc(c)}<br>rank · score</th>" for c in channels)
    rows = []
    for row in result.rows:
        cells = "".join(
            f"<td>{row.ranks[c]} · {row.scores.get(c, 0.0):.3f}</td>" if c in row.ranks
            else "<td>·</td>" for c in channels)
        folded = "".join(f"<br>folded: {esc(c)}" for c in row.folded)
        rows.append(f"<tr><td>{row.rank}</td><td>{esc(row.document)} {esc(row.label)}<br>"
                    f"<code>{esc(row.clause_id)}</code><div class=\"why\">{esc(row.why)}"
                    f"{folded}</div></td>{cells}<td>{row.score:.3f}</td>"
                    f"<td>{buttons_html(row.clause_id)}</td></tr>")
    verdict = "answered" if result.answered else "refused"
    voters = "".join(f"<li>{v.similarity:.3f} → <code>{esc(v.clause_id)}</code></li>"
                     for v in result.voters)
    return (f"<p><b>{verdict}</b>: confidence {result.confidence:.3f} (threshold "
            f"{result.threshold:.3f}); nearest clause similarity "
            f"{result.signals['nearest_similarity']:.3f}, term coverage "
            f"{result.signals['coverage']:.3f}. Weights: "
            + esc(", ".join(f"{c} {w:g}" for c, w in result.weights.items()))
            + f"</p><table><thead><tr><th>#</th><th>clause</th>{head}<th>fused</th>"
            f"<th>feedback</th></tr></thead><tbody {question_attr(result.question)}>"
            f"{''.join(rows)}</tbody></table>"
            + (f"<p>Memory: confirmed questions voted (similarity → clause)</p><ul>{voters}"
               "</ul>" if voters else "")
            + f"<p {question_attr(result.question)}>{right_clause_html(input_id='right')}</p>")


def install_pages(app: FastAPI, service: Service) -> None:
    """Add ``/explain`` and ``/review`` to ``app`` (before the chat is mounted at ``/``)."""

    @app.get("/explain", include_in_schema=False)
    def explain_page(
        q: Annotated[str, Query(max_length=MAX_QUESTION_CHARS)] = "",
        top: Annotated[int, Query(ge=1, le=50)] = 10,
    ) -> HTMLResponse:
        form = ("<h1>Hit testing</h1><form method=\"get\"><input type=\"text\" id=\"asked\" "
                f"name=\"q\" value=\"{esc(q)}\" placeholder=\"内幕交易会被罚多少钱？\"> "
                f"<input type=\"number\" name=\"top\" value=\"{top}\" min=\"1\" max=\"50\"> "
                "<button>explain</button></form>")
        body = form
        if q.strip():
            try:
                result = explain(q, index=service.live.index, encoder=service.encoder, k=top)
                body += explanation_html(result)
            except (IndexNotReady, ValueError) as error:
                body += f"<p class=\"err\">{esc(error)}</p>"
        return _page("Hit testing", body, script("document"))

    @app.get("/review", include_in_schema=False)
    def review_page() -> HTMLResponse:
        body = ("<h1>Feedback review</h1><p>Admin token <input type=\"password\" id=\"token\">"
                " <select id=\"filter\"><option>pending</option><option>accepted</option>"
                "<option>rejected</option></select> <button id=\"load\">load</button> "
                "<button id=\"bulk-accept\">accept selected</button> "
                "<button id=\"bulk-reject\">reject selected</button></p>"
                "<p id=\"message\"></p><table id=\"queue\"><thead><tr><th></th><th>question"
                "</th><th>clause</th><th>verdict</th><th>who · when</th><th>status</th>"
                "<th></th></tr></thead><tbody></tbody></table>")
        return _page("Feedback review", body, REVIEW_SCRIPT)
