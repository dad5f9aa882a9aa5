/*
 * lead.c: one leader among the nodes of a shared register, and the nodes
 * table.
 *
 * On PostgreSQL the leader is the node whose session holds the advisory
 * lock LEAD_PG_LOCK, taken with pg_try_advisory_lock on a connection of
 * its own: never the records' connection, which store.c closes and opens
 * again on faults, and whose transactions take another lock for every
 * write.  Every LEAD_POLL_MS one statement on that connection both tries
 * the lock (a standby) and upserts this node's row of the nodes table
 * with the role it answers, so the heartbeat and the election are one
 * round trip.  It is sent and its answer read without waiting: the
 * answer wakes the loop through a read event on the connection's socket.
 *
 * The lock is the session's: it frees when the leader's session ends,
 * kill -9 included (the server sees the socket close), and the next poll
 * of a standby takes it, so a standby leads within about LEAD_POLL_MS of
 * the leader's end.  The server is told to probe an idle peer
 * (tcp_keepalives_*, tcp_user_timeout), so that a leader cut off from it
 * loses the lock within seconds rather than at TCP's two hours.
 *
 * A leader that loses its session (an error, the socket closed, or a poll
 * unanswered for LEAD_TIMEOUT_MS) may no longer be the leader: a standby
 * may hold the lock already.  At once it sends nothing more and holds
 * every change in memory (LEAD_SUSPEND: store_suspend), and it connects
 * again.  Each leader counts itself in lead_term when it takes the lead;
 * a suspended leader that gets the lock again and finds the count still
 * its own knows that nobody led between, and goes on (LEAD_RESUME: what
 * it held is written, with its times); otherwise, or if another node
 * holds the lock, it has lost (LEAD_LOST): what it held is dropped, the
 * new leader having decided from the register, and main.c stops the
 * daemon, which its service manager starts again as a standby.  So a
 * restart of the PostgreSQL server loses nothing the leader saw: it
 * tries the lock as soon as it is connected again, while a standby's new
 * session waits LEAD_SETTLE_MS before it tries.  An error after the lock
 * may have been taken ends the session, so that this node never holds
 * the lock without knowing it.
 *
 * A register in SQLite has one node: it leads from the start and records
 * itself in the nodes table, every LEAD_SQLITE_BEAT_MS.
 */
#include <event2/event.h>
#include <libpq-fe.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "lead.h"
#include "log.h"
#include "rtowatch.h"
#include "store.h"
#include "util.h"

#define LEAD_POLL_MS		1000
#define LEAD_TIMEOUT_MS		4000	/* unanswered: the session is lost */
#define LEAD_SETTLE_MS		2000	/* a standby's new session waits */
#define LEAD_Q_TAKE		1	/* lead_take's statement */
#define LEAD_Q_CHECK		2	/* lead_check's */
#define LEAD_SQLITE_BEAT_MS	60000
/* store_pg.c's writers' lock is ...176; the leader's is the next. */
#define LEAD_PG_LOCK		"7526465302289283177"

struct lead {
	struct event_base	*base;
	struct store		*store;
	char			*name;
	char			*conninfo;	/* NULL: SQLite */
	int			 may_lead;
	enum lead_role		 role;
	int64_t			 started;	/* wall ms */
	void			 (*cb)(enum lead_change, void *);
	void			*arg;
	int64_t			 term;		/* ours, in lead_term */
	int			 suspended;	/* led, and lost the session */
	struct event		*timer;
	/* PostgreSQL: the lock's session. */
	PGconn			*conn;
	struct event		*io;
	int			 connecting;
	int			 ready;		/* its settings are made */
	int			 busy;		/* a statement in flight */
	int			 taking;	/* the term's statement: LEAD_Q_ */
	int			 term_pending;	/* the lock got: lead_take */
	int			 check_pending;	/* suspended, no lock: whose? */
	int64_t			 since;		/* mono: connecting or busy */
	int64_t			 session;	/* mono: connected at */
	int			 again;		/* a session was lost before */
	int			 said;		/* a failure logged */
};

static const char *const lead_roles[] = { "standby", "leader", "observer" };

const char *
lead_role_str(enum lead_role r)
{
	return lead_roles[r];
}

static void	lead_io_cb(evutil_socket_t, short, void *);

/* The session is over: freed by the server, and with it the lock. */
static void
lead_drop(struct lead *l, const char *why)
{
	if (l->io != NULL)
		event_free(l->io);
	l->io = NULL;
	if (l->conn != NULL)
		PQfinish(l->conn);
	l->conn = NULL;
	if (l->ready)
		l->again = 1;
	l->connecting = l->ready = l->busy = l->taking = 0;
	l->term_pending = l->check_pending = 0;
	if (l->role == LEAD_LEADER) {
		log_warnx("lead: node %s lost the session of its lock (%s): "
		    "it sends nothing and holds its changes until it knows "
		    "whether it still leads", l->name, why);
		l->role = LEAD_STANDBY;
		l->suspended = 1;
		l->cb(LEAD_SUSPEND, l->arg);
		return;
	}
	if (!l->said)
		log_warnx("lead: node %s: no session with %s (%s); trying "
		    "again every %d ms", l->name, l->conninfo, why,
		    LEAD_POLL_MS);
	l->said = 1;
}

/* libpq's message, without its newline. */
static const char *
lead_error(struct lead *l, const PGresult *res)
{
	static char	 msg[256];
	const char	*m = res != NULL ? PQresultErrorMessage(res) : "";
	size_t		 n;

	if ((m == NULL || *m == '\0') && l->conn != NULL)
		m = PQerrorMessage(l->conn);
	snprintf(msg, sizeof(msg), "%s", m != NULL ? m : "");
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		msg[--n] = '\0';
	return msg[0] != '\0' ? msg : "lost";
}

/* Wait on the session's socket, which may change while connecting. */
static int
lead_watch(struct lead *l, short what)
{
	if (l->io != NULL)
		event_free(l->io);
	if ((l->io = event_new(l->base, PQsocket(l->conn), what | EV_PERSIST,
	    lead_io_cb, l)) == NULL || event_add(l->io, NULL) == -1) {
		lead_drop(l, "event_new failed");
		return -1;
	}
	return 0;
}

static void
lead_connect(struct lead *l)
{
	/* Ours first: the setting's own values win over them. */
	const char *const	 keys[] = { "keepalives", "keepalives_idle",
				    "keepalives_interval", "keepalives_count",
				    "tcp_user_timeout", "application_name",
				    "dbname", NULL };
	const char *const	 values[] = { "1", "2", "1", "3", "5000",
				    "rtowatchd lead", l->conninfo, NULL };

	if ((l->conn = PQconnectStartParams(keys, values, 1)) == NULL ||
	    PQstatus(l->conn) == CONNECTION_BAD) {
		lead_drop(l, l->conn != NULL ? lead_error(l, NULL) :
		    "out of memory");
		return;
	}
	l->connecting = 1;
	l->since = mono_ms();
	(void)lead_watch(l, EV_WRITE);
}

/*
 * SENT: what PQsendQuery* said.  A statement on its way: its answer is
 * awaited (lead_io_cb); not sent: the session is dropped.
 */
static int
lead_sent(struct lead *l, int sent)
{
	if (sent == 0) {
		lead_drop(l, lead_error(l, NULL));
		return -1;
	}
	l->busy = 1;
	l->since = mono_ms();
	return 0;
}

/* What the lock's session needs of the server, sent once connected. */
static void
lead_setup(struct lead *l)
{
	(void)lead_sent(l, PQsendQuery(l->conn,
	    "SET client_min_messages = warning;"
	    "SET tcp_keepalives_idle = 2; SET tcp_keepalives_interval = 1;"
	    "SET tcp_keepalives_count = 3; SET tcp_user_timeout = 5000"));
}

/*
 * The heartbeat and, for a standby, the election: the row gets the role
 * the node has, or leader if it tries the lock and gets it, and answers
 * it.  CASE evaluates in order, so a leader and an observer never call
 * pg_try_advisory_lock (whose count a leader would otherwise raise at
 * every poll).
 */
static void
lead_poll(struct lead *l)
{
	char		 started[TIME_STRLEN], now[TIME_STRLEN];
	const char	*params[6];
	int		 try;

	/*
	 * A suspended leader tries at once; a standby's session made again
	 * (the server restarted) waits, for the leader to come back first.
	 */
	try = l->may_lead && l->role != LEAD_LEADER && (l->suspended ||
	    !l->again || mono_ms() - l->session >= LEAD_SETTLE_MS);
	params[0] = l->name;
	params[1] = lead_role_str(l->role);
	params[2] = try ? "t" : "f";
	params[3] = time_fmt(l->started, started, sizeof(started));
	params[4] = time_fmt(wall_ms(), now, sizeof(now));
	params[5] = RTOWATCH_VERSION;
	(void)lead_sent(l, PQsendQueryParams(l->conn,
	    "INSERT INTO nodes (name, role,"
	    " started, last_contact, version) VALUES ($1, CASE"
	    " WHEN NOT $3::boolean THEN $2"
	    " WHEN pg_try_advisory_lock(" LEAD_PG_LOCK ") THEN 'leader'"
	    " ELSE $2 END, $4, $5, $6)"
	    " ON CONFLICT (name) DO UPDATE SET role = excluded.role,"
	    " started = excluded.started,"
	    " last_contact = excluded.last_contact,"
	    " version = excluded.version RETURNING role", 6, NULL, params,
	    NULL, NULL, 0));
}

/*
 * The lock is ours: count a new leader in lead_term, or, suspended, find
 * the count still ours (nobody led between).  The row is read after the
 * lock, so no other node changes it meanwhile.
 */
static void
lead_take(struct lead *l)
{
	char		 term[24];
	const char	*params[2];

	snprintf(term, sizeof(term), "%lld", (long long)l->term);
	params[0] = l->name;
	params[1] = term;
	if (lead_sent(l, PQsendQueryParams(l->conn, l->suspended ?
	    "UPDATE lead_term SET node = $1 WHERE term = $2::bigint"
	    " RETURNING term" :
	    "WITH t AS (UPDATE lead_term SET term = term + 1, node = $1"
	    " WHERE $2::bigint IS NOT NULL RETURNING term),"
	    /* The leader before, gone: its row says so no longer. */
	    " d AS (UPDATE nodes SET role = 'standby' WHERE role = 'leader'"
	    " AND name <> $1) SELECT term FROM t", 2, NULL, params,
	    NULL, NULL, 0)) == 0)
		l->taking = LEAD_Q_TAKE;
}

/*
 * Suspended, and the lock is not free: another node's, or still this
 * node's own old session's, which the server ends within seconds (its
 * keepalives).  The count tells: unchanged, nobody else has led yet.
 */
static void
lead_check(struct lead *l)
{
	if (lead_sent(l, PQsendQuery(l->conn, "SELECT term FROM lead_term"))
	    == 0)
		l->taking = LEAD_Q_CHECK;
}

/* Lost for good: another node leads, or led since. */
static void
lead_lost(struct lead *l, const char *why)
{
	log_warnx("lead: node %s lost the lead: %s", l->name, why);
	l->suspended = 0;
	l->cb(LEAD_LOST, l->arg);
}

static void
lead_answer(struct lead *l, const char *role)
{
	if (strcmp(role, "leader") == 0 && l->role != LEAD_LEADER)
		l->term_pending = 1;	/* the lock: lead_take next */
	else if (strcmp(role, "leader") != 0 && l->suspended)
		l->check_pending = 1;	/* whose lock: lead_check next */
}

/* The answer of lead_take: the term, or none (another led between). */
static void
lead_took(struct lead *l, const PGresult *res)
{
	int	 q = l->taking;

	l->taking = 0;
	if (q == LEAD_Q_CHECK) {
		if (PQntuples(res) != 1 || strtoll(PQgetvalue(res, 0, 0),
		    NULL, 10) != l->term)
			lead_lost(l, "another node leads");
		return;		/* its own old session: it tries again */
	}
	if (PQntuples(res) != 1) {
		lead_lost(l, "another node led while it was cut off");
		return;
	}
	l->role = LEAD_LEADER;
	if (l->suspended) {
		l->suspended = 0;
		log_info("lead: node %s leads again (term %lld): nobody led "
		    "meanwhile, and what it held is written", l->name,
		    (long long)l->term);
		l->cb(LEAD_RESUME, l->arg);
		return;
	}
	l->term = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	log_info("lead: node %s leads now (term %lld)", l->name,
	    (long long)l->term);
	l->cb(LEAD_TAKE, l->arg);
}

/* The answers that arrived; -1 if the session is gone. */
static int
lead_read(struct lead *l)
{
	PGresult	*res;
	ExecStatusType	 s;

	if (PQconsumeInput(l->conn) == 0) {
		lead_drop(l, lead_error(l, NULL));
		return -1;
	}
	while (l->busy && !PQisBusy(l->conn)) {
		if ((res = PQgetResult(l->conn)) == NULL) {
			l->busy = 0;
			if (!l->ready) {
				l->ready = 1;
				l->session = mono_ms();
				lead_poll(l);
			} else if (l->term_pending) {
				l->term_pending = 0;
				lead_take(l);
			} else if (l->check_pending) {
				l->check_pending = 0;
				lead_check(l);
			}
			return 0;
		}
		s = PQresultStatus(res);
		if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
			lead_drop(l, lead_error(l, res));
			PQclear(res);
			return -1;
		}
		if (s == PGRES_TUPLES_OK && l->taking)
			lead_took(l, res);
		else if (s == PGRES_TUPLES_OK && PQntuples(res) == 1) {
			l->said = 0;
			lead_answer(l, PQgetvalue(res, 0, 0));
		}
		PQclear(res);
		if (l->conn == NULL)
			return -1;
	}
	if (PQstatus(l->conn) == CONNECTION_BAD) {
		lead_drop(l, lead_error(l, NULL));
		return -1;
	}
	return 0;
}

static void
lead_io_cb(evutil_socket_t fd, short events, void *arg)
{
	struct lead	*l = arg;

	(void)fd;
	(void)events;
	if (!l->connecting) {
		(void)lead_read(l);
		return;
	}
	switch (PQconnectPoll(l->conn)) {
	case PGRES_POLLING_READING:
		(void)lead_watch(l, EV_READ);
		break;
	case PGRES_POLLING_WRITING:
		(void)lead_watch(l, EV_WRITE);
		break;
	case PGRES_POLLING_OK:
		l->connecting = 0;
		if (lead_watch(l, EV_READ) == 0)
			lead_setup(l);
		break;
	default:
		lead_drop(l, lead_error(l, NULL));
		break;
	}
}

static void
lead_timer_cb(evutil_socket_t fd, short events, void *arg)
{
	struct lead	*l = arg;

	(void)fd;
	(void)events;
	if (l->conninfo == NULL) {
		/* SQLite: no row while the store holds changes. */
		if (l->role == LEAD_LEADER && !store_failing(l->store))
			(void)store_node_beat(l->store, l->name, "leader",
			    l->started, wall_ms());
		return;
	}
	if (l->conn == NULL)
		lead_connect(l);
	else if ((l->connecting || l->busy) &&
	    mono_ms() - l->since > LEAD_TIMEOUT_MS)
		lead_drop(l, l->connecting ? "connecting took too long" :
		    "the server did not answer");
	else if (!l->connecting && !l->busy && l->ready)
		lead_poll(l);
}

struct lead *
lead_start(struct event_base *base, struct store *store,
    const struct conf *conf, void (*cb)(enum lead_change, void *), void *arg)
{
	struct lead	*l;
	struct timeval	 tv;
	int		 ms;

	l = xcalloc(1, sizeof(*l));
	l->base = base;
	l->store = store;
	l->name = xstrdup(conf->node_name);
	l->may_lead = conf->lead;
	l->started = wall_ms();
	l->cb = cb;
	l->arg = arg;
	l->role = l->may_lead ? LEAD_STANDBY : LEAD_OBSERVER;
	ms = LEAD_POLL_MS;
	if (database_is_pg(conf->database))
		l->conninfo = xstrdup(conf->database);
	else
		ms = LEAD_SQLITE_BEAT_MS;
	if ((l->timer = event_new(base, -1, EV_PERSIST, lead_timer_cb,
	    l)) == NULL)
		fatalx("lead: event_new failed");
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	evtimer_add(l->timer, &tv);
	store_set_leading(store, 0);
	if (l->conninfo != NULL) {
		log_info("lead: node %s %s", l->name, l->may_lead ?
		    "stands by until it gets the lead" :
		    "observes and never leads (set lead no)");
		lead_connect(l);
		return l;
	}
	if (!l->may_lead) {
		log_warnx("lead: set lead no, and %s is SQLite, which has one "
		    "node: this node records nothing", conf->database);
		return l;
	}
	/* One node, the leader from the start. */
	l->role = LEAD_LEADER;
	cb(LEAD_TAKE, arg);
	(void)store_node_beat(store, l->name, "leader", l->started,
	    wall_ms());
	return l;
}

void
lead_free(struct lead *l)
{
	if (l == NULL)
		return;
	if (l->timer != NULL)
		event_free(l->timer);
	if (l->io != NULL)
		event_free(l->io);
	if (l->conn != NULL)
		PQfinish(l->conn);
	free(l->conninfo);
	free(l->name);
	free(l);
}
