"""The chat's /ask endpoint over HTTP (no browser): filters reach answer()."""

from __future__ import annotations

import socket

import pytest


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def client(shipped_index, hashing_encoder):  # type: ignore[no-untyped-def]
    from gradio_client import Client

    from ui.app import build_app

    demo = build_app(index=shipped_index, encoder=hashing_encoder)
    port = _free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True,
                ssr_mode=False, quiet=True)
    try:
        yield Client(f"http://127.0.0.1:{port}/", verbose=False)
    finally:
        demo.close()


def ask(client, question: str, **filters: object) -> str:  # type: ignore[no-untyped-def]
    inputs = {"question": question, "doc_ids": [], "kinds": [], "as_of": "", "top": 10,
              "date_from": "", "date_to": ""}
    inputs.update(filters)
    transcript, *_ = client.predict(**inputs, api_name="/ask")
    return str(transcript)


def test_date_range_filter_limits_the_cited_documents(client) -> None:  # type: ignore[no-untyped-def]
    page = ask(client, "打击证券违法活动", date_from="2022-01-01", date_to="2022-12-31")
    assert "2022" in page
    assert "2019-12-28" not in page  # the 2019 Securities Law is outside the range
    unfiltered = ask(client, "打击证券违法活动")
    assert unfiltered != page


def test_bad_dates_are_refused_with_a_clear_message(client) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Exception, match="not a date like"):
        ask(client, "内幕交易", date_from="2022-13-45")
    with pytest.raises(Exception, match="is after"):
        ask(client, "内幕交易", date_from="2023-01-01", date_to="2022-01-01")
