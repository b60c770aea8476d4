"""Gradio's own routes under a hostile or careless client (issue 24): the only ways in are the
ones the product defines. Each case failed before its fix: a FileData path was read (or
copied, or stored in the library) before any handler ran, the chat's route took questions
of any size, a conversation belonged to whoever named its session hash, and Gradio's CORS,
recording and unknown-function routes answered as they liked. Real servers, copies of
tests/data/mini, hashing encoder."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from .test_api_writes import MARS, TOKEN, Server, writable

FILE = {"meta": {"_type": "gradio.FileData"}}
ARTICLE = "示范交易法%23art1"


def upload_folder() -> Path:
    from gradio.utils import get_upload_folder

    return Path(get_upload_folder())


def copies_of(data: bytes) -> list[Path]:
    """Files in Gradio's upload folder that hold exactly ``data``."""
    digest = hashlib.sha256(data).hexdigest()
    out = []
    for path in upload_folder().rglob("*"):
        try:
            if path.is_file() and path.stat().st_size == len(data) \
                    and hashlib.sha256(path.read_bytes()).hexdigest() == digest:
                out.append(path)
        except OSError:
            continue
    return out


def call(server: Server, name: str, data: list[Any], *, session: str = "mallory",
         timeout: float = 10) -> httpx.Response:
    return httpx.post(f"{server.url}gradio_api/call/{name}", json={"data": data},
                      cookies={"rag_session": session}, timeout=timeout)


def result_of(server: Server, name: str, reply: httpx.Response, *, session: str) -> str:
    """The data of a /gradio_api/call event's stream, decoded, as one text."""
    event = reply.json()["event_id"]
    with httpx.stream("GET", f"{server.url}gradio_api/call/{name}/{event}",
                      cookies={"rag_session": session}, timeout=60) as stream:
        text = "".join(stream.iter_text())
    return " ".join(json.dumps(json.loads(line[6:]), ensure_ascii=False)
                    for line in text.splitlines() if line.startswith("data: "))


def signed_in(server: Server, session: str) -> None:
    from gradio_client import Client

    chat = Client(server.url, verbose=False, headers={"Cookie": f"rag_session={session}"},
                  analytics_enabled=False)
    assert "Signed in" in str(chat.predict(TOKEN, api_name="/library_sign_in"))


def upload(server: Server, session: str, name: str, data: bytes) -> str:
    reply = httpx.post(server.url + "gradio_api/upload", files={"files": (name, data)},
                       cookies={"rag_session": session})
    assert reply.status_code == 200, reply.text
    [path] = reply.json()
    return str(path)


# ---------------------------------------------------------------- 1. paths read before the handler


@pytest.mark.parametrize("token", ["", TOKEN])
def test_a_server_path_as_file_data_is_refused_before_gradio_reads_it(
        tmp_path: Path, token: str) -> None:
    passwd = Path("/etc/passwd").read_bytes()
    before = set(copies_of(passwd))
    with writable(tmp_path) as server:
        if token:
            signed_in(server, "mallory")
        replies: dict[str, httpx.Response] = {}

        def attack(path: str) -> None:
            replies[path] = call(server, "library_add", [[{"path": path, **FILE}], token, "",
                                                         []])

        thread = threading.Thread(target=attack, args=("/dev/zero",), daemon=True)
        thread.start()
        started = time.monotonic()
        health = httpx.get(server.api + "/health", timeout=1)  # the server still answers
        assert health.status_code == 200 and time.monotonic() - started < 1
        thread.join(timeout=10)
        attack("/etc/passwd")
        for path in ("/dev/zero", "/etc/passwd"):
            reply = replies[path]
            assert reply.status_code == 403, (path, reply.text)
            assert reply.json()["error"] == "not an upload of this session"
            assert "a path on the server is never read" in reply.json()["detail"]
        # the page's own route (queue/join by fn_index) is guarded the same way
        config = httpx.get(server.url + "config").json()
        [add] = [d["id"] for d in config["dependencies"] if d.get("api_name") == "library_add"]
        joined = httpx.post(server.url + "gradio_api/queue/join", json={
            "fn_index": add, "session_hash": "x1", "data": [
                [{"path": "/etc/passwd", **FILE}], token, "", []]},
            cookies={"rag_session": "mallory"})
        assert joined.status_code == 403, joined.text
        time.sleep(0.5)
        assert set(copies_of(passwd)) == before  # no copy in Gradio's folder
        assert not server.library.exists() or not any(server.library.glob("*passwd*"))
        assert server.service.live.status().builds == 0
        assert httpx.get(server.api + "/documents/passwd").status_code == 404


def test_the_token_holder_adds_only_files_uploaded_in_this_session(tmp_path: Path) -> None:
    secret = tmp_path / "secret.md"
    secret.write_text("# 服务器私密文件\n\n第一条 服务器上的文件不得公开。\n", encoding="utf-8")
    with writable(tmp_path) as server:
        signed_in(server, "alice")
        signed_in(server, "mallory")
        # a file on the server's disk, with the token: refused, not stored, not deleted
        reply = call(server, "library_add", [[{"path": str(secret), **FILE}], TOKEN, "", []],
                     session="alice")
        assert reply.status_code == 403, reply.text
        assert secret.exists()
        # alice's upload cannot be claimed by another signed-in session
        mine = upload(server, "alice", MARS[0], MARS[1])
        stolen = call(server, "library_add", [[{"path": mine, **FILE}], TOKEN, "", []],
                      session="mallory")
        assert stolen.status_code == 403, stolen.text
        # alice's own upload goes in, once
        added = call(server, "library_add", [[{"path": mine, **FILE}], TOKEN, "", []],
                     session="alice")
        assert added.status_code == 200, added.text
        assert "火星矿产交易规定" in result_of(server, "library_add", added, session="alice")
        again = call(server, "library_add", [[{"path": mine, **FILE}], TOKEN, "", []],
                     session="alice")
        assert again.status_code == 403
        assert server.service.live.wait(timeout=60).state == "ready"
        assert sorted(p.name for p in server.library.iterdir() if p.is_file()) == [MARS[0]]
        assert httpx.get(server.api + "/documents/secret").status_code == 404


# ---------------------------------------------------------------- 4. the chat's size bound


def test_the_chat_route_takes_questions_of_the_api_size_only(tmp_path: Path) -> None:
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    with writable(tmp_path, admin=False) as server:
        long = "罚" * 2001
        reply = call(server, "ask", [long, None, [], [], "", 3, "", ""])
        assert reply.status_code == 400, reply.text
        assert reply.json()["error"] == "question too long"
        assert "at most 2,000 characters, as in POST /api/v1/ask" in reply.json()["detail"]
        api = httpx.post(server.api + "/ask", json={"question": long})
        assert api.status_code == 400 and "2000" in api.json()["detail"]
        huge = b'{"data": ["' + b"x" * (50 << 20) + b'"]}'
        started = time.monotonic()
        refused = httpx.post(server.url + "gradio_api/call/ask", content=huge,
                             headers={"content-type": "application/json"}, timeout=30)
        assert refused.status_code == 413 and time.monotonic() - started < 10
        chat = Client(server.url, verbose=False, analytics_enabled=False)
        with pytest.raises((AppError, ValueError, httpx.HTTPError)):
            chat.predict(question=long, doc_ids=[], kinds=[], as_of="", top=3,
                         date_from="", date_to="", api_name="/ask")
        ok = chat.predict(question="罚" * 2000, doc_ids=[], kinds=[], as_of="", top=3,
                          date_from="", date_to="", api_name="/ask")
        assert "turn" in str(ok[0])


# ---------------------------------------------------------------- 8. sessions and CORS


def test_a_conversation_belongs_to_the_cookie_not_the_session_hash(tmp_path: Path) -> None:
    from gradio_client import Client

    with writable(tmp_path, admin=False) as server:
        alice = Client(server.url, verbose=False, headers={"Cookie": "rag_session=alice"},
                       analytics_enabled=False)
        alice.predict(question="内幕交易罚款", doc_ids=[], kinds=[], as_of="", top=3,
                      date_from="", date_to="", api_name="/ask")
        mallory = Client(server.url, verbose=False, headers={"Cookie": "rag_session=mallory"},
                         analytics_enabled=False)
        mallory.session_hash = alice.session_hash  # learnt from a queue URL
        assert "/memo/" not in str(mallory.predict(api_name="/export"))
        assert "/memo/" in str(alice.predict(api_name="/export"))


@pytest.mark.parametrize("path", ["gradio_api/queue/join", "gradio_api/upload",
                                  "memo/0123456789abcdef0123456789abcdef/a.md", "config"])
def test_no_cross_origin_preflight_is_answered_with_credentials(tmp_path: Path,
                                                                path: str) -> None:
    with writable(tmp_path / "s") as server:
        for origin in ("http://localhost:9999", "http://127.0.0.1:1", "null"):
            reply = httpx.options(server.url + path, headers={
                "Origin": origin, "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type"})
            assert "access-control-allow-origin" not in reply.headers, (origin, reply.headers)
            assert "access-control-allow-credentials" not in reply.headers
            simple = httpx.get(server.url + path, headers={"Origin": origin})
            assert "access-control-allow-credentials" not in simple.headers


# ---------------------------------------------------------------- low: Gradio's other routes


def test_gradio_routes_the_pages_do_not_use_are_closed(tmp_path: Path) -> None:
    with writable(tmp_path) as server:
        recording = httpx.post(server.url + "gradio_api/process_recording",
                               files={"data": ("a.wav", b"\x00" * (1 << 20))})
        assert recording.status_code == 404 and recording.json()["error"] == "no such endpoint"
        for method, path in (("POST", "gradio_api/run/ask"), ("POST", "gradio_api/api/ask"),
                             ("GET", "gradio_api/file=/etc/passwd"),
                             ("POST", "gradio_api/component_server"),
                             ("GET", "gradio_api/runs"), ("POST", "gradio_api/reset"),
                             ("GET", "gradio_api/monitoring")):
            reply = httpx.request(method, server.url + path, json={"data": []})
            assert reply.status_code == 404, (path, reply.status_code)
            assert reply.json()["error"] == "no such endpoint"
        unknown = httpx.post(server.url + "gradio_api/queue/join", json={
            "fn_index": 9999, "session_hash": "x", "data": []})
        assert unknown.status_code == 404 and unknown.json()["error"] == "no such function"
        for bad in ({"fn_index": "x", "session_hash": "x", "data": []}, [1, 2], "{"):
            reply = httpx.post(server.url + "gradio_api/queue/join",
                               content=json.dumps(bad) if bad != "{" else bad)
            assert reply.status_code in (400, 404) and "error" in reply.json()
        nameless = call(server, "no_such_function", [])
        assert nameless.status_code == 404 and "error" in nameless.json()
        # what the pages use still works
        assert httpx.get(server.url).status_code == 200
        assert httpx.get(server.url + "library").status_code == 200
        assert httpx.get(server.api + "/health").status_code == 200


# ---------------------------------------------------------------- 7. dates the calendar lacks


@pytest.mark.parametrize("day", ["2020-13-45", "2021-02-29"])
def test_an_impossible_as_of_date_is_a_400_on_every_route(tmp_path: Path, day: str) -> None:
    with writable(tmp_path, admin=False) as server:
        for reply in (
            httpx.get(f"{server.api}/clauses/{ARTICLE}", params={"as_of": day}),
            httpx.get(f"{server.api}/documents", params={"as_of": day}),
            httpx.post(f"{server.api}/ask", json={"question": "罚款",
                                                  "filters": {"as_of": day}}),
        ):
            assert reply.status_code == 400, (reply.request.url, reply.text)
            body = reply.json()
            assert set(body) == {"error", "detail"} and day in body["detail"]
        assert httpx.get(f"{server.api}/clauses/{ARTICLE}").status_code == 200


def test_an_upload_past_the_limit_is_cut_off_even_without_a_length(tmp_path: Path) -> None:
    with writable(tmp_path) as server:  # the library takes files up to 1 MB
        signed_in(server, "alice")
        boundary = b"xyzzy"

        def body():  # type: ignore[no-untyped-def]
            yield (b"--" + boundary + b'\r\nContent-Disposition: form-data; name="files"; '
                   b'filename="big.md"\r\nContent-Type: text/markdown\r\n\r\n')
            for _ in range(40):  # 10 MB, streamed without a Content-Length
                yield b"x" * (256 * 1024)
            yield b"\r\n--" + boundary + b"--\r\n"

        reply = httpx.post(server.url + "gradio_api/upload", content=body(),
                           headers={"content-type": "multipart/form-data; boundary=xyzzy"},
                           cookies={"rag_session": "alice"}, timeout=60)
        assert reply.status_code == 413, reply.text
        assert httpx.get(server.api + "/health").status_code == 200
