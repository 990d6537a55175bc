"""The run's teaching voice: findings about how a run learns, each with its cause and its cure.

A finding has a *kind*, a *severity* (``warning``: the run is not learning, diverging, stuck or
overfitting; ``observation``: worth knowing on a run that learned), the *epoch* it was first
seen (as in the history's ``epoch`` column) and a *sentence* whose advice follows from the
cause the history shows. The rules read what the charts show — the training and test losses,
the test accuracy, the learning rate, the weights' relative change per epoch (history column
``update_ratio``: ‖Δw‖ / ‖w‖ over the epoch, the update-to-weight ratio of Karpathy's CS231n
notes, healthy around 1e-3) — and the hidden units' health (dead ReLU units, saturated tanh or
sigmoid units). They stay silent on a healthy run: they need `MIN_EPOCHS` and a share of the run
to judge, compare with the run's own start, and smooth the losses before comparing.

Kinds, in the order a cause comes before its symptoms:

============  ==========  ======================================================================
kind          severity    when
============  ==========  ======================================================================
diverging     warning     the training loss far above its start or above what learning nothing
                          gives (×10), at the end or in spikes: lower the learning rate
too_slow      warning     the weights move < 1e-3 of their size per epoch while the loss has far
                          to go: raise the learning rate
swinging      warning     test accuracy swings by ≥ 30 points at the end: lower the learning rate
dead_units    warning     most units of a layer dead or saturated on a run that is not learning
stuck         warning     healthy updates, yet the training loss stays at what predicting the
                          mean gives (regression) or the accuracy at chance (classification):
                          more neurons, another activation, input features
overfitting   warning     the test loss rises for a sustained stretch while the training loss
                          falls (and, for classification, the test accuracy drops or stays far
                          below the training accuracy): L2, dropout, fewer epochs, early stopping
dead_units    observation dead or saturated units on a run that learned
plateau       observation no improvement over the last 30 % of a run that learned
noisy_end     observation the last epochs' loss spread over a decade
============  ==========  ======================================================================
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import median_filter

MIN_EPOCHS = 10  # no verdict on fewer epochs
BLOW_UP = 10.0  # the loss this many times above its first value: diverging
SPIKES = 0.1  # ... at the end, or this share of the last epochs' losses that far up
LEARNED = 0.5  # a run whose best training loss is below this share of its first learned something
CONVERGED = 0.9  # a loss that fell by this share of its first value has converged
FALLING = 0.02  # a loss that fell by this share over the last 20 % of the run is still falling
SLOW_UPDATES = 1e-3  # weights changing by less than this share of their norm per epoch: small
# Adam and RMSprop scale each step to about the learning rate whatever the gradient, so their
# updates stay this small only when the learning rate is (SGD's also shrink as it converges)
SLOW_ADAPTIVE = 2e-4
ADAPTIVE = frozenset({"adam", "rmsprop"})
RAISED = 2.0  # the learning rate this many times its value the epoch before: a live raise
HURT = 0.3  # ... followed by a loss this share above its best before the raise: it hurt
MEAN_LOSS = 0.9  # standardised targets: a loss above this is about what the mean predicts (1.0)
CHANCE_MARGIN = 0.05  # test accuracy above 1/classes by less than this is chance level
SWING_SHARE = 0.2  # test accuracy judged over the last 20 % of the epochs
SWING = 0.3  # max − min test accuracy over that stretch
PLATEAU_SHARE = 0.3  # "not improved for the last 30 % of the run"
UNIT_SHARE = 0.5  # a layer with at least this share of dead or saturated units
OVERFIT_RISE = 0.15  # the smoothed test loss this share above its minimum
OVERFIT_STRETCH = 0.15  # ... for at least this share of the run (and 5 epochs)
OVERFIT_MATTERS = 0.02  # ... and by this share of what learning nothing gives (not noise)
OVERFIT_ACCURACY_DROP = 0.02  # classification: the test accuracy fell this much from its best,
OVERFIT_ACCURACY_GAP = 0.1  # ... or is this far below the training accuracy
NOISY_SHARE = 0.1  # the last 10 % of the epochs (at least MIN_EPOCHS) ...
NOISY_SPREAD = 10.0  # ... spread over a decade, its rises adding up to a decade


@dataclass(frozen=True)
class Finding:
    """One thing the diagnosis says: `kind` (see the module docstring), `severity`
    (``"warning"`` or ``"observation"``), `epoch` (first seen, 1-based) and `sentence`."""

    kind: str
    severity: str
    epoch: int
    sentence: str

    def json(self) -> dict:
        return {"kind": self.kind, "severity": self.severity, "epoch": self.epoch,
                "sentence": self.sentence}  # fmt: skip


@dataclass(frozen=True)
class UnitHealth:
    """Hidden layer `layer` (1-based): `count` of its `units` are `state` (``"dead"``: a
    ReLU-like unit never active; ``"saturated"``: tanh/sigmoid output at its limits) on the
    training rows; `activation` its name."""

    layer: int
    activation: str
    state: str
    count: int
    units: int


def _percent(value: float) -> str:
    return f"{100 * value:.0f} %"


def _number(value: float) -> str:
    return f"{value:.3g}"


def smoothed(values: np.ndarray) -> np.ndarray:
    """A centred running median over ~5 % of the run (at least 3 epochs; the ends padded with
    the first and last values): spikes of single epochs do not decide a verdict.

    scipy's filter, not numpy's median of every window: that costs epochs² / 20 (0.5 s at
    20,000 epochs, on the run loop's thread, twice every half second)."""
    width = max(3, len(values) // 20) | 1
    if len(values) < width:
        return values.astype(np.float64)
    return median_filter(values.astype(np.float64), size=width, mode="nearest")


@dataclass
class Signals:
    """What the rules read: history columns (finite floats, one per completed epoch), the run's
    length `epochs`, `classes` (0 for regression) and the hidden units' health."""

    columns: dict[str, np.ndarray]
    epochs: int
    classes: int
    units: list[UnitHealth]
    loss: str = "mse"  # the loss the run trains with: "mse" or "cross_entropy"
    optimizer: str | None = None  # "sgd", "adam", "rmsprop" (None: not known)
    stopped_early: bool = False  # early stopping ended the run (it dealt with overfitting)

    @property
    def baseline(self) -> float:
        """The loss of a network that learned nothing: predicting the mean on standardised
        targets (1), the class shares ln C (cross-entropy) or (C − 1)/C² (MSE on one-hot)."""
        if not self.classes:
            return 1.0
        if self.loss == "cross_entropy":
            return float(np.log(self.classes))
        return (self.classes - 1) / self.classes**2

    @property
    def done(self) -> int:
        return len(self.columns["train_loss"])

    def column(self, name: str) -> np.ndarray | None:
        values = self.columns.get(name)
        if values is None or len(values) != self.done or not np.isfinite(values).all():
            return None
        return np.asarray(values, dtype=np.float64)

    def recent_updates(self) -> float | None:
        """The median update-to-weight ratio over the last 20 % of the epochs (None unknown)."""
        ratio = self.column("update_ratio")
        return None if ratio is None else float(np.median(ratio[-self.tail :]))

    @property
    def tail(self) -> int:
        """Epochs that count as the end of the run: the last 20 %, at least `MIN_EPOCHS`."""
        return max(MIN_EPOCHS, self.done // 5)

    @property
    def learned(self) -> bool:
        train = self.columns["train_loss"]
        learned = float(np.min(train)) < LEARNED * min(float(train[0]), self.baseline)
        accuracy = self.column("test_acc")
        if self.classes and accuracy is not None:
            learned = learned or float(np.max(accuracy)) > 1.0 / self.classes + 2 * CHANCE_MARGIN
        return learned


def diverging(s: Signals) -> Finding | None:
    """The loss far above its start, or above what learning nothing gives."""
    train = s.columns["train_loss"]
    start = min(float(train[0]), s.baseline)
    limit = BLOW_UP * start
    above = np.nonzero(train > limit)[0]
    tail = train[-s.tail :]
    if not len(above) or (float(np.median(tail)) <= limit and np.mean(tail > limit) < SPIKES):
        return None
    times = float(np.max(tail)) / start
    return Finding("diverging", "warning", int(above[0]) + 1,
        f"the loss reaches {times:.0f}× where it started or what learning nothing gives "
        f"({_number(s.baseline)}): the steps overshoot — lower the learning rate")  # fmt: skip


def too_slow(s: Signals) -> Finding | None:
    """Small updates while the loss still has far to go: it fell by less than half, or by
    less than 90 % and is still falling at the end — or, with Adam or RMSprop (whose steps
    are the learning rate's size, not the gradient's), very small updates and a loss that fell
    by less than 90 %, however flat it is now (it flattens on what the few steps can reach)."""
    train, lr = s.columns["train_loss"], s.column("lr")
    recent = s.recent_updates()
    if recent is None or recent >= SLOW_UPDATES:
        return None
    first, last = float(train[0]), float(np.median(train[-3:]))
    still_falling = float(np.median(train[-s.tail : -s.tail + 3])) * (1 - FALLING) > last
    far_to_go = last > (1 - CONVERGED) * first
    tiny_steps = s.optimizer in ADAPTIVE and recent < SLOW_ADAPTIVE
    if last < (1 - LEARNED) * first and not (far_to_go and (still_falling or tiny_steps)):
        return None
    rate = f" ({_number(lr[-1])})" if lr is not None else ""
    return Finding("too_slow", "warning", 1,
        f"the loss falls slowly (from {_number(first)} to {_number(last)}) and each epoch "
        f"changes the weights by only {recent:.1e} of their size: the learning rate{rate} is "
        "too small — raise the learning rate (try 10× to 100× larger)")  # fmt: skip


def raised_lr_hurt(s: Signals) -> Finding | None:
    """The learning rate was raised during the run (no schedule raises it: a live change) and
    the loss — the test loss when there is one — has been worse since than its best before."""
    lr = s.column("lr")
    if lr is None or s.done < 3:
        return None
    raises = np.flatnonzero((lr[1:] >= RAISED * lr[:-1]) & (lr[:-1] > 0)) + 1
    if not len(raises) or s.done - raises[-1] < 3:
        return None
    at = int(raises[-1])  # the index of the first epoch trained at the raised rate
    loss = s.column("test_loss")
    which = "test loss" if loss is not None else "training loss"
    loss = loss if loss is not None else s.columns["train_loss"].astype(np.float64)
    before = float(np.min(smoothed(loss[:at])))
    since = float(np.median(loss[-max(3, (s.done - at) // 3) :]))
    if since < (1 + HURT) * before or since - before < OVERFIT_MATTERS * s.baseline:
        return None
    accuracy, also = s.column("test_acc"), ""
    if accuracy is not None and at > 0:
        also = (f" (test accuracy {_percent(float(np.max(accuracy[:at])))} → "
                f"{_percent(float(accuracy[-1]))})")  # fmt: skip
    return Finding("raised_lr_hurt", "warning", at + 1,
        f"the learning rate was raised from {_number(lr[at - 1])} to {_number(lr[at])} at "
        f"epoch {at + 1}, and the {which} is worse since: {_number(before)} at best before, "
        f"{_number(since)} now{also} — the steps overshoot; lower it back (to about "
        f"{_number(lr[at - 1])})")  # fmt: skip


def stuck(s: Signals) -> Finding | None:
    updates = s.recent_updates()
    if s.done < 0.2 * s.epochs or (updates is not None and updates < SLOW_UPDATES):
        return None  # too early, or too slow rather than stuck
    cure = "give the network more neurons, try another activation or add input features"
    if not s.classes:  # the training loss: a network that fits it but not the test is overfitting
        tail = float(np.median(s.columns["train_loss"][-s.tail :]))
        if tail < MEAN_LOSS * s.baseline:
            return None
        return Finding("stuck", "warning", None,
            f"the loss is {_number(tail)} on standardised targets, about what predicting the "
            f"mean gives (1.0): the network is not fitting the function — {cure}")  # fmt: skip
    accuracy = s.column("test_acc")
    if accuracy is None:
        return None
    chance = 1.0 / s.classes
    if float(np.median(accuracy[-s.tail :])) > chance + CHANCE_MARGIN:
        return None
    return Finding("stuck", "warning", None,
        f"test accuracy is at chance level ({_percent(float(accuracy[-1]))} with "
        f"{s.classes} classes, chance is {_percent(chance)}): the network is not learning "
        f"— {cure}")  # fmt: skip


def swinging(s: Signals) -> Finding | None:
    accuracy = s.column("test_acc")
    if accuracy is None:
        return None
    tail = accuracy[-max(MIN_EPOCHS, int(SWING_SHARE * s.done)) :]
    low, high = float(np.min(tail)), float(np.max(tail))
    if high - low < SWING:
        return None
    return Finding("swinging", "warning", s.done - len(tail) + 1,
        f"test accuracy swings between {_percent(low)} and {_percent(high)} (the steps are too "
        "large to settle): lower the learning rate")  # fmt: skip


def overfitting(s: Signals) -> Finding | None:
    test = s.column("test_loss")
    if test is None:
        return None
    train = smoothed(s.columns["train_loss"])
    smooth = smoothed(test)
    best = int(np.argmin(smooth))
    stretch = s.done - 1 - best
    if stretch < max(5, OVERFIT_STRETCH * s.done):
        return None
    rise = smooth[-1] - smooth[best]
    rose = rise >= OVERFIT_RISE * smooth[best] and rise >= OVERFIT_MATTERS * s.baseline
    if not (rose and train[-1] <= train[best]):  # (so the test − train gap widened)
        return None
    accuracy, train_accuracy = s.column("test_acc"), s.column("train_acc")
    if s.classes and accuracy is not None:
        end = float(np.mean(accuracy[-max(3, s.done // 20) :]))
        dropped = float(np.max(accuracy)) - end >= OVERFIT_ACCURACY_DROP
        gap = train_accuracy is not None and float(train_accuracy[-1]) - end >= OVERFIT_ACCURACY_GAP
        if not (dropped or gap):
            return None  # the test loss creeps up while the accuracy holds: not worth a warning
    if s.stopped_early:  # the cure was taken: worth knowing, not a warning
        return Finding("overfitting", "observation", best + 1,
            f"the network began to overfit at epoch {best + 1} (the test loss rose from "
            f"{_number(smooth[best])} to {_number(smooth[-1])}); early stopping ended the run "
            "there")  # fmt: skip
    return Finding("overfitting", "warning", best + 1,
        f"the network overfits from epoch {best + 1}: the test loss rose from "
        f"{_number(smooth[best])} to {_number(smooth[-1])} while the training loss fell to "
        f"{_number(train[-1])} — it learns the training points rather than the function; try "
        "L2 (weight decay), dropout, fewer epochs or early stopping")  # fmt: skip


def unit_findings(s: Signals, learning: bool) -> list[Finding]:
    """Layers with most units dead or saturated, one finding per state: an observation on a run
    that learned, a warning otherwise."""
    found = []
    for state in ("dead", "saturated"):
        layers = [u for u in s.units if u.state == state and u.units and
                  u.count >= UNIT_SHARE * u.units]  # fmt: skip
        if not layers:
            continue
        what = " and ".join(
            f"{u.count} of {u.units} {u.activation} units in hidden layer {u.layer}"
            for u in layers
        )
        if state == "dead":
            said = f"{what} are dead (never active on the training rows)"
            cure = "a lower learning rate or leaky_relu keeps them alive"
        else:
            said = f"{what} are saturated (at their limits on nearly every input)"
            cure = "their gradients vanish: a lower learning rate or a smaller net helps"
        if learning:
            found.append(Finding("dead_units", "observation", None,
                f"{said}; the other units carry the fit — {cure}"))  # fmt: skip
        else:
            found.append(Finding("dead_units", "warning", None,
                f"{said} and the network is not learning: {cure}"))  # fmt: skip
    return found


def plateau(s: Signals) -> Finding | None:
    train = s.columns["train_loss"]
    recent = int(np.ceil(PLATEAU_SHARE * s.done))
    if s.done < 0.5 * s.epochs or recent >= s.done:
        return None
    earlier = float(np.min(train[:-recent]))
    if float(np.min(train[-recent:])) < earlier:
        return None
    since = int(np.argmin(train[:-recent])) + 1
    return Finding("plateau", "observation", since,
        f"the training loss has not improved since epoch {since}: the run had learned what it "
        "could by then, and fewer epochs would do")  # fmt: skip


def noisy_end(s: Signals) -> Finding | None:
    train = s.columns["train_loss"]
    tail = train[-max(MIN_EPOCHS, int(NOISY_SHARE * s.done)) :]
    low, high = float(np.min(tail)), float(np.max(tail))
    if low <= 0 or high < NOISY_SPREAD * low:
        return None
    rises = np.diff(np.log10(tail))
    if float(rises[rises > 0].sum()) < np.log10(NOISY_SPREAD):
        return None  # a steady fall over a decade is learning, not noise
    return Finding("noisy_end", "observation", s.done - len(tail) + 1,
        f"the loss jumps between {_number(low)} and {_number(high)} in the last epochs: a lower "
        "learning rate or a larger batch would settle it")  # fmt: skip


def findings(signals: Signals) -> list[Finding]:
    """Every finding for a run so far, warnings first (causes before symptoms), then
    observations. Nothing before `MIN_EPOCHS` or on non-finite training losses (a diverged run
    has its own status)."""
    train = signals.columns.get("train_loss")
    if train is None or len(train) < MIN_EPOCHS or not np.isfinite(train).all():
        return []
    cause = (raised_lr_hurt(signals) or diverging(signals) or too_slow(signals)
             or swinging(signals))  # fmt: skip
    learning = cause is None and signals.learned
    units = unit_findings(signals, learning)
    if cause is None and not learning and units:
        cause = units.pop(0)  # most units dead or saturated: the reason it does not learn
    cause = cause or stuck(signals)
    found = [cause] if cause else []
    found += units
    if cause is None:
        found.append(overfitting(signals))
        if learning:
            found += [plateau(signals), noisy_end(signals)]
    found = [finding for finding in found if finding is not None]
    return sorted(found, key=lambda finding: finding.severity != "warning")


class Diagnosis:
    """A run's findings over time: `update` re-reads the history; a finding that its rule
    cannot date gets the epoch at which it was first seen (kept while it stays)."""

    def __init__(self) -> None:
        self.first_seen: dict[tuple[str, str], int] = {}
        self.findings: list[Finding] = []

    def update(self, signals: Signals) -> list[Finding]:
        current = []
        for finding in findings(signals):
            if finding.epoch is None:
                key = (finding.kind, finding.severity)
                epoch = self.first_seen.setdefault(key, signals.done)
                finding = Finding(finding.kind, finding.severity, epoch, finding.sentence)
            current.append(finding)
        seen = {(finding.kind, finding.severity) for finding in current}
        self.first_seen = {key: e for key, e in self.first_seen.items() if key in seen}
        self.findings = current
        return current

    @property
    def warnings(self) -> list[str]:
        """The warning sentences, the cause first."""
        return [f.sentence for f in self.findings if f.severity == "warning"]

    @property
    def observations(self) -> list[str]:
        """The observation sentences."""
        return [f.sentence for f in self.findings if f.severity == "observation"]


def sentences(findings: list[dict], severity: str) -> list[str]:
    """The sentences of the findings (wire form, `Finding.json`) of one severity. A stored run
    of an earlier version holds plain warning sentences: they count as warnings."""
    return [
        item if isinstance(item, str) else item["sentence"]
        for item in findings
        if (isinstance(item, str) and severity == "warning")
        or (isinstance(item, dict) and item.get("severity") == severity)
    ]
