"""Large flows for browser tests and benchmarks: blocks of five steps, as an imported office line looks."""

from __future__ import annotations

import networkx as nx

from compiler.layout import apply_layout


def big_flow(flow_id: str, steps: int, laid_out: bool = True) -> nx.DiGraph:
    """Blocks of five: greeting → menu (1: transfer, 2: voicemail, no input: next block).

    ``laid_out=False`` places the steps on a plain grid instead (as if drawn by hand), so a
    Tidy up really moves every step.
    """
    g = nx.DiGraph(id=flow_id, name=f"{steps} steps", start="say-0", format=1)
    blocks = steps // 5
    for i in range(blocks):
        g.add_node(f"say-{i}", type="Say", text=f"Welcome to department {i}.")
        g.add_node(f"menu-{i}", type="Gather", options=["1", "2"], attrs={"numDigits": 1},
                   prompt=[{"type": "Say", "text": "For sales press 1, to leave a message press 2."}])
        g.add_node(f"dial-{i}", type="Dial", numbers=[f"1516206{5000 + i}"])
        g.add_node(f"rec-{i}", type="Record", attrs={"maxLength": 60})
        g.add_node(f"bye-{i}", type="Hangup")
        g.add_edge(f"say-{i}", f"menu-{i}")
        g.add_edge(f"menu-{i}", f"dial-{i}", branch="1")
        g.add_edge(f"menu-{i}", f"rec-{i}", branch="2")
        g.add_edge(f"rec-{i}", f"bye-{i}")
        if i + 1 < blocks:
            g.add_edge(f"menu-{i}", f"say-{i + 1}", branch="timeout")
    for k in range(steps - 5 * blocks):  # the odd few: plain announcements after the last block
        g.add_node(f"extra-{k}", type="Say", text=f"Extra announcement {k}.")
    if laid_out:
        apply_layout(g)
    else:
        for k, n in enumerate(g.nodes):
            g.nodes[n]["x"], g.nodes[n]["y"] = 40 + (k % 20) * 240, 40 + (k // 20) * 180
    return g
