"""Plotly figures for the translation lesson, one per chart. No Streamlit here."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from models.translation.ibm_model1 import NULL, IBMModel1

SCALE = "Blues"


def frequent_words(pairs, side: int, n: int) -> list[str]:
    """The n most frequent words of one side (0 = foreign, 1 = English), most frequent first."""
    counts = pd.Series([w for pair in pairs for w in pair[side]]).value_counts(sort=True)
    return counts.index[:n].tolist()


def t_table_animation(ibm: IBMModel1, foreign: list[str], english: list[str]) -> tuple[go.Figure, pd.DataFrame]:
    """t(f | e) for the given words, one frame per EM iteration (play, or drag the slider); the last one shown."""
    tables = [ibm.table(foreign, english, k) for k in range(ibm.iterations + 1)]  # each (F, E)

    def heatmap(table):
        return go.Heatmap(
            z=table,
            x=english,
            y=foreign,
            zmin=0,
            zmax=1,
            colorscale=SCALE,
            text=np.round(table, 2),
            texttemplate="%{text}",
            hovertemplate="t(%{y} | %{x}) = %{z:.3f}<extra></extra>",
            colorbar=dict(title="t(f | e)"),
        )

    last = len(tables) - 1
    fig = go.Figure(
        heatmap(tables[last]), frames=[go.Frame(data=[heatmap(t)], name=str(k)) for k, t in enumerate(tables)]
    )
    steps = [
        dict(
            label=str(k), method="animate", args=[[str(k)], dict(mode="immediate", frame=dict(duration=0, redraw=True))]
        )
        for k in range(len(tables))
    ]
    fig.update_layout(
        title=f"t(f | e) after each EM iteration (shown: {last}; 0 = the uniform start)",
        xaxis_title="English word e",
        yaxis_title="foreign word f",
        yaxis_autorange="reversed",
        height=520,
        sliders=[dict(active=last, steps=steps, currentvalue=dict(prefix="iteration "), pad=dict(t=40))],
        updatemenus=[
            dict(
                type="buttons",
                showactive=False,
                x=0,
                y=-0.12,
                xanchor="right",
                buttons=[
                    dict(
                        label="▶ EM",
                        method="animate",
                        args=[None, dict(frame=dict(duration=700, redraw=True), fromcurrent=False)],
                    )
                ],
            )
        ],
    )
    rows = [
        {"iteration": k, "f": f, "e": e, "t(f|e)": float(table[a, b])}
        for k, table in enumerate(tables)
        for a, f in enumerate(foreign)
        for b, e in enumerate(english)
    ]
    return fig, pd.DataFrame(rows)


def shared_t_table(settings: tuple, foreign: tuple, english: tuple, _ibm: IBMModel1 = None):
    """`t_table_animation` keyed by the corpus settings that built `_ibm` (for page.shared_figure)."""
    return t_table_animation(_ibm, list(foreign), list(english))


def em_curves(log_likelihoods: list[float], aer: list[float] | None) -> tuple[go.Figure, pd.DataFrame]:
    """The corpus log-likelihood (never decreases) and, with gold links, the alignment error rate."""
    frame = pd.DataFrame({"iteration": range(1, len(log_likelihoods) + 1), "log-likelihood": log_likelihoods})
    fig = make_subplots(specs=[[{"secondary_y": aer is not None}]])
    fig.add_scatter(
        x=frame["iteration"] - 1, y=frame["log-likelihood"], name="log p(f | e) of the corpus", mode="lines+markers"
    )
    if aer is not None:
        frame = frame.assign(**{"AER before": aer[:-1], "AER after": aer[1:]})
        fig.add_scatter(
            x=list(range(len(aer))), y=aer, name="alignment error rate", mode="lines+markers", secondary_y=True
        )
        fig.update_yaxes(title_text="AER (lower is better)", range=[0, 1], secondary_y=True)
    fig.update_layout(
        title="EM: the likelihood before each iteration, the AER after it",
        xaxis_title="EM iterations done",
        height=380,
        legend=dict(orientation="h", y=-0.25),
    )
    fig.update_yaxes(title_text="log-likelihood (ε = 1)", secondary_y=False)
    return fig, frame


def alignment_matrix(
    posterior: np.ndarray, foreign: list[str], english: list[str], viterbi, gold=None, title: str = ""
) -> tuple[go.Figure, pd.DataFrame]:
    """p(a_j = i | f, e) as a heatmap (English rows, NULL first; foreign columns), Viterbi links ringed, gold
    links crossed."""
    rows = [NULL, *english]
    fig = go.Figure(
        go.Heatmap(
            z=posterior.T,
            x=[f"{j + 1}. {w}" for j, w in enumerate(foreign)],
            y=[f"{i}. {w}" for i, w in enumerate(rows)],
            zmin=0,
            zmax=1,
            colorscale=SCALE,
            hovertemplate="p(%{x} aligned to %{y}) = %{z:.3f}<extra></extra>",
            colorbar=dict(title="posterior"),
        )
    )
    x_labels = [f"{j + 1}. {w}" for j, w in enumerate(foreign)]
    y_labels = [f"{i}. {w}" for i, w in enumerate(rows)]
    fig.add_scatter(
        x=[x_labels[j - 1] for j, _ in viterbi],
        y=[y_labels[i] for _, i in viterbi],
        mode="markers",
        marker=dict(symbol="circle-open", size=22, color="#e76f51", line=dict(width=3)),
        name="Viterbi link",
    )
    if gold is not None:
        fig.add_scatter(
            x=[x_labels[j - 1] for j, _ in gold],
            y=[y_labels[i] for _, i in gold],
            mode="markers",
            marker=dict(symbol="x-thin", size=12, color="#111", line=dict(width=2)),
            name="gold link",
        )
    fig.update_layout(
        title=title or "p(a_j = i | f, e): which English word produced each foreign word",
        xaxis_title="foreign word j",
        yaxis_title="English word i (0 = NULL)",
        yaxis_autorange="reversed",
        height=420,
        legend=dict(orientation="h", y=-0.3),
    )
    frame = pd.DataFrame(posterior, index=foreign, columns=rows)  # (m, l + 1)
    return fig, frame.reset_index(names="foreign word")


def candidate_bars(candidates: list[dict], baseline: dict) -> tuple[go.Figure, pd.DataFrame]:
    """log p(e) and log p(f | e) stacked for each candidate; the word-for-word baseline last."""
    frame = pd.DataFrame([*candidates, {**baseline, "english": "(word for word) " + baseline["english"]}])
    fig = go.Figure()
    fig.add_bar(y=frame["english"], x=frame["log p(e)"], name="log p(e): the English LM", orientation="h")
    fig.add_bar(y=frame["english"], x=frame["log p(f|e)"], name="log p(f | e): IBM Model 1", orientation="h")
    fig.add_scatter(y=frame["english"], x=frame["score"], mode="markers", name="sum", marker=dict(color="#111", size=9))
    fig.update_layout(
        title="Noisy channel: the candidates' scores (closer to 0 is better)",
        barmode="relative",
        xaxis_title="log-probability (nats)",
        yaxis_autorange="reversed",
        height=140 + 32 * len(frame),
        legend=dict(orientation="h", y=-0.2),
    )
    return fig, frame


def attention_beside_ibm(
    attention: np.ndarray, posterior: np.ndarray, foreign: list[str], english: list[str]
) -> tuple[go.Figure, pd.DataFrame]:
    """Two heatmaps with the same axes: the tiny model's attention (row = English output word, </s> last) and
    IBM Model 1's posterior p(a_j = i) (row = English word, NULL left out)."""
    fig = make_subplots(
        cols=2, subplot_titles=["Encoder-decoder attention (row = word being written)", "IBM Model 1 p(a_j = i | f, e)"]
    )
    rows = [*english, "</s>"]
    fig.add_heatmap(z=attention, x=foreign, y=rows, zmin=0, zmax=1, colorscale=SCALE, showscale=False, col=1, row=1)
    fig.add_heatmap(z=posterior[:, 1:].T, x=foreign, y=english, zmin=0, zmax=1, colorscale=SCALE, col=2, row=1)
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(title="Attention as a soft alignment", height=420)
    frame = pd.DataFrame(attention, index=rows, columns=foreign).reset_index(names="English word")
    return fig, frame


def beam_tree(tree, decode, title: str) -> go.Figure:
    """The beams kept at each step: a node per kept prefix, an edge to the beam it grew from."""
    fig = go.Figure()
    xs, ys, labels, edges_x, edges_y = [], [], [], [], []
    for t, kept in enumerate(tree):
        for rank, (parent, token, score) in enumerate(kept):
            if score < -1e8:  # a slot with no live beam
                continue
            xs.append(t + 1)
            ys.append(rank)
            labels.append(f"{decode(token)}<br>{score:.2f}")
            edges_x += [t, t + 1, None]
            edges_y += [parent if t else 0, rank, None]
    fig.add_scatter(x=edges_x, y=edges_y, mode="lines", line=dict(color="#bbb"), hoverinfo="skip", name="grew from")
    fig.add_scatter(
        x=xs, y=ys, mode="markers+text", text=labels, textposition="top center", name="kept beam", marker=dict(size=8)
    )
    fig.update_layout(
        title=title,
        xaxis_title="step",
        yaxis_title="beam rank (0 = best)",
        yaxis_range=[max(ys, default=0) + 0.5, -0.8],  # reversed, with room for the top row's labels
        height=420,
        showlegend=False,
    )
    return fig


def precision_bars(report: dict) -> tuple[go.Figure, pd.DataFrame]:
    frame = pd.DataFrame(
        {
            "n": [1, 2, 3, 4],
            "precision": report["precisions"],
            "matches": report["matches"],
            "n-grams": report["totals"],
        }
    )
    fig = go.Figure(
        go.Bar(
            x=[f"{n}-grams" for n in frame["n"]],
            y=frame["precision"],
            text=[f"{m}/{t}" for m, t in zip(frame["matches"], frame["n-grams"])],
            textposition="outside",
        )
    )
    fig.update_layout(
        title=f"Clipped n-gram precisions p_n; brevity penalty {report['bp']:.3f}",
        yaxis_title="p_n",
        yaxis_range=[0, 1.15],
        height=360,
    )
    return fig, frame


def by_width(frame: pd.DataFrame, columns: list[str], title: str) -> go.Figure:
    """One small chart per column of `frame`, each against the beam width."""
    fig = make_subplots(cols=len(columns), subplot_titles=columns, horizontal_spacing=0.08)
    for col, name in enumerate(columns, start=1):
        fig.add_scatter(x=frame["beams"], y=frame[name], mode="lines+markers", name=name, row=1, col=col)
        fig.update_xaxes(title_text="beams", dtick=1, row=1, col=col)
    fig.update_layout(title=title, height=340, showlegend=False)
    return fig


def glossary_bars(comparison) -> tuple[go.Figure, pd.DataFrame]:
    """Term accuracy, chrF and BLEU without and with the glossary in the prompt (all on 0-100)."""
    rows = []
    for condition in ("without", "with"):
        accuracy = comparison.term_accuracy[condition]
        rows.append(
            {
                "prompt": f"{condition} glossary",
                "term accuracy (%)": None if accuracy is None else 100 * accuracy,
                "chrF": comparison.chrf[condition],
                "BLEU": comparison.bleu[condition],
            }
        )
    frame = pd.DataFrame(rows)
    fig = go.Figure()
    for condition, color in zip(frame["prompt"], ["#adb5bd", "#2a9d8f"]):
        row = frame[frame["prompt"] == condition].iloc[0]
        measures = ["term accuracy (%)", "chrF", "BLEU"]
        values = [row[m] for m in measures]
        fig.add_bar(
            x=measures,
            y=values,
            name=condition,
            marker_color=color,
            text=["—" if v is None or v != v else f"{v:.0f}" for v in values],
            textposition="outside",
        )
    fig.update_layout(
        title="The same few-shot prompt, without and with the glossary line",
        barmode="group",
        yaxis_range=[0, 110],
        yaxis_title="0-100 (higher is better)",
        height=360,
        legend=dict(orientation="h", y=-0.2),
    )
    return fig, frame
