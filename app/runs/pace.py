"""Auto pace: a run shown at the pace of its learning (config ``epochs_per_second: "auto"``).

A fixed pace spreads the epochs evenly, but a run learns most in its first 10–20 % of epochs
(sin's loss falls three decades in its first hundred epochs, then wanders). Auto pace spends
`LEARNING_SHARE` of its ~`AUTO_SECONDS` where the training loss makes progress, the rest evenly:
after each epoch, the time it is shown for is

    (1 − LEARNING_SHARE) · AUTO_SECONDS / epochs  +  LEARNING_SHARE · AUTO_SECONDS · π / DECADES

where π = log10(best loss before) − log10(best loss now) ≥ 0 is the epoch's progress in decades
of the lowest training loss so far (a plateau or a noisy stretch that sets no new low makes
none), `DECADES` the progress a run typically makes, and at most `MAX_DELAY` seconds per
epoch. So a run that learns fast is watched closely where it learns and passes its plateau
quickly; one that learns nothing passes in ~4 s. `DECADES` is what a default ``sin`` run makes
(4.0–4.9 decades over seeds 0–4), so that one takes `AUTO_SECONDS`: the Speed control's "Auto
(~15 s)" is generated from it, and tests/unit/test_pace.py holds the README to it.
"""

from __future__ import annotations

import math

AUTO = "auto"
AUTO_SECONDS = 15.0
LEARNING_SHARE = 0.75
DECADES = 4.0  # the decades a default sin run's training loss falls (see above)
MAX_DELAY = 1.0  # seconds: no single epoch freezes the view for long


class LearningPace:
    """The seconds each epoch of a run of `epochs` epochs is shown for (see the module
    docstring); `after_epoch` is called once per epoch, in order."""

    def __init__(self, epochs: int, seconds: float = AUTO_SECONDS) -> None:
        if epochs < 1:
            raise ValueError(f"epochs must be at least 1, got {epochs}")
        self.floor = (1 - LEARNING_SHARE) * seconds / epochs
        self.per_decade = LEARNING_SHARE * seconds / DECADES
        self.best = math.inf

    def after_epoch(self, train_loss: float | None) -> float:
        """Seconds to show the epoch whose training loss is `train_loss` (None or not finite:
        no progress)."""
        progress = 0.0
        if train_loss is not None and math.isfinite(train_loss) and train_loss > 0:
            if math.isfinite(self.best) and train_loss < self.best:
                progress = math.log10(self.best) - math.log10(train_loss)
            self.best = min(self.best, train_loss)
        return min(MAX_DELAY, self.floor + self.per_decade * progress)
