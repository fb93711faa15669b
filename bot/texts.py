"""Every sentence the bot says to a trainee, in simple French: short sentences, one idea per message.

Kept in one place so that wording can be reviewed (and later translated) without reading the logic.
"""

from __future__ import annotations

# Raise when the consent text changes what is kept; 2: unanswered questions are kept for the admins;
# 3: the messages of a request to talk to a person are kept until it is closed, and then for a while.
CONSENT_VERSION = 3

# Buttons (at most 20 characters: WhatsApp reply buttons cut longer titles).
BUTTON_ASK = "Poser une question"
BUTTON_BOOK = "Prendre rendez-vous"
BUTTON_SESSIONS = "Mes séances"
BUTTON_PERSON = "Parler à quelqu'un"
BUTTON_MENU = "Menu"
BUTTON_OTHER_QUESTION = "Autre question"
BUTTON_CONSENT_YES = "J'accepte"
BUTTON_CONSENT_NO = "Je refuse"
BUTTON_CONSENT_INFO = "En savoir plus"
BUTTON_FILIERE_UNKNOWN = "Autre / ne sais pas"
BUTTON_FORGET_YES = "Oui, tout effacer"
BUTTON_FORGET_NO = "Non, garder"
BUTTON_INTRODUCE = "Me présenter"
BUTTON_SKIP = "Passer"
BUTTON_BACK_TO_BOT = "Retour au robot"
BUTTON_CANCEL_REQUEST = "Annuler ma demande"
BUTTON_HELPED_YES = "👍 Oui"
BUTTON_HELPED_NO = "👎 Non"
# Staff buttons (Telegram shows longer titles).
BUTTON_CLAIM = "✋ Je prends"
BUTTON_CLOSE = "✔️ Terminé"
BUTTON_DRAFT = "📝 En faire une fiche FAQ"
BUTTON_TICKETS = "📋 Demandes ouvertes"

WELCOME = "👋 Bonjour ! Je suis le robot d'aide de {centre}."
WELCOME_WHAT = "Je réponds à vos questions sur l'ordinateur prêté, l'e-mail, le CV et la recherche d'emploi."
CONSENT_WHAT = "🔒 Pour vous aider, je garde votre prénom, votre formation et le numéro de votre compte."
CONSENT_MESSAGES = (
    "Je ne garde pas vos messages, sauf les questions que je n'ai pas comprises : "
    "l'équipe les lit pendant {miss_retention} pour améliorer mes réponses, sans voir votre nom."
)
CONSENT_QUESTION = (
    "Tout est effacé après {retention} sans message, ou quand vous le demandez. Vous êtes d'accord ?"
)
CONSENT_DETAILS = (
    "Ce que je garde :\n"
    "• votre prénom et votre formation ;\n"
    "• le numéro de votre compte dans l'application (pour vous répondre) ;\n"
    "• la date de votre accord et celle de votre dernier message (pas son texte) ;\n"
    "• si vous voulez des rappels, la langue des réponses, et l'étape où vous êtes dans la conversation ;\n"
    "• les questions que je n'ai pas comprises, pendant {miss_retention} ;\n"
    "• une question et la fiche qui y répondait, quand vous la choisissez parmi mes propositions "
    "ou quand l'équipe la trouve pour votre demande, pendant {miss_retention} ;\n"
    "• si vous demandez à parler à quelqu'un : les messages de cette demande, jusqu'à {ticket_retention} "
    "après sa fin.\n"
    "Pourquoi : pour vous appeler par votre prénom et vous donner les bonnes infos.\n"
    "Qui peut le voir : l'équipe du centre qui s'occupe de ce robot (les questions, sans votre nom), "
    "et la personne qui répond à votre demande.\n"
    "Combien de temps : tout est effacé après {retention} sans message.\n"
    "Voir vos données : /mesdonnees. Tout effacer : /oublier."
)
CONSENT_DECLINED = "D'accord. Je ne garde rien sur vous."
CONSENT_DECLINED_NEXT = "Vous pouvez quand même poser vos questions. Écrivez votre question avec vos mots."
CONSENT_ALREADY = "Vous avez déjà donné votre accord."

ASK_NAME = "Comment vous appelez-vous ? Écrivez votre prénom."
ONBOARDING_FIRST = "Encore une petite étape avant le menu."
ASK_NAME_WITH_SUGGESTION = "Comment vous appelez-vous ? Écrivez votre prénom, ou appuyez sur le bouton."
NAME_NOT_UNDERSTOOD = (
    "Je n'ai pas compris votre prénom. Écrivez seulement votre prénom. Par exemple : Samira."
)
ASK_FILIERE = "Merci {name} ! Quelle est votre formation ?"
FILIERE_NOT_UNDERSTOOD = "Je n'ai pas trouvé cette formation. Appuyez sur un bouton."
ONBOARDING_DONE = "C'est noté. Bienvenue, {name} !"

MENU = "Que voulez-vous faire ? Appuyez sur un bouton, ou écrivez votre question."
ANONYMOUS_MENU = (
    "Que voulez-vous faire ? Pour prendre rendez-vous ou voir vos séances, je dois d'abord vous connaître : "
    "appuyez sur « Me présenter »."
)
# What the staff read for a trainee who skipped the first-name question.
UNNAMED_TRAINEE = "Stagiaire"
WELCOME_BACK = "Re-bonjour {name} ! 👋"
GREETING_REPLY = "Bonjour {name} ! 👋"
THANKS_REPLY = "Avec plaisir ! 😊"
ASK_QUESTION = "✏️ Écrivez votre question en quelques mots."


# An answer in steps: one step per message.
FAQ_STEP = "Étape {number} sur {count} : {step}"
FAQ_STEP_LAST = "Toujours pas ? Une personne de l'équipe peut vous aider."
FAQ_STEP_WORKED = "Tant mieux ! 🙂"
FAQ_STEP_WORKED_MORE = "Tant mieux ! 🙂 Ceci peut aussi vous aider :"
FAQ_STEPS_CHANGED = "Cette réponse a changé. Je reprends au début."
BUTTON_STEP_WORKED = "✅ Ça marche"
BUTTON_STEP_NEXT = "➡️ Étape suivante"
FAQ_SUGGEST = "🤔 Je ne suis pas sûr d'avoir compris. C'est une de ces questions ?"
FAQ_FALLBACK = "😕 Je n'ai pas compris votre question."
FAQ_FALLBACK_NEXT = "Essayez avec d'autres mots. Ou parlez à quelqu'un."
FAQ_ENTRY_GONE = "Cette question n'existe plus. Posez-la à nouveau avec vos mots."

HELP = (
    "ℹ️ Je réponds à vos questions sur l'ordinateur, l'e-mail, le CV et l'emploi. Je donne aussi des "
    "rendez-vous, je rappelle vos séances, et je vous mets en contact avec l'équipe. "
    "Appuyez sur un bouton, ou écrivez votre question."
)
HELP_ANONYMOUS = (
    "ℹ️ Je réponds à vos questions sur l'ordinateur, l'e-mail, le CV et l'emploi. "
    "Appuyez sur un bouton, ou écrivez votre question."
)
HELP_ONBOARDING = (
    "ℹ️ Je vous aide pour l'ordinateur, l'e-mail, le CV et l'emploi. D'abord, répondez à ma question :"
)
HELP_COMMANDS = (
    "Pour parler à une personne : {contact}.\n"
    "/start : recommencer\n"
    "/menu : le menu\n"
    "{language_line}"
    "/mesdonnees : ce que je garde sur vous\n"
    "/oublier : tout effacer\n"
    "/stop : ne plus recevoir de rappels\n"
    "/reprendre : recevoir à nouveau les rappels"
)
# In HELP when FAQ_LANGUAGES offers more than French: "réponses en néerlandais ou en anglais".
HELP_LANGUAGE_LINE = "/langue : réponses en {languages}\n"
HELP_LANGUAGE_NAMES = {"nl": "néerlandais", "en": "anglais"}

SLOW_DOWN = (
    "🐢 Doucement, s'il vous plaît : j'ai reçu beaucoup de messages. Attendez une minute, puis réessayez."
)
EMPTY_MESSAGE = "Je n'ai rien reçu. Écrivez votre question, ou appuyez sur un bouton."
ATTACHMENT = {
    "voice": "🎤 Je ne peux pas écouter les messages vocaux. Écrivez votre question, s'il vous plaît.",
    "photo": "🖼️ Je ne peux pas regarder les photos. Écrivez votre question, s'il vous plaît.",
    "document": "📎 Je ne peux pas lire les fichiers. Écrivez votre question, s'il vous plaît.",
    "sticker": "🙂 Merci ! Pour que je vous aide, écrivez votre question avec des mots.",
    "video": "🎬 Je ne peux pas regarder les vidéos. Écrivez votre question, s'il vous plaît.",
    "location": "📍 Je ne peux pas utiliser une position. Écrivez votre question, s'il vous plaît.",
    "contact": "📇 Je ne garde pas les contacts envoyés. Écrivez votre question, s'il vous plaît.",
}
ATTACHMENT_NOT_PASSED = "(Une pièce jointe ({kind}) n'a pas pu être transmise ici : demandez-la autrement.)"
ATTACHMENT_OTHER = "Je ne peux lire que le texte. Écrivez votre question, s'il vous plaît."
STAFF_ONLY = "Réservé à l'équipe du centre."
UNKNOWN_COMMAND = "Je ne connais pas cette commande. Tapez /aide pour voir ce que je sais faire."
PRESS_A_BUTTON = "Appuyez sur un des boutons."
STALE_BUTTON = "Ce bouton n'est plus valable."
INTERNAL_ERROR = (
    "😓 Oups, j'ai eu un problème. Réessayez dans un moment. Si ça continue, adressez-vous à {contact}."
)

MY_DATA_NONE = "Je ne garde rien sur vous."
MY_DATA_TITLE = "📄 Voici ce que je garde sur vous :"
MY_DATA_FOOTER = (
    "J'efface les questions après {miss_retention}. J'efface une demande à une personne {ticket_retention} "
    "après sa fin. J'efface tout le reste après {retention} sans message. "
    "Pour tout effacer maintenant : /oublier"
)
DOCUMENT_NOT_SENT = "😓 Je n'ai pas pu vous envoyer le fichier « {filename} ». Réessayez plus tard."
MY_DATA_FILE = "📎 Tout le détail est dans le fichier « {filename} »."
MY_DATA_EXPORT_TITLE = "Ce que le bot de {centre} garde sur vous, le {when}"
MY_DATA_EXPORT_END = "Je ne garde pas vos autres messages."
# One line each in the summary of /mesdonnees.
MY_DATA_ACCOUNT = "Vous : {name}, formation {filiere}, réponses en {language}, sur {channel}"
MY_DATA_NO_NAME = "prénom pas donné"
MY_DATA_NO_FILIERE = "pas donnée"
MY_DATA_ACCOUNT_TITLE = "Votre compte"
# (one, several): texts.counted picks.
MY_DATA_MISSES = ("1 question que je n'ai pas comprise", "{count} questions que je n'ai pas comprises")
MY_DATA_MISSES_TITLE = "Les questions que je n'ai pas comprises"
MY_DATA_CANDIDATES = (
    "1 question reliée à une fiche, pour que je comprenne mieux",
    "{count} questions reliées à une fiche, pour que je comprenne mieux",
)
MY_DATA_CANDIDATES_TITLE = "Les questions reliées à une fiche"
MY_DATA_TICKETS = ("1 demande à une personne ({state})", "{count} demandes à une personne ({state})")
MY_DATA_TICKETS_OPEN = ("1 en cours", "{count} en cours")
MY_DATA_TICKETS_NONE_OPEN = "terminée"
MY_DATA_TICKETS_NONE_OPEN_MANY = "terminées"
MY_DATA_TICKETS_TITLE = "Vos demandes à une personne"
MY_DATA_APPOINTMENTS = ("1 rendez-vous : {next}", "{count} rendez-vous ; le prochain : {next}")
MY_DATA_APPOINTMENTS_PAST = ("1 rendez-vous, passé ou annulé", "{count} rendez-vous, passés ou annulés")
MY_DATA_APPOINTMENTS_TITLE = "Vos rendez-vous"
MY_DATA_ENROLMENTS = ("Inscription à 1 séance", "Inscription à {count} séances")
MY_DATA_SESSION_ANSWERS = ("1 réponse à un rappel de séance", "{count} réponses à un rappel de séance")
MY_DATA_SESSIONS_TITLE = "Vos séances de module"
FORGET_CONFIRM = "⚠️ Voulez-vous vraiment tout effacer ? Je ne pourrai plus vous reconnaître."
FORGET_CANCELS_APPOINTMENTS = (
    "Votre rendez-vous de {when} sera annulé.",
    "Vos {count} rendez-vous à venir seront annulés (le prochain : {when}).",
)
FORGET_DONE = "✅ C'est fait. J'ai tout effacé."
FORGET_DONE_NEXT = "Vous pouvez revenir quand vous voulez : tapez /start."
FORGET_CANCELLED = "D'accord, je garde tout."
FORGET_STAFF = "Les comptes du personnel sont gérés par un admin (cisp-bot staff remove)."

STOP_DONE = "🔕 D'accord. Je ne vous enverrai plus de rappels. Pour les recevoir à nouveau : /reprendre"
RESUME_DONE = "🔔 C'est noté. Je vous enverrai à nouveau les rappels. Pour les arrêter : /stop"
LANGUAGE_QUESTION = "🌍 En quelle langue voulez-vous les réponses ?"
# The question again in each other language offered (FAQ_LANGUAGES), after the French one.
LANGUAGE_QUESTION_IN = {"nl": "In welke taal?", "en": "In which language?"}
LANGUAGE_NOTE = (
    "Le menu reste en français. Quand une réponse n'existe pas dans votre langue, elle vient en français."
)
LANGUAGE_ONLY_FRENCH = "Ici, les réponses sont en français."
LANGUAGE_NOT_OFFERED = "Cette langue n'est plus proposée."
LANGUAGE_SET = {
    "fr": "C'est noté : les réponses viendront en français.",
    "nl": "Genoteerd: de antwoorden komen in het Nederlands, als ze bestaan. (Het menu blijft in het Frans.)",
    "en": "Noted: answers will come in English when they exist. (The menu stays in French.)",
}
# For admins only.
FAQ_RELOAD_FAILED = (
    "⚠️ Les fichiers FAQ modifiés ont des erreurs. Le bot continue avec l'ancienne version.\n{problems}"
)
# One admin's broken file does not stop the others' edits: which files, and what is served instead.
FAQ_FILES_TO_FIX = (
    "⚠️ Fichier FAQ à corriger : {files}. {versions} Les autres modifications sont en service.\n{problems}"
)
FAQ_FILES_KEPT_OLD = "Le bot garde l'ancienne version de : {files}."
FAQ_FILES_LEFT_OUT = "Pas encore en service : {files}."
NEEDS_ACCOUNT = "Pour cela, je dois d'abord vous connaître. Appuyez sur « Me présenter »."

# Talking to a person (trainee side).
HANDOFF_NEEDS_ACCOUNT = (
    "🙋 Pour vous mettre en contact avec une personne, je dois garder votre prénom et vos messages. "
    "Appuyez sur « Me présenter »."
)
HANDOFF_OR_CALL = "Vous pouvez aussi vous adresser à {contact}."
HANDOFF_ASK_SUBJECT = "🙋 D'accord. En une phrase, c'est à quel sujet ?"
HANDOFF_ASK_SUBJECT_NEXT = "Vous pouvez aussi appuyer sur « Passer »."
HANDOFF_OPENED = "✅ C'est noté, {name}. Votre demande est transmise à l'équipe."
HANDOFF_OPEN_NOW = "Le bureau est ouvert : une personne vous répond ici dès que possible."
HANDOFF_CLOSED_NOW = "Le bureau est fermé. Une personne vous répondra ici dès {when}."
HANDOFF_NO_HOURS = "Une personne vous répondra ici dès que possible."
HANDOFF_WRITE_HERE = (
    "Écrivez ici ce que vous voulez dire : je le transmets. Ces messages sont gardés jusqu'à "
    "{ticket_retention} après la fin de la demande."
)
HANDOFF_ALREADY_OPEN = "🙋 Votre demande est déjà transmise. Écrivez votre message ici : je le transmets."
HANDOFF_RELAYED = "✓ Transmis."
TICKET_LEAVE_QUESTION = (
    "Je n'ai pas envoyé ce message à l'équipe. Voulez-vous quitter la conversation avec l'équipe ?"
)
TICKET_STAY = "D'accord. Écrivez votre message : je le transmets à l'équipe."
BUTTON_LEAVE_TICKET = "Oui, retour au robot"
BUTTON_STAY_IN_TICKET = "Non, je continue"
HANDOFF_BACK = "D'accord. Votre demande reste ouverte : la réponse arrivera ici."
HANDOFF_CANCELLED = "Votre demande est annulée."
HANDOFF_TAKEN = "🙋 {worker} a pris votre demande. Vous allez recevoir sa réponse ici."
HANDOFF_FROM_WORKER = "💬 {worker} : {text}"
HANDOFF_FROM_WORKER_FILE = "💬 {worker} vous envoie ceci :"
HANDOFF_CLOSED_BY_WORKER = "✔️ {worker} a terminé la conversation."
HANDOFF_FEEDBACK_QUESTION = "Est-ce que cette aide vous a servi ?"
HANDOFF_FEEDBACK_THANKS = "Merci pour votre avis ! 🙏"
HANDOFF_NOT_OPEN = "Cette demande est terminée."
HANDOFF_STAFF_SELF = "Vous faites partie de l'équipe 🙂 Les demandes des stagiaires : /tickets"

# Talking to a person (staff side).
TICKET_ALERT = "🙋 Demande n°{id} : {name}{filiere}, sur {channel}.\nOuverte {opened}."
TICKET_ALERT_SUBJECT = "Sujet : « {subject} »"
TICKET_ALERT_PHONE = "📞 À rappeler au {phone}"
CALL_REQUEST_SUBJECT = "Demande qu'on l'appelle (au lieu d'un rendez-vous) : {reason}"
CALL_REQUEST_SUBJECT_ONLY = "Demande qu'on l'appelle (au lieu d'un rendez-vous)"
CALL_REQUEST_ADDED = "📞 {name} (demande n°{id}) demande qu'on l'appelle au {phone}."
TICKET_ALERT_CONTEXT = "Ses dernières questions au robot :"
TICKET_ALERT_HOW = "Pour répondre : « Je prends », puis écrivez-moi ici."
# In the staff group, where answering the alert itself reaches the trainee.
TICKET_ALERT_HOW_GROUP = "Pour répondre : « Je prends », puis écrivez-moi en privé, ou répondez à ce message."
TICKET_NEW_MESSAGE = "💬 Demande n°{id} ({name}), nouveau message en attente : {text}"
TICKET_TRAINEE_SAYS = "💬 {name} (n°{id}) : {text}"
TICKET_TRAINEE_FILE = "📎 {name} (n°{id}) envoie ceci :"
TICKET_CLAIMED = "✋ {worker} prend la demande n°{id} ({name})."
TICKET_CLAIMED_MARK = "✋ Prise par {worker}."
TICKET_YOURS = (
    "Vous suivez la demande n°{id} de {name}{filiere}. Écrivez-moi ici : je transmets à {name}, "
    "signé de votre prénom. Quand c'est fini : « Terminé »."
)
TICKET_ALREADY_TAKEN = "La demande n°{id} est déjà suivie par {worker}."
TICKET_NOT_OPEN = "La demande n°{id} est terminée."
TICKET_UNKNOWN = "Je ne trouve pas cette demande."
TICKET_SENT = "✓ Envoyé à {name}."
TICKET_NONE_FOLLOWED = "Vous ne suivez aucune demande en ce moment. Les demandes ouvertes : /tickets"
TICKET_CLOSED_STAFF = "✔️ Demande n°{id} terminée."
TICKET_CLOSED_GROUP = "✔️ Demande n°{id} ({name}) terminée par {worker}."
TICKET_CANCELLED_BY_TRAINEE = "↩️ {name} a annulé la demande n°{id}."
TICKET_ESCALATED = "⏰ La demande n°{id} ({name}) attend depuis {minutes} minutes de bureau. Qui la prend ?"
TICKET_LIST_EMPTY = "📋 Aucune demande ouverte."
TICKET_LIST_TITLE = "📋 Demandes ouvertes :"
TICKET_LIST_LINE = "• n°{id} · {name}{filiere} · {channel} · depuis {opened} · {who}"
TICKET_WAITING = "en attente"
TICKET_FOLLOWED_BY = "suivie par {worker}"
TICKET_DAY_SUMMARY = "📋 Fin de journée : {count} demande(s) encore ouverte(s)."
TICKET_DAY_SUMMARY_NONE = "📋 Fin de journée : aucune demande ouverte. 👍"
UNREACHABLE_TITLE = "📵 Stagiaires que le robot ne peut plus joindre (appli bloquée ou compte supprimé) :"
UNREACHABLE_LINE = "• {name}{filiere}, sur {channel}, depuis {since}"
TICKET_DRAFT_WRITTEN = "📝 Brouillon écrit : {path}. Un·e admin le relit avant de le publier."
TICKET_DRAFT_EMPTY = "Il n'y a pas de réponse à transformer en fiche dans cette demande."


# The bot learns from its staff (staff side): questions an FAQ entry answered, for an admin to accept.
BUTTON_LEARN_TICKET = "📚 La fiche « {entry} » répondait"
BUTTON_LEARN_ACCEPT = "✅ Ajouter n°{number}"
BUTTON_LEARN_REJECT = "❌ Refuser n°{number}"
BUTTON_LEARN_MORE = "➡️ Suivantes"
LEARN_TICKET_OFFER = (
    "📚 Une fiche de la FAQ répondait au sujet « {subject} » ? Appuyez dessus : la phrase sera proposée "
    "aux admins, et le robot saura y répondre."
)
LEARN_TICKET_NOTED = (
    "📚 Merci ! « {question} » est proposée pour la fiche « {entry} ». Un·e admin la valide avec /apprendre."
)
LEARN_TICKET_ALREADY = "📚 C'est déjà noté pour cette demande. Merci !"
LEARN_TICKET_NOT_KEPT = (
    "📚 Merci ! La fiche connaît déjà cette phrase, ou elle a été refusée : rien à ajouter."
)
LEARN_STALE = "Ce bouton n'est plus valable : la FAQ ou la demande a changé entre-temps."
LEARN_ADMINS_ONLY = "📚 Seul·e un·e admin peut ajouter des phrases à la FAQ. Phrases en attente : {count}."
LEARN_NONE = "📚 Aucune phrase à apprendre pour le moment. 👍"
LEARN_TITLE = (
    "📚 Phrases à apprendre : {count}. Un·e stagiaire ou l'équipe a relié chacune à une fiche. "
    "Ajouter la phrase aux « alternatives » de la fiche ?"
)
LEARN_ITEM = "n°{number} « {question} »\n→ fiche « {entry} » ({times}{staff})"
LEARN_ITEM_STAFF = ", dont {count} par l'équipe"
LEARN_ITEM_ENTRY_GONE = "{entry}, supprimée de la FAQ"
LEARN_MORE = "… et {count} autre(s). Tout voir : cisp-bot faq suggestions"
LEARN_ACCEPTED = "✅ n°{number} ajoutée à la fiche « {entry} » ({file})."
LEARN_ALREADY_THERE = "✅ La fiche « {entry} » a déjà cette phrase : n°{number} est retirée de la liste."
LEARN_RELOADED = "FAQ rechargée : le robot reconnaît cette phrase."
LEARN_REJECTED = "❌ n°{number} refusée : elle ne sera plus proposée pour cette fiche."
LEARN_GONE = "La phrase n°{number} est déjà traitée, ou n'existe plus."
LEARN_ENTRY_GONE = (
    "⚠️ La fiche « {entry} » n'existe plus dans la FAQ. Refusez la phrase n°{number}, "
    "ou ajoutez-la à la main à une autre fiche."
)
LEARN_FILE_ERROR = "⚠️ Rien n'est écrit pour n°{number} : {problem}."


def counted(forms: tuple[str, str], count: int, **values: object) -> str:
    """Fill the singular form for 1, the plural one otherwise."""
    return forms[0 if count == 1 else 1].format(count=count, **values)


def retention_text(days: int) -> str:
    """Say a retention period the way people do: in years or months when it is a whole number of them."""
    if days % 365 == 0:
        years = days // 365
        return "1 an" if years == 1 else f"{years} ans"
    if days % 30 == 0:
        return f"{days // 30} mois"
    return f"{days} jours"


# Appointments (trainee side). Buttons at most 20 characters where WhatsApp shows them.
BUTTON_ANY_WORKER = "Peu importe"
BUTTON_MORE_DATES = "Autres dates"
BUTTON_CALL_ME = "Qu'on m'appelle"
BUTTON_LATER_DAYS = "Jours suivants"
BUTTON_OTHER_DAYS = "Autres jours"
BOOK_PICK_DAY = "📅 Quel jour vous convient ?"
BOOK_PICK_TIME = "📅 {day} : à quelle heure ?"
BUTTON_CONFIRM_BOOKING = "Oui, je réserve"
BUTTON_OTHER_DATE = "Une autre date"
BUTTON_MY_APPOINTMENTS = "Mes rendez-vous"
BUTTON_NEW_APPOINTMENT = "Nouveau rendez-vous"
BUTTON_CANCEL_APPOINTMENT = "Annuler"
BUTTON_MOVE_APPOINTMENT = "Déplacer"
BUTTON_CONFIRM_CANCEL = "Oui, annuler"
BUTTON_KEEP = "Non, garder"
BUTTON_WILL_BE_THERE = "Je serai là"
BOOK_ASK_REASON = "📅 C'est pour quoi ?"
BOOK_ASK_WORKER = "Avec qui ?"
BOOK_SLOTS = "Voici les prochains moments libres. Appuyez sur celui qui vous va."
BOOK_NO_SLOTS = "😕 Il n'y a plus de moment libre dans les {days} prochains jours."
BOOK_NO_SLOTS_NEXT = "Vous pouvez demander qu'on vous appelle, ou parler à quelqu'un."
BOOK_NOT_CONFIGURED = "📅 Les rendez-vous ne sont pas encore ouverts dans le bot. Adressez-vous à {contact}."
BOOK_CONFIRM = "Rendez-vous avec {worker}, {when}{place}. Je réserve ?"
BOOK_DONE = "✅ C'est réservé : {when}, avec {worker}{place}."
BOOK_DONE_REMINDER = "Je vous enverrai un rappel. Le fichier joint met le rendez-vous dans votre agenda."
BOOK_TAKEN = "😕 Ce moment vient d'être pris par quelqu'un d'autre."
BOOK_STALE_SLOT = "Ce moment n'est plus libre."
BOOK_ALREADY = "Vous avez déjà un rendez-vous à ce moment-là."
BOOK_MY_LIST = "📅 Vos rendez-vous :"
BOOK_MY_LINE = "• {when}, avec {worker}{place} ({reason})"
BOOK_NONE = "Vous n'avez pas de rendez-vous prévu."
BOOK_ASK_CANCEL = "Annuler le rendez-vous {when} avec {worker} ?"
BOOK_CANCELLED = "C'est annulé. Le moment est libre pour quelqu'un d'autre."
BOOK_TOO_LATE = "Il est trop tard pour changer ce rendez-vous dans le bot. Prévenez {contact}."
BOOK_MOVE_SLOTS = "Choisissez le nouveau moment. L'ancien rendez-vous reste tant que vous ne confirmez pas."
BOOK_MOVE_CONFIRM = "Déplacer le rendez-vous {old} vers {new} ?"
BOOK_MOVED = "✅ C'est déplacé : {when}, avec {worker}{place}."
BOOK_ASK_PHONE = "📞 D'accord. À quel numéro peut-on vous appeler ? Écrivez-le, par exemple : 0470 12 34 56."
BOOK_BAD_PHONE = (
    "Je n'ai pas reconnu un numéro de téléphone. Écrivez-le avec les chiffres, par exemple : 0470 12 34 56."
)
BOOK_CALL_DONE = "✅ C'est noté : une personne de l'équipe vous appellera au {phone}, {when}."
CALL_OPEN_NOW = "dès que possible"
CALL_CLOSED_NOW = "dès {when}"
CALL_NO_HOURS = "dès que possible"
BOOK_REMINDER = "⏰ Rappel : rendez-vous {when} avec {worker}{place}."
BOOK_THANKS_THERE = "Merci, c'est noté ! À bientôt."
BOOK_NOT_FOUND = "Je ne trouve plus ce rendez-vous."
BOOK_CANCELLED_BY_STAFF = "❌ {worker} a dû annuler votre rendez-vous {when}."
BOOK_STAFF_MESSAGE = "Son message : « {text} »"
BOOK_ICS_SUMMARY = "Rendez-vous avec {worker} ({centre})"

# Appointments (staff side).
BUTTON_DONE = "✅ Là"
BUTTON_ABSENT = "❌ Pas là"
BUTTON_STAFF_CANCEL = "🚫 Annuler"
STAFF_NEW_APPOINTMENT = "📅 Nouveau rendez-vous : {name}{filiere}, {when}. Motif : {reason}."
STAFF_CANCELLED_APPOINTMENT = "🗑️ Rendez-vous annulé par {name} : {when}. Le moment est de nouveau libre."
STAFF_ERASED_APPOINTMENT = (
    "🗑️ Le rendez-vous de {when} est annulé : la personne a effacé ses données. "
    "Le moment est de nouveau libre."
)
STAFF_MOVED_APPOINTMENT = "🔁 {name} a déplacé son rendez-vous {old} vers {new}."
STAFF_AGENDA = "☀️ Bonjour {worker} ! Vos rendez-vous d'aujourd'hui :"
STAFF_AGENDA_EMPTY = "☀️ Bonjour {worker} ! Pas de rendez-vous aujourd'hui."
STAFF_AGENDA_LINE = "• {time} : {name}{filiere}, {reason}{confirmed}"
STAFF_UPCOMING = "📅 Vos prochains rendez-vous :"
STAFF_UPCOMING_NONE = "📅 Aucun rendez-vous à venir."
STAFF_NOT_A_WORKER = "Votre compte n'est lié à aucun·e assistant·e social·e du fichier des disponibilités."
STAFF_MARKED_DONE = "✅ Noté : {name} était là."
STAFF_MARKED_ABSENT = "❌ Noté : {name} n'était pas là."
STAFF_NOT_STARTED = (
    "Ce rendez-vous n'a pas encore commencé. Vous pourrez dire si {name} était là à partir de {time}."
)
STAFF_ASK_CANCEL_MESSAGE = "Écrivez le message pour {name} : il partira avec l'annulation."
STAFF_CANCELLED = "🚫 Rendez-vous annulé ; {name} est prévenu·e."


# Module sessions.
BUTTON_WILL_BE_ABSENT = "Je ne viendrai pas"
BUTTON_JOIN_VIDEO = "Rejoindre la visio ?"
SESSIONS_TITLE = "🗓️ Vos prochaines séances :"
SESSIONS_NONE = (
    "🗓️ Vous n'avez pas de séance prévue dans le bot. Votre formateur ou votre formatrice vous donne "
    "l'horaire."
)
SESSION_LINE = "• {when} : {module}, {place}"
SESSION_VIDEO = "en visio"
SESSION_VIDEO_LINK = "en visio : {link}"
SESSION_REMINDER = "🗓️ Rappel : {module}, {when}, {place}."
SESSION_MOVED = "🔁 Changement : la séance {module} de {old} est déplacée. Nouvelle date : {when}, {place}."
SESSION_CANCELLED = "❌ La séance {module} de {when} est annulée."
SESSION_THANKS_PRESENT = "Merci, c'est noté ! À bientôt. 👋"
SESSION_ASK_REASON = (
    "D'accord. Vous voulez dire pourquoi ? Écrivez-le en quelques mots, ou appuyez sur « Passer »."
)
SESSION_THANKS_ABSENT = "C'est noté. L'équipe est prévenue. Prenez soin de vous."
SESSION_NOT_FOUND = "Je ne trouve plus cette séance."
SESSION_HOW_TO_JOIN = (
    "💻 Pour rejoindre la visio : ouvrez ce lien quelques minutes avant, sur l'ordinateur ou le téléphone.\n"
    "{link}\n"
    "Autorisez le micro et la caméra quand on vous le demande. Si ça ne marche pas, parlez à quelqu'un."
)
SESSION_ABSENCE_STAFF = "🗓️ {name} sera absent·e à la séance {module} de {when}{trainer}.{reason}"


# WhatsApp's forms of buttons.
WHATSAPP_CHOOSE = "Choisissez :"
WHATSAPP_LIST_BUTTON = "Voir les choix"
WHATSAPP_TYPE_NUMBER = "Répondez avec le numéro de votre choix."

# The staff's commands, listed by /staff and at the end of /aide for staff.
STAFF_HELP = (
    "Commandes du personnel :\n"
    "/tickets : les demandes ouvertes\n"
    "/rdv : vos prochains rendez-vous\n"
    "/stats : les chiffres de la semaine\n"
    "/test <question> : ce que le bot répondrait\n"
    "/gaps : les questions sans bonne réponse\n"
    "/apprendre : les phrases à ajouter à la FAQ (admins)\n"
    "/recharger : relire les fichiers FAQ\n"
    "/console : un lien vers la console web"
)
CONSOLE_LINK = (
    "🔑 Votre lien vers la console : {address}\n"
    "Il marche une seule fois, pendant {minutes} minutes. Ne le donnez à personne."
)
CONSOLE_LINK_NOT_IN_GROUP = (
    "🔑 Ce lien est personnel : demandez /console au bot en message privé, pas dans le groupe."
)

# How each platform is named to the staff ("Demande n°1 : Samira, sur WhatsApp").
CHANNEL_NAMES = {"telegram": "Telegram", "whatsapp": "WhatsApp", "console": "le terminal"}
