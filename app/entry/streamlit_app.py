"""NLP Playground: the entry script. Run from the repository root with `streamlit run app/entry/streamlit_app.py`.

It lives here, not beside `pages/`: Streamlit switches to its old automatic pages mode for an entry script that has a
`pages/` folder next to it, and this app builds its own sectioned navigation (app/navigation.py) from the lessons'
registry instead. Streamlit puts this folder on `sys.path`, not the repository root that `app` and `models` are in.
"""

import sys
from pathlib import Path

ROOT = str(Path(__file__).resolve().parents[2])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from app.shell import run_app  # noqa: E402 - after the repository root is on the path

run_app()
