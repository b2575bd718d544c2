/* metrics: per-worker request metrics in Prometheus text format; see metrics.h. */
#include <event2/buffer.h>

#include "metrics.h"

static const int status_codes[CF_METRICS_STATUS_SLOTS - 1] = {
    200, 201, 204, 206, 301, 302, 304, 400, 401, 403, 404, 405,
    409, 410, 411, 413, 415, 422, 429, 500, 501, 502, 503,
};

static const double bucket_bounds[CF_METRICS_BUCKETS - 1] = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
};

static size_t status_slot(int status)
{
    for (size_t i = 0; i < CF_METRICS_STATUS_SLOTS - 1; i++)
        if (status_codes[i] == status)
            return i;
    return CF_METRICS_STATUS_SLOTS - 1; /* "other" */
}

void cf_metrics_observe(struct cf_metrics *m, size_t slot, int status, double seconds)
{
    if (slot >= CF_METRICS_SLOTS)
        slot = CF_METRICS_SLOT_UNMATCHED;
    atomic_fetch_add_explicit(&m->requests[slot][status_slot(status)], 1, memory_order_relaxed);
    size_t b = 0;
    while (b < CF_METRICS_BUCKETS - 1 && seconds > bucket_bounds[b])
        b++;
    atomic_fetch_add_explicit(&m->buckets[slot][b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->sum_us[slot], (uint64_t)(seconds * 1e6), memory_order_relaxed);
}

static uint64_t load(_Atomic uint64_t *p)
{
    return atomic_load_explicit(p, memory_order_relaxed);
}

static const char *slot_route(size_t slot, const struct cf_metrics_label *labels, size_t n,
                              const char **method)
{
    if (slot < n) {
        *method = labels[slot].method;
        return labels[slot].route;
    }
    *method = "GET";
    if (slot == CF_METRICS_SLOT_STATIC)
        return "static";
    *method = "ANY";
    return "unmatched";
}

void cf_metrics_render_requests(struct evbuffer *out, struct cf_metrics *const *workers,
                                size_t nworkers, const struct cf_metrics_label *labels,
                                size_t nlabels)
{
    evbuffer_add_printf(out, "# HELP confer_http_requests_total HTTP requests answered, by "
                             "route and status.\n# TYPE confer_http_requests_total counter\n");
    for (size_t slot = 0; slot < CF_METRICS_SLOTS; slot++) {
        const char *method;
        const char *route = slot_route(slot, labels, nlabels, &method);
        if (slot >= nlabels && slot < CF_METRICS_MAX_ROUTES)
            continue;
        for (size_t s = 0; s < CF_METRICS_STATUS_SLOTS; s++) {
            uint64_t total = 0;
            for (size_t w = 0; w < nworkers; w++)
                total += load(&workers[w]->requests[slot][s]);
            if (total == 0)
                continue;
            if (s < CF_METRICS_STATUS_SLOTS - 1)
                evbuffer_add_printf(out,
                                    "confer_http_requests_total{method=\"%s\",route=\"%s\","
                                    "status=\"%d\"} %llu\n",
                                    method, route, status_codes[s], (unsigned long long)total);
            else
                evbuffer_add_printf(out,
                                    "confer_http_requests_total{method=\"%s\",route=\"%s\","
                                    "status=\"other\"} %llu\n",
                                    method, route, (unsigned long long)total);
        }
    }
    evbuffer_add_printf(out, "# HELP confer_http_request_duration_seconds Time from request "
                             "dispatch to reply, by route.\n"
                             "# TYPE confer_http_request_duration_seconds histogram\n");
    for (size_t slot = 0; slot < CF_METRICS_SLOTS; slot++) {
        const char *method;
        const char *route = slot_route(slot, labels, nlabels, &method);
        if (slot >= nlabels && slot < CF_METRICS_MAX_ROUTES)
            continue;
        uint64_t counts[CF_METRICS_BUCKETS] = {0}, sum_us = 0, total = 0;
        for (size_t w = 0; w < nworkers; w++) {
            for (size_t b = 0; b < CF_METRICS_BUCKETS; b++)
                counts[b] += load(&workers[w]->buckets[slot][b]);
            sum_us += load(&workers[w]->sum_us[slot]);
        }
        for (size_t b = 0; b < CF_METRICS_BUCKETS; b++)
            total += counts[b];
        if (total == 0)
            continue;
        uint64_t cumulative = 0;
        for (size_t b = 0; b < CF_METRICS_BUCKETS; b++) {
            cumulative += counts[b];
            if (b < CF_METRICS_BUCKETS - 1)
                evbuffer_add_printf(out,
                                    "confer_http_request_duration_seconds_bucket{method=\"%s\","
                                    "route=\"%s\",le=\"%g\"} %llu\n",
                                    method, route, bucket_bounds[b],
                                    (unsigned long long)cumulative);
            else
                evbuffer_add_printf(out,
                                    "confer_http_request_duration_seconds_bucket{method=\"%s\","
                                    "route=\"%s\",le=\"+Inf\"} %llu\n",
                                    method, route, (unsigned long long)cumulative);
        }
        evbuffer_add_printf(out,
                            "confer_http_request_duration_seconds_sum{method=\"%s\",route=\"%s\"} "
                            "%.6f\n",
                            method, route, (double)sum_us / 1e6);
        evbuffer_add_printf(out,
                            "confer_http_request_duration_seconds_count{method=\"%s\","
                            "route=\"%s\"} %llu\n",
                            method, route, (unsigned long long)total);
    }
}
