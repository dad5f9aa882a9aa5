/*
 * store.h: the SQLite database, the daemon's source of truth.
 *
 * Every state change is committed here before it is acted on elsewhere.
 * The schema is created and migrated forward by PRAGMA user_version; the
 * database runs in WAL mode so that rtowatch can read while the daemon
 * writes.  Times are stored as ISO 8601 UTC text (see util.h).
 */
#ifndef RTOWATCH_STORE_H
#define RTOWATCH_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "record.h"

#define STORE_SCHEMA_VERSION	16

struct sqlite3;
struct store;

/* What the engine needs back after a restart: one row per open outage. */
struct store_open_outage {
	int64_t		 outage_id;
	int64_t		 incident_id;
	char		 system[256];
	int64_t		 started_at;
	int64_t		 detected_at;
	int64_t		 opened_at;
	int		 level;
	int		 major;
	char		 incident_system[256];	/* differs: attached;
						   empty: planned */
};

/* A new outage and the incident it opens, written in one transaction. */
struct store_new_incident {
	const char	*system;
	const char	*owner;
	int		 core;
	int		 critical_infrastructure;
	int64_t		 rto_ms;
	int		 level;
	int		 major;
	int64_t		 started_at;	/* the first failed probe */
	int64_t		 detected_at;	/* the Nth failed probe */
	int64_t		 opened_at;
	int64_t		 notify_due_at;
	int64_t		 restore_due_at;
	const char	*cause;		/* the failing probe's detail */
	int64_t		 recurrence_of;	/* a closed incident it recurs, or 0 */
	int64_t		 outage_id;	/* an attached outage going on, or 0 */
};

/*
 * One outage of a system: attached to another incident as its affected
 * scope (store_outage_attach), a relapse of a restored incident
 * (store_incident_reopen), or planned (store_outage_planned, which has
 * no incident and no event).
 */
struct store_outage {
	const char	*system;
	int64_t		 incident_id;	/* the incident it is part of */
	int64_t		 started_at;	/* the first failed probe */
	int64_t		 detected_at;	/* and the timeline event's time */
	const char	*cause;		/* the failing probe's detail */
	const char	*detail;	/* the timeline event's */
};

/*
 * An outage is over, and its incident restored (store_outage_end); or an
 * attached outage is over, and the parent's scope says so
 * (store_outage_detach, which reads only the ids, the time and detail).
 */
struct store_restore {
	int64_t		 outage_id;
	int64_t		 incident_id;
	int64_t		 restored_at;
	int		 within_rto;
	int		 availability;	/* the availability level */
	int		 level;		/* the incident's level */
	int		 major;
	const char	*detail;	/* the timeline event's */
};

/* A clock started: one obligation of an incident (store_clock_open). */
struct store_clock {
	int64_t		 incident_id;
	const char	*kind;
	int		 level;
	int64_t		 started_at;
	int64_t		 due_at;
};

/* A restore clock's new deadline, which its incident shows too. */
struct store_clock_due {
	int64_t		 clock_id;
	int64_t		 incident_id;
	int		 level;		/* whose deadline it now is */
	int64_t		 due_at;
};

/* A step's time corrected: its clocks stopped WAS stop AT instead. */
struct store_restop {
	int64_t		 incident_id;
	const char	*kind;
	int64_t		 was;
	int64_t		 at;
	const char	*by;
};

/*
 * One timeline event (store_timeline_add): about an incident, an early
 * warning, both (a warning related to an incident) or neither (the
 * daemon's own events); an absent id is 0.
 */
struct store_event {
	int64_t		 incident_id;
	int64_t		 warning_id;
	int64_t		 at;
	const char	*event;
	const char	*actor;
	const char	*detail;	/* NULL: empty */
};

/* A person's answer to an open warning (store_warning_answer). */
struct store_answer {
	int64_t		 warning_id;
	const char	*state;		/* false-positive, confirmed... */
	int64_t		 at;
	const char	*actor;
	const char	*reason;
	int64_t		 incident_id;	/* the incident confirmed, or 0 */
};

/* An anomaly episode over (store_warning_end), and the event saying so. */
struct store_warning_ending {
	int64_t		 warning_id;
	int64_t		 at;
	const char	*actor;
	const char	*detail;
};

/* What an anomaly episode saw (store_warning_indicator). */
struct store_indicator {
	int64_t		 warning_id;
	const char	*kind;		/* source, target, port, mac */
	const char	*value;
	int64_t		 packets;
};

/* A message queued in the outbox for one recipient. */
struct store_notification {
	int64_t		 incident_id;
	int64_t		 at;		/* created, and first to be tried */
	const char	*channel;	/* "email" or "webhook" */
	const char	*recipient;
	const char	*event;
	const char	*subject;
	const char	*body;
};

/* One more failed attempt at a message (store_mail_failed). */
struct store_mail_failure {
	int64_t		 id;		/* the notification's */
	const char	*address;
	const char	*error;
	int64_t		 next_try_at;
};

/*
 * A message the mail server accepted (store_mail_sent), or a webhook's
 * receiver (store_webhook_sent, which also gives up on one: failed).
 */
struct store_delivery {
	int64_t		 id;		/* the notification's */
	int64_t		 incident_id;
	const char	*address;
	int64_t		 at;
	int		 failed;	/* refused for good */
	const char	*detail;	/* the timeline event's */
};

/* Queued rows of an incident, created by BEFORE, raised the alert AT. */
struct store_mail_alert {
	const char	*channel;	/* "email" or "webhook" */
	int64_t		 incident_id;
	int64_t		 before;
	int64_t		 at;
};

/* A contact a person made (5.3.8): whom, how, when, by whom. */
struct store_contact {
	int64_t		 incident_id;
	int64_t		 at;		/* when it was made */
	int64_t		 entered_at;	/* when it was recorded */
	const char	*recipient;
	const char	*channel;
	const char	*made_by;
	const char	*note;
	int		 offline;	/* the notification, made offline */
};

/* A maintenance window a person added. */
struct store_maintenance {
	const char	*system;
	int64_t		 starts_at;
	int64_t		 ends_at;
	const char	*reason;
	int64_t		 created_at;
	const char	*created_by;
};

/* A clock still running (not stopped), as the engine re-arms it. */
struct store_open_clock {
	int64_t		 id;
	int64_t		 incident_id;
	char		 kind[16];
	int		 level;
	int64_t		 started_at;
	int64_t		 due_at;
	int		 reminders_done;
	int64_t		 breached_at;
	char		 system[256];
	int		 factor;	/* a drill's compression; 1: real */
};

/*
 * What the workflow needs to know of an incident before it changes it,
 * read through the record's table (store_incident_get copies each by its
 * RECORD_ name; no column list of its own).  Named members, not
 * store_incident_info's text[]/num[], because these are the columns the
 * daemon and its verbs own (status, levels, times, the rules' system
 * data, the portal's ticket), none a form field people `set` (the close
 * check reads those through the table): typed, so levels go to policy.c
 * and "%d" as ints, and held in fixed buffers, so the workflow's many
 * return paths have nothing to free.
 */
struct store_incident {
	int64_t		 id;
	char		 system[256];
	char		 status[16];	/* open, restored, closed */
	char		 kind[16];
	int		 level;
	int		 availability_level;
	int		 confidentiality_level;	/* 0: not set */
	int		 integrity_level;	/* 0: not set */
	int		 major;
	int64_t		 restored_at;	/* 0: not restored */
	char		 owner[256];
	int		 core;
	int		 critical_infrastructure;
	int64_t		 rto_ms;
	int64_t		 started_at;
	int64_t		 opened_at;
	int64_t		 reported_at;	/* 0: not reported */
	char		 ticket[136];
};

/* An early warning (資安預警事件). */
struct store_warning {
	int64_t		 id;
	char		 source[128];
	char		 reference[128];
	char		 system[256];
	char		 summary[512];
	char		 detail[2048];
	char		 state[16];
};

/*
 * An incident's whole record, as a notification describes it
 * (store_incident_info): each field of the record's table at its
 * RECORD_ index, text as stored (NULL when unset) for TEXT and TIME,
 * the number for INT, BOOL and TIME (ms; 0 when unset).
 */
struct store_incident_info {
	int64_t		 id;
	char		*text[RECORD_NFIELDS];
	int64_t		 num[RECORD_NFIELDS];
};

/* A queued mail, valid during the callback of store_mail_heads. */
struct store_mail {
	int64_t		 id;
	int64_t		 incident_id;
	const char	*recipient;
	const char	*subject;
	const char	*body;
	int		 attempts;
	int64_t		 created_at;
	int64_t		 next_try_at;
};

/* Whether the database accepts writes (store.c: the store fails soft). */
struct store_health {
	int		 failing;
	int64_t		 since;		/* wall ms of the first refusal */
	int64_t		 for_ms;	/* monotonic, so far */
	size_t		 held;		/* transactions waiting in memory */
	size_t		 held_bytes;
	unsigned	 refused;	/* at the bound, not recorded */
	int		 alerted;
	int64_t		 oldest_at;	/* the oldest held one's time */
	const char	*error;		/* the database's last refusal */
};

/*
 * One bucket of a check's response-time history (store_response.c):
 * the results of the probes that started in [at, at + span), Unix
 * seconds, and the round trips of the good ones, in ms.
 */
struct store_response {
	const char	*system;
	const char	*check;		/* its description */
	int64_t		 span;
	int64_t		 at;
	int64_t		 ok;
	int64_t		 failed;
	int64_t		 rtt_min;	/* these: when ok > 0 */
	int64_t		 rtt_max;
	int64_t		 rtt_sum;
	const char	*cause;		/* the last failure's, or NULL */
};

/* What is kept of the history, in seconds (set history-...). */
struct store_response_keep {
	int64_t		 short_span;	/* a minute */
	int64_t		 long_span;	/* an hour */
	int64_t		 short_keep;	/* short buckets, then rolled up */
	int64_t		 long_keep;	/* long ones, then deleted */
};

struct event_base;

struct store	*store_open(const char *);
void		 store_start(struct store *, struct event_base *);
void		 store_set_alert(struct store *, int64_t);
void		 store_on_flush(struct store *, void (*)(void *), void *);
void		 store_on_alert(struct store *, void (*)(const char *, void *),
		    void *);
int		 store_failing(const struct store *);
const char	*store_read_fault(const struct store *);
/*
 * Whether this node leads (lead.c): a node that does not refuses every
 * write, and on losing the lead drops what it held.
 */
void		 store_set_leading(struct store *, int);
int		 store_leading(const struct store *);
void		 store_suspend(struct store *, int);
/* This node's row of the nodes table (SQLite: lead.c's heartbeat). */
int		 store_node_beat(struct store *, const char *, const char *,
		    int64_t, int64_t);
/* Every node's row, for status: name, role, started, last contact. */
int		 store_nodes(struct store *, int (*)(const char *,
		    const char *, int64_t, int64_t, const char *, void *),
		    void *);
int		 store_holding(const struct store *);
void		 store_health(const struct store *, struct store_health *);
int		 store_later(struct store *, int (*)(struct store *, void *),
		    void (*)(void *), void *);
int		 store_call(struct store *, int (*)(struct store *, void *),
		    void (*)(void *), void *, size_t, const char *);
int		 store_begin(struct store *);
int		 store_begin_own(struct store *);
int		 store_commit(struct store *);
void		 store_rollback(struct store *);
void		 store_group_begin(struct store *);
void		 store_group_commit(struct store *);
void		 store_close(struct store *);
int		 store_reopen(struct store *);
void		 store_close_moved(struct store *);
struct sqlite3	*store_sqlite(struct store *);
const char	*store_path(const struct store *);
int		 store_open_outages(struct store *,
		    int (*)(const struct store_open_outage *, void *), void *);
int		 store_outage_open(struct store *,
		    const struct store_new_incident *, int64_t *, int64_t *);
int		 store_outage_attach(struct store *,
		    const struct store_outage *, int64_t *);
int		 store_outage_detach(struct store *,
		    const struct store_restore *);
int		 store_incident_scope_down(struct store *, int64_t, char *,
		    size_t);
int		 store_incident_reopen(struct store *,
		    const struct store_outage *, int64_t *);
int		 store_last_restored(struct store *, int (*)(const char *,
		    int64_t, int64_t, int, int, void *), void *);
int		 store_outage_planned(struct store *,
		    const struct store_outage *, int64_t *);
int		 store_outage_close(struct store *, int64_t, int64_t);
int		 store_outage_end(struct store *,
		    const struct store_restore *);
int		 store_incident_escalate(struct store *, int64_t, int,
		    int64_t, const char *);
int		 store_clock_open(struct store *, const struct store_clock *,
		    int64_t *);
int		 store_clock_set_due(struct store *,
		    const struct store_clock_due *);
int		 store_clock_move(struct store *, int64_t, int, int64_t);
int		 store_clock_progress(struct store *, int64_t, int, int64_t);
int		 store_clock_stop(struct store *, int64_t, const char *,
		    int64_t, const char *);
int		 store_clock_restop(struct store *,
		    const struct store_restop *);
int		 store_open_clocks(struct store *, int64_t,
		    int (*)(const struct store_open_clock *, void *), void *);
int		 store_notification_queue(struct store *,
		    const struct store_notification *);
int		 store_timeline_add(struct store *,
		    const struct store_event *);
int		 store_incident_get(struct store *, int64_t,
		    struct store_incident *);
int		 store_incident_update(struct store *, int64_t, int,
		    const char *const [], const char *const []);
int		 store_incident_empty(struct store *, int64_t, int,
		    const char *const [], unsigned *);
int		 store_incident_insert(struct store *, const char *,
		    const struct store_new_incident *, int64_t, int64_t *);
int		 store_warning_open(struct store *,
		    const struct store_warning *, int64_t, const char *,
		    int64_t *);
int		 store_warning_get(struct store *, int64_t,
		    struct store_warning *);
int		 store_warning_answer(struct store *,
		    const struct store_answer *);
int		 store_maintenance_add(struct store *,
		    const struct store_maintenance *, int64_t *);
int		 store_maintenance_get(struct store *, int64_t, char *, size_t,
		    int64_t *, int64_t *, int *);
int		 store_maintenance_cancel(struct store *, int64_t, int64_t,
		    const char *);
int		 store_maintenance_windows(struct store *, int64_t,
		    int (*)(const char *, int64_t, int64_t, void *), void *);
int64_t		 store_timeline_last(struct store *);
int		 store_select(struct store *, const char *, int,
		    const char *const [], int (*)(int, const char *const *,
		    const char *const *, const int *, void *), void *);
void		 store_on_commit(struct store *, void (*)(void *), void *);
int		 store_incident_info(struct store *, int64_t,
		    struct store_incident_info *);
void		 store_incident_info_clear(struct store_incident_info *);
int		 store_mail_heads(struct store *, const char *,
		    int (*)(const struct store_mail *, void *), void *);
int		 store_webhook_sent(struct store *,
		    const struct store_delivery *);
int		 store_mail_sent(struct store *,
		    const struct store_delivery *, int *);
int		 store_mail_claim(struct store *, int64_t, const char *,
		    int64_t);
int		 store_mail_failed(struct store *,
		    const struct store_mail_failure *);
int		 store_mail_overdue(struct store *, const char *, int64_t,
		    int (*)(int64_t, int, int64_t, const char *, int, void *),
		    void *);
int		 store_mail_alerted(struct store *,
		    const struct store_mail_alert *);
int		 store_mail_pending(struct store *, const char *, int64_t,
		    int64_t *);
int		 store_outbox_stats(struct store *, int *, int *, int64_t *);
int		 store_warning_end(struct store *,
		    const struct store_warning_ending *);
int		 store_warning_detail(struct store *, int64_t, const char *);
int		 store_warning_end_orphans(struct store *, int64_t,
		    const char *, const char *);
int		 store_warning_indicator(struct store *,
		    const struct store_indicator *);
int		 store_contact_add(struct store *,
		    const struct store_contact *);
/*
 * Vantage points (store_vantage.c): a node's observation of a check going
 * down or up, as it saw it, and its heartbeat.
 */
struct store_observation {
	int64_t		 id;
	const char	*node;
	const char	*system;
	const char	*check;
	int		 down;
	int64_t		 at;
	const char	*cause;
};

int		 store_observations_add(struct store *,
		    const struct store_observation *, size_t);
int		 store_observations_after(struct store *, int64_t,
		    const char *, int (*)(const struct store_observation *,
		    void *), void *);
int		 store_vantage_points(struct store *,
		    int (*)(const char *, const char *, void *), void *);
/* Each node's latest observation of each check (status), by node. */
int		 store_observations_latest(struct store *,
		    int (*)(const struct store_observation *, void *), void *);
/* The leader's reads of them on PostgreSQL, off the loop. */
struct store_vantage_reader;
struct event_base;
struct store_vantage_reader *store_vantage_reader_new(struct event_base *,
		    const char *);
int		 store_vantage_read(struct store_vantage_reader *, int64_t,
		    const char *, int (*)(const char *, const char *, void *),
		    int (*)(const struct store_observation *, void *),
		    void (*)(int, void *), void *);
void		 store_vantage_reader_free(struct store_vantage_reader *);
/*
 * Where the observations' prune is: the views up to FROM (a time as
 * written; "" none) are judged, and END says it read up to the keeping.
 */
struct store_prune_at {
	char	from[sizeof("YYYY-MM-DDTHH:MM:SS.mmmZ")];
	int	end;
};
int		 store_observations_prune(struct store *, int64_t, int64_t,
		    int64_t, int, struct store_prune_at *);
int		 store_response_add(struct store *,
		    const struct store_response *, int);
int		 store_response_add_many(struct store *,
		    const struct store_response *, size_t, int);
int		 store_response_rollup(struct store *, int64_t,
		    const struct store_response_keep *, int, int64_t *);

#endif
