"""A proof DAG as SVG, laid out in layers, with no external renderer (no Graphviz needed).

Roots (actions, denials, escalations) are on top; each node sits one layer below its deepest
parent, so every edge points down. Rule instances are boxes, facts are rounded boxes with
their source record. Text is escaped; long labels are cut with an ellipsis (the JSON and
text renderings hold them whole).
"""

from __future__ import annotations

from html import escape

from engine.reasoning import FactNode, ProofGraph, RuleNode

_W, _H, _GAP_X, _GAP_Y, _CHARS = 260, 44, 24, 56, 40


def _label(node: FactNode | RuleNode) -> tuple[str, str]:
    if isinstance(node, RuleNode):
        return node.label, f"{node.rule_id} {node.file}:{node.line}"
    origin = node.origin if isinstance(node.origin, list) else []
    record = next(
        (o["record"] for o in origin if isinstance(o, dict) and isinstance(o.get("record"), dict)),
        None,
    )
    where = f"{record.get('container')}#{record.get('key') or record.get('row')}" if record else ""
    return node.atom, where or node.source


def _cut(text: str) -> str:
    return text if len(text) <= _CHARS else text[: _CHARS - 1] + "…"


def _layers(graph: ProofGraph) -> dict[str, int]:
    depth: dict[str, int] = {}
    order = sorted(set(graph.roots.values()))
    for nid in order:
        depth[nid] = 0
    changed = True
    while changed:  # longest path from a root; the DAG is acyclic so this settles
        changed = False
        for nid in sorted(depth):
            node = graph.nodes.get(nid)
            if isinstance(node, RuleNode):
                for child in node.children:
                    if child in graph.nodes and depth.get(child, -1) < depth[nid] + 1:
                        depth[child] = depth[nid] + 1
                        changed = True
    return depth


def proof_svg(graph: ProofGraph) -> str:
    """The proof as a standalone SVG document."""
    depth = _layers(graph)
    rows: dict[int, list[str]] = {}
    for nid in sorted(depth):
        rows.setdefault(depth[nid], []).append(nid)
    pos: dict[str, tuple[int, int]] = {}
    width = max((len(r) for r in rows.values()), default=1) * (_W + _GAP_X) + _GAP_X
    for level, ids in sorted(rows.items()):
        for i, nid in enumerate(ids):
            pos[nid] = (_GAP_X + i * (_W + _GAP_X), _GAP_Y // 2 + level * (_H + _GAP_Y))
    height = (max(rows, default=0) + 1) * (_H + _GAP_Y)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="Helvetica, Arial, sans-serif" '
        'font-size="11">',
        "<title>proof</title>",
    ]
    for nid, (x, y) in sorted(pos.items()):
        node = graph.nodes[nid]
        if isinstance(node, RuleNode):
            for child in node.children:
                if child in pos:
                    cx, cy = pos[child]
                    out.append(f'<line x1="{x + _W // 2}" y1="{y + _H}" x2="{cx + _W // 2}" '
                               f'y2="{cy}" stroke="#888"/>')
    for nid, (x, y) in sorted(pos.items()):
        node = graph.nodes[nid]
        title, sub = _label(node)
        rounded = ' rx="10"' if isinstance(node, FactNode) else ""
        fill = "#eef5ff" if isinstance(node, RuleNode) else "#f3fbef"
        out += [
            f'<g id="n{escape(nid[:12])}"><title>{escape(title)}</title>',
            f'<rect x="{x}" y="{y}" width="{_W}" height="{_H}"{rounded} fill="{fill}" '
            'stroke="#445"/>',
            f'<text x="{x + 8}" y="{y + 18}">{escape(_cut(title))}</text>',
            f'<text x="{x + 8}" y="{y + 34}" fill="#667">{escape(_cut(sub))}</text></g>',
        ]
    out.append("</svg>")
    return "\n".join(out) + "\n"
