"""Exports: answers as terminal text, batch records, and Markdown or Word memos."""
