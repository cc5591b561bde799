"""Positional encodings tab: why attention needs them (it is permutation-equivariant) and the three
families: added vectors (sinusoidal, Vaswani et al. 2017), rotated q and k (RoPE, Su et al. 2021,
https://arxiv.org/abs/2104.09864) and a bias on the scores (ALiBi, Press et al. 2021,
https://arxiv.org/abs/2108.12409).
"""

import streamlit as st

from app.lessons.attention import positional_figures
from app.page import LessonPage

TITLE = "Positional encodings"


def render(page: LessonPage) -> None:
    st.markdown(
        "Attention alone is **permutation-equivariant**: shuffle the tokens and the outputs shuffle "
        "the same way, so the model cannot tell *the dog bit the man* from *the man bit the dog*. "
        "Positional encodings break the symmetry: added to the embeddings (sinusoidal, learned), "
        "rotating q and k (RoPE), or biasing the scores (ALiBi)."
    )
    p1, p2, p3, p4 = st.columns(4)
    n_positions = page.widget(p1.slider, "n_positions", "Positions", 8, 256, step=8, default=64)
    dim = page.widget(p2.slider, "dim", "Dimension d", 8, 256, step=8, default=64)
    base = page.widget(p3.select_slider, "base", "Base", [100, 1000, 10000, 100000], default=10000)
    alibi_heads = page.widget(p4.slider, "alibi_heads", "ALiBi heads", 1, 16, default=8)

    charts = positional_figures.positional_charts(n_positions, dim, float(base), alibi_heads)

    def chart(name: str) -> None:
        page.chart(*charts[name], name)

    st.subheader("Sinusoidal (Vaswani et al. 2017)")
    sin_left, sin_right = st.columns(2)
    with sin_left:
        st.caption(
            "Each position gets a fixed vector of sines and cosines; the left columns oscillate "
            "fast, the right ones slowly, like the digits of a clock."
        )
        chart("positional-sinusoidal")
    with sin_right:
        st.caption(
            "Nearby positions have similar vectors, distant ones less so: the dot product carries relative distance."
        )
        chart("positional-similarity")

    st.subheader("RoPE (Su et al. 2021)")
    st.caption(
        "RoPE splits q and k into pairs of dimensions and rotates each pair by an angle "
        "proportional to the position: the first pair spins fast, the last barely moves. Rotating "
        "both q and k makes q·k depend only on their distance. Below: where the vector (1, 0) of "
        "three pairs lands at positions 0, 1, 2, … (colour = position)."
    )
    chart("positional-rope-rotation")
    rope_left, rope_right = st.columns([3, 2])
    with rope_left:
        chart("positional-rope-decay")
    rope_right.markdown(
        "**Long-term decay.** The same q and k (all ones) score lower the further apart they "
        "sit, because the rotated pairs fall out of phase: RoPE quietly favours nearby tokens. "
        "A larger base slows the rotations and stretches the decay to longer distances."
    )

    st.subheader("ALiBi (Press et al. 2021)")
    st.caption(
        "No position vectors at all: each head adds −slope·|i − j| to its scores, a **recency "
        "bias**: steep heads look locally, gentle ones far. The slopes (in the titles) form a "
        "geometric sequence; one colour scale for all heads. "
        f"With a causal mask only the lower triangle is used. First {min(n_positions, 24)} "
        "positions shown."
    )
    a_left, a_right = st.columns([3, 1])
    with a_left:
        chart("positional-alibi")
    with a_right:
        chart("positional-alibi-slopes")
