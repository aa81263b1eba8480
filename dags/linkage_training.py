"""
# linkage_training

Trains a **candidate** linkage model on everything currently staged, evaluates it, and leaves it
waiting for information governance's approval. The nightly DAG keeps scoring with the current
*approved* model until IG approves the candidate:

    carelink model list
    carelink model approve <model file> --by "<name>" --on <date>

Runs weekly (Sunday 05:00 Europe/London) or when triggered by hand. Training estimates the
model's parameters unsupervised (u by random sampling, m by expectation-maximisation); the
evaluation scores it against clerically reviewed pairs when any are recorded, and reports
the model's own estimated precision and recall at the threshold otherwise.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import dag, get_current_context, task

from carelink import pipeline
from carelink.notify import TASK_CALLBACKS


@dag(
    dag_id="linkage_training",
    schedule="0 5 * * 0",
    start_date=pendulum.datetime(2026, 1, 1, tz="Europe/London"),  # 05:00 London
    catchup=False,
    max_active_runs=1,
    tags=["carelink", "linkage", "training"],
    default_args={
        "owner": "carelink-data-engineering",
        "retries": 2,
        "retry_delay": timedelta(minutes=5),
        "execution_timeout": timedelta(hours=2),
        **TASK_CALLBACKS,
    },
    doc_md=__doc__,
)
def linkage_training() -> None:
    @task
    def train_candidate() -> dict:
        """Fit a new model on the staged records; saved as a candidate, not approved."""
        ctx = get_current_context()
        return pipeline.run_training(pipeline.task_settings(), pipeline.run_moment(ctx).date(),
                                     ctx["run_id"])

    @task
    def evaluate_candidate(candidate: dict) -> dict:
        """Record the candidate's evaluation figures in its metadata for IG's decision."""
        return pipeline.run_candidate_evaluation(pipeline.task_settings(), candidate["version"])

    evaluate_candidate(train_candidate())


linkage_training()
