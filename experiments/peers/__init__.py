"""The nets ``benchmark_peers`` races against their PyTorch originals (no TensorFlow, no torch).

One :class:`Peer` per row of the benchmark: the library's run configuration on our
side (built through the method interface in :mod:`experiments.peers.ours`) and the
PyTorch re-implementation of the original's net on theirs
(:mod:`experiments.peers.torch_nets`), with the original's batch size and input shape.
"""

from __future__ import annotations

import dataclasses
from typing import Any


@dataclasses.dataclass(frozen=True)
class Peer:
    key: str  # --nets name
    title: str  # the table's row label
    traintype: str  # ours: the RunConfig
    nettype: str
    options: dict[str, Any]  # further RunConfig settings
    input_shape: tuple[int, int, int]  # height, width, channels (channels last, as ours)
    batch: int  # the original's training batch
    steps: int  # timed steps per repeat (full size)
    conv4: bool  # a Conv4 row: the bfloat16 goal applies


PEERS = {
    peer.key: peer
    for peer in (
        Peer("edge_popup", "edge-popup Conv4 (hidden-networks SubnetConv, keep 0.5)",
             "EdgePopup", "Conv4", {"keep_ratio": 0.5}, (32, 32, 3), 128, 20, True),
        Peer("slots_k8", "Slot Machines Conv4 (K 8, greedy)",
             "SlotMachine", "Conv4", {"slots": 8, "selection": "greedy"}, (32, 32, 3), 128, 20,
             True),
        Peer("lenet", "self-pruning LeNet-300-100 (straight-through mask)",
             "FreePruning", "LeNet", {}, (28, 28, 1), 25, 300, False),
    )
}

#: The issue's goals on the development machine.
GOAL_FLOAT32 = 0.8  # ours ÷ theirs, float32, every net
GOAL_BF16_VS_FLOAT32 = 0.4  # ours in bfloat16 ÷ theirs in float32 (as shipped), Conv4 nets
