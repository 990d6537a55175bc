"""Plain-sentence warnings when a run is not learning, from its history (and dead units).

Each rule looks at what a user would see on the charts and says what to try. The rules are
meant to stay silent on a healthy run: they need enough epochs to judge (`MIN_EPOCHS` and a
share of the run), compare with the run's own start, and a run that already learned a lot
(its training loss 10× below where it started) is never told that it stopped improving.
"""

from __future__ import annotations

import numpy as np

MIN_EPOCHS = 10  # no verdict on fewer epochs
BLOW_UP = 10.0  # the loss this many times above its first value
PLATEAU_SHARE = 0.3  # "not improved for the last 30 % of the run"
SWING_SHARE = 0.2  # test accuracy judged over the last 20 % of the epochs
SWING = 0.3  # max − min test accuracy over that stretch
CHANCE_MARGIN = 0.05  # above 1/classes by less than this is chance level
DEAD_SHARE = 0.5  # a ReLU layer with at least this share of units that never activate


def _percent(value: float) -> str:
    return f"{100 * value:.0f} %"


def loss_warnings(train_loss: np.ndarray, epochs: int, regression: bool) -> list[str]:
    """Warnings from the per-epoch training loss (finite values; `epochs` the run's total)."""
    done = len(train_loss)
    if done < MIN_EPOCHS or not np.isfinite(train_loss).all():
        return []
    first, last, best = float(train_loss[0]), float(train_loss[-1]), float(np.min(train_loss))
    found = []
    if last > BLOW_UP * first:
        found.append(
            f"the loss is {last / first:.0f}× above where it started: lower the learning rate"
        )
    elif regression and done >= 0.2 * epochs and last >= 1.0:
        than = "no better than" if last < 1.5 else f"{last:.3g}× worse than"
        found.append(
            f"the loss is {last:.3g} on standardised targets, {than} predicting the mean "
            "(1.0): lower the learning rate or give the network more neurons"
        )
    recent = int(np.ceil(PLATEAU_SHARE * done))
    earlier_best = float(np.min(train_loss[:-recent])) if recent < done else first
    learned = best < first / BLOW_UP
    if done >= 0.5 * epochs and not learned and np.min(train_loss[-recent:]) >= earlier_best:
        found.append(
            f"the loss has not improved for the last {_percent(PLATEAU_SHARE)} of the run: "
            "try another learning rate, activation or more neurons"
        )
    return found


def accuracy_warnings(test_acc: np.ndarray, epochs: int, classes: int) -> list[str]:
    """Warnings from the per-epoch test accuracy of a classification run."""
    done = len(test_acc)
    if done < MIN_EPOCHS or not np.isfinite(test_acc).all():
        return []
    found = []
    tail = test_acc[-max(MIN_EPOCHS, int(SWING_SHARE * done)) :]
    low, high = float(np.min(tail)), float(np.max(tail))
    if high - low >= SWING:
        found.append(
            f"test accuracy swings between {_percent(low)} and {_percent(high)}: "
            "lower the learning rate"
        )
    chance = 1.0 / classes
    if done >= 0.2 * epochs and float(np.max(tail)) <= chance + CHANCE_MARGIN:
        found.append(
            f"test accuracy is at chance level ({_percent(float(test_acc[-1]))} with "
            f"{classes} classes): the network is not learning"
        )
    return found


def dead_unit_warnings(dead: list[tuple[int, int]]) -> list[str]:
    """Warnings for ReLU layers whose units never activate: `dead` is (dead, units) per layer."""
    return [
        f"{count} of {units} ReLU units in hidden layer {layer} never activate: lower the "
        "learning rate or try leaky_relu"
        for layer, (count, units) in enumerate(dead, start=1)
        if units and count >= DEAD_SHARE * units
    ]


def diagnose(
    columns: dict[str, np.ndarray], epochs: int, classes: int, dead: list[tuple[int, int]]
) -> list[str]:
    """Every warning for a run: `columns` its history so far (``train_loss``, and
    ``test_acc`` for classification), `epochs` its length, `classes` 0 for regression."""
    found = loss_warnings(columns["train_loss"], epochs, regression=classes == 0)
    if classes and "test_acc" in columns:
        found += accuracy_warnings(columns["test_acc"], epochs, classes)
    return found + dead_unit_warnings(dead)
