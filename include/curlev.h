/*
 * curlev.h: libcurl's multi-socket interface driven by the daemon's
 * libevent loop, for what speaks through curl on the loop (the http
 * check, the webhooks; the mailer has threads of its own, as curl's
 * SMTP blocks).
 *
 * Each user gets its own multi handle: curl says which sockets and which
 * timeout it waits for, libevent says when they are ready, and every
 * finished transfer is handed to the user's done function with its
 * result.  Nothing here blocks.
 */
#ifndef RTOWATCH_CURLEV_H
#define RTOWATCH_CURLEV_H

#include <curl/curl.h>

struct event_base;
struct curlev;

/* A transfer ended: the easy handle is still in the multi handle. */
typedef void	(*curlev_done_cb)(CURL *, CURLcode, void *);

struct curlev	*curlev_new(struct event_base *, const char *, curlev_done_cb,
		    void *);
void		 curlev_free(struct curlev *);
int		 curlev_add(struct curlev *, CURL *);
void		 curlev_remove(struct curlev *, CURL *);
CURL		*curlev_easy(struct curlev *, const char *, void *, char *,
		    const char *);

#endif
