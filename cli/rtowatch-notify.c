/*
 * rtowatch-notify.c: the desktop agent.
 *
 * It runs in a person's desktop session, follows rtowatchd's event stream
 * on the control socket (GET /v1/events?after=N&wait=S, a long poll) and
 * shows a libnotify notification for each event worth attention, with an
 * "Acknowledge" action that POSTs /v1/incidents/ID/ack as this account.
 *
 * One thread, one GLib main loop.  libnotify needs that loop for its
 * actions, and the HTTP requests run on libcurl's multi-socket interface
 * driven from GLib sources (an fd watch per curl socket, one timeout),
 * as the daemon drives curl from libevent.  A worker thread with a
 * blocking easy handle would have been a little shorter, but then the
 * cursor, the state file and the notifications would be shared between
 * two threads, and quitting would mean interrupting a 25-second poll in
 * another thread; here quitting just removes the transfers.
 *
 * Nothing is shown twice: the id of the last event shown is kept in
 * $XDG_STATE_HOME/rtowatch-notify/last-event (written to a temporary file
 * and renamed over the old one) and the stream resumes after it, across
 * restarts of the daemon and of the agent.  The very first start begins at
 * the daemon's newest event, so a new desktop is not flooded with history.
 *
 * While the daemon is away the agent watches the socket's directory with
 * inotify and tries again as soon as the socket is created there, so that
 * a restarted daemon's first news is not held back by a backoff grown to
 * 15 s; the backoff stays for what inotify cannot see.
 */
#include <sys/inotify.h>
#include <sys/stat.h>

#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <glib.h>
#include <glib-unix.h>
#include <jansson.h>
#include <libnotify/notify.h>
#include <locale.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "notify_event.h"
#include "rtowatch.h"
#include "util.h"

#define AGENT_NAME		"rtowatch-notify"
#define AGENT_APP		"rtowatch"
/* The long poll's wait=: well under the daemon's 60 s limit. */
#define AGENT_WAIT_S		25
#define AGENT_CONNECT_MS	5000
#define AGENT_REQUEST_MS	30000
/*
 * Reconnection: from half a second, doubling, to at most 15 s, and at
 * once when the socket appears (see agent_watch_arm).
 */
#define AGENT_BACKOFF_MIN_MS	500
#define AGENT_BACKOFF_MAX_MS	15000
/*
 * After the socket appeared: the daemon binds, chmods, then listens, and
 * a try between the last two is refused with no event to say when it
 * listens, so the backoff starts over from this instead.
 */
#define AGENT_BACKOFF_KICK_MS	50
/* A busy daemon's Retry-After is honoured up to this. */
#define AGENT_RETRY_AFTER_MAX_MS	300000
/*
 * A long poll answered sooner than this with no event was not a long
 * poll (a daemon at its limit of waiting clients, or stopping): asking
 * again at once would be a busy loop, so it counts as a failure.
 */
#define AGENT_EARLY_MS		(AGENT_WAIT_S * 1000 / 2)

struct agent;
struct agent_xfer;

typedef void	(*agent_done_fn)(struct agent *, struct agent_xfer *,
		    CURLcode);

/* One HTTP request on the control socket. */
struct agent_xfer {
	CURL			*easy;
	struct curl_slist	*headers;
	GString			*body;		/* the reply */
	char			*post;		/* the request body, or NULL */
	long			 status;
	unsigned int		 retry_after_s;	/* the reply's Retry-After */
	gint64			 started;	/* monotonic, us */
	int64_t			 incident;	/* for an acknowledgement */
	agent_done_fn		 done;
	char			 errbuf[CURL_ERROR_SIZE];
};

/* The GLib watch on one of curl's sockets. */
struct agent_sock {
	guint			 source;
};

/* What an "Acknowledge" action needs to know. */
struct agent_ack {
	struct agent		*agent;
	int64_t			 incident;
};

struct agent {
	GMainLoop		*loop;
	CURLM			*multi;
	guint			 timer;		/* curl's timeout */
	guint			 retry;		/* the next reconnection */
	unsigned int		 backoff_ms;
	const char		*socket;
	char			*state_path;
	int64_t			 cursor;	/* the last event shown */
	int			 have_cursor;
	int			 connected;
	int			 closing;	/* in curl_multi_cleanup */
	char			*failure;	/* last logged; said once */
	GList			*xfers;		/* every request in flight */
	GList			*shown;		/* notifications still open */
	int			 ino_fd;	/* inotify, or -1 */
	guint			 ino_source;
	int			 watch_wd;	/* -1: nothing watched */
	int			 watch_final;	/* the socket's own dir */
	int			 watch_warned;
	char			*watch_dir;
	char			*watch_name;	/* the entry awaited */
};

static void	agent_connect(struct agent *);

/* ------------------------------------------------------------ state file */

static char *
agent_state_path(void)
{
	return g_build_filename(g_get_user_state_dir(), AGENT_NAME,
	    "last-event", NULL);
}

/* The last event shown before, or -1 when there is none (first start). */
static int64_t
agent_state_load(const char *path)
{
	GError	*err = NULL;
	char	*text, *end;
	gint64	 id;

	if (!g_file_get_contents(path, &text, NULL, &err)) {
		if (!g_error_matches(err, G_FILE_ERROR, G_FILE_ERROR_NOENT))
			log_warnx("%s", err->message);
		g_error_free(err);
		return -1;
	}
	errno = 0;
	id = g_ascii_strtoll(text, &end, 10);
	while (*end == '\n' || *end == ' ')
		end++;
	if (errno != 0 || end == text || *end != '\0' || id < 0) {
		log_warnx("%s: not an event id; starting at the newest event",
		    path);
		id = -1;
	}
	g_free(text);
	return id;
}

/*
 * g_file_set_contents_full() writes a temporary file beside PATH and
 * renames it over PATH, so a crash leaves the old id or the new one.
 */
static void
agent_state_save(struct agent *a)
{
	GError	*err = NULL;
	char	*dir, text[32];

	dir = g_path_get_dirname(a->state_path);
	if (g_mkdir_with_parents(dir, 0700) == -1)
		log_warn("%s", dir);
	g_free(dir);
	snprintf(text, sizeof(text), "%lld\n", (long long)a->cursor);
	if (!g_file_set_contents_full(a->state_path, text, -1,
	    G_FILE_SET_CONTENTS_CONSISTENT, 0600, &err)) {
		log_warnx("%s", err->message);
		g_error_free(err);
	}
}

/* ------------------------------------------------- curl on the GLib loop */

static void
agent_retry_after(struct agent_xfer *x)
{
	curl_off_t	 s = 0;

	x->retry_after_s = 0;
	if ((x->status == 429 || x->status == 503) &&
	    curl_easy_getinfo(x->easy, CURLINFO_RETRY_AFTER, &s) == CURLE_OK &&
	    s > 0)
		x->retry_after_s = s > AGENT_RETRY_AFTER_MAX_MS / 1000 ?
		    AGENT_RETRY_AFTER_MAX_MS / 1000 : (unsigned int)s;
}

static void
agent_check_done(struct agent *a)
{
	struct agent_xfer	*x;
	CURLMsg			*msg;
	CURL			*easy;
	CURLcode		 rc;
	char			*priv;
	int			 left;

	while ((msg = curl_multi_info_read(a->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		easy = msg->easy_handle;
		rc = msg->data.result;
		curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
		x = (struct agent_xfer *)(void *)priv;
		curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &x->status);
		agent_retry_after(x);
		curl_multi_remove_handle(a->multi, easy);
		a->xfers = g_list_remove(a->xfers, x);
		x->done(a, x, rc);
		curl_easy_cleanup(x->easy);
		curl_slist_free_all(x->headers);
		g_string_free(x->body, TRUE);
		free(x->post);
		free(x);
	}
}

static gboolean
agent_sock_ready(gint fd, GIOCondition cond, gpointer arg)
{
	struct agent	*a = arg;
	int		 mask = 0, running;

	/* A hang-up still has a reply (or its end) to read. */
	if (cond & (G_IO_IN | G_IO_HUP))
		mask |= CURL_CSELECT_IN;
	if (cond & G_IO_OUT)
		mask |= CURL_CSELECT_OUT;
	if (cond & G_IO_ERR)
		mask |= CURL_CSELECT_ERR;
	curl_multi_socket_action(a->multi, fd, mask, &running);
	agent_check_done(a);
	return G_SOURCE_CONTINUE;
}

static int
agent_sock_cb(CURL *easy, curl_socket_t fd, int what, void *arg,
    void *sockp)
{
	struct agent		*a = arg;
	struct agent_sock	*s = sockp;
	GIOCondition		 cond = 0;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (s != NULL) {
			g_source_remove(s->source);
			free(s);
			if (!a->closing)
				curl_multi_assign(a->multi, fd, NULL);
		}
		return 0;
	}
	if (what & CURL_POLL_IN)
		cond |= G_IO_IN;
	if (what & CURL_POLL_OUT)
		cond |= G_IO_OUT;
	if (s == NULL) {
		s = xcalloc(1, sizeof(*s));
		curl_multi_assign(a->multi, fd, s);
	} else
		g_source_remove(s->source);
	s->source = g_unix_fd_add(fd, cond, agent_sock_ready, a);
	return 0;
}

static gboolean
agent_timeout(gpointer arg)
{
	struct agent	*a = arg;
	int		 running;

	a->timer = 0;
	curl_multi_socket_action(a->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	agent_check_done(a);
	return G_SOURCE_REMOVE;
}

static int
agent_timer_cb(CURLM *multi, long ms, void *arg)
{
	struct agent	*a = arg;

	(void)multi;
	if (a->timer != 0) {
		g_source_remove(a->timer);
		a->timer = 0;
	}
	if (ms >= 0)
		a->timer = g_timeout_add((guint)ms, agent_timeout, a);
	return 0;
}

static size_t
agent_write(char *data, size_t size, size_t n, void *arg)
{
	struct agent_xfer	*x = arg;

	/* A reply beyond what a batch may be ends the transfer. */
	if (x->body->len + size * n > NOTIFY_BATCH_MAX)
		return 0;
	g_string_append_len(x->body, data, (gssize)(size * n));
	return size * n;
}

/* Start PATH on the control socket: a GET, or a POST of the JSON POST. */
static struct agent_xfer *
agent_request(struct agent *a, const char *path, const char *post,
    long timeout_ms, agent_done_fn done)
{
	struct agent_xfer	*x;
	char			*url;

	x = xcalloc(1, sizeof(*x));
	x->done = done;
	x->started = g_get_monotonic_time();
	x->body = g_string_new(NULL);
	if ((x->easy = curl_easy_init()) == NULL)
		fatalx("curl_easy_init failed");
	/* The host name is a placeholder: the socket decides. */
	xasprintf(&url, "http://rtowatch%s", path);
	curl_easy_setopt(x->easy, CURLOPT_URL, url);
	free(url);
	curl_easy_setopt(x->easy, CURLOPT_UNIX_SOCKET_PATH, a->socket);
	curl_easy_setopt(x->easy, CURLOPT_PROTOCOLS_STR, "http");
	curl_easy_setopt(x->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(x->easy, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)AGENT_CONNECT_MS);
	curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, agent_write);
	curl_easy_setopt(x->easy, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(x->easy, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(x->easy, CURLOPT_PRIVATE, (void *)x);
	x->headers = curl_slist_append(NULL, "Accept: application/json");
	if (post != NULL) {
		x->post = xstrdup(post);
		x->headers = curl_slist_append(x->headers,
		    "Content-Type: application/json");
		curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS, x->post);
	}
	curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->headers);
	if (curl_multi_add_handle(a->multi, x->easy) != CURLM_OK)
		fatalx("curl_multi_add_handle failed");
	a->xfers = g_list_prepend(a->xfers, x);
	log_debug("%s %s", post != NULL ? "POST" : "GET", path);
	return x;
}

/*
 * Why a request failed, for a person: curl's words, or the daemon's error
 * text with the HTTP status.  The caller frees it.
 */
static char *
agent_xfer_error(const struct agent_xfer *x, CURLcode rc)
{
	char	*why, *text;
	long	 oserr = 0;

	/* curl would name host "rtowatch" and port 80: say what failed. */
	if (rc == CURLE_COULDNT_CONNECT &&
	    curl_easy_getinfo(x->easy, CURLINFO_OS_ERRNO, &oserr) ==
	    CURLE_OK && oserr != 0) {
		xasprintf(&why, "cannot connect: %s", strerror((int)oserr));
		return why;
	}
	if (rc != CURLE_OK) {
		xasprintf(&why, "%s", x->errbuf[0] != '\0' ? x->errbuf :
		    curl_easy_strerror(rc));
		return why;
	}
	text = notify_error_text(x->body->str, x->body->len);
	xasprintf(&why, "HTTP %ld%s%s", x->status, text != NULL ? ": " : "",
	    text != NULL ? text : "");
	free(text);
	return why;
}

/* ---------------------------------------------------------- reconnection */

static void	agent_watch_arm(struct agent *);

static gboolean
agent_retry(gpointer arg)
{
	struct agent	*a = arg;

	a->retry = 0;
	/* A watch lost to a missing directory or a full table: once more. */
	if (a->ino_fd != -1 && a->watch_wd == -1)
		agent_watch_arm(a);
	agent_connect(a);
	return G_SOURCE_REMOVE;
}

/*
 * The stream broke, or the daemon is not there: try again later, each
 * time twice as late up to the bound.  A reason is logged when it changes,
 * not on every retry of a long outage.
 */
static void
agent_fail(struct agent *a, const char *why)
{
	if (a->failure == NULL || strcmp(a->failure, why) != 0) {
		log_warnx("%s; trying again in %.1fs (then up to every "
		    "%ds)", why, a->backoff_ms / 1000.0,
		    AGENT_BACKOFF_MAX_MS / 1000);
		free(a->failure);
		a->failure = xstrdup(why);
	} else
		log_debug("%s; trying again in %.1fs", why,
		    a->backoff_ms / 1000.0);
	a->connected = 0;
	a->retry = g_timeout_add(a->backoff_ms, agent_retry, a);
	a->backoff_ms *= 2;
	if (a->backoff_ms > AGENT_BACKOFF_MAX_MS)
		a->backoff_ms = AGENT_BACKOFF_MAX_MS;
}

static void
agent_connected(struct agent *a)
{
	if (!a->connected)
		log_info("following %s after event %lld", a->socket,
		    (long long)a->cursor);
	a->connected = 1;
}

/*
 * A whole round went well, events shown and all: only now is the trouble
 * over.  (Answering is not enough: a daemon that answers while the
 * notification server refuses must still be retried ever more slowly.)
 */
static void
agent_healthy(struct agent *a)
{
	if (a->failure != NULL)
		log_info("working again after: %s", a->failure);
	free(a->failure);
	a->failure = NULL;
	a->backoff_ms = AGENT_BACKOFF_MIN_MS;
}


/* ------------------------------------------------ the socket's directory */

/*
 * Watch the socket's directory for the socket being created (bind) or
 * given its mode (the daemon's chmod before listen), or, while that
 * directory does not exist (systemd's RuntimeDirectory= is removed when
 * the daemon stops), the nearest ancestor that does, for the next
 * directory on the way.  One watch at a time; the kernel numbers watches
 * afresh, so events of one removed here are told apart by their number.
 * Should even that fail (no permission, the table of watches full), the
 * backoff alone remains, and each retry arms the watch again.
 */
static void
agent_watch_arm(struct agent *a)
{
	char	*dir, *up;
	int	 wd, err, final = 1;

	if (a->watch_wd != -1)
		inotify_rm_watch(a->ino_fd, a->watch_wd);
	a->watch_wd = -1;
	g_free(a->watch_dir);
	g_free(a->watch_name);
	a->watch_dir = NULL;
	a->watch_name = g_path_get_basename(a->socket);
	dir = g_path_get_dirname(a->socket);
	while ((wd = inotify_add_watch(a->ino_fd, dir, IN_CREATE | IN_ATTRIB |
	    IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)) == -1) {
		err = errno;
		up = g_path_get_dirname(dir);
		if ((err != ENOENT && err != ENOTDIR) ||
		    strcmp(up, dir) == 0) {
			if (!a->watch_warned)
				log_warnx("inotify on %s: %s; reconnecting on "
				    "the backoff alone", dir, g_strerror(err));
			a->watch_warned = 1;
			g_free(up);
			g_free(dir);
			return;
		}
		g_free(a->watch_name);
		a->watch_name = g_path_get_basename(dir);
		g_free(dir);
		dir = up;
		final = 0;
	}
	a->watch_wd = wd;
	a->watch_final = final;
	a->watch_dir = dir;
	log_debug("watching %s for %s", dir, a->watch_name);
}

/*
 * The socket is new: a daemon is starting.  Try now rather than at the
 * end of a backoff that may have grown to 15 s, and start the backoff over
 * from AGENT_BACKOFF_KICK_MS, for a try a hair too early (bound, not yet
 * listening) is refused.  A request on its way is left to finish; should
 * it fail, it retries that soon too.
 */
static void
agent_kick(struct agent *a)
{
	a->backoff_ms = AGENT_BACKOFF_KICK_MS;
	if (a->retry == 0)
		return;
	g_source_remove(a->retry);
	a->retry = 0;
	log_debug("%s appeared: trying now", a->socket);
	agent_connect(a);
}

static gboolean
agent_watch_ready(gint fd, GIOCondition cond, gpointer arg)
{
	struct agent			*a = arg;
	char				 buf[4096]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event	*ev;
	ssize_t				 n;
	size_t				 off;
	int				 rearm = 0, appeared = 0;

	(void)cond;
	for (;;) {
		if ((n = read(fd, buf, sizeof(buf))) == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			log_warn("inotify: reconnecting on the backoff alone");
			a->ino_source = 0;
			return G_SOURCE_REMOVE;
		}
		for (off = 0; off + sizeof(*ev) <= (size_t)n;
		    off += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)(void *)(buf + off);
			if (ev->mask & IN_Q_OVERFLOW)
				rearm = 1;
			else if (ev->wd != a->watch_wd)
				continue;	/* an old watch's last word */
			else if (ev->mask & (IN_IGNORED | IN_DELETE_SELF |
			    IN_MOVE_SELF))
				rearm = 1;
			else if (ev->len > 0 &&
			    strcmp(ev->name, a->watch_name) == 0) {
				if (a->watch_final)
					appeared = 1;
				else
					rearm = 1;
			}
		}
	}
	if (rearm) {
		agent_watch_arm(a);
		/* Created before the watch came down to its directory? */
		if (a->watch_wd != -1 && a->watch_final &&
		    g_file_test(a->socket, G_FILE_TEST_EXISTS))
			appeared = 1;
	}
	if (appeared)
		agent_kick(a);
	return G_SOURCE_CONTINUE;
}

static void
agent_watch_init(struct agent *a)
{
	a->watch_wd = -1;
	if ((a->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1) {
		log_warn("inotify: reconnecting on the backoff alone");
		return;
	}
	a->ino_source = g_unix_fd_add(a->ino_fd, G_IO_IN, agent_watch_ready,
	    a);
	agent_watch_arm(a);
}

/* --------------------------------------------------------- notifications */

static gboolean
agent_unref_idle(gpointer n)
{
	g_object_unref(n);
	return G_SOURCE_REMOVE;
}

static void
agent_closed(NotifyNotification *n, gpointer arg)
{
	struct agent	*a = arg;

	/* Not while libnotify is still emitting: drop it from the loop. */
	a->shown = g_list_remove(a->shown, n);
	g_idle_add(agent_unref_idle, n);
}

/* Does the notification server read the body as markup? */
static int
agent_markup(void)
{
	GList	*caps, *l;
	int	 yes = 0;

	caps = notify_get_server_caps();
	for (l = caps; l != NULL; l = l->next) {
		if (strcmp(l->data, "body-markup") == 0)
			yes = 1;
	}
	g_list_free_full(caps, g_free);
	return yes;
}

static void	agent_ack_action(NotifyNotification *, char *, gpointer);

/*
 * Show one notification; with INCIDENT > 0 it offers the "Acknowledge"
 * action.  Returns 0, or -1 when the notification server refused it.
 */
static int
agent_popup(struct agent *a, const char *summary, const char *body,
    NotifyUrgency urgency, int64_t incident, int markup)
{
	NotifyNotification	*n;
	GError			*err = NULL;
	struct agent_ack	*ack;
	char			*text;

	text = markup ? g_markup_escape_text(body, -1) : g_strdup(body);
	n = notify_notification_new(summary, text, NULL);
	g_free(text);
	notify_notification_set_app_name(n, AGENT_APP);
	notify_notification_set_urgency(n, urgency);
	if (incident > 0) {
		ack = xcalloc(1, sizeof(*ack));
		ack->agent = a;
		ack->incident = incident;
		notify_notification_add_action(n, "acknowledge",
		    "確認 Acknowledge", agent_ack_action, ack, free);
	}
	g_signal_connect(n, "closed", G_CALLBACK(agent_closed), a);
	if (!notify_notification_show(n, &err)) {
		log_warnx("notification \"%s\" not shown: %s", summary,
		    err->message);
		g_error_free(err);
		g_object_unref(n);
		return -1;
	}
	a->shown = g_list_prepend(a->shown, n);
	return 0;
}

static int
agent_show_event(struct agent *a, const struct notify_event *ev, int markup)
{
	char	*summary, *body;
	int	 critical, rc;

	summary = notify_event_summary(ev);
	body = notify_event_body(ev);
	critical = notify_event_critical(ev);
	rc = agent_popup(a, summary, body, critical ? NOTIFY_URGENCY_CRITICAL :
	    NOTIFY_URGENCY_NORMAL, ev->incident, markup);
	if (rc == 0)
		log_info("event %lld shown (%s): %s", (long long)ev->id,
		    critical ? "critical" : "normal", summary);
	free(summary);
	free(body);
	return rc;
}

/*
 * Show what is new in B and move the cursor past it.  When the server
 * refuses a notification the cursor stays before it, so it is shown when
 * the stream is taken up again rather than lost.
 */
static int
agent_show_batch(struct agent *a, const struct notify_batch *b)
{
	const struct notify_event	*ev;
	int64_t				 before = a->cursor;
	size_t				 i;
	int				 markup = -1, rc = 0;

	for (i = 0; i < b->count; i++) {
		ev = &b->events[i];
		if (ev->transient) {
			/* Not in the record: shown now or never. */
			if (notify_event_worth(ev)) {
				if (markup == -1)
					markup = agent_markup();
				(void)agent_show_event(a, ev, markup);
			}
			continue;
		}
		if (ev->id <= a->cursor)
			continue;	/* seen: never twice */
		if (notify_event_worth(ev)) {
			if (markup == -1)
				markup = agent_markup();
			if (agent_show_event(a, ev, markup) == -1) {
				rc = -1;
				break;
			}
		} else
			log_debug("event %lld (%s) is not shown",
			    (long long)ev->id, ev->event);
		a->cursor = ev->id;
	}
	if (rc == 0 && b->last > a->cursor)
		a->cursor = b->last;
	if (a->cursor != before)
		agent_state_save(a);
	return rc;
}

/* ------------------------------------------------------ acknowledgements */

static void
agent_ack_done(struct agent *a, struct agent_xfer *x, CURLcode rc)
{
	json_t		*root;
	json_int_t	 event = 0;
	char		*summary, *body;

	if (rc == CURLE_OK && x->status == 200) {
		root = json_loadb(x->body->str, x->body->len, 0, NULL);
		if (json_is_integer(json_object_get(root, "event")))
			event = json_integer_value(json_object_get(root,
			    "event"));
		json_decref(root);
		xasprintf(&summary, "確認 Acknowledged · incident #%lld",
		    (long long)x->incident);
		xasprintf(&body, "已記錄 Recorded as %s (timeline event %lld)",
		    g_get_user_name(), (long long)event);
		log_info("incident %lld acknowledged as %s (event %lld)",
		    (long long)x->incident, g_get_user_name(),
		    (long long)event);
	} else {
		body = agent_xfer_error(x, rc);
		xasprintf(&summary, "確認失敗 Not acknowledged · incident #%lld",
		    (long long)x->incident);
		log_warnx("acknowledging incident %lld: %s",
		    (long long)x->incident, body);
	}
	agent_popup(a, summary, body, NOTIFY_URGENCY_NORMAL, 0,
	    agent_markup());
	free(summary);
	free(body);
}

/* The person chose "Acknowledge": the daemon learns who by SO_PEERCRED. */
static void
agent_ack_action(NotifyNotification *n, char *action, gpointer arg)
{
	struct agent_ack	*ack = arg;
	struct agent_xfer	*x;
	char			 path[64];

	(void)n;
	(void)action;
	log_info("acknowledging incident %lld as %s", (long long)ack->incident,
	    g_get_user_name());
	snprintf(path, sizeof(path), "/v1/incidents/%lld/ack",
	    (long long)ack->incident);
	x = agent_request(ack->agent, path, "{}", AGENT_REQUEST_MS,
	    agent_ack_done);
	x->incident = ack->incident;
}

/* ------------------------------------------------------------ the stream */

static void	agent_poll(struct agent *);

/* Why the stream's request failed, as one line for the log. */
static void
agent_stream_failed(struct agent *a, struct agent_xfer *x, CURLcode rc)
{
	char	*why, *line;

	why = agent_xfer_error(x, rc);
	xasprintf(&line, "control socket %s: %s", a->socket, why);
	/* Busy (429, 503): no sooner than it asks, if it says. */
	if (rc == CURLE_OK && x->retry_after_s * 1000 > a->backoff_ms)
		a->backoff_ms = x->retry_after_s * 1000;
	agent_fail(a, line);
	free(line);
	free(why);
}

static int
agent_stream_batch(struct agent *a, struct agent_xfer *x, CURLcode rc,
    struct notify_batch *b)
{
	char	 err[256], *line;

	if (rc != CURLE_OK || x->status != 200) {
		agent_stream_failed(a, x, rc);
		return -1;
	}
	if (notify_batch_parse(x->body->str, x->body->len, b, err,
	    sizeof(err)) == -1) {
		xasprintf(&line, "control socket %s: a reply the agent cannot "
		    "read: %s", a->socket, err);
		agent_fail(a, line);
		free(line);
		return -1;
	}
	return 0;
}

/* One answer of the long poll: show it, ask for what comes next. */
static void
agent_poll_done(struct agent *a, struct agent_xfer *x, CURLcode rc)
{
	struct notify_batch	 b;

	if (agent_stream_batch(a, x, rc, &b) == -1)
		return;
	if (b.count == 0 && g_get_monotonic_time() - x->started <
	    AGENT_EARLY_MS * 1000LL) {
		notify_batch_free(&b);
		agent_fail(a, "the daemon answered the long poll at once, "
		    "with no event (too many clients waiting, or stopping)");
		return;
	}
	agent_connected(a);
	if (agent_show_batch(a, &b) == -1) {
		agent_fail(a, "the notification server refused a "
		    "notification");
		notify_batch_free(&b);
		return;
	}
	notify_batch_free(&b);
	agent_healthy(a);
	agent_poll(a);
}

static void
agent_poll(struct agent *a)
{
	char	 path[96];

	snprintf(path, sizeof(path), "/v1/events?after=%lld&wait=%d",
	    (long long)a->cursor, AGENT_WAIT_S);
	agent_request(a, path, NULL, AGENT_WAIT_S * 1000L + AGENT_REQUEST_MS,
	    agent_poll_done);
}

/*
 * The first answer after (re)connecting: the daemon's newest event id.
 * On the very first start that is where showing begins.  An id before
 * ours means the daemon has a new database: follow it from its newest,
 * or nothing would ever be shown again.
 */
static void
agent_hello_done(struct agent *a, struct agent_xfer *x, CURLcode rc)
{
	struct notify_batch	 b;

	if (agent_stream_batch(a, x, rc, &b) == -1)
		return;
	if (!a->have_cursor) {
		a->cursor = b.last;
		a->have_cursor = 1;
		/* Saved first: the line says where it will begin, for good. */
		agent_state_save(a);
		log_info("first start: showing the events after %lld, the "
		    "newest", (long long)a->cursor);
	} else if (b.last < a->cursor) {
		log_warnx("the daemon's newest event is %lld, before the %lld "
		    "shown last (a new database?): following it from there",
		    (long long)b.last, (long long)a->cursor);
		a->cursor = b.last;
		agent_state_save(a);
	}
	notify_batch_free(&b);
	agent_connected(a);
	agent_poll(a);
}

static void
agent_connect(struct agent *a)
{
	agent_request(a, "/v1/events", NULL, AGENT_REQUEST_MS,
	    agent_hello_done);
}

/* ------------------------------------------------------------------ main */

static gboolean
agent_quit(gpointer arg)
{
	struct agent	*a = arg;

	log_info("exiting on a signal");
	g_main_loop_quit(a->loop);
	return G_SOURCE_CONTINUE;
}

static void
agent_free(struct agent *a)
{
	struct agent_xfer	*x;

	while (a->xfers != NULL) {
		x = a->xfers->data;
		a->xfers = g_list_delete_link(a->xfers, a->xfers);
		curl_multi_remove_handle(a->multi, x->easy);
		curl_easy_cleanup(x->easy);
		curl_slist_free_all(x->headers);
		g_string_free(x->body, TRUE);
		free(x->post);
		free(x);
	}
	a->closing = 1;
	curl_multi_cleanup(a->multi);
	if (a->timer != 0)
		g_source_remove(a->timer);
	if (a->retry != 0)
		g_source_remove(a->retry);
	if (a->ino_source != 0)
		g_source_remove(a->ino_source);
	if (a->ino_fd != -1)
		close(a->ino_fd);
	g_free(a->watch_dir);
	g_free(a->watch_name);
	g_list_free_full(a->shown, g_object_unref);
	g_main_loop_unref(a->loop);
	g_free(a->state_path);
	free(a->failure);
}

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: %s [-dV] [-s socket]\n"
	    "       %s -h | --help | -V | --version\n", AGENT_NAME,
	    AGENT_NAME);
	exit(2);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "debug", no_argument, NULL, 'd' },
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct agent	 a;
	const char	*s;
	int		 ch, debug = 0;
	int64_t		 last;

	setlocale(LC_ALL, "");
	memset(&a, 0, sizeof(a));
	s = getenv("RTOWATCH_SOCKET");
	a.socket = s != NULL && *s != '\0' ? s : RTOWATCH_SOCKET_DEFAULT;
	while ((ch = getopt_long(argc, argv, "dhs:V", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			printf("usage: %s [-dV] [-s socket]\n"
			    "       %s -h | --help | -V | --version\n"
			    "the desktop agent: shows rtowatchd's events "
			    "(incidents, deadlines, mail failing)\nas desktop "
			    "notifications\n"
			    "  -d, --debug         log debug messages too\n"
			    "  -s, --socket PATH   rtowatchd's control socket "
			    "(default $RTOWATCH_SOCKET,\n"
			    "                      else %s)\n"
			    "see rtowatch-notify(1)\n", AGENT_NAME, AGENT_NAME,
			    RTOWATCH_SOCKET_DEFAULT);
			return 0;
		case 'd':
			debug = 1;
			break;
		case 's':
			a.socket = optarg;
			break;
		case 'V':
			printf("%s %s\n", AGENT_NAME, RTOWATCH_VERSION);
			return 0;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();

	/* A user unit's stderr goes to the journal: no syslog needed. */
	log_init(AGENT_NAME, 1, debug);
	signal(SIGPIPE, SIG_IGN);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		fatalx("curl_global_init failed");
	if (!notify_init(AGENT_APP))
		fatalx("libnotify cannot start");

	a.loop = g_main_loop_new(NULL, FALSE);
	a.backoff_ms = AGENT_BACKOFF_MIN_MS;
	a.state_path = agent_state_path();
	if ((last = agent_state_load(a.state_path)) >= 0) {
		a.cursor = last;
		a.have_cursor = 1;
	}
	if ((a.multi = curl_multi_init()) == NULL)
		fatalx("curl_multi_init failed");
	curl_multi_setopt(a.multi, CURLMOPT_SOCKETFUNCTION, agent_sock_cb);
	curl_multi_setopt(a.multi, CURLMOPT_SOCKETDATA, &a);
	curl_multi_setopt(a.multi, CURLMOPT_TIMERFUNCTION, agent_timer_cb);
	curl_multi_setopt(a.multi, CURLMOPT_TIMERDATA, &a);
	g_unix_signal_add(SIGTERM, agent_quit, &a);
	g_unix_signal_add(SIGINT, agent_quit, &a);

	log_info("%s %s: socket %s, state %s%s", AGENT_NAME, RTOWATCH_VERSION,
	    a.socket, a.state_path, a.have_cursor ? "" : " (first start)");
	agent_watch_init(&a);
	agent_connect(&a);
	g_main_loop_run(a.loop);

	agent_free(&a);
	notify_uninit();
	curl_global_cleanup();
	return 0;
}
