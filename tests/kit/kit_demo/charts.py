"""A figure builder for tests/kit/test_page_kit.py: counts its builds, so a test sees what the server computed."""

import pandas as pd
import plotly.graph_objects as go

BUILDS: list[int] = []


def square_chart(n: int) -> tuple[go.Figure, pd.DataFrame]:
    BUILDS.append(n)
    fig = go.Figure(go.Bar(x=[n], y=[n * n]))
    fig.update_layout(title=f"{n} squared", margin=dict(t=80))
    return fig, pd.DataFrame({"n": [n], "square": [n * n]})
