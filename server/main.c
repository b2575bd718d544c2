/*
 * main: the confer command line. `confer serve` (the default) migrates and
 * serves; `confer migrate` only migrates. A bad or missing setting prints one
 * line on stderr and exits 2.
 */
#include <stdio.h>
#include <string.h>

#include "cf_version.h"
#include "cli.h"
#include "config.h"
#include "http_server.h"
#include "log.h"
#include "migrate.h"

static const char usage[] =
    "usage: confer [serve|migrate] [options]\n"
    "       confer --help | --version\n"
    "\n"
    "confer is the forum server of a clinical mentorship network.\n"
    "\n"
    "commands:\n"
    "  serve      apply pending migrations, then serve HTTP until SIGTERM (default)\n"
    "  migrate    apply pending migrations and exit\n"
    "  admin create --email E --name N [--network BC] [--profession CODE]\n"
    "             create an admin account; the password is read from standard input\n"
    "  invite --email E --network BC [--role member|coordinator|moderator|admin]\n"
    "             create an invitation and print its code\n"
    "  seed-demo  fill an empty database with the demo community (invented,\n"
    "             de-identified threads in English and French; prints the accounts)\n"
    "\n"
    "options (each also read from the environment variable shown; a flag wins):\n"
    "  --database-url URL      CONFER_DATABASE_URL      PostgreSQL connection string (required)\n"
    "  --listen HOST:PORT      CONFER_LISTEN            default 127.0.0.1:8080\n"
    "  --public-url URL        CONFER_PUBLIC_URL        the URL users reach (https enables\n"
    "                                                   Secure cookies and HSTS)\n"
    "  --workers N             CONFER_WORKERS           event-loop threads (default: cores)\n"
    "  --db-pool N             CONFER_DB_POOL           connections per worker (default 1)\n"
    "  --db-pipeline N         CONFER_DB_PIPELINE       statements in flight per connection\n"
    "                                                   (default 16)\n"
    "  --db-queue N            CONFER_DB_QUEUE          waiting statements per worker before\n"
    "                                                   503 (default 4096)\n"
    "  --log-level LEVEL       CONFER_LOG_LEVEL         debug, info, warn or error (default info)\n"
    "  --web-root DIR          CONFER_WEB_ROOT          static web client (default ./web)\n"
    "  --no-migrate            CONFER_NO_MIGRATE=true   serve without applying migrations\n"
    "  --shutdown-timeout S    CONFER_SHUTDOWN_TIMEOUT  seconds to finish requests on SIGTERM\n"
    "                                                   (default 10)\n"
    "  --http-timeout S        CONFER_HTTP_TIMEOUT      client read/write/idle timeout\n"
    "                                                   (default 30)\n"
    "  --rate-limits on|off    CONFER_RATE_LIMITS       sign-in and posting limits (default on)\n"
    "  --session-idle S        CONFER_SESSION_IDLE      a session unused this long ends\n"
    "                                                   (default 1209600: 14 days)\n"
    "  --session-max-age S     CONFER_SESSION_MAX_AGE   no session lives longer\n"
    "                                                   (default 7776000: 90 days)\n"
    "  --hash-threads N        CONFER_HASH_THREADS      argon2id threads (default: cores / 2)\n"
    "  --hash-boost-ms N       CONFER_HASH_BOOST_MS     a hash waiting this long also runs\n"
    "                                                   at normal priority (default: 250)\n"
    "  --invite-days N         CONFER_INVITE_DAYS       invitations expire (default 14)\n"
    "  --post-interval S       CONFER_POST_INTERVAL     seconds between a member's posts\n"
    "                                                   (default 5; 0: no limit)\n"
    "  --thread-interval S     CONFER_THREAD_INTERVAL   seconds between a member's new\n"
    "                                                   threads (default 15; 0: no limit)\n"
    "  --flag-threshold N      CONFER_FLAG_THRESHOLD    members whose flags hide a post\n"
    "                                                   pending review (default 3)\n"
    "  --flags-per-day N       CONFER_FLAGS_PER_DAY     flags one member may raise a day\n"
    "                                                   (default 20)\n"
    "  --response-due S        CONFER_RESPONSE_DUE      an unanswered mentee's post notifies\n"
    "                                                   the mentors (default 172800: 48 h)\n"
    "  --response-overdue S    CONFER_RESPONSE_OVERDUE  and the network's coordinators\n"
    "                                                   (default 259200: 72 h)\n"
    "  --sweep-interval S      CONFER_SWEEP_INTERVAL    seconds between response sweeps\n"
    "                                                   (default 60)\n";

/* (two strings: C11 promises 4,095 characters in one) */
static const char usage_delivery[] =
    "  --smtp-url URL          CONFER_SMTP_URL          smtp://host:25, smtp+starttls://host:587\n"
    "                                                   or smtps://host:465, user:password@ if\n"
    "                                                   needed (unset: no email is sent)\n"
    "  --smtp-ca-file FILE     CONFER_SMTP_CA_FILE      CA bundle for the SMTP server's\n"
    "                                                   certificate (default: the system's)\n"
    "  --mail-from ADDRESS     CONFER_MAIL_FROM         sender (default noreply@ public host)\n"
    "  --outbox-timeout S      CONFER_OUTBOX_TIMEOUT    one email or webhook attempt's limit\n"
    "                                                   (default 10; keep it within the\n"
    "                                                   shutdown timeout)\n"
    "  --retry-base S          CONFER_RETRY_BASE        first retry after a failed delivery,\n"
    "                                                   doubling each time (default 60)\n"
    "  --retry-max S           CONFER_RETRY_MAX         longest delay between attempts\n"
    "                                                   (default 86400: 24 h)\n"
    "  --retry-attempts N      CONFER_RETRY_ATTEMPTS    attempts before a delivery fails\n"
    "                                                   (default 16)\n"
    "  --digest-interval S     CONFER_DIGEST_INTERVAL   between a member's email digests\n"
    "                                                   (default 86400: daily)\n"
    "  --sse-heartbeat S       CONFER_SSE_HEARTBEAT     comment on an idle event stream\n"
    "                                                   (default 25)\n"
    "  --sse-buffer BYTES      CONFER_SSE_BUFFER        unsent bytes of one event-stream\n"
    "                                                   client before it is dropped\n"
    "                                                   (default 262144)\n"
    "  --sse-max N             CONFER_SSE_MAX           event streams per process\n"
    "                                                   (default 20000)\n"
    "  --replica-url URL       CONFER_REPLICA_URL       a streaming replica for reads (falls\n"
    "                                                   back to the primary when it is away)\n"
    "  --replica-window S      CONFER_REPLICA_WINDOW    a session reads from the primary this\n"
    "                                                   long after it writes (default 5)\n"
    "  --trusted-proxies LIST  CONFER_TRUSTED_PROXIES   proxies whose X-Forwarded-For is\n"
    "                                                   believed, e.g. 127.0.0.1,10.0.0.0/8\n";

int main(int argc, char **argv)
{
    struct cf_config cfg;
    char err[512];
    int status;
    if (cf_config_load(&cfg, argc, (const char *const *)argv, err, sizeof(err)) != 0) {
        fprintf(stderr, "confer: %s\n", err);
        cf_config_free(&cfg);
        return 2;
    }
    cf_log_set_level((enum cf_log_level)cfg.log_level);
    switch (cfg.command) {
    case CF_CMD_HELP:
        fputs(usage, stdout);
        fputs(usage_delivery, stdout);
        status = 0;
        break;
    case CF_CMD_VERSION:
        printf("confer %s\n", CF_VERSION);
        status = 0;
        break;
    case CF_CMD_MIGRATE:
        status = cf_migrate_run(cfg.database_url, 1, err, sizeof(err)) == 0 ? 0 : 1;
        if (status != 0)
            fprintf(stderr, "confer: %s\n", err);
        break;
    case CF_CMD_ADMIN_CREATE:
        status = cf_cli_admin_create(&cfg);
        break;
    case CF_CMD_INVITE:
        status = cf_cli_invite(&cfg);
        break;
    case CF_CMD_SEED_DEMO:
        status = cf_cli_seed_demo(&cfg);
        break;
    case CF_CMD_SERVE:
    default:
        if (cfg.migrate_on_start && cf_migrate_run(cfg.database_url, 0, err, sizeof(err)) != 0) {
            cf_error("%s", err);
            status = 1;
            break;
        }
        status = cf_server_run(&cfg);
        break;
    }
    cf_config_free(&cfg);
    return status;
}
