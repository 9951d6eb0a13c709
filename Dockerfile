# One image for every civicwatch process: the worker, the connectors, the review service and the
# topics job differ only by their command (`civicwatch worker`, `civicwatch connect x`, ...).
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY civicwatch ./civicwatch
COPY workers ./workers
COPY connectors ./connectors
COPY review ./review
COPY pipelines ./pipelines
COPY schemas ./schemas
COPY runtime ./runtime
COPY benchmarks ./benchmarks
RUN python -m venv /opt/civicwatch && /opt/civicwatch/bin/pip install --upgrade pip && /opt/civicwatch/bin/pip install .

FROM python:3.11-slim
ENV PATH=/opt/civicwatch/bin:$PATH PYTHONUNBUFFERED=1 CIVICWATCH_DATA_DIR=/data CIVICWATCH_LOG_FORMAT=json
COPY --from=build /opt/civicwatch /opt/civicwatch
RUN useradd --uid 10001 --create-home civicwatch && mkdir -p /data && chown civicwatch /data
COPY deploy/sample /opt/civicwatch-sample
USER 10001
WORKDIR /data
ENTRYPOINT ["civicwatch"]
CMD ["worker"]
