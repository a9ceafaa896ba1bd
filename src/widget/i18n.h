/*
 * i18n.h - the widget's texts in every supported language.
 *
 * One table in i18n.c holds every sentence the widget shows, indexed by
 * `enum i18n_key`, for en de fr es it nl pt ja. English is complete by
 * construction (a unit test checks it); a text missing in another
 * language falls back to English. Texts are plain UTF-8, not HTML: the
 * pages escape them like any other value.
 */
#ifndef FERRY_WIDGET_I18N_H
#define FERRY_WIDGET_I18N_H

#include <stddef.h>

enum i18n_key {
    I18N_PICKER_TITLE,      /* page title: "Connect your health data" */
    I18N_PICKER_HEADING,    /* "Choose your provider" */
    I18N_PICKER_INTRO,      /* one sentence under the heading */
    I18N_WEBVIEW_HEADING,   /* "Open this page in your browser" */
    I18N_WEBVIEW_TEXT,      /* why, and how to open the system browser */
    I18N_WEBVIEW_COPY,      /* "Or copy this link ..." */
    I18N_EXPIRED_TITLE,     /* "This link has expired" */
    I18N_EXPIRED_TEXT,      /* ... ask the app for a new one */
    I18N_USED_TITLE,        /* "This link was already used" */
    I18N_USED_TEXT,         /* ... */
    I18N_NOT_FOUND_TITLE,   /* "Link not found" */
    I18N_NOT_FOUND_TEXT,    /* ... */
    I18N_BAD_FORM_TITLE,    /* "Please try again" */
    I18N_BAD_FORM_TEXT,     /* the form was stale or not ours */
    I18N_SUCCESS_TITLE,     /* "Connected" */
    I18N_SUCCESS_TEXT,      /* ... you may close this page */
    I18N_FAILURE_TITLE,     /* "The connection did not complete" */
    I18N_FAILURE_TEXT,      /* ... */
    I18N_NO_PROVIDER_TITLE, /* "No provider available" */
    I18N_NO_PROVIDER_TEXT,  /* ... */
    I18N_DETAIL_LABEL,      /* "Details" (label of a message's detail) */
    I18N_FOOTER,            /* "Secured by ferry" */
    I18N_KEY_COUNT          /* not a key: the number of keys */
};

/*
 * The supported language for a requested tag: "de", "de-CH", "DE_de" ->
 * "de"; NULL, "" or unsupported -> "en". Only the primary subtag counts,
 * in any case. Static string. Supported: en de fr es it nl pt ja.
 */
const char *i18n_lang(const char *requested);

/*
 * The text `key` in `lang` (a value from i18n_lang(); any other string
 * is treated as i18n_lang(lang)); falls back to en for a missing
 * translation, and gives "" for a key outside the enum. Never NULL.
 * Static.
 */
const char *i18n_text(const char *lang, enum i18n_key key);

/* Number of supported languages, and the i-th tag ("en" first). Static;
 * NULL past the end. */
size_t i18n_lang_count(void);
const char *i18n_lang_at(size_t i);

/* 1 when `lang` has its own text for `key` (no English fallback). */
int i18n_has_own(const char *lang, enum i18n_key key);

#endif
