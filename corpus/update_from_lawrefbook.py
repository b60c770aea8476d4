"""Copy the shipped statutes from a LawRefBook checkout into corpus/lawrefbook/.

    python corpus/update_from_lawrefbook.py [../shared/corpora/lawrefbook]

Copies the files listed in SHIPPED (every version LawRefBook has of the shipped laws:
公司法 2018 and 2023, 反洗钱法 2006 and 2024; the others have one), keeping their category
folders so the reader's folder-based kind inference still works, and writes a trimmed
``db.sqlite3`` holding only their rows of the ``law`` and ``category`` tables, so status
(in force / repealed) and effective dates come along. Re-running it is idempotent.
"""

from __future__ import annotations

import shutil
import sqlite3
import sys
from pathlib import Path

SHIPPED = (
    "民法商法/证券法(2019-12-28).md",
    "刑法/刑法.md",
    "民法商法/公司法(2023-12-29).md",
    # earlier versions of shipped laws, for comparing versions (rag diff, rag changes)
    "民法商法/公司法(2018-10-26).md",
    "经济法/反洗钱法(2006-10-31).md",
    "经济法/期货和衍生品法(2022-04-20).md",
    "民法商法/证券投资基金法(2015-04-24).md",
    "经济法/反洗钱法(2024-11-08).md",
    "行政法规/证券公司监督管理条例(2014-07-29).md",
    "行政法规/私募投资基金监督管理条例(2023-07-03).md",
    "行政法规/期货交易管理条例(2017-03-01).md",
    "行政法规/防范和处置非法集资条例(2021-01-26).md",
    "行政法规/证券期货行政执法当事人承诺制度实施办法(2021-10-26).md",
    "司法解释/最高人民法院关于审理证券市场虚假陈述侵权民事赔偿案件的若干规定(2022-01-21).md",
    "司法解释/最高人民法院、最高人民检察院关于办理内幕交易、泄露内幕信息刑事案件具体应用法律若干问题的解释(2012-03-29).md",
    "司法解释/最高人民法院 最高人民检察院关于办理操纵证券、期货市场刑事案件适用法律若干问题的解释(2019-06-27).md",  # noqa: E501
    "司法解释/最高人民法院关于证券纠纷代表人诉讼若干问题的规定(2020-07-30).md",
)

HERE = Path(__file__).resolve().parent


def law_name(relpath: str) -> str:
    stem = Path(relpath).stem
    return stem.split("(")[0]


def copy_files(source: Path, target: Path) -> None:
    for rel in SHIPPED:
        src = source / rel
        if not src.is_file():
            raise SystemExit(f"{src}: not found; is {source} a LawRefBook checkout?")
        dst = target / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)


def trim_db(source_db: Path, target_db: Path) -> int:
    names = sorted({law_name(rel) for rel in SHIPPED})
    target_db.unlink(missing_ok=True)
    with sqlite3.connect(f"file:{source_db}?mode=ro", uri=True) as src, \
            sqlite3.connect(target_db) as dst:
        for (sql,) in src.execute(
            "select sql from sqlite_master where type in ('table', 'index') and sql is not null"
        ):
            dst.execute(sql)
        marks = ",".join("?" * len(names))
        rows = src.execute(f"select * from law where name in ({marks})", names).fetchall()
        width = len(rows[0]) if rows else 0
        dst.executemany(f"insert into law values ({','.join('?' * width)})", rows)
        cats = src.execute("select * from category").fetchall()
        dst.executemany(f"insert into category values ({','.join('?' * len(cats[0]))})", cats)
    return len(rows)


def main(argv: list[str]) -> int:
    source = Path(argv[1]) if len(argv) > 1 else HERE.parent.parent / "shared/corpora/lawrefbook"
    target = HERE / "lawrefbook"
    copy_files(source, target)
    count = trim_db(source / "db.sqlite3", target / "db.sqlite3")
    print(f"copied {len(SHIPPED)} files and {count} metadata rows into {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
