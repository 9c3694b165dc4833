"""The Streamlit chat (``ui/app.py``): pages over ``assistant`` and ``ingest``, no logic of their own."""
