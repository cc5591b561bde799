"""NLP Playground: the entry script. Run with `streamlit run streamlit_app.py`."""

from app.shell import run_app

run_app()
