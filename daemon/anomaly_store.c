/*
 * anomaly_store.c: an anomaly block's decisions, written to the store.
 *
 * The block (anomaly.c) decides inside the capture's read and only
 * queues what it decided.  This writer empties the queue on the loop,
 * once a tick (capture.c), in one transaction: a flood that opens its
 * warning, names its top sources and relates to two incidents costs one
 * commit, and no packet waits for the database.
 *
 * The block names a warning by its own episode id; the store chooses the
 * row's id (known at once even while writes are held, see store.c).  The
 * writer keeps the map from the one to the other while the episode is
 * open, and never reads back what it wrote: with the database refusing
 * writes, those rows are only held in memory.  A warning the store
 * refuses is handed back to the block (anomaly_episode_lost), which opens
 * it again at its next crossing, as when it wrote itself; the events of
 * that episode queued meanwhile find no id and are dropped.  A tick's
 * transaction is all or nothing: a warning that cannot be recorded rolls
 * the tick back, and every warning it opened is handed back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anomaly.h"
#include "anomaly_store.h"
#include "log.h"
#include "store.h"
#include "util.h"

#define ANOMALY_STORE_ACTOR	"rtowatchd"

/* An open episode's warning: the block's id, the store's. */
struct anomaly_store_id {
	int64_t		 episode;
	int64_t		 id;
};

struct anomaly_store {
	struct store		*store;
	struct anomaly		*an;
	char			 source[128];	/* "anomaly NAME" */
	struct anomaly_store_id	*ids;		/* of the open episodes */
	size_t			 nids, size;
};

struct anomaly_store *
anomaly_store_new(struct store *store, struct anomaly *an)
{
	struct anomaly_store	*w;

	w = xcalloc(1, sizeof(*w));
	w->store = store;
	w->an = an;
	snprintf(w->source, sizeof(w->source), "anomaly %s", anomaly_name(an));
	return w;
}

void
anomaly_store_free(struct anomaly_store *w)
{
	if (w == NULL)
		return;
	free(w->ids);
	free(w);
}

/* The store's id of EPISODE's warning; 0: none (refused, or ended). */
static int64_t
anomaly_store_id(const struct anomaly_store *w, int64_t episode)
{
	size_t	 i;

	for (i = 0; i < w->nids; i++)
		if (w->ids[i].episode == episode)
			return w->ids[i].id;
	return 0;
}

static void
anomaly_store_map(struct anomaly_store *w, int64_t episode, int64_t id)
{
	if (w->nids == w->size) {
		w->size = w->size == 0 ? 8 : w->size * 2;
		w->ids = xrealloc(w->ids, w->size * sizeof(*w->ids));
	}
	w->ids[w->nids].episode = episode;
	w->ids[w->nids++].id = id;
}

static void
anomaly_store_unmap(struct anomaly_store *w, int64_t episode)
{
	size_t	 i;

	for (i = 0; i < w->nids; i++)
		if (w->ids[i].episode == episode) {
			w->ids[i] = w->ids[--w->nids];
			return;
		}
}

static int
anomaly_store_open(struct anomaly_store *w, const struct anomaly_event *ev)
{
	struct store_warning	 sw;
	const char		*name = anomaly_name(w->an);
	int64_t			 id = 0;

	memset(&sw, 0, sizeof(sw));
	snprintf(sw.source, sizeof(sw.source), "%s", w->source);
	snprintf(sw.summary, sizeof(sw.summary), "%s", ev->summary);
	snprintf(sw.detail, sizeof(sw.detail), "%s", ev->detail);
	if (store_warning_open(w->store, &sw, ev->at, ANOMALY_STORE_ACTOR,
	    &id) == -1) {
		log_warnx("anomaly %s: cannot record the warning: %s", name,
		    ev->summary);
		return -1;
	}
	log_info("anomaly %s: early warning %lld opened: %s", name,
	    (long long)id, ev->summary);
	anomaly_store_map(w, ev->episode, id);
	return 0;
}

static void
anomaly_store_end(struct anomaly_store *w, const struct anomaly_event *ev,
    int64_t id)
{
	const char	*name = anomaly_name(w->an);

	if (store_warning_end(w->store, &(struct store_warning_ending){
	    .warning_id = id, .at = ev->at, .actor = ANOMALY_STORE_ACTOR,
	    .detail = ev->detail }) == -1) {
		log_warnx("anomaly %s: cannot record the end of warning %lld",
		    name, (long long)id);
		return;
	}
	log_info("anomaly %s: early warning %lld ended: %s", name,
	    (long long)id, ev->detail);
}

/*
 * The episode's traffic aims at a watched system that is down: one
 * timeline event names both, and suggests a category (an external
 * attack, 5.2.3.1.4).
 */
static void
anomaly_store_relate(struct anomaly_store *w, const struct anomaly_event *ev,
    int64_t id)
{
	char	 detail[512];

	snprintf(detail, sizeof(detail), "early warning %lld (%s) targets %s, "
	    "checked for system \"%s\", which is down: suggested category %s "
	    "(external attack, 5.2.3.1.4)", (long long)id, w->source,
	    ev->value, ev->system, ev->name);
	if (store_timeline_add(w->store, &(struct store_event){
	    .incident_id = ev->incident, .warning_id = id, .at = ev->at,
	    .event = "related warning", .actor = ANOMALY_STORE_ACTOR,
	    .detail = detail }) == 0)
		log_info("anomaly %s: warning %lld related to incident %lld: "
		    "%s", anomaly_name(w->an), (long long)id,
		    (long long)ev->incident, detail);
}

static int
anomaly_store_same_indicator(const struct anomaly_event *a,
    const struct anomaly_event *b)
{
	return b->kind == ANOMALY_EVENT_INDICATOR && b->episode ==
	    a->episode && strcmp(b->name, a->name) == 0 &&
	    strcmp(b->value, a->value) == 0;
}

/*
 * An indicator, with the most packets it is given in this tick: its row
 * keeps the larger count, and the store's upsert cannot change a row of
 * the transaction twice (the second fails, in the chain's bookkeeping).
 * A flood that opens and ends in the same tick names its top targets
 * twice.  A repeat, already written, is not written again.
 */
static int
anomaly_store_indicator(struct anomaly_store *w,
    const struct anomaly_event *ev, size_t i, size_t n, int64_t id)
{
	int64_t		 packets = ev[i].packets;
	size_t		 j;

	for (j = 0; j < i; j++)
		if (anomaly_store_same_indicator(&ev[i], &ev[j]))
			return 0;
	for (j = i + 1; j < n; j++)
		if (anomaly_store_same_indicator(&ev[i], &ev[j]) &&
		    ev[j].packets > packets)
			packets = ev[j].packets;
	return store_warning_indicator(w->store, &(struct store_indicator){
	    .warning_id = id, .kind = ev[i].name, .value = ev[i].value,
	    .packets = packets });
}

/*
 * Event I of the N of this tick, in its transaction; -1 if the tick must
 * roll back.
 */
static int
anomaly_store_event(struct anomaly_store *w, const struct anomaly_event *evs,
    size_t i, size_t n)
{
	const struct anomaly_event *ev = &evs[i];
	int64_t			 id;

	if (ev->kind == ANOMALY_EVENT_OPEN)
		return anomaly_store_open(w, ev);
	/* A warning the store refused has nothing more recorded. */
	if ((id = anomaly_store_id(w, ev->episode)) == 0)
		return 0;
	switch (ev->kind) {
	case ANOMALY_EVENT_LINE:
		(void)store_timeline_add(w->store, &(struct store_event){
		    .warning_id = id, .at = ev->at, .event = ev->name,
		    .actor = ANOMALY_STORE_ACTOR, .detail = ev->detail });
		break;
	case ANOMALY_EVENT_INDICATOR:
		(void)anomaly_store_indicator(w, evs, i, n, id);
		break;
	case ANOMALY_EVENT_END:
		anomaly_store_end(w, ev, id);
		break;
	case ANOMALY_EVENT_RELATE:
		anomaly_store_relate(w, ev, id);
		break;
	case ANOMALY_EVENT_DETAIL:
		(void)store_warning_detail(w->store, id, ev->detail);
		break;
	case ANOMALY_EVENT_OPEN:
		break;
	}
	return 0;
}

/*
 * Everything the block queued since the last call, in one transaction,
 * and the queue emptied.  Called once a tick on the loop, and when the
 * queue is above ANOMALY_EVENTS_HIGH; costs nothing when it is empty.
 */
void
anomaly_store_write(struct anomaly_store *w)
{
	const struct anomaly_event	*ev;
	uint64_t			 lost;
	size_t				 n, i;
	int				 ok;

	if ((n = anomaly_events(w->an, &ev)) > 0) {
		ok = 0;
		if (store_begin(w->store) == 0) {
			for (i = 0, ok = 1; i < n && ok; i++)
				ok = anomaly_store_event(w, ev, i, n) == 0;
			/* A commit that fails has rolled back. */
			if (!ok)
				store_rollback(w->store);
			else if (store_commit(w->store) == -1)
				ok = 0;
		}
		for (i = 0; i < n; i++) {
			/* Not recorded: the block opens it again. */
			if (!ok && ev[i].kind == ANOMALY_EVENT_OPEN) {
				anomaly_store_unmap(w, ev[i].episode);
				anomaly_episode_lost(w->an, ev[i].episode);
			}
			/* Recorded or not, the block is done with it. */
			if (ev[i].kind == ANOMALY_EVENT_END)
				anomaly_store_unmap(w, ev[i].episode);
		}
	}
	if ((lost = anomaly_events_clear(w->an)) > 0)
		log_warnx("anomaly %s: %llu events of its early warnings were "
		    "lost, the queue being full", anomaly_name(w->an),
		    (unsigned long long)lost);
}
