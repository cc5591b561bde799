"""Pure plotly figures for the policy-gradient lesson (no Streamlit: testable alone)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from models.rlhf.policy_gradient import clipped_objective

COLORS = ["#636efa", "#ef553b", "#00cc96", "#ab63fa", "#ffa15a", "#19d3f3", "#ff6692", "#b6e880"]


def clipped_curves(eps: float) -> tuple[go.Figure, pd.DataFrame]:
    """min(r·A, clip(r)·A) against r for A = +1 and A = -1, flat (zero-gradient) regions shaded."""
    ratio = torch.linspace(0.0, 2.5, 501)
    fig = make_subplots(rows=1, cols=2, subplot_titles=("advantage A = +1", "advantage A = −1"))
    frame = {"ratio": ratio.numpy()}
    for col, a in ((1, 1.0), (2, -1.0)):
        objective, flat = clipped_objective(ratio, torch.tensor(a), eps)
        frame[f"objective A={a:+g}"] = objective.numpy()
        fig.add_scatter(
            x=ratio,
            y=ratio * a,
            mode="lines",
            line=dict(dash="dot", color="gray"),
            name="r·A (no clipping)",
            showlegend=col == 1,
            row=1,
            col=col,
        )
        fig.add_scatter(
            x=ratio,
            y=objective,
            mode="lines",
            line=dict(width=3, color=COLORS[0]),
            name="min(r·A, clip(r, 1−ε, 1+ε)·A)",
            showlegend=col == 1,
            row=1,
            col=col,
        )
        x0, x1 = (1 + eps, 2.5) if a > 0 else (0.0, 1 - eps)
        fig.add_vrect(
            x0=x0,
            x1=x1,
            fillcolor="orange",
            opacity=0.18,
            line_width=0,
            row=1,
            col=col,
            annotation_text="flat: gradient 0",
            annotation_position="top left",
        )
        fig.add_vline(x=1.0, line=dict(color="black", width=1), row=1, col=col)
    fig.update_xaxes(title_text="ratio r = π_new(a) / π_old(a)")
    fig.update_yaxes(title_text="objective (maximised)", col=1)
    fig.update_layout(height=380, legend=dict(orientation="h", y=-0.25), margin=dict(t=40))
    return fig, pd.DataFrame(frame)


def clipped_heatmap(eps: float) -> tuple[go.Figure, pd.DataFrame]:
    """The objective over ratio × advantage; the zero-gradient cells drawn as a grey veil."""
    ratio = torch.linspace(0.0, 2.5, 126)
    advantage = torch.linspace(-2.0, 2.0, 81)
    objective, flat = clipped_objective(ratio[None, :], advantage[:, None], eps)  # (A, r)
    fig = go.Figure()
    fig.add_heatmap(
        x=ratio,
        y=advantage,
        z=objective,
        colorscale="RdBu",
        zmid=0,
        colorbar=dict(title="objective"),
        name="objective",
    )
    veil = np.where(flat.numpy(), 1.0, np.nan)
    fig.add_heatmap(
        x=ratio,
        y=advantage,
        z=veil,
        colorscale=[[0, "rgba(60,60,60,0.45)"], [1, "rgba(60,60,60,0.45)"]],
        showscale=False,
        hoverinfo="skip",
        name="gradient 0",
    )
    for x in (1 - eps, 1 + eps):
        fig.add_vline(x=x, line=dict(dash="dash", color="black", width=1))
    fig.update_layout(
        title="Objective over ratio and advantage (grey: the gradient in r is zero)",
        xaxis_title="ratio r",
        yaxis_title="advantage A",
        height=380,
        margin=dict(t=50),
    )
    frame = pd.DataFrame(
        {
            "ratio": ratio.repeat(len(advantage)).numpy(),
            "advantage": advantage.repeat_interleave(len(ratio)).numpy(),
            "objective": objective.T.reshape(-1).numpy(),
        }
    )
    return fig, frame


def reward_bands(rewards: dict[str, np.ndarray], best: float) -> tuple[go.Figure, pd.DataFrame]:
    """Mean reward over seeds per run, with the 10–90 % band; rewards: {run: (iterations, seeds)}."""
    fig, rows = go.Figure(), []
    for i, (name, matrix) in enumerate(rewards.items()):
        if not len(matrix):
            continue
        color = COLORS[i % len(COLORS)]
        steps = np.arange(1, len(matrix) + 1)
        mean = matrix.mean(1)
        low, high = np.percentile(matrix, 10, axis=1), np.percentile(matrix, 90, axis=1)
        fig.add_scatter(
            x=np.concatenate([steps, steps[::-1]]),
            y=np.concatenate([high, low[::-1]]),
            fill="toself",
            fillcolor=color,
            opacity=0.15,
            line=dict(width=0),
            hoverinfo="skip",
            showlegend=False,
            legendgroup=name,
        )
        fig.add_scatter(x=steps, y=mean, mode="lines", name=name, line=dict(color=color, width=2), legendgroup=name)
        rows += [
            {"run": name, "iteration": int(s), "mean": m, "p10": lo, "p90": hi}
            for s, m, lo, hi in zip(steps, mean, low, high)
        ]
    fig.add_hline(y=best, line=dict(dash="dot", color="gray"), annotation_text="best possible")
    fig.update_layout(
        title="Reward per iteration: mean over seeds, band = 10th–90th percentile",
        xaxis_title="iteration",
        yaxis_title="reward (noise-free)",
        height=400,
        legend=dict(orientation="h", y=-0.2),
    )
    return fig, pd.DataFrame(rows)


def diagnostics(series: dict[str, dict[str, list]]) -> tuple[go.Figure, pd.DataFrame]:
    """Clip fraction, approximate KL, entropy and share of ratios outside the band, per iteration."""
    panels = ["clip_fraction", "approx_kl", "entropy", "outside"]
    titles = [
        "clip fraction",
        "approx KL (CleanRL's (r−1) − log r)",
        "entropy (nats)",
        "share of ratios outside [1−ε, 1+ε]",
    ]
    fig = make_subplots(rows=2, cols=2, subplot_titles=titles)
    rows = []
    for i, (name, values) in enumerate(series.items()):
        color = COLORS[i % len(COLORS)]
        for k, panel in enumerate(panels):
            ys = values.get(panel, [])
            if not ys:
                continue
            fig.add_scatter(
                x=list(range(1, len(ys) + 1)),
                y=ys,
                mode="lines",
                name=name,
                legendgroup=name,
                line=dict(color=color),
                showlegend=k == 2,
                row=k // 2 + 1,
                col=k % 2 + 1,
            )
            rows += [{"run": name, "metric": panel, "iteration": j + 1, "value": y} for j, y in enumerate(ys)]
    fig.update_layout(height=520, legend=dict(orientation="h", y=-0.12), margin=dict(t=40))
    fig.update_xaxes(title_text="iteration", row=2)
    return fig, pd.DataFrame(rows)


def ratio_histograms(ratios: list, eps: float | None, name: str) -> tuple[go.Figure, pd.DataFrame]:
    """Histogram of the ratios at each update epoch of the last batch, the clip band marked."""
    fig, rows = go.Figure(), []
    for epoch, values in enumerate(ratios):
        values = np.asarray(values)
        fig.add_histogram(x=values, name=f"epoch {epoch + 1}", opacity=0.6, nbinsx=60)
        rows += [{"epoch": epoch + 1, "ratio": float(v)} for v in values[:2000]]
    band = eps if eps is not None else 0.2
    fig.add_vrect(
        x0=1 - band,
        x1=1 + band,
        fillcolor="green",
        opacity=0.08,
        line_width=0,
        annotation_text=f"[1−ε, 1+ε], ε={band:g}",
        annotation_position="top left",
    )
    fig.update_layout(
        barmode="overlay",
        title=f"{name}: ratios π_new/π_old at each update epoch of one batch",
        xaxis_title="ratio",
        yaxis_title="samples",
        height=360,
        yaxis_type="log",
    )
    return fig, pd.DataFrame(rows)


def groups_figure(rewards: np.ndarray, advantages: np.ndarray) -> tuple[go.Figure, pd.DataFrame]:
    """Rewards and GRPO advantages of each sample, grouped; degenerate groups (all rewards equal) marked."""
    groups, size = rewards.shape
    fig = make_subplots(rows=1, cols=2, subplot_titles=("reward", "advantage (r − mean) / (std + 1e-4)"))
    rows = []
    for g in range(groups):
        degenerate = bool(np.allclose(rewards[g], rewards[g][0]))
        label = f"group {g + 1}" + (" (all equal: no signal)" if degenerate else "")
        x = [f"g{g + 1}·{i + 1}" for i in range(size)]
        color = "lightgray" if degenerate else COLORS[g % len(COLORS)]
        fig.add_bar(x=x, y=rewards[g], marker_color=color, name=label, legendgroup=label, row=1, col=1)
        fig.add_bar(
            x=x, y=advantages[g], marker_color=color, name=label, legendgroup=label, showlegend=False, row=1, col=2
        )
        rows += [
            {
                "group": g + 1,
                "sample": i + 1,
                "reward": float(rewards[g, i]),
                "advantage": float(advantages[g, i]),
                "degenerate": degenerate,
            }
            for i in range(size)
        ]
    fig.update_layout(height=380, legend=dict(orientation="h", y=-0.3), margin=dict(t=40))
    return fig, pd.DataFrame(rows)


def history_lines(history: list[dict], metrics: list[str], title: str) -> tuple[go.Figure, pd.DataFrame]:
    """Metric curves of an RLHF or DPO run, one subplot per metric."""
    frame = pd.DataFrame(history)
    fig = make_subplots(rows=1, cols=len(metrics), subplot_titles=metrics)
    for k, metric in enumerate(metrics):
        if metric in frame:
            fig.add_scatter(
                x=frame.index + 1,
                y=frame[metric],
                mode="lines+markers",
                name=metric,
                showlegend=False,
                row=1,
                col=k + 1,
            )
    fig.update_layout(title=title, height=320, margin=dict(t=60))
    fig.update_xaxes(title_text="iteration")
    return fig, frame


def runs_lines(histories: dict[str, list[dict]], metrics: list[str], title: str) -> tuple[go.Figure, pd.DataFrame]:
    """The same metrics for several runs (e.g. GRPO beside PPO), one subplot per metric, one colour per run."""
    fig = make_subplots(rows=1, cols=len(metrics), subplot_titles=metrics)
    frames = []
    for r, (name, history) in enumerate(histories.items()):
        frame = pd.DataFrame(history)
        frame.insert(0, "run", name)
        if "iteration" not in frame:
            frame["iteration"] = np.arange(1, len(frame) + 1)
        frames.append(frame)
        for k, metric in enumerate(metrics):
            if metric in frame:
                fig.add_scatter(
                    x=frame["iteration"],
                    y=frame[metric],
                    mode="lines+markers",
                    name=name,
                    legendgroup=name,
                    showlegend=k == 0,
                    line_color=COLORS[r % len(COLORS)],
                    row=1,
                    col=k + 1,
                )
    fig.update_layout(title=title, height=340, margin=dict(t=60), legend=dict(orientation="h", y=-0.25))
    fig.update_xaxes(title_text="iteration")
    return fig, pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def grpo_batch_table(batch, group_size: int) -> pd.DataFrame:
    """One row per continuation of an RLHF batch: its group, reward, the group's mean and std, its advantage."""
    rewards = batch.rewards.reshape(-1, group_size)  # (groups, G)
    mean = rewards.mean(1, keepdim=True).expand_as(rewards).reshape(-1)
    std = rewards.std(1, keepdim=True).expand_as(rewards).reshape(-1)
    return pd.DataFrame(
        {
            "group": np.repeat(np.arange(1, rewards.shape[0] + 1), group_size),
            "prompt": batch.prompts,
            "continuation": batch.texts,
            "reward": batch.rewards.numpy().round(3),
            "group mean": mean.numpy().round(3),
            "group std": std.numpy().round(3),
            "advantage": batch.advantages.numpy().round(3),
        }
    )


def reward_scatter(true_reward, learned, implicit) -> tuple[go.Figure, pd.DataFrame]:
    """Every sequence of the task: its true reward against the Bradley–Terry reward model's score and against
    DPO's implicit reward (each known only up to a constant, so each is centred on its mean)."""
    frame = pd.DataFrame(
        {
            "true reward": np.asarray(true_reward),
            "reward model r(y)": np.asarray(learned) - np.mean(learned),
            "DPO implicit reward β·log π/ref": np.asarray(implicit) - np.mean(implicit),
        }
    )
    fig = make_subplots(rows=1, cols=2, subplot_titles=list(frame.columns[1:]))
    for col, name in enumerate(frame.columns[1:], start=1):
        fig.add_box(x=frame["true reward"], y=frame[name], name=name, marker_color=COLORS[col - 1], row=1, col=col)
    fig.update_xaxes(title_text="true reward (share of positions matching the target)")
    fig.update_yaxes(title_text="learned reward, centred", col=1)
    fig.update_layout(
        title="Every possible sequence: the true reward against each learned reward",
        height=380,
        showlegend=False,
        margin=dict(t=70),
    )
    return fig, frame
