/* Unit tests of server/mail.c (the notification emails) and of the webhook signature in
 * server/outbox.c. The integration tests read the same emails from a real SMTP sink. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include "alloc.h"
#include "mail.h"
#include "outbox.h"

static json_t *job(const char *locale, const char *kind, const char *title)
{
    json_t *item = json_pack("{s:s, s:i, s:i, s:s}", "kind", kind, "thread_id", 12, "post_id", 34,
                             "actor", "Dr Jeanne Tremblay");
    if (title != NULL)
        json_object_set_new(item, "title", json_string(title));
    return json_pack("{s:s, s:s, s:s, s:[o], s:i, s:s, s:s}", "to", "ann@example.ca", "locale",
                     locale, "name", "Ann", "items", item, "total", 1, "delivery",
                     "6f1c2a9e-0d4b-4c55-9a61-3b1d2e0f9a77", "event", "notification");
}

/* The decoded text of the message's base64 body. */
static char *body_of(const char *msg)
{
    const char *start = strstr(msg, "\r\n\r\n");
    assert_non_null(start);
    char flat[8192];
    size_t n = 0;
    for (const char *p = start + 4; *p && n < sizeof(flat) - 1; p++)
        if (*p != '\r' && *p != '\n')
            flat[n++] = *p;
    flat[n] = '\0';
    static char out[8192];
    int len = EVP_DecodeBlock((unsigned char *)out, (const unsigned char *)flat, (int)n);
    assert_true(len > 0);
    while (len > 0 && out[len - 1] == '\0')
        len--; /* the padding's zero bytes */
    out[len] = '\0';
    return out;
}

static void an_english_reply(void **state)
{
    (void)state;
    json_t *j = job("en", "reply", "Tapering in an older adult");
    size_t len;
    char *msg = cf_mail_render(j, "noreply@confer.test", "https://confer.test", 0, &len);
    assert_non_null(msg);
    assert_int_equal(len, strlen(msg));
    assert_non_null(strstr(msg, "From: confer <noreply@confer.test>\r\nTo: <ann@example.ca>\r\n"));
    assert_non_null(strstr(msg, "Date: Thu, 01 Jan 1970 00:00:00 +0000\r\n"));
    assert_non_null(
        strstr(msg, "Message-ID: <6f1c2a9e-0d4b-4c55-9a61-3b1d2e0f9a77@confer.test>\r\n"));
    assert_non_null(strstr(msg, "Content-Language: en\r\n"));
    const char *body = body_of(msg);
    assert_non_null(
        strstr(body, "Dr Jeanne Tremblay replied to your post in “Tapering in an older adult”."));
    assert_non_null(strstr(body, "Open it: https://confer.test/#/threads/12?post=34\r\n"));
    char *subject = cf_mail_subject(j);
    assert_string_equal(subject, "[confer] New reply in “Tapering in an older adult”");
    cf_free(subject);
    cf_free(msg);
    json_decref(j);
}

static void a_long_french_subject_is_folded_into_whole_characters(void **state)
{
    (void)state;
    const char *title = "Sevrage des opioïdes chez une personne âgée : éléments à considérer "
                        "et précautions à prendre pour la qualité de vie";
    json_t *j = job("fr", "reply", title);
    char *msg = cf_mail_render(j, "noreply@confer.test", "https://confer.test", 0, NULL);
    assert_non_null(msg);
    assert_non_null(strstr(msg, "Content-Language: fr\r\n"));
    /* Subject: =?UTF-8?B?..?= words on continuation lines, each decoding to whole UTF-8 */
    const char *p = strstr(msg, "Subject: ") + 9;
    const char *end = strstr(p, "\r\nDate:");
    char decoded[1024] = "";
    int words = 0;
    while (p < end) {
        assert_memory_equal(p, "=?UTF-8?B?", 10);
        const char *close = strstr(p + 10, "?=");
        assert_true(close - p + 2 <= 75); /* RFC 2047's longest encoded word */
        unsigned char part[128];
        int n = EVP_DecodeBlock(part, (const unsigned char *)p + 10, (int)(close - p - 10));
        assert_true(n > 0);
        size_t pad = 0;
        for (const char *q = close - 1; *q == '='; q--)
            pad++;
        n -= (int)pad;
        assert_true((part[0] & 0xC0) != 0x80); /* no word starts inside a character */
        strncat(decoded, (const char *)part, (size_t)n);
        words++;
        p = close + 2;
        if (p < end) {
            assert_memory_equal(p, "\r\n ", 3);
            p += 3;
        }
    }
    assert_true(words >= 3);
    /* the first line, "Subject: " and a word, within RFC 2047's 76 characters */
    const char *line = strstr(msg, "Subject: ");
    assert_true(strstr(line, "\r\n") - line <= 76);
    char want[512];
    snprintf(want, sizeof(want), "[confer] Nouvelle réponse dans « %s »", title);
    assert_string_equal(decoded, want);
    const char *body = body_of(msg);
    assert_non_null(strstr(body, "Bonjour Ann,"));
    assert_non_null(strstr(body, "Dr Jeanne Tremblay a répondu à votre message dans « Sevrage"));
    assert_non_null(strstr(body, "Ouvrir : https://confer.test/#/threads/12?post=34"));
    cf_free(msg);
    json_decref(j);
}

static void a_title_cannot_break_a_header(void **state)
{
    (void)state;
    json_t *j = job("en", "mention", "Evil\r\nBcc: everyone@example.ca");
    char *msg = cf_mail_render(j, "noreply@confer.test", "https://confer.test", 0, NULL);
    assert_non_null(msg);
    assert_null(strstr(msg, "Bcc:"));
    assert_null(strstr(msg, "everyone@"));
    cf_free(msg);
    json_decref(j);
}

static void addresses_a_header_cannot_carry_are_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {"ann@example.ca\r\nBcc: x@y.z", "Ann <ann@example.ca>",
                                      "no-at-sign", "a b@example.ca", ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *j = job("en", "reply", "A title");
        json_object_set_new(j, "to", json_string(bad[i]));
        assert_null(cf_mail_render(j, "noreply@confer.test", "https://confer.test", 0, NULL));
        json_decref(j);
    }
    json_t *j = job("en", "reply", "A title");
    json_object_set_new(j, "items", json_array()); /* nothing to tell */
    assert_null(cf_mail_render(j, "noreply@confer.test", "https://confer.test", 0, NULL));
    json_decref(j);
}

static void the_address_check(void **state)
{
    (void)state;
    static const char *const good[] = {"ann@example.ca", "a.b+c@x.y", "noreply@127.0.0.1"};
    static const char *const bad[] = {"ann",        "@example.ca",     "ann@",      "a@b@c",
                                      "a;b@c.d",    "a:b@c.d",         "a,b@c.d",   "a\\b@c.d",
                                      "a\x01b@c.d", "jos\xc3\xa9@c.d", "a\x7f@c.d", NULL};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        assert_true(cf_mail_address_ok(good[i]));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (cf_mail_address_ok(bad[i]))
            fail_msg("accepted %s", bad[i] ? bad[i] : "NULL");
}

static void every_kind_has_its_sentence_in_both_languages(void **state)
{
    (void)state;
    static const char *const kinds[][3] = {
        {"mention", "mentioned you in", "a mentionné votre nom dans"},
        {"watched", "a thread you watch", "une discussion que vous suivez"},
        {"group_thread", "in your group", "dans votre groupe"},
        {"conversation", "wrote to you in the conversation", "vous a écrit dans la conversation"},
        {"response_due", "waited past the response commitment", "au-delà du délai convenu"},
        {"response_overdue", "No mentor has answered", "Aucun mentor n'a répondu"},
        {"post_hidden", "was hidden after members flagged it", "a été masqué après des"},
        {"flag_resolved", "reviewed the post you flagged", "examiné le message que vous avez"},
        {"answer_accepted", "marked your post as the answer", "comme la réponse dans"},
    };
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        for (int lang = 0; lang < 2; lang++) {
            json_t *j = job(lang ? "fr" : "en", kinds[i][0], "Title");
            char *msg = cf_mail_render(j, "noreply@confer.test", "https://c.test", 0, NULL);
            assert_non_null(msg);
            const char *body = body_of(msg);
            if (strstr(body, kinds[i][1 + lang]) == NULL)
                fail_msg("%s (%s): %s", kinds[i][0], lang ? "fr" : "en", body);
            cf_free(msg);
            json_decref(j);
        }
}

/* The body of a one-notification email whose item gets key = value (NULL: key removed). */
static void assert_body_has(const char *locale, const char *kind, const char *title,
                            const char *key, const char *value, const char *want)
{
    json_t *j = job(locale, kind, title);
    json_t *item = json_array_get(json_object_get(j, "items"), 0);
    if (value != NULL) {
        json_object_set_new(item, key, json_string(value));
    } else {
        json_object_del(item, key);
        json_object_del(item, "post_id");
    }
    char *msg = cf_mail_render(j, "noreply@confer.test", "https://c.test", 0, NULL);
    assert_non_null(msg);
    const char *body = body_of(msg);
    if (strstr(body, want) == NULL)
        fail_msg("%s (%s) lacks \"%s\": %s", kind, locale, want, body);
    cf_free(msg);
    json_decref(j);
}

static void special_cases_of_the_sentences(void **state)
{
    (void)state;
    /* a conversation's overdue notice names no thread and links to the notifications */
    assert_body_has("en", "response_overdue", NULL, "thread_id", NULL,
                    "A mentee's conversation with a mentor in your network");
    assert_body_has("en", "response_overdue", NULL, "thread_id", NULL,
                    "Open it: https://c.test/#/notifications");
    /* a decision in the reader's language; a post hidden by a moderator */
    assert_body_has("fr", "flag_resolved", "Title", "decision", "hide",
                    "que vous avez signalé dans « Title » : masqué.");
    assert_body_has("en", "post_hidden", "Title", "cause", "moderator",
                    "A moderator hid your post in “Title”.");
}

static void a_digest_lists_fifty_and_counts_the_rest(void **state)
{
    (void)state;
    json_t *items = json_array();
    for (int i = 0; i < 60; i++)
        json_array_append_new(items,
                              json_pack("{s:s, s:i, s:i, s:s, s:s}", "kind", "reply", "thread_id",
                                        7, "post_id", 100 + i, "title", "Sleep", "actor", "Bo"));
    json_t *j = json_pack("{s:s, s:s, s:s, s:o, s:i, s:s, s:s}", "to", "ann@example.ca", "locale",
                          "en", "name", "Ann", "items", items, "total", 60, "delivery",
                          "6f1c2a9e-0d4b-4c55-9a61-3b1d2e0f9a77", "event", "digest");
    char *subject = cf_mail_subject(j);
    assert_string_equal(subject, "[confer] 60 new notifications");
    cf_free(subject);
    char *msg = cf_mail_render(j, "noreply@confer.test", "https://c.test", 0, NULL);
    const char *body = body_of(msg);
    assert_non_null(strstr(body, "- Bo replied to your post in “Sleep”.\r\n  "
                                 "https://c.test/#/threads/7?post=100\r\n"));
    assert_non_null(strstr(body, "?post=149\r\n"));
    assert_null(strstr(body, "?post=150"));
    assert_non_null(strstr(body, "and 10 more: https://c.test/#/notifications"));
    cf_free(msg);
    json_object_set_new(j, "locale", json_string("fr"));
    json_object_set_new(j, "total", json_integer(1));
    subject = cf_mail_subject(j);
    assert_string_equal(subject, "[confer] 1 nouvelle notification");
    cf_free(subject);
    json_decref(j);
}

static void base64_wraps_at_76(void **state)
{
    (void)state;
    char *s = cf_base64((const unsigned char *)"Man", 3, 0);
    assert_string_equal(s, "TWFu");
    cf_free(s);
    s = cf_base64((const unsigned char *)"Ma", 2, 0);
    assert_string_equal(s, "TWE=");
    cf_free(s);
    unsigned char data[120];
    memset(data, 'x', sizeof(data));
    s = cf_base64(data, sizeof(data), 76);
    assert_int_equal(strlen(s), 160 + 2 * 3); /* 76 + 76 + 8 characters, each line CRLF */
    assert_memory_equal(s + 76, "\r\n", 2);
    cf_free(s);
}

/* RFC 4231, test case 2 */
static void the_signature_is_hmac_sha256(void **state)
{
    (void)state;
    char sig[72];
    const char *data = "what do ya want for nothing?";
    cf_outbox_signature("Jefe", data, strlen(data), sig);
    assert_string_equal(sig,
                        "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(an_english_reply),
        cmocka_unit_test(a_long_french_subject_is_folded_into_whole_characters),
        cmocka_unit_test(a_title_cannot_break_a_header),
        cmocka_unit_test(addresses_a_header_cannot_carry_are_refused),
        cmocka_unit_test(the_address_check),
        cmocka_unit_test(every_kind_has_its_sentence_in_both_languages),
        cmocka_unit_test(special_cases_of_the_sentences),
        cmocka_unit_test(a_digest_lists_fifty_and_counts_the_rest),
        cmocka_unit_test(base64_wraps_at_76),
        cmocka_unit_test(the_signature_is_hmac_sha256),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
