"""Pure plotly figures and tables of the pre-training lesson (no Streamlit): testable alone."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

NAMES = {"clm": "causal LM", "mlm": "masked LM", "electra": "ELECTRA"}
COLORS = {"clm": "#1f77b4", "mlm": "#d62728", "electra": "#2ca02c"}
FATE_COLORS = {"not chosen": "#eeeeee", "[MASK]": "#d62728", "random token": "#ff7f0e", "kept unchanged": "#2ca02c"}


def shown(ch: str) -> str:
    return {" ": "␣", "\n": "⏎"}.get(ch, ch)


def context_bars(rows: list[dict]) -> tuple[go.Figure, pd.DataFrame]:
    """[{"context", "side", "accuracy"}] -> bars: blanks filled by counting, per context."""
    frame = pd.DataFrame(rows)
    colors = ["#1f77b4" if side == "left only" else "#d62728" for side in frame["side"]]
    fig = go.Figure(
        go.Bar(
            x=frame["context"],
            y=frame["accuracy"],
            marker_color=colors,
            text=[f"{a:.0%}" for a in frame["accuracy"]],
            textposition="outside",
        )
    )
    fig.update_yaxes(range=[0, 1], tickformat=".0%", title="held-out blanks filled")
    fig.update_layout(
        title="What the context allows: blanks filled by counting the training text (blue: left only, red: both)",
        height=360,
    )
    return fig, frame


def attention_masks(length: int, patterns: dict[str, np.ndarray]) -> go.Figure:
    """{objective: (T, T)} -> one heatmap each: which keys (x) each query (y) may attend to."""
    names = list(patterns)
    titles = [f"{NAMES[n]}: {'causal triangle' if n == 'clm' else 'full'}" for n in names]
    fig = make_subplots(1, len(names), subplot_titles=titles, horizontal_spacing=0.05)
    for col, name in enumerate(names, start=1):
        fig.add_heatmap(
            z=patterns[name],
            colorscale=[[0, "#ffffff"], [1, COLORS[name]]],
            showscale=False,
            zmin=0,
            zmax=1,
            hovertemplate="query %{y} → key %{x}: %{z}<extra></extra>",
            row=1,
            col=col,
        )
        fig.update_yaxes(autorange="reversed", row=1, col=col)
    fig.update_xaxes(title_text="key position")
    fig.update_yaxes(title_text="query position", col=1)
    fig.update_layout(title=f"The attention mask each model trains with ({length} positions)", height=330)
    return fig


def loss_tokens(text: str, carries: dict[str, list[bool]]) -> tuple[go.Figure, pd.DataFrame]:
    """{objective: (T,) bool} -> one row per objective, each character coloured when it carries a loss."""
    names = list(carries)
    z = np.array([[1.0 if c else 0.0 for c in carries[n]] for n in names])
    chars = [shown(ch) for ch in text]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=list(range(len(text))),
            y=[f"{NAMES[n]} ({np.mean(carries[n]):.0%})" for n in names],
            colorscale=[[0, "#f4f4f4"], [1, "#d62728"]],
            showscale=False,
            text=[chars] * len(names),
            texttemplate="%{text}",
            hovertemplate="%{y}<br>'%{text}': loss %{z}<extra></extra>",
        )
    )
    fig.update_xaxes(showticklabels=False)
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(title="The tokens that carry a loss (red) in one training window", height=230)
    rows = [
        {"objective": n, "position": i, "char": ch, "loss": bool(c)}
        for n in names
        for i, (ch, c) in enumerate(zip(text, carries[n]))
    ]
    return fig, pd.DataFrame(rows)


def curves(history: pd.DataFrame, metric: str, x: str, title: str, y_title: str) -> go.Figure:
    """One line per objective of '<objective>.<metric>' against '<objective>.<x>' (or the step)."""
    fig = go.Figure()
    for name in NAMES:
        key = f"{name}.{metric}"
        if key not in history:
            continue
        xs = history[f"{name}.{x}"] if f"{name}.{x}" in history else history.get(x, history.index)
        fig.add_scatter(x=xs, y=history[key], mode="lines+markers", name=NAMES[name], line_color=COLORS[name])
    fig.update_layout(title=title, xaxis_title=x.replace("_", " "), yaxis_title=y_title, height=330)
    fig.update_layout(legend=dict(orientation="h", y=-0.3))
    return fig


def fate_sentence(text: str, fates: list[str], inputs: str) -> go.Figure:
    """The sentence as written (top) and as the model reads it (bottom), each character coloured by its fate."""
    order = list(FATE_COLORS)
    codes = [order.index(f) for f in fates]
    scale = [[i / (len(order) - 1), FATE_COLORS[f]] for i, f in enumerate(order)]
    fig = go.Figure(
        go.Heatmap(
            z=[codes, codes],
            y=["original", "model reads"],
            text=[[shown(c) for c in text], [shown(c) for c in inputs]],
            texttemplate="%{text}",
            customdata=[fates, fates],
            colorscale=scale,
            zmin=0,
            zmax=len(order) - 1,
            showscale=False,
            hovertemplate="'%{text}': %{customdata}<extra></extra>",
        )
    )
    fig.update_xaxes(showticklabels=False)
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(
        title="BERT's draw: grey not chosen, red → [MASK] (█), orange → a random character, green kept", height=220
    )
    return fig


def fate_bars(measured: dict[str, float], rule: dict[str, float]) -> tuple[go.Figure, pd.DataFrame]:
    frame = pd.DataFrame({"fate": list(rule), "rule": list(rule.values()), "measured": [measured[k] for k in rule]})
    fig = go.Figure()
    fig.add_bar(x=frame["fate"], y=frame["rule"], name="the rule", marker_color="#bbbbbb")
    fig.add_bar(
        x=frame["fate"],
        y=frame["measured"],
        name="measured",
        marker_color="#d62728",
        text=[f"{v:.1%}" for v in frame["measured"]],
        textposition="outside",
    )
    fig.update_yaxes(tickformat=".0%", range=[0, 1.05])
    fig.update_layout(title="Shares over the corpus: chosen of all, then each fate of the chosen", height=360)
    fig.update_layout(barmode="group", legend=dict(orientation="h", y=-0.25))
    return fig, frame


def accuracy_grid(frame: pd.DataFrame) -> go.Figure:
    """Rows task · phrasing, one column per run: exact-match accuracy."""
    runs = list(dict.fromkeys(frame["run"]))
    cells = frame.pivot_table(index=["task", "kind", "phrasing"], columns="run", values="accuracy", sort=False)
    cells = cells[runs]
    labels = [f"{task} · {kind} · “{phrasing}”" for task, kind, phrasing in cells.index]
    fig = go.Figure(
        go.Heatmap(
            z=cells.values,
            x=runs,
            y=labels,
            zmin=0,
            zmax=1,
            colorscale="Viridis",
            text=[[f"{v:.0%}" for v in row] for row in cells.values],
            texttemplate="%{text}",
            colorbar=dict(title="accuracy"),
        )
    )
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(title="Exact-match accuracy per task and phrasing", height=max(320, 22 * len(labels) + 120))
    return fig


def token_loss_strip(text: str, losses: dict[str, list[float]], prompt_length: int) -> go.Figure:
    """{run: per-character loss} over one prompt + response; the prompt's end marked."""
    names = list(losses)
    fig = go.Figure(
        go.Heatmap(
            z=[losses[n] for n in names],
            y=names,
            text=[[shown(c) for c in text]] * len(names),
            texttemplate="%{text}",
            colorscale="Reds",
            zmin=0,
            colorbar=dict(title="−log p"),
            hovertemplate="%{y}<br>'%{text}': %{z:.2f} nats<extra></extra>",
        )
    )
    fig.add_vline(x=prompt_length - 0.5, line_dash="dash", annotation_text="response starts")
    fig.update_xaxes(showticklabels=False)
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(title="Loss per character over one example (dark = the model did not expect it)", height=260)
    return fig


def next_token_bars(results: dict[str, dict]) -> tuple[go.Figure, pd.DataFrame]:
    rows = [
        {"input": name, "token": repr(t["token"]), "probability": t["probability"]}
        for name, r in results.items()
        for t in r["top"]
    ]
    frame = pd.DataFrame(rows)
    fig = make_subplots(1, len(results), subplot_titles=list(results), horizontal_spacing=0.2)
    for col, (_name, part) in enumerate(frame.groupby("input", sort=False), start=1):
        fig.add_bar(x=part["probability"], y=part["token"], orientation="h", showlegend=False, row=1, col=col)
        fig.update_yaxes(autorange="reversed", row=1, col=col)
    fig.update_xaxes(tickformat=".0%", title_text="probability of the next token")
    fig.update_layout(title="SmolLM2's next token: the question in the chat template against plain text", height=360)
    return fig, frame


def curves_by_run(history: pd.DataFrame, runs: list[str], metric: str = "loss") -> go.Figure:
    fig = go.Figure()
    for run in runs:
        if f"{run}.{metric}" in history:
            fig.add_scatter(x=history[f"{run}.step"], y=history[f"{run}.{metric}"], mode="lines+markers", name=run)
    fig.update_layout(
        title="Training loss (each run over the tokens it is trained on)",
        xaxis_title="step",
        yaxis_title="loss (nats)",
        height=320,
        legend=dict(orientation="h", y=-0.3),
    )
    return fig
