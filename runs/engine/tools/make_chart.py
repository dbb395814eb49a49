"""``make_chart``: a matplotlib chart from data, saved as an artifact of the run."""

from __future__ import annotations

import io
import math
import re
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from ..interfaces import ToolContext, ToolResult
from .builtin_tools import registry
from .process_pool import run_in_pool
from .registry import ToolFailure

Number = Annotated[float, Field(allow_inf_nan=False)]
MAX_POINTS = 500
RENDER_TIMEOUT_S = 25.0


class ChartArgs(BaseModel):
    kind: Literal["bar", "line", "pie"] = "bar"
    title: str = Field("", max_length=200)
    labels: list[Annotated[str, Field(max_length=80)]] = Field(
        default_factory=list, max_length=MAX_POINTS, description="One label per data point."
    )
    series: dict[Annotated[str, Field(max_length=80)], list[Number]] = Field(
        default_factory=dict,
        max_length=10,
        description="Series name -> one number per label, e.g. {'Revenue': [1200, 950]}.",
    )
    x_label: str = Field("", max_length=100)
    y_label: str = Field("", max_length=100)


@registry.tool(
    "make_chart",
    "Draw a bar, line or pie chart from labels and numeric series and save it as a PNG "
    "artifact of the run. Returns the artifact reference and each series' total.",
    timeout_s=30,
)
async def make_chart(args: ChartArgs, context: ToolContext) -> ToolResult:
    _check(args)
    if context.artifacts is None:
        raise ToolFailure("This run has no artifact store, so charts cannot be saved.")
    # Drawing is CPU work: in the process pool, off the event loop, stopped if it overruns.
    png = await run_in_pool(_render, args, timeout_s=RENDER_TIMEOUT_S)
    name = f"{_slug(args.title) or 'chart'}.png"
    artifact = await context.artifacts.save(name, png, "image/png")
    totals = {name: math.fsum(values) for name, values in args.series.items()}
    result = {"artifact": artifact, "kind": args.kind, "points": len(args.labels), "totals": totals}
    return ToolResult(ok=True, result=result, artifacts=(artifact,))


def _check(args: ChartArgs) -> None:
    if not args.labels or not args.series or not any(args.series.values()):
        raise ToolFailure(
            "There is no data to chart: give `labels` and at least one series of numbers, "
            "e.g. labels=['Oct', 'Nov'], series={'Revenue': [1200, 950]}."
        )
    for name, values in args.series.items():
        if len(values) != len(args.labels):
            raise ToolFailure(
                f"Series {name!r} has {len(values)} values for {len(args.labels)} labels; "
                "give one value per label."
            )
    if args.kind == "pie":
        values = next(iter(args.series.values()))
        if len(args.series) > 1 or any(v < 0 for v in values) or not any(values):
            raise ToolFailure("A pie chart needs exactly one series of non-negative numbers.")


def _render(args: ChartArgs) -> bytes:
    # The object-oriented API with the Agg canvas: no pyplot global state, safe in threads.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 4.5), dpi=100, layout="tight")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    positions = range(len(args.labels))
    if args.kind == "pie":
        axes.pie(next(iter(args.series.values())), labels=args.labels, autopct="%1.1f%%")
    for index, (name, values) in enumerate(args.series.items() if args.kind != "pie" else ()):
        if args.kind == "bar":
            width = 0.8 / len(args.series)
            offsets = [p - 0.4 + width * (index + 0.5) for p in positions]
            axes.bar(offsets, values, width=width, label=name)
        else:
            axes.plot(list(positions), values, marker="o", label=name)
    if args.kind != "pie":
        axes.set_xticks(list(positions), args.labels, rotation=30 if len(args.labels) > 6 else 0)
        axes.set_xlabel(args.x_label)
        axes.set_ylabel(args.y_label)
        if len(args.series) > 1:
            axes.legend()
    axes.set_title(args.title)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60]
