/*
 * control.c: the control socket, HTTP and JSON on a Unix socket served by
 * libevent's evhttp on the daemon's loop (docs/control-api.md).
 *
 * The kernel tells who is calling (SO_PEERCRED); the rules' role lines
 * map the account's groups to what it may do.  The socket is open to
 * every account, so a connection is judged before a byte of it is read:
 * an account without a role, one over its share of connections, or any
 * caller while descriptors are short is dropped at once, and a request
 * must be complete CONTROL_READ_S after the connection was accepted,
 * however slowly it trickles in.  The probes, not the control socket,
 * get the descriptors.  One table, control_routes, says what each request
 * may be, who may make it and which function answers it.  Queries read
 * the store; actions go through workflow.c, which writes each one with
 * its timeline event in one transaction.  The event stream is a long poll
 * on the timeline's ids, woken when the store commits new rows.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>

#include <errno.h>
#include <grp.h>
#include <jansson.h>
#include <malloc.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "conf.h"
#include "control.h"
#include "engine.h"
#include "log.h"
#include "metrics.h"
#include "maint.h"
#include "monitor.h"
#include "record.h"
#include "store.h"
#include "util.h"
#include "workflow.h"

#define CONTROL_MAX_BODY	65536		/* a request's JSON, bytes */
#define CONTROL_HARD_BODY	1048576		/* evhttp's own limit */
#define CONTROL_MAX_HEADERS	16384
#define CONTROL_TIMEOUT_S	90		/* > CONTROL_MAX_WAIT_S */
#define CONTROL_MAX_WAIT_S	60
#define CONTROL_MAX_WAITERS	256
#define CONTROL_EVENTS_BATCH	500
/* Replies this big: trim (control_trim). */
#define CONTROL_TRIM_BYTES	((size_t)256 * 1024)
#define CONTROL_RETRY_AFTER	"10"		/* s, when waiters are full */
#define CONTROL_MAX_GROUPS	256
/*
 * A request is read in full within CONTROL_READ_S of its connection's
 * accept: rtowatch writes one in a single call, and a deadline that each
 * byte does not push back is what stops a caller trickling a byte every
 * 20 s from holding the connection for ever.  One request per connection
 * (every reply says "Connection: close"), so the deadline is that of the
 * request.
 */
#define CONTROL_READ_S		5
#define CONTROL_READ_S_TEXT	"5"
#define CONTROL_MAX_CONNS	256	/* open connections, all accounts */
#define CONTROL_MAX_PER_UID	32	/* open connections of one account */
/*
 * Descriptors kept for the probes: no connection is taken when fewer
 * than a quarter of the soft limit (and at least this many) are free.
 */
#define CONTROL_FD_RESERVE_MIN	64
#define CONTROL_ACCEPT_PAUSE_S	1	/* after accept(2) ran out of fds */
#define CONTROL_LOG_EVERY_S	10	/* at most one refusal line per */
/*
 * Connections judged per turn of the loop: a flood of them waits for the
 * next turn, after the probes' timers, instead of stalling them.
 */
#define CONTROL_ACCEPT_BATCH	32
/* Accounts looked up (NSS) and judged: kept a few seconds, per uid. */
#define CONTROL_CALLERS_CACHED	16
#define CONTROL_CALLER_TTL_MS	5000

struct waiter {
	TAILQ_ENTRY(waiter)	 entry;
	struct control		*control;
	struct evhttp_request	*req;
	int64_t			 after;
	struct event		*timer;
};
TAILQ_HEAD(waiter_list, waiter);

/* Who is calling, as the kernel says. */
struct caller {
	uid_t		 uid;
	char		 name[64];
	enum conf_role	 role;
};

/* A request as its route's handler gets it: parsed and checked once. */
struct control_call {
	const struct caller	*who;
	int64_t			 id;		/* the path's :id, or 0 */
	const struct evkeyvalq	*query;
	json_t			*body;		/* its members checked */
};

/* An accepted connection, from evhttp's bufferevent to its close. */
struct conn {
	TAILQ_ENTRY(conn)	 entry;
	struct control		*control;
	struct bufferevent	*bev;
	struct evhttp_connection *evcon;	/* once judged */
	struct event		*deadline;
	struct evbuffer_cb_entry *outcb;
	struct caller		 who;
	int			 counted;	/* in nconns */
	int			 handled;	/* the request reached us */
	int			 rewrite;	/* evhttp answered by itself */
};
TAILQ_HEAD(conn_list, conn);

struct control {
	struct event_base	*base;
	struct engine		*engine;
	struct workflow		*wf;		/* people's actions */
	struct store		*store;
	struct capture		*capture;	/* NULL: no anomaly block */
	struct evhttp		*http;
	char			*path;
	gid_t			*gids;		/* the role lines' groups */
	enum conf_role		*roles;
	int			 ngids;
	struct waiter_list	 waiters;
	int			 nwaiters;
	struct event		*wake;		/* new timeline rows */
	struct evconnlistener	*lev;
	struct event		*judge;		/* new connections */
	struct event		*rewrite;	/* evhttp's own errors */
	struct event		*resume;	/* the listener, after EMFILE */
	struct conn_list	 fresh;		/* accepted, not judged */
	struct conn_list	 conns;		/* judged and kept */
	int			 nconns;
	rlim_t			 fd_limit;
	int64_t			 refused_log_at;	/* mono ms */
	uint64_t		 refused;	/* since that line */
	int64_t			 accept_log_at;	/* mono ms */
	uint64_t		 accept_failed;	/* since that line */
	int			 nfresh;	/* this turn */
	int			 batch_paused;
	struct {
		struct caller	 who;
		int64_t		 until;		/* mono ms; 0: empty */
	}			 callers[CONTROL_CALLERS_CACHED];
	int			 callers_next;
	/* The history's bucket lengths, s (set history-bucket; 60: long). */
	int64_t			 hist_short;
	int64_t			 hist_long;
	/* This node (set node, set lead): status says who answers. */
	char			 node[64];
	int			 may_lead;
	/* Another reader of the event stream (web.c's server-sent events). */
	void			(*follow)(void *);
	void			(*follow_alert)(const char *, void *);
	void			*follow_arg;
};

/*
 * The control socket of this process, for the listener's error callback:
 * evhttp_bind_listener makes the listener's argument its evhttp, and an
 * error callback has no argument of its own.
 */
static struct control	*control_listening;

/*
 * control_read runs a route's handler with no request: control_reply
 * leaves the reply here instead of sending it.  One loop, and handlers
 * that answer before they return, so one slot is enough.
 */
static json_t	*control_captured;
static int	 control_captured_status;

static void	control_request_cb(struct evhttp_request *, void *);
static void	control_wake_cb(evutil_socket_t, short, void *);

/* ------------------------------------------------------------ replies */

/*
 * Text as a JSON string.  JSON wants UTF-8, but a probe's detail quotes
 * what a server sent and a path is whatever the caller typed: bytes that
 * are not UTF-8 become '?' rather than losing the member or the reply.
 */
static json_t *
control_text(const char *s)
{
	json_t	*v;
	char	*copy, *p;

	if ((v = json_string(s)) != NULL)
		return v;
	copy = xstrdup(s);
	for (p = copy; *p != '\0'; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	v = json_string(copy);
	free(copy);
	return v != NULL ? v : json_string("?");
}

/*
 * A big reply (/v1/status at 10,000 checks: 2.9 MB of JSON) is built as
 * a tree of small allocations, 26 MB of them.  glibc keeps what is freed
 * for reuse when it is not at the top of the heap, so the first such
 * call left RSS 26 MB higher for good (and later calls reused it: +90 kB
 * over 400 more calls, then flat; malloc_trim gave back 24 of the 26).
 * Not a leak, but a daemon that reads as growing: give it back.
 */
static void
control_trim(size_t len)
{
	struct timespec	 t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	malloc_trim(0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	log_debug("control: a reply of %zu kB; memory returned to the "
	    "system in %.1f ms", len / 1024,
	    (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
}

static void
control_reply(struct evhttp_request *req, int status, json_t *obj)
{
	struct evbuffer	*buf;
	char		*text = NULL;
	size_t		 len;

	if (req == NULL) {
		json_decref(control_captured);
		control_captured = obj;
		control_captured_status = status;
		return;
	}
	if (obj != NULL)
		text = json_dumps(obj, JSON_COMPACT);
	json_decref(obj);
	if (text == NULL) {
		/* Out of memory, or a bug: the caller still gets an answer. */
		log_warnx("control: cannot encode a reply");
		status = 500;
		text = xstrdup("{\"error\":\"internal error\"}");
	}
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "application/json; charset=utf-8");
	/* One request per connection: see CONTROL_READ_S. */
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Connection", "close");
	if ((buf = evbuffer_new()) == NULL)
		fatalx("control: evbuffer_new");
	len = strlen(text);
	evbuffer_add(buf, text, len);
	evbuffer_add(buf, "\n", 1);
	free(text);
	evhttp_send_reply(req, status, status == 200 ? "OK" : "Error", buf);
	evbuffer_free(buf);
	if (len >= CONTROL_TRIM_BYTES)
		control_trim(len);
}

static void
control_error(struct evhttp_request *req, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
control_error(struct evhttp_request *req, int status, const char *fmt, ...)
{
	va_list	 ap;
	char	 msg[768];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	control_reply(req, status, json_pack("{so}", "error",
	    control_text(msg)));
}

/*
 * A read of the records refused: the register unreachable for now (a
 * PostgreSQL server restarting or down) is 503 with its reason, which
 * the caller may try again; anything else is the daemon's own fault.
 */
static void
control_read_error(struct control *c, struct evhttp_request *req)
{
	const char	*why;

	if ((why = store_read_fault(c->store)) != NULL)
		control_error(req, 503, "cannot read the register "
		    "(資料庫無法讀取) for now: %s; nothing was read. Try again "
		    "when it can be reached", why);
	else
		control_error(req, 500, "cannot read the database");
}

/* A row of store_select as a JSON object: numbers stay numbers. */
static json_t *
control_row(int n, const char *const *names, const char *const *vals,
    const int *nums)
{
	json_t	*obj;
	int	 i;

	obj = json_object();
	for (i = 0; i < n; i++) {
		if (vals[i] == NULL)
			json_object_set_new(obj, names[i], json_null());
		else if (nums[i])
			json_object_set_new(obj, names[i],
			    json_integer(strtoll(vals[i], NULL, 10)));
		else
			json_object_set_new(obj, names[i],
			    control_text(vals[i]));
	}
	return obj;
}

static int
control_row_append(int n, const char *const *names, const char *const *vals,
    const int *nums, void *arg)
{
	json_array_append_new(arg, control_row(n, names, vals, nums));
	return 0;
}

static int
control_row_set(int n, const char *const *names, const char *const *vals,
    const int *nums, void *arg)
{
	json_t	**out = arg;

	*out = control_row(n, names, vals, nums);
	return -1;	/* one row */
}

/* Rows of SQL as a JSON array, or NULL if the store failed. */
static json_t *
control_rows(struct control *c, const char *sql, int nargs,
    const char *const args[])
{
	json_t	*arr = json_array();

	if (store_select(c->store, sql, nargs, args, control_row_append,
	    arr) == -1) {
		json_decref(arr);
		return NULL;
	}
	return arr;
}

/* ------------------------------------------------------------ callers */

static enum conf_role
control_role(const struct control *c, uid_t uid, const char *name,
    gid_t gid)
{
	gid_t		 groups[CONTROL_MAX_GROUPS];
	enum conf_role	 role = ROLE_NONE;
	int		 ngroups = CONTROL_MAX_GROUPS, i, j;

	/* The superuser and the daemon's own account can do everything. */
	if (uid == 0 || uid == geteuid())
		return ROLE_OPERATOR;
	/*
	 * Through NSS this may ask a directory server; callers are people
	 * at a terminal, a handful a minute, not probes.
	 */
	if (name[0] == '\0' ||
	    getgrouplist(name, gid, groups, &ngroups) == -1)
		ngroups = 0;
	for (i = 0; i < ngroups; i++)
		for (j = 0; j < c->ngids; j++)
			if (groups[i] == c->gids[j] && c->roles[j] > role)
				role = c->roles[j];
	return role;
}

/* Account UID (group GID when it has no passwd entry) and its role. */
static void
control_uid(struct control *c, uid_t uid, gid_t gid, struct caller *who)
{
	struct passwd	 pw, *res = NULL;
	char		 buf[4096];
	int64_t		 now = mono_ms();
	int		 i;

	memset(who, 0, sizeof(*who));
	/*
	 * An account opening connections by the thousand would cost a
	 * passwd and a group lookup each: the answer is kept a few seconds.
	 */
	for (i = 0; i < CONTROL_CALLERS_CACHED; i++)
		if (c->callers[i].until > now &&
		    c->callers[i].who.uid == uid) {
			*who = c->callers[i].who;
			return;
		}
	who->uid = uid;
	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) == 0 &&
	    res != NULL) {
		snprintf(who->name, sizeof(who->name), "%s", pw.pw_name);
		gid = pw.pw_gid;
	}
	who->role = control_role(c, uid, who->name, gid);
	if (who->name[0] == '\0')
		snprintf(who->name, sizeof(who->name), "uid %u",
		    (unsigned)uid);
	i = c->callers_next++ % CONTROL_CALLERS_CACHED;
	c->callers[i].who = *who;
	c->callers[i].until = now + CONTROL_CALLER_TTL_MS;
}

/* Who is at the other end of FD, and what the rules let that account do. */
static int
control_peer(struct control *c, int fd, struct caller *who)
{
	struct ucred	 cred;
	socklen_t	 len = sizeof(cred);

	memset(who, 0, sizeof(*who));
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1)
		return -1;
	control_uid(c, cred.uid, cred.gid, who);
	return 0;
}

static struct conn *
control_conn_find(struct control *c, const struct evhttp_connection *evcon)
{
	struct conn	*cn;

	TAILQ_FOREACH(cn, &c->conns, entry)
		if (cn->evcon == evcon)
			return cn;
	return NULL;
}

/* The caller of REQ, as judged when its connection was accepted. */
static int
control_caller(struct control *c, struct evhttp_request *req,
    struct caller *who)
{
	struct evhttp_connection	*conn;
	struct bufferevent		*bev;
	struct conn			*cn;

	if ((conn = evhttp_request_get_connection(req)) == NULL)
		return -1;
	if ((cn = control_conn_find(c, conn)) != NULL) {
		cn->handled = 1;
		event_del(cn->deadline);
		*who = cn->who;
		return 0;
	}
	/* Not judged yet (it cannot happen on one loop): ask the kernel. */
	if ((bev = evhttp_connection_get_bufferevent(conn)) == NULL)
		return -1;
	return control_peer(c, bufferevent_getfd(bev), who);
}

/* ------------------------------------------------------------ connections */

/*
 * Why a connection was dropped, at most one line every
 * CONTROL_LOG_EVERY_S: a caller opening thousands must not fill the
 * journal.
 */
static void
control_refused(struct control *c, const struct caller *who, const char *why)
{
	char	 more[96] = "";
	int64_t	 now = mono_ms();

	if (c->refused_log_at != 0 &&
	    now - c->refused_log_at < CONTROL_LOG_EVERY_S * INT64_C(1000)) {
		c->refused++;
		return;
	}
	if (c->refused > 0)
		snprintf(more, sizeof(more), " (and %llu more refused in the "
		    "last %lld s)", (unsigned long long)c->refused,
		    (long long)(now - c->refused_log_at) / 1000);
	if (who->name[0] != '\0')
		log_info("control: refused %s (uid %u): %s%s", who->name,
		    (unsigned)who->uid, why, more);
	else
		log_info("control: refused a connection: %s%s", why, more);
	c->refused_log_at = now;
	c->refused = 0;
}

/* evhttp frees the connection: forget it. */
static void
control_conn_closed(struct evhttp_connection *evcon, void *arg)
{
	struct conn	*cn = arg;
	struct control	*c = cn->control;

	(void)evcon;
	TAILQ_REMOVE(&c->conns, cn, entry);
	if (cn->counted)
		c->nconns--;
	if (cn->outcb != NULL)
		evbuffer_remove_cb_entry(bufferevent_get_output(cn->bev),
		    cn->outcb);
	if (cn->deadline != NULL)
		event_free(cn->deadline);
	free(cn);
}

static void
control_deadline_cb(evutil_socket_t fd, short events, void *arg)
{
	struct conn	*cn = arg;

	(void)fd;
	(void)events;
	if (cn->handled)
		return;
	control_refused(cn->control, &cn->who, "no complete request within "
	    CONTROL_READ_S_TEXT " s of connecting");
	evhttp_connection_free(cn->evcon);	/* calls control_conn_closed */
}

/*
 * Something is written to a connection whose request never reached
 * control_request_cb: evhttp answers by itself (a request line it cannot
 * parse, headers or a body over its limits).  Its answer is an HTML page;
 * control_rewrite_cb replaces it with JSON before the socket is written,
 * which only happens after the loop polls again.
 */
static void
control_out_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct conn	*cn = arg;

	(void)buf;
	if (info->n_added == 0 || cn->handled || cn->rewrite)
		return;
	cn->rewrite = 1;
	event_active(cn->control->rewrite, EV_TIMEOUT, 0);
}

static void
control_conn_rewrite(struct conn *cn)
{
	struct evbuffer	*out = bufferevent_get_output(cn->bev);
	const char	*msg;
	char		 line[64], body[256];
	ev_ssize_t	 n;
	int		 status;

	if ((n = evbuffer_copyout(out, line, sizeof(line) - 1)) < 0)
		return;
	line[n] = '\0';
	if (sscanf(line, "HTTP/1.%*d %d", &status) != 1)
		return;
	if (status < 200) {
		/* "100 Continue": the request goes on, and may reach us. */
		cn->rewrite = 0;
		return;
	}
	switch (status) {
	case 400:
		msg = "malformed request: the request line or a header "
		    "cannot be parsed";
		break;
	case 413:
		msg = "the request is too large (headers at most 16384 "
		    "bytes, a body at most 65536)";
		break;
	case 405:
	case 501:
		msg = "method not implemented: GET to read, POST to act";
		break;
	default:
		msg = "the request cannot be served";
		break;
	}
	cn->handled = 1;
	event_del(cn->deadline);
	snprintf(body, sizeof(body), "{\"error\":\"%s\"}\n", msg);
	evbuffer_drain(out, evbuffer_get_length(out));
	evbuffer_add_printf(out, "HTTP/1.1 %d Error\r\nContent-Type: "
	    "application/json; charset=utf-8\r\nConnection: close\r\n"
	    "Content-Length: %zu\r\n\r\n%s", status, strlen(body), body);
}

static void
control_rewrite_cb(evutil_socket_t fd, short events, void *arg)
{
	struct control	*c = arg;
	struct conn	*cn;

	(void)fd;
	(void)events;
	TAILQ_FOREACH(cn, &c->conns, entry)
		if (cn->rewrite && !cn->handled)
			control_conn_rewrite(cn);
}

/*
 * How a connection reaches us before evhttp reads from it.  libevent
 * 2.1 has no hook between its accept and the connection's first read
 * (2.2's evhttp_set_newreqcb), and evhttp cannot be handed a socket
 * accepted elsewhere.  But it asks evhttp_set_bevcb's callback for each
 * connection's bufferevent, and sets the socket on it and its callbacks
 * (whose argument is the evhttp_connection) before returning to the loop.
 * The callback queues the bufferevent and activates control_judge_cb,
 * which runs in the same pass over the active events, before the loop
 * polls again and so before any read: there the connection is judged
 * with its descriptor, and dropped with evhttp_connection_free.
 */
static struct bufferevent *
control_bev_cb(struct event_base *base, void *arg)
{
	struct control	*c = arg;
	struct conn	*cn;

	cn = xcalloc(1, sizeof(*cn));
	cn->control = c;
	if ((cn->bev = bufferevent_socket_new(base, -1,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL)
		fatalx("control: bufferevent_socket_new");
	TAILQ_INSERT_TAIL(&c->fresh, cn, entry);
	event_active(c->judge, EV_TIMEOUT, 0);
	if (++c->nfresh >= CONTROL_ACCEPT_BATCH && !c->batch_paused) {
		/* The listener stops after this one; judge_cb resumes it. */
		evconnlistener_disable(c->lev);
		c->batch_paused = 1;
	}
	return cn->bev;
}

/*
 * Tell a refused caller why, without reading its request: one write into
 * an empty socket buffer, never waited for.  A client that sends before
 * it reads may see only the connection close.
 */
static void
control_refuse_reply(int fd, const struct caller *who, const char *why)
{
	json_t	*obj;
	char	 msg[256], head[160], *text;
	int	 status = who->role == ROLE_NONE && who->name[0] != '\0' ?
		    403 : 503, len;

	if (status == 403)
		snprintf(msg, sizeof(msg), "%s has no role on this daemon (see "
		    "the rules' role lines)", who->name);
	else
		snprintf(msg, sizeof(msg), "rtowatchd refuses connections "
		    "for now: %s", why);
	obj = json_pack("{s:o}", "error", control_text(msg));
	text = json_dumps(obj, JSON_COMPACT);
	json_decref(obj);
	if (text == NULL)
		return;
	len = snprintf(head, sizeof(head), "HTTP/1.1 %d Error\r\n"
	    "Content-Type: application/json; charset=utf-8\r\n"
	    "Connection: close\r\nContent-Length: %zu\r\n\r\n", status,
	    strlen(text) + 1);
	if (len > 0 && (size_t)len < sizeof(head) &&
	    send(fd, head, (size_t)len, MSG_NOSIGNAL | MSG_DONTWAIT) == len &&
	    send(fd, text, strlen(text), MSG_NOSIGNAL | MSG_DONTWAIT) != -1)
		(void)send(fd, "\n", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	free(text);
}

static int
control_uid_conns(struct control *c, uid_t uid)
{
	struct conn	*cn;
	int		 n = 0;

	TAILQ_FOREACH(cn, &c->conns, entry)
		if (cn->counted && cn->who.uid == uid)
			n++;
	return n;
}

static void
control_judge(struct control *c, struct conn *cn)
{
	struct timeval	 tv = { CONTROL_READ_S, 0 };
	const char	*why = NULL;
	void		*arg = NULL;
	rlim_t		 reserve;
	int		 fd;

	bufferevent_getcb(cn->bev, NULL, NULL, NULL, &arg);
	fd = bufferevent_getfd(cn->bev);
	if (arg == NULL || fd == -1 ||
	    evhttp_connection_get_bufferevent(arg) != cn->bev) {
		/* Not set up as described above: leave it to evhttp. */
		log_warnx("control: a connection cannot be judged");
		free(cn);
		return;
	}
	cn->evcon = arg;
	evhttp_connection_set_closecb(cn->evcon, control_conn_closed, cn);
	TAILQ_INSERT_TAIL(&c->conns, cn, entry);

	/*
	 * accept(2) returns the lowest free descriptor: FD or more are in
	 * use, so fewer than the limit minus FD are free.
	 */
	reserve = c->fd_limit / 4;
	if (reserve < CONTROL_FD_RESERVE_MIN)
		reserve = CONTROL_FD_RESERVE_MIN;
	if ((rlim_t)fd + reserve >= c->fd_limit)
		why = "file descriptors are kept for the probes";
	else if (control_peer(c, fd, &cn->who) == -1)
		why = "cannot tell who is calling";
	else if (cn->who.role == ROLE_NONE)
		why = "no role (see the rules' role lines)";
	else if (c->nconns >= CONTROL_MAX_CONNS)
		why = "too many connections";
	else if (control_uid_conns(c, cn->who.uid) >= CONTROL_MAX_PER_UID)
		why = "too many connections from this account";
	if (why != NULL) {
		control_refused(c, &cn->who, why);
		control_refuse_reply(fd, &cn->who, why);
		evhttp_connection_free(cn->evcon);	/* frees CN */
		return;
	}
	cn->counted = 1;
	c->nconns++;
	if ((cn->deadline = evtimer_new(c->base, control_deadline_cb,
	    cn)) == NULL)
		fatalx("control: evtimer_new");
	evtimer_add(cn->deadline, &tv);
	cn->outcb = evbuffer_add_cb(bufferevent_get_output(cn->bev),
	    control_out_cb, cn);
}

static void
control_judge_cb(evutil_socket_t fd, short events, void *arg)
{
	struct control	*c = arg;
	struct conn	*cn;

	(void)fd;
	(void)events;
	while ((cn = TAILQ_FIRST(&c->fresh)) != NULL) {
		TAILQ_REMOVE(&c->fresh, cn, entry);
		control_judge(c, cn);
	}
	c->nfresh = 0;
	if (c->batch_paused) {
		/* Polled again on the next turn, after what else is due. */
		c->batch_paused = 0;
		if (!evtimer_pending(c->resume, NULL))
			evconnlistener_enable(c->lev);
	}
}

/*
 * accept(2) failed for want of descriptors (or memory): the socket stays
 * readable, so the listener would spin.  Stop it for a second, and say
 * so once a minute at most.
 */
static void
control_accept_error_cb(struct evconnlistener *lev, void *arg)
{
	struct control	*c = control_listening;
	struct timeval	 tv = { CONTROL_ACCEPT_PAUSE_S, 0 };
	int		 err = EVUTIL_SOCKET_ERROR();
	int64_t		 now = mono_ms();

	(void)arg;	/* evhttp's, not ours: see control_listening */
	evconnlistener_disable(lev);
	evtimer_add(c->resume, &tv);
	c->accept_failed++;
	if (c->accept_log_at != 0 && now - c->accept_log_at < 60000)
		return;
	log_warnx("control: cannot accept a connection: %s; pausing the "
	    "control socket for %d s at a time (%llu pauses)", strerror(err),
	    CONTROL_ACCEPT_PAUSE_S, (unsigned long long)c->accept_failed);
	c->accept_log_at = now;
	c->accept_failed = 0;
}

static void
control_resume_cb(evutil_socket_t fd, short events, void *arg)
{
	struct control	*c = arg;

	(void)fd;
	(void)events;
	evconnlistener_enable(c->lev);
}

/* ------------------------------------------------------------ queries */

/*
 * The members of an INCIDENT (include/record.h's table, in its order) and
 * a WARNING (docs/control-api.md, the README's key table), named: a
 * column a migration adds is not in the API until it is added there and
 * documented.
 */
#define CONTROL_WARNING_COLUMNS \
	"id, source, reference, system, summary, detail, opened_at," \
	" opened_by, ended_at, state, answered_at, answered_by, reason," \
	" incident_id"

static void
control_status_check(json_t *checks, const struct engine_check_status *cs)
{
	char	 at[TIME_STRLEN];

	json_array_append_new(checks, json_pack("{s:o, s:s?, s:o, s:s?, s:o, "
	    "s:i, s:b}", "check", control_text(cs->desc), "result", cs->result,
	    "detail", control_text(cs->detail),
	    "at", cs->at != 0 ? time_fmt(cs->at, at, sizeof(at)) : NULL,
	    "rtt_ms", cs->rtt_ms >= 0 ? json_integer(cs->rtt_ms) : json_null(),
	    "failures", cs->failures, "down", cs->down));
}

static int
control_status_system(const struct engine_system_status *s, void *arg)
{
	json_t	*checks, *sys, *vantage;
	char	 since[TIME_STRLEN];
	size_t	 n;
	int	 i;

	checks = json_array();
	for (i = 0; i < s->nchecks; i++)
		control_status_check(checks, &s->checks[i]);
	sys = json_pack("{s:o, s:s, s:s?, s:o, s:o}", "name",
	    control_text(s->name), "state",
	    s->state, "since", s->since != 0 ? time_fmt(s->since, since,
	    sizeof(since)) : NULL, "incident", s->incident != 0 ?
	    json_integer(s->incident) : json_null(), "checks", checks);
	/* Assigned to some nodes only ("vantage points"), and whether here. */
	json_object_set_new(sys, "probed_here", json_boolean(s->here));
	if (s->nvantage > 0) {
		vantage = json_array();
		for (n = 0; n < s->nvantage; n++)
			json_array_append_new(vantage,
			    control_text(s->vantage[n]));
		json_object_set_new(sys, "vantage_points", vantage);
	}
	if (s->incident != 0) {
		json_object_set_new(sys, "level", json_integer(s->level));
		json_object_set_new(sys, "major", json_boolean(s->major));
		json_object_set_new(sys, "attached",
		    json_boolean(s->attached));
	}
	json_array_append_new(arg, sys);
	return 0;
}

static int
control_status_traffic(const struct capture_status *st, void *arg)
{
	json_array_append_new(arg, json_pack("{s:o, s:o, s:f, s:f, s:I, s:I, "
	    "s:i, s:s?}", "name", control_text(st->name), "interface",
	    control_text(st->interface), "packets_per_s", st->packets_per_s,
	    "bytes_per_s", st->bytes_per_s, "packets",
	    (json_int_t)st->packets, "dropped", (json_int_t)st->dropped,
	    "open_episodes", st->episodes, "error", st->error));
	return 0;
}

/* Whether the database accepts writes, and what waits if it does not. */
static json_t *
control_status_store(struct control *c)
{
	struct store_health	 h;
	char			 t[TIME_STRLEN];

	store_health(c->store, &h);
	return json_pack("{sb so sI sI sI si so sb so}",
	    "failing", h.failing,
	    "since", h.since != 0 ? json_string(time_fmt(h.since, t,
	    sizeof(t))) : json_null(),
	    "for_ms", (json_int_t)h.for_ms,
	    "held", (json_int_t)h.held,
	    "held_bytes", (json_int_t)h.held_bytes,
	    "refused", (int)h.refused,
	    "error", h.failing && h.error[0] != '\0' ?
	    control_text(h.error) : json_null(),
	    "alerted", h.alerted,
	    "oldest_held_at", h.oldest_at != 0 ? json_string(time_fmt(
	    h.oldest_at, t, sizeof(t))) : json_null());
}

/* What this node is now: the store writes only while it leads. */
static const char *
control_node_role(const struct control *c)
{
	if (store_leading(c->store))
		return "leader";
	return c->may_lead ? "standby" : "observer";
}

/*
 * One node's latest view of one check (store_observations_latest), into
 * the object of every node's views, by node name.
 */
static int
control_status_view(const struct store_observation *o, void *arg)
{
	json_t	*views, *list;
	char	 at[TIME_STRLEN];

	views = arg;
	if ((list = json_object_get(views, o->node)) == NULL) {
		list = json_array();
		json_object_set_new(views, o->node, list);
	}
	json_array_append_new(list, json_pack("{ss ss ss ss so}", "system",
	    o->system, "check", o->check, "state", o->down ? "down" : "up",
	    "since", time_fmt(o->at, at, sizeof(at)), "cause",
	    control_text(o->cause)));
	return 0;
}

struct control_status_nodes {
	json_t		*nodes;
	json_t		*views;		/* control_status_view's */
};

/*
 * One row of the nodes table (lead.c), how long it has been silent, and
 * its views of the checks.
 */
static int
control_status_node(const char *name, const char *role, int64_t started,
    int64_t last, const char *version, void *arg)
{
	struct control_status_nodes	*sn = arg;
	json_t				*views;
	char				 s[TIME_STRLEN], l[TIME_STRLEN];
	int64_t				 age = wall_ms() - last;

	if ((views = json_object_get(sn->views, name)) != NULL)
		json_incref(views);
	else
		views = json_array();
	json_array_append_new(sn->nodes, json_pack("{ss ss ss ss ss sI so}",
	    "name", name, "role", role, "started", time_fmt(started, s,
	    sizeof(s)), "last_contact", time_fmt(last, l, sizeof(l)),
	    "version", version, "silent_ms", (json_int_t)(age > 0 ? age : 0),
	    "views", views));
	return 0;
}

static void
control_status(struct control *c, struct evhttp_request *req,
    const struct control_call *a)
{
	struct control_status_nodes	 sn;
	json_t	*nodes;
	struct monitor_host_status	 hs;
	json_t	*systems, *outbox = NULL, *open, *traffic, *host;
	char	 since[TIME_STRLEN], last[TIME_STRLEN];

	(void)a;
	systems = json_array();
	engine_status(c->engine, control_status_system, systems);
	traffic = json_array();
	if (c->capture != NULL)
		capture_status(c->capture, control_status_traffic, traffic);
	store_select(c->store, "SELECT"
	    " coalesce(sum(CASE WHEN state = 'queued' THEN 1 END), 0)"
	    "  AS queued,"
	    " coalesce(sum(CASE WHEN state = 'queued' AND attempts > 0"
	    "  THEN 1 END), 0) AS failing,"
	    " coalesce(sum(CASE WHEN state = 'failed' THEN 1 END), 0)"
	    "  AS failed,"
	    " min(CASE WHEN state = 'queued' THEN created_at END)"
	    "  AS oldest_queued_at"
	    " FROM notifications", 0, NULL, control_row_set, &outbox);
	sn.nodes = nodes = json_array();
	sn.views = json_object();
	if (store_observations_latest(c->store, control_status_view,
	    sn.views) == -1)
		log_warnx("status: cannot read the nodes' views");
	if (store_nodes(c->store, control_status_node, &sn) == -1)
		log_warnx("status: cannot read the nodes table");
	json_decref(sn.views);
	open = control_rows(c, "SELECT c.incident_id AS incident, c.kind,"
	    " c.level, c.due_at, c.breached_at, i.system,"
	    " i.kind = 'drill' AS drill"
	    " FROM clocks c JOIN incidents i ON i.id = c.incident_id"
	    " WHERE c.stopped_at IS NULL ORDER BY c.due_at", 0, NULL);
	if (outbox == NULL || open == NULL) {
		json_decref(systems);
		json_decref(traffic);
		json_decref(outbox);
		json_decref(open);
		json_decref(nodes);
		control_read_error(c, req);
		return;
	}
	monitor_host_status(&hs);
	host = json_pack("{s:b, s:s?, s:I, s:I, s:s?, s:o}", "failing",
	    hs.failing, "since", hs.since != 0 ? time_fmt(hs.since, since,
	    sizeof(since)) : NULL, "failures", (json_int_t)hs.episode,
	    "local_errors", (json_int_t)hs.total, "last_error_at",
	    hs.last_at != 0 ? time_fmt(hs.last_at, last, sizeof(last)) :
	    NULL, "last_error", hs.last != NULL ? control_text(hs.last) :
	    json_null());
	control_reply(req, 200, json_pack("{so so so so si so so s{ss ss} so}",
	    "systems", systems, "deadlines", open, "outbox", outbox,
	    "traffic", traffic, "event_clients", c->nwaiters, "store",
	    control_status_store(c), "host", host, "node", "name", c->node,
	    "role", control_node_role(c), "nodes", nodes));
}

static void
control_incidents(struct control *c, struct evhttp_request *req,
    const struct control_call *a)
{
	const char	*status = evhttp_find_header(a->query, "status");
	json_t		*rows;
	char		*sql;

	if (status != NULL && strcmp(status, "open") != 0 &&
	    strcmp(status, "restored") != 0 && strcmp(status, "closed") != 0) {
		control_error(req, 400, "status is open, restored or closed");
		return;
	}
	xasprintf(&sql, "SELECT %s FROM incidents%s ORDER BY id",
	    record_columns(), status != NULL ? " WHERE status = ?" : "");
	rows = control_rows(c, sql, status != NULL ? 1 : 0, &status);
	free(sql);
	if (rows == NULL) {
		control_read_error(c, req);
		return;
	}
	control_reply(req, 200, json_pack("{so}", "incidents", rows));
}

static void
control_incident(struct control *c, struct evhttp_request *req,
    const struct control_call *a)
{
	json_t		*inc = NULL, *tl, *clocks, *scope, *notes;
	json_t		*contacts;
	char		 num[24], *sql;
	const char	*id = num;
	int		 rc;

	snprintf(num, sizeof(num), "%lld", (long long)a->id);

	xasprintf(&sql, "SELECT %s FROM incidents WHERE id = ?",
	    record_columns());
	rc = store_select(c->store, sql, 1, &id, control_row_set, &inc);
	free(sql);
	if (rc == -1) {
		control_read_error(c, req);
		return;
	}
	if (inc == NULL) {
		control_error(req, 404, "no incident %s", id);
		return;
	}
	tl = control_rows(c, "SELECT id, at, event, actor, detail, hash"
	    " FROM timeline WHERE incident_id = ? ORDER BY id", 1, &id);
	clocks = control_rows(c, "SELECT kind, level, started_at, due_at,"
	    " reminders_done, breached_at, stopped_at, stopped_by"
	    " FROM clocks WHERE incident_id = ? ORDER BY id", 1, &id);
	scope = control_rows(c, "SELECT system, started_at, ended_at"
	    " FROM incident_scope WHERE incident_id = ? ORDER BY id", 1, &id);
	/* Webhooks share the outbox: channel says which a row is. */
	notes = control_rows(c, "SELECT id, channel, recipient, event, state,"
	    " attempts, created_at, sent_at, last_error, address"
	    " FROM notifications WHERE incident_id = ? ORDER BY id", 1, &id);
	contacts = control_rows(c, "SELECT id, at, entered_at, recipient,"
	    " channel, made_by, note, offline FROM contacts"
	    " WHERE incident_id = ? ORDER BY at, id", 1, &id);
	if (tl == NULL || clocks == NULL || scope == NULL || notes == NULL ||
	    contacts == NULL) {
		json_decref(inc);
		json_decref(tl);
		json_decref(clocks);
		json_decref(scope);
		json_decref(notes);
		json_decref(contacts);
		control_read_error(c, req);
		return;
	}
	json_object_set_new(inc, "timeline", tl);
	json_object_set_new(inc, "clocks", clocks);
	json_object_set_new(inc, "affected", scope);
	json_object_set_new(inc, "notifications", notes);
	json_object_set_new(inc, "contacts", contacts);
	control_reply(req, 200, inc);
}

static void
control_warnings(struct control *c, struct evhttp_request *req,
    const struct control_call *a)
{
	const char	*state = evhttp_find_header(a->query, "state");
	json_t		*rows;

	if (state != NULL)
		rows = control_rows(c, "SELECT " CONTROL_WARNING_COLUMNS
		    " FROM warnings WHERE state = ? ORDER BY id", 1,
		    &state);
	else
		rows = control_rows(c, "SELECT " CONTROL_WARNING_COLUMNS
		    " FROM warnings ORDER BY id", 0, NULL);
	if (rows == NULL) {
		control_read_error(c, req);
		return;
	}
	control_reply(req, 200, json_pack("{so}", "warnings", rows));
}

/* ------------------------------------------------------------ history */

static int	control_number(const char *, long long, long long,
		    long long *);

#define CONTROL_HISTORY_SLOTS	96	/* a point a quarter of an hour */
#define CONTROL_HISTORY_MAX_H	168

/*
 * The response-time history of the last HOURS (24 unless asked), every
 * check's or one SYSTEM's, added up into CONTROL_HISTORY_SLOTS slots of
 * equal length: what a chart of a day draws, 96 points a check whatever
 * the buckets were, so that the reply and the page stay small.  SINCE
 * (Unix s) leaves out the slots before it: what a reader that has the
 * older ones asks for.  Each check's rows are read by the table's key,
 * (check_id, span, at), the checks the outer loop (CROSS JOIN keeps
 * SQLite to that order; it would rather scan the history), the spans
 * named: the buckets of these rules and the default minute and hour
 * (those written before a change of history-bucket).
 */
#define CONTROL_HISTORY_SQL \
	"SELECT c.system, c.name AS \"check\"," \
	" h.at / ?1 * ?1 AS at, sum(h.ok) AS ok, sum(h.failed) AS failed," \
	" min(h.rtt_min) AS rtt_min," \
	" sum(h.rtt_sum) / nullif(sum(h.ok), 0) AS rtt_avg," \
	" max(h.rtt_max) AS rtt_max" \
	" FROM response_checks c CROSS JOIN response_history h" \
	" ON h.check_id = c.id" \
	" AND h.span IN (CAST(?3 AS INTEGER), CAST(?4 AS INTEGER), 60, 3600)" \
	" AND h.at >= CAST(?2 AS INTEGER)"
#define CONTROL_HISTORY_ORDER \
	" GROUP BY c.id, 3 ORDER BY c.system, c.name, 3"

static void
control_history(struct control *c, struct evhttp_request *req,
    const struct control_call *a)
{
	const char	*hours_s = evhttp_find_header(a->query, "hours");
	const char	*since_s = evhttp_find_header(a->query, "since");
	const char	*system = evhttp_find_header(a->query, "system");
	char		 slot_s[24], from_s[24], short_s[24], long_s[24];
	const char	*args[5] = { slot_s, from_s, short_s, long_s, system };
	long long	 hours = 24, since = 0;
	int64_t		 slot, from;
	json_t		*rows;

	if (hours_s != NULL && control_number(hours_s, 1,
	    CONTROL_HISTORY_MAX_H, &hours) == -1) {
		control_error(req, 400, "hours is a number from 1 to %d",
		    CONTROL_HISTORY_MAX_H);
		return;
	}
	if (since_s != NULL && control_number(since_s, 0, INT64_MAX / 2,
	    &since) == -1) {
		control_error(req, 400, "since is a time in Unix seconds");
		return;
	}
	slot = (int64_t)hours * 3600 / CONTROL_HISTORY_SLOTS;
	from = (wall_ms() / 1000 / slot - (CONTROL_HISTORY_SLOTS - 1)) * slot;
	snprintf(slot_s, sizeof(slot_s), "%lld", (long long)slot);
	/* A slot is read whole: from the start of SINCE's. */
	snprintf(from_s, sizeof(from_s), "%lld", (long long)(since > from ?
	    since / slot * slot : from));
	snprintf(short_s, sizeof(short_s), "%lld", (long long)c->hist_short);
	snprintf(long_s, sizeof(long_s), "%lld", (long long)c->hist_long);
	if (system != NULL)
		rows = control_rows(c, CONTROL_HISTORY_SQL " WHERE c.system = ?5"
		    CONTROL_HISTORY_ORDER, 5, args);
	else
		rows = control_rows(c, CONTROL_HISTORY_SQL
		    CONTROL_HISTORY_ORDER, 4, args);
	if (rows == NULL) {
		control_read_error(c, req);
		return;
	}
	control_reply(req, 200, json_pack("{sIsIso}", "from", (json_int_t)from,
	    "slot", (json_int_t)slot, "history", rows));
}

/* ------------------------------------------------------------- events */

#define CONTROL_EVENTS_SQL \
	"SELECT t.id, t.at, t.event, t.actor, t.detail," \
	" t.incident_id AS incident, t.warning_id AS warning," \
	" coalesce(i.system, w.system) AS system, i.level, i.major," \
	" i.kind" \
	" FROM timeline t" \
	" LEFT JOIN incidents i ON i.id = t.incident_id" \
	" LEFT JOIN warnings w ON w.id = t.warning_id" \
	" WHERE t.id > ? ORDER BY t.id LIMIT 500"

/* The events after AFTER, or NULL if the store failed. */
static json_t *
control_events_after(struct control *c, int64_t after, int64_t *last)
{
	json_t		*rows, *ev;
	char		 num[24];
	const char	*arg = num;
	size_t		 n;

	snprintf(num, sizeof(num), "%lld", (long long)after);
	if ((rows = control_rows(c, CONTROL_EVENTS_SQL, 1, &arg)) == NULL)
		return NULL;
	*last = after;
	if ((n = json_array_size(rows)) > 0) {
		ev = json_array_get(rows, n - 1);
		*last = json_integer_value(json_object_get(ev, "id"));
	}
	return rows;
}

static void
control_events_reply(struct evhttp_request *req, json_t *rows, int64_t last)
{
	control_reply(req, 200, json_pack("{so sI}", "events", rows, "last",
	    (json_int_t)last));
}

static void
control_waiter_free(struct waiter *w)
{
	TAILQ_REMOVE(&w->control->waiters, w, entry);
	w->control->nwaiters--;
	event_free(w->timer);
	free(w);
}

static void
control_waiter_timeout_cb(evutil_socket_t fd, short events, void *arg)
{
	struct waiter	*w = arg;

	(void)fd;
	(void)events;
	control_events_reply(w->req, json_array(), w->after);
	control_waiter_free(w);
}

/* The store committed new timeline rows: answer whoever waits. */
static void
control_wake_cb(evutil_socket_t fd, short events, void *arg)
{
	struct control	*c = arg;
	struct waiter	*w, *next;
	json_t		*rows;
	int64_t		 last;

	(void)fd;
	(void)events;
	for (w = TAILQ_FIRST(&c->waiters); w != NULL; w = next) {
		next = TAILQ_NEXT(w, entry);
		if ((rows = control_events_after(c, w->after, &last)) == NULL)
			continue;
		if (json_array_size(rows) == 0) {
			json_decref(rows);
			continue;
		}
		control_events_reply(w->req, rows, last);
		control_waiter_free(w);
	}
	if (c->follow != NULL)
		c->follow(c->follow_arg);
}

/*
 * The store has refused writes for store-alert-after: whoever follows the
 * event stream (rtowatch-notify) is told now.  The alert cannot wait for
 * a timeline row, which is what failing, so it goes as a transient event
 * that has no id and does not move the stream's cursor.
 */
static void
control_store_alert(const char *msg, void *arg)
{
	struct control	*c = arg;
	char		 t[TIME_STRLEN];
	json_t		*ev;

	if (c->follow_alert != NULL)
		c->follow_alert(msg, c->follow_arg);
	while (!TAILQ_EMPTY(&c->waiters)) {
		ev = json_pack("{sb ss ss ss so}", "transient", 1, "at",
		    time_fmt(wall_ms(), t, sizeof(t)), "event",
		    "store failing", "actor", "rtowatchd", "detail",
		    control_text(msg));
		control_events_reply(TAILQ_FIRST(&c->waiters)->req,
		    json_pack("[o]", ev), TAILQ_FIRST(&c->waiters)->after);
		control_waiter_free(TAILQ_FIRST(&c->waiters));
	}
}

static void
control_committed(void *arg)
{
	struct control	*c = arg;

	/* Not from inside the writer's call chain: on the next loop turn. */
	if (c->nwaiters > 0 || c->follow != NULL)
		event_active(c->wake, EV_TIMEOUT, 0);
}

static int
control_number(const char *s, long long min, long long max, long long *out)
{
	char	*end;

	if (s == NULL || *s == '\0')
		return -1;
	errno = 0;
	*out = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || *out < min || *out > max)
		return -1;
	return 0;
}

static void
control_events(struct control *c, struct evhttp_request *req,
    const struct control_call *a)
{
	const char	*after_s = evhttp_find_header(a->query, "after");
	const char	*wait_s = evhttp_find_header(a->query, "wait");
	struct timeval	 tv;
	struct waiter	*w;
	long long	 after, wait = 0;
	int64_t		 last;
	json_t		*rows;

	if (after_s == NULL) {
		if ((last = store_timeline_last(c->store)) == -1)
			control_read_error(c, req);
		else
			control_events_reply(req, json_array(), last);
		return;
	}
	if (control_number(after_s, 0, INT64_MAX, &after) == -1 ||
	    (wait_s != NULL && control_number(wait_s, 0, CONTROL_MAX_WAIT_S,
	    &wait) == -1)) {
		control_error(req, 400, "after is an event id, wait 0 to %d "
		    "seconds", CONTROL_MAX_WAIT_S);
		return;
	}
	if ((rows = control_events_after(c, after, &last)) == NULL) {
		control_read_error(c, req);
		return;
	}
	if (json_array_size(rows) > 0 || wait == 0) {
		control_events_reply(req, rows, last);
		return;
	}
	if (c->nwaiters >= CONTROL_MAX_WAITERS) {
		/*
		 * Not an empty answer at once: a client would ask again at
		 * once, and again.  Busy, and when to come back.
		 */
		json_decref(rows);
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Retry-After", CONTROL_RETRY_AFTER);
		control_error(req, 503, "%d clients are waiting for events "
		    "already; try again in %s s", CONTROL_MAX_WAITERS,
		    CONTROL_RETRY_AFTER);
		return;
	}
	json_decref(rows);
	w = xcalloc(1, sizeof(*w));
	w->control = c;
	w->req = req;
	w->after = after;
	if ((w->timer = evtimer_new(c->base, control_waiter_timeout_cb,
	    w)) == NULL)
		fatalx("control: evtimer_new");
	tv.tv_sec = wait;
	tv.tv_usec = 0;
	evtimer_add(w->timer, &tv);
	TAILQ_INSERT_TAIL(&c->waiters, w, entry);
	c->nwaiters++;
}

/* ------------------------------------------------------------ actions */

/* The request's body as a JSON object, or NULL after replying. */
static json_t *
control_body(struct evhttp_request *req)
{
	struct evbuffer	*in = evhttp_request_get_input_buffer(req);
	json_error_t	 err;
	json_t		*obj;
	size_t		 len = evbuffer_get_length(in);

	if (len > CONTROL_MAX_BODY) {
		control_error(req, 413, "the request body is %zu bytes; at "
		    "most %d are accepted", len, CONTROL_MAX_BODY);
		return NULL;
	}
	if (len == 0)
		return json_object();
	obj = json_loadb((const char *)evbuffer_pullup(in, -1), len,
	    JSON_REJECT_DUPLICATES, &err);
	if (obj == NULL) {
		control_error(req, 400, "malformed JSON at line %d, column "
		    "%d: %s", err.line, err.column, err.text);
		return NULL;
	}
	if (!json_is_object(obj)) {
		json_decref(obj);
		control_error(req, 400, "the body must be a JSON object");
		return NULL;
	}
	return obj;
}

/*
 * Member NAME of BODY as a string: NULL when absent; -1 (and a reply)
 * when present with another type.
 */
static int
control_str(struct evhttp_request *req, json_t *body, const char *name,
    const char **out)
{
	json_t	*v = json_object_get(body, name);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v)) {
		control_error(req, 400, "\"%s\" must be a string", name);
		return -1;
	}
	*out = json_string_value(v);
	if (strlen(*out) != json_string_length(v)) {
		control_error(req, 400, "\"%s\" contains a NUL byte", name);
		return -1;
	}
	return 0;
}

static int
control_int(struct evhttp_request *req, json_t *body, const char *name,
    int *out)
{
	json_t	*v = json_object_get(body, name);

	*out = 0;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 1 ||
	    json_integer_value(v) > 4) {
		control_error(req, 400, "\"%s\" must be a level, 1 to 4",
		    name);
		return -1;
	}
	*out = (int)json_integer_value(v);
	return 0;
}

/* Only the members an action knows: a typo must not pass silently. */
static int
control_members(struct evhttp_request *req, json_t *body,
    const char *const *known)
{
	const char	*key;
	json_t		*v;
	int		 i;

	json_object_foreach(body, key, v) {
		for (i = 0; known[i] != NULL; i++)
			if (strcmp(key, known[i]) == 0)
				break;
		if (known[i] == NULL) {
			control_error(req, 400, "unknown member \"%s\"", key);
			return -1;
		}
	}
	return 0;
}

static int
control_time(struct evhttp_request *req, const char *name, const char *s,
    int64_t *t)
{
	*t = 0;
	if (s == NULL)
		return 0;
	if (time_parse(s, t) == -1) {
		control_error(req, 400, "\"%s\" is not a UTC time like "
		    "2026-11-26T01:02:03.000Z", name);
		return -1;
	}
	return 0;
}

static void
control_result(struct evhttp_request *req, const struct wf_result *r)
{
	json_t	*obj, *missing;
	int	 i;

	if (r->status != WF_OK) {
		obj = json_pack("{so}", "error", control_text(r->error));
		if (r->nmissing > 0) {
			missing = json_array();
			for (i = 0; i < r->nmissing; i++)
				json_array_append_new(missing,
				    json_string(r->missing[i]));
			json_object_set_new(obj, "missing", missing);
		}
		control_reply(req, r->status, obj);
		return;
	}
	obj = json_pack("{sb sI}", "ok", 1, "event", (json_int_t)r->event);
	if (r->incident != 0)
		json_object_set_new(obj, "incident",
		    json_integer(r->incident));
	if (r->warning != 0)
		json_object_set_new(obj, "warning", json_integer(r->warning));
	control_reply(req, 200, obj);
}

/*
 * The members each action's body may hold: a typo must not pass
 * silently (control_members, before the handler runs).
 */
static const char *const control_m_note[] = { "note", NULL };
static const char *const control_m_reported[] = { "ticket", "at", "note",
    "reason", NULL };
static const char *const control_m_set[] = { "field", "value", NULL };
static const char *const control_m_restored[] = { "at", "note", NULL };
static const char *const control_m_level[] = { "confidentiality",
    "integrity", "reason", NULL };
static const char *const control_m_portal[] = { "result", "at", "note",
    NULL };
static const char *const control_m_major[] = { "reason", NULL };
static const char *const control_m_contact[] = { "to", "by", "at", "note",
    "offline", NULL };
static const char *const control_m_warning[] = { "source", "summary",
    "reference", "system", "detail", NULL };
static const char *const control_m_answer[] = { "answer", "reason",
    "level", NULL };
static const char *const control_m_maintenance[] = { "system", "for",
    "from", "reason", NULL };
static const char *const control_m_cancel[] = { "reason", NULL };
static const char *const control_m_incident[] = { "system", "title",
    "level", "at", "reason", NULL };
static const char *const control_m_drill[] = { "system", "title", "level",
    "factor", "note", NULL };

/* The steps that take only a note: ack, controlled, report-filed, close. */
static void
control_note_action(struct control *c, struct evhttp_request *req,
    const struct control_call *a, int (*step)(struct workflow *, int64_t,
    const char *, const char *, struct wf_result *))
{
	struct wf_result	 r;
	const char		*note;

	if (control_str(req, a->body, "note", &note) == -1)
		return;
	step(c->wf, a->id, a->who->name, note, &r);
	control_result(req, &r);
}

static void
control_ack(struct control *c, struct evhttp_request *req,
    const struct control_call *a)
{
	control_note_action(c, req, a, wf_ack);
}

static void
control_controlled(struct control *c, struct evhttp_request *req,
    const struct control_call *a)
{
	control_note_action(c, req, a, wf_controlled);
}

static void
control_report_filed(struct control *c, struct evhttp_request *req,
    const struct control_call *a)
{
	control_note_action(c, req, a, wf_report_filed);
}

static void
control_close(struct control *c, struct evhttp_request *req,
    const struct control_call *a)
{
	control_note_action(c, req, a, wf_close);
}

static void
control_reported(struct control *c, struct evhttp_request *req,
    const struct control_call *a)
{
	struct wf_result	 r;
	const char		*ticket, *at_s, *note, *reason;
	int64_t			 at;

	if (control_str(req, a->body, "ticket", &ticket) == -1 ||
	    control_str(req, a->body, "at", &at_s) == -1 ||
	    control_str(req, a->body, "note", &note) == -1 ||
	    control_str(req, a->body, "reason", &reason) == -1 ||
	    control_time(req, "at", at_s, &at) == -1)
		return;
	/* 0 means "now" to the workflow: 1970 is no report time. */
	if (at_s != NULL && at <= 0) {
		control_error(req, 400, "\"at\" %s is not a time an "
		    "incident could be reported at", at_s);
		return;
	}
	wf_reported(c->wf, a->id, a->who->name, ticket, at, note, reason,
	    &r);
	control_result(req, &r);
}

static void
control_restored(struct control *c, struct evhttp_request *req,
    const struct control_call *a)
{
	struct wf_result	 r;
	const char		*at_s, *note;
	int64_t			 at;

	if (control_str(req, a->body, "at", &at_s) == -1 ||
	    control_str(req, a->body, "note", &note) == -1 ||
	    control_time(req, "at", at_s, &at) == -1)
		return;
	wf_restored(c->wf, a->id, a->who->name, at, note, &r);
	control_result(req, &r);
}

static void
control_set(struct control *c, struct evhttp_request *req,
    const struct control_call *a)
{
	struct wf_result	 r;
	const char		*field, *value;

	if (control_str(req, a->body, "field", &field) == -1 ||
	    control_str(req, a->body, "value", &value) == -1)
		return;
	wf_set(c->wf, a->id, a->who->name, field, value, &r);
	control_result(req, &r);
}

static void
control_level(struct control *c, struct evhttp_request *req,
    const struct control_call *a)
{
	struct wf_result	 r;
	const char		*reason;
	int			 ci, ii;

	if (control_int(req, a->body, "confidentiality", &ci) == -1 ||
	    control_int(req, a->body, "integrity", &ii) == -1 ||
	    control_str(req, a->body, "reason", &reason) == -1)
		return;
	wf_level(c->wf, a->id, a->who->name, ci, ii, reason, &r);
	control_result(req, &r);
}

static void
control_portal_closed(struct control *c, struct evhttp_request *req,
    const struct control_call *a)
{
	struct wf_result	 r;
	const char		*result, *at_s, *note;
	int64_t			 at;

	if (control_str(req, a->body, "result", &result) == -1 ||
	    control_str(req, a->body, "at", &at_s) == -1 ||
	    control_str(req, a->body, "note", &note) == -1 ||
	    control_time(req, "at", at_s, &at) == -1)
		return;
	wf_portal_closed(c->wf, a->id, a->who->name, at, result, note,
	    &r);
	control_result(req, &r);
}

static void
control_major(struct control *c, struct evhttp_request *req,
    const struct control_call *a)
{
	struct wf_result	 r;
	const char		*reason;

	if (control_str(req, a->body, "reason", &reason) == -1)
		return;
	wf_major(c->wf, a->id, a->who->name, reason, &r);
	control_result(req, &r);
}

static void
control_contact(struct control *c, struct evhttp_request *req,
    const struct control_call *a)
{
	struct wf_result	 r;
	const char		*to, *by, *at_s, *note;
	json_t			*v;
	int64_t			 at;

	if (control_str(req, a->body, "to", &to) == -1 ||
	    control_str(req, a->body, "by", &by) == -1 ||
	    control_str(req, a->body, "at", &at_s) == -1 ||
	    control_str(req, a->body, "note", &note) == -1 ||
	    control_time(req, "at", at_s, &at) == -1)
		return;
	if ((v = json_object_get(a->body, "offline")) != NULL &&
	    !json_is_boolean(v)) {
		control_error(req, 400, "\"offline\" must be true or false");
		return;
	}
	wf_contact(c->wf, a->id, a->who->name, to, by, at, note,
	    json_is_true(v), &r);
	control_result(req, &r);
}

static void
control_warning_new(struct control *c, struct evhttp_request *req,
    const struct control_call *a)
{
	const char *const	*known = control_m_warning;
	struct store_warning	 w;
	struct wf_result	 r;
	const char		*v[5];
	size_t			 i;

	for (i = 0; i < 5; i++)
		if (control_str(req, a->body, known[i], &v[i]) == -1)
			return;
	memset(&w, 0, sizeof(w));
	if ((v[0] != NULL && strlen(v[0]) >= sizeof(w.source)) ||
	    (v[1] != NULL && strlen(v[1]) >= sizeof(w.summary)) ||
	    (v[2] != NULL && strlen(v[2]) >= sizeof(w.reference)) ||
	    (v[3] != NULL && strlen(v[3]) >= sizeof(w.system)) ||
	    (v[4] != NULL && strlen(v[4]) >= sizeof(w.detail))) {
		control_error(req, 400, "a member is too long (source, "
		    "reference 127 bytes, summary 511, detail 2047)");
		return;
	}
	snprintf(w.source, sizeof(w.source), "%s", v[0] ? v[0] : "");
	snprintf(w.summary, sizeof(w.summary), "%s", v[1] ? v[1] : "");
	snprintf(w.reference, sizeof(w.reference), "%s", v[2] ? v[2] : "");
	snprintf(w.system, sizeof(w.system), "%s", v[3] ? v[3] : "");
	snprintf(w.detail, sizeof(w.detail), "%s", v[4] ? v[4] : "");
	wf_warning_open(c->wf, a->who->name, &w, &r);
	control_result(req, &r);
}

static void
control_warning_answer(struct control *c, struct evhttp_request *req,
    const struct control_call *a)
{
	struct wf_result	 r;
	const char		*answer, *reason;
	int			 level;

	if (control_str(req, a->body, "answer", &answer) == -1 ||
	    control_str(req, a->body, "reason", &reason) == -1 ||
	    control_int(req, a->body, "level", &level) == -1)
		return;
	wf_warning_answer(c->wf, a->id, a->who->name, answer, reason,
	    level, &r);
	control_result(req, &r);
}

static void
control_maintenance(struct control *c, struct evhttp_request *req,
    const struct control_call *a)
{
	struct wf_result	 r;
	const char		*system, *len_s, *from_s, *reason;
	int64_t			 from, length;

	if (control_str(req, a->body, "system", &system) == -1 ||
	    control_str(req, a->body, "for", &len_s) == -1 ||
	    control_str(req, a->body, "from", &from_s) == -1 ||
	    control_str(req, a->body, "reason", &reason) == -1 ||
	    control_time(req, "from", from_s, &from) == -1)
		return;
	if (len_s == NULL || conf_parse_duration(len_s, &length) == -1) {
		control_error(req, 400, "\"for\" is a duration such as 90m "
		    "or 2h");
		return;
	}
	wf_maintenance_add(c->wf, a->who->name, system, from, length,
	    reason, &r);
	control_result(req, &r);
}

/*
 * GET /v1/maintenance: the windows people added that are not over and
 * not cancelled, and the rules' own (which only the rules change).
 */
static void
control_maintenance_list(struct control *c, struct evhttp_request *req,
    const struct control_call *a)
{
	static const char *const repeats[] = { [MAINT_ONCE] = "once",
	    [MAINT_DAILY] = "daily", [MAINT_WEEKLY] = "weekly" };
	const struct conf	*conf = c->wf->conf;
	const struct maint_conf	*m;
	const char		*args[1];
	json_t			*rows, *rules;
	char			 now[TIME_STRLEN], t[TIME_STRLEN];
	int64_t			 wall = wall_ms(), b, en;

	(void)a;
	args[0] = time_fmt(wall, now, sizeof(now));
	if ((rows = control_rows(c, "SELECT id, system, starts_at, ends_at,"
	    " reason, created_at, created_by FROM maintenance"
	    " WHERE cancelled_at IS NULL AND ends_at > ?"
	    " ORDER BY starts_at, id", 1, args)) == NULL) {
		control_read_error(c, req);
		return;
	}
	rules = json_array();
	if (conf != NULL)
		TAILQ_FOREACH(m, &conf->maints, entry) {
			json_t	*o = json_pack("{s:o, s:s, s:I, s:s, s:i}",
			    "system", control_text(m->system), "repeat",
			    repeats[m->repeat], "length_ms",
			    (json_int_t)m->length_ms, "file", m->file, "line",
			    m->line);

			if (m->repeat == MAINT_ONCE)
				json_object_set_new(o, "at", json_string(
				    time_fmt(m->at, t, sizeof(t))));
			else {
				snprintf(t, sizeof(t), "%02d:%02d",
				    m->secs / 3600, m->secs / 60 % 60);
				json_object_set_new(o, "time", json_string(t));
				if (m->repeat == MAINT_WEEKLY)
					json_object_set_new(o, "weekday",
					    json_integer(m->wday));
			}
			if (maint_window_at(m, wall, &b, &en))
				json_object_set_new(o, "now_until",
				    json_string(time_fmt(en, t, sizeof(t))));
			json_array_append_new(rules, o);
		}
	control_reply(req, 200, json_pack("{so, so}", "maintenance", rows,
	    "rules", rules));
}

/* POST /v1/maintenance/ID/cancel. */
static void
control_maintenance_cancel(struct control *c, struct evhttp_request *req,
    const struct control_call *a)
{
	struct wf_result	 r;
	const char		*reason;

	if (control_str(req, a->body, "reason", &reason) == -1)
		return;
	wf_maintenance_cancel(c->wf, a->id, a->who->name, reason, &r);
	control_result(req, &r);
}

/* An incident a person found (5.2.1): POST /v1/incidents. */
static void
control_incident_new(struct control *c, struct evhttp_request *req,
    const struct control_call *a)
{
	struct wf_result	 r;
	const char		*system, *title, *at_s, *reason;
	int64_t			 at;
	int			 level;

	if (control_str(req, a->body, "system", &system) == -1 ||
	    control_str(req, a->body, "title", &title) == -1 ||
	    control_int(req, a->body, "level", &level) == -1 ||
	    control_str(req, a->body, "at", &at_s) == -1 ||
	    control_str(req, a->body, "reason", &reason) == -1 ||
	    control_time(req, "at", at_s, &at) == -1)
		return;
	wf_open(c->wf, a->who->name, system, title, level, at, reason,
	    &r);
	control_result(req, &r);
}

/* A drill (5.8.1): POST /v1/drills. */
static void
control_drill_new(struct control *c, struct evhttp_request *req,
    const struct control_call *a)
{
	struct wf_result	 r;
	const char		*system, *title, *note;
	json_t			*v;
	int			 level, factor = 1;

	if (control_str(req, a->body, "system", &system) == -1 ||
	    control_str(req, a->body, "title", &title) == -1 ||
	    control_int(req, a->body, "level", &level) == -1 ||
	    control_str(req, a->body, "note", &note) == -1)
		return;
	if ((v = json_object_get(a->body, "factor")) != NULL &&
	    !json_is_null(v)) {
		if (!json_is_integer(v) || json_integer_value(v) < 1 ||
		    json_integer_value(v) > 3600) {
			control_error(req, 400, "\"factor\" is how many times "
			    "faster the drill's clocks run, 1 to 3600");
			return;
		}
		factor = (int)json_integer_value(v);
	}
	wf_drill(c->wf, a->who->name, system, title, level, factor, note,
	    &r);
	control_result(req, &r);
}

/* ------------------------------------------------------------ routing */

/* Changes records: its body is read, and refused while the store fails. */
#define CONTROL_CHANGES	0x1

typedef void	control_handler(struct control *, struct evhttp_request *,
		    const struct control_call *);

struct control_route {
	enum evhttp_cmd_type	 method;
	const char		*path;
	const char *const	*members;	/* CONTROL_CHANGES only */
	enum conf_role		 role;
	int			 flags;
	control_handler		*handler;
};

/*
 * Every request the socket serves, like tmux's cmd_entry: one line per
 * route says its method, its path (":id" stands for an incident's or a
 * warning's number), the members its body may hold, the role it needs
 * and its handler.  control_dispatch checks all of these in one place,
 * so a handler only reads what it was given.  docs/control-api.md is
 * checked against this table (rtowatchd -R prints it; see
 * tests/e2e/test_control_api_doc.py).
 */
/* The daemon's state for Prometheus (metrics.c), text, not JSON. */
static void
control_metrics(struct control *c, struct evhttp_request *req,
    const struct control_call *a)
{
	struct metrics_source	 src;
	struct evbuffer		*buf;

	(void)a;
	if ((buf = evbuffer_new()) == NULL) {
		control_error(req, 500, "out of memory");
		return;
	}
	memset(&src, 0, sizeof(src));
	src.engine = c->engine;
	src.store = c->store;
	src.capture = c->capture;
	if (metrics_write(buf, &src) == -1) {
		evbuffer_free(buf);
		control_read_error(c, req);
		return;
	}
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", METRICS_CONTENT_TYPE);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Connection", "close");
	evhttp_send_reply(req, 200, "OK", buf);
	evbuffer_free(buf);
}

static const struct control_route control_routes[] = {
	{ EVHTTP_REQ_GET, "/metrics", NULL, ROLE_AUDITOR, 0,
	  control_metrics },
	{ EVHTTP_REQ_GET, "/v1/status", NULL, ROLE_AUDITOR, 0,
	  control_status },
	{ EVHTTP_REQ_GET, "/v1/incidents", NULL, ROLE_AUDITOR, 0,
	  control_incidents },
	{ EVHTTP_REQ_GET, "/v1/incidents/:id", NULL, ROLE_AUDITOR, 0,
	  control_incident },
	{ EVHTTP_REQ_GET, "/v1/warnings", NULL, ROLE_AUDITOR, 0,
	  control_warnings },
	{ EVHTTP_REQ_GET, "/v1/events", NULL, ROLE_AUDITOR, 0,
	  control_events },
	{ EVHTTP_REQ_GET, "/v1/history", NULL, ROLE_AUDITOR, 0,
	  control_history },
	{ EVHTTP_REQ_POST, "/v1/incidents", control_m_incident,
	  ROLE_OPERATOR, CONTROL_CHANGES, control_incident_new },
	{ EVHTTP_REQ_POST, "/v1/incidents/:id/ack", control_m_note,
	  ROLE_OPERATOR, CONTROL_CHANGES, control_ack },
	{ EVHTTP_REQ_POST, "/v1/incidents/:id/reported", control_m_reported,
	  ROLE_OPERATOR, CONTROL_CHANGES, control_reported },
	{ EVHTTP_REQ_POST, "/v1/incidents/:id/set", control_m_set,
	  ROLE_OPERATOR, CONTROL_CHANGES, control_set },
	{ EVHTTP_REQ_POST, "/v1/incidents/:id/level", control_m_level,
	  ROLE_OPERATOR, CONTROL_CHANGES, control_level },
	{ EVHTTP_REQ_POST, "/v1/incidents/:id/controlled", control_m_note,
	  ROLE_OPERATOR, CONTROL_CHANGES, control_controlled },
	{ EVHTTP_REQ_POST, "/v1/incidents/:id/restored", control_m_restored,
	  ROLE_OPERATOR, CONTROL_CHANGES, control_restored },
	{ EVHTTP_REQ_POST, "/v1/incidents/:id/report-filed", control_m_note,
	  ROLE_OPERATOR, CONTROL_CHANGES, control_report_filed },
	{ EVHTTP_REQ_POST, "/v1/incidents/:id/close", control_m_note,
	  ROLE_OPERATOR, CONTROL_CHANGES, control_close },
	{ EVHTTP_REQ_POST, "/v1/incidents/:id/portal-closed",
	  control_m_portal, ROLE_OPERATOR, CONTROL_CHANGES,
	  control_portal_closed },
	{ EVHTTP_REQ_POST, "/v1/incidents/:id/major", control_m_major,
	  ROLE_OPERATOR, CONTROL_CHANGES, control_major },
	{ EVHTTP_REQ_POST, "/v1/incidents/:id/contact", control_m_contact,
	  ROLE_OPERATOR, CONTROL_CHANGES, control_contact },
	{ EVHTTP_REQ_POST, "/v1/drills", control_m_drill, ROLE_OPERATOR,
	  CONTROL_CHANGES, control_drill_new },
	{ EVHTTP_REQ_POST, "/v1/warnings", control_m_warning, ROLE_OPERATOR,
	  CONTROL_CHANGES, control_warning_new },
	{ EVHTTP_REQ_POST, "/v1/warnings/:id/answer", control_m_answer,
	  ROLE_OPERATOR, CONTROL_CHANGES, control_warning_answer },
	{ EVHTTP_REQ_POST, "/v1/maintenance", control_m_maintenance,
	  ROLE_OPERATOR, CONTROL_CHANGES, control_maintenance },
	{ EVHTTP_REQ_GET, "/v1/maintenance", NULL, ROLE_AUDITOR, 0,
	  control_maintenance_list },
	{ EVHTTP_REQ_POST, "/v1/maintenance/:id/cancel", control_m_cancel,
	  ROLE_OPERATOR, CONTROL_CHANGES, control_maintenance_cancel },
};

/*
 * "/v1/incidents/12/ack" -> "/v1/incidents/:id/ack" and 12, the form a
 * route's path has; VERB is the last part, for the error naming it.
 */
static int
control_split(const char *path, char *pattern, size_t patternsz,
    int64_t *id, char *verb, size_t verbsz)
{
	char		 buf[256], *p, *parts[4];
	long long	 n;
	int		 i = 0;

	*id = 0;
	pattern[0] = verb[0] = '\0';
	/* Prometheus's path, outside the API's versions. */
	if (strcmp(path, "/metrics") == 0) {
		snprintf(pattern, patternsz, "%s", path);
		return 0;
	}
	if (strlen(path) >= sizeof(buf) || strncmp(path, "/v1/", 4) != 0)
		return -1;
	snprintf(buf, sizeof(buf), "%s", path + 4);
	for (p = strtok(buf, "/"); p != NULL && i < 4; p = strtok(NULL, "/"))
		parts[i++] = p;
	if (i == 0 || i > 3 || p != NULL)
		return -1;
	if (i >= 2) {
		if (control_number(parts[1], 1, INT64_MAX, &n) == -1)
			return -1;
		*id = n;
	}
	if (i == 3)
		snprintf(verb, verbsz, "%s", parts[2]);
	snprintf(pattern, patternsz, "/v1/%s%s%s%s", parts[0],
	    i >= 2 ? "/:id" : "", i == 3 ? "/" : "", verb);
	return 0;
}

static const struct control_route *
control_route(enum evhttp_cmd_type method, const char *pattern)
{
	size_t	 i;

	for (i = 0; i < sizeof(control_routes) / sizeof(control_routes[0]);
	    i++)
		if (control_routes[i].method == method &&
		    strcmp(control_routes[i].path, pattern) == 0)
			return &control_routes[i];
	return NULL;
}

/* The role ROUTE needs, the store and the body: then its handler. */
static void
control_dispatch(struct control *c, struct evhttp_request *req,
    const struct control_route *route, struct control_call *a)
{
	/* control_request_cb refused a caller without a role already. */
	if (a->who->role < route->role) {
		control_error(req, 403, "%s may read but not change records "
		    "(auditor)", a->who->name);
		return;
	}
	if ((route->flags & CONTROL_CHANGES) == 0) {
		route->handler(c, req, a);
		return;
	}
	/* Only the leader writes the records (lead.c). */
	if (!store_leading(c->store)) {
		control_error(req, 503, "node %s is a %s (備援節點), not the "
		    "leader: nothing was recorded; ask the leader's control "
		    "socket (rtowatch status names it)", c->node,
		    control_node_role(c));
		return;
	}
	/*
	 * A person's change reads the records it changes, which miss what
	 * the store holds in memory while the database refuses writes: it
	 * is refused, and nothing is recorded, rather than judged on them.
	 */
	if (store_failing(c->store)) {
		struct store_health	 h;
		char			 t[TIME_STRLEN];

		store_health(c->store, &h);
		control_error(req, 503, "the database is failing (資料庫寫入失敗)"
		    " since %s: %s; %zu changes of the daemon are held in "
		    "memory until it accepts writes again. Nothing was "
		    "recorded: try again when rtowatch status no longer says "
		    "the store is failing", h.since != 0 ? time_fmt(h.since,
		    t, sizeof(t)) : "just now", h.error[0] != '\0' ?
		    h.error : "refused", h.held);
		return;
	}
	if ((a->body = control_body(req)) == NULL)
		return;
	if (control_members(req, a->body, route->members) == 0)
		route->handler(c, req, a);
	json_decref(a->body);
	a->body = NULL;
}

/* A request from WHO, on the control socket or another listener. */
static void
control_handle(struct control *c, struct evhttp_request *req,
    const struct caller *who)
{
	const struct control_route	*route;
	const struct evhttp_uri		*uri;
	struct evkeyvalq		 q;
	struct control_call		 call;
	enum evhttp_cmd_type		 method;
	const char			*path, *query;
	char				 pattern[256], verb[64];

	TAILQ_INIT(&q);
	if (who->role == ROLE_NONE) {
		log_info("control: refused %s (uid %u): no role", who->name,
		    (unsigned)who->uid);
		control_error(req, 403, "%s has no role on this daemon (see "
		    "the rules' role lines)", who->name);
		return;
	}
	memset(&call, 0, sizeof(call));
	call.who = who;
	call.query = &q;
	if ((uri = evhttp_request_get_evhttp_uri(req)) == NULL ||
	    (path = evhttp_uri_get_path(uri)) == NULL ||
	    control_split(path, pattern, sizeof(pattern), &call.id, verb,
	    sizeof(verb)) == -1) {
		control_error(req, 404, "no such path");
		return;
	}
	if ((query = evhttp_uri_get_query(uri)) != NULL &&
	    evhttp_parse_query_str(query, &q) == -1) {
		control_error(req, 400, "malformed query string");
		return;
	}
	method = evhttp_request_get_command(req);
	if (method != EVHTTP_REQ_GET && method != EVHTTP_REQ_POST)
		control_error(req, 405, "GET to read, POST to act");
	else if ((route = control_route(method, pattern)) != NULL)
		control_dispatch(c, req, route, &call);
	else if (method == EVHTTP_REQ_GET)
		control_error(req, 404, "no such path");
	else if (strncmp(pattern, "/v1/incidents/:id/", 18) == 0)
		control_error(req, 404, "no action \"%s\"", verb);
	else
		control_error(req, 404, "no such action");
	evhttp_clear_headers(&q);
}

static void
control_request_cb(struct evhttp_request *req, void *arg)
{
	struct control	*c = arg;
	struct caller	 who;

	if (control_caller(c, req, &who) == -1) {
		control_error(req, 403, "cannot tell who is calling");
		return;
	}
	control_handle(c, req, &who);
}

/*
 * A request that reached another listener (web.c), from an account it
 * identified: served by the same routes, roles and replies.
 */
void
control_serve(struct control *c, struct evhttp_request *req,
    const char *name, uid_t uid, enum conf_role role)
{
	struct caller	 who;

	memset(&who, 0, sizeof(who));
	who.uid = uid;
	who.role = role;
	snprintf(who.name, sizeof(who.name), "%s", name);
	control_handle(c, req, &who);
}

/*
 * The JSON a read route (GET, CONTROL_CHANGES unset) answers for PATH and
 * QUERY, as an auditor would get it; *STATUS is its HTTP status.  NULL
 * if there is no such route.  For pages drawn from the API's own replies.
 */
json_t *
control_read(struct control *c, const char *path, const char *query,
    int *status)
{
	const struct control_route	*route;
	struct evkeyvalq		 q;
	struct control_call		 call;
	struct caller			 who;
	char				 pattern[256], verb[64];
	json_t				*out;

	*status = 404;
	memset(&call, 0, sizeof(call));
	memset(&who, 0, sizeof(who));
	who.role = ROLE_AUDITOR;
	snprintf(who.name, sizeof(who.name), "web");
	call.who = &who;
	call.query = &q;
	TAILQ_INIT(&q);
	if (control_split(path, pattern, sizeof(pattern), &call.id, verb,
	    sizeof(verb)) == -1 ||
	    (route = control_route(EVHTTP_REQ_GET, pattern)) == NULL ||
	    (route->flags & CONTROL_CHANGES) != 0)
		return NULL;
	if (query != NULL && evhttp_parse_query_str(query, &q) == -1) {
		*status = 400;
		return NULL;
	}
	route->handler(c, NULL, &call);
	evhttp_clear_headers(&q);
	out = control_captured;
	*status = control_captured_status;
	control_captured = NULL;
	return out;
}

/* The account UID's name and role, as the control socket judges it. */
enum conf_role
control_account(struct control *c, uid_t uid, char *name, size_t namesz)
{
	struct caller	 who;

	control_uid(c, uid, (gid_t)-1, &who);
	snprintf(name, namesz, "%s", who.name);
	return who.role;
}

/*
 * FN(ARG) runs whenever the timeline has new rows, ALERT(MESSAGE, ARG)
 * when the store has failed for store-alert-after (no row can say so).
 */
void
control_follow(struct control *c, void (*fn)(void *),
    void (*alert)(const char *, void *), void *arg)
{
	c->follow = fn;
	c->follow_alert = alert;
	c->follow_arg = arg;
}

/* The route table as "METHOD PATH ROLE [MEMBER,...]" lines: rtowatchd -R. */
void
control_routes_print(FILE *fp)
{
	const struct control_route	*r;
	const char *const		*m;
	size_t				 i;

	for (i = 0; i < sizeof(control_routes) / sizeof(control_routes[0]);
	    i++) {
		r = &control_routes[i];
		fprintf(fp, "%s %s %s", r->method == EVHTTP_REQ_GET ? "GET" :
		    "POST", r->path, r->role == ROLE_OPERATOR ? "operator" :
		    "auditor");
		for (m = r->members; m != NULL && *m != NULL; m++)
			fprintf(fp, "%s%s", m == r->members ? " " : ",", *m);
		fputc('\n', fp);
	}
}

/* ------------------------------------------------------------- set-up */

/* A socket file left by a daemon that died, or one that is running? */
static int
control_in_use(const struct sockaddr_un *sun)
{
	int	 fd, used;

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return 0;
	used = connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0;
	close(fd);
	return used;
}

static int
control_listen(const char *path)
{
	struct sockaddr_un	 sun;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		log_warnx("%s: control socket path too long", path);
		return -1;
	}
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if (control_in_use(&sun)) {
		log_warnx("%s: another rtowatchd answers on it", path);
		return -1;
	}
	if (unlink(path) == -1 && errno != ENOENT) {
		log_warn("%s", path);
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1) {
		log_warn("control socket");
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    /*
	     * Anyone may connect: every request is authorised by the
	     * caller's account (SO_PEERCRED) and the rules' roles, and one
	     * without a role is refused and logged.
	     */
	    chmod(path, 0666) == -1 ||
	    /*
	     * A deep backlog: a local account flooding the socket with
	     * connections (each dropped at once) leaves room for people.
	     */
	    listen(fd, SOMAXCONN) == -1) {
		log_warn("%s", path);
		close(fd);
		return -1;
	}
	return fd;
}

/* The role lines, as group ids (groups unknown now are skipped). */
void
control_configure(struct control *c, const struct conf *conf)
{
	const struct role_conf	*r;
	struct group		 gr, *res;
	char			 buf[8192];
	size_t			 n = 0;

	free(c->gids);
	free(c->roles);
	memset(c->callers, 0, sizeof(c->callers));
	snprintf(c->node, sizeof(c->node), "%s", conf->node_name);
	c->may_lead = conf->lead;
	c->hist_short = conf->history_bucket_ms / 1000;
	c->hist_long = c->hist_short * 60;
	TAILQ_FOREACH(r, &conf->roles, entry)
		n++;
	c->gids = xcalloc(n + 1, sizeof(*c->gids));
	c->roles = xcalloc(n + 1, sizeof(*c->roles));
	c->ngids = 0;
	TAILQ_FOREACH(r, &conf->roles, entry) {
		res = NULL;
		if (getgrnam_r(r->group, &gr, buf, sizeof(buf), &res) != 0 ||
		    res == NULL) {
			log_warnx("%s:%d: no group \"%s\" on this host; its "
			    "role is ignored", r->file, r->line, r->group);
			continue;
		}
		c->gids[c->ngids] = gr.gr_gid;
		c->roles[c->ngids++] = r->role;
	}
}

struct control *
control_start(struct event_base *base, struct engine *engine,
    struct store *store, const struct conf *conf)
{
	struct rlimit		 rl;
	struct control		*c;
	int			 fd;

	if ((fd = control_listen(conf->socket)) == -1)
		return NULL;
	c = xcalloc(1, sizeof(*c));
	c->base = base;
	c->engine = engine;
	c->wf = engine_workflow(engine);
	c->store = store;
	c->path = xstrdup(conf->socket);
	TAILQ_INIT(&c->waiters);
	TAILQ_INIT(&c->fresh);
	TAILQ_INIT(&c->conns);
	c->fd_limit = 1024;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		c->fd_limit = rl.rlim_cur;
	if ((c->http = evhttp_new(base)) == NULL ||
	    (c->lev = evconnlistener_new(base, NULL, NULL,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd)) == NULL ||
	    evhttp_bind_listener(c->http, c->lev) == NULL ||
	    (c->wake = event_new(base, -1, 0, control_wake_cb, c)) == NULL ||
	    (c->judge = event_new(base, -1, 0, control_judge_cb, c)) == NULL ||
	    (c->rewrite = event_new(base, -1, 0, control_rewrite_cb,
	    c)) == NULL ||
	    (c->resume = evtimer_new(base, control_resume_cb, c)) == NULL)
		fatalx("control: cannot set up the HTTP server");
	control_listening = c;
	evconnlistener_set_error_cb(c->lev, control_accept_error_cb);
	evhttp_set_bevcb(c->http, control_bev_cb, c);
	evhttp_set_max_body_size(c->http, CONTROL_HARD_BODY);
	evhttp_set_max_headers_size(c->http, CONTROL_MAX_HEADERS);
	evhttp_set_timeout(c->http, CONTROL_TIMEOUT_S);
	/* Every method evhttp knows reaches us, to be answered in JSON. */
	evhttp_set_allowed_methods(c->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT |
	    EVHTTP_REQ_PATCH);
	evhttp_set_gencb(c->http, control_request_cb, c);
	control_configure(c, conf);
	store_on_commit(store, control_committed, c);
	store_on_alert(store, control_store_alert, c);
	log_info("control socket %s", c->path);
	return c;
}

void
control_free(struct control *c)
{
	struct conn	*cn;
	int		 i;

	if (c == NULL)
		return;
	store_on_commit(c->store, NULL, NULL);
	store_on_alert(c->store, NULL, NULL);
	if (!TAILQ_EMPTY(&c->waiters)) {
		while (!TAILQ_EMPTY(&c->waiters)) {
			control_events_reply(TAILQ_FIRST(&c->waiters)->req,
			    json_array(), TAILQ_FIRST(&c->waiters)->after);
			control_waiter_free(TAILQ_FIRST(&c->waiters));
		}
		/*
		 * The loop has stopped: give those replies a few turns to
		 * be written, so that clients see an answer, not a reset.
		 */
		for (i = 0; i < 4; i++)
			event_base_loop(c->base, EVLOOP_NONBLOCK);
	}
	/* evhttp_free frees each connection, which forgets its conn. */
	evhttp_free(c->http);
	control_listening = NULL;
	while ((cn = TAILQ_FIRST(&c->fresh)) != NULL) {
		TAILQ_REMOVE(&c->fresh, cn, entry);
		free(cn);
	}
	event_free(c->wake);
	event_free(c->judge);
	event_free(c->rewrite);
	event_free(c->resume);
	unlink(c->path);
	free(c->path);
	free(c->gids);
	free(c->roles);
	free(c);
}

void
control_set_capture(struct control *c, struct capture *cap)
{
	c->capture = cap;
}

const char *
control_path(const struct control *c)
{
	return c->path;
}
