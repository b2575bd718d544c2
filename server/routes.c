/*
 * routes: the route table. One line per method and path; the table's order
 * is also the order of the metrics slots. Every API path is under /api/v1.
 */
#include "metrics.h"
#include "routes.h"

const struct cf_route cf_routes[] = {
    /* operations (no auth) */
    {CF_GET, "/healthz", cf_h_healthz, CF_AUTH_NONE, 0},
    {CF_GET, "/readyz", cf_h_readyz, CF_AUTH_NONE, 0},
    {CF_GET, "/metrics", cf_h_metrics, CF_AUTH_NONE, 0},
    /* structure */
    {CF_GET, "/api/v1/networks", cf_h_networks_list, CF_AUTH_NONE, 0},
    {CF_GET, "/api/v1/networks/{id}", cf_h_network_get, CF_AUTH_NONE, 0},
};

const size_t cf_routes_count = sizeof(cf_routes) / sizeof(cf_routes[0]);

_Static_assert(sizeof(cf_routes) / sizeof(cf_routes[0]) <= CF_METRICS_MAX_ROUTES,
               "raise CF_METRICS_MAX_ROUTES");
