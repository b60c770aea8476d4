"""The readers' feedback controls, one copy for every page that shows citations (the chat's
cards, ``/explain``): 👍/👎 per clause, "the right clause is …", and the script that sends
them to the open ``POST /api/v1/feedback`` (same origin) and says so in ``textContent``.

The controls sit inside an element whose ``data-question`` holds the question (escaped);
a clause button carries ``data-clause``, the "right clause" button takes the text of the
``input.right`` beside it (a citation the look-up resolves, or a clause id).
"""

from __future__ import annotations

from rag.feedback.store import MAX_CLAUSE_ID_CHARS
from ui.escape import esc

SENT = "thanks — sent for review"


def question_attr(question: str) -> str:
    """The attribute the controls read their question from."""
    return f'data-question="{esc(question)}"'


def buttons_html(clause_id: str) -> str:
    """👍 governs this / 👎 not relevant for one clause, and where the reply is shown."""
    clause = esc(clause_id)
    return (f'<span class="feedback"><button type="button" data-verdict="governs" '
            f'data-clause="{clause}" title="This clause governs the question">👍 governs this'
            f'</button> <button type="button" data-verdict="not_relevant" data-clause='
            f'"{clause}" title="This clause does not answer the question">👎 not relevant'
            '</button><span class="status"></span></span>')


def right_clause_html(*, input_id: str | None = None) -> str:
    """"The right clause is …": a citation or a clause id, sent as "governs"."""
    named = f' id="{esc(input_id)}"' if input_id else ""
    return (f'<span class="feedback right-clause">the right clause is <input type="text" '
            f'class="right"{named} maxlength="{MAX_CLAUSE_ID_CHARS}" placeholder='
            '"《证券法》第一百九十七条 or a clause id"> <button type="button" '
            'data-verdict="governs">send</button><span class="status"></span></span>')


# Sets up one delegated listener on ``root`` (the page, or a Gradio component's element).
# Data goes out as JSON and comes back as textContent, never markup. Also run by Gradio's
# js_on_load, so: no backticks and no dollar-brace.
SCRIPT = """
async function sendFeedback(button, question, clause) {
  const status = button.parentElement.querySelector('.status');
  status.className = 'status';
  status.textContent = ' …';
  let reply = null, body = {};
  try {
    reply = await fetch('/api/v1/feedback', {method: 'POST', credentials: 'same-origin',
      headers: {'Content-Type': 'application/json'},
      body: JSON.stringify({question: question, clause_id: clause,
                            verdict: button.dataset.verdict})});
    body = await reply.json();
  } catch (error) {
    body = {detail: 'not sent: ' + error};
  }
  const ok = reply !== null && reply.ok;
  status.className = ok ? 'status sent' : 'status err';
  status.textContent = ok ? ' SENT (#' + body.id + ')'
                          : ' ' + (body.detail || 'not sent (' + reply.status + ')');
}
root.addEventListener('click', (event) => {
  const button = event.target.closest('button[data-verdict]');
  const scope = button && button.closest('[data-question]');
  if (!scope || !root.contains(button)) return;
  const typed = button.parentElement.querySelector('input.right');
  const clause = button.dataset.clause || (typed ? typed.value.trim() : '');
  if (!clause) {
    const status = button.parentElement.querySelector('.status');
    status.className = 'status err';
    status.textContent = ' type a citation or a clause id first';
    return;
  }
  sendFeedback(button, scope.dataset.question, clause);
});
""".replace("SENT", SENT)


def script(root: str) -> str:
    """:data:`SCRIPT` listening on ``root`` (a JS expression: ``document``, ``element``)."""
    return f"const root = {root};\n{SCRIPT}"


CSS = """
.feedback { display: inline-flex; flex-wrap: wrap; align-items: center; gap: 4px; }
.feedback button { cursor: pointer; border: 1px solid #cbd5e1; border-radius: 6px;
  background: #fff; color: #1e293b; padding: 1px 8px; font-size: 0.8em; }
.feedback button:hover { background: #f1f5f9; }
.feedback input.right { min-width: 18em; font-size: 0.85em; padding: 2px 6px;
  border: 1px solid #cbd5e1; border-radius: 6px; }
.feedback .status { font-size: 0.8em; }
.feedback .status.sent { color: #065f46; }
.feedback .status.err { color: #991b1b; }
.right-clause { color: #475569; font-size: 0.9em; }
"""
