"""PDF reading speed: pages/s for text PDFs and for OCR, each against a baseline, same run.

    python benchmarks/pdf_pages.py                 # ~200 text pages, 3 scanned pages
    python benchmarks/pdf_pages.py --ocr-pages 5

Text PDFs: the shipped 刑法 and 公司法 typeset by tests/makedocs.py (justified, running
header, page numbers). Baseline: PDFium's plain per-page text extraction (what a reader
without layout work gets); ours: :func:`rag.readers.read_document` (characters with
positions, columns, header/footer removal, joined lines and pages, page map).

Scanned pages: the first pages of that PDF rasterised at 150 dpi. Baseline: RapidOCR on
the same page images (rendered as our reader renders them), no layout; ours: reading the
scanned PDF with an empty OCR cache, then again with the cache filled (a re-index).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from rag.readers import Ocr, read_document  # noqa: E402
from rag.readers._pdf import OCR_SCALE  # noqa: E402
from tests.makedocs import Heading, make_pdf, rasterise, statute_items  # noqa: E402

STATUTES = ("刑法/刑法.md", "民法商法/公司法(2023-12-29).md")


def typeset(folder: Path) -> tuple[Path, list[str]]:
    """The statutes as one PDF, and the lines a perfect reader gives back."""
    items: list[str | Heading] = []
    lines: list[str] = []
    for name in STATUTES:
        doc = read_document(REPO / "corpus" / "lawrefbook" / name)
        body = doc.text[int(doc.extra.get("body_start", 0)):]
        items += [Heading(doc.title, 16),
                  *statute_items(body, [h.text for h in doc.headings], slice(None))]
        lines += [doc.title, *body.split("\n")]
    pdf = make_pdf(folder / "statutes.pdf", items, title="法律汇编", header="法律汇编")
    return pdf, lines


def pages_of(path: Path) -> int:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path))
    try:
        return len(pdf)
    finally:
        pdf.close()


def plain_extraction(path: Path) -> int:
    """Baseline: PDFium's own text of every page, nothing else."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path))
    chars = 0
    try:
        for index in range(len(pdf)):
            page = pdf[index]
            textpage = page.get_textpage()
            chars += len(textpage.get_text_range())
            textpage.close()
            page.close()
    finally:
        pdf.close()
    return chars


def raw_ocr(path: Path) -> int:
    """Baseline: RapidOCR on each page image, as our reader renders it; no layout."""
    import numpy as np
    import pypdfium2 as pdfium
    from rapidocr_onnxruntime import RapidOCR

    engine = RapidOCR()
    pdf = pdfium.PdfDocument(str(path))
    boxes = 0
    try:
        for index in range(len(pdf)):
            image = pdf[index].render(scale=OCR_SCALE, grayscale=True).to_pil()
            found, _ = engine(np.asarray(image.convert("L")))
            boxes += len(found or [])
    finally:
        pdf.close()
    return boxes


def timed(label: str, pages: int, call, *, repeat: int = 1) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - started)
    rate = pages / best
    print(f"{label:<42} {pages:>4} pages {best:7.2f} s {rate:9.3g} pages/s "
          f"{best / pages:7.3g} s/page")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ocr-pages", type=int, default=3, help="scanned pages to OCR")
    parser.add_argument("--repeat", type=int, default=3, help="text runs (best is kept)")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores\n")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        text_pdf, expected = typeset(folder)
        n = pages_of(text_pdf)
        got = read_document(text_pdf).text.split("\n")
        same = sum(a == b for a, b in zip(got, expected, strict=False))
        print(f"text PDF: {n} pages typeset from {', '.join(STATUTES)}; read back "
              f"{same} of {len(expected)} lines exactly ({len(got)} lines read)\n")
        base = timed("baseline: PDFium plain text per page", n,
                     lambda: plain_extraction(text_pdf), repeat=args.repeat)
        ours = timed("ours: read_document (layout, page map)", n,
                      lambda: read_document(text_pdf), repeat=args.repeat)
        print(f"{'':<42} ours/baseline = {ours / base:.2f}\n")

        k = min(args.ocr_pages, n)
        first = folder / "first.pdf"
        import pypdfium2 as pdfium

        src = pdfium.PdfDocument(str(text_pdf))
        out = pdfium.PdfDocument.new()
        out.import_pages(src, list(range(k)))
        out.save(str(first))
        scanned = rasterise(first, folder / "scanned.pdf", pages=set(range(1, k + 1)))
        base = timed("baseline: RapidOCR on the page images", k, lambda: raw_ocr(scanned))
        cache = folder / "ocr-cache"
        ours = timed("ours: read_document, empty OCR cache", k,
                     lambda: read_document(scanned, ocr=Ocr(cache_dir=cache)))
        again = timed("ours: read_document, OCR cache filled", k,
                      lambda: read_document(scanned, ocr=Ocr(cache_dir=cache)))
        print(f"{'':<42} ours/baseline = {ours / base:.2f}, cached/baseline = "
              f"{again / base:.0f}")


if __name__ == "__main__":
    main()
