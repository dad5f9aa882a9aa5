/*
 * fuzz_events.c: libFuzzer harness for the desktop agent's reading of
 * the daemon's GET /v1/events replies and {"error": ...} bodies.
 *
 * Any bytes give either a batch or an error, never a crash or a leak,
 * and a batch keeps its promises: ids rising and positive, no id beyond
 * "last", every event named, levels 1-4 or none; and each event's
 * summary and body can be made.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "notify_event.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct notify_batch	 b;
	const struct notify_event *ev;
	char			 err[256], *s;
	int64_t			 prev = 0;
	size_t			 i;

	s = notify_error_text((const char *)data, size);
	free(s);
	if (notify_batch_parse((const char *)data, size, &b, err,
	    sizeof(err)) == -1) {
		if (err[0] == '\0' || b.count != 0 || b.events != NULL)
			abort();	/* a refusal says why, holds nothing */
		return 0;
	}
	for (i = 0; i < b.count; i++) {
		ev = &b.events[i];
		if (ev->id <= prev || ev->id > b.last || ev->event == NULL ||
		    ev->level < 0 || ev->level > 4 || ev->incident < 0 ||
		    ev->warning < 0)
			abort();
		prev = ev->id;
		(void)notify_event_worth(ev);
		(void)notify_event_critical(ev);
		s = notify_event_summary(ev);
		free(s);
		s = notify_event_body(ev);
		free(s);
	}
	notify_batch_free(&b);
	return 0;
}
