"""`run_bot.py` subcommands, run as a new user would run them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.crypto import generate_key_material
from bot.settings import PROJECT_ROOT


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    material = generate_key_material()
    environ = {k: v for k, v in os.environ.items()
               if k not in ("DATABASE_URL", "REDIS_URL", "PORT", "HOST")}
    environ.update(
        VAR_DIR=str(tmp_path / "var"),
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}",
        ENCRYPTION_KEYS=material["encryption_keys"][0],  # type: ignore[index]
        ADDRESS_HASH_KEY=str(material["address_hash_key"]),
        NLU_CACHE_DIR=str(tmp_path / "nlu"),
    )
    return environ


def run(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(PROJECT_ROOT / "run_bot.py"), *args],
                          input=stdin, capture_output=True, text=True, env=env,
                          cwd=PROJECT_ROOT, timeout=120)


def test_setup_commands(env: dict[str, str], tmp_path: Path) -> None:
    done = run(env, "db", "upgrade")
    assert done.returncode == 0, done.stderr
    sample = str(PROJECT_ROOT / "data" / "centers" / "sample_centers.csv")
    done = run(env, "centers", "import", "--if-empty", sample)
    assert done.returncode == 0 and "93 centers imported" in done.stdout
    assert "are samples, not real centers" in done.stdout
    again = run(env, "centers", "import", "--if-empty", sample)
    assert "nothing imported" in again.stdout

    out = tmp_path / "export.csv"
    done = run(env, "centers", "export", "-o", str(out))
    assert done.returncode == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("id,name,kind,city,province_id,region_id,lat,lon,services")
    assert len(lines) == 94

    done = run(env, "users", "add", "--username", "salma", "--password", "long enough pw",
               "--role", "counselor", "--center", "sample-09581-emf")
    assert done.returncode == 0, done.stderr
    done = run(env, "users", "add", "--username", "salma", "--password", "long enough pw",
               "--role", "counselor", "--center", "sample-09581-emf")
    assert done.returncode == 2 and "already exists" in done.stderr
    done = run(env, "users", "add", "--username", "x", "--password", "long enough pw",
               "--role", "counselor")
    assert done.returncode == 2 and "a counselor belongs to a center" in done.stderr
    done = run(env, "users", "add", "--username", "y", "--password", "short",
               "--role", "admin")
    assert done.returncode == 2 and "at least 10 characters" in done.stderr


def test_centers_import_refuses_a_bad_file(env: dict[str, str], tmp_path: Path) -> None:
    run(env, "db", "upgrade")
    bad = tmp_path / "bad.csv"
    bad.write_text("id,name,kind,city,province_id,region_id,lat,lon,services\n"
                   "a,A,emf,X,09.581,09,nope,-9,listening\n", encoding="utf-8")
    done = run(env, "centers", "import", str(bad))
    assert done.returncode == 2
    assert "nothing imported" in done.stderr and "line 2: lat/lon: not numbers" in done.stderr


def test_flows_validate(env: dict[str, str], tmp_path: Path) -> None:
    done = run(env, "flows", "validate")
    assert done.returncode == 0 and "flow 'intake' is valid" in done.stdout
    broken = tmp_path / "broken.yaml"
    broken.write_text((PROJECT_ROOT / "config" / "flows" / "intake.yaml").read_text(
        encoding="utf-8").replace("goto: ask_consent", "goto: ask_consnet"), encoding="utf-8")
    done = run(env, "flows", "validate", str(broken))
    assert done.returncode == 1
    assert "flow 'intake' node 'ask_safe' routes[0].goto: unknown node 'ask_consnet'" in done.stderr


def test_a_wrong_setting_fails_at_start_and_names_it(env: dict[str, str]) -> None:
    env["PORT"] = "eighty"
    done = run(env, "flows", "validate")
    assert done.returncode == 2 and "setting PORT" in done.stderr


def test_chat_in_the_terminal(env: dict[str, str]) -> None:
    run(env, "db", "upgrade")
    done = run(env, "chat", stdin="salam\nwah\n")
    assert done.returncode == 0, done.stderr
    assert "Amane: Salam. Hna t9dri tktbi" in done.stdout
    assert "   1. Ah" in done.stdout
    assert "Mostachara mn markaz" in done.stdout


def test_nlu_parse_reads_and_writes_json_lines(env: dict[str, str]) -> None:
    import json

    lines = "\n".join([json.dumps({"text": "j'ai besoin d'un avocat"}),
                       json.dumps({"text": "rajli bgha y9tlni daba 3afak"}),
                       "not json"]) + "\n"
    done = run(env, "nlu", "parse", stdin=lines)
    assert done.returncode == 0, done.stderr
    first, second, third = [json.loads(line) for line in done.stdout.splitlines()]
    assert list(first) == ["text", "language", "intent", "confidence", "urgent", "city",
                           "violence"]
    assert (first["language"], first["intent"], first["urgent"]) == ("fr", "need_legal", False)
    assert second["language"] == "ary_latn" and second["urgent"] is True
    assert third == {"error": "not valid JSON", "line": 3}


def test_nlu_export_rasa(env: dict[str, str], tmp_path: Path) -> None:
    import yaml

    out = tmp_path / "rasa"
    done = run(env, "nlu", "export-rasa", str(out))
    assert done.returncode == 0, done.stderr
    config = yaml.safe_load((out / "config.yml").read_text(encoding="utf-8"))
    assert config["pipeline"]
    nlu = yaml.safe_load((out / "data" / "nlu.yml").read_text(encoding="utf-8"))
    assert nlu["version"] == "3.1"
    assert {item["intent"] for item in nlu["nlu"]} >= {"need_legal", "emergency", "greet"}
def test_serve_with_several_workers_needs_postgres_and_redis(env: dict[str, str]) -> None:
    result = run(env, "serve", "--workers", "2")
    assert result.returncode == 2
    assert "--workers 2 needs" in result.stderr
    assert "DATABASE_URL" in result.stderr and "REDIS_URL" in result.stderr


def test_workers_refusal_names_what_is_missing() -> None:
    from bot.cli import workers_refusal
    from bot.settings import Settings

    scaled = Settings(database_url="postgresql+asyncpg://a@b/c", redis_url="redis://r:6379/0")
    assert workers_refusal(scaled, 4, telegram_polling=False) is None
    assert workers_refusal(scaled, 1, telegram_polling=True) is None
    polling = workers_refusal(scaled, 2, telegram_polling=True)
    assert polling is not None and "--telegram-polling" in polling
    no_redis = workers_refusal(Settings(database_url="postgresql+asyncpg://a@b/c",
                                        redis_url=""), 2, False)
    assert no_redis is not None and "REDIS_URL" in no_redis and "DATABASE_URL" not in no_redis
    assert workers_refusal(scaled, 0, False) == "--workers must be at least 1"


def test_users_add_reads_the_password_from_stdin(env: dict[str, str]) -> None:
    run(env, "db", "upgrade")
    done = run(env, "users", "add", "--username", "boss", "--role", "admin",
               stdin="a long passphrase here\n")
    assert done.returncode == 0, done.stderr
    assert "a long passphrase" not in done.stdout + done.stderr
    done = run(env, "users", "add", "--username", "b2", "--role", "admin", stdin="short\n")
    assert done.returncode == 2 and "at least 10 characters" in done.stderr
