/* mail: notification emails in English and French; see mail.h. */
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>
#include <openssl/evp.h>

#include "alloc.h"
#include "mail.h"

#define DIGEST_ITEMS_MAX 50

enum { EN, FR };

/* {actor} and {title} are filled in; the title comes with its language's quotes. */
struct kind_text {
    const char *kind;
    const char *subject[2];
    const char *line[2];
};

static const struct kind_text kinds[] = {
    {"reply",
     {"New reply in {title}", "Nouvelle réponse dans {title}"},
     {"{actor} replied to your post in {title}.",
      "{actor} a répondu à votre message dans {title}."}},
    {"mention",
     {"{actor} mentioned you in {title}", "{actor} vous a mentionné dans {title}"},
     {"{actor} mentioned you in {title}.", "{actor} a mentionné votre nom dans {title}."}},
    {"watched",
     {"New post in {title}", "Nouveau message dans {title}"},
     {"{actor} posted in {title}, a thread you watch.",
      "{actor} a publié un message dans {title}, une discussion que vous suivez."}},
    {"group_thread",
     {"New thread in your group: {title}", "Nouvelle discussion dans votre groupe : {title}"},
     {"{actor} started {title} in your group.",
      "{actor} a lancé la discussion {title} dans votre groupe."}},
    {"conversation",
     {"New message in {title}", "Nouveau message dans {title}"},
     {"{actor} wrote to you in the conversation {title}.",
      "{actor} vous a écrit dans la conversation {title}."}},
    {"response_due",
     {"A mentee is waiting for your answer: {title}",
      "Une personne mentorée attend votre réponse : {title}"},
     {"A mentee's question in {title} has waited past the response commitment. Please answer "
      "when you can.",
      "La question d'une personne mentorée dans {title} attend une réponse au-delà du délai "
      "convenu. Merci d'y répondre dès que possible."}},
    {"response_overdue",
     {"Overdue: no mentor has answered {title}", "En retard : aucun mentor n'a répondu à {title}"},
     {"No mentor has answered {title}, in your network, within the response commitment.",
      "Aucun mentor n'a répondu à {title}, dans votre réseau, dans le délai convenu."}},
    {"post_hidden",
     {"Your post in {title} was hidden", "Votre message dans {title} a été masqué"},
     {"Your post in {title} was hidden after members flagged it; a moderator will review it.",
      "Votre message dans {title} a été masqué après des signalements ; un modérateur va "
      "l'examiner."}},
    {"flag_resolved",
     {"Your flag in {title} was reviewed", "Votre signalement dans {title} a été examiné"},
     {"The moderators reviewed the post you flagged in {title}: {decision}.",
      "Les modérateurs ont examiné le message que vous avez signalé dans {title} : {decision}."}},
    {"answer_accepted",
     {"Your answer was accepted in {title}", "Votre réponse a été acceptée dans {title}"},
     {"{actor} marked your post as the answer in {title}.",
      "{actor} a marqué votre message comme la réponse dans {title}."}},
};

/* A conversation's overdue notice names no thread: its coordinators cannot read it. */
static const struct kind_text overdue_conversation = {
    "response_overdue",
    {"Overdue: a conversation in your network is waiting for a mentor",
     "En retard : une conversation de votre réseau attend un mentor"},
    {"A mentee's conversation with a mentor in your network has had no answer within the "
     "response commitment.",
     "Une conversation entre une personne mentorée et un mentor de votre réseau n'a pas reçu "
     "de réponse dans le délai convenu."}};

static const struct kind_text hidden_by_moderator = {
    "post_hidden",
    {"Your post in {title} was hidden", "Votre message dans {title} a été masqué"},
    {"A moderator hid your post in {title}.",
     "Un modérateur a masqué votre message dans {title}."}};

static const char *const decisions[][3] = {
    {"keep", "kept", "conservé"},
    {"hide", "hidden", "masqué"},
    {"delete", "deleted", "supprimé"},
};

static const char *const words[][2] = {
    /* 0 */ {"Someone", "Quelqu'un"},
    /* 1 */ {"Hello", "Bonjour"},
    /* 2 */ {"Open it: ", "Ouvrir : "},
    /* 3 */
    {"You receive this email because of your notification settings: ",
     "Vous recevez ce courriel selon vos préférences de notification : "},
    /* 4 */ {"Since your last digest:", "Depuis votre dernier résumé :"},
    /* 5 */ {"a thread", "une discussion"},
};

static int lang_of(const json_t *job)
{
    const char *l = json_string_value(json_object_get(job, "locale"));
    return l != NULL && strcmp(l, "fr") == 0 ? FR : EN;
}

static const struct kind_text *text_of(const json_t *item)
{
    const char *kind = json_string_value(json_object_get(item, "kind"));
    if (kind == NULL)
        return NULL;
    const char *cause = json_string_value(json_object_get(item, "cause"));
    if (strcmp(kind, "response_overdue") == 0 && json_object_get(item, "title") == NULL)
        return &overdue_conversation;
    if (strcmp(kind, "post_hidden") == 0 && cause != NULL && strcmp(cause, "moderator") == 0)
        return &hidden_by_moderator;
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (strcmp(kinds[i].kind, kind) == 0)
            return &kinds[i];
    return NULL;
}

/* Appends a template with its placeholders filled in. */
static void fill(struct evbuffer *out, const char *tpl, const json_t *item, int lang)
{
    const char *title = json_string_value(json_object_get(item, "title"));
    const char *actor = json_string_value(json_object_get(item, "actor"));
    const char *decision = json_string_value(json_object_get(item, "decision"));
    for (const char *p = tpl; *p != '\0';) {
        if (strncmp(p, "{title}", 7) == 0) {
            if (title == NULL)
                evbuffer_add_printf(out, "%s", words[5][lang]);
            else if (lang == FR)
                evbuffer_add_printf(out, "« %s »", title);
            else
                evbuffer_add_printf(out, "“%s”", title);
            p += 7;
        } else if (strncmp(p, "{actor}", 7) == 0) {
            evbuffer_add_printf(out, "%s", actor ? actor : words[0][lang]);
            p += 7;
        } else if (strncmp(p, "{decision}", 10) == 0) {
            const char *d = decision ? decision : "";
            for (size_t i = 0; i < sizeof(decisions) / sizeof(decisions[0]); i++)
                if (strcmp(decisions[i][0], d) == 0)
                    d = decisions[i][1 + lang];
            evbuffer_add_printf(out, "%s", d);
            p += 10;
        } else {
            size_t n = strcspn(p + 1, "{") + 1;
            evbuffer_add(out, p, n);
            p += n;
        }
    }
}

static void add_link(struct evbuffer *out, const json_t *item, const char *base_url)
{
    json_int_t thread = json_integer_value(json_object_get(item, "thread_id"));
    json_int_t post = json_integer_value(json_object_get(item, "post_id"));
    if (thread > 0 && post > 0)
        evbuffer_add_printf(out, "%s/#/threads/%lld?post=%lld", base_url, (long long)thread,
                            (long long)post);
    else if (thread > 0)
        evbuffer_add_printf(out, "%s/#/threads/%lld", base_url, (long long)thread);
    else
        evbuffer_add_printf(out, "%s/#/notifications", base_url);
}

static char *take(struct evbuffer *b, size_t *len)
{
    size_t n = evbuffer_get_length(b);
    char *s = cf_malloc(n + 1);
    evbuffer_remove(b, s, n);
    s[n] = '\0';
    evbuffer_free(b);
    if (len != NULL)
        *len = n;
    return s;
}

char *cf_mail_subject(const json_t *job)
{
    int lang = lang_of(job);
    const json_t *items = json_object_get(job, "items");
    const char *event = json_string_value(json_object_get(job, "event"));
    struct evbuffer *b = evbuffer_new();
    evbuffer_add_printf(b, "[confer] ");
    if (event != NULL && strcmp(event, "digest") == 0) {
        long long total = json_integer_value(json_object_get(job, "total"));
        if (lang == FR)
            evbuffer_add_printf(
                b, total == 1 ? "%lld nouvelle notification" : "%lld nouvelles notifications",
                total);
        else
            evbuffer_add_printf(b, total == 1 ? "%lld new notification" : "%lld new notifications",
                                total);
    } else {
        const json_t *item = json_array_get(items, 0);
        const struct kind_text *t = text_of(item);
        if (t != NULL)
            fill(b, t->subject[lang], item, lang);
    }
    return take(b, NULL);
}

char *cf_base64(const unsigned char *data, size_t n, size_t wrap)
{
    size_t chars = (n + 2) / 3 * 4;
    char *flat = cf_malloc(chars + 1);
    EVP_EncodeBlock((unsigned char *)flat, data, (int)n);
    if (wrap == 0)
        return flat;
    char *out = cf_malloc(chars + (chars / wrap + 1) * 2 + 1);
    size_t o = 0;
    for (size_t i = 0; i < chars; i += wrap) {
        size_t take_n = chars - i < wrap ? chars - i : wrap;
        memcpy(out + o, flat + i, take_n);
        o += take_n;
        out[o++] = '\r';
        out[o++] = '\n';
    }
    out[o] = '\0';
    cf_free(flat);
    return out;
}

/* A header value in RFC 2047 encoded words of at most 39 bytes of UTF-8 each (64
 * characters encoded, so "Subject: " and the first word stay within 76), no character
 * split, folded onto continuation lines. */
static void add_encoded(struct evbuffer *out, const char *s)
{
    size_t n = strlen(s), i = 0;
    int first = 1;
    while (i < n || first) {
        size_t most = n - i < 39 ? n - i : 39, take_n = most;
        while (take_n > 0 && i + take_n < n && ((unsigned char)s[i + take_n] & 0xC0) == 0x80)
            take_n--; /* do not end inside a character */
        if (take_n == 0)
            take_n = most; /* not UTF-8 after all: split anywhere rather than never end */
        char *enc = cf_base64((const unsigned char *)s + i, take_n, 0);
        evbuffer_add_printf(out, "%s=?UTF-8?B?%s?=", first ? "" : "\r\n ", enc);
        cf_free(enc);
        i += take_n;
        first = 0;
    }
}

int cf_mail_address_ok(const char *a)
{
    if (a == NULL || strlen(a) < 3 || strlen(a) > 254)
        return 0;
    const char *at = strchr(a, '@');
    if (at == NULL || at == a || at[1] == '\0' || strchr(at + 1, '@') != NULL)
        return 0;
    for (const unsigned char *p = (const unsigned char *)a; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f || strchr("<>()\",;:\\[]", *p) != NULL)
            return 0;
    return 1;
}

static void add_body(struct evbuffer *body, const json_t *job, const char *base_url, int lang)
{
    const char *name = json_string_value(json_object_get(job, "name"));
    const json_t *items = json_object_get(job, "items");
    const char *event = json_string_value(json_object_get(job, "event"));
    evbuffer_add_printf(body, "%s %s,\r\n\r\n", words[1][lang], name ? name : "");
    if (event != NULL && strcmp(event, "digest") == 0) {
        evbuffer_add_printf(body, "%s\r\n\r\n", words[4][lang]);
        size_t i;
        const json_t *item;
        json_array_foreach(items, i, item)
        {
            if (i >= DIGEST_ITEMS_MAX)
                break;
            const struct kind_text *t = text_of(item);
            if (t == NULL)
                continue;
            evbuffer_add_printf(body, "- ");
            fill(body, t->line[lang], item, lang);
            evbuffer_add_printf(body, "\r\n  ");
            add_link(body, item, base_url);
            evbuffer_add_printf(body, "\r\n");
        }
        long long total = json_integer_value(json_object_get(job, "total"));
        if (total > DIGEST_ITEMS_MAX) {
            evbuffer_add_printf(body, "\r\n");
            evbuffer_add_printf(body, lang == FR ? "et %lld de plus : " : "and %lld more: ",
                                total - DIGEST_ITEMS_MAX);
            evbuffer_add_printf(body, "%s/#/notifications\r\n", base_url);
        }
    } else {
        const json_t *item = json_array_get(items, 0);
        const struct kind_text *t = text_of(item);
        if (t != NULL)
            fill(body, t->line[lang], item, lang);
        evbuffer_add_printf(body, "\r\n\r\n%s", words[2][lang]);
        add_link(body, item, base_url);
        evbuffer_add_printf(body, "\r\n");
    }
    evbuffer_add_printf(body, "\r\n-- \r\n%s%s/#/settings\r\n", words[3][lang], base_url);
}

char *cf_mail_render(const json_t *job, const char *from, const char *base_url, time_t now,
                     size_t *len)
{
    const char *to = json_string_value(json_object_get(job, "to"));
    const char *delivery = json_string_value(json_object_get(job, "delivery"));
    if (!cf_mail_address_ok(to) || !cf_mail_address_ok(from) || delivery == NULL ||
        delivery[strspn(delivery, "0123456789abcdef-")] != '\0' ||
        json_array_size(json_object_get(job, "items")) == 0)
        return NULL;
    int lang = lang_of(job);
    struct evbuffer *msg = evbuffer_new(), *body = evbuffer_new();
    char date[64];
    struct tm tm;
    gmtime_r(&now, &tm);
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    snprintf(date, sizeof(date), "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday],
             tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    evbuffer_add_printf(msg, "From: confer <%s>\r\nTo: <%s>\r\nSubject: ", from, to);
    char *subject = cf_mail_subject(job);
    add_encoded(msg, subject);
    cf_free(subject);
    evbuffer_add_printf(msg,
                        "\r\nDate: %s\r\nMessage-ID: <%s@%s>\r\nMIME-Version: 1.0\r\n"
                        "Content-Type: text/plain; charset=utf-8\r\n"
                        "Content-Transfer-Encoding: base64\r\nContent-Language: %s\r\n"
                        "Auto-Submitted: auto-generated\r\nX-Confer-Delivery: %s\r\n\r\n",
                        date, delivery, strchr(from, '@') + 1, lang == FR ? "fr" : "en", delivery);
    add_body(body, job, base_url, lang);
    size_t n;
    char *text = take(body, &n);
    char *enc = cf_base64((const unsigned char *)text, n, 76);
    evbuffer_add(msg, enc, strlen(enc));
    cf_free(enc);
    cf_free(text);
    return take(msg, len);
}
