/*
 * routes: the route table and the handlers it names, one handler file per
 * resource (h_health.c, h_networks.c, ...).
 */
#ifndef CF_ROUTES_H
#define CF_ROUTES_H

#include <stddef.h>

#include "router.h"

extern const struct cf_route cf_routes[];
extern const size_t cf_routes_count;

struct cf_request;

/* h_health.c */
void cf_h_healthz(struct cf_request *req);
void cf_h_readyz(struct cf_request *req);
void cf_h_metrics(struct cf_request *req);
/* h_networks.c */
void cf_h_networks_list(struct cf_request *req);
void cf_h_network_get(struct cf_request *req);

/* static_files.c: everything outside the route table that is GET or HEAD. */
void cf_static_serve(struct cf_request *req);

#endif
