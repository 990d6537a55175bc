"""Sweeps (issue 30): many runs launched as one and compared live.

`spec` checks a sweep's body and expands it into runs; `store` keeps sweeps (memory and the run
database); `scheduler` starts their runs as compute frees up, fairly beside single runs, and
applies successive halving (`halving`); `results` answers their tables; `api` the routes and
the page. `install(app)` wires them into an app (called by `app.create_app`).
"""

from __future__ import annotations

from typing import Any

SCALED_PARALLEL = 8  # runs of one sweep queued for the workers at once (scaled mode's default)


def install(app: Any) -> None:
    """Give `app` its sweeps: ``app.extensions["sweeps"]`` (a `SweepScheduler`, resuming the
    stored sweeps that were running) and the routes of `app.sweeps.api`."""
    from app.sweeps.api import sweeps_api
    from app.sweeps.scheduler import SweepScheduler
    from app.sweeps.store import SweepStore

    store = SweepStore(app.extensions.get("store"))
    app.extensions["sweeps"] = SweepScheduler(
        app.extensions["runs"],
        store,
        app.extensions["datasets"],
        app.config["WORK_BUDGET"],
        app.config.get("SWEEP_PARALLEL") or (None if hasattr(app.extensions["runs"], "slots")
                                             else SCALED_PARALLEL),
    )
    app.register_blueprint(sweeps_api)
