"""The shipped corpus, installed as package data (``rag.shipped``): documents, not code."""
