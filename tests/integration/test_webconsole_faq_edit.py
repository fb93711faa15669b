"""Editing the FAQ from the console: the form, its checks, the file kept as written, history, restore."""

from __future__ import annotations

import html
import re
import shutil
import threading
from pathlib import Path

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.testclient import TestClient

from bot.common.clock import FrozenClock
from bot.config import Settings
from bot.faq.matcher import Outcome
from bot.features import console_access
from bot.features.faq import FaqService
from bot.features.faq_editing import changes
from bot.storage.db import unit_of_work
from bot.storage.models import FaqRevision, Role
from bot.storage.staff import add_staff
from bot.webconsole import console_routes
from bot.webconsole.faq_pages import say_changes
from tests.conftest import SHIPPED_FAQ

ADDRESS = "http://127.0.0.1:8080"
ENTRY = "creer-adresse-email"
FORM = f"/console/faq/entree/{ENTRY}/modifier"


@pytest.fixture
def faq_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "faq"
    shutil.copytree(SHIPPED_FAQ, folder)
    return folder


@pytest.fixture
def faq(faq_dir: Path) -> FaqService:
    return FaqService(faq_dir)


@pytest.fixture
def web(
    session_factory: sessionmaker[Session], settings: Settings, clock: FrozenClock, faq: FaqService
) -> Starlette:
    with unit_of_work(session_factory) as session:
        add_staff(session, "telegram", "111", "Claire", Role.SOCIAL_WORKER, clock.now())
        add_staff(session, "telegram", "222", "Karim", Role.ADMIN, clock.now())
    return Starlette(routes=console_routes(settings, session_factory, clock, faq))


def browser_of(
    web: Starlette, session_factory: sessionmaker[Session], settings: Settings, clock: FrozenClock, name: str
) -> TestClient:
    with unit_of_work(session_factory) as session:
        [user] = console_access.staff_named(session, name)
        link = console_access.create_login_link(session, user, clock.now(), settings)
    browser = TestClient(web, base_url=ADDRESS, client=("127.0.0.1", 5000), follow_redirects=False)
    assert browser.post("/console/entrer", data={"cle": link.split("cle=")[1]}).status_code == 303
    return browser


def form_of(page: str) -> dict[str, str]:
    """Return the form's fields as the browser would send them."""
    fields = {
        name: html.unescape(value)
        for name, value in re.findall(
            r'<input type="(?!checkbox)\w+"[^>]* name="(\w+)" value="([^"]*)"', page
        )
    }
    # Ticked boxes are sent one value each; the console reads them as a comma-separated list.
    ticked: dict[str, list[str]] = {}
    for name, value in re.findall(r'<input type="checkbox" name="(\w+)" value="([^"]*)" checked>', page):
        ticked.setdefault(name, []).append(html.unescape(value))
    fields |= {name: ", ".join(values) for name, values in ticked.items()}
    fields |= {
        name: html.unescape(value)
        for name, value in re.findall(r'<textarea id="\w+" name="(\w+)"[^>]*>(.*?)</textarea>', page, re.S)
    }
    return fields


def revisions(session_factory: sessionmaker[Session]) -> list[FaqRevision]:
    with session_factory() as session:
        return list(session.scalars(select(FaqRevision).order_by(FaqRevision.id)))


@pytest.fixture
def karim(
    web: Starlette, session_factory: sessionmaker[Session], settings: Settings, clock: FrozenClock
) -> TestClient:
    return browser_of(web, session_factory, settings, clock, "karim")


def test_an_admin_adds_a_phrasing_and_the_bot_answers_it_at_once(
    karim: TestClient, faq: FaqService, faq_dir: Path, session_factory: sessionmaker[Session]
) -> None:
    new_phrasing = "g pa dadresse electronique perso"
    assert faq.match(new_phrasing).outcome is not Outcome.ANSWER
    before = (faq_dir / "comptes.yaml").read_text(encoding="utf-8")
    form = form_of(karim.get(FORM).text)
    assert form["question"] == "Comment créer une adresse e-mail ?"
    assert form["keywords"] == "créer, adresse e-mail, gmail, outlook, boîte mail"
    assert form["steps"].startswith("Allez sur www.gmail.com ou sur www.outlook.com.\n")
    form["alternatives"] += "\n" + new_phrasing
    saved = karim.post(FORM, data=form)
    assert saved.status_code == 303, html.unescape(saved.text)
    assert saved.headers["location"] == f"/console/faq/entree/{ENTRY}?enregistre=1"
    after = (faq_dir / "comptes.yaml").read_text(encoding="utf-8")
    added = [line for line in after.splitlines() if line not in before.splitlines()]
    assert added == [f'    - "{new_phrasing}"']
    assert after.startswith("# FAQ - comptes, mots de passe, e-mail et identité numérique\n")
    assert len(after.splitlines()) == len(before.splitlines()) + 1
    decision = faq.match(new_phrasing)
    assert decision.outcome is Outcome.ANSWER and decision.entry is not None and decision.entry.id == ENTRY
    assert "Le bot répond déjà avec cette version" in karim.get(saved.headers["location"]).text
    [revision] = revisions(session_factory)
    assert (revision.entry_id, revision.author_name, revision.file_name) == (ENTRY, "Karim", "comptes.yaml")
    assert revision.before_text == before and revision.after_text == after


def test_a_mistake_is_shown_beside_its_field_and_nothing_is_written(
    karim: TestClient, faq_dir: Path, session_factory: sessionmaker[Session]
) -> None:
    before = (faq_dir / "comptes.yaml").read_bytes()
    form = form_of(karim.get(FORM).text)
    form["question"] = "   "
    form["button"] = "Un texte de bouton bien trop long pour un écran"
    refused = karim.post(FORM, data=form)
    assert refused.status_code == 422
    page = html.unescape(refused.text)
    assert "Rien n'a été enregistré :" in page and "2 champs à corriger" in page
    assert re.search(r'<p class="field-error" id="question-error">Manquant ou vide', page)
    assert re.search(r'<p class="field-error" id="button-error">[^<]*24', page)
    assert 'aria-describedby="question-hint question-error"' in page
    # What the admin typed is still there, to correct.
    assert "Un texte de bouton bien trop long pour un écran" in page
    assert (faq_dir / "comptes.yaml").read_bytes() == before
    assert revisions(session_factory) == []


def test_a_long_step_is_saved_with_a_warning_to_review(karim: TestClient, faq_dir: Path) -> None:
    form = form_of(karim.get(FORM).text)
    form["steps"] += "\n" + "Une étape beaucoup trop longue " * 8
    page = karim.post(FORM, data=form)
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert "Enregistré." in text and "À revoir (ce n'est pas bloquant)" in text and "200 caractères" in text
    assert "Une étape beaucoup trop longue" in (faq_dir / "comptes.yaml").read_text(encoding="utf-8")


def test_a_broken_file_of_a_colleague_does_not_stop_this_save(karim: TestClient, faq_dir: Path) -> None:
    (faq_dir / "emploi.yaml").write_text("- id: cv\n  question: [pas fermé\n", encoding="utf-8")
    form = form_of(karim.get(FORM).text)
    form["keywords"] += ", mail"
    saved = karim.post(FORM, data=form)
    assert saved.status_code == 200, "saved, and the admin is told the FAQ is not reloaded whole"
    page = html.unescape(saved.text)
    assert "Enregistré." in page and "Un autre fichier de la FAQ a une erreur : emploi.yaml" in page
    assert "boîte mail, mail]" in (faq_dir / "comptes.yaml").read_text(encoding="utf-8")


def test_a_database_refusing_the_save_leaves_the_file_as_it_was(
    karim: TestClient, faq_dir: Path, session_factory: sessionmaker[Session]
) -> None:
    before = (faq_dir / "comptes.yaml").read_bytes()
    form = form_of(karim.get(FORM).text)
    form["keywords"] += ", mail"

    def refuse(session: Session) -> None:
        if any(isinstance(item, FaqRevision) for item in session.identity_map.values()):
            raise OSError("disque plein")  # as a full disk or a lost connection refuses the commit

    event.listen(session_factory, "before_commit", refuse)
    try:
        with pytest.raises(OSError, match="disque plein"):
            karim.post(FORM, data=form)
    finally:
        event.remove(session_factory, "before_commit", refuse)
    assert (faq_dir / "comptes.yaml").read_bytes() == before, "no change of the FAQ without its revision"
    assert revisions(session_factory) == []


def test_the_faq_loads_again_after_the_save_not_while_it_holds_the_database(
    karim: TestClient,
    faq: FaqService,
    session_factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reload = faq.reload
    others_wrote: list[bool] = []
    waited: list[bool] = []

    def reload_while_a_chat_writes() -> int:
        # A chat's write, from another thread, while the FAQ loads again: it must not wait for the save.
        def chat() -> None:
            with unit_of_work(session_factory) as session:
                session.execute(text("SELECT 1"))
            others_wrote.append(True)

        other = threading.Thread(target=chat, daemon=True)
        other.start()
        other.join(timeout=3)
        waited.append(other.is_alive())
        return reload()

    monkeypatch.setattr(faq, "reload", reload_while_a_chat_writes)
    form = form_of(karim.get(FORM).text)
    form["alternatives"] += "\njai pa dadresse mail a moi"
    assert karim.post(FORM, data=form).status_code == 303
    assert waited == [False] and others_wrote == [True]
    decision = faq.match("jai pa dadresse mail a moi")
    assert decision.entry is not None and decision.entry.id == ENTRY


def test_social_workers_read_the_faq_but_do_not_change_it(
    web: Starlette,
    session_factory: sessionmaker[Session],
    settings: Settings,
    clock: FrozenClock,
    karim: TestClient,
    faq_dir: Path,
) -> None:
    claire = browser_of(web, session_factory, settings, clock, "claire")
    entry = claire.get(f"/console/faq/entree/{ENTRY}").text
    assert "/modifier" not in entry
    assert claire.get(FORM).status_code == 403
    form = form_of(karim.get(FORM).text)
    form["question"] = "Changé par Claire ?"
    form["csrf"] = form_of(claire.get("/console/").text)["csrf"]
    assert claire.post(FORM, data=form).status_code == 403
    assert "Changé par Claire" not in (faq_dir / "comptes.yaml").read_text(encoding="utf-8")
    assert claire.get("/console/faq/historique").status_code == 200


def test_without_the_forms_token_or_over_a_newer_version_nothing_is_saved(
    karim: TestClient, faq_dir: Path, session_factory: sessionmaker[Session]
) -> None:
    before = (faq_dir / "comptes.yaml").read_bytes()
    form = form_of(karim.get(FORM).text)
    form["question"] = "Comment ouvrir une adresse e-mail ?"
    assert karim.post(FORM, data={**form, "csrf": "forged"}).status_code == 403
    # Meanwhile a colleague saved the same question.
    other = dict(form, question="Comment avoir une adresse e-mail ?")
    assert karim.post(FORM, data=other).status_code == 303
    stale = karim.post(FORM, data=form)
    assert stale.status_code == 409 and "modifié cette question entre-temps" in html.unescape(stale.text)
    # Pressing Enregistrer again on the refused page does not overwrite the colleague's save either.
    again = karim.post(FORM, data=form_of(stale.text))
    assert again.status_code == 409
    text = (faq_dir / "comptes.yaml").read_text(encoding="utf-8")
    assert "Comment avoir une adresse e-mail ?" in text and "Comment ouvrir une adresse" not in text
    assert len(revisions(session_factory)) == 1 and before != text.encode()


def test_every_save_is_kept_and_one_click_restores_the_version_before(
    karim: TestClient, faq: FaqService, faq_dir: Path, session_factory: sessionmaker[Session]
) -> None:
    original = (faq_dir / "comptes.yaml").read_text(encoding="utf-8")
    form = form_of(karim.get(FORM).text)
    form["steps"] = "Demandez au formateur de vous aider."
    assert karim.post(FORM, data=form).status_code == 303
    assert faq.base.get(ENTRY).steps == ("Demandez au formateur de vous aider.",)  # type: ignore[union-attr]
    history = html.unescape(karim.get("/console/faq/historique").text)
    assert "Karim" in history and "Comment créer une adresse e-mail ?" in history
    [revision] = revisions(session_factory)
    token = form_of(karim.get("/console/").text)["csrf"]
    assert karim.post(f"/console/faq/historique/{revision.id}/restaurer", data={}).status_code == 403
    restored = karim.post(f"/console/faq/historique/{revision.id}/restaurer", data={"csrf": token})
    assert restored.status_code == 303
    assert (faq_dir / "comptes.yaml").read_text(encoding="utf-8") == original
    assert len(faq.base.get(ENTRY).steps) == 6  # type: ignore[union-attr]
    first, second = revisions(session_factory)
    assert second.restored_from_id == first.id
    assert "(a remis une version)" in html.unescape(karim.get(f"/console/faq/historique?entree={ENTRY}").text)
    missing = karim.post("/console/faq/historique/999/restaurer", data={"csrf": token})
    assert missing.status_code == 409


def test_the_history_says_what_each_save_changed(karim: TestClient) -> None:
    form = form_of(karim.get(FORM).text)
    form["alternatives"] = form["alternatives"].split("\n", 1)[1] + "\ng pa de mail perso"
    form["keywords"] += ", hotmail"
    form["answer_en"] = ""
    assert karim.post(FORM, data=form).status_code == 303
    page = html.unescape(karim.get("/console/faq/historique").text)
    [cell] = re.findall(r'<ul class="changes">(.*?)</ul>', page, re.S)
    lines = re.findall(r"<li>(.*?)</li>", cell)
    assert lines[0].startswith("Autres façons de demander : ajouté « g pa de mail perso » ; retiré « ")
    assert lines[1] == "Mots-clés : ajouté « hotmail »"
    assert len(lines) == 2, "an empty field left empty is no change"


def test_related_questions_are_ticked_in_a_list_not_typed_as_ids(karim: TestClient, faq_dir: Path) -> None:
    page = html.unescape(karim.get(FORM).text)
    assert "2 cochées : choisir" in page
    assert '<input type="checkbox" name="follow_ups" value="choisir-mot-de-passe" checked>' in page
    assert 'value="creer-adresse-email"' not in page, "not itself"
    form = form_of(page)
    assert form["follow_ups"] == "choisir-mot-de-passe, envoyer-email-piece-jointe"
    # Listed first, in their order: saving another field keeps it (the first two are the buttons shown).
    ticked_first = page.index("<legend>Cochées, dans l'ordre</legend>")
    assert (
        ticked_first < page.index('value="choisir-mot-de-passe"') < page.index('value="envoyer-email-piece')
    )
    assert page.index('value="envoyer-email-piece') < page.index("<legend>", ticked_first + 1)
    # Untick one, tick another: the browser sends the ticked ones, one value each, in the page's order.
    data = {**form, "follow_ups": ["choisir-mot-de-passe", "email-non-recu-spam"]}
    assert karim.post(FORM, data=data).status_code == 303
    text = (faq_dir / "comptes.yaml").read_text(encoding="utf-8")
    assert "  follow_ups: [choisir-mot-de-passe, email-non-recu-spam]\n" in text


def test_saving_another_field_keeps_the_related_questions_order(karim: TestClient, faq_dir: Path) -> None:
    address = "/console/faq/entree/victime-arnaque/modifier"
    form = form_of(karim.get(address).text)
    assert form["follow_ups"] == "arnaque-message, choisir-mot-de-passe"  # not the FAQ's order
    form["keywords"] += ", escroquerie"
    assert karim.post(address, data=form).status_code == 303
    assert "  follow_ups: [arnaque-message, choisir-mot-de-passe]\n" in (faq_dir / "comptes.yaml").read_text(
        encoding="utf-8"
    )


def test_a_related_question_no_longer_in_the_faq_shows_ticked_to_untick(
    karim: TestClient, faq_dir: Path, faq: FaqService
) -> None:
    path = faq_dir / "comptes.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "follow_ups: [choisir-mot-de-passe, envoyer-email-piece-jointe]",
            "follow_ups: [choisir-mot-de-passe, ancienne-question]",
        ),
        encoding="utf-8",
    )
    faq.reload()
    page = html.unescape(karim.get(FORM).text)
    assert "ancienne-question (plus dans la FAQ : décochez-la)" in page
    assert '<input type="checkbox" name="follow_ups" value="ancienne-question" checked>' in page
    form = form_of(page)
    data = {**form, "follow_ups": ["choisir-mot-de-passe"]}
    assert karim.post(FORM, data=data).status_code == 303
    assert "  follow_ups: [choisir-mot-de-passe]\n" in path.read_text(encoding="utf-8")


def test_a_new_question_and_one_taken_out_are_said_so() -> None:
    entry = '- id: wifi\n  question: "Le wifi ?"\n  answer: "Voyez l\'accueil."\n'
    other = '- id: cv\n  question: "Mon CV ?"\n  answer: "Atelier le lundi."\n'
    created = FaqRevision(entry_id="wifi", before_text=other, after_text=other + entry)
    taken_out = FaqRevision(entry_id="wifi", before_text=other + entry, after_text=other)
    assert say_changes(changes(created)) == ["Nouvelle question"]
    assert say_changes(changes(taken_out)) == ["Question retirée de la FAQ"]
    many = FaqRevision(entry_id="wifi", before_text=entry, after_text=entry + "  keywords: [a, b, c, d, e]\n")
    assert say_changes(changes(many)) == ["Mots-clés : ajouté « a », « b », « c » et 2 autres"]
    reworded = FaqRevision(
        entry_id="wifi",
        before_text=entry,
        after_text=entry.replace("Le wifi ?", "Le Wi-Fi du centre ?").replace("Voyez", "Demandez à"),
    )
    assert say_changes(changes(reworded)) == [
        "Question : « Le wifi ? » devient « Le Wi-Fi du centre ? »",
        "Ou réponse en un seul message : modifiée",
    ]


def test_an_older_save_is_not_undone_over_a_newer_one(
    karim: TestClient, faq_dir: Path, session_factory: sessionmaker[Session]
) -> None:
    form = form_of(karim.get(FORM).text)
    assert (
        karim.post(FORM, data={**form, "question": "Comment avoir une adresse e-mail ?"}).status_code == 303
    )
    form = form_of(karim.get(FORM).text)
    assert karim.post(FORM, data={**form, "button": "Mon adresse e-mail"}).status_code == 303
    first, second = revisions(session_factory)
    token = form_of(karim.get("/console/").text)["csrf"]
    refused = karim.post(f"/console/faq/historique/{first.id}/restaurer", data={"csrf": token})
    assert refused.status_code == 409 and "remettez d'abord les plus récents" in html.unescape(refused.text)
    assert "Mon adresse e-mail" in (faq_dir / "comptes.yaml").read_text(encoding="utf-8")
    assert (
        karim.post(f"/console/faq/historique/{second.id}/restaurer", data={"csrf": token}).status_code == 303
    )
    assert (
        karim.post(f"/console/faq/historique/{first.id}/restaurer", data={"csrf": token}).status_code == 303
    )
    assert 'question: "Comment créer une adresse e-mail ?"' in (faq_dir / "comptes.yaml").read_text(
        encoding="utf-8"
    )


def test_a_form_without_origin_is_refused_without_showing_its_text_back(
    karim: TestClient, faq_dir: Path
) -> None:
    form = form_of(karim.get(FORM).text)
    form["question"] = "Texte venu d'ailleurs"
    forged = karim.post(FORM, data={**form, "csrf": "ancien"})
    assert forged.status_code == 403 and "Texte venu d'ailleurs" not in html.unescape(forged.text)
    assert "Texte venu d'ailleurs" not in (faq_dir / "comptes.yaml").read_text(encoding="utf-8")


def test_a_form_from_an_older_login_comes_back_with_what_was_typed(
    web: Starlette,
    session_factory: sessionmaker[Session],
    settings: Settings,
    clock: FrozenClock,
    karim: TestClient,
    faq_dir: Path,
) -> None:
    before = (faq_dir / "comptes.yaml").read_bytes()
    form = form_of(karim.get(FORM).text)
    form["alternatives"] += "\nune phrase tapée longuement sur le téléphone"
    # Meanwhile Karim opened a new link in the same browser: a new session, a new token.
    with unit_of_work(session_factory) as session:
        [user] = console_access.staff_named(session, "karim")
        link = console_access.create_login_link(session, user, clock.now(), settings)
    assert karim.post("/console/entrer", data={"cle": link.split("cle=")[1]}).status_code == 303
    back = karim.post(FORM, data=form, headers={"Origin": ADDRESS})  # as a browser sends it
    assert back.status_code == 403
    page = html.unescape(back.text)
    assert "connexion plus ancienne" in page and "une phrase tapée longuement sur le téléphone" in page
    assert (faq_dir / "comptes.yaml").read_bytes() == before
    assert karim.post(FORM, data=form_of(back.text)).status_code == 303
    assert "une phrase tapée longuement" in (faq_dir / "comptes.yaml").read_text(encoding="utf-8")
