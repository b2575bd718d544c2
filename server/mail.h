/*
 * mail: the text of notification emails (SPEC section 7). An email says what
 * happened, names the thread by its title and links to it; it carries no
 * other clinical text. It is written in the recipient's language (en, fr) as
 * an RFC 5322 message: UTF-8 text in base64, the subject in RFC 2047 encoded
 * words, so a title can never break a header.
 */
#ifndef CF_MAIL_H
#define CF_MAIL_H

#include <stddef.h>
#include <time.h>

#include <jansson.h>

/*
 * Renders the message of an email job, as cf_email_job (schema/0010) answers it with
 * the claim's fields: {to, locale, name, items: [{kind, thread_id, post_id, title,
 * space, actor, decision, cause}], total, delivery, event: "notification"|"digest"}.
 * from is the sender's address, base_url the public URL links start with. Returns a
 * message (free with cf_free) and its length, or NULL when the job cannot be sent
 * (no recipient, or an address a header could not carry).
 */
char *cf_mail_render(const json_t *job, const char *from, const char *base_url, time_t now,
                     size_t *len);

/* An address a header and an SMTP envelope carry as is: printable ASCII, one @, none of
 * the characters with a meaning in an address header. */
int cf_mail_address_ok(const char *address);

/* The subject line alone (UTF-8, not encoded), for tests and logs; cf_free it. */
char *cf_mail_subject(const json_t *job);

/* Base64 of n bytes, lines of at most `wrap` characters ended by CRLF (0: one line). */
char *cf_base64(const unsigned char *data, size_t n, size_t wrap);

#endif
