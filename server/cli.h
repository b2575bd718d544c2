/*
 * cli: the operator's commands that are not the server: `confer admin create`
 * (the password is read from standard input, never from the command line) and
 * `confer invite`. They run before any event loop, with blocking libpq.
 */
#ifndef CF_CLI_H
#define CF_CLI_H

#include "config.h"

/* Each returns the process exit status and prints what it did. */
int cf_cli_admin_create(const struct cf_config *cfg);
int cf_cli_invite(const struct cf_config *cfg);
/* confer seed-demo (seed.c): fills an empty database with the demo community. */
int cf_cli_seed_demo(const struct cf_config *cfg);

#endif
