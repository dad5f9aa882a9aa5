/*
 * control.c: the control socket, HTTP and JSON on a Unix socket served by
 * libevent's evhttp on the daemon's loop (docs/control-api.md).
 *
 * The kernel tells who is calling (SO_PEERCRED); the rules' role lines
 * map the account's groups to what it may do.  Queries read the store;
 * actions go through workflow.c, which writes each one with its timeline
 * event in one transaction.  The event stream is a long poll on the
 * timeline's ids, woken when the store commits new rows.
 */
#include <sys/types.h>
#include <sys/queue.h>
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
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture.h"
#include "conf.h"
#include "control.h"
#include "engine.h"
#include "log.h"
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
#define CONTROL_MAX_GROUPS	256

struct waiter {
	TAILQ_ENTRY(waiter)	 entry;
	struct control		*control;
	struct evhttp_request	*req;
	int64_t			 after;
	struct event		*timer;
};
TAILQ_HEAD(waiter_list, waiter);

struct control {
	struct event_base	*base;
	struct engine		*engine;
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
};

/* Who is calling, as the kernel says. */
struct caller {
	uid_t		 uid;
	char		 name[64];
	enum conf_role	 role;
};

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

static void
control_reply(struct evhttp_request *req, int status, json_t *obj)
{
	struct evbuffer	*buf;
	char		*text = NULL;

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
	if ((buf = evbuffer_new()) == NULL)
		fatalx("control: evbuffer_new");
	evbuffer_add(buf, text, strlen(text));
	evbuffer_add(buf, "\n", 1);
	free(text);
	evhttp_send_reply(req, status, status == 200 ? "OK" : "Error", buf);
	evbuffer_free(buf);
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

static int
control_caller(struct control *c, struct evhttp_request *req,
    struct caller *who)
{
	struct evhttp_connection	*conn;
	struct bufferevent		*bev;
	struct ucred			 cred;
	struct passwd			 pw, *res = NULL;
	socklen_t			 len = sizeof(cred);
	char				 buf[4096];
	gid_t				 gid;

	memset(who, 0, sizeof(*who));
	if ((conn = evhttp_request_get_connection(req)) == NULL ||
	    (bev = evhttp_connection_get_bufferevent(conn)) == NULL ||
	    getsockopt(bufferevent_getfd(bev), SOL_SOCKET, SO_PEERCRED,
	    &cred, &len) == -1)
		return -1;
	who->uid = cred.uid;
	gid = cred.gid;
	if (getpwuid_r(cred.uid, &pw, buf, sizeof(buf), &res) == 0 &&
	    res != NULL) {
		snprintf(who->name, sizeof(who->name), "%s", pw.pw_name);
		gid = pw.pw_gid;
	}
	who->role = control_role(c, cred.uid, who->name, gid);
	if (who->name[0] == '\0')
		snprintf(who->name, sizeof(who->name), "uid %u",
		    (unsigned)cred.uid);
	return 0;
}

/* ------------------------------------------------------------ queries */

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
	json_t	*checks, *sys;
	char	 since[TIME_STRLEN];
	int	 i;

	checks = json_array();
	for (i = 0; i < s->nchecks; i++)
		control_status_check(checks, &s->checks[i]);
	sys = json_pack("{s:o, s:s, s:s?, s:o, s:o}", "name",
	    control_text(s->name), "state",
	    s->state, "since", s->since != 0 ? time_fmt(s->since, since,
	    sizeof(since)) : NULL, "incident", s->incident != 0 ?
	    json_integer(s->incident) : json_null(), "checks", checks);
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
	    "s:i}", "name", control_text(st->name), "interface",
	    control_text(st->interface), "packets_per_s", st->packets_per_s,
	    "bytes_per_s", st->bytes_per_s, "packets",
	    (json_int_t)st->packets, "dropped", (json_int_t)st->dropped,
	    "open_episodes", st->episodes));
	return 0;
}

static void
control_status(struct control *c, struct evhttp_request *req)
{
	json_t	*systems, *outbox = NULL, *open, *traffic;

	systems = json_array();
	engine_status(c->engine, control_status_system, systems);
	traffic = json_array();
	if (c->capture != NULL)
		capture_status(c->capture, control_status_traffic, traffic);
	store_select(c->store, "SELECT"
	    " coalesce(sum(state = 'queued'), 0) AS queued,"
	    " coalesce(sum(state = 'queued' AND attempts > 0), 0) AS failing,"
	    " coalesce(sum(state = 'failed'), 0) AS failed,"
	    " min(CASE WHEN state = 'queued' THEN created_at END)"
	    "  AS oldest_queued_at"
	    " FROM notifications", 0, NULL, control_row_set, &outbox);
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
		control_error(req, 500, "cannot read the database");
		return;
	}
	control_reply(req, 200, json_pack("{so so so so si}", "systems",
	    systems, "deadlines", open, "outbox", outbox, "traffic", traffic,
	    "event_clients", c->nwaiters));
}

static void
control_incidents(struct control *c, struct evhttp_request *req,
    const struct evkeyvalq *q)
{
	const char	*status = evhttp_find_header(q, "status");
	json_t		*rows;

	if (status != NULL && strcmp(status, "open") != 0 &&
	    strcmp(status, "restored") != 0 && strcmp(status, "closed") != 0) {
		control_error(req, 400, "status is open, restored or closed");
		return;
	}
	if (status != NULL)
		rows = control_rows(c, "SELECT * FROM incidents WHERE"
		    " status = ? ORDER BY id", 1, &status);
	else
		rows = control_rows(c, "SELECT * FROM incidents ORDER BY id",
		    0, NULL);
	if (rows == NULL) {
		control_error(req, 500, "cannot read the database");
		return;
	}
	control_reply(req, 200, json_pack("{so}", "incidents", rows));
}

static void
control_incident(struct control *c, struct evhttp_request *req,
    const char *id)
{
	json_t	*inc = NULL, *tl, *clocks, *scope, *notes, *contacts;

	if (store_select(c->store, "SELECT * FROM incidents WHERE id = ?", 1,
	    &id, control_row_set, &inc) == -1) {
		control_error(req, 500, "cannot read the database");
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
	notes = control_rows(c, "SELECT id, recipient, event, state,"
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
		control_error(req, 500, "cannot read the database");
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
    const struct evkeyvalq *q)
{
	const char	*state = evhttp_find_header(q, "state");
	json_t		*rows;

	if (state != NULL)
		rows = control_rows(c, "SELECT * FROM warnings WHERE"
		    " state = ? ORDER BY id", 1, &state);
	else
		rows = control_rows(c, "SELECT * FROM warnings ORDER BY id",
		    0, NULL);
	if (rows == NULL) {
		control_error(req, 500, "cannot read the database");
		return;
	}
	control_reply(req, 200, json_pack("{so}", "warnings", rows));
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
}

static void
control_committed(void *arg)
{
	struct control	*c = arg;

	/* Not from inside the writer's call chain: on the next loop turn. */
	if (c->nwaiters > 0)
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
    const struct evkeyvalq *q)
{
	const char	*after_s = evhttp_find_header(q, "after");
	const char	*wait_s = evhttp_find_header(q, "wait");
	struct timeval	 tv;
	struct waiter	*w;
	long long	 after, wait = 0;
	int64_t		 last;
	json_t		*rows;

	if (after_s == NULL) {
		if ((last = store_timeline_last(c->store)) == -1)
			control_error(req, 500, "cannot read the database");
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
		control_error(req, 500, "cannot read the database");
		return;
	}
	if (json_array_size(rows) > 0 || wait == 0 ||
	    c->nwaiters >= CONTROL_MAX_WAITERS) {
		control_events_reply(req, rows, last);
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

static void
control_incident_action(struct control *c, struct evhttp_request *req,
    const struct caller *who, int64_t id, const char *verb, json_t *body)
{
	static const char *const note[] = { "note", NULL };
	static const char *const reported[] = { "ticket", "at", "note", NULL };
	static const char *const set[] = { "field", "value", NULL };
	static const char *const restored[] = { "at", "note", NULL };
	static const char *const level[] = { "confidentiality", "integrity",
	    "reason", NULL };
	static const char *const portal[] = { "result", "at", "note", NULL };
	static const char *const major[] = { "reason", NULL };
	static const char *const contact[] = { "to", "by", "at", "note",
	    "offline", NULL };
	struct wf_result	 r;
	const char		*s1, *s2, *s3, *s4;
	json_t			*v;
	int64_t			 at;
	int			 ci, ii;

	if (strcmp(verb, "ack") == 0 || strcmp(verb, "controlled") == 0 ||
	    strcmp(verb, "report-filed") == 0 || strcmp(verb, "close") == 0) {
		if (control_members(req, body, note) == -1 ||
		    control_str(req, body, "note", &s1) == -1)
			return;
		if (strcmp(verb, "ack") == 0)
			wf_ack(c->engine, id, who->name, s1, &r);
		else if (strcmp(verb, "controlled") == 0)
			wf_controlled(c->engine, id, who->name, s1, &r);
		else if (strcmp(verb, "report-filed") == 0)
			wf_report_filed(c->engine, id, who->name, s1, &r);
		else
			wf_close(c->engine, id, who->name, s1, &r);
	} else if (strcmp(verb, "reported") == 0) {
		if (control_members(req, body, reported) == -1 ||
		    control_str(req, body, "ticket", &s1) == -1 ||
		    control_str(req, body, "at", &s2) == -1 ||
		    control_str(req, body, "note", &s3) == -1 ||
		    control_time(req, "at", s2, &at) == -1)
			return;
		wf_reported(c->engine, id, who->name, s1, at, s3, &r);
	} else if (strcmp(verb, "restored") == 0) {
		if (control_members(req, body, restored) == -1 ||
		    control_str(req, body, "at", &s1) == -1 ||
		    control_str(req, body, "note", &s2) == -1 ||
		    control_time(req, "at", s1, &at) == -1)
			return;
		wf_restored(c->engine, id, who->name, at, s2, &r);
	} else if (strcmp(verb, "set") == 0) {
		if (control_members(req, body, set) == -1 ||
		    control_str(req, body, "field", &s1) == -1 ||
		    control_str(req, body, "value", &s2) == -1)
			return;
		wf_set(c->engine, id, who->name, s1, s2, &r);
	} else if (strcmp(verb, "level") == 0) {
		if (control_members(req, body, level) == -1 ||
		    control_int(req, body, "confidentiality", &ci) == -1 ||
		    control_int(req, body, "integrity", &ii) == -1 ||
		    control_str(req, body, "reason", &s1) == -1)
			return;
		wf_level(c->engine, id, who->name, ci, ii, s1, &r);
	} else if (strcmp(verb, "portal-closed") == 0) {
		if (control_members(req, body, portal) == -1 ||
		    control_str(req, body, "result", &s1) == -1 ||
		    control_str(req, body, "at", &s2) == -1 ||
		    control_str(req, body, "note", &s3) == -1 ||
		    control_time(req, "at", s2, &at) == -1)
			return;
		wf_portal_closed(c->engine, id, who->name, at, s1, s3, &r);
	} else if (strcmp(verb, "major") == 0) {
		if (control_members(req, body, major) == -1 ||
		    control_str(req, body, "reason", &s1) == -1)
			return;
		wf_major(c->engine, id, who->name, s1, &r);
	} else if (strcmp(verb, "contact") == 0) {
		if (control_members(req, body, contact) == -1 ||
		    control_str(req, body, "to", &s1) == -1 ||
		    control_str(req, body, "by", &s2) == -1 ||
		    control_str(req, body, "at", &s3) == -1 ||
		    control_str(req, body, "note", &s4) == -1 ||
		    control_time(req, "at", s3, &at) == -1)
			return;
		if ((v = json_object_get(body, "offline")) != NULL &&
		    !json_is_boolean(v)) {
			control_error(req, 400, "\"offline\" must be true or "
			    "false");
			return;
		}
		wf_contact(c->engine, id, who->name, s1, s2, at, s4,
		    json_is_true(v), &r);
	} else {
		control_error(req, 404, "no action \"%s\"", verb);
		return;
	}
	control_result(req, &r);
}

static void
control_warning_new(struct control *c, struct evhttp_request *req,
    const struct caller *who, json_t *body)
{
	static const char *const known[] = { "source", "summary", "reference",
	    "system", "detail", NULL };
	struct store_warning	 w;
	struct wf_result	 r;
	const char		*v[5];
	size_t			 i;

	if (control_members(req, body, known) == -1)
		return;
	for (i = 0; i < 5; i++)
		if (control_str(req, body, known[i], &v[i]) == -1)
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
	wf_warning_open(c->engine, who->name, &w, &r);
	control_result(req, &r);
}

static void
control_warning_answer(struct control *c, struct evhttp_request *req,
    const struct caller *who, int64_t id, json_t *body)
{
	static const char *const known[] = { "answer", "reason", "level",
	    NULL };
	struct wf_result	 r;
	const char		*answer, *reason;
	int			 level;

	if (control_members(req, body, known) == -1 ||
	    control_str(req, body, "answer", &answer) == -1 ||
	    control_str(req, body, "reason", &reason) == -1 ||
	    control_int(req, body, "level", &level) == -1)
		return;
	wf_warning_answer(c->engine, id, who->name, answer, reason, level, &r);
	control_result(req, &r);
}

static void
control_maintenance(struct control *c, struct evhttp_request *req,
    const struct caller *who, json_t *body)
{
	static const char *const known[] = { "system", "for", "from",
	    "reason", NULL };
	struct wf_result	 r;
	const char		*system, *len_s, *from_s, *reason;
	int64_t			 from, length;

	if (control_members(req, body, known) == -1 ||
	    control_str(req, body, "system", &system) == -1 ||
	    control_str(req, body, "for", &len_s) == -1 ||
	    control_str(req, body, "from", &from_s) == -1 ||
	    control_str(req, body, "reason", &reason) == -1 ||
	    control_time(req, "from", from_s, &from) == -1)
		return;
	if (len_s == NULL || conf_parse_duration(len_s, &length) == -1) {
		control_error(req, 400, "\"for\" is a duration such as 90m "
		    "or 2h");
		return;
	}
	wf_maintenance_add(c->engine, who->name, system, from, length, reason,
	    &r);
	control_result(req, &r);
}

/* An incident a person found (5.2.1): POST /v1/incidents. */
static void
control_incident_new(struct control *c, struct evhttp_request *req,
    const struct caller *who, json_t *body)
{
	static const char *const known[] = { "system", "title", "level",
	    "at", "reason", NULL };
	struct wf_result	 r;
	const char		*system, *title, *at_s, *reason;
	int64_t			 at;
	int			 level;

	if (control_members(req, body, known) == -1 ||
	    control_str(req, body, "system", &system) == -1 ||
	    control_str(req, body, "title", &title) == -1 ||
	    control_int(req, body, "level", &level) == -1 ||
	    control_str(req, body, "at", &at_s) == -1 ||
	    control_str(req, body, "reason", &reason) == -1 ||
	    control_time(req, "at", at_s, &at) == -1)
		return;
	wf_open(c->engine, who->name, system, title, level, at, reason, &r);
	control_result(req, &r);
}

/* A drill (5.8.1): POST /v1/drills. */
static void
control_drill_new(struct control *c, struct evhttp_request *req,
    const struct caller *who, json_t *body)
{
	static const char *const known[] = { "system", "title", "level",
	    "factor", "note", NULL };
	struct wf_result	 r;
	const char		*system, *title, *note;
	json_t			*v;
	int			 level, factor = 1;

	if (control_members(req, body, known) == -1 ||
	    control_str(req, body, "system", &system) == -1 ||
	    control_str(req, body, "title", &title) == -1 ||
	    control_int(req, body, "level", &level) == -1 ||
	    control_str(req, body, "note", &note) == -1)
		return;
	if ((v = json_object_get(body, "factor")) != NULL &&
	    !json_is_null(v)) {
		if (!json_is_integer(v) || json_integer_value(v) < 1 ||
		    json_integer_value(v) > 3600) {
			control_error(req, 400, "\"factor\" is how many times "
			    "faster the drill's clocks run, 1 to 3600");
			return;
		}
		factor = (int)json_integer_value(v);
	}
	wf_drill(c->engine, who->name, system, title, level, factor, note,
	    &r);
	control_result(req, &r);
}

/* ------------------------------------------------------------ routing */

/* "/v1/incidents/12/ack" -> "incidents", 12, "ack". */
static int
control_split(const char *path, char *coll, size_t collsz, int64_t *id,
    char *verb, size_t verbsz)
{
	char		 buf[256], *p, *parts[4];
	long long	 n;
	int		 i = 0;

	*id = 0;
	coll[0] = verb[0] = '\0';
	if (strlen(path) >= sizeof(buf) || strncmp(path, "/v1/", 4) != 0)
		return -1;
	snprintf(buf, sizeof(buf), "%s", path + 4);
	for (p = strtok(buf, "/"); p != NULL && i < 4; p = strtok(NULL, "/"))
		parts[i++] = p;
	if (i == 0 || i > 3 || p != NULL)
		return -1;
	snprintf(coll, collsz, "%s", parts[0]);
	if (i >= 2) {
		if (control_number(parts[1], 1, INT64_MAX, &n) == -1)
			return -1;
		*id = n;
	}
	if (i == 3)
		snprintf(verb, verbsz, "%s", parts[2]);
	return 0;
}

static void
control_get(struct control *c, struct evhttp_request *req, const char *coll,
    int64_t id, const char *verb, const struct evkeyvalq *q)
{
	char	 num[24];

	if (verb[0] != '\0')
		control_error(req, 404, "no such path");
	else if (strcmp(coll, "status") == 0 && id == 0)
		control_status(c, req);
	else if (strcmp(coll, "incidents") == 0 && id == 0)
		control_incidents(c, req, q);
	else if (strcmp(coll, "incidents") == 0) {
		snprintf(num, sizeof(num), "%lld", (long long)id);
		control_incident(c, req, num);
	} else if (strcmp(coll, "warnings") == 0 && id == 0)
		control_warnings(c, req, q);
	else if (strcmp(coll, "events") == 0 && id == 0)
		control_events(c, req, q);
	else
		control_error(req, 404, "no such path");
}

static void
control_post(struct control *c, struct evhttp_request *req,
    const struct caller *who, const char *coll, int64_t id, const char *verb)
{
	json_t	*body;

	if ((strcmp(coll, "incidents") != 0 ||
	    (id == 0) != (verb[0] == '\0')) &&
	    (strcmp(coll, "drills") != 0 || id != 0 || verb[0] != '\0') &&
	    (strcmp(coll, "warnings") != 0 || (id == 0) != (verb[0] == '\0') ||
	    (id != 0 && strcmp(verb, "answer") != 0)) &&
	    (strcmp(coll, "maintenance") != 0 || id != 0)) {
		control_error(req, 404, "no such action");
		return;
	}
	if (who->role != ROLE_OPERATOR) {
		control_error(req, 403, "%s may read but not change records "
		    "(auditor)", who->name);
		return;
	}
	if ((body = control_body(req)) == NULL)
		return;
	if (strcmp(coll, "incidents") == 0 && id == 0)
		control_incident_new(c, req, who, body);
	else if (strcmp(coll, "incidents") == 0)
		control_incident_action(c, req, who, id, verb, body);
	else if (strcmp(coll, "drills") == 0)
		control_drill_new(c, req, who, body);
	else if (strcmp(coll, "warnings") == 0 && id == 0)
		control_warning_new(c, req, who, body);
	else if (strcmp(coll, "warnings") == 0)
		control_warning_answer(c, req, who, id, body);
	else
		control_maintenance(c, req, who, body);
	json_decref(body);
}

static void
control_request_cb(struct evhttp_request *req, void *arg)
{
	struct control			*c = arg;
	const struct evhttp_uri		*uri;
	struct evkeyvalq		 q;
	struct caller			 who;
	const char			*path, *query;
	char				 coll[32], verb[32];
	int64_t				 id;

	TAILQ_INIT(&q);
	if (control_caller(c, req, &who) == -1) {
		control_error(req, 403, "cannot tell who is calling");
		return;
	}
	if (who.role == ROLE_NONE) {
		log_info("control: refused %s (uid %u): no role", who.name,
		    (unsigned)who.uid);
		control_error(req, 403, "%s has no role on this daemon (see "
		    "the rules' role lines)", who.name);
		return;
	}
	if ((uri = evhttp_request_get_evhttp_uri(req)) == NULL ||
	    (path = evhttp_uri_get_path(uri)) == NULL ||
	    control_split(path, coll, sizeof(coll), &id, verb,
	    sizeof(verb)) == -1) {
		control_error(req, 404, "no such path");
		return;
	}
	if ((query = evhttp_uri_get_query(uri)) != NULL &&
	    evhttp_parse_query_str(query, &q) == -1) {
		control_error(req, 400, "malformed query string");
		return;
	}
	switch (evhttp_request_get_command(req)) {
	case EVHTTP_REQ_GET:
		control_get(c, req, coll, id, verb, &q);
		break;
	case EVHTTP_REQ_POST:
		control_post(c, req, &who, coll, id, verb);
		break;
	default:
		control_error(req, 405, "GET to read, POST to act");
		break;
	}
	evhttp_clear_headers(&q);
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
	    listen(fd, 64) == -1) {
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
	int			 n = 0;

	free(c->gids);
	free(c->roles);
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
	struct evconnlistener	*lev;
	struct control		*c;
	int			 fd;

	if ((fd = control_listen(conf->socket)) == -1)
		return NULL;
	c = xcalloc(1, sizeof(*c));
	c->base = base;
	c->engine = engine;
	c->store = store;
	c->path = xstrdup(conf->socket);
	TAILQ_INIT(&c->waiters);
	if ((c->http = evhttp_new(base)) == NULL ||
	    (lev = evconnlistener_new(base, NULL, NULL,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd)) == NULL ||
	    evhttp_bind_listener(c->http, lev) == NULL ||
	    (c->wake = event_new(base, -1, 0, control_wake_cb, c)) == NULL)
		fatalx("control: cannot set up the HTTP server");
	evhttp_set_max_body_size(c->http, CONTROL_HARD_BODY);
	evhttp_set_max_headers_size(c->http, CONTROL_MAX_HEADERS);
	evhttp_set_timeout(c->http, CONTROL_TIMEOUT_S);
	evhttp_set_allowed_methods(c->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE);
	evhttp_set_gencb(c->http, control_request_cb, c);
	control_configure(c, conf);
	store_on_commit(store, control_committed, c);
	log_info("control socket %s", c->path);
	return c;
}

void
control_free(struct control *c)
{
	int	 i;

	if (c == NULL)
		return;
	store_on_commit(c->store, NULL, NULL);
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
	event_free(c->wake);
	evhttp_free(c->http);
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
