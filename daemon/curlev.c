/*
 * curlev.c: one curl multi handle on the daemon's loop.
 *
 * curl's socket callback tells which sockets to watch for what; each gets
 * a persistent libevent event.  Its timer callback tells when to call it
 * back if nothing is ready; that is one libevent timer.  After every call
 * into curl, the transfers it finished go to the owner's done function.
 */
#include <sys/queue.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <event2/util.h>

#include <stdlib.h>

#include "curlev.h"
#include "log.h"
#include "util.h"

/* A socket curl waits on, and its event. */
struct curlev_sock {
	LIST_ENTRY(curlev_sock)	 entry;
	struct event		*ev;
	curl_socket_t		 fd;
};

struct curlev {
	struct event_base	*base;
	const char		*name;		/* for messages */
	CURLM			*multi;
	struct event		*timer;
	LIST_HEAD(, curlev_sock) socks;
	curlev_done_cb		 done;
	void			*arg;
};

static void
curlev_check_done(struct curlev *cv)
{
	CURLMsg		*msg;
	CURL		*easy;
	CURLcode	 code;
	int		 left;

	while ((msg = curl_multi_info_read(cv->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		/* msg lives in the easy handle that finishing may free. */
		easy = msg->easy_handle;
		code = msg->data.result;
		cv->done(easy, code, cv->arg);
	}
}

static void
curlev_event_cb(evutil_socket_t fd, short events, void *arg)
{
	struct curlev	*cv = arg;
	int		 running, action = 0;

	if (events & EV_READ)
		action |= CURL_CSELECT_IN;
	if (events & EV_WRITE)
		action |= CURL_CSELECT_OUT;
	curl_multi_socket_action(cv->multi, fd, action, &running);
	curlev_check_done(cv);
}

static void
curlev_timer_cb(evutil_socket_t fd, short events, void *arg)
{
	struct curlev	*cv = arg;
	int		 running;

	(void)fd;
	(void)events;
	curl_multi_socket_action(cv->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	curlev_check_done(cv);
}

/* curl says what to wait for on one of its sockets. */
static int
curlev_socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp,
    void *sockp)
{
	struct curlev		*cv = userp;
	struct curlev_sock	*cs = sockp;
	short			 ev = EV_PERSIST;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (cs != NULL) {
			LIST_REMOVE(cs, entry);
			event_free(cs->ev);
			free(cs);
		}
		return 0;
	}
	if (what & CURL_POLL_IN)
		ev |= EV_READ;
	if (what & CURL_POLL_OUT)
		ev |= EV_WRITE;
	if (cs == NULL) {
		cs = xcalloc(1, sizeof(*cs));
		cs->fd = fd;
		LIST_INSERT_HEAD(&cv->socks, cs, entry);
		curl_multi_assign(cv->multi, fd, cs);
	} else
		event_free(cs->ev);
	if ((cs->ev = event_new(cv->base, fd, ev, curlev_event_cb, cv)) ==
	    NULL)
		fatalx("%s: event_new failed", cv->name);
	event_add(cs->ev, NULL);
	return 0;
}

/* curl says when to call it back if no socket is ready. */
static int
curlev_timer_set(CURLM *multi, long ms, void *userp)
{
	struct curlev	*cv = userp;
	struct timeval	 tv;

	(void)multi;
	if (ms < 0) {
		evtimer_del(cv->timer);
		return 0;
	}
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(cv->timer, &tv);
	return 0;
}

/*
 * NAME prefixes messages.  curl_global_init counts its callers, so each
 * multi handle takes and gives back one reference of its own.
 */
struct curlev *
curlev_new(struct event_base *base, const char *name, curlev_done_cb done,
    void *arg)
{
	struct curlev	*cv;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		log_warnx("%s: curl_global_init failed", name);
		return NULL;
	}
	cv = xcalloc(1, sizeof(*cv));
	cv->base = base;
	cv->name = name;
	cv->done = done;
	cv->arg = arg;
	LIST_INIT(&cv->socks);
	if ((cv->timer = evtimer_new(base, curlev_timer_cb, cv)) == NULL)
		fatalx("%s: evtimer_new failed", name);
	if ((cv->multi = curl_multi_init()) == NULL) {
		log_warnx("%s: curl_multi_init failed", name);
		curlev_free(cv);
		return NULL;
	}
	curl_multi_setopt(cv->multi, CURLMOPT_SOCKETFUNCTION, curlev_socket_cb);
	curl_multi_setopt(cv->multi, CURLMOPT_SOCKETDATA, cv);
	curl_multi_setopt(cv->multi, CURLMOPT_TIMERFUNCTION, curlev_timer_set);
	curl_multi_setopt(cv->multi, CURLMOPT_TIMERDATA, cv);
	return cv;
}

void
curlev_free(struct curlev *cv)
{
	struct curlev_sock	*cs;

	if (cv == NULL)
		return;
	/* Cleaning up may still call back: the events go after it. */
	if (cv->multi != NULL)
		curl_multi_cleanup(cv->multi);
	while ((cs = LIST_FIRST(&cv->socks)) != NULL) {
		LIST_REMOVE(cs, entry);
		event_free(cs->ev);
		free(cs);
	}
	if (cv->timer != NULL)
		event_free(cv->timer);
	free(cv);
	curl_global_cleanup();
}

int
curlev_add(struct curlev *cv, CURL *easy)
{
	CURLMcode	 rc;

	if ((rc = curl_multi_add_handle(cv->multi, easy)) != CURLM_OK) {
		log_warnx("%s: curl_multi_add_handle: %s", cv->name,
		    curl_multi_strerror(rc));
		return -1;
	}
	return 0;
}

void
curlev_remove(struct curlev *cv, CURL *easy)
{
	curl_multi_remove_handle(cv->multi, easy);
}

/*
 * A transfer's easy handle with what every user wants: URL, the owner's
 * state as CURLOPT_PRIVATE, an error buffer, only PROTOCOLS, no signals,
 * no waiting for the resolver thread when cancelled, and no proxy from
 * the environment (a check goes to the server named).  NULL
 * when curl cannot make one.
 */
CURL *
curlev_easy(struct curlev *cv, const char *url, void *priv, char *errbuf,
    const char *protocols)
{
	CURL		*e;
	CURLcode	 rc;

	if ((e = curl_easy_init()) == NULL)
		return NULL;
	if ((rc = curl_easy_setopt(e, CURLOPT_URL, url)) != CURLE_OK ||
	    (rc = curl_easy_setopt(e, CURLOPT_PRIVATE, priv)) != CURLE_OK ||
	    (rc = curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf)) !=
	    CURLE_OK ||
	    (rc = curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L)) != CURLE_OK ||
	    (rc = curl_easy_setopt(e, CURLOPT_QUICK_EXIT, 1L)) != CURLE_OK ||
	    (rc = curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, protocols)) !=
	    CURLE_OK ||
	    (rc = curl_easy_setopt(e, CURLOPT_PROXY, "")) != CURLE_OK)
		fatalx("%s: curl_easy_setopt: %s", cv->name,
		    curl_easy_strerror(rc));
	return e;
}
