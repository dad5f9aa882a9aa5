/*
 * webhook.h: the outbox's webhook sender.  It posts the queued rows of
 * channel 'webhook' to the endpoints the rules name, on the loop through
 * curl's multi interface, signed with HMAC-SHA256, retried on the mail's
 * schedule, each row sent once it was accepted (2xx).
 */
#ifndef RTOWATCH_WEBHOOK_H
#define RTOWATCH_WEBHOOK_H

struct conf;
struct event_base;
struct store;
struct webhook;

struct webhook	*webhook_new(struct event_base *, struct store *);
void		 webhook_configure(struct webhook *, const struct conf *);
void		 webhook_kick(void *);
void		 webhook_free(struct webhook *);

#endif
