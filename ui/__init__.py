"""The web chat (Gradio) over rag.answer."""
