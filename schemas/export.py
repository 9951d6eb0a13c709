"""Writes the JSON Schema of every event to ``schemas/json/`` for analysts and other consumers."""

from __future__ import annotations

import json
from pathlib import Path

from schemas.events import ALL_EVENTS

JSON_DIR = Path(__file__).with_name("json")


def render() -> dict[str, str]:
    """File name -> JSON Schema text, for every event and version."""
    out: dict[str, str] = {}
    for model in ALL_EVENTS:
        schema = model.model_json_schema(mode="serialization")
        schema["$id"] = f"civicwatch:{model.SCHEMA_NAME}:v{model.SCHEMA_VERSION}"
        name = f"{model.SCHEMA_NAME}.v{model.SCHEMA_VERSION}.json"
        out[name] = json.dumps(schema, indent=2, sort_keys=True) + "\n"
    return out


def write(directory: Path = JSON_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in render().items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for p in write():
        print(p)
