"""Parameter search with Optuna: search spaces, objectives, study storage, walk-forward.

Optuna is imported only inside the functions that run a search, so importing this package is cheap.
"""

from botcore.optimize.objective import OBJECTIVES, Evaluation, objective_value
from botcore.optimize.search import (
    SearchProgress,
    SearchResult,
    StudyTarget,
    TrialRecord,
    run_search,
)
from botcore.optimize.space import SearchSpace, build_space
from botcore.optimize.walkforward import (
    FoldResult,
    FoldWindow,
    StitchedOOS,
    WalkForwardResult,
    split_walk_forward,
    stitch_oos,
)

__all__ = [
    "OBJECTIVES",
    "Evaluation",
    "FoldResult",
    "FoldWindow",
    "SearchProgress",
    "SearchResult",
    "SearchSpace",
    "StitchedOOS",
    "StudyTarget",
    "TrialRecord",
    "WalkForwardResult",
    "build_space",
    "objective_value",
    "run_search",
    "split_walk_forward",
    "stitch_oos",
]
