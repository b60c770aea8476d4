"""``rag eval``'s report: metrics, each channel alone, the misses, a rank chart.

Markdown (the chart a PNG file beside it) or HTML (the chart embedded as base64). Every
text from the questions file is escaped: nothing in it is rendered as markup.
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

from rag.evaluate.metrics import COLUMNS, Key
from rag.evaluate.run import DEPTH, Evaluation, Outcome

BUCKETS = ("1", "2–5", "6–10", "11–100", f"> {DEPTH} / none")


def bucket(rank: int | None) -> int:
    if rank is None or rank > DEPTH:
        return 4
    return 0 if rank == 1 else 1 if rank <= 5 else 2 if rank <= 10 else 3


def chart_png(result: Evaluation) -> bytes:
    """A bar chart of where each question's first gold article ranked (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    counts = [0] * len(BUCKETS)
    for outcome in result.outcomes:
        counts[bucket(outcome.rank)] += 1
    figure, axes = pyplot.subplots(figsize=(6, 3), dpi=100)
    bars = axes.bar(BUCKETS, counts, color=["#2f7d32", "#7cb342", "#c0ca33", "#fb8c00",
                                            "#c62828"])
    axes.bar_label(bars)
    axes.set_xlabel("rank of the first gold article")
    axes.set_ylabel("questions")
    axes.set_title(f"{len(result.outcomes)} labelled questions")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    pyplot.close(figure)
    return buffer.getvalue()


def _key(key: Key) -> str:
    return f"{key[0]} {key[1]}"


def _rank(rank: int | None) -> str:
    return "—" if rank is None else str(rank)


def _tables(result: Evaluation) -> tuple[list[str], list[list[str]], list[str],
                                         list[list[str]]]:
    overall = result.overall()
    head = ["", *COLUMNS]
    rows = [["overall (as answered)", *(f"{overall[c]:.3f}" for c in COLUMNS)]]
    for channel, row in result.per_channel().items():
        rows.append([f"{channel} alone", *(f"{row[c]:.3f}" for c in COLUMNS)])
    channels = list(result.channel_scores)
    miss_head = ["line", "question", "gold", "rank", *channels, "returned first"]
    misses = [[str(o.line), o.question, "; ".join(_key(g) for g in o.gold), _rank(o.rank),
               *(_rank(o.channel_ranks.get(c)) for c in channels),
               _key(o.top[0]) if o.top else "—"] for o in result.misses()]
    return head, rows, miss_head, misses


def markdown(result: Evaluation, *, title: str, chart: str | None) -> str:
    head, rows, miss_head, misses = _tables(result)

    def cell(text: str) -> str:
        return html.escape(text).replace("|", "\\|").replace("\n", " ")

    def table(header: list[str], body: list[list[str]]) -> list[str]:
        return (["| " + " | ".join(cell(h) for h in header) + " |",
                 "|" + "---|" * len(header)]
                + ["| " + " | ".join(cell(c) for c in r) + " |" for r in body])

    out = [f"# {cell(title)}", "",
           f"{len(result.outcomes)} questions; question memory: {result.memory_pairs} "
           "confirmed pairs; scores are article-level.", "", *table(head, rows), ""]
    if chart:
        out += [f"![rank of the first gold article]({chart})", ""]
    out += [f"## Misses: first gold article not in the top 10 ({len(misses)})", "",
            *table(miss_head, misses), ""]
    if result.problems:
        out += ["## Not scored", "", *(f"- {cell(p)}" for p in result.problems), ""]
    return "\n".join(out)


def html_report(result: Evaluation, *, title: str, png: bytes) -> str:
    head, rows, miss_head, misses = _tables(result)

    def table(header: list[str], body: list[list[str]]) -> str:
        top = "".join(f"<th>{html.escape(h)}</th>" for h in header)
        lines = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>"
                        for r in body)
        return f"<table><thead><tr>{top}</tr></thead><tbody>{lines}</tbody></table>"

    image = base64.b64encode(png).decode("ascii")
    problems = "".join(f"<li>{html.escape(p)}</li>" for p in result.problems)
    return (
        "<!doctype html><html lang=\"zh\"><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(title)}</title><style>body{{font-family:sans-serif;"
        "margin:2em}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;"
        "padding:.25em .5em;text-align:left}}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><p>{len(result.outcomes)} questions; question "
        f"memory: {result.memory_pairs} confirmed pairs; scores are article-level.</p>"
        f"{table(head, rows)}"
        f"<p><img alt=\"rank of the first gold article\" "
        f"src=\"data:image/png;base64,{image}\"></p>"
        f"<h2>Misses: first gold article not in the top 10 ({len(misses)})</h2>"
        f"{table(miss_head, misses)}"
        + (f"<h2>Not scored</h2><ul>{problems}</ul>" if problems else "")
        + "</body></html>\n")


def write_report(result: Evaluation, out: Path | None, *, title: str) -> str:
    """The report for ``out`` (.md, .html; None: Markdown for the terminal, no chart);
    written there when given. Returns what was written."""
    if out is None:
        return markdown(result, title=title, chart=None)
    suffix = out.suffix.lower()
    if suffix not in (".md", ".html", ".htm"):
        raise ValueError(f"{out}: the report is .md or .html, not {out.suffix or 'no suffix'}")
    png = chart_png(result)
    if suffix == ".md":
        chart = out.with_suffix(".png")
        chart.write_bytes(png)
        text = markdown(result, title=title, chart=chart.name)
    else:
        text = html_report(result, title=title, png=png)
    out.write_text(text, encoding="utf-8")
    return text


__all__ = ["Outcome", "chart_png", "html_report", "markdown", "write_report"]
