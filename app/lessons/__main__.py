"""python -m app.lessons new <slug> --title "..." --lecture N (see app/lessons/scaffold.py)."""

import sys

from app.lessons.scaffold import main

sys.exit(main())
