/*
 * notify_event.h: the desktop agent's reading of the event stream.
 *
 * The daemon's GET /v1/events reply (docs/control-api.md) parsed into
 * plain structs, and the pure decisions about one event: is it worth a
 * person's attention, how urgent is it, what do summary and body say.
 * No GLib, no I/O: the fuzzer and the unit tests call it as it is.
 */
#ifndef RTOWATCH_NOTIFY_EVENT_H
#define RTOWATCH_NOTIFY_EVENT_H

#include <stddef.h>
#include <stdint.h>

/* A reply larger than this is refused before parsing. */
#define NOTIFY_BATCH_MAX	((size_t)8 * 1024 * 1024)

struct notify_event {
	int64_t		 id;
	char		*at;		/* ISO 8601 UTC, or NULL */
	char		*event;		/* never NULL */
	char		*actor;
	char		*detail;
	char		*system;
	int64_t		 incident;	/* 0: none */
	int64_t		 warning;	/* 0: none */
	int		 level;		/* 1-4, 0: none */
	int		 major;
	/* Said once, outside the record (the store failing): no id. */
	int		 transient;
	int		 drill;		/* a drill's event (演練, 5.8.1) */
};

struct notify_batch {
	struct notify_event	*events;	/* oldest first, ids rising */
	size_t			 count;
	int64_t			 last;
};

int	 notify_batch_parse(const char *, size_t, struct notify_batch *,
	    char *, size_t);
void	 notify_batch_free(struct notify_batch *);
char	*notify_error_text(const char *, size_t);

int	 notify_event_worth(const struct notify_event *);
int	 notify_event_critical(const struct notify_event *);
char	*notify_event_summary(const struct notify_event *);
char	*notify_event_body(const struct notify_event *);

#endif
