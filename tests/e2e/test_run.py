"""`cisp-bot run` as an operator starts it: a real process, polling the fake Bot API, stopped by SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.conftest import SHIPPED_FAQ
from tests.fakes.telegram_api import FakeBotApi

TOKEN = "123456:ABC-cisp_run"


def start_bot(tmp_path: Path, api_url: str, **env: str) -> subprocess.Popen[str]:
    environment = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'run.sqlite3'}",
        "FAQ_DIR": str(SHIPPED_FAQ),
        "STATE_DIR": str(tmp_path / "state"),
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": api_url,
        "FAQ_EMBEDDER": "none",  # words only, but in test_run_with_the_embedder_keeps_its_vectors
        **env,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=tmp_path,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def stop_with_sigterm(process: subprocess.Popen[str]) -> str:
    """Send SIGTERM as systemd does; return the output once the process has ended."""
    try:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
    return output


def test_run_polls_answers_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    with FakeBotApi(token=TOKEN) as api:
        process = start_bot(tmp_path, api.base_url)
        api.user_sends(4242, "/start", first_name="Samira")
        welcome = asyncio.run(api.wait_for_messages(4242, 5, timeout=30))
        assert "Bonjour" in (welcome[0].rendered_text or "")
        started = time.monotonic()
        output = stop_with_sigterm(process)
        assert process.returncode == 0, output
        assert time.monotonic() - started < 15
        assert "Traceback" not in output
        assert (tmp_path / "state" / "faq-derniere-version-valide").is_dir()


def test_run_with_the_embedder_keeps_its_vectors_across_restarts(tmp_path: Path) -> None:
    embeddings = tmp_path / "state" / "embeddings"
    with FakeBotApi(token=TOKEN) as api:
        outputs = []
        for run in (1, 2):
            process = start_bot(tmp_path, api.base_url, FAQ_EMBEDDER="use", LOG_LEVEL="INFO")
            api.user_sends(4242, "/start", first_name="Samira")
            # The bot answered at once, by words; the FAQ's meaning is computed behind it.
            asyncio.run(api.wait_for_messages(4242, 5 * run, timeout=90))
            deadline = time.monotonic() + 180
            while not list(embeddings.glob("faq-*.npz")) and time.monotonic() < deadline:
                time.sleep(0.5)
            outputs.append(stop_with_sigterm(process))
            assert process.returncode == 0, outputs[-1]
    first, second = outputs
    assert "meaning of" in first and "phrasings computed" in first, first
    assert list(embeddings.glob("faq-*.npz")) and list(embeddings.glob("intents-*.npz"))
    # The restart read every vector from STATE_DIR/embeddings: nothing embedded again.
    assert "phrasings computed" not in second, second
    assert "semantic matching is off" not in first + second


def test_run_without_a_channel_says_what_to_configure(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        cwd=tmp_path,
        env={**os.environ, "TELEGRAM_BOT_TOKEN": "", "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "TELEGRAM_BOT_TOKEN" in result.stderr


def test_the_token_never_reaches_the_logs(tmp_path: Path) -> None:
    with FakeBotApi(token=TOKEN) as api:
        process = start_bot(tmp_path, api.base_url, LOG_LEVEL="DEBUG")
        api.user_sends(4242, "/start", first_name="Samira")
        asyncio.run(api.wait_for_messages(4242, 5, timeout=30))
        output = stop_with_sigterm(process)
    assert "getUpdates" in output or "sendMessage" in output or "Telegram" in output, "no logs at DEBUG?"
    assert TOKEN.split(":")[1] not in output


def test_a_rejected_token_is_said_plainly_without_the_token(tmp_path: Path) -> None:
    with FakeBotApi(token=TOKEN) as api:
        process = start_bot(tmp_path, api.base_url, TELEGRAM_BOT_TOKEN="999:WRONG-secret-token")
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 1, output
    assert "vérifiez le jeton" in output
    assert "WRONG-secret-token" not in output


def test_webhook_mode_listens_then_registers_and_stops_on_sigterm(tmp_path: Path) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with FakeBotApi(token=TOKEN) as api:
        process = start_bot(
            tmp_path, api.base_url, PUBLIC_URL=f"http://127.0.0.1:{port}", HOST="127.0.0.1", PORT=str(port)
        )
        try:
            asyncio.run(api.wait_until(lambda: bool(api.webhook_url), timeout=30, what="setWebhook"))
            assert api.webhook_url == f"http://127.0.0.1:{port}/telegram"
            update_id = api.user_sends(4242, "/start", first_name="Samira")
            assert asyncio.run(api.deliver_to_webhook(update_id, secret_token="nope")) == 403
            assert asyncio.run(api.deliver_to_webhook(update_id)) == 200
            # Stored before the answer, then answered.
            welcome = asyncio.run(api.wait_for_messages(4242, 5, timeout=10))
            assert "Bonjour" in (welcome[0].rendered_text or "")
            # The staff console is served beside the webhook.
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/console/entrer", timeout=10) as page:
                assert "demandez un lien au bot" in page.read().decode()
        finally:
            output = stop_with_sigterm(process)
    assert process.returncode == 0, output
