"""The live path's name for :mod:`edgekd.decision_policy` (the policy lives below both
firmware_bridge and edgekd.control_metrics, which replays it offline; see ARCHITECTURE.md)."""

from edgekd.decision_policy import (DEFAULT_THRESHOLD, DEFAULT_VOTE, Decision,  # noqa: F401
                                    DecisionPolicy)
