"""The command line, run as a newcomer would: real processes, a real database file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, SHIPPED_FAQ


def run(args: list[str], tmp_path: Path, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}",
        "FAQ_DIR": str(SHIPPED_FAQ),
        # Each test has its own STATE_DIR, so the model would embed the FAQ anew every time (seconds):
        # the commands are tested by words here, the semantic stage in its own tests (FAQ_EMBEDDER=use).
        "FAQ_EMBEDDER": "none",
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=environment,
        timeout=120,
    )


def test_scripted_chat_walks_onboarding_and_answers_a_misspelled_question(tmp_path: Path) -> None:
    script = "/start\n1\nje m'appelle samira\n2\nmon ordi demare plu\n/mesdonnees\n"
    result = run(["chat", "--user", "samira"], tmp_path, stdin=script)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "> /start" in out
    assert "Vous êtes d'accord ?" in out
    assert "Merci Samira ! Quelle est votre formation" in out
    assert "Bienvenue, Samira" in out
    answer = out.split("> mon ordi demare plu\n", 1)[1].split("\n> ", 1)[0]
    # The answer of the shipped entry 'ordinateur-ne-demarre-pas', not suggestions.
    assert answer.startswith("🤖 Étape 1 sur 5 : Branchez le chargeur et attendez 10 minutes"), answer
    assert "Je ne suis pas sûr" not in answer
    assert "Prénom : Samira" in out
    assert "Formation : Horticulture" in out
    assert "📎 mes-donnees.txt :" in out


def test_demo_is_idempotent(tmp_path: Path) -> None:
    first = run(["demo"], tmp_path)
    assert first.returncode == 0, first.stderr
    assert "ajouté : Admin" in first.stdout
    second = run(["demo"], tmp_path)
    assert second.returncode == 0, second.stderr
    assert "déjà là : Admin" in second.stdout
    listed = run(["staff", "list"], tmp_path)
    assert listed.stdout.count("\n") == 3


def test_two_terminals_a_trainee_and_a_social_worker(tmp_path: Path) -> None:
    assert run(["demo"], tmp_path).returncode == 0
    trainee = run(
        ["chat", "--user", "samira"],
        tmp_path,
        stdin="/start\n1\nSamira\n2\nParler à quelqu'un\nmon ordinateur est cassé\n",
    )
    assert "Votre demande est transmise à l'équipe." in trainee.stdout, trainee.stdout
    listed = run(["tickets", "--json"], tmp_path)
    [ticket] = json.loads(listed.stdout)
    assert ticket["trainee"] == "Samira" and ticket["status"] == "waiting" and ticket["worker"] is None
    assert ticket["subject"] == "mon ordinateur est cassé"
    assert ticket["opened_at"][-6:] in ("+01:00", "+02:00")  # Brussels time, with its offset
    worker = run(["chat", "--user", "claire"], tmp_path, stdin="1\nBonjour Samira, passez au bureau 2.\n")
    assert "Demande n°1 : Samira (Horticulture), sur le terminal." in worker.stdout, worker.stdout
    assert "Vous suivez la demande n°1 de Samira" in worker.stdout
    assert "✓ Envoyé à Samira." in worker.stdout
    assert "suivie par Claire" in run(["tickets"], tmp_path).stdout
    back = run(["chat", "--user", "samira"], tmp_path, stdin="merci !\n")
    out = back.stdout
    relayed = out.index("💬 Claire : Bonjour Samira, passez au bureau 2.")
    assert out.index("Claire a pris votre demande.") < relayed
    assert "✓ Transmis." in out


def test_booking_in_the_terminal_then_the_appointments_command(tmp_path: Path) -> None:
    availability = str(ROOT / "disponibilites.yaml")
    assert run(["demo"], tmp_path, AVAILABILITY_FILE=availability).returncode == 0
    checked = run(["availability", "check"], tmp_path, AVAILABILITY_FILE=availability)
    assert checked.returncode == 0, checked.stdout
    script = "/start\n1\nSamira\n2\nPrendre rendez-vous\n1\n1\n1\n1\n"
    chat = run(["chat", "--user", "samira"], tmp_path, stdin=script, AVAILABILITY_FILE=availability)
    assert "✅ C'est réservé" in chat.stdout, chat.stdout
    assert "📎 rendez-vous.ics" in chat.stdout
    listed = run(["appointments", "--json"], tmp_path, AVAILABILITY_FILE=availability)
    [appointment] = json.loads(listed.stdout)
    assert appointment["worker"] == "Claire" and appointment["trainee"] == "Samira"
    assert appointment["status"] == "booked" and appointment["starts_at"][-6:] in ("+01:00", "+02:00")
    agenda = run(["appointments", "--ics", "--worker", "claire"], tmp_path, AVAILABILITY_FILE=availability)
    assert (
        agenda.stdout.startswith("BEGIN:VCALENDAR")
        and "SUMMARY:Samira : Problème d'ordinateur" in agenda.stdout
    )
    worker = run(["chat", "--user", "claire"], tmp_path, stdin="/rdv\n", AVAILABILITY_FILE=availability)
    assert "Nouveau rendez-vous : Samira (Horticulture)" in worker.stdout
    assert "Vos prochains rendez-vous" in worker.stdout
    off = run(["availability", "off", "claire", "2030-01-02"], tmp_path, AVAILABILITY_FILE=availability)
    assert off.returncode == 0 and "1 jour(s) de congé ajouté(s)" in off.stdout
    unknown = run(["availability", "off", "zorro", "2030-01-02"], tmp_path, AVAILABILITY_FILE=availability)
    assert unknown.returncode == 1 and "zorro" in unknown.stderr


def test_availability_check_names_file_line_and_worker(tmp_path: Path) -> None:
    broken = tmp_path / "dispo.yaml"
    broken.write_text("- id: claire\n  name: Claire\n  weekley:\n    mar: [09:00-12:00]\n", encoding="utf-8")
    result = run(["availability", "check", "--file", str(broken)], tmp_path)
    assert result.returncode == 1
    assert "dispo.yaml" in result.stdout and "3" in result.stdout and "weekly" in result.stdout


def test_sessions_import_list_and_my_sessions(tmp_path: Path) -> None:
    csv = tmp_path / "sessions.csv"
    csv.write_text(
        "module,starts_at,duration_minutes,place,filieres,trainer\n"
        "Utiliser l'ordinateur,2030-01-08 09:00,180,Salle 3,Horticulture;Bâtiment,Nadia\n"
        "Créer son e-mail,2030-01-09 13:30,120,https://visio.example.org/email,toutes,Nadia\n",
        encoding="utf-8",
    )
    first = run(["sessions", "import", str(csv)], tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "2 nouvelle(s)" in first.stdout
    again = run(["sessions", "import", str(csv)], tmp_path)
    assert "0 nouvelle(s)" in again.stdout and "2 inchangée(s)" in again.stdout
    listed = json.loads(run(["sessions", "list", "--json"], tmp_path).stdout)
    assert [item["module"] for item in listed] == ["Utiliser l'ordinateur", "Créer son e-mail"]
    assert listed[0]["starts_at"] == "2030-01-08T09:00:00+01:00" and listed[1]["video"] is True
    script = "/start\n1\nSamira\n2\nMes séances\n"
    chat = run(["chat", "--user", "samira"], tmp_path, stdin=script)
    assert "Utiliser l'ordinateur, Salle 3" in chat.stdout and "Créer son e-mail, en visio" in chat.stdout
    broken = tmp_path / "broken.csv"
    broken.write_text(
        "module,starts_at,duration_minutes,place,filieres,trainer\n"
        "CV,2030-01-10 09:00,60,Salle 3,Horticulture,Nadia\n"
        "CV,2030-13-10 09:00,60,Salle 3,Horticultur,Nadia\n",
        encoding="utf-8",
    )
    refused = run(["sessions", "import", str(broken)], tmp_path)
    assert refused.returncode == 1 and "broken.csv, ligne 3" in refused.stdout
    assert "Rien n'a été importé" in refused.stderr
    assert len(json.loads(run(["sessions", "list", "--json"], tmp_path).stdout)) == 2  # all or nothing


def test_faq_check_on_the_shipped_faq(tmp_path: Path) -> None:
    result = run(["faq", "check", "--faq-dir", str(SHIPPED_FAQ)], tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_faq_check_names_file_entry_and_field(tmp_path: Path) -> None:
    faq_dir = tmp_path / "bad"
    faq_dir.mkdir()
    (faq_dir / "general.yaml").write_text(
        "- id: wifi\n  question: Comment avoir le wifi ?\n", encoding="utf-8"
    )
    result = run(["faq", "check", "--faq-dir", str(faq_dir)], tmp_path)
    assert result.returncode == 1
    assert "general.yaml" in result.stdout and "wifi" in result.stdout and "answer" in result.stdout


def test_faq_check_names_a_mistake_in_the_intent_examples(tmp_path: Path) -> None:
    faq_dir = tmp_path / "faq"
    (faq_dir / "intentions").mkdir(parents=True)
    (faq_dir / "general.yaml").write_text(
        "- id: wifi\n  question: Comment avoir le wifi ?\n  answer: Cliquez sur le Wi-Fi.\n", encoding="utf-8"
    )
    (faq_dir / "intentions" / "nous.yaml").write_text("person:\n  - voir madame Dupont\nbooking:\n  - rdv\n")
    result = run(["faq", "check", "--faq-dir", str(faq_dir)], tmp_path, FAQ_LANGUAGES="fr")
    assert result.returncode == 1
    assert "intentions/nous.yaml:3" in result.stdout and "intention inconnue « booking »" in result.stdout


def test_bot_refuses_to_start_on_an_invalid_faq(tmp_path: Path) -> None:
    faq_dir = tmp_path / "bad"
    faq_dir.mkdir()
    (faq_dir / "general.yaml").write_text("- id: wifi\n  question: [oops\n", encoding="utf-8")
    result = run(["chat"], tmp_path, stdin="/start\n", FAQ_DIR=str(faq_dir))
    assert result.returncode == 1
    assert "general.yaml" in result.stderr
    assert "n'est pas valide" in result.stderr


def test_staff_add_and_remove(tmp_path: Path) -> None:
    added = run(
        ["staff", "add", "--telegram-id", "123", "--name", "Claire", "--role", "social_worker"], tmp_path
    )
    assert added.returncode == 0, added.stderr
    assert "Claire" in run(["staff", "list"], tmp_path).stdout
    assert run(["staff", "remove", "--telegram-id", "123"], tmp_path).returncode == 0
    assert run(["staff", "remove", "--telegram-id", "123"], tmp_path).returncode == 1


def test_staff_on_any_channel_by_account(tmp_path: Path) -> None:
    added = run(
        ["staff", "add", "--account", "WhatsApp:32470123456", "--name", "Karim", "--role", "admin"], tmp_path
    )
    assert added.returncode == 0, added.stderr
    assert "whatsapp 32470123456" in added.stdout
    assert "Karim" in run(["staff", "list"], tmp_path).stdout
    assert run(["staff", "remove", "--account", "whatsapp:32470123456"], tmp_path).returncode == 0
    for wrong in (
        ["--account", "fax:123"],
        ["--account", "telegram:"],
        ["--account", "x:1", "--telegram-id", "1"],
    ):
        refused = run(["staff", "add", *wrong, "--name", "X", "--role", "admin"], tmp_path)
        assert refused.returncode == 2 and "CANAL:ID" in refused.stderr, refused.stderr


def test_staff_login_link_prints_one_address_and_the_console_opens_it(tmp_path: Path) -> None:
    import socket
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {"PORT": str(port), "STATE_DIR": str(tmp_path / "state")}
    for name, role in [("Claire", "social_worker"), ("Léa", "admin"), ("Lea", "social_worker")]:
        account = f"console:{name.lower()}-{role}"
        assert (
            run(["staff", "add", "--account", account, "--name", name, "--role", role], tmp_path).returncode
            == 0
        )
    printed = run(["staff", "login-link", "claire"], tmp_path, **env)
    assert printed.returncode == 0, printed.stderr
    [link] = printed.stdout.splitlines()
    assert link.startswith(f"http://127.0.0.1:{port}/console/entrer?cle=")
    unknown = run(["staff", "login-link", "Nadia"], tmp_path, **env)
    assert unknown.returncode == 1 and unknown.stdout == ""
    assert "Personne du personnel avec le prénom « Nadia »" in unknown.stderr and "Claire" in unknown.stderr
    twice = run(["staff", "login-link", "lea"], tmp_path, **env)
    assert twice.returncode == 1 and "--account" in twice.stderr
    chosen = run(["staff", "login-link", "lea", "--account", "console:léa-admin"], tmp_path, **env)
    assert chosen.returncode == 0 and chosen.stdout.count("cle=") == 1
    refused = run(["console", "--host", "0.0.0.0"], tmp_path, **env)
    assert refused.returncode == 1 and "PUBLIC_URL" in refused.stderr
    environment = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}",
        "FAQ_DIR": str(SHIPPED_FAQ),
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "bot", "console"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env={**environment, "FAQ_EMBEDDER": "none", **env},
    )
    try:
        assert server.stdout is not None
        assert server.stdout.readline() == f"Console : http://127.0.0.1:{port}/console\n"
        with urllib.request.urlopen(link, timeout=10) as page:
            assert "Ce lien est pour Claire" in page.read().decode()
    finally:
        server.terminate()
        assert server.wait(timeout=20) == 0


@pytest.mark.parametrize("args", [["--help"], ["db", "upgrade"]])
def test_basic_commands(args: list[str], tmp_path: Path) -> None:
    result = run(args, tmp_path)
    assert result.returncode == 0, result.stderr


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "cisp-bot"
    assert script.exists(), "pip install -e . should install the cisp-bot command"
    assert (ROOT / "bot" / "__main__.py").exists()


def test_env_example_is_a_working_env_file(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text((ROOT / ".env.example").read_text(encoding="utf-8"), encoding="utf-8")
    result = run(["faq", "check"], tmp_path, FAQ_DIR=str(SHIPPED_FAQ))
    assert result.returncode == 0, result.stderr
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("TELEGRAM", "FAQ"))}
    listed = subprocess.run(
        [
            sys.executable,
            "-c",
            "from bot.config import Settings; s = Settings(); print(s.telegram_bot_token, s.filiere_names)",
        ],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.startswith("None ['Bâtiment'")


def test_the_chat_greets_when_it_opens_and_keeps_log_lines_out_of_it(tmp_path: Path) -> None:
    state = tmp_path / "state"
    first = run(["chat", "--user", "lina"], tmp_path, stdin="", STATE_DIR=str(state), LOG_LEVEL="INFO")
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("🤖 👋 Bonjour ! Je suis le robot d'aide"), first.stdout[:200]
    assert "Vous êtes d'accord ?" in first.stdout
    # Log lines (INFO here) went to the log file, not into the chat nor onto the terminal.
    assert " INFO " not in first.stdout + first.stderr, first.stderr
    assert " INFO " in (state / "chat.log").read_text(encoding="utf-8")
    onboarded = run(["chat", "--user", "lina"], tmp_path, stdin="1\nLina\n2\n", STATE_DIR=str(state))
    assert "Bienvenue, Lina" in onboarded.stdout
    again = run(["chat", "--user", "lina"], tmp_path, stdin="", STATE_DIR=str(state))
    assert again.stdout.startswith("🤖 "), again.stdout[:200]
    assert "Lina" in again.stdout.split("\n", 1)[0] and "Que voulez-vous faire ?" in again.stdout
