/*
 * h_networks: the provincial mentorship networks (SPEC section 1). Public:
 * the list is not sensitive and the sign-up page shows the invited network.
 */
#include <stdio.h>

#include "db.h"
#include "request.h"
#include "routes.h"

#define NETWORK_JSON                                                                               \
    "json_build_object('id', n.id, 'code', n.code, 'name', json_build_object('en', n.name_en, "    \
    "'fr', n.name_fr))"

static struct cf_db_stmt q_list =
    CF_DB_STMT("networks_list",
               "SELECT json_build_object('items', coalesce(json_agg(" NETWORK_JSON
               " ORDER BY n.position, n.id), '[]'::json), 'next_cursor', NULL) FROM networks n",
               0);

static struct cf_db_stmt q_get =
    CF_DB_STMT("network_get", "SELECT " NETWORK_JSON " FROM networks n WHERE n.id = $1", 1);

void cf_h_networks_list(struct cf_request *req)
{
    cf_request_run_json(req, &q_list, NULL, 200);
}

void cf_h_network_get(struct cf_request *req)
{
    char id[24];
    cf_id_text(id, cf_request_param_id(req, 0));
    const char *params[] = {id};
    cf_request_run_json(req, &q_get, params, 200);
}
