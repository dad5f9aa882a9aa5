/*
 * workflow.c: the steps people record (IMS-P-009 5.3, 5.4), each checked
 * in full before one transaction writes the change, its timeline event,
 * the clocks it stops or starts and the notifications it entails.
 *
 * The actor is the caller's OS account, as the control socket learned it
 * from the kernel; nothing here trusts a name the caller typed.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "clocks.h"
#include "conf.h"
#include "engine.h"
#include "log.h"
#include "policy.h"
#include "record.h"
#include "store.h"
#include "util.h"
#include "workflow.h"

#define WF_MAX_TEXT	8192	/* one form field, in bytes */
#define WF_SKEW_MS	60000	/* a given time may be this far ahead */

/* How a person may tell someone (5.3.8, 5.3.7.3.3, 5.3.7.3.9). */
static const char *const wf_channels[] = { "phone", "fax", "in-person",
    "email" };

static int
wf_fail(struct wf_result *r, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int	wf_due_column(struct workflow *, int64_t, const char *,
		    int64_t);

static int
wf_fail(struct wf_result *r, int status, const char *fmt, ...)
{
	va_list	 ap;

	r->status = status;
	va_start(ap, fmt);
	vsnprintf(r->error, sizeof(r->error), fmt, ap);
	va_end(ap);
	return -1;
}

const char *
wf_field_column(const char *field)
{
	const struct record_field	*f = record_settable(field);

	return f != NULL ? f->column : NULL;
}

static void
wf_begin_result(struct wf_result *r, int64_t incident)
{
	memset(r, 0, sizeof(*r));
	r->status = WF_OK;
	r->incident = incident;
}

/* The incident ID, which must exist and, unless CLOSED_OK, be open. */
static int
wf_incident(struct workflow *wf, int64_t id, struct store_incident *inc,
    int closed_ok, struct wf_result *r)
{
	int	 rc;

	if ((rc = store_incident_get(wf->store, id, inc)) == -1)
		return wf_fail(r, WF_FAILED, "cannot read incident %lld",
		    (long long)id);
	if (rc == 0)
		return wf_fail(r, WF_NOT_FOUND, "no incident %lld",
		    (long long)id);
	if (!closed_ok && strcmp(inc->status, "closed") == 0)
		return wf_fail(r, WF_CONFLICT, "incident %lld is closed; its "
		    "record is final", (long long)id);
	return 0;
}

static int
wf_text_ok(const char *what, const char *text, int required,
    struct wf_result *r)
{
	if (text == NULL || text[0] == '\0') {
		if (required)
			return wf_fail(r, WF_BAD, "%s is required", what);
		return 0;
	}
	if (strlen(text) > WF_MAX_TEXT)
		return wf_fail(r, WF_BAD, "%s is longer than %d bytes", what,
		    WF_MAX_TEXT);
	return 0;
}

/* Commit, or roll back and say so; then the clocks follow the store. */
static int
wf_commit(struct workflow *wf, int64_t incident, struct wf_result *r)
{
	struct store	*st = wf->store;

	if (store_commit(st) == -1) {
		store_rollback(st);
		return wf_fail(r, WF_FAILED, "the database refused the "
		    "change; nothing was recorded");
	}
	if (incident != 0)
		clocks_sync(wf->clocks, incident);
	r->event = store_timeline_last(st);
	return 0;
}

static int
wf_abort(struct workflow *wf, struct wf_result *r)
{
	store_rollback(wf->store);
	return wf_fail(r, WF_FAILED, "the database refused the change; "
	    "nothing was recorded");
}

/* Set the step's time and actor columns and write its timeline event. */
static int
wf_step(struct workflow *wf, int64_t id, const char *at_col, const char *by_col,
    int64_t at, const char *actor, const char *event, const char *detail)
{
	const char	*cols[2] = { at_col, by_col };
	const char	*vals[2];
	char		 when[TIME_STRLEN];

	vals[0] = time_fmt(at, when, sizeof(when));
	vals[1] = actor;
	if (at_col != NULL &&
	    store_incident_update(wf->store, id, 2, cols, vals) == -1)
		return -1;
	return store_timeline_add(wf->store, &(struct store_event){
	    .incident_id = id, .at = at, .event = event, .actor = actor,
	    .detail = detail });
}

int
wf_ack(struct workflow *wf, int64_t id, const char *actor, const char *note,
    struct wf_result *r)
{
	struct store_incident	 inc;
	char			 detail[WF_MAX_TEXT + 64];
	int			 first;

	wf_begin_result(r, id);
	if (wf_incident(wf, id, &inc, 0, r) == -1 ||
	    wf_text_ok("note", note, 0, r) == -1)
		return -1;
	snprintf(detail, sizeof(detail), "acknowledged by %s%s%s", actor,
	    note != NULL && *note != '\0' ? ": " : "", note ? note : "");
	if (store_begin(wf->store) == -1)
		return wf_abort(wf, r);
	{
		const char	*col[1] = { "acknowledged_at" };
		unsigned	 empty;

		if (store_incident_empty(wf->store, id, 1, col,
		    &empty) == -1)
			return wf_abort(wf, r);
		first = empty != 0;
	}
	/* The first acknowledgement is the record's; all are in the timeline. */
	if (wf_step(wf, id, first ? "acknowledged_at" : NULL,
	    "acknowledged_by", wall_ms(), actor, "acknowledged",
	    detail) == -1)
		return wf_abort(wf, r);
	return wf_commit(wf, id, r);
}

/* The latest start of an open notification clock: a report stops them. */
static int
wf_notify_started(const struct store_open_clock *c, void *arg)
{
	int64_t	*latest = arg;

	if (strcmp(c->kind, policy_clock_name(CLOCK_NOTIFY)) == 0 &&
	    c->started_at > *latest)
		*latest = c->started_at;
	return 0;
}

/*
 * A time a person gives for a step (reported --at) is a claim about the
 * past: it cannot precede the incident's opening, when it was confirmed
 * and the notification clock started (5.3.7.3.6: 經確認為資安事件後),
 * since nothing could be reported of an incident not yet confirmed, nor
 * a clock stopped before it ran; nor can it be ahead of this host's
 * clock by more than a minute of skew.  Without such a bound a late
 * report could be entered as an early one and a missed deadline read as
 * met.
 */
static int
wf_claimed_time(const char *what, int64_t at, int64_t floor,
    const char *floor_what, int64_t now, struct wf_result *r)
{
	char	 t[TIME_STRLEN], f[TIME_STRLEN];

	if (at > now + WF_SKEW_MS)
		return wf_fail(r, WF_BAD, "the %s time %s is in the future "
		    "(this host's clock says %s)", what,
		    time_fmt(at, t, sizeof(t)), time_fmt(now, f, sizeof(f)));
	if (at < floor)
		return wf_fail(r, WF_BAD, "the %s time %s is before %s at %s; "
		    "it cannot precede it", what, time_fmt(at, t, sizeof(t)),
		    floor_what, time_fmt(floor, f, sizeof(f)));
	return 0;
}

/*
 * Reported on the national portal (5.3.7.3.1): the ticket number stops
 * every notification clock running now.  A later raise of the level
 * opens a clock of its own, which the next report (續行通報) stops.
 * A clock that started after the time claimed runs on (store_clock_stop).
 * A report given again while no clock runs is a correction: it needs a
 * reason, and the first report stays in the timeline beside it.  The
 * time claimed (--at) and the time entered are both kept; a clock the
 * daemon already recorded as missed stays missed (query.c's state).
 */
int
wf_reported(struct workflow *wf, int64_t id, const char *actor,
    const char *ticket, int64_t at, const char *note, const char *reason,
    struct wf_result *r)
{
	struct store_incident	 inc;
	struct store		*st = wf->store;
	const char		*cols[4] = { "reported_at", "reported_by",
				    "ticket", "reported_entered_at" };
	const char		*vals[4];
	const char		*event = "reported";
	char			 when[TIME_STRLEN], entered[TIME_STRLEN];
	char			 was[TIME_STRLEN], by[512];
	char			 detail[2 * WF_MAX_TEXT + 512], first[512];
	int64_t			 now = wall_ms(), clock_start = 0;
	int			 correction;

	wf_begin_result(r, id);
	if (wf_incident(wf, id, &inc, 0, r) == -1 ||
	    wf_text_ok("ticket", ticket, 1, r) == -1 ||
	    wf_text_ok("note", note, 0, r) == -1 ||
	    wf_text_ok("reason", reason, 0, r) == -1)
		return -1;
	if (strlen(ticket) > 128)
		return wf_fail(r, WF_BAD, "ticket is longer than 128 bytes");
	if (store_open_clocks(st, id, wf_notify_started, &clock_start) == -1)
		return wf_fail(r, WF_FAILED, "cannot read incident %lld's "
		    "clocks", (long long)id);
	if (at == 0)
		at = now;
	if (wf_claimed_time("report", at, inc.opened_at,
	    "the incident's opening (confirmation)", now, r) == -1)
		return -1;
	/*
	 * Reported already: with a clock running (a raised level) this is
	 * the follow-up report (續行通報), which cannot precede that clock;
	 * with none, a correction (更正).
	 */
	if (inc.reported_at != 0 && clock_start != 0 &&
	    wf_claimed_time("follow-up report (續行通報)", at, clock_start,
	    "the raised level's notification clock", now, r) == -1)
		return -1;
	correction = inc.reported_at != 0 && clock_start == 0;
	if (correction && (reason == NULL || *reason == '\0'))
		return wf_fail(r, WF_BAD, "incident %lld was reported already "
		    "at %s, ticket %s; a second report is a correction and "
		    "needs --reason", (long long)id, time_fmt(inc.reported_at,
		    was, sizeof(was)), inc.ticket);
	vals[0] = time_fmt(at, when, sizeof(when));
	vals[1] = actor;
	vals[2] = ticket;
	vals[3] = time_fmt(now, entered, sizeof(entered));
	first[0] = '\0';
	if (inc.reported_at != 0)
		snprintf(first, sizeof(first), "; %s report: at %s, ticket %s",
		    correction ? "replaces the" :
		    "follow-up (續行通報) to the",
		    time_fmt(inc.reported_at, was, sizeof(was)), inc.ticket);
	if (correction)
		event = "report corrected";
	snprintf(detail, sizeof(detail), "reported on the portal at %s, "
	    "ticket %s, entered at %s%s%s%s%s%s", when, ticket, entered, first,
	    correction ? "; reason: " : "", correction ? reason : "",
	    note != NULL && *note != '\0' ? ": " : "", note ? note : "");
	snprintf(by, sizeof(by), "%s: portal ticket %s", actor, ticket);
	if (store_begin(st) == -1 ||
	    store_incident_update(st, id, 4, cols, vals) == -1 ||
	    (correction && store_clock_restop(st, &(struct store_restop){
	    .incident_id = id, .kind = policy_clock_name(CLOCK_NOTIFY),
	    .was = inc.reported_at, .at = at, .by = by }) == -1) ||
	    clocks_stop(wf->clocks, id, CLOCK_NOTIFY, at, by) == -1 ||
	    /*
	     * 5.3.8's 結案期限 runs 「接獲通報後」, from the notification:
	     * from when the portal took the report (the time it was
	     * made), as the portal itself counts its closure deadline.
	     */
	    clocks_open_once(wf->clocks, id, CLOCK_CLOSE, inc.level,
	    at) == -1 ||
	    store_timeline_add(st, &(struct store_event){ .incident_id = id,
	    .at = now, .event = event, .actor = actor,
	    .detail = detail }) == -1)
		return wf_abort(wf, r);
	return wf_commit(wf, id, r);
}

/* "yes", "no", "是", "否", alone or before an explanation. */
static int
wf_answers_yes_no(const char *v)
{
	static const char *const words[] = { "yes", "no", "是", "否" };
	size_t	 i, n;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		n = strlen(words[i]);
		/* Not "none" or "nobody": a word of its own. */
		if (strncasecmp(v, words[i], n) == 0 &&
		    !isalnum((unsigned char)v[n]))
			return 1;
	}
	return 0;
}

int
wf_set(struct workflow *wf, int64_t id, const char *actor, const char *field,
    const char *value, struct wf_result *r)
{
	struct store_incident	 inc;
	const char		*column;
	char			 detail[WF_MAX_TEXT + 64];

	wf_begin_result(r, id);
	if (field == NULL || (column = wf_field_column(field)) == NULL)
		return wf_fail(r, WF_BAD, "unknown field \"%s\"; the fields "
		    "are %s", field ? field : "", record_settable_list());
	if (wf_incident(wf, id, &inc, 0, r) == -1 ||
	    wf_text_ok(field, value, 1, r) == -1)
		return -1;
	if (strcmp(field, "category") == 0 &&
	    conf_find_category(wf->conf, value) == NULL)
		return wf_fail(r, WF_BAD, "unknown category \"%s\" (see the "
		    "rules' category lines)", value);
	if (strcmp(field, "other-units-affected") == 0 &&
	    !wf_answers_yes_no(value))
		return wf_fail(r, WF_BAD, "other-units-affected answers the "
		    "portal's question 是否影響其他連線單位運作: begin it with "
		    "yes, no, 是 or 否 (\"no: only our own web site\")");
	snprintf(detail, sizeof(detail), "%s: %s", field, value);
	if (store_begin(wf->store) == -1 ||
	    store_incident_update(wf->store, id, 1, &column,
	    &value) == -1 ||
	    store_timeline_add(wf->store, &(struct store_event){
	    .incident_id = id, .at = wall_ms(), .event = "field set",
	    .actor = actor, .detail = detail }) == -1)
		return wf_abort(wf, r);
	return wf_commit(wf, id, r);
}

/*
 * Confidentiality and integrity levels come from people (5.3.2): the
 * incident's level is the highest of the three.  A raised level is
 * notified again on a clock of its own (5.4.2), its restore clock takes
 * the new length, and a restored incident now at level 3-4 owes the
 * investigation report.  Levels are never lowered here: the record of a
 * higher assessment stands, and a correction is a new incident note.
 */
int
wf_level(struct workflow *wf, int64_t id, const char *actor, int c, int i,
    const char *reason, struct wf_result *r)
{
	struct store_incident	 inc;
	struct store		*st = wf->store;
	struct clocks		*cl = wf->clocks;
	const struct policy	*pol = &wf->conf->policy;
	const char		*cols[3], *vals[3];
	char			 cbuf[8], ibuf[8], lbuf[8];
	char			 cshow[8], ishow[8];
	char			 detail[WF_MAX_TEXT + 256];
	int64_t			 now = wall_ms(), due;
	int			 n = 0, level;

	wf_begin_result(r, id);
	if (c == 0 && i == 0)
		return wf_fail(r, WF_BAD, "give a confidentiality or an "
		    "integrity level");
	if (c < 0 || c > POLICY_LEVELS || i < 0 || i > POLICY_LEVELS)
		return wf_fail(r, WF_BAD, "levels are 1 to %d", POLICY_LEVELS);
	if (wf_incident(wf, id, &inc, 0, r) == -1 ||
	    wf_text_ok("reason", reason, 1, r) == -1)
		return -1;
	if ((c != 0 && c < inc.confidentiality_level) ||
	    (i != 0 && i < inc.integrity_level))
		return wf_fail(r, WF_CONFLICT, "incident %lld already has "
		    "confidentiality %d, integrity %d; levels are not lowered",
		    (long long)id, inc.confidentiality_level,
		    inc.integrity_level);
	if (c != 0) {
		snprintf(cbuf, sizeof(cbuf), "%d", c);
		cols[n] = "confidentiality_level";
		vals[n++] = cbuf;
	} else
		c = inc.confidentiality_level;
	if (i != 0) {
		snprintf(ibuf, sizeof(ibuf), "%d", i);
		cols[n] = "integrity_level";
		vals[n++] = ibuf;
	} else
		i = inc.integrity_level;
	level = inc.level;
	if (c > level)
		level = c;
	if (i > level)
		level = i;
	snprintf(lbuf, sizeof(lbuf), "%d", level);
	cols[n] = "level";
	vals[n++] = lbuf;
	/* An aspect not assessed is "-", as show and the forms print it. */
	snprintf(cshow, sizeof(cshow), "%d", c);
	snprintf(ishow, sizeof(ishow), "%d", i);
	snprintf(detail, sizeof(detail), "availability %d, confidentiality "
	    "%s, integrity %s: level %d -> %d (%s): %s",
	    inc.availability_level, c != 0 ? cshow : "-", i != 0 ? ishow :
	    "-", inc.level, level, policy_level_name(level), reason);

	if (store_begin(st) == -1 ||
	    store_incident_update(st, id, n, cols, vals) == -1 ||
	    store_timeline_add(st, &(struct store_event){ .incident_id = id,
	    .at = now, .event = "level set", .actor = actor,
	    .detail = detail }) == -1)
		return wf_abort(wf, r);
	if (level > inc.level) {
		if (clocks_open(cl, id, CLOCK_NOTIFY, level, now, &due) == -1 ||
		    clocks_relevel(cl, id, CLOCK_RESTORE, level) == -1 ||
		    clocks_relevel(cl, id, CLOCK_CLOSE, level) == -1 ||
		    clocks_report_start(cl, id, level) == -1 ||
		    notice_queue(st, pol, id, level, inc.system,
		    "level raised", detail, now) == -1)
			return wf_abort(wf, r);
	}
	if (wf_commit(wf, id, r) == -1)
		return -1;
	engine_incident_relevel(wf->engine, id, level);
	return 0;
}

/*
 * A step that stops a clock: its time and actor on the incident, the
 * clock stopped by it, and its timeline event.
 */
static int
wf_clock_step(struct workflow *wf, int64_t id, const char *actor,
    const char *note, enum policy_clock kind, const char *event,
    const char *what, const char *at_col, const char *by_col,
    struct wf_result *r)
{
	struct store_incident	 inc;
	char			 detail[WF_MAX_TEXT + 64], by[512];
	int64_t			 now = wall_ms();

	wf_begin_result(r, id);
	if (wf_incident(wf, id, &inc, 0, r) == -1 ||
	    wf_text_ok("note", note, 0, r) == -1)
		return -1;
	snprintf(detail, sizeof(detail), "%s%s%s", what,
	    note != NULL && *note != '\0' ? ": " : "", note ? note : "");
	snprintf(by, sizeof(by), "%s: %s", actor, event);
	if (store_begin(wf->store) == -1 ||
	    clocks_stop(wf->clocks, id, kind, now, by) == -1 ||
	    wf_step(wf, id, at_col, by_col, now, actor, event, detail) == -1 ||
	    /* 5.3.7.3.6: controlled or restored, whichever is first. */
	    (kind == CLOCK_RESTORE && clocks_report_start(wf->clocks, id,
	    inc.level) == -1))
		return wf_abort(wf, r);
	return wf_commit(wf, id, r);
}

/* Damage controlled (損害控制, 5.3.4): the restore clocks stop. */
int
wf_controlled(struct workflow *wf, int64_t id, const char *actor,
    const char *note, struct wf_result *r)
{
	return wf_clock_step(wf, id, actor, note, CLOCK_RESTORE,
	    "damage controlled", "damage controlled", "controlled_at",
	    "controlled_by", r);
}

/* The investigation report is filed (5.3.3): the report clock stops. */
int
wf_report_filed(struct workflow *wf, int64_t id, const char *actor,
    const char *note, struct wf_result *r)
{
	return wf_clock_step(wf, id, actor, note, CLOCK_REPORT, "report filed",
	    "investigation report filed", "report_filed_at", "report_filed_by",
	    r);
}

/*
 * Close: the outage is over, the portal report made, and the fields the
 * procedure asks for at this level are filled in; otherwise name every
 * one that is missing.
 */
int
wf_close(struct workflow *wf, int64_t id, const char *actor, const char *note,
    struct wf_result *r)
{
	struct store_incident	 inc;
	struct store		*st = wf->store;
	const char		*fields[16], *cols[16];
	const char		*ccols[2] = { "closed_at", "closed_by" };
	const char		*cvals[3];
	char			 when[TIME_STRLEN], by[512], down[256];
	char			 detail[WF_MAX_TEXT + 64];
	unsigned		 empty;
	int64_t			 now = wall_ms();
	size_t			 k;
	int			 n = 0, j, rc;

	wf_begin_result(r, id);
	if (wf_incident(wf, id, &inc, 0, r) == -1 ||
	    wf_text_ok("note", note, 0, r) == -1)
		return -1;
	if (strcmp(inc.kind, "outage") == 0 && inc.restored_at == 0)
		return wf_fail(r, WF_CONFLICT, "incident %lld: %s is still "
		    "down; it can be closed once it is restored",
		    (long long)id, inc.system);
	/* Its record would change when that system comes back. */
	if ((rc = store_incident_scope_down(st, id, down,
	    sizeof(down))) == -1)
		return wf_fail(r, WF_FAILED, "cannot read incident %lld",
		    (long long)id);
	if (rc == 1)
		return wf_fail(r, WF_CONFLICT, "incident %lld: %s, in its "
		    "affected scope, is still down; it can be closed once it "
		    "is back", (long long)id, down);
	/*
	 * What closing needs, in the record's order: cause, scope, measures
	 * and the ticket always; items C-G of 5.4.7.3.6 and the corrective
	 * action form for levels 3-4; the report where its clock applies;
	 * the portal's closing (5.3.7.3.5) last.
	 */
	for (k = 0; k < RECORD_NFIELDS; k++) {
		const struct record_field	*f = &record_fields[k];

		if (f->close == RECORD_CLOSE_NO ||
		    (f->close == RECORD_CLOSE_34 && inc.level < 3) ||
		    (f->close == RECORD_CLOSE_REPORT &&
		    !policy_clock_applies(&wf->conf->policy,
		    CLOCK_REPORT, inc.level)))
			continue;
		if (n == (int)(sizeof(fields) / sizeof(fields[0])))
			fatalx("%s: too many fields to close", __func__);
		cols[n] = f->column;
		fields[n++] = f->name;
	}
	if (store_incident_empty(st, id, n, cols, &empty) == -1)
		return wf_fail(r, WF_FAILED, "cannot read incident %lld",
		    (long long)id);
	for (j = 0; j < n; j++)
		if (empty & (1U << j))
			r->missing[r->nmissing++] = fields[j];
	if (r->nmissing > 0) {
		size_t	 len;

		len = (size_t)snprintf(r->error, sizeof(r->error),
		    "incident %lld cannot be closed; missing:", (long long)id);
		for (j = 0; j < r->nmissing && len < sizeof(r->error); j++)
			len += (size_t)snprintf(r->error + len,
			    sizeof(r->error) - len, " %s", r->missing[j]);
		r->status = WF_CONFLICT;
		return -1;
	}

	cvals[0] = time_fmt(now, when, sizeof(when));
	cvals[1] = actor;
	snprintf(detail, sizeof(detail), "closed%s%s",
	    note != NULL && *note != '\0' ? ": " : "", note ? note : "");
	snprintf(by, sizeof(by), "%s: closed", actor);
	if (store_begin(st) == -1 ||
	    store_incident_update(st, id, 2, ccols, cvals) == -1 ||
	    store_incident_update(st, id, 1, (const char *[]){ "status" },
	    (const char *[]){ "closed" }) == -1 ||
	    clocks_stop(wf->clocks, id, CLOCK_RESTORE, now, by) == -1 ||
	    clocks_stop(wf->clocks, id, CLOCK_CLOSE, now, by) == -1 ||
	    store_timeline_add(st, &(struct store_event){ .incident_id = id,
	    .at = now, .event = "closed", .actor = actor,
	    .detail = detail }) == -1 ||
	    /* 5.3.8: the closure notice, with form 01, to the level's. */
	    notice_closure(st, &wf->conf->policy, id, inc.level,
	    inc.system, actor, now) == -1)
		return wf_abort(wf, r);
	return wf_commit(wf, id, r);
}

/* A time a person gives: not before the incident began, not ahead. */
static int
wf_time_ok(const char *what, int64_t at, const struct store_incident *inc,
    int64_t now, struct wf_result *r)
{
	char	 t[TIME_STRLEN];

	if (at > now + 60000)
		return wf_fail(r, WF_BAD, "the %s time is in the future", what);
	if (at < inc->started_at)
		return wf_fail(r, WF_BAD, "the %s time is before incident "
		    "%lld began (%s)", what, (long long)inc->id,
		    time_fmt(inc->started_at, t, sizeof(t)));
	return 0;
}

/*
 * Closed on the portal (通報結案, 5.3.7.3.5, 5.3.7.3.10): when, and the
 * result entered there.  Only a reported case can be closed there, and
 * only once the service is back; the record's own close needs it.
 */
int
wf_portal_closed(struct workflow *wf, int64_t id, const char *actor,
    int64_t at, const char *result, const char *note, struct wf_result *r)
{
	struct store_incident	 inc;
	struct store		*st = wf->store;
	const char		*cols[3] = { "portal_closed_at",
				    "portal_closed_by", "portal_result" };
	const char		*vals[3], *done[1] = { "portal_closed_at" };
	struct store_incident_info info;
	char			 when[TIME_STRLEN], rep[TIME_STRLEN];
	char			 detail[2 * WF_MAX_TEXT + 128];
	unsigned		 notyet;
	int64_t			 now = wall_ms(), reported;
	int			 ticket;

	wf_begin_result(r, id);
	if (wf_incident(wf, id, &inc, 0, r) == -1 ||
	    wf_text_ok("result", result, 1, r) == -1 ||
	    wf_text_ok("note", note, 0, r) == -1)
		return -1;
	if (at == 0)
		at = now;
	if (wf_time_ok("portal closure", at, &inc, now, r) == -1)
		return -1;
	if (store_incident_empty(st, id, 1, done, &notyet) == -1 ||
	    store_incident_info(st, id, &info) == -1)
		return wf_fail(r, WF_FAILED, "cannot read incident %lld",
		    (long long)id);
	ticket = info.text[RECORD_TICKET] != NULL &&
	    *info.text[RECORD_TICKET] != '\0';
	reported = info.num[RECORD_REPORTED_AT];
	store_incident_info_clear(&info);
	if (!ticket)
		return wf_fail(r, WF_CONFLICT, "incident %lld was not reported "
		    "on the portal (no ticket): record that first with "
		    "rtowatch reported", (long long)id);
	if (at < reported)
		return wf_fail(r, WF_BAD, "the portal closure time is before "
		    "the portal report (%s)", time_fmt(reported, rep,
		    sizeof(rep)));
	if (!notyet)
		return wf_fail(r, WF_CONFLICT, "incident %lld was already "
		    "closed on the portal", (long long)id);
	if (strcmp(inc.kind, "outage") == 0 && inc.restored_at == 0)
		return wf_fail(r, WF_CONFLICT, "incident %lld: %s is still "
		    "down; the portal case closes once it is restored "
		    "(5.3.7.3.5)", (long long)id, inc.system);
	vals[0] = time_fmt(at, when, sizeof(when));
	vals[1] = actor;
	vals[2] = result;
	snprintf(detail, sizeof(detail), "closed on the portal at %s: %s%s%s",
	    when, result, note != NULL && *note != '\0' ? "; " : "",
	    note ? note : "");
	if (store_begin(st) == -1 ||
	    store_incident_update(st, id, 3, cols, vals) == -1 ||
	    store_timeline_add(st, &(struct store_event){ .incident_id = id,
	    .at = now, .event = "portal closed", .actor = actor,
	    .detail = detail }) == -1)
		return wf_abort(wf, r);
	return wf_commit(wf, id, r);
}

/*
 * A person declares the incident major (重大／緊急, 5.2.3): a disaster
 * needs no RTO to pass.  The availability level becomes the matrix's for
 * an outage not restored in time, as the engine's escalation at the RTO
 * does, the level is notified anew on its own clock (5.4.2), and the
 * level's recipients are told.
 */
int
wf_major(struct workflow *wf, int64_t id, const char *actor,
    const char *reason, struct wf_result *r)
{
	struct store_incident	 inc;
	struct store		*st = wf->store;
	struct clocks		*cl = wf->clocks;
	const struct policy	*pol = &wf->conf->policy;
	struct policy_class	 c;
	const char		*cols[4] = { "major", "availability_level",
				    "level", "major_reason" };
	const char		*vals[4];
	char			 abuf[8], lbuf[8];
	char			 detail[WF_MAX_TEXT + 256];
	int64_t			 now = wall_ms(), due;
	int			 avail, level;

	wf_begin_result(r, id);
	if (wf_incident(wf, id, &inc, 0, r) == -1 ||
	    wf_text_ok("reason", reason, 1, r) == -1)
		return -1;
	if (inc.major)
		return wf_fail(r, WF_CONFLICT, "incident %lld is already a "
		    "major incident", (long long)id);
	c = policy_classify(inc.core, inc.critical_infrastructure,
	    inc.rto_ms + 1, inc.rto_ms);
	avail = c.level > inc.availability_level ? c.level :
	    inc.availability_level;
	level = avail > inc.level ? avail : inc.level;
	snprintf(abuf, sizeof(abuf), "%d", avail);
	snprintf(lbuf, sizeof(lbuf), "%d", level);
	vals[0] = "1";
	vals[1] = abuf;
	vals[2] = lbuf;
	vals[3] = reason;
	snprintf(detail, sizeof(detail), "declared major by %s: availability "
	    "level %d, level %d -> %d (%s): %s", actor, avail, inc.level,
	    level, policy_level_name(level), reason);
	if (store_begin(st) == -1 ||
	    store_incident_update(st, id, 4, cols, vals) == -1 ||
	    store_timeline_add(st, &(struct store_event){ .incident_id = id,
	    .at = now, .event = "declared major", .actor = actor,
	    .detail = detail }) == -1)
		return wf_abort(wf, r);
	if (level > inc.level &&
	    (clocks_open(cl, id, CLOCK_NOTIFY, level, now, &due) == -1 ||
	    clocks_relevel(cl, id, CLOCK_RESTORE, level) == -1 ||
	    clocks_relevel(cl, id, CLOCK_CLOSE, level) == -1 ||
	    clocks_report_start(cl, id, level) == -1))
		return wf_abort(wf, r);
	if (notice_queue(st, pol, id, level, inc.system, "declared major",
	    detail, now) == -1)
		return wf_abort(wf, r);
	if (wf_commit(wf, id, r) == -1)
		return -1;
	engine_incident_relevel(wf->engine, id, level);
	engine_incident_major(wf->engine, id);
	return 0;
}

struct wf_breached {
	int	 notify;	/* a notify clock was recorded missed */
};

static int
wf_breached_cb(const struct store_open_clock *c, void *arg)
{
	struct wf_breached	*b = arg;

	if (strcmp(c->kind, policy_clock_name(CLOCK_NOTIFY)) == 0 &&
	    c->breached_at != 0)
		b->notify = 1;
	return 0;
}

/*
 * A contact a person made (5.3.8): whom, how and when.  OFFLINE marks the
 * notification of 5.3.7.3.3: the portal could not be reached, so the
 * regional center and the response team were told by phone, fax or in
 * person within the hour.  That meets the notification clocks; the
 * portal report is still owed (補登錄), and closing still needs its
 * ticket.  A clock already recorded missed stays missed: it stops when
 * the contact is entered, not at the time claimed.
 */
int
wf_contact(struct workflow *wf, int64_t id, const char *actor, const char *to,
    const char *channel, int64_t at, const char *note, int offline,
    struct wf_result *r)
{
	struct store_incident	 inc;
	struct store		*st = wf->store;
	struct wf_breached	 b = { 0 };
	char			 when[TIME_STRLEN], entered[TIME_STRLEN];
	char			 detail[2 * WF_MAX_TEXT + 256], by[512];
	int64_t			 now = wall_ms();
	size_t			 i;

	wf_begin_result(r, id);
	if (wf_incident(wf, id, &inc, 0, r) == -1 ||
	    wf_text_ok("to", to, 1, r) == -1 ||
	    wf_text_ok("note", note, 0, r) == -1)
		return -1;
	for (i = 0; channel != NULL &&
	    i < sizeof(wf_channels) / sizeof(wf_channels[0]); i++)
		if (strcmp(channel, wf_channels[i]) == 0)
			break;
	if (channel == NULL || i == sizeof(wf_channels) /
	    sizeof(wf_channels[0]))
		return wf_fail(r, WF_BAD, "unknown way \"%s\": a contact is by "
		    "phone, fax, in-person or email", channel ? channel : "");
	if (strlen(to) > 256)
		return wf_fail(r, WF_BAD, "to is longer than 256 bytes");
	if (at == 0)
		at = now;
	if (wf_time_ok("contact", at, &inc, now, r) == -1)
		return -1;
	time_fmt(at, when, sizeof(when));
	time_fmt(now, entered, sizeof(entered));
	snprintf(detail, sizeof(detail), "%s%s to %s at %s (entered %s)%s%s",
	    offline ? "offline notification (5.3.7.3.3) " : "", channel, to,
	    when, entered, note != NULL && *note != '\0' ? ": " : "",
	    note ? note : "");
	if (offline && store_open_clocks(st, id, wf_breached_cb, &b) == -1)
		return wf_fail(r, WF_FAILED, "cannot read incident %lld",
		    (long long)id);
	/* Short: the form prints it beside the time; contacts has the rest. */
	snprintf(by, sizeof(by), "%s: offline notification", actor);
	if (store_begin(st) == -1 ||
	    store_contact_add(st, &(struct store_contact){
	    .incident_id = id, .at = at, .entered_at = now, .recipient = to,
	    .channel = channel, .made_by = actor, .note = note ? note : "",
	    .offline = offline }) == -1 ||
	    (offline && clocks_stop(wf->clocks, id, CLOCK_NOTIFY,
	    b.notify ? now : at, by) == -1) ||
	    store_timeline_add(st, &(struct store_event){ .incident_id = id,
	    .at = now, .event = offline ? "offline notification" : "contact",
	    .actor = actor, .detail = detail }) == -1)
		return wf_abort(wf, r);
	return wf_commit(wf, id, r);
}

int
wf_warning_open(struct workflow *wf, const char *actor,
    const struct store_warning *w, struct wf_result *r)
{
	int64_t	 id;

	wf_begin_result(r, 0);
	if (wf_text_ok("source", w->source, 1, r) == -1 ||
	    wf_text_ok("summary", w->summary, 1, r) == -1)
		return -1;
	if (w->system[0] != '\0' && !engine_knows(wf->engine, w->system))
		return wf_fail(r, WF_BAD, "no system \"%s\" in the rules",
		    w->system);
	if (store_begin(wf->store) == -1 ||
	    store_warning_open(wf->store, w, wall_ms(), actor,
	    &id) == -1)
		return wf_abort(wf, r);
	r->warning = id;
	return wf_commit(wf, 0, r);
}

/*
 * A person's answer to an early warning: false positive (誤判) or cannot
 * be determined (無法判斷), each with a reason; or confirmed (確實事件),
 * which opens an incident now, its one-hour clock running from the
 * confirmation.  LEVEL is the assessed level, 0 for the matrix's.
 */
int
wf_warning_answer(struct workflow *wf, int64_t wid, const char *actor,
    const char *answer, const char *reason, int level, struct wf_result *r)
{
	struct store_new_incident	 ni;
	struct store_warning		 w;
	struct store			*st = wf->store;
	const struct conf		*conf = wf->conf;
	const struct system_conf	*sys = NULL;
	struct policy_class		 c;
	char				 event[64], detail[WF_MAX_TEXT + 600];
	int64_t				 now = wall_ms(), incident = 0, due;
	int				 rc, confirmed;

	wf_begin_result(r, 0);
	r->warning = wid;
	if (answer == NULL || (strcmp(answer, "confirmed") != 0 &&
	    strcmp(answer, "false-positive") != 0 &&
	    strcmp(answer, "undetermined") != 0))
		return wf_fail(r, WF_BAD, "answer is confirmed, false-positive "
		    "or undetermined");
	confirmed = strcmp(answer, "confirmed") == 0;
	if (wf_text_ok("reason", reason, !confirmed, r) == -1)
		return -1;
	if (level < 0 || level > POLICY_LEVELS)
		return wf_fail(r, WF_BAD, "levels are 1 to %d", POLICY_LEVELS);
	if ((rc = store_warning_get(st, wid, &w)) == -1)
		return wf_fail(r, WF_FAILED, "cannot read warning %lld",
		    (long long)wid);
	if (rc == 0)
		return wf_fail(r, WF_NOT_FOUND, "no warning %lld",
		    (long long)wid);
	if (strcmp(w.state, "open") != 0)
		return wf_fail(r, WF_CONFLICT, "warning %lld was already "
		    "answered: %s", (long long)wid, w.state);

	snprintf(event, sizeof(event), "warning %s", confirmed ? "confirmed" :
	    strcmp(answer, "false-positive") == 0 ? "false positive" :
	    "undetermined");
	snprintf(detail, sizeof(detail), "%s: %s%s%s", event, w.summary,
	    reason != NULL && *reason != '\0' ? "; " : "",
	    reason ? reason : "");
	if (store_begin(st) == -1)
		return wf_abort(wf, r);
	if (confirmed) {
		if (w.system[0] != '\0')
			sys = conf_find_system(conf, w.system);
		memset(&ni, 0, sizeof(ni));
		ni.system = w.system[0] != '\0' ? w.system : w.source;
		ni.owner = sys != NULL && sys->owner != NULL ? sys->owner : "";
		ni.core = sys != NULL ? sys->core : 0;
		ni.critical_infrastructure = sys != NULL ?
		    sys->critical_infrastructure : 0;
		ni.rto_ms = sys != NULL ? sys->rto_ms : 0;
		c = policy_classify(ni.core, ni.critical_infrastructure, 0,
		    ni.rto_ms > 0 ? ni.rto_ms : 1);
		ni.level = level != 0 ? level : c.level;
		ni.major = 0;
		ni.started_at = now;
		ni.detected_at = now;
		ni.opened_at = now;
		ni.notify_due_at = policy_due(&conf->policy, CLOCK_NOTIFY,
		    ni.level, now);
		ni.restore_due_at = policy_due(&conf->policy, CLOCK_RESTORE,
		    ni.level, now);
		ni.cause = w.summary;
		if (store_incident_insert(st, "warning", &ni, wid,
		    &incident) == -1 ||
		    store_timeline_add(st, &(struct store_event){
		    .incident_id = incident, .at = now, .event = "opened",
		    .actor = actor, .detail = detail }) == -1 ||
		    clocks_open(wf->clocks, incident, CLOCK_NOTIFY,
		    ni.level, now, &due) == -1 ||
		    clocks_open(wf->clocks, incident, CLOCK_RESTORE,
		    ni.level, now, &due) == -1 ||
		    notice_queue(st, &conf->policy, incident, ni.level,
		    ni.system, "early warning confirmed, incident opened",
		    detail, now) == -1)
			return wf_abort(wf, r);
	}
	if (store_warning_answer(st, &(struct store_answer){ .warning_id = wid,
	    .state = answer, .at = now, .actor = actor,
	    .reason = reason ? reason : "", .incident_id = incident }) == -1 ||
	    store_timeline_add(st, &(struct store_event){ .warning_id = wid,
	    .at = now, .event = event, .actor = actor,
	    .detail = detail }) == -1)
		return wf_abort(wf, r);
	r->incident = incident;
	return wf_commit(wf, incident, r);
}

#define WF_TIME_MAX	253402300799999LL	/* 9999-12-31T23:59:59.999Z */

/* A maintenance window a person adds (the rules hold the recurring ones). */
int
wf_maintenance_add(struct workflow *wf, const char *actor, const char *system,
    int64_t from, int64_t length, const char *reason, struct wf_result *r)
{
	char	 detail[WF_MAX_TEXT + 512], t1[TIME_STRLEN], t2[TIME_STRLEN];
	int64_t	 id, now = wall_ms();

	wf_begin_result(r, 0);
	if (system == NULL || !engine_knows(wf->engine, system))
		return wf_fail(r, WF_BAD, "no system \"%s\" in the rules",
		    system ? system : "");
	if (wf_text_ok("reason", reason, 0, r) == -1)
		return -1;
	if (from == 0)
		from = now;
	if (length <= 0 || length > 30 * 86400000LL)
		return wf_fail(r, WF_BAD, "a window lasts from 1s to 30d");
	if (from + length <= now)
		return wf_fail(r, WF_BAD, "that window is already over");
	/*
	 * The records hold times as text with four-digit years, compared as
	 * text: a window ending in the year 10000 would sort before its start.
	 */
	if (from > WF_TIME_MAX - length)
		return wf_fail(r, WF_BAD, "a window must end by "
		    "9999-12-31T23:59:59.999Z");
	snprintf(detail, sizeof(detail), "maintenance of %s from %s until "
	    "%s%s%s", system, time_fmt(from, t1, sizeof(t1)),
	    time_fmt(from + length, t2, sizeof(t2)),
	    reason != NULL && *reason != '\0' ? ": " : "",
	    reason ? reason : "");
	if (store_begin(wf->store) == -1 ||
	    store_maintenance_add(wf->store, &(struct store_maintenance){
	    .system = system, .starts_at = from, .ends_at = from + length,
	    .reason = reason ? reason : "", .created_at = now,
	    .created_by = actor }, &id) == -1 ||
	    store_timeline_add(wf->store, &(struct store_event){
	    .at = now, .event = "maintenance added", .actor = actor,
	    .detail = detail }) == -1)
		return wf_abort(wf, r);
	if (wf_commit(wf, 0, r) == -1)
		return -1;
	engine_maintenance_added(wf->engine, system, from, from + length);
	log_info("%s (by %s)", detail, actor);
	return 0;
}

/*
 * Cancel the window ID a person added, before its end.  The rules'
 * recurring windows are changed in the rules.
 */
int
wf_maintenance_cancel(struct workflow *wf, int64_t id, const char *actor,
    const char *reason, struct wf_result *r)
{
	char	 detail[WF_MAX_TEXT + 512], system[256];
	char	 t1[TIME_STRLEN], t2[TIME_STRLEN];
	int64_t	 start, end, now = wall_ms();
	int	 rc, cancelled;

	wf_begin_result(r, 0);
	if (wf_text_ok("reason", reason, 0, r) == -1)
		return -1;
	rc = store_maintenance_get(wf->store, id, system,
	    sizeof(system), &start, &end, &cancelled);
	if (rc == -1)
		return wf_fail(r, WF_FAILED, "cannot read maintenance window "
		    "%lld", (long long)id);
	if (rc == 0)
		return wf_fail(r, WF_NOT_FOUND, "no maintenance window %lld "
		    "(rtowatch maintenance list shows them)", (long long)id);
	if (cancelled)
		return wf_fail(r, WF_CONFLICT, "maintenance window %lld was "
		    "cancelled already", (long long)id);
	if (end <= now)
		return wf_fail(r, WF_CONFLICT, "maintenance window %lld is "
		    "over already", (long long)id);
	snprintf(detail, sizeof(detail), "maintenance window %lld of %s from "
	    "%s until %s cancelled%s%s", (long long)id, system,
	    time_fmt(start, t1, sizeof(t1)), time_fmt(end, t2, sizeof(t2)),
	    reason != NULL && *reason != '\0' ? ": " : "",
	    reason ? reason : "");
	if (store_begin(wf->store) == -1 ||
	    store_maintenance_cancel(wf->store, id, now, actor) == -1 ||
	    store_timeline_add(wf->store, &(struct store_event){
	    .at = now, .event = "maintenance cancelled", .actor = actor,
	    .detail = detail }) == -1)
		return wf_abort(wf, r);
	if (wf_commit(wf, 0, r) == -1)
		return -1;
	engine_maintenance_cancelled(wf->engine, system, start, end);
	log_info("%s (by %s)", detail, actor);
	return 0;
}

/*
 * An incident a person opens: one found by a person (5.2.1: 「若發現或疑
 * 似資通安全事件時，由發現人員...迅速通報」, kind 'manual') or a drill
 * (5.8.1, kind 'drill').  SYSTEM names a system of the rules, whose
 * owner, core and RTO it takes; or TITLE names what is affected when it
 * is not one.  AT is when it was confirmed as a security incident: the
 * one-hour notification clock (5.3.7.3.1) and the restore clock run
 * from it, and the level's recipients are told.  FACTOR compresses a
 * drill's clocks (60: an hour is a minute); 0 for a real incident.
 */
static int
wf_open_by_person(struct workflow *wf, const char *actor, const char *kind,
    const char *system, const char *title, int level, int64_t at,
    const char *reason, int factor, struct wf_result *r)
{
	struct store_new_incident	 ni;
	struct store			*st = wf->store;
	struct clocks			*cl = wf->clocks;
	const struct conf		*conf = wf->conf;
	const struct system_conf	*sys = NULL;
	const char			*fcol[1] = { "drill_factor" };
	const char			*fval[1], *event;
	char				 fbuf[32], when[TIME_STRLEN];
	char				 how[96];
	char				 detail[2 * WF_MAX_TEXT + 256];
	int64_t				 now = wall_ms(), id, due;
	int				 drill = strcmp(kind, "drill") == 0;

	wf_begin_result(r, 0);
	if ((system == NULL || *system == '\0') ==
	    (title == NULL || *title == '\0'))
		return wf_fail(r, WF_BAD, "name the system (--system NAME, "
		    "one of the rules) or what is affected (--title TEXT), "
		    "not both");
	if (system != NULL && *system != '\0') {
		if (!engine_knows(wf->engine, system) ||
		    (sys = conf_find_system(conf, system)) == NULL)
			return wf_fail(r, WF_BAD, "no system \"%s\" in the "
			    "rules; for something else give --title",
			    system);
	} else if (wf_text_ok("title", title, 1, r) == -1)
		return -1;
	else if (strlen(title) > 200)
		return wf_fail(r, WF_BAD, "title is longer than 200 bytes");
	if (level < 1 || level > POLICY_LEVELS)
		return wf_fail(r, WF_BAD, "give the level assessed (--level "
		    "1 to %d, 5.3.2)", POLICY_LEVELS);
	if (wf_text_ok("reason", reason, !drill, r) == -1)
		return -1;
	if (at == 0)
		at = now;
	if (at > now + 60000)
		return wf_fail(r, WF_BAD, "the confirmation time is in the "
		    "future");
	if (drill && at != now)
		return wf_fail(r, WF_BAD, "a drill begins now");
	if (factor < 0 || factor > 3600)
		return wf_fail(r, WF_BAD, "a drill is compressed 1 to 3600 "
		    "times");

	memset(&ni, 0, sizeof(ni));
	ni.system = sys != NULL ? sys->name : title;
	ni.owner = sys != NULL && sys->owner != NULL ? sys->owner : "";
	ni.core = sys != NULL ? sys->core : 0;
	ni.critical_infrastructure = sys != NULL ?
	    sys->critical_infrastructure : 0;
	ni.rto_ms = sys != NULL ? sys->rto_ms : 0;
	ni.level = level;
	ni.major = 0;
	ni.started_at = at;
	ni.detected_at = at;
	ni.opened_at = at;
	ni.cause = reason != NULL && *reason != '\0' ? reason : NULL;
	time_fmt(at, when, sizeof(when));
	if (drill) {
		event = "drill opened";
		if (factor > 1)
			snprintf(how, sizeof(how), "compressed %d times (an "
			    "hour lasts %s)", factor, duration_fmt(3600000 /
			    factor, fbuf, sizeof(fbuf)));
		else
			snprintf(how, sizeof(how), "of real length");
		snprintf(detail, sizeof(detail), "演練 DRILL (5.8.1) opened by "
		    "%s: %s, level %d (%s), clocks %s%s%s", actor, ni.system,
		    level, policy_level_name(level), how,
		    reason != NULL && *reason != '\0' ? ": " : "",
		    reason != NULL ? reason : "");
	} else {
		event = "incident opened by a person";
		snprintf(detail, sizeof(detail), "opened by %s (5.2.1), "
		    "confirmed as a security incident at %s: %s, level %d "
		    "(%s): %s", actor, when, ni.system, level,
		    policy_level_name(level), reason);
	}
	if (factor < 1)
		factor = 1;
	/* The incident row first: its clocks read the drill's factor. */
	ni.notify_due_at = policy_due(&conf->policy, CLOCK_NOTIFY, level, at);
	ni.restore_due_at = policy_due(&conf->policy, CLOCK_RESTORE, level,
	    at);
	snprintf(fbuf, sizeof(fbuf), "%d", factor);
	fval[0] = fbuf;
	if (store_begin(st) == -1 ||
	    store_incident_insert(st, kind, &ni, 0, &id) == -1 ||
	    (drill && store_incident_update(st, id, 1, fcol, fval) == -1) ||
	    store_timeline_add(st, &(struct store_event){ .incident_id = id,
	    .at = now, .event = "opened", .actor = actor,
	    .detail = detail }) == -1 ||
	    clocks_open(cl, id, CLOCK_NOTIFY, level, at, &due) == -1 ||
	    wf_due_column(wf, id, "notify_due_at", due) == -1 ||
	    clocks_open(cl, id, CLOCK_RESTORE, level, at, &due) == -1 ||
	    wf_due_column(wf, id, "restore_due_at", due) == -1 ||
	    notice_queue(st, &conf->policy, id, level, ni.system, event,
	    detail, now) == -1)
		return wf_abort(wf, r);
	r->incident = id;
	if (wf_commit(wf, id, r) == -1)
		return -1;
	log_info("incident %lld: %s", (long long)id, detail);
	return 0;
}

/* A compressed drill's deadlines on the incident row are its clocks'. */
static int
wf_due_column(struct workflow *wf, int64_t id, const char *col, int64_t due)
{
	char	 when[TIME_STRLEN];
	const char *v[1];

	if (due == 0)
		return 0;
	v[0] = time_fmt(due, when, sizeof(when));
	return store_incident_update(wf->store, id, 1, &col, v);
}

int
wf_open(struct workflow *wf, const char *actor, const char *system,
    const char *title, int level, int64_t at, const char *reason,
    struct wf_result *r)
{
	return wf_open_by_person(wf, actor, "manual", system, title, level, at,
	    reason, 0, r);
}

/*
 * A drill (資安演練, 5.8.1): an incident of kind 'drill', marked so in
 * every message, event and form, that goes through every path a real
 * one does, its clocks compressed by FACTOR (1: real lengths).
 */
int
wf_drill(struct workflow *wf, const char *actor, const char *system,
    const char *title, int level, int factor, const char *note,
    struct wf_result *r)
{
	if ((system == NULL || *system == '\0') &&
	    (title == NULL || *title == '\0'))
		title = "演練模擬事件 drill scenario";
	return wf_open_by_person(wf, actor, "drill", system, title,
	    level == 0 ? 1 : level, 0, note, factor == 0 ? 1 : factor, r);
}

static int
wf_restore_breached_cb(const struct store_open_clock *c, void *arg)
{
	int	*breached = arg;

	if (strcmp(c->kind, policy_clock_name(CLOCK_RESTORE)) == 0 &&
	    c->breached_at != 0)
		*breached = 1;
	return 0;
}

/*
 * Restored (復原, 5.3.4), as a person says it of an incident the probes
 * do not measure: a confirmed warning, one a person opened, a drill.  An
 * outage's restoration is the probes' to record.  The restore clock
 * stops (at AT, unless it was already recorded missed: then now, so a
 * missed deadline stays missed), and at levels 3-4 the investigation
 * report's clock starts unless damage control started it earlier
 * (5.3.7.3.6).
 */
int
wf_restored(struct workflow *wf, int64_t id, const char *actor, int64_t at,
    const char *note, struct wf_result *r)
{
	struct store_incident	 inc;
	struct store		*st = wf->store;
	const char		*cols[2] = { "restored_at", "status" };
	const char		*vals[2];
	char			 when[TIME_STRLEN], by[512];
	char			 detail[WF_MAX_TEXT + 256];
	int64_t			 now = wall_ms();
	int			 breached = 0;

	wf_begin_result(r, id);
	if (wf_incident(wf, id, &inc, 0, r) == -1 ||
	    wf_text_ok("note", note, 0, r) == -1)
		return -1;
	if (strcmp(inc.kind, "outage") == 0)
		return wf_fail(r, WF_CONFLICT, "incident %lld is an outage: "
		    "rtowatchd records its restoration when the checks "
		    "succeed again", (long long)id);
	if (inc.restored_at != 0)
		return wf_fail(r, WF_CONFLICT, "incident %lld was already "
		    "restored", (long long)id);
	if (at == 0)
		at = now;
	if (wf_time_ok("restoration", at, &inc, now, r) == -1)
		return -1;
	if (store_open_clocks(st, id, wf_restore_breached_cb,
	    &breached) == -1)
		return wf_fail(r, WF_FAILED, "cannot read incident %lld",
		    (long long)id);
	vals[0] = time_fmt(at, when, sizeof(when));
	vals[1] = "restored";
	snprintf(detail, sizeof(detail), "%s restored at %s (by %s)%s%s",
	    inc.system, when, actor, note != NULL && *note != '\0' ? ": " :
	    "", note ? note : "");
	snprintf(by, sizeof(by), "%s: restored", actor);
	if (store_begin(st) == -1 ||
	    store_incident_update(st, id, 2, cols, vals) == -1 ||
	    clocks_stop(wf->clocks, id, CLOCK_RESTORE,
	    breached ? now : at, by) == -1 ||
	    store_timeline_add(st, &(struct store_event){ .incident_id = id,
	    .at = now, .event = "restored", .actor = actor,
	    .detail = detail }) == -1 ||
	    clocks_report_start(wf->clocks, id, inc.level) == -1 ||
	    notice_queue(st, &wf->conf->policy, id, inc.level,
	    inc.system, "restored", detail, now) == -1)
		return wf_abort(wf, r);
	return wf_commit(wf, id, r);
}
