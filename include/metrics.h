/*
 * metrics.h: the daemon's state in Prometheus's text format (metrics.c),
 * served at GET /metrics by the control socket and the web listener.
 */
#ifndef RTOWATCH_METRICS_H
#define RTOWATCH_METRICS_H

#include <stdint.h>

#include "probe.h"

struct capture;
struct engine;
struct evbuffer;
struct store;

/* What metrics_write reads; capture NULL: no anomaly block. */
struct metrics_source {
	struct engine	*engine;
	struct store	*store;
	struct capture	*capture;
};

#define METRICS_CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"

void	metrics_probe(const struct probe_ops *, enum probe_result);
void	metrics_lateness(int64_t);
int	metrics_write(struct evbuffer *, const struct metrics_source *);

#endif
