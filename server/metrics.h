/*
 * metrics: request counters and latency histograms, one set per worker so
 * that a loop never contends with another; /metrics sums them on scrape.
 * Counters are relaxed atomics: written by their worker, read by any.
 */
#ifndef CF_METRICS_H
#define CF_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct evbuffer;

#define CF_METRICS_MAX_ROUTES 192
/* Pseudo-routes after the route table's slots. */
#define CF_METRICS_SLOT_STATIC CF_METRICS_MAX_ROUTES
#define CF_METRICS_SLOT_UNMATCHED (CF_METRICS_MAX_ROUTES + 1)
#define CF_METRICS_SLOTS (CF_METRICS_MAX_ROUTES + 2)
#define CF_METRICS_STATUS_SLOTS 24
#define CF_METRICS_BUCKETS 15 /* 14 bounds and +Inf */

struct cf_metrics {
    _Atomic uint64_t requests[CF_METRICS_SLOTS][CF_METRICS_STATUS_SLOTS];
    _Atomic uint64_t buckets[CF_METRICS_SLOTS][CF_METRICS_BUCKETS];
    _Atomic uint64_t sum_us[CF_METRICS_SLOTS];
};

/* Records one request of `slot` answered with `status` after `seconds`. */
void cf_metrics_observe(struct cf_metrics *m, size_t slot, int status, double seconds);

/* A label for a metrics slot: the route's method and pattern. */
struct cf_metrics_label {
    const char *method;
    const char *route;
};

/*
 * Appends the Prometheus text of the request metrics summed over workers.
 * labels[i] names slot i for i < nlabels.
 */
void cf_metrics_render_requests(struct evbuffer *out, struct cf_metrics *const *workers,
                                size_t nworkers, const struct cf_metrics_label *labels,
                                size_t nlabels);

#endif
