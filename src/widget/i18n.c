/*
 * i18n.c - the widget's string table.
 *
 * One array per language, indexed by enum i18n_key with designated
 * initialisers, so a key added to the enum but not to a language is a
 * NULL there and falls back to English. Texts are UTF-8 and plain text;
 * French uses a no-break space (\u00a0) before ':' and inside « ».
 *
 * Adding a language: write its array, add it to `langs` below and to the
 * list in i18n.h's comment. Adding a text: add the key to the enum (before
 * I18N_KEY_COUNT) and its text to every array; the unit test fails while
 * English lacks it or any language does.
 */
#include <stddef.h>
#include <string.h>

#include "widget/i18n.h"

/* English */
static const char *const text_en[I18N_KEY_COUNT] = {
    [I18N_PICKER_TITLE] = "Connect your health data",
    [I18N_PICKER_HEADING] = "Choose your provider",
    [I18N_PICKER_INTRO] =
        "Select the service that holds your data. You will sign in there and "
        "then come back here.",
    [I18N_WEBVIEW_HEADING] = "Open this page in your browser",
    [I18N_WEBVIEW_TEXT] =
        "Some providers refuse to sign you in inside an app. If signing in "
        "does not work, open this page in your browser: tap the menu (⋯ or "
        "⋮) and choose “Open in browser”.",
    [I18N_WEBVIEW_COPY] = "Or copy this link and paste it into your browser:",
    [I18N_EXPIRED_TITLE] = "This link has expired",
    [I18N_EXPIRED_TEXT] =
        "For your security, connection links are valid for a short time only. "
        "Go back to the app and start again to get a new link.",
    [I18N_USED_TITLE] = "This link was already used",
    [I18N_USED_TEXT] =
        "Each connection link works only once. To connect another account, go "
        "back to the app and start again.",
    [I18N_NOT_FOUND_TITLE] = "Link not found",
    [I18N_NOT_FOUND_TEXT] =
        "This link is not valid. Check that you opened the complete link, or "
        "go back to the app and start again.",
    [I18N_BAD_FORM_TITLE] = "Please try again",
    [I18N_BAD_FORM_TEXT] =
        "Your choice could not be accepted because the page was out of date. "
        "Go back, reload the page and choose your provider again.",
    [I18N_SUCCESS_TITLE] = "Connected",
    [I18N_SUCCESS_TEXT] =
        "Your account is now connected. You may close this page.",
    [I18N_FAILURE_TITLE] = "The connection did not complete",
    [I18N_FAILURE_TEXT] =
        "Nothing was connected. You can go back to the app and try again.",
    [I18N_NO_PROVIDER_TITLE] = "No provider available",
    [I18N_NO_PROVIDER_TEXT] =
        "There is no service you can connect at the moment. Go back to the "
        "app, and contact its support if this persists.",
    [I18N_DETAIL_LABEL] = "Details",
    [I18N_FOOTER] = "Secured by ferry",
};

/* German */
static const char *const text_de[I18N_KEY_COUNT] = {
    [I18N_PICKER_TITLE] = "Gesundheitsdaten verbinden",
    [I18N_PICKER_HEADING] = "Wählen Sie Ihren Anbieter",
    [I18N_PICKER_INTRO] =
        "Wählen Sie den Dienst, bei dem Ihre Daten liegen. Sie melden sich "
        "dort an und kehren danach hierher zurück.",
    [I18N_WEBVIEW_HEADING] = "Öffnen Sie diese Seite im Browser",
    [I18N_WEBVIEW_TEXT] =
        "Manche Anbieter lassen keine Anmeldung innerhalb einer App zu. Falls "
        "die Anmeldung nicht klappt, öffnen Sie diese Seite in Ihrem "
        "Browser: Tippen Sie auf das Menü (⋯ oder ⋮) und wählen Sie "
        "„Im Browser öffnen“.",
    [I18N_WEBVIEW_COPY] =
        "Oder kopieren Sie diesen Link und fügen Sie ihn in Ihren Browser "
        "ein:",
    [I18N_EXPIRED_TITLE] = "Dieser Link ist abgelaufen",
    [I18N_EXPIRED_TEXT] =
        "Zu Ihrer Sicherheit sind Verbindungslinks nur kurze Zeit gültig. "
        "Kehren Sie zur App zurück und beginnen Sie erneut, um einen neuen "
        "Link zu erhalten.",
    [I18N_USED_TITLE] = "Dieser Link wurde bereits verwendet",
    [I18N_USED_TEXT] =
        "Jeder Verbindungslink funktioniert nur einmal. Um ein weiteres Konto "
        "zu verbinden, kehren Sie zur App zurück und beginnen Sie erneut.",
    [I18N_NOT_FOUND_TITLE] = "Link nicht gefunden",
    [I18N_NOT_FOUND_TEXT] =
        "Dieser Link ist ungültig. Prüfen Sie, ob Sie den vollständigen "
        "Link geöffnet haben, oder beginnen Sie in der App erneut.",
    [I18N_BAD_FORM_TITLE] = "Bitte versuchen Sie es erneut",
    [I18N_BAD_FORM_TEXT] =
        "Ihre Auswahl konnte nicht übernommen werden, weil die Seite "
        "veraltet war. Gehen Sie zurück, laden Sie die Seite neu und wählen "
        "Sie Ihren Anbieter noch einmal.",
    [I18N_SUCCESS_TITLE] = "Verbunden",
    [I18N_SUCCESS_TEXT] =
        "Ihr Konto ist jetzt verbunden. Sie können diese Seite schließen.",
    [I18N_FAILURE_TITLE] = "Die Verbindung wurde nicht hergestellt",
    [I18N_FAILURE_TEXT] =
        "Es wurde nichts verbunden. Sie können zur App zurückkehren und es "
        "erneut versuchen.",
    [I18N_NO_PROVIDER_TITLE] = "Kein Anbieter verfügbar",
    [I18N_NO_PROVIDER_TEXT] =
        "Derzeit kann kein Dienst verbunden werden. Kehren Sie zur App "
        "zurück und wenden Sie sich an deren Support, falls das so bleibt.",
    [I18N_DETAIL_LABEL] = "Details",
    [I18N_FOOTER] = "Gesichert durch ferry",
};

/* French */
static const char *const text_fr[I18N_KEY_COUNT] = {
    [I18N_PICKER_TITLE] = "Connecter vos données de santé",
    [I18N_PICKER_HEADING] = "Choisissez votre fournisseur",
    [I18N_PICKER_INTRO] =
        "Sélectionnez le service qui détient vos données. Vous vous y "
        "connecterez, puis reviendrez ici.",
    [I18N_WEBVIEW_HEADING] = "Ouvrez cette page dans votre navigateur",
    [I18N_WEBVIEW_TEXT] =
        "Certains fournisseurs refusent la connexion à l’intérieur "
        "d’une application. Si la connexion échoue, ouvrez cette page dans "
        "votre navigateur\u00a0: touchez le menu (⋯ ou ⋮) et choisissez "
        "«\u00a0Ouvrir dans le navigateur\u00a0».",
    [I18N_WEBVIEW_COPY] =
        "Ou copiez ce lien et collez-le dans votre navigateur\u00a0:",
    [I18N_EXPIRED_TITLE] = "Ce lien a expiré",
    [I18N_EXPIRED_TEXT] =
        "Pour votre sécurité, les liens de connexion ne sont valables que "
        "peu de temps. Revenez à l’application et recommencez pour obtenir "
        "un nouveau lien.",
    [I18N_USED_TITLE] = "Ce lien a déjà été utilisé",
    [I18N_USED_TEXT] =
        "Chaque lien de connexion ne fonctionne qu’une seule fois. Pour "
        "connecter un autre compte, revenez à l’application et recommencez.",
    [I18N_NOT_FOUND_TITLE] = "Lien introuvable",
    [I18N_NOT_FOUND_TEXT] =
        "Ce lien n’est pas valide. Vérifiez que vous avez ouvert le lien "
        "complet, ou revenez à l’application et recommencez.",
    [I18N_BAD_FORM_TITLE] = "Veuillez réessayer",
    [I18N_BAD_FORM_TEXT] =
        "Votre choix n’a pas pu être pris en compte, car la page "
        "n’était plus à jour. Revenez en arrière, actualisez la page et "
        "choisissez de nouveau votre fournisseur.",
    [I18N_SUCCESS_TITLE] = "Connecté",
    [I18N_SUCCESS_TEXT] =
        "Votre compte est maintenant connecté. Vous pouvez fermer cette page.",
    [I18N_FAILURE_TITLE] = "La connexion n’a pas abouti",
    [I18N_FAILURE_TEXT] =
        "Rien n’a été connecté. Vous pouvez revenir à l’application "
        "et réessayer.",
    [I18N_NO_PROVIDER_TITLE] = "Aucun fournisseur disponible",
    [I18N_NO_PROVIDER_TEXT] =
        "Aucun service ne peut être connecté pour le moment. Revenez à "
        "l’application et contactez son assistance si le problème persiste.",
    [I18N_DETAIL_LABEL] = "Détails",
    [I18N_FOOTER] = "Sécurisé par ferry",
};

/* Spanish (Spain) */
static const char *const text_es[I18N_KEY_COUNT] = {
    [I18N_PICKER_TITLE] = "Conecta tus datos de salud",
    [I18N_PICKER_HEADING] = "Elige tu proveedor",
    [I18N_PICKER_INTRO] =
        "Selecciona el servicio que guarda tus datos. Iniciarás sesión "
        "allí y después volverás aquí.",
    [I18N_WEBVIEW_HEADING] = "Abre esta página en tu navegador",
    [I18N_WEBVIEW_TEXT] =
        "Algunos proveedores no permiten iniciar sesión dentro de una "
        "aplicación. Si no puedes iniciar sesión, abre esta página en tu "
        "navegador: toca el menú (⋯ o ⋮) y elige «Abrir en el "
        "navegador».",
    [I18N_WEBVIEW_COPY] = "O copia este enlace y pégalo en tu navegador:",
    [I18N_EXPIRED_TITLE] = "Este enlace ha caducado",
    [I18N_EXPIRED_TEXT] =
        "Por tu seguridad, los enlaces de conexión solo son válidos durante "
        "poco tiempo. Vuelve a la aplicación y empieza de nuevo para obtener "
        "un enlace nuevo.",
    [I18N_USED_TITLE] = "Este enlace ya se ha utilizado",
    [I18N_USED_TEXT] =
        "Cada enlace de conexión funciona una sola vez. Para conectar otra "
        "cuenta, vuelve a la aplicación y empieza de nuevo.",
    [I18N_NOT_FOUND_TITLE] = "Enlace no encontrado",
    [I18N_NOT_FOUND_TEXT] =
        "Este enlace no es válido. Comprueba que has abierto el enlace "
        "completo o vuelve a la aplicación y empieza de nuevo.",
    [I18N_BAD_FORM_TITLE] = "Inténtalo de nuevo",
    [I18N_BAD_FORM_TEXT] =
        "No se ha podido aceptar tu elección porque la página estaba "
        "desactualizada. Vuelve atrás, recarga la página y elige tu "
        "proveedor otra vez.",
    [I18N_SUCCESS_TITLE] = "Conectado",
    [I18N_SUCCESS_TEXT] =
        "Tu cuenta ya está conectada. Puedes cerrar esta página.",
    [I18N_FAILURE_TITLE] = "La conexión no se ha completado",
    [I18N_FAILURE_TEXT] =
        "No se ha conectado nada. Puedes volver a la aplicación e intentarlo "
        "de nuevo.",
    [I18N_NO_PROVIDER_TITLE] = "No hay ningún proveedor disponible",
    [I18N_NO_PROVIDER_TEXT] =
        "En este momento no se puede conectar ningún servicio. Vuelve a la "
        "aplicación y contacta con su soporte si el problema continúa.",
    [I18N_DETAIL_LABEL] = "Detalles",
    [I18N_FOOTER] = "Protegido por ferry",
};

/* Italian */
static const char *const text_it[I18N_KEY_COUNT] = {
    [I18N_PICKER_TITLE] = "Collega i tuoi dati sulla salute",
    [I18N_PICKER_HEADING] = "Scegli il tuo fornitore",
    [I18N_PICKER_INTRO] =
        "Seleziona il servizio che conserva i tuoi dati. Accederai lì e poi "
        "tornerai qui.",
    [I18N_WEBVIEW_HEADING] = "Apri questa pagina nel browser",
    [I18N_WEBVIEW_TEXT] =
        "Alcuni fornitori non consentono l’accesso all’interno di "
        "un’app. Se l’accesso non funziona, apri questa pagina nel "
        "browser: tocca il menu (⋯ o ⋮) e scegli «Apri nel browser».",
    [I18N_WEBVIEW_COPY] = "Oppure copia questo link e incollalo nel browser:",
    [I18N_EXPIRED_TITLE] = "Questo link è scaduto",
    [I18N_EXPIRED_TEXT] =
        "Per la tua sicurezza, i link di collegamento sono validi solo per "
        "poco tempo. Torna all’app e ricomincia per ricevere un nuovo link.",
    [I18N_USED_TITLE] = "Questo link è già stato usato",
    [I18N_USED_TEXT] =
        "Ogni link di collegamento funziona una sola volta. Per collegare un "
        "altro account, torna all’app e ricomincia.",
    [I18N_NOT_FOUND_TITLE] = "Link non trovato",
    [I18N_NOT_FOUND_TEXT] =
        "Questo link non è valido. Controlla di aver aperto il link "
        "completo, oppure torna all’app e ricomincia.",
    [I18N_BAD_FORM_TITLE] = "Riprova",
    [I18N_BAD_FORM_TEXT] =
        "Non è stato possibile accettare la tua scelta perché la pagina non "
        "era aggiornata. Torna indietro, ricarica la pagina e scegli di nuovo "
        "il fornitore.",
    [I18N_SUCCESS_TITLE] = "Collegato",
    [I18N_SUCCESS_TEXT] =
        "Il tuo account ora è collegato. Puoi chiudere questa pagina.",
    [I18N_FAILURE_TITLE] = "Il collegamento non è stato completato",
    [I18N_FAILURE_TEXT] =
        "Non è stato collegato nulla. Puoi tornare all’app e riprovare.",
    [I18N_NO_PROVIDER_TITLE] = "Nessun fornitore disponibile",
    [I18N_NO_PROVIDER_TEXT] =
        "Al momento non è possibile collegare alcun servizio. Torna "
        "all’app e contatta l’assistenza se il problema persiste.",
    [I18N_DETAIL_LABEL] = "Dettagli",
    [I18N_FOOTER] = "Protetto da ferry",
};

/* Dutch (informal "je") */
static const char *const text_nl[I18N_KEY_COUNT] = {
    [I18N_PICKER_TITLE] = "Koppel je gezondheidsgegevens",
    [I18N_PICKER_HEADING] = "Kies je aanbieder",
    [I18N_PICKER_INTRO] =
        "Selecteer de dienst waar je gegevens staan. Je logt daar in en komt "
        "daarna hier terug.",
    [I18N_WEBVIEW_HEADING] = "Open deze pagina in je browser",
    [I18N_WEBVIEW_TEXT] =
        "Sommige aanbieders staan inloggen binnen een app niet toe. Lukt het "
        "inloggen niet, open deze pagina dan in je browser: tik op het menu "
        "(⋯ of ⋮) en kies ‘Openen in browser’.",
    [I18N_WEBVIEW_COPY] = "Of kopieer deze link en plak hem in je browser:",
    [I18N_EXPIRED_TITLE] = "Deze link is verlopen",
    [I18N_EXPIRED_TEXT] =
        "Voor je veiligheid zijn koppelingslinks maar kort geldig. Ga terug "
        "naar de app en begin opnieuw om een nieuwe link te krijgen.",
    [I18N_USED_TITLE] = "Deze link is al gebruikt",
    [I18N_USED_TEXT] =
        "Elke koppelingslink werkt maar één keer. Wil je nog een account "
        "koppelen, ga dan terug naar de app en begin opnieuw.",
    [I18N_NOT_FOUND_TITLE] = "Link niet gevonden",
    [I18N_NOT_FOUND_TEXT] =
        "Deze link is ongeldig. Controleer of je de volledige link hebt "
        "geopend, of ga terug naar de app en begin opnieuw.",
    [I18N_BAD_FORM_TITLE] = "Probeer het opnieuw",
    [I18N_BAD_FORM_TEXT] =
        "Je keuze kon niet worden verwerkt omdat de pagina verouderd was. Ga "
        "terug, laad de pagina opnieuw en kies je aanbieder nog een keer.",
    [I18N_SUCCESS_TITLE] = "Gekoppeld",
    [I18N_SUCCESS_TEXT] =
        "Je account is nu gekoppeld. Je kunt deze pagina sluiten.",
    [I18N_FAILURE_TITLE] = "Het koppelen is niet gelukt",
    [I18N_FAILURE_TEXT] =
        "Er is niets gekoppeld. Je kunt teruggaan naar de app en het opnieuw "
        "proberen.",
    [I18N_NO_PROVIDER_TITLE] = "Geen aanbieder beschikbaar",
    [I18N_NO_PROVIDER_TEXT] =
        "Er is op dit moment geen dienst die je kunt koppelen. Ga terug naar "
        "de app en neem contact op met de ondersteuning als dit zo blijft.",
    [I18N_DETAIL_LABEL] = "Details",
    [I18N_FOOTER] = "Beveiligd door ferry",
};

/* Portuguese (Brazil) */
static const char *const text_pt[I18N_KEY_COUNT] = {
    [I18N_PICKER_TITLE] = "Conecte seus dados de saúde",
    [I18N_PICKER_HEADING] = "Escolha seu provedor",
    [I18N_PICKER_INTRO] =
        "Selecione o serviço onde estão seus dados. Você vai entrar na sua "
        "conta lá e depois voltar para cá.",
    [I18N_WEBVIEW_HEADING] = "Abra esta página no navegador",
    [I18N_WEBVIEW_TEXT] =
        "Alguns provedores não permitem o login dentro de um aplicativo. Se "
        "o login não funcionar, abra esta página no navegador: toque no "
        "menu (⋯ ou ⋮) e escolha “Abrir no navegador”.",
    [I18N_WEBVIEW_COPY] = "Ou copie este link e cole no seu navegador:",
    [I18N_EXPIRED_TITLE] = "Este link expirou",
    [I18N_EXPIRED_TEXT] =
        "Para sua segurança, os links de conexão valem por pouco tempo. "
        "Volte ao aplicativo e comece de novo para receber um novo link.",
    [I18N_USED_TITLE] = "Este link já foi usado",
    [I18N_USED_TEXT] =
        "Cada link de conexão funciona uma única vez. Para conectar outra "
        "conta, volte ao aplicativo e comece de novo.",
    [I18N_NOT_FOUND_TITLE] = "Link não encontrado",
    [I18N_NOT_FOUND_TEXT] =
        "Este link não é válido. Verifique se você abriu o link completo "
        "ou volte ao aplicativo e comece de novo.",
    [I18N_BAD_FORM_TITLE] = "Tente novamente",
    [I18N_BAD_FORM_TEXT] =
        "Não foi possível aceitar sua escolha porque a página estava "
        "desatualizada. Volte, recarregue a página e escolha seu provedor "
        "outra vez.",
    [I18N_SUCCESS_TITLE] = "Conectado",
    [I18N_SUCCESS_TEXT] =
        "Sua conta está conectada. Você já pode fechar esta página.",
    [I18N_FAILURE_TITLE] = "A conexão não foi concluída",
    [I18N_FAILURE_TEXT] =
        "Nada foi conectado. Você pode voltar ao aplicativo e tentar "
        "novamente.",
    [I18N_NO_PROVIDER_TITLE] = "Nenhum provedor disponível",
    [I18N_NO_PROVIDER_TEXT] =
        "No momento, não há nenhum serviço que possa ser conectado. Volte "
        "ao aplicativo e fale com o suporte se isso continuar.",
    [I18N_DETAIL_LABEL] = "Detalhes",
    [I18N_FOOTER] = "Protegido por ferry",
};

/* Japanese */
/* Laid out by hand: clang-format counts a kana as 2 columns, the lint
 * checks 80 bytes and each kana is 3. */
/* clang-format off */
static const char *const text_ja[I18N_KEY_COUNT] = {
    [I18N_PICKER_TITLE] = "健康データの連携",
    [I18N_PICKER_HEADING] = "連携するサービスを選んでください",
    [I18N_PICKER_INTRO] =
        "データが保存されているサービスを選んでください"
        "。そのサービスでログインした後、"
        "このページに戻ります。",
    [I18N_WEBVIEW_HEADING] =
        "このページをブラウザで開いてください",
    [I18N_WEBVIEW_TEXT] =
        "一部のサービスでは、"
        "アプリ内でのログインが許可されていません。"
        "ログインできない場合は、"
        "メニュー（⋯ または ⋮）をタップして「ブラウ"
        "ザで開く」を選び、"
        "このページをブラウザで開いてください。",
    [I18N_WEBVIEW_COPY] =
        "または、"
        "次のリンクをコピーしてブラウザに貼り付けてくだ"
        "さい。",
    [I18N_EXPIRED_TITLE] =
        "このリンクは有効期限が切れています",
    [I18N_EXPIRED_TEXT] =
        "安全のため、"
        "連携用のリンクの有効期間は短く設定されています"
        "。アプリに戻って最初からやり直し、"
        "新しいリンクを取得してください。",
    [I18N_USED_TITLE] = "このリンクはすでに使用されています",
    [I18N_USED_TEXT] =
        "連携用のリンクは一度しか使用できません。"
        "別のアカウントを連携するには、"
        "アプリに戻って最初からやり直してください。",
    [I18N_NOT_FOUND_TITLE] = "リンクが見つかりません",
    [I18N_NOT_FOUND_TEXT] =
        "このリンクは無効です。"
        "リンクを最後まで正しく開いたかご確認いただくか"
        "、アプリに戻って最初からやり直してください。",
    [I18N_BAD_FORM_TITLE] = "もう一度お試しください",
    [I18N_BAD_FORM_TEXT] =
        "ページの情報が古いため、"
        "選択を受け付けられませんでした。"
        "前の画面に戻ってページを再読み込みし、"
        "もう一度サービスを選んでください。",
    [I18N_SUCCESS_TITLE] = "連携しました",
    [I18N_SUCCESS_TEXT] =
        "アカウントの連携が完了しました。"
        "このページは閉じてかまいません。",
    [I18N_FAILURE_TITLE] = "連携を完了できませんでした",
    [I18N_FAILURE_TEXT] =
        "何も連携されていません。アプリに戻って、"
        "もう一度お試しください。",
    [I18N_NO_PROVIDER_TITLE] = "利用できるサービスがありません",
    [I18N_NO_PROVIDER_TEXT] =
        "現在、連携できるサービスがありません。"
        "この状態が続く場合は、"
        "アプリに戻ってサポートにお問い合わせください。",
    [I18N_DETAIL_LABEL] = "詳細",
    [I18N_FOOTER] = "ferry で保護されています",
};
/* clang-format on */

struct lang {
    const char *tag;
    const char *const *text;
};

/* English first: it is the fallback. */
static const struct lang langs[] = {
    {"en", text_en}, {"de", text_de}, {"fr", text_fr}, {"es", text_es},
    {"it", text_it}, {"nl", text_nl}, {"pt", text_pt}, {"ja", text_ja},
};

#define NLANGS (sizeof(langs) / sizeof(langs[0]))

/* The entry for a tag from i18n_lang(), or for any tag by its primary
 * subtag; English when none matches. */
static const struct lang *
find_lang(const char *requested)
{
    size_t n = 0;
    size_t i = 0;

    if (requested == NULL) {
        return &langs[0];
    }
    n = strcspn(requested, "-_");
    for (i = 0; i < NLANGS; i++) {
        if (strlen(langs[i].tag) == n &&
            strncasecmp(langs[i].tag, requested, n) == 0) {
            return &langs[i];
        }
    }
    return &langs[0];
}

/* The text `key` of `row`, or English's when `row` lacks it. */
static const char *
text_in(const char *const *row, enum i18n_key key)
{
    if ((unsigned)key >= I18N_KEY_COUNT) {
        return "";
    }
    if (row[key] != NULL) {
        return row[key];
    }
    return text_en[key] != NULL ? text_en[key] : "";
}

const char *
i18n_lang(const char *requested)
{
    return find_lang(requested)->tag;
}

const char *
i18n_text(const char *lang, enum i18n_key key)
{
    return text_in(find_lang(lang)->text, key);
}

size_t
i18n_lang_count(void)
{
    return NLANGS;
}

const char *
i18n_lang_at(size_t i)
{
    return i < NLANGS ? langs[i].tag : NULL;
}

int
i18n_has_own(const char *lang, enum i18n_key key)
{
    const struct lang *l = find_lang(lang);

    if ((unsigned)key >= I18N_KEY_COUNT || strcmp(l->tag, lang) != 0) {
        return 0;
    }
    return l->text[key] != NULL && l->text[key][0] != '\0';
}
