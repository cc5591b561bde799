"""The house style of every chart (app/lecture.py): axes a room can read."""

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from app.lecture import style_figure


def test_log_axes_over_decades_are_labelled_at_powers_of_ten_and_small_numbers_get_exponents():
    fig = make_subplots(rows=1, cols=2)
    fig.add_scatter(x=[1, 10, 100, 1000], y=[1e-7, 2e-6, 3e-6, 1e-6], row=1, col=1)  # an error axis
    fig.add_scatter(x=[1, 2, 3], y=[8, 20, 30], row=1, col=2)  # a log axis over less than a decade
    fig.update_xaxes(type="log")
    fig.update_yaxes(type="log", row=1, col=2)
    style_figure(fig, presenter=False)
    assert fig.layout.xaxis.dtick == 1, "three decades: 1, 10, 100, 1000 only"
    assert fig.layout.xaxis2.dtick is None, "under a decade and a half: plotly's 2-3-5 labels are all there is"
    assert fig.layout.yaxis.exponentformat == "power", "2×10⁻⁶, not 2µ"
    assert fig.layout.yaxis2.exponentformat is None


def test_an_axis_the_builder_formatted_is_left_alone():
    fig = go.Figure(go.Scatter(x=[1, 1000], y=[1e-6, 2e-6]))
    fig.update_xaxes(type="log", tickvals=[1, 30, 1000])
    fig.update_yaxes(tickformat=".1e")
    style_figure(fig, presenter=False)
    assert fig.layout.xaxis.dtick is None and fig.layout.yaxis.exponentformat is None
