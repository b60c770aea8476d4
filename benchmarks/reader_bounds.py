"""Readers' bounds against the unbounded way, in one run: a poster-sized scanned PDF page
(read now vs rendered at 144 dpi as before) and Word's style pass (styles resolved once
vs python-docx's per-paragraph look-up), each in a fresh process for its peak RSS.

    .venv/bin/python -m benchmarks.reader_bounds [--megabytes 1]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r"""
import json, sys, time
def peak_mb():  # this process's own high-water mark (ru_maxrss would carry the parent's
    # from before exec)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
from pathlib import Path
what, path = sys.argv[1], Path(sys.argv[2])
started = time.perf_counter()
if what == "pdf-now":
    from rag.readers import DocumentError, read_file
    try:
        read_file(path)
    except DocumentError:
        pass
elif what == "pdf-before":  # the page rendered at the OCR scale, as the reader used to
    import pypdfium2 as pdfium
    from rag.readers._pdf import OCR_SCALE
    pdf = pdfium.PdfDocument(str(path))
    pdf[0].render(scale=OCR_SCALE, grayscale=True).to_pil()
elif what == "docx-now":
    from rag.readers import read_file
    read_file(path)
elif what == "docx-before":  # the style of every paragraph looked up through python-docx
    import docx
    document = docx.Document(str(path))
    for paragraph in document.paragraphs:
        paragraph.style
print(json.dumps({"seconds": time.perf_counter() - started,
                  "rss_mb": peak_mb()}))
"""


def measure(what: str, path: Path) -> dict[str, float]:
    done = subprocess.run([sys.executable, "-c", CHILD, what, str(path)], capture_output=True,
                          text=True, check=True, timeout=600)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    from tests.bombs import big_page_pdf, inflated_docx

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--megabytes", type=float, default=1.0,
                        help="size of the Word document.xml (default 1 MB)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="reader-bounds-"))
    pdf = big_page_pdf(folder / "poster.pdf")
    word = inflated_docx(folder / "long.docx", megabytes=args.megabytes)
    rows = [("poster PDF page (14,400 pt)", "pdf", pdf),
            (f"Word, {args.megabytes:g} MB document.xml", "docx", word)]
    print(f"{'case':34} {'before s':>9} {'now s':>7} {'ratio':>6} "
          f"{'before MB':>10} {'now MB':>7}")
    for label, kind, path in rows:
        before, now = measure(f"{kind}-before", path), measure(f"{kind}-now", path)
        print(f"{label:34} {before['seconds']:9.2f} {now['seconds']:7.2f} "
              f"{before['seconds'] / max(now['seconds'], 1e-3):5.0f}x "
              f"{before['rss_mb']:10.0f} {now['rss_mb']:7.0f}")


if __name__ == "__main__":
    main()
