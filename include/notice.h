/*
 * notice.h: what the engine and the clocks decide to tell people, as
 * rows of the notifications table (the outbox), written in the caller's
 * transaction.  Each row is one message to one recipient: its subject
 * and body are final when queued, so a message sent after a restart or a
 * reload says what was true when it was decided.
 */
#ifndef RTOWATCH_NOTICE_H
#define RTOWATCH_NOTICE_H

#include <stdint.h>

struct conf;
struct policy;
struct store;

void	 notice_configure(const struct conf *);
void	 notice_set_kick(void (*)(void *), void *);
int	 notice_queue(struct store *, const struct policy *, int64_t, int,
	    const char *, const char *, const char *, int64_t);
int	 notice_closure(struct store *, const struct policy *, int64_t, int,
	    const char *, const char *, int64_t);

#endif
