# carelink image for the production-like stack (docker-compose.yml): Airflow 3 with the
# project installed from the pinned lock, so the scheduler, workers and CLI run the code CI
# tested.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    AIRFLOW_HOME=/opt/airflow \
    AIRFLOW__CORE__DAGS_FOLDER=/opt/carelink/dags \
    AIRFLOW__CORE__LOAD_EXAMPLES=False

RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential libpq5 tini \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 50000 airflow \
    && mkdir -p /opt/airflow /data/landing \
    && chown -R airflow /opt/airflow /data

WORKDIR /opt/carelink
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt
COPY --chown=airflow . .
RUN pip install --no-cache-dir --no-deps .

USER airflow
ENTRYPOINT ["/usr/bin/tini", "--", "airflow"]
CMD ["version"]
