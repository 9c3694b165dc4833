"""The evaluation report: report.md (a table per metric group, the worst questions in full),
metrics.png (horizontal bars, values written on them) and questions.jsonl (every per-question row)."""
from __future__ import annotations

import json
import time
from pathlib import Path

from assistant.errors import UsageError

from .metrics import (CITATIONS, DESCRIPTIONS, JUDGED, K_RANKING, RETRIEVAL, STAGES, question_score,
                      source_matches, worst)

LABELS = {"hit@1": "hit@1", "hit@5": "hit@5", "mrr@10": "MRR@10", "fact_recall": "key-fact recall",
          "refusal_precision": "refusal precision", "refusal_recall": "refusal recall",
          "refusal_accuracy": "refusal accuracy", "near_miss_refusal": "near-miss refusal",
          "off_topic_refusal": "off-topic refusal", "clean_quotes": "clean quotes",
          "citation_precision": "citation precision", "citation_recall": "citation recall",
          "faithfulness_llm_judged": "faithfulness (LLM-judged)"}

GROUPS = [("Retrieval", RETRIEVAL, "#2f6db5"),
          ("Answers", ["fact_recall", "clean_quotes"], "#2e8b57"),
          ("Refusals", ["refusal_precision", "refusal_recall", "refusal_accuracy", "near_miss_refusal",
                        "off_topic_refusal"], "#d9822b"),
          ("Citations (ALCE-style)", CITATIONS, "#7b4fa8"),
          ("Faithfulness, LLM-judged", JUDGED, "#8a8a8a")]


def label(metric: str) -> str:
    return LABELS.get(metric, metric)


def write_report(result: dict, folder: Path, thresholds: dict[str, float] | None = None) -> dict[str, Path]:
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        paths = {"report": folder / "report.md", "chart": folder / "metrics.png",
                 "questions": folder / "questions.jsonl"}
        render_chart(result["summary"], paths["chart"], thresholds or {})
        paths["report"].write_text(render_markdown(result, thresholds or {}, chart=paths["chart"].name),
                                   encoding="utf-8")
        with paths["questions"].open("w", encoding="utf-8") as out:
            for row in result["questions"]:
                out.write(json.dumps({k: v for k, v in row.items() if k != "contexts"}, ensure_ascii=False) + "\n")
    except OSError as exc:
        raise UsageError(f"cannot write the report to {folder}: {exc.strerror or exc}") from None
    return paths


# --- Markdown ------------------------------------------------------------------------------------

def _cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _figure(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def render_markdown(result: dict, thresholds: dict[str, float], chart: str = "metrics.png") -> str:
    summary = result["summary"]
    metrics = summary["metrics"]
    lines = ["# Evaluation report", "",
             f"{summary['questions']} questions"
             + (f" from `{summary['question_set']}`" if summary.get("question_set") else "")
             + f", answerer `{summary['answerer']}`, {time.strftime('%Y-%m-%d %H:%M')}."
             + (f" {summary['skipped_needs_review']} questions flagged `needs_review` were skipped."
                if summary.get("skipped_needs_review") else ""),
             "", f"![metrics]({chart})", ""]
    for title, names, _ in GROUPS:
        if title.startswith("Faithfulness") and not summary.get("judged"):
            continue
        lines += [f"## {title}", ""]
        if title.startswith("Faithfulness"):
            lines += ["Judged by the configured LLM, not measured: a second opinion, not a check.", ""]
        lines += ["| metric | value | minimum | measured on | what it counts |", "|---|---:|---:|---:|---|"]
        for name in names:
            minimum = thresholds.get(name)
            failed = minimum is not None and (metrics[name] is None or metrics[name] < minimum)
            shown = _figure(metrics[name]) + (" **below minimum**" if failed else "")
            lines.append(f"| {label(name)} | {shown} | {'' if minimum is None else minimum} | "
                         f"{summary['measured_on'][name]} | {DESCRIPTIONS[name]} |")
        if title == "Refusals":
            r = summary["refusals"]
            lines += ["", "| | refused | answered |", "|---|---:|---:|",
                      f"| unanswerable questions | {r['refused_unanswerable']} | {r['answered_unanswerable']} |",
                      f"| answerable questions | {r['refused_answerable']} | {r['answered_answerable']} |"]
        lines.append("")
    lines += ["## Latency", "", "| stage | p50 ms | p95 ms | questions |", "|---|---:|---:|---:|"]
    for stage in STAGES:
        lat = summary["latency_ms"][stage]
        if lat["n"]:
            lines.append(f"| {stage} | {lat['p50']:.0f} | {lat['p95']:.0f} | {lat['n']} |")
    lines += ["", "`total` is the whole `Assistant.ask` call, as a caller sees it.", ""]
    rows = worst(result["questions"], 10)
    lines += [f"## The {len(rows)} worst questions", "",
              "Ranked by the mean of each question's own figures, with a wrong refusal decision "
              "counted as a 0.", ""]
    for rank, row in enumerate(rows, start=1):
        lines += _question_block(rank, row)
    lines += _other_misses(result["questions"], {r["id"] for r in rows})
    return "\n".join(lines).rstrip() + "\n"


def _question_block(rank: int, row: dict) -> list[str]:
    verdict = ("refused" if row["refused"] else "answered") + \
        (", rightly" if row["refusal_correct"] else
         ", but it should have answered" if row["answerable"] else ", but it should have refused")
    figures = ", ".join(f"{label(m)} {row[m]:.2f}" for m in RETRIEVAL + ["fact_recall"] + CITATIONS + JUDGED
                        if row.get(m) is not None)
    lines = [f"### {rank}. `{row['id']}` (score {question_score(row):.2f})", "",
             f"**Question:** {row['question']}", ""]
    for turn in row.get("history") or []:
        lines.append(f"- *{turn.get('role', 'user')}:* {turn.get('content', '')}")
    if row.get("history"):
        lines.append("")
    expected = row.get("expected_sources") or []
    lines += [f"**Expected sources:** {', '.join(f'`{e}`' for e in expected) or 'none (unanswerable)'}", "",
              f"**Retrieved (top {min(5, K_RANKING)}):** " + (", ".join(
                  f"{i}. `{Path(s).name}`{' ✓' if any(source_matches(s, e) for e in expected) else ''}"
                  for i, s in enumerate(row["sources"][:5], start=1)) or "nothing"), "",
              f"**Answer** ({verdict}):", ""]
    answer = row["answer"] if len(row["answer"]) <= 900 else row["answer"][:900] + " …"
    lines += ["> " + line for line in answer.splitlines() or [""]]
    lines.append("")
    for c in row["citations"]:
        where = f", p. {c['page']}" if c.get("page") else ""
        lines.append(f"- [{c['n']}] `{Path(c['source']).name}`{where}"
                     f"{'' if c.get('verified') else ' (not verified by the assistant)'}")
    if row["citations"]:
        lines.append("")
    lines += [f"**Figures:** {figures or 'none (unanswerable)'}; refusal decision "
              f"{'right' if row['refusal_correct'] else 'wrong'}", ""]
    return lines


def _other_misses(rows: list[dict], shown: set[str]) -> list[str]:
    """The failures the worst-10 list had no room for, by kind, as ids (details in questions.jsonl)."""
    kinds = [("wrong refusal decision", lambda r: not r["refusal_correct"]),
             ("no expected source in the top 5", lambda r: r.get("hit@5") == 0.0),
             ("key fact missing from the answer", lambda r: r.get("fact_recall") == 0.0),
             ("citation precision or recall below 1",
              lambda r: min(r.get("citation_precision", 1.0), r.get("citation_recall", 1.0)) < 1.0)]
    lines = []
    for name, failed in kinds:
        ids = [r["id"] for r in rows if failed(r) and r["id"] not in shown]
        if ids:
            lines.append(f"- {name} ({len(ids)}): " + ", ".join(f"`{i}`" for i in ids))
    if not lines:
        return []
    return ["## Other questions below 1", "", "Not in the list above; every row is in `questions.jsonl`.", "",
            *lines, ""]


# --- chart -----------------------------------------------------------------------------------------

def render_chart(summary: dict, path: Path, thresholds: dict[str, float]) -> None:
    """Quality figures as horizontal bars on 0..1 (value written at each bar's end, the minimum
    as a black tick), latency p50/p95 per stage below. No pyplot: no global backend state."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    metrics = summary["metrics"]
    rows = [(name, colour, title) for title, names, colour in GROUPS for name in names
            if not (name in JUDGED and not summary.get("judged"))]
    stages = [s for s in STAGES if summary["latency_ms"][s]["n"]]
    figure = Figure(figsize=(9, 0.42 * len(rows) + 0.5 * len(stages) + 2.6), dpi=110)
    FigureCanvasAgg(figure)
    top, bottom = figure.subplots(2, 1, gridspec_kw={"height_ratios": [len(rows), max(1.6, 1.0 * len(stages))]})

    y = list(range(len(rows)))
    values = [metrics[name] or 0.0 for name, _, _ in rows]
    top.barh(y, values, color=[c for _, c, _ in rows], height=0.7)
    for i, (name, _, _) in enumerate(rows):
        value = metrics[name]
        below = name in thresholds and (value is None or value < thresholds[name])
        top.text((value or 0.0) + 0.01, i, _figure(value) + (" below minimum" if below else ""), va="center",
                 fontsize=10, color="#c0392b" if below else "black", fontweight="bold" if below else "normal")
        if name in thresholds:
            top.plot([thresholds[name]] * 2, [i - 0.42, i + 0.42], color="black", linewidth=2)
    top.set_yticks(y, [label(name) for name, _, _ in rows], fontsize=10)
    top.invert_yaxis()
    top.set_xlim(0, 1.12)
    top.set_xticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    top.grid(axis="x", alpha=0.3)
    top.set_axisbelow(True)
    top.set_title(f"Quality on {summary['questions']} questions (answerer: {summary['answerer']})",
                  fontsize=12, loc="left", pad=26)
    handles = [Patch(color=c, label=t) for t, names, c in GROUPS
               if any(name in {r[0] for r in rows} for name in names)]
    if thresholds:
        from matplotlib.lines import Line2D

        handles.append(Line2D([], [], color="black", linewidth=2, label="minimum (gate)"))
    # Above the bars, never over them: the values at the bar ends must stay readable.
    top.legend(handles=handles, loc="lower left", bbox_to_anchor=(0, 1.0), ncol=len(handles), fontsize=8,
               frameon=False, handlelength=1.2, columnspacing=1.0)
    for side in ("top", "right"):
        top.spines[side].set_visible(False)

    if stages:
        p50 = [summary["latency_ms"][s]["p50"] for s in stages]
        p95 = [summary["latency_ms"][s]["p95"] for s in stages]
        ys = list(range(len(stages)))
        bottom.barh([v - 0.18 for v in ys], p50, height=0.36, color="#4c9be8", label="p50")
        bottom.barh([v + 0.18 for v in ys], p95, height=0.36, color="#1f4e8c", label="p95")
        longest = max(p95) or 1.0
        for v, a, b in zip(ys, p50, p95):
            bottom.text(a + longest * 0.01, v - 0.18, f"{a:.0f} ms", va="center", fontsize=9)
            bottom.text(b + longest * 0.01, v + 0.18, f"{b:.0f} ms", va="center", fontsize=9)
        bottom.set_yticks(ys, stages, fontsize=10)
        bottom.invert_yaxis()
        bottom.set_xlim(0, longest * 1.18)
        bottom.set_xlabel("milliseconds per question")
        bottom.set_title("Latency per stage", fontsize=12, loc="left", pad=22)
        bottom.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=2, fontsize=8, frameon=False)
        bottom.grid(axis="x", alpha=0.3)
        bottom.set_axisbelow(True)
        for side in ("top", "right"):
            bottom.spines[side].set_visible(False)
    else:
        bottom.set_axis_off()
    figure.tight_layout()
    figure.savefig(path)
