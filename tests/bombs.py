"""Small files that cost a careless reader a lot: a PDF with a poster-sized page, a .docx
whose ``document.xml`` unpacks to many megabytes."""

from __future__ import annotations

import zipfile
from pathlib import Path

from .makedocs import make_docx

PARAGRAPH = ("<w:p><w:r><w:t>第一条 这是一段很长的测试文字，用来检查读取器的时间和内存。"
             "</w:t></w:r></w:p>")


def big_page_pdf(path: Path, *, side: float = 14400) -> Path:
    """A PDF of a few hundred bytes: one ``side`` × ``side`` pt page (14,400 pt is the
    largest PDF allows), no text layer, a 1 × 1 grey image stretched over it."""
    content = f"q {side} 0 0 {side} 0 0 cm /Im1 Do Q".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {side} {side}] /Resources "
        f"<< /XObject << /Im1 5 0 R >> >> /Contents 4 0 R >>".encode(),
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /XObject /Subtype /Image /Width 1 /Height 1 /ColorSpace /DeviceGray "
        b"/BitsPerComponent 8 /Length 1 >>\nstream\n\x80\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    path.write_bytes(bytes(out))
    return path


def inflated_docx(path: Path, *, megabytes: float) -> Path:
    """A .docx (Word numbering and styles included) whose document.xml holds about
    ``megabytes`` MB of short paragraphs; it compresses to a few hundred KB at most."""
    base = make_docx(path.with_suffix(".base.docx"),
                     [("title", "测试"), ("article", "第一段。"), ("item", "一项")])
    count = int(megabytes * 2**20 / len(PARAGRAPH.encode()))
    with zipfile.ZipFile(base) as source, \
            zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "word/document.xml":
                text = data.decode("utf-8")
                body = text.index("<w:body>") + len("<w:body>")
                data = (text[:body] + PARAGRAPH * count + text[body:]).encode("utf-8")
            target.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    base.unlink()
    return path
