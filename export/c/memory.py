"""Static memory plan: one byte arena for every activation, offsets fixed at generation time.

A tensor lives from the layer that writes it to the last layer that reads it (the input window
from before the first layer, the logits until the decision is read). Tensors are
placed largest first at the lowest offset that overlaps nothing alive at the same time
(greedy first fit, as TFLite Micro's planner does): a residual branch keeps its input alive and
everything else reuses memory. (Convolutions gather their receptive field into a separate
column buffer, see edgekd.c, so they need no padded copy.)
"""

from __future__ import annotations

from dataclasses import dataclass

from export.c.layers import QModel, inputs_of


@dataclass
class Block:
    name: str
    size: int
    first: int      # first layer index during which it is alive (-1: before the network)
    last: int       # last layer index during which it is alive
    offset: int = 0


@dataclass
class MemoryPlan:
    blocks: dict[str, Block]
    arena_bytes: int

    def offset(self, name: str) -> int:
        return self.blocks[name].offset


def plan_memory(model: QModel) -> MemoryPlan:
    """Offsets for every activation and padding scratch of ``model``."""
    end = len(model.layers)
    blocks = {model.input: Block(model.input, model.tensors[model.input].size, -1, -1)}
    for i, layer in enumerate(model.layers):
        blocks[layer.y] = Block(layer.y, model.tensors[layer.y].size, i, i)
        for name in inputs_of(layer):
            blocks[name].last = max(blocks[name].last, i)
    blocks[model.output].last = end
    placed: list[Block] = []
    for block in sorted(blocks.values(), key=lambda b: (-b.size, b.first)):
        block.offset = _first_fit(block, placed)
        placed.append(block)
    arena = max((b.offset + b.size for b in placed), default=0)
    return MemoryPlan(blocks, arena)


def _first_fit(block: Block, placed: list[Block]) -> int:
    clashes = sorted((b.offset, b.offset + b.size) for b in placed
                     if b.first <= block.last and block.first <= b.last)
    offset = 0
    for lo, hi in clashes:
        if offset + block.size <= lo:
            break
        offset = max(offset, hi)
    return offset
