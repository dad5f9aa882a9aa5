/*
 * mailer.h: the sender of the outbox.  It mails the queued rows of the
 * notifications table through libcurl's SMTP in sending threads of its
 * own (the loop reads and records, the threads only talk SMTP), marks
 * each sent only once the server accepted it, retries with backoff, and
 * raises the "mail failing" alert when a message stays unsent too long.
 */
#ifndef RTOWATCH_MAILER_H
#define RTOWATCH_MAILER_H

#include <stdint.h>

struct conf;
struct mail_conf;
struct event_base;
struct store;
struct mailer;

struct mailer	*mailer_new(struct event_base *, struct store *);
void		 mailer_configure(struct mailer *, const struct conf *);
void		 mailer_kick(void *);
void		 mailer_free(struct mailer *);
int64_t		 mailer_backoff(const struct mail_conf *, int);
int64_t		 mailer_alerts(struct store *, const char *, int64_t);

#endif
