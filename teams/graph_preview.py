"""A small picture of a team's graph, drawn on the server as inline SVG from its spec's nodes,
edges and layout: the start page's template cards and pattern pictures. No script, no style
attribute (the page's CSP allows neither inline), every name escaped."""

from __future__ import annotations

from typing import Any

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

_NODE_W, _NODE_H, _PAD = 120.0, 36.0, 12.0
#: Stroke of each edge kind: delegation solid, pipeline step solid, handoff dashed.
_DASH = {"handoff": ' stroke-dasharray="5 4"', "delegates": "", "next": ""}
_FILL = {"human": "#fef3c7", "team": "#ede9fe"}


def graph_svg(spec: dict[str, Any], title: str, key: str) -> SafeString:
    """``spec``'s top-level graph as an ``<svg>`` scaled to fit its box, with ``title`` as its
    accessible name; ``key`` makes its ids unique on the page. Nodes without a saved position
    are laid out in a row."""
    nodes = [
        n for n in spec.get("nodes", []) if isinstance(n, dict) and isinstance(n.get("id"), str)
    ]
    places = _places(spec, nodes)
    if not places:
        return format_html('<svg role="img" aria-label="{}" viewBox="0 0 10 10"></svg>', title)
    left = min(x for x, _ in places.values()) - _PAD
    top = min(y for _, y in places.values()) - _PAD
    width = max(x for x, _ in places.values()) + _NODE_W + _PAD - left
    height = max(y for _, y in places.values()) + _NODE_H + _PAD - top
    parts = [
        f'<svg class="graph-preview" role="img" aria-label="{escape(title)}" '
        f'viewBox="{left:.0f} {top:.0f} {width:.0f} {height:.0f}" '
        'preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<defs><marker id="arrow-{escape(key)}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" '
        'markerHeight="6" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'fill="#64748b"/></marker></defs>',
    ]
    parts += [_edge(edge, places, key) for edge in spec.get("edges", []) if isinstance(edge, dict)]
    parts += [_node(node, *places[node["id"]]) for node in nodes]
    parts.append("</svg>")
    return mark_safe("".join(p for p in parts if p))  # noqa: S308 - every text is escaped


def _places(spec: dict[str, Any], nodes: list[dict[str, Any]]) -> dict[str, tuple[float, float]]:
    layout = spec.get("layout")
    saved = layout.get("positions", {}) if isinstance(layout, dict) else {}
    places: dict[str, tuple[float, float]] = {}
    for index, node in enumerate(nodes):
        at = saved.get(node["id"]) if isinstance(saved, dict) else None
        try:
            places[node["id"]] = (float(at["x"]), float(at["y"]))  # type: ignore[index]
        except (TypeError, KeyError, ValueError):
            places[node["id"]] = (index * (_NODE_W + 40), 0.0)
    return places


def _edge(edge: dict[str, Any], places: dict[str, tuple[float, float]], key: str) -> str:
    source, target = places.get(edge.get("source", "")), places.get(edge.get("target", ""))
    if source is None or target is None or source == target:
        return ""
    (x1, y1), (x2, y2) = _centre(source), _centre(target)
    # From the border of one box to the border of the other, along the line between centres.
    dx, dy = x2 - x1, y2 - y1
    scale = min(
        (_NODE_W / 2) / abs(dx) if dx else float("inf"),
        (_NODE_H / 2) / abs(dy) if dy else float("inf"),
    )
    sx, sy, ex, ey = x1 + dx * scale, y1 + dy * scale, x2 - dx * scale, y2 - dy * scale
    dash = _DASH.get(str(edge.get("kind")), "")
    return (
        f'<line x1="{sx:.0f}" y1="{sy:.0f}" x2="{ex:.0f}" y2="{ey:.0f}" stroke="#64748b" '
        f'stroke-width="2"{dash} marker-end="url(#arrow-{escape(key)})"/>'
    )


def _centre(at: tuple[float, float]) -> tuple[float, float]:
    return at[0] + _NODE_W / 2, at[1] + _NODE_H / 2


def _node(node: dict[str, Any], x: float, y: float) -> str:
    name = str(node.get("name") or node["id"])
    shown = name if len(name) <= 16 else name[:15] + "…"
    fill = _FILL.get(str(node.get("kind")), "#e0f2fe")
    return (
        f'<rect x="{x:.0f}" y="{y:.0f}" width="{_NODE_W:.0f}" height="{_NODE_H:.0f}" rx="8" '
        f'fill="{fill}" stroke="#0f172a" stroke-width="1.5"/>'
        f'<text x="{x + _NODE_W / 2:.0f}" y="{y + _NODE_H / 2 + 5:.0f}" text-anchor="middle" '
        f'font-size="14" font-family="system-ui, sans-serif" fill="#0f172a">{escape(shown)}</text>'
    )


def _agent(
    node_id: str, name: str, x: float, y: float
) -> tuple[dict[str, Any], tuple[str, dict[str, float]]]:
    return {"id": node_id, "kind": "agent", "name": name}, (node_id, {"x": x, "y": y})


def _sketch(
    nodes: list[tuple[str, str, float, float]], edges: list[tuple[str, str, str]]
) -> dict[str, Any]:
    made = [_agent(*node) for node in nodes]
    return {
        "nodes": [node for node, _ in made],
        "edges": [{"source": s, "target": t, "kind": k} for s, t, k in edges],
        "layout": {"positions": dict(place for _, place in made)},
    }


#: The three patterns, each as a small graph and the sentence that explains it.
PATTERNS: list[tuple[str, str, dict[str, Any]]] = [
    (
        "Supervisor",
        "One lead agent splits the task, hands pieces to workers (several at once), and "
        "writes the answer from what they bring back.",
        _sketch(
            [("lead", "Lead", 160, 0), ("a", "Researcher", 0, 110), ("b", "Writer", 320, 110)],
            [("lead", "a", "delegates"), ("lead", "b", "delegates")],
        ),
    ),
    (
        "Pipeline",
        "Stages run in order, each working on the previous one's output, with optional "
        "review gates that can send work back.",
        _sketch(
            [("a", "Draft", 0, 0), ("b", "Review", 170, 0), ("c", "Publish", 340, 0)],
            [("a", "b", "next"), ("b", "c", "next")],
        ),
    ),
    (
        "Swarm",
        "Agents pass the conversation to whichever colleague fits the question next; the "
        "one holding it answers when it can.",
        _sketch(
            [("a", "Triage", 160, 0), ("b", "Billing", 0, 110), ("c", "Tech", 320, 110)],
            [("a", "b", "handoff"), ("a", "c", "handoff"), ("b", "c", "handoff")],
        ),
    ),
]
