"""Plotly figures for the prompting lesson. No Streamlit here: each takes results and returns (figure, frame)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

BEFORE, AFTER, GOLD = "#9aa5b1", "#2a9d8f", "#264653"
SEED_COLORS = ["#e76f51", "#2a9d8f", "#3a0ca3", "#f4a261", "#264653", "#b5179e", "#4361ee", "#8ab17d", "#e9c46a"]


def short(text: str, n: int = 60) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def answer_probabilities(result, eval_pairs, labels) -> tuple[go.Figure, pd.DataFrame]:
    """The probability of the right label per eval input, before and after calibration, sorted by the former."""
    gold = np.array([y for _, y in eval_pairs])
    rows = np.arange(len(gold))
    frame = pd.DataFrame(
        {
            "text": [text for text, _ in eval_pairs],
            "gold": [labels[y] for y in gold],
            "p_right_before": result.label_probs[rows, gold],
            "p_right_after": result.calibrated_probs[rows, gold],
            "predicted_before": [labels[k] for k in result.label_probs.argmax(-1)],
            "predicted_after": [labels[k] for k in result.calibrated_probs.argmax(-1)],
        }
    ).sort_values("p_right_before", ignore_index=True)
    fig = go.Figure()
    hover = "%{customdata[0]}<br>gold: %{customdata[1]}<br>p(right label) %{y:.2f}<extra>%{fullData.name}</extra>"
    custom = np.stack([frame["text"].map(short), frame["gold"]], -1)
    fig.add_scatter(
        x=frame.index, y=frame["p_right_before"], mode="markers", name="before calibration",
        marker=dict(color=BEFORE, size=9, symbol="circle-open", line=dict(width=2)), customdata=custom,
        hovertemplate=hover,
    )  # fmt: skip
    fig.add_scatter(
        x=frame.index, y=frame["p_right_after"], mode="markers", name="after contextual calibration",
        marker=dict(color=AFTER, size=9, symbol="diamond"), customdata=custom, hovertemplate=hover,
    )  # fmt: skip
    chance = 1 / len(labels)
    fig.add_hline(y=chance, line_dash="dot", annotation_text="right above here" if len(labels) == 2 else "chance")
    fig.update_layout(
        title="The probability of the right label, per review (sorted by its value before calibration)",
        xaxis_title="eval input", yaxis_title="p(right label word), renormalised over the label words",
        yaxis_range=[0, 1], height=380, legend=dict(orientation="h", y=-0.25),
    )  # fmt: skip
    return fig, frame


def calibration_bars(result, eval_pairs, labels) -> tuple[go.Figure, pd.DataFrame]:
    """Left: the content-free distribution p_cf. Right: how often each label is predicted, before and after."""
    n = len(labels)
    gold = np.bincount([y for _, y in eval_pairs], minlength=n)
    before = np.bincount(result.label_probs.argmax(-1), minlength=n)
    after = np.bincount(result.calibrated_probs.argmax(-1), minlength=n)
    frame = pd.DataFrame(
        {"label": labels, "p_content_free": result.content_free_probs, "gold": gold, "predicted_before": before,
         "predicted_after": after}
    )  # fmt: skip
    fig = make_subplots(
        rows=1, cols=2, horizontal_spacing=0.12,
        subplot_titles=("The bias: p(label | content-free input)", "Predicted labels, before and after calibration"),
    )  # fmt: skip
    fig.add_bar(x=list(labels), y=frame["p_content_free"], marker_color="#e76f51", name="content-free", row=1, col=1)
    fig.add_hline(y=1 / n, line_dash="dot", row=1, col=1, annotation_text="no bias")
    for column, name, color in (("gold", "gold labels", GOLD), ("predicted_before", "predicted, before", BEFORE),
                                ("predicted_after", "predicted, after", AFTER)):  # fmt: skip
        fig.add_bar(x=list(labels), y=frame[column], name=name, marker_color=color, row=1, col=2)
    fig.update_yaxes(title_text="probability", range=[0, 1], row=1, col=1)
    fig.update_yaxes(title_text="eval inputs", row=1, col=2)
    fig.update_layout(barmode="group", height=360, legend=dict(orientation="h", y=-0.2))
    return fig, frame


SWEEP_AXES = {"shots": ("shots", "demonstrations in the prompt (shots)"), "order": ("order", "order of the same shots"),
              "label words": ("label_words", "label words")}  # fmt: skip


def sweep_strip(rows: list[dict], kind: str, calibrated: bool) -> tuple[go.Figure, pd.DataFrame]:
    """One dot per prompt (draw, order or label words), the mean as a bar: the spread is the lecture's point."""
    frame = pd.DataFrame(rows)
    column, title = SWEEP_AXES[kind]
    y = "calibrated_accuracy" if calibrated else "accuracy"
    fig = go.Figure()
    categories = list(dict.fromkeys(frame[column].astype(str)))
    means = frame.groupby(frame[column].astype(str), sort=False)[y].mean().reindex(categories)
    fig.add_bar(x=categories, y=means, name="mean", marker_color="#dfe7ec")
    for seed, part in frame.groupby("order_seed"):
        fig.add_scatter(
            x=part[column].astype(str), y=part[y], mode="markers", name=f"draw {seed}",
            marker=dict(size=10, color=SEED_COLORS[int(seed) % len(SEED_COLORS)], opacity=0.8),
            hovertemplate="%{x}: accuracy %{y:.2f}<extra>order seed " + str(seed) + "</extra>",
        )  # fmt: skip
    fig.update_layout(
        title=f"Accuracy of each prompt ({'after' if calibrated else 'before'} calibration)", xaxis_title=title,
        yaxis_title="accuracy", yaxis_range=[0, 1.02], xaxis_type="category", height=400,
    )  # fmt: skip
    return fig, frame


def cot_figure(metrics: dict, by_chains: list[float]) -> tuple[go.Figure, pd.DataFrame]:
    names = ["direct", "greedy chain of thought", "self-consistency vote"]
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Accuracy by method", "Majority vote over the first N chains"))
    fig.add_bar(x=names, y=[metrics[n] for n in names], marker_color=[BEFORE, "#e76f51", AFTER], row=1, col=1,
                name="accuracy")  # fmt: skip
    fig.add_scatter(x=list(range(1, len(by_chains) + 1)), y=by_chains, mode="lines+markers", name="vote of N",
                    marker_color=AFTER, row=1, col=2)  # fmt: skip
    fig.update_yaxes(range=[0, 1.02], title_text="accuracy", row=1, col=1)
    fig.update_yaxes(range=[0, 1.02], row=1, col=2)
    fig.update_xaxes(title_text="sampled chains N", dtick=1, row=1, col=2)
    fig.update_layout(height=380, showlegend=False)
    frame = pd.DataFrame({"N": range(1, len(by_chains) + 1), "vote_accuracy": by_chains})
    return fig, frame


def ensemble_figure(rows: list[dict], summary: dict) -> tuple[go.Figure, pd.DataFrame]:
    frame = pd.DataFrame(rows)
    names = [f"T{i + 1}: {short(t.replace(chr(10), ' ⏎ '), 40)}" for i, t in enumerate(frame["template"])]
    extra = [k for k in ("uniform ensemble", "weighted ensemble") if k in summary]
    fig = go.Figure()
    fig.add_bar(x=names, y=frame["accuracy"], name="one template", marker_color=BEFORE)
    fig.add_bar(x=extra, y=[summary[k] for k in extra], name="ensemble", marker_color=AFTER)
    fig.update_layout(title="Accuracy of each template and of their ensembles", yaxis_title="accuracy",
                      yaxis_range=[0, 1.02], height=400)  # fmt: skip
    return fig, frame
