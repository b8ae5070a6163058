"""The flows Amane currently runs, by name."""

from __future__ import annotations

from pathlib import Path

from bot.flows.loader import load_flows
from bot.flows.schema import Flow


class FlowRegistry:
    def __init__(self, flows: dict[str, Flow]) -> None:
        self._flows = dict(flows)

    @classmethod
    def from_directory(cls, directory: Path) -> FlowRegistry:
        return cls(load_flows(directory))

    def get(self, name: str) -> Flow:
        try:
            return self._flows[name]
        except KeyError:
            raise KeyError(f"no flow named '{name}' (known: {', '.join(sorted(self._flows))})")

    def publish(self, flow: Flow) -> None:
        self._flows[flow.name] = flow

    def names(self) -> list[str]:
        return sorted(self._flows)
