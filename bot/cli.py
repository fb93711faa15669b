"""The `cisp-bot` command line: chat, demo, db, faq, staff."""

from __future__ import annotations

import asyncio
import io
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.app import App, build_app, configure_logging
from bot.channels.console import ConsoleChannel
from bot.common.clock import SystemClock
from bot.common.text import clean_text
from bot.config import Settings
from bot.core.messages import IncomingMessage, Reply
from bot.core.outbox import Dispatcher
from bot.core.turn import IDLE
from bot.faq import FaqError, check_faq
from bot.storage.db import make_engine, make_session_factory, unit_of_work
from bot.storage.migrate import upgrade_database
from bot.storage.models import ConversationState, Role, User
from bot.texts import CHANNEL_NAMES

if TYPE_CHECKING:
    from bot.runner import WebServer


def _settings_or_defaults(ctx: click.Context) -> Settings:
    """Return the settings, or the defaults when they are invalid (faq commands given --faq-dir)."""
    try:
        return Settings()
    except ValidationError:
        return Settings.model_construct()


def _progress_on_stderr(done: int, total: int) -> None:
    """Show how far the first computation of the FAQ's meaning is (it takes a minute for 1,000 entries)."""
    click.echo(f"Préparation de la FAQ : sens de {done}/{total} phrases calculé.", err=True)


# Where the terminal chat writes its log lines, in STATE_DIR.
CHAT_LOG = "chat.log"


def _settings(ctx: click.Context) -> Settings:
    """Read the settings once, when a command needs them (faq check/match with --faq-dir do not)."""
    root = ctx.find_root()
    if isinstance(root.obj, Settings):
        return root.obj
    try:
        settings = Settings()
    except ValidationError as error:
        click.echo("Réglages invalides (variables d'environnement ou fichier .env) :", err=True)
        for problem in error.errors():
            field = ".".join(str(part) for part in problem["loc"]).upper()
            click.echo(f"  {field} : {problem['msg']}", err=True)
        # faq check promises 0 or 1; every command uses 1 for "could not do it".
        sys.exit(1)
    configure_logging(settings)
    root.obj = settings
    return settings


@contextmanager
def _database(ctx: click.Context) -> Iterator[Session]:
    """Open the configured database (migrated) for one transaction."""
    engine = make_engine(_settings(ctx).database_url)
    try:
        upgrade_database(engine)
        with unit_of_work(make_session_factory(engine)) as session:
            yield session
    finally:
        engine.dispose()


def _between_steps(app: App, user: str) -> bool:
    """Say whether the terminal's person is new to the bot or at no step of a dialogue."""
    with app.session_factory() as session:
        state = session.scalar(
            select(ConversationState.state)
            .join(User, User.id == ConversationState.user_id)
            .where(User.channel == ConsoleChannel.name, User.external_id == user)
        )
    return state is None or state == IDLE


def _build(settings: Settings, *, progress: bool = False, wait_for_meaning: bool = False) -> App:
    """Build the app; progress: show on stderr how far a cold start's embedding is.

    wait_for_meaning: compute the FAQ's missing vectors before returning (`demo` prepares the chat);
    otherwise the words answer while a thread computes them.
    """
    try:
        return build_app(
            settings,
            progress=_progress_on_stderr if progress else None,
            embed_in_background=not wait_for_meaning,
        )
    except FaqError as error:
        click.echo(f"La FAQ dans {settings.faq_dir} n'est pas valide ; le bot ne démarre pas.", err=True)
        click.echo(str(error), err=True)
        sys.exit(1)


@click.group()
def main() -> None:
    """Chatbot d'aide pour les stagiaires d'un CISP."""


@main.command()
@click.option("--user", "user", default="demo", show_default=True, help="Identifiant du compte simulé.")
@click.option("--name", "display_name", default=None, help="Nom de profil simulé (comme sur Telegram).")
@click.option("--console", "with_console", is_flag=True, help="Servir aussi la console web (HOST:PORT).")
@click.pass_context
def chat(ctx: click.Context, user: str, display_name: str | None, with_console: bool) -> None:
    """Parler avec le bot dans le terminal (les journaux vont dans STATE_DIR/chat.log)."""
    settings = _settings(ctx)
    # Log lines never print into the chat: a warning in the middle of a conversation reads as the bot's.
    configure_logging(settings, settings.state_dir / CHAT_LOG)
    app = _build(settings)
    # What others send this person (a social worker's answer, an alert for staff) is printed as it
    # comes, and right after each answer: run `cisp-bot chat --user claire` in another terminal to
    # answer as staff.
    channel = ConsoleChannel(user_id=user, user_name=display_name)
    dispatcher = Dispatcher(app.outbox, {channel.name: channel}, recipient=user, poll_seconds=1.0)
    channel.after_answer = dispatcher.dispatch_once

    async def on_message(message: IncomingMessage) -> list[Reply]:
        return await asyncio.to_thread(app.conversation.handle, message)

    async def session() -> None:
        server = await _open_console(app) if with_console else None
        # The chat opens with the welcome (or the menu, for someone the bot knows), not in silence; what
        # arrived while this person was away comes right after it. Someone in the middle of a step
        # (writing to a social worker) carries on where they were.
        if _between_steps(app, user):
            await channel.open(on_message, "/start")
        else:
            await dispatcher.dispatch_once()
        stop = asyncio.Event()
        pushes = asyncio.create_task(dispatcher.run(stop))
        try:
            await channel.start(on_message)
        finally:
            stop.set()
            await pushes
            if server is not None:
                await server.stop()

    app.start()
    try:
        asyncio.run(session())
    except KeyboardInterrupt:
        click.echo()
    finally:
        app.close()


async def _open_console(app: App) -> WebServer | None:
    """Serve the staff console beside the terminal chat; print its address and a link for an admin."""
    from bot.features.console_access import console_address, create_login_link
    from bot.runner import start_web_server, web_app
    from bot.storage.staff import list_staff

    settings = app.settings
    server = await start_web_server(web_app(app), settings.host, settings.port)
    if server is None:
        click.echo(f"(Console non servie : le port {settings.port} est pris. Essayez PORT=8090.)")
        return None
    with unit_of_work(app.session_factory) as session:
        admins = [member for member in list_staff(session) if member.role == Role.ADMIN.value]
        link = create_login_link(session, admins[0], SystemClock().now(), settings) if admins else None
    click.echo(f"Console du personnel : {console_address(settings)}")
    if link is not None:
        click.echo(f"Lien pour {admins[0].first_name} (une fois, 10 minutes) : {link}")
    return server


@main.command()
@click.pass_context
def run(ctx: click.Context) -> None:
    """Lancer le bot sur les canaux configurés (Telegram), jusqu'à Ctrl+C ou SIGTERM."""
    from bot.runner import CannotServe, NothingToServe, configured_kinds, limit_malloc_arenas, serve

    limit_malloc_arenas()

    settings = _settings(ctx)
    if not configured_kinds(settings):
        click.echo(
            "Aucun canal configuré : mettez TELEGRAM_BOT_TOKEN (ou les WHATSAPP_*) dans .env (voir README).\n"
            "Pour essayer sans Telegram : cisp-bot chat",
            err=True,
        )
        sys.exit(1)
    app = _build(settings, progress=True)
    try:
        asyncio.run(serve(app))
    except NothingToServe:
        sys.exit(1)
    except CannotServe as error:
        click.echo(f"Le bot ne démarre pas : {error}", err=True)
        sys.exit(1)


@main.command()
@click.option("--host", default=None, help="Adresse d'écoute (par défaut HOST, 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="Port (par défaut PORT, 8080).")
@click.pass_context
def console(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Servir la console web du personnel seule (sans les canaux), jusqu'à Ctrl+C."""
    from bot.runner import serve_console
    from bot.webconsole.security import is_loopback_host

    settings = _settings(ctx)
    host, port = host or settings.host, port or settings.port
    if not settings.public_url and not is_loopback_host(host):
        click.echo(
            f"Sans PUBLIC_URL, la console n'écoute que sur cette machine (127.0.0.1), pas sur {host}.\n"
            "Mettez PUBLIC_URL (l'adresse HTTPS du proxy) dans .env pour l'ouvrir au réseau.",
            err=True,
        )
        sys.exit(1)
    settings = settings.model_copy(update={"host": host, "port": port})
    app = _build(settings)
    try:
        # The first line of output is the address: scripts and `make demo` read it.
        if not asyncio.run(serve_console(app, lambda address: click.echo(f"Console : {address}"))):
            click.echo(f"Le port {host}:{port} n'est pas libre : essayez --port 8090.", err=True)
            sys.exit(1)
    except KeyboardInterrupt:
        pass
    finally:
        app.close()


@main.command()
@click.pass_context
def demo(ctx: click.Context) -> None:
    """Charger les données de démonstration (sans doublons si on relance)."""
    from bot.demo import load_demo
    from bot.features.faq import FAQ

    app = _build(_settings(ctx), progress=True, wait_for_meaning=True)
    try:
        with unit_of_work(app.session_factory) as session:
            lines = load_demo(session, SystemClock().now(), app.settings)
    finally:
        app.close()
    click.echo(f"Base : {app.settings.database_url}")
    click.echo(f"FAQ : {len(app.conversation.services.get(FAQ).base)} questions dans {app.settings.faq_dir}")
    for line in lines:
        click.echo(line)


@main.group()
def db() -> None:
    """Gérer la base de données."""


@db.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Appliquer les migrations en attente."""
    engine = make_engine(_settings(ctx).database_url)
    try:
        upgrade_database(engine)
    finally:
        engine.dispose()
    click.echo("Base de données à jour.")


@main.group()
def faq() -> None:
    """Vérifier les fichiers FAQ."""


@faq.command("check")
@click.option("--faq-dir", type=click.Path(path_type=Path), default=None, help="Dossier FAQ (sinon FAQ_DIR).")
@click.pass_context
def faq_check(ctx: click.Context, faq_dir: Path | None) -> None:
    """Vérifier les fichiers FAQ : code 0 si valides, sinon 1 et un problème par ligne.

    Une fiche sans réponse dans une langue de FAQ_LANGUAGES est signalée (« attention : ») sans
    bloquer : le bot montre alors la réponse en français.
    """
    settings = _settings_or_defaults(ctx) if faq_dir is not None else _settings(ctx)
    directory = faq_dir or settings.faq_dir
    from bot.features.intents import read_intent_examples

    # The admins' intent examples (FAQ_DIR/intentions/) are checked with the FAQ they belong to.
    problems = check_faq(directory, settings.faq_language_codes) + read_intent_examples(directory)[1]
    warnings = [problem for problem in problems if problem.warning]
    errors = [problem for problem in problems if not problem.warning]
    for problem in errors:
        click.echo(str(problem))
    for problem in warnings:
        click.echo(f"attention : {problem}")
    if errors:
        sys.exit(1)
    to_complete = f" ({len(warnings)} fiche(s) à compléter, voir ci-dessus)" if warnings else ""
    click.echo(f"OK : {directory}{to_complete}")


@faq.command("match")
@click.option("--faq-dir", type=click.Path(path_type=Path), default=None, help="Dossier FAQ (sinon FAQ_DIR).")
@click.pass_context
def faq_match(ctx: click.Context, faq_dir: Path | None) -> None:
    """Lire une question par ligne et écrire la décision du bot en JSON (une ligne par question)."""
    from bot.app import build_faq_service
    from bot.features.understand import understand

    settings = _settings_or_defaults(ctx) if faq_dir is not None else _settings(ctx)
    try:
        # No database: the FAQ, the intents and the vectors cached in STATE_DIR are all it needs.
        service = build_faq_service(
            settings, directory=faq_dir, keep_valid_copy=False, progress=_progress_on_stderr
        )
    except FaqError as error:
        click.echo(str(error), err=True)
        sys.exit(1)
    # A line that is not valid UTF-8 is matched with its bad bytes replaced, not a crash.
    stdin = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace")
    for line in stdin:
        query = line.rstrip("\r\n")
        decision = understand(clean_text(query), service)
        record = {
            "query": query,
            "decision": decision.kind.value,
            "id": decision.entry.id if decision.entry else None,
            "suggestions": [entry.id for entry in decision.suggestions],
            "intent": decision.intent.value if decision.intent else None,
            "score": round(decision.score, 4),
        }
        click.echo(json.dumps(record, ensure_ascii=False))


@faq.command("gaps")
@click.option("--since", "days", type=click.IntRange(1, 3650), default=30, show_default=True, help="Jours.")
@click.option("--json", "as_json", is_flag=True, help="Sortie JSON.")
@click.pass_context
def faq_gaps(ctx: click.Context, days: int, as_json: bool) -> None:
    """Lister les questions sans bonne réponse, groupées, les plus fréquentes d'abord."""
    from bot.features.gaps import find_gaps

    with _database(ctx) as session:
        gaps = find_gaps(session, SystemClock().now(), days)
    if as_json:
        click.echo(json.dumps([gap.as_dict() for gap in gaps], ensure_ascii=False, indent=2))
        return
    if not gaps:
        click.echo(f"Aucune question sans réponse depuis {days} jours.")
        return
    total = sum(gap.count for gap in gaps)
    groups = f"{len(gaps)} groupe" + ("s" if len(gaps) > 1 else "")
    click.echo(f"{total} question(s) sans bonne réponse depuis {days} jours, en {groups} :")
    for number, gap in enumerate(gaps, start=1):
        unused = gap.count - gap.fallbacks
        detail = f"{gap.fallbacks} pas compris, {unused} propositions non choisies"
        click.echo(f"\n{number}. {gap.count} fois ({detail})")
        for example in gap.examples:
            click.echo(f"   « {example} »")
        if gap.suggested:
            offered = ", ".join(f"{entry_id} ×{times}" for entry_id, times in gap.suggested.most_common(3))
            click.echo(f"   proposé : {offered}")
    click.echo(
        "\nPour chaque groupe : si une entrée répond déjà, ajoutez ces phrases à ses 'alternatives' ;"
        " sinon, créez une entrée. Puis vérifiez avec : cisp-bot faq check"
    )


@faq.command("suggestions")
@click.option("--json", "as_json", is_flag=True, help="Sortie JSON.")
@click.pass_context
def faq_suggestions(ctx: click.Context, as_json: bool) -> None:
    """Lister les phrases à apprendre, par fiche : celles qu'une fiche a réglées, avec leur numéro N."""
    from bot.faq import load_faq
    from bot.features.learning import pending_groups

    settings = _settings(ctx)
    try:
        base = load_faq(settings.faq_dir)
    except FaqError:
        base = None  # the phrasings are still listed, by entry id
    with _database(ctx) as session:
        groups = pending_groups(session, SystemClock().now(), settings.faq_miss_retention_days)
        records = [group.as_dict(base) for group in groups]
    if as_json:
        click.echo(json.dumps(records, ensure_ascii=False, indent=2))
        return
    if not records:
        click.echo("Aucune phrase à apprendre.")
        return
    total = sum(record["count"] for record in records)
    click.echo(f"{total} phrase(s) à apprendre, pour {len(records)} fiche(s) :")
    for record in records:
        where = (
            f"« {record['entry_question']} » ({record['file']})" if record["file"] else "(fiche supprimée)"
        )
        click.echo(f"\n{record['entry']} {where} : {record['count']} fois")
        for candidate in record["candidates"][:3]:
            times = f" ×{candidate['count']}" if candidate["count"] > 1 else ""
            by_staff = candidate["sources"].get("ticket", 0)
            staff_note = f" (dont {by_staff} par l'équipe)" if by_staff else ""
            click.echo(f"   n°{candidate['number']}  « {candidate['question']} »{times}{staff_note}")
        if len(record["candidates"]) > 3:
            click.echo(f"   … et {len(record['candidates']) - 3} autre(s) : --json les montre toutes")
    click.echo(
        "\nAjouter une phrase aux 'alternatives' de sa fiche : cisp-bot faq accept N ;"
        " la refuser : cisp-bot faq reject N."
    )


@faq.command("accept")
@click.argument("number", type=int)
@click.pass_context
def faq_accept(ctx: click.Context, number: int) -> None:
    """Ajouter la phrase n°N aux 'alternatives' de sa fiche (dans son fichier YAML, commentaires gardés)."""
    _decide(ctx, number, accept=True)


@faq.command("reject")
@click.argument("number", type=int)
@click.pass_context
def faq_reject(ctx: click.Context, number: int) -> None:
    """Refuser la phrase n°N : elle ne sera plus proposée pour cette fiche."""
    _decide(ctx, number, accept=False)


def _decide(ctx: click.Context, number: int, *, accept: bool) -> None:
    from bot.faq import load_faq
    from bot.features.learning import Verdict, decide

    settings = _settings(ctx)
    try:
        base = load_faq(settings.faq_dir)
    except FaqError as error:
        click.echo(f"La FAQ dans {settings.faq_dir} a des erreurs ; corrigez-les d'abord :", err=True)
        click.echo(str(error), err=True)
        sys.exit(1)
    now, retention = SystemClock().now(), settings.faq_miss_retention_days
    with _database(ctx) as session:
        decision = decide(
            session, base, settings.faq_dir, number, accept=accept, now=now, retention_days=retention
        )
    where = f"la fiche {decision.entry_id} ({decision.file})"
    messages = {
        Verdict.ACCEPTED: f"Ajoutée à {where} : « {decision.question} ».",
        Verdict.ALREADY_THERE: f"La fiche {decision.entry_id} a déjà cette phrase : retirée de la liste.",
        Verdict.REJECTED: f"n°{number} refusée : plus proposée pour la fiche {decision.entry_id}.",
        Verdict.GONE: f"Aucune phrase en attente n°{number} (voir : cisp-bot faq suggestions).",
        Verdict.ENTRY_GONE: f"La fiche {decision.entry_id} n'existe plus dans {settings.faq_dir} : "
        f"refusez la phrase (cisp-bot faq reject {number}) ou ajoutez-la à la main à une autre fiche.",
        Verdict.FILE_ERROR: f"Rien n'est écrit : {decision.problem}.",
    }
    if decision.verdict in (Verdict.GONE, Verdict.ENTRY_GONE, Verdict.FILE_ERROR):
        click.echo(messages[decision.verdict], err=True)
        sys.exit(1)
    click.echo(messages[decision.verdict])
    if decision.removed > 1:
        click.echo(f"{decision.removed} propositions de cette phrase retirées de la liste.")
    if decision.verdict is Verdict.ACCEPTED:
        click.echo(
            f"Le bot en marche relit la FAQ d'ici {settings.faq_reload_seconds:g} s."
            if settings.faq_reload_seconds > 0
            else "Pour que le bot en marche la relise : /recharger dans le chat."
        )


@main.group()
def staff() -> None:
    """Gérer le personnel : assistant·es sociaux et admins."""


def _account(account: str | None, telegram_id: int | None, console_user: str | None) -> tuple[str, str]:
    """Return (channel, id) from --account CANAL:ID or one of its shortcuts."""
    given = [value for value in (account, telegram_id, console_user) if value is not None]
    if len(given) != 1:
        raise click.UsageError(
            "Donnez un seul compte : --account CANAL:ID (ou --telegram-id, --console-user)."
        )
    if telegram_id is not None:
        return "telegram", str(telegram_id)
    if console_user is not None:
        return "console", console_user
    assert account is not None
    channel, _, external_id = account.partition(":")
    channel, external_id = channel.strip().lower(), external_id.strip()
    if channel not in CHANNEL_NAMES or not external_id or " " in external_id:
        raise click.UsageError(
            f"Compte « {account} » : écrivez CANAL:ID, le canal parmi {', '.join(CHANNEL_NAMES)}"
            " (par exemple telegram:111222333 ou whatsapp:32470123456)."
        )
    return channel, external_id


_ACCOUNT_HELP = "Le compte : CANAL:ID, par exemple telegram:111222333 ou whatsapp:32470123456."


@staff.command("add")
@click.option("--account", default=None, help=_ACCOUNT_HELP)
@click.option("--telegram-id", type=int, default=None, help="Raccourci de --account telegram:ID.")
@click.option("--console-user", default=None, help="Compte du terminal (pour essayer).")
@click.option("--name", required=True, help="Prénom affiché.")
@click.option("--role", type=click.Choice(["social_worker", "admin"]), required=True)
@click.pass_context
def staff_add(
    ctx: click.Context,
    account: str | None,
    telegram_id: int | None,
    console_user: str | None,
    name: str,
    role: str,
) -> None:
    """Ajouter ou modifier un membre du personnel."""
    from bot.storage.staff import add_staff

    channel, external_id = _account(account, telegram_id, console_user)
    with _database(ctx) as session:
        _, created = add_staff(session, channel, external_id, name, Role(role), SystemClock().now())
    click.echo(f"{'Ajouté' if created else 'Mis à jour'} : {name} ({role}, {channel} {external_id})")


@staff.command("remove")
@click.option("--account", default=None, help=_ACCOUNT_HELP)
@click.option("--telegram-id", type=int, default=None)
@click.option("--console-user", default=None)
@click.pass_context
def staff_remove(
    ctx: click.Context, account: str | None, telegram_id: int | None, console_user: str | None
) -> None:
    """Retirer un membre du personnel."""
    from bot.storage.staff import remove_staff

    channel, external_id = _account(account, telegram_id, console_user)
    with _database(ctx) as session:
        found = remove_staff(session, channel, external_id)
    if not found:
        click.echo(f"Personne trouvée pour {channel} {external_id}.", err=True)
        sys.exit(1)
    click.echo(f"Retiré : {channel} {external_id}")


@staff.command("list")
@click.pass_context
def staff_list(ctx: click.Context) -> None:
    """Lister le personnel."""
    from bot.storage.staff import list_staff

    with _database(ctx) as session:
        members = [(m.first_name, m.role, m.channel, m.external_id) for m in list_staff(session)]
    for name, role, channel, external_id in members:
        click.echo(f"{name}\t{role}\t{channel} {external_id}")


@staff.command("login-link")
@click.argument("name")
@click.option(
    "--account", default=None, help="Le compte, quand deux personnes ont ce prénom. " + _ACCOUNT_HELP
)
@click.pass_context
def staff_login_link(ctx: click.Context, name: str, account: str | None) -> None:
    """Écrire un lien de connexion à la console (une seule fois, 10 minutes) pour NAME."""
    from bot.features.console_access import create_login_link, staff_named
    from bot.storage.staff import list_staff

    settings = _settings(ctx)
    with _database(ctx) as session:
        found = staff_named(session, name)
        if account is not None:
            channel, external_id = _account(account, None, None)
            found = [user for user in found if (user.channel, user.external_id) == (channel, external_id)]
        if len(found) != 1:
            members = ", ".join(f"{m.first_name} ({m.channel}:{m.external_id})" for m in list_staff(session))
            problem = "Personne" if not found else "Plusieurs personnes"
            click.echo(f"{problem} du personnel avec le prénom « {name} ».", err=True)
            click.echo(f"Le personnel : {members or 'personne'} (cisp-bot staff add pour ajouter).", err=True)
            if found:
                click.echo("Précisez le compte avec --account CANAL:ID.", err=True)
            sys.exit(1)
        # One line on stdout, the address alone: scripts rely on it.
        click.echo(create_login_link(session, found[0], SystemClock().now(), settings))


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Une ligne JSON (liste d'objets).")
@click.pass_context
def tickets(ctx: click.Context, as_json: bool) -> None:
    """Lister les demandes ouvertes (« Parler à quelqu'un »), les plus anciennes d'abord."""
    from bot.features.handoff import open_tickets, ticket_record

    with _database(ctx) as session:
        records = [ticket_record(ticket) for ticket in open_tickets(session)]
    if as_json:
        click.echo(json.dumps(records, ensure_ascii=False))
        return
    if not records:
        click.echo("Aucune demande ouverte.")
        return
    for record in records:
        who = f"suivie par {record['worker']}" if record["worker"] else "en attente"
        subject = f" « {record['subject']} »" if record["subject"] else ""
        click.echo(
            f"n°{record['id']}\t{record['opened_at'][:16].replace('T', ' ')}\t{record['trainee']}"
            f" ({record['channel']})\t{who}{subject}"
        )


@main.command()
@click.option("--date", "day", help="Un jour (AAAA-MM-JJ) ; par défaut, les rendez-vous à venir.")
@click.option("--worker", help="Seulement cette personne (son id dans le fichier des disponibilités).")
@click.option("--json", "as_json", is_flag=True, help="Une ligne JSON (liste d'objets).")
@click.option("--ics", "as_ics", is_flag=True, help="Un fichier agenda (.ics) sur la sortie standard.")
@click.pass_context
def appointments(
    ctx: click.Context, day: str | None, worker: str | None, as_json: bool, as_ics: bool
) -> None:
    """Lister les rendez-vous (à venir, ou d'un jour), en texte, en JSON ou en agenda .ics."""
    from datetime import date

    from bot.features.booking import appointment_record
    from bot.features.booking.queries import listed_appointments
    from bot.files.availability import load_availability
    from bot.files.calendar import CalendarEvent, calendar_file
    from bot.storage.models import AppointmentStatus

    settings = _settings(ctx)
    try:
        availability = load_availability(settings.availability_file)
    except Exception as error:  # an invalid file still lets the appointments be listed, by id
        click.echo(f"(Le fichier des disponibilités a des erreurs : {error})", err=True)
        from bot.files.availability import Availability

        availability = Availability(workers=())
    now = SystemClock().now()
    try:
        first = date.fromisoformat(day) if day is not None else None
    except ValueError:
        click.echo(f"Date illisible : {day} (attendu : AAAA-MM-JJ)", err=True)
        sys.exit(1)
    with _database(ctx) as session:
        rows = listed_appointments(session, now, day=first, worker_id=worker)
        records = [appointment_record(appointment, availability) for appointment in rows]
        events = [
            CalendarEvent(
                uid=f"rdv-{appointment.id}@cisp-bot",
                starts_at=appointment.starts_at,
                ends_at=appointment.ends_at,
                summary=f"{record['trainee']} : {appointment.reason}",
                description=f"Avec {record['worker']}",
            )
            for appointment, record in zip(rows, records, strict=True)
            if appointment.status == AppointmentStatus.BOOKED.value
        ]
    if as_ics:
        name = f"Rendez-vous {worker}" if worker else "Rendez-vous"
        sys.stdout.buffer.write(calendar_file(events, now, name=name))
        return
    if as_json:
        click.echo(json.dumps(records, ensure_ascii=False))
        return
    if not records:
        click.echo("Aucun rendez-vous.")
        return
    for record in records:
        starts = str(record["starts_at"])[:16].replace("T", " ")
        click.echo(
            f"{starts}\t{record['worker']}\t{record['trainee']}\t{record['reason']}\t{record['status']}"
        )


@main.group()
def availability() -> None:
    """Les disponibilités des assistant·es social·es (AVAILABILITY_FILE)."""


@availability.command("check")
@click.option("--file", "path", type=click.Path(path_type=Path), help="Par défaut : AVAILABILITY_FILE.")
@click.pass_context
def availability_check(ctx: click.Context, path: Path | None) -> None:
    """Vérifier le fichier des disponibilités : une ligne par problème, code 1 s'il y en a."""
    from bot.files.availability import check_availability

    target = path or _settings(ctx).availability_file
    problems = check_availability(target)
    for problem in problems:
        click.echo(str(problem))
    if problems:
        sys.exit(1)
    click.echo(f"{target} : OK")


@availability.command("show")
@click.option("--worker", help="Seulement cette personne.")
@click.option("--days", default=7, show_default=True, help="Combien de jours à partir d'aujourd'hui.")
@click.pass_context
def availability_show(ctx: click.Context, worker: str | None, days: int) -> None:
    """Montrer les moments encore libres (jours fériés, congés et rendez-vous déjà pris enlevés)."""
    from bot.common.clock import BRUSSELS
    from bot.features.booking.queries import open_slots
    from bot.files.availability import load_availability
    from bot.files.office_hours import WEEKDAY_ABBREVIATIONS

    settings = _settings(ctx)
    loaded = load_availability(settings.availability_file)
    with _database(ctx) as session:
        slots = open_slots(
            session, loaded, settings, SystemClock().now(), worker_id=worker, horizon_days=days
        )
    if not slots:
        click.echo("Aucun moment libre.")
    for slot in slots:
        local = slot.starts_at.astimezone(BRUSSELS)
        click.echo(f"{WEEKDAY_ABBREVIATIONS[local.weekday()]} {local:%d/%m %H:%M}\t{slot.worker_id}")


@availability.command("off")
@click.argument("worker")
@click.argument("first")
@click.option("--until", help="Dernier jour d'une période (AAAA-MM-JJ).")
@click.option("--remove", is_flag=True, help="Enlever ce congé.")
@click.pass_context
def availability_off(ctx: click.Context, worker: str, first: str, until: str | None, remove: bool) -> None:
    """Ajouter (ou enlever) un jour de congé : cisp-bot availability off claire 2026-12-24 [--until ...]."""
    from datetime import date

    from bot.features.booking.actions import set_days_off
    from bot.files.availability import load_availability

    settings = _settings(ctx)
    if load_availability(settings.availability_file).worker(worker) is None:
        click.echo(f"Personne inconnue dans {settings.availability_file} : {worker}", err=True)
        sys.exit(1)
    try:
        start = date.fromisoformat(first)
        end = date.fromisoformat(until) if until else start
    except ValueError:
        click.echo("Date illisible (attendu : AAAA-MM-JJ)", err=True)
        sys.exit(1)
    if end < start or (end - start).days > 366:
        click.echo("La période doit aller du premier au dernier jour, un an au plus.", err=True)
        sys.exit(1)
    with _database(ctx) as session:
        changed = set_days_off(session, worker, start, end, remove=remove)
    click.echo(f"{worker} : {changed} jour(s) {'enlevé(s)' if remove else 'de congé ajouté(s)'}.")


@main.group()
def sessions() -> None:
    """Les séances des modules de formation (import, liste, inscriptions)."""


@sessions.command("import")
@click.argument("path", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Vérifier et montrer ce qui changerait, sans rien écrire.")
@click.pass_context
def sessions_import(ctx: click.Context, path: Path, dry_run: bool) -> None:
    """Charger un fichier de séances (CSV ou YAML), tout ou rien, sans doublon si on relance."""
    from bot.features.sessions import import_sessions
    from bot.files.session_file import SessionFileError, read_sessions

    settings = _settings(ctx)
    try:
        rows = read_sessions(path, settings.filiere_names)
    except SessionFileError as error:
        for problem in error.problems:
            click.echo(str(problem))
        click.echo(f"Rien n'a été importé : {len(error.problems)} problème(s).", err=True)
        sys.exit(1)

    class _DryRun(Exception):
        pass

    try:
        with _database(ctx) as session:
            report = import_sessions(session, rows, settings, SystemClock().now())
            if dry_run:
                raise _DryRun  # rolls the transaction back
    except _DryRun:
        pass
    verb = "changerait" if dry_run else "a changé"
    click.echo(
        f"{len(rows)} séance(s) lue(s) ; l'import {verb} : {report.created} nouvelle(s), {report.moved} "
        f"déplacée(s), {report.cancelled} annulée(s), {report.updated} modifiée(s), {report.unchanged} "
        f"inchangée(s) ; {report.told} stagiaire(s) prévenu(s)."
    )


@sessions.command("list")
@click.option("--json", "as_json", is_flag=True, help="Une ligne JSON (liste d'objets).")
@click.option("--all", "include_past", is_flag=True, help="Aussi les séances passées.")
@click.pass_context
def sessions_list(ctx: click.Context, as_json: bool, include_past: bool) -> None:
    """Lister les séances à venir."""
    from bot.features.sessions import listed_sessions, session_record

    with _database(ctx) as session:
        found = listed_sessions(session, SystemClock().now(), include_past=include_past)
        records = [session_record(training) for training in found]
    if as_json:
        click.echo(json.dumps(records, ensure_ascii=False))
        return
    if not records:
        click.echo("Aucune séance.")
    for record in records:
        names = record["filieres"]
        filieres = names if isinstance(names, str) else ", ".join(str(name) for name in names)  # type: ignore[attr-defined]
        state = " (annulée)" if record["cancelled"] else ""
        click.echo(
            f"{str(record['starts_at'])[:16].replace('T', ' ')}\t{record['module']}{state}\t{record['place']}"
            f"\t{filieres}"
        )


@sessions.command("enrol")
@click.option(
    "--user",
    "user_ref",
    required=True,
    help="Le compte du ou de la stagiaire : telegram:<id>, console:<nom>.",
)
@click.option("--session", "key", required=True, help="La séance (sa clé : voir sessions list --json).")
@click.pass_context
def sessions_enrol(ctx: click.Context, user_ref: str, key: str) -> None:
    """Inscrire un·e stagiaire à une séance, en plus de celles de sa filière."""
    from bot.features.sessions import enrol_by_reference

    channel, _, external_id = user_ref.partition(":")
    with _database(ctx) as session:
        created = enrol_by_reference(session, channel, external_id, key, SystemClock().now())
    if created is None:
        click.echo("Compte ou séance inconnu(e).", err=True)
        sys.exit(1)
    click.echo("Inscrit·e." if created else "Déjà inscrit·e.")
