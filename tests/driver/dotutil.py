"""Reading ``ccomp build --emit dot`` output back with pydot, as a tree of clusters
(label, node labels, child clusters) and a list of edges between node labels, so the
tests can assert the picture's structure rather than its text."""

from __future__ import annotations

from dataclasses import dataclass, field

import pydot


def _unquote(text: str | None) -> str:
    text = text or ""
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1]
    return text.replace("\\n", "\n").replace('\\"', '"')


@dataclass
class Cluster:
    label: str
    nodes: dict[str, str] = field(default_factory=dict)  # id -> label
    children: list["Cluster"] = field(default_factory=list)

    def all_nodes(self) -> dict[str, str]:
        found = dict(self.nodes)
        for c in self.children:
            found.update(c.all_nodes())
        return found

    def find(self, prefix: str) -> list["Cluster"]:
        """Every cluster below (and including) this one whose label starts with prefix."""
        hits = [self] if self.label.startswith(prefix) else []
        for c in self.children:
            hits.extend(c.find(prefix))
        return hits

    def labels(self) -> list[str]:
        return sorted(self.all_nodes().values())


@dataclass
class Picture:
    root: Cluster
    edges: list[tuple[str, str, str]]  # (tail label, head label, edge label)
    ids: dict[str, str]

    def edges_labelled(self, label: str) -> list[tuple[str, str, str]]:
        return [e for e in self.edges if e[2] == label]


def _cluster(graph: pydot.Graph, ids: dict[str, str]) -> Cluster:
    c = Cluster(_unquote(graph.get_label()) if hasattr(graph, "get_label") else "")
    for n in graph.get_nodes():
        name = _unquote(n.get_name())
        if name in ("node", "edge", "graph"):
            continue
        c.nodes[name] = ids[name] = _unquote(n.get_label())
    for s in graph.get_subgraphs():
        assert _unquote(s.get_name()).startswith("cluster_"), s.get_name()
        c.children.append(_cluster(s, ids))
    return c


def parse_picture(text: str) -> Picture:
    graphs = pydot.graph_from_dot_data(text)
    assert graphs is not None and len(graphs) == 1, text[:500]
    ids: dict[str, str] = {}
    root = _cluster(graphs[0], ids)
    edges = []
    for e in graphs[0].get_edges():
        tail, head = _unquote(e.get_source()), _unquote(e.get_destination())
        assert tail in ids and head in ids, (tail, head)  # every edge joins two declared nodes
        edges.append((ids[tail], ids[head], _unquote(e.get_attributes().get("label"))))
    return Picture(root, edges, ids)
