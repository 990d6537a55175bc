"""Pages: the dashboard (`/`, `/fit/<task>`), the runs page (`/runs`), plotly.js from the
installed package, favicon."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import plotly
from flask import Blueprint, current_app, render_template, send_file, send_from_directory

from app.data.tasks import CUSTOM_ID, DATASET_PREFIX, app_tasks, dataset_task, task_list
from app.runs.control import TERMINAL
from app.runs.pace import AUTO_SECONDS
from app.training.inside import NEURONS_SHOWN

pages = Blueprint("pages", __name__)

ONE_WEEK = 7 * 24 * 3600


@pages.app_context_processor
def page_facts() -> dict[str, Any]:
    """Facts the scripts of every page read from ``<body data-...>`` (one home: the server), and
    the seconds an auto-paced run takes that the Speed control says."""
    return {"terminal_statuses": " ".join(sorted(TERMINAL)), "neurons_shown": NEURONS_SHOWN,
            "auto_seconds": f"{AUTO_SECONDS:g}"}  # fmt: skip


def _plotly_js() -> Path:
    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


@pages.get("/")
def index() -> Any:
    """The dashboard with no task chosen yet."""
    return render_template("index.html", tasks=task_list(), initial_task=None)


@pages.get("/fit/<task_id>")
def fit(task_id: str) -> Any:
    """The dashboard opened on a task (the query string may carry a config and a run id).

    Besides the registry's tasks: ``/fit/custom?expression=...`` (the page reads the expression
    from the query string) and ``/fit/dataset:<id>`` for an upload this server still holds; the
    template also gets ``initial_task_info``, the dataset task's dict (None otherwise).
    """
    info = None
    if task_id.startswith(DATASET_PREFIX):
        dataset_id = task_id[len(DATASET_PREFIX) :]
        dataset = current_app.extensions["datasets"].get(dataset_id)
        if dataset is None:
            message = f"Unknown dataset '{dataset_id}': upload the file again"
            return render_template("404.html", message=message, tasks=task_list()), 404
        info = dataset_task(dataset_id, dataset).to_json()
    elif task_id not in app_tasks() and task_id != CUSTOM_ID:
        message = f"Unknown task '{task_id}'"
        return render_template("404.html", message=message, tasks=task_list()), 404
    return render_template(
        "index.html", tasks=task_list(), initial_task=task_id, initial_task_info=info
    )


@pages.get("/runs")
def runs_page() -> Any:
    """The runs page: every run, sortable and filterable, with an overlay of their curves; on a
    server with an access token (owners: app/web/owners.py) an Owner column and a "mine" filter."""
    owners = current_app.config.get("ACCESS_TOKEN") is not None
    return render_template("runs.html", owners=owners)


@pages.get("/vendor/plotly.min.js")
def plotly_js() -> Any:
    """plotly.js as shipped in the pinned `plotly` wheel (no CDN)."""
    return send_file(_plotly_js(), mimetype="text/javascript", max_age=ONE_WEEK)


@pages.get("/favicon.ico")
def favicon() -> Any:
    """Browsers ask for /favicon.ico; answer with the SVG icon."""
    return send_from_directory(
        current_app.static_folder, "favicon.svg", mimetype="image/svg+xml", max_age=ONE_WEEK
    )
