"""The chat's /ask endpoint over HTTP (no browser): filters reach answer()."""

from __future__ import annotations

import html
import re

import pytest

from .chat import running_chat


@pytest.fixture(scope="module")
def client(shipped_index, hashing_encoder, tmp_path_factory):  # type: ignore[no-untyped-def]
    from gradio_client import Client

    with running_chat(shipped_index, hashing_encoder,
                      memo_root=tmp_path_factory.mktemp("memos")) as url:
        yield Client(url, verbose=False)


def ask(client, question: str, **filters: object) -> str:  # type: ignore[no-untyped-def]
    inputs = {"question": question, "doc_ids": [], "kinds": [], "as_of": "", "top": 10,
              "date_from": "", "date_to": ""}
    inputs.update(filters)
    transcript, *_ = client.predict(**inputs, api_name="/ask")
    return str(transcript)


def cited_documents(page: str, index) -> set[str]:  # type: ignore[no-untyped-def]
    clause_ids = re.findall(r'data-clause="([^"]+)"', page)
    return {index.clauses[index.row_of[html.unescape(c)]].doc_id for c in clause_ids}


def test_date_range_filter_limits_the_cited_documents(client, shipped_index) -> None:  # type: ignore[no-untyped-def]
    in_range = {d.doc_id for d in shipped_index.documents.values()
                if "2022-01-01" <= (d.version or d.date or "") <= "2022-12-31"}
    page = ask(client, "打击证券违法活动", date_from="2022-01-01", date_to="2022-12-31")
    cited = cited_documents(page, shipped_index)
    assert cited and cited <= in_range
    unfiltered = cited_documents(ask(client, "打击证券违法活动"), shipped_index)
    assert unfiltered - in_range  # without the filter, documents outside the range answer


def test_bad_dates_are_refused_with_a_clear_message(client) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Exception, match="not a date like"):
        ask(client, "内幕交易", date_from="2022-13-45")
    with pytest.raises(Exception, match="is after"):
        ask(client, "内幕交易", date_from="2023-01-01", date_to="2022-01-01")
