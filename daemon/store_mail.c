/*
 * store_mail.c: the notifications outbox.
 *
 * Mail is queued in the transaction that decides it and sent by the
 * mailer, which marks each row sent or failed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store.h"
#include "store_int.h"
#include "util.h"

int
store_notification_queue(struct store *st, const struct store_notification *n)
{
	return store_run(st, "INSERT INTO notifications (incident_id,"
	    " channel, recipient, event, subject, body, created_at,"
	    " next_try_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", "ItttttTT",
	    n->incident_id, n->channel != NULL ? n->channel : "email",
	    n->recipient, n->event, n->subject, n->body, n->at, n->at);
}

/*
 * The queued rows of CHANNEL ("email", "webhook") that may go now or
 * next: of each incident and recipient, only the oldest queued row, so
 * that a later message never overtakes an earlier one.
 */
int
store_mail_heads(struct store *st, const char *channel,
    int (*cb)(const struct store_mail *, void *), void *arg)
{
	struct store_mail	 m;
	struct store_query		*stmt;
	int			 rc;

	stmt = store_stmt(st, "SELECT n.id, n.incident_id, n.recipient,"
	    " n.subject, n.body, n.attempts, n.created_at, n.next_try_at"
	    " FROM notifications n"
	    " WHERE n.state = 'queued' AND n.channel = ?1"
	    " AND NOT EXISTS (SELECT 1 FROM notifications e"
	    "  WHERE e.state = 'queued' AND e.channel = ?1"
	    "  AND e.incident_id = n.incident_id"
	    "  AND e.recipient = n.recipient AND e.id < n.id)"
	    " ORDER BY n.id", "t", channel);
	if (stmt == NULL)
		return -1;
	while ((rc = store_step(stmt)) == STORE_ROW) {
		memset(&m, 0, sizeof(m));
		m.id = store_column_int64(stmt, 0);
		m.incident_id = store_column_int64(stmt, 1);
		m.recipient = (const char *)store_column_text(stmt, 2);
		m.subject = (const char *)store_column_text(stmt, 3);
		m.body = (const char *)store_column_text(stmt, 4);
		m.attempts = store_column_int(stmt, 5);
		m.created_at = store_column_time(stmt, 6);
		m.next_try_at = store_column_time(stmt, 7);
		if (cb(&m, arg) == -1)
			break;
	}
	store_finalize(stmt);
	return rc == STORE_DONE || rc == STORE_ROW ? 0 : -1;
}

/*
 * The server accepted the message (250 after DATA).  *ALERTED says
 * whether the row had raised the "mail failing" alert.
 */
int
store_mail_sent(struct store *st, const struct store_delivery *m,
    int *alerted)
{
	struct store_query	*stmt;
	char		 detail[512];

	*alerted = 0;
	snprintf(detail, sizeof(detail), "mail %lld accepted by the mail "
	    "server for %s", (long long)m->id, m->address);
	if (store_begin(st) == -1)
		return -1;
	stmt = store_stmt(st, "UPDATE notifications SET state = 'sent',"
	    " sent_at = ?, address = ?, attempts = attempts + 1,"
	    " next_try_at = NULL WHERE id = ? AND state = 'queued'"
	    " RETURNING alerted_at IS NOT NULL", "TtI", m->at, m->address,
	    m->id);
	if (stmt == NULL) {
		store_rollback(st);
		return -1;
	}
	/* Form 01 prints when each mail went out: an event binds it. */
	if (store_write_row(st, stmt, alerted) == -1 ||
	    store_timeline_add(st, &(struct store_event){
	    .incident_id = m->incident_id, .at = m->at,
	    .event = "mail delivered", .actor = "rtowatchd",
	    .detail = detail }) == -1 || store_commit(st) == -1) {
		store_rollback(st);
		return -1;
	}
	return 0;
}

/*
 * The webhook's receiver answered 2xx: sent, and "webhook delivered" on
 * the incident's timeline, as "mail delivered" for mail.  Or it refused
 * the row for good (m->failed): failed, and "webhook failed".
 */
int
store_webhook_sent(struct store *st, const struct store_delivery *m)
{
	if (store_begin(st) == -1)
		return -1;
	if ((m->failed ? store_run(st, "UPDATE notifications SET"
	    " state = 'failed', address = ?, attempts = attempts + 1,"
	    " last_error = ?, next_try_at = NULL"
	    " WHERE id = ? AND state = 'queued'", "ttI", m->address,
	    m->detail, m->id) : store_run(st, "UPDATE notifications SET"
	    " state = 'sent', sent_at = ?, address = ?,"
	    " attempts = attempts + 1, next_try_at = NULL"
	    " WHERE id = ? AND state = 'queued'", "TtI", m->at, m->address,
	    m->id)) == -1 ||
	    store_timeline_add(st, &(struct store_event){
	    .incident_id = m->incident_id, .at = m->at,
	    .event = m->failed ? "webhook failed" : "webhook delivered",
	    .actor = "rtowatchd", .detail = m->detail }) == -1 ||
	    store_commit(st) == -1) {
		store_rollback(st);
		return -1;
	}
	return 0;
}

/*
 * Row ID is this node's to send (NODE) until UNTIL, unless another
 * node's claim on it still runs: 1 if it is ours, 0 if not, -1 on error.
 * On PostgreSQL the row is locked FOR UPDATE SKIP LOCKED, so that of two
 * nodes claiming it at once (a leader that has just lost the lead and
 * the one that took it) one gets it and the other passes it by without
 * waiting; SQLite has one writer, the lock is its own.  A failed attempt
 * ends the claim (store_mail_failed), so only a message in flight is
 * kept from another node: one whose sender died mid-session waits for
 * its claim to run out (mail-timeout) before the next leader sends it.
 */
#define STORE_MAIL_CLAIM(lock) \
	"UPDATE notifications SET claimed_by = ?1, claimed_until = ?2" \
	" WHERE id = (SELECT id FROM notifications WHERE id = ?3" \
	" AND state = 'queued' AND (claimed_until IS NULL" \
	" OR claimed_until <= ?4 OR claimed_by = ?1)" lock ")" \
	" RETURNING 1"

int
store_mail_claim(struct store *st, int64_t id, const char *node,
    int64_t until)
{
	struct store_query	*stmt;
	int			 got = 0;

	stmt = store_stmt(st, database_is_pg(store_path(st)) ?
	    STORE_MAIL_CLAIM(" FOR UPDATE SKIP LOCKED") :
	    STORE_MAIL_CLAIM(""), "tTIT", node, until, id, wall_ms());
	if (stmt == NULL || store_write_row(st, stmt, &got) == -1)
		return -1;
	/* Only recorded, held: not sent before the store writes again. */
	return store_holding(st) ? 0 : got == 1;
}

/* One more failed attempt: why, and when to try again. */
int
store_mail_failed(struct store *st, const struct store_mail_failure *f)
{
	return store_run(st, "UPDATE notifications SET"
	    " attempts = attempts + 1, last_error = ?, address = ?,"
	    " next_try_at = ?, claimed_until = NULL"
	    " WHERE id = ? AND state = 'queued'",
	    "ttTI", f->error, f->address, f->next_try_at, f->id);
}

/*
 * Incidents with queued rows of CHANNEL created at or before BEFORE that
 * have not raised the alert yet: how many such rows, the oldest one's
 * time and last error, and whether the incident is already in an
 * alerted episode of that channel.
 */
int
store_mail_overdue(struct store *st, const char *channel, int64_t before,
    int (*cb)(int64_t, int, int64_t, const char *, int, void *), void *arg)
{
	struct store_query	*stmt;
	int		 rc;

	stmt = store_stmt(st, "SELECT n.incident_id, count(*),"
	    " min(n.created_at), (SELECT o.last_error FROM notifications o"
	    "  WHERE o.incident_id = n.incident_id AND o.state = 'queued'"
	    "  AND o.channel = ?1 ORDER BY o.id LIMIT 1),"
	    " EXISTS (SELECT 1 FROM notifications a"
	    "  WHERE a.incident_id = n.incident_id AND a.state = 'queued'"
	    "  AND a.channel = ?1 AND a.alerted_at IS NOT NULL)"
	    " FROM notifications n WHERE n.state = 'queued'"
	    " AND n.channel = ?1 AND n.alerted_at IS NULL"
	    " AND n.created_at <= ?2 GROUP BY n.incident_id"
	    " ORDER BY n.incident_id", "tT", channel, before);
	if (stmt == NULL)
		return -1;
	while ((rc = store_step(stmt)) == STORE_ROW)
		if (cb(store_column_int64(stmt, 0),
		    store_column_int(stmt, 1), store_column_time(stmt, 2),
		    (const char *)store_column_text(stmt, 3),
		    store_column_int(stmt, 4), arg) == -1)
			break;
	store_finalize(stmt);
	return rc == STORE_DONE || rc == STORE_ROW ? 0 : -1;
}

/*
 * Mark the incident's queued rows of a->channel created at or before
 * a->before as alerted at a->at.
 */
int
store_mail_alerted(struct store *st, const struct store_mail_alert *a)
{
	return store_run(st, "UPDATE notifications SET alerted_at = ?"
	    " WHERE incident_id = ? AND state = 'queued' AND channel = ?"
	    " AND alerted_at IS NULL AND created_at <= ?",
	    "TItT", a->at, a->incident_id, a->channel, a->before);
}

/*
 * How many of INCIDENT's queued rows of CHANNEL are in an alerted
 * episode (-1 on error); and the oldest created_at of the channel's
 * queued rows that are not (0: none), for the next alert's timer.
 */
int
store_mail_pending(struct store *st, const char *channel, int64_t incident,
    int64_t *oldest)
{
	struct store_query	*stmt;
	int		 n = -1;

	stmt = store_stmt(st, "SELECT (SELECT count(*) FROM notifications"
	    "  WHERE incident_id = ?1 AND state = 'queued' AND channel = ?2"
	    "  AND alerted_at IS NOT NULL),"
	    " (SELECT min(created_at) FROM notifications"
	    "  WHERE state = 'queued' AND channel = ?2"
	    "  AND alerted_at IS NULL)", "It", incident, channel);
	if (stmt == NULL)
		return -1;
	if (store_step(stmt) == STORE_ROW) {
		n = store_column_int(stmt, 0);
		*oldest = store_column_time(stmt, 1);
	}
	store_finalize(stmt);
	return n;
}

/*
 * The outbox at a glance (GET /v1/status): rows queued, those of them in
 * a "mail failing" episode, and the oldest queued row's creation (0:
 * none).
 */
int
store_outbox_stats(struct store *st, int *queued, int *failing,
    int64_t *oldest)
{
	struct store_query	*stmt;
	int		 rc;

	stmt = store_prepare(st, "SELECT count(*), count(alerted_at),"
	    " min(created_at) FROM notifications WHERE state = 'queued'");
	if (stmt == NULL)
		return -1;
	if ((rc = store_step(stmt)) == STORE_ROW) {
		*queued = store_column_int(stmt, 0);
		*failing = store_column_int(stmt, 1);
		*oldest = store_column_time(stmt, 2);
	}
	store_finalize(stmt);
	return rc == STORE_ROW ? 0 : -1;
}
