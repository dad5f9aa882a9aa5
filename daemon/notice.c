/*
 * notice.c: what the engine and the clocks decide to tell people becomes
 * rows of the notifications table, one per recipient the policy names
 * for the incident's level (5.3.8).  The senders (mail, webhooks,
 * desktop) deliver them from there; the engine never waits for delivery.
 * A webhook's row holds the same message as JSON (notice_webhook_json).
 *
 * Each message says what happened in Traditional Chinese and English,
 * with every time in the configured zone (set timezone), the outage so far,
 * the deadlines still open, and the portal draft (通報內容草稿): the
 * items the national notification asks for, filled from the rules and
 * the incident, for a person to paste into the portal, which has no API.
 * The incident and its clocks are read in the caller's transaction, so
 * the message matches what that transaction records.
 */
#include <sys/queue.h>

#include <jansson.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf.h"
#include "log.h"
#include "notice.h"
#include "policy.h"
#include "record.h"
#include "store.h"
#include "util.h"

static struct {
	const struct conf	*conf;		/* the rules in force */
	void			(*kick)(void *);
	void			*kick_arg;
} notice;

/* The rules the drafts are filled from; main calls it at each (re)load. */
void
notice_configure(const struct conf *conf)
{
	notice.conf = conf;
}

/*
 * Called after rows were queued.  The mailer's kick is deferred to the
 * loop, so it runs after the caller's transaction has been committed.
 */
void
notice_set_kick(void (*kick)(void *), void *arg)
{
	notice.kick = kick;
	notice.kick_arg = arg;
}

/* The events of engine.c and clocks.c, in Chinese. */
static const struct {
	const char	*event;
	const char	*zh;
} notice_events[] = {
	{ "down, incident opened",	"服務中斷，已開立資安事件" },
	{ "reclassified as major",	"中斷超過復原目標時間，改列重大事件" },
	{ "declared major",		"經人員認定為重大事件" },
	{ "failed again",		"恢復後再次中斷" },
	{ "restored",			"服務已恢復" },
	{ "notify reminder",		"通報期限提醒" },
	{ "notify deadline missed",	"已逾通報期限" },
	{ "restore reminder",		"損害控制或復原期限提醒" },
	{ "restore deadline missed",	"已逾損害控制或復原期限" },
	{ "report reminder",		"調查、處理及改善報告期限提醒" },
	{ "report deadline missed",	"已逾調查、處理及改善報告期限" },
	{ "close reminder",		"結案期限提醒" },
	{ "close deadline missed",	"已逾結案期限" },
	{ "closed",			"結案通報" },
	{ "incident opened by a person", "人員發現並開立資安事件" },
	{ "drill opened",		"演練事件開立" },
	{ "level raised",		"影響等級提高，續行通報" },
	{ "early warning confirmed, incident opened",
	    "資安預警事件經確認，已開立資安事件" },
};

static const char *
notice_event_zh(const char *event)
{
	size_t	 i;

	for (i = 0; i < sizeof(notice_events) / sizeof(notice_events[0]); i++)
		if (strcmp(notice_events[i].event, event) == 0)
			return notice_events[i].zh;
	return event;
}

static const char *
notice_clock_zh(const char *kind)
{
	if (strcmp(kind, "notify") == 0)
		return "通報";
	if (strcmp(kind, "restore") == 0)
		return "損害控制或復原";
	if (strcmp(kind, "report") == 0)
		return "調查、處理及改善報告";
	if (strcmp(kind, "close") == 0)
		return "結案";
	return kind;
}

/*
 * "2026-11-26 09:30:05 CST": in the configured zone only, as the team
 * reads every other time of the incident (the heading names the zone).
 */
static char *
notice_time(int64_t t, char *buf, size_t len)
{
	struct tm	 tm;
	time_t		 sec = (time_t)(t / 1000);

	if (t == 0) {
		snprintf(buf, len, "-");
		return buf;
	}
	if (localtime_r(&sec, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%d %H:%M:%S %Z", &tm) == 0)
		time_fmt(t, buf, len);
	return buf;
}

struct notice_clocks {
	FILE	*fp;
	int64_t	 now;
	int	 n;
};

static int
notice_clock_line(const struct store_open_clock *c, void *arg)
{
	struct notice_clocks	*nc = arg;
	char			 t[128], d[32];

	fprintf(nc->fp, "  %s %s（第%d級 level %d）：%s", notice_clock_zh(c->kind),
	    c->kind, c->level, c->level, notice_time(c->due_at, t, sizeof(t)));
	if (c->due_at > nc->now)
		fprintf(nc->fp, "，尚餘 %s left\n",
		    duration_fmt(c->due_at - nc->now, d, sizeof(d)));
	else
		fprintf(nc->fp, "，已逾期 %s overdue\n",
		    duration_fmt(nc->now - c->due_at, d, sizeof(d)));
	nc->n++;
	return 0;
}

/* The reporter: the first recipient the policy tells at level 1. */
static const struct contact_conf *
notice_reporter(const struct conf *conf)
{
	const struct policy	*pol = &conf->policy;
	const struct contact_conf *c;
	int			 r;

	for (r = 0; r < pol->nrecipients; r++)
		if ((pol->tell[1] & (1U << r)) &&
		    !(pol->webhooks & (1U << r)) &&
		    (c = conf_find_contact(conf, pol->recipients[r])) != NULL)
			return c;
	return TAILQ_FIRST(&conf->contacts);
}

/* 設備 IP / 網址: the targets of the system's checks, once each. */
static void
notice_targets(FILE *fp, const struct conf *conf, const char *system)
{
	const struct system_conf	*sys;
	const struct check_conf		*cc, *prev;
	const char			*sep = "";
	int				 seen;

	if (conf == NULL || (sys = conf_find_system(conf, system)) == NULL) {
		fprintf(fp, "（不明）unknown");
		return;
	}
	TAILQ_FOREACH(cc, &sys->checks, entry) {
		seen = 0;
		TAILQ_FOREACH(prev, &sys->checks, entry) {
			if (prev == cc)
				break;
			if (strcmp(prev->target, cc->target) == 0)
				seen = 1;
		}
		if (seen)
			continue;
		fprintf(fp, "%s%s %s", sep, strstr(cc->target, "://") != NULL ?
		    "URL" : "IP/host", cc->target);
		sep = ", ";
	}
}

static const char *
notice_or(const char *s, const char *dflt)
{
	return s != NULL && *s != '\0' ? s : dflt;
}

/* 通報內容草稿: every item of the national notification, in order. */
static void
notice_draft(FILE *fp, const struct store_incident_info *inc, const char *event,
    int level, const char *kind)
{
	const struct conf		*conf = notice.conf;
	const struct contact_conf	*rep = NULL;
	char *const			*s = inc->text;
	const int64_t			*n = inc->num;
	const char			*sys = s[RECORD_SYSTEM];
	const char			*cause = s[RECORD_CAUSE];
	char				 t[128], rto[32];

	fprintf(fp, "\n==== 通報內容草稿 Portal draft (national notification; "
	    "paste into the portal) ====\n");
	fprintf(fp, "影響單位 Affected unit: %s\n",
	    notice_or(s[RECORD_OWNER], "（未設定）not set"));
	fprintf(fp, "發生時間 Time it happened: %s\n",
	    notice_time(n[RECORD_STARTED_AT], t, sizeof(t)));
	fprintf(fp, "知悉時間 Time it became known: %s\n",
	    notice_time(n[RECORD_OPENED_AT], t, sizeof(t)));
	fprintf(fp, "事件說明 Description: ");
	if (s[RECORD_DESCRIPTION] != NULL && *s[RECORD_DESCRIPTION] != '\0')
		fprintf(fp, "%s\n", s[RECORD_DESCRIPTION]);
	else if (strcmp(kind, "manual") == 0)
		fprintf(fp, "%s：%s（人員發現 found by a person, 5.2.1）\n",
		    sys, notice_or(cause, "原因未明 cause unknown"));
	else if (strcmp(kind, "warning") == 0)
		fprintf(fp, "%s：%s（資安預警事件經確認 a confirmed early "
		    "warning）\n", sys, notice_or(cause,
		    "原因未明 cause unknown"));
	else if (strcmp(kind, "drill") == 0)
		fprintf(fp, "演練 DRILL (5.8.1): %s%s%s\n", sys,
		    cause != NULL ? ": " : "", notice_or(cause, ""));
	else
		fprintf(fp, "%s 服務中斷（%s）；%s down (%s), detected by the "
		    "monitoring (rtowatchd)\n", sys,
		    notice_or(cause, "原因未明"), sys,
		    notice_or(cause, "cause unknown"));
	fprintf(fp, "影響等級 Level assessment: 第%d級 level %d %s，%s事件 %s",
	    level, level, policy_level_name(level),
	    n[RECORD_MAJOR] ? "重大" : "一般", n[RECORD_MAJOR] ? "major" :
	    "general");
	fprintf(fp, "; 可用性 availability %lld",
	    (long long)n[RECORD_AVAILABILITY_LEVEL]);
	if (n[RECORD_CONFIDENTIALITY_LEVEL] > 0)
		fprintf(fp, ", 機密性 confidentiality %lld",
		    (long long)n[RECORD_CONFIDENTIALITY_LEVEL]);
	if (n[RECORD_INTEGRITY_LEVEL] > 0)
		fprintf(fp, ", 完整性 integrity %lld",
		    (long long)n[RECORD_INTEGRITY_LEVEL]);
	fprintf(fp, "; %s核心業務 %score business%s, RTO %s\n",
	    n[RECORD_CORE] ? "" : "非", n[RECORD_CORE] ? "" : "non-",
	    n[RECORD_CRITICAL_INFRASTRUCTURE] ? "（關鍵基礎設施 critical "
	    "infrastructure）" : "", duration_fmt(n[RECORD_RTO_MS], rto,
	    sizeof(rto)));
	fprintf(fp, "應變措施 Measures taken: %s\n",
	    notice_or(s[RECORD_MEASURES], "（待填）to be filled in; the "
	    "service is being monitored and its restoration recorded"));
	fprintf(fp, "是否需要支援 Outside support needed: %s\n",
	    notice_or(s[RECORD_SUPPORT], "否（待確認）no (to be confirmed)"));
	fprintf(fp, "是否影響其他連線單位運作 Other connected units affected: "
	    "%s\n", notice_or(s[RECORD_OTHER_UNITS_AFFECTED], "（待評估）to be "
	    "assessed (rtowatch set ID other-units-affected yes|no)"));
	if (conf != NULL)
		rep = notice_reporter(conf);
	fprintf(fp, "通報人聯絡資料 Reporter contact: ");
	if (rep == NULL)
		fprintf(fp, "（未設定）no contact in the rules\n");
	else
		fprintf(fp, "%s; 電話 phone %s; 電子郵件 email %s\n",
		    rep->person != NULL ? rep->person : rep->name,
		    notice_or(rep->phone, "-"), notice_or(rep->email, "-"));
	fprintf(fp, "設備 IP / 網址 Device IP / URL: ");
	notice_targets(fp, conf, sys);
	fprintf(fp, "\n事件分類 Category: %s\n", notice_or(s[RECORD_CATEGORY],
	    "（待填）to be chosen, e.g. EQU or DOS"));
	fprintf(fp, "其他 Other: rtowatch 事件編號 incident %lld; %s",
	    (long long)inc->id, event);
	if (s[RECORD_TICKET] != NULL)
		fprintf(fp, "; 通報單號 portal ticket %s", s[RECORD_TICKET]);
	fprintf(fp, "\n");
}

/* The whole body; NULL when the incident cannot be read. */
static char *
notice_body(struct store *st, int64_t incident, int level,
    const char *system, const char *event, const char *detail, int64_t now,
    const char *kind)
{
	struct store_incident_info	 inc;
	struct notice_clocks	 nc;
	char			*body = NULL, *local, t[128], d[32];
	size_t			 len = 0;
	int64_t			 started, restored;
	FILE			*fp;

	if (store_incident_info(st, incident, &inc) == -1)
		return NULL;
	started = inc.num[RECORD_STARTED_AT];
	restored = inc.num[RECORD_RESTORED_AT];
	if ((fp = open_memstream(&body, &len)) == NULL)
		fatal("open_memstream");
	/* The detail keeps the timeline's UTC; the mail reads in the zone. */
	local = time_text_local(detail, 1);
	fprintf(fp, "資安事件 %lld（%s）：%s\nIncident %lld (%s): %s\n\n%s\n\n",
	    (long long)incident, system, notice_event_zh(event),
	    (long long)incident, system, event, local);
	free(local);

	fprintf(fp, "時間 Times (%s):\n", notice.conf != NULL ?
	    notice.conf->timezone : "local");
	fprintf(fp, "  發生時間 happened:     %s\n",
	    notice_time(started, t, sizeof(t)));
	fprintf(fp, "  知悉時間 became known: %s\n",
	    notice_time(inc.num[RECORD_OPENED_AT], t, sizeof(t)));
	if (restored != 0) {
		fprintf(fp, "  恢復時間 restored:     %s\n",
		    notice_time(restored, t, sizeof(t)));
		fprintf(fp, "  中斷時間 outage lasted: %s\n", duration_fmt(
		    restored - started, d, sizeof(d)));
	} else
		fprintf(fp, "  中斷至今 outage so far: %s（尚未恢復 not "
		    "restored yet）\n", duration_fmt(now - started, d,
		    sizeof(d)));
	fprintf(fp, "  本通知 this notice:    %s\n\n",
	    notice_time(now, t, sizeof(t)));

	fprintf(fp, "影響等級 Impact level: 第%d級 level %d %s，%s事件 %s\n\n",
	    level, level, policy_level_name(level), inc.num[RECORD_MAJOR] ?
	    "重大" : "一般", inc.num[RECORD_MAJOR] ? "major" : "general");

	fprintf(fp, "尚未完成的期限 Deadlines still open:\n");
	nc.fp = fp;
	nc.now = now;
	nc.n = 0;
	if (store_open_clocks(st, incident, notice_clock_line, &nc) == -1 ||
	    nc.n == 0)
		fprintf(fp, "  （無）none\n");

	notice_draft(fp, &inc, event, level, kind);
	store_incident_info_clear(&inc);
	if (fclose(fp) != 0)
		fatal("open_memstream");
	return body;
}

static int
notice_kind_cb(int n, const char *const *cols, const char *const *vals,
    const int *num, void *arg)
{
	char	*kind = arg;

	(void)cols;
	(void)num;
	if (n > 0 && vals[0] != NULL)
		snprintf(kind, 16, "%s", vals[0]);
	return 0;
}

/*
 * How INCIDENT was opened: outage, warning, manual or drill.  A drill
 * (演練, 5.8.1) says so in every message.
 */
static int
notice_kind(struct store *st, int64_t incident, char kind[16])
{
	const char	*args[1];
	char		 num[24];

	snprintf(kind, 16, "outage");
	snprintf(num, sizeof(num), "%lld", (long long)incident);
	args[0] = num;
	return store_select(st, "SELECT kind FROM incidents WHERE id = ?1", 1,
	    args, notice_kind_cb, kind);
}

#define NOTICE_DRILL_BANNER \
	"*** 演練 DRILL: 這是演練，不是真實事件。This is a drill, not a " \
	"real incident (5.8.1). ***\n\n"

/* A notification decided now, composed when its incident is written. */
struct notice_later {
	int64_t		 incident;
	int		 level;
	char		*system;
	char		*event;
	char		*detail;
	int64_t		 now;
	char		*recipients[POLICY_MAX_RECIPIENTS];
	unsigned	 webhooks;	/* bit r: recipients[r] is one */
	int		 nrecipients;
};

static void
notice_later_free(void *arg)
{
	struct notice_later	*nl = arg;
	int			 r;

	free(nl->system);
	free(nl->event);
	free(nl->detail);
	for (r = 0; r < nl->nrecipients; r++)
		free(nl->recipients[r]);
	free(nl);
}

/*
 * A webhook row's body: the event as JSON, composed with the mail's
 * subject and body (webhook.c renders it for the receiver's format and
 * adds the delivery key).  "summary" is the body before the portal
 * draft, short enough for a chat message.
 */
static char *
notice_webhook_json(const struct notice_later *nl, const char *subject,
    const char *body, int drill)
{
	const char	*draft;
	char		 t[TIME_STRLEN], *s;
	size_t		 n;
	json_t		*o;

	draft = strstr(body, "\n==== ");
	n = draft != NULL ? (size_t)(draft - body) : strlen(body);
	o = json_pack("{s:s, s:I, s:s, s:i, s:s, s:s, s:s, s:b, s:s, s:s, "
	    "s:s%, s:s}", "source", "rtowatch", "incident",
	    (json_int_t)nl->incident, "system", nl->system, "level",
	    nl->level, "level_name", policy_level_name(nl->level), "event",
	    nl->event, "event_zh", notice_event_zh(nl->event), "drill", drill,
	    "at", time_fmt(nl->now, t, sizeof(t)), "subject", subject,
	    "summary", body, n, "text", body);
	if (o == NULL || (s = json_dumps(o, JSON_COMPACT)) == NULL)
		fatalx("notice: cannot make a webhook's JSON");
	json_decref(o);
	return s;
}

/*
 * Subject: level, system and what happened, in both languages.  The
 * body says the same, with the detail and the portal draft.  A drill's
 * subject begins "[DRILL 演練]" and its body says so first.  Called when
 * the incident's rows are in the database: now, or, while the store holds
 * changes in memory, when this one's turn to be written comes (store.c).
 */
static int
notice_compose(struct store *st, void *arg)
{
	struct notice_later	*nl = arg;
	char			*subject, *body, *marked, *json = NULL;
	char			 kind[16];
	int			 hook;
	int			 r, rc = 0, drill;

	if (notice_kind(st, nl->incident, kind) == -1)
		return -1;
	drill = strcmp(kind, "drill") == 0;
	if ((body = notice_body(st, nl->incident, nl->level, nl->system,
	    nl->event, nl->detail, nl->now, kind)) == NULL)
		return -1;
	if (drill) {
		xasprintf(&marked, NOTICE_DRILL_BANNER "%s", body);
		free(body);
		body = marked;
	}
	xasprintf(&subject, "%s[rtowatch] 第%d級 level %d: %s %s / %s "
	    "(incident %lld)", drill ? "[DRILL 演練] " : "", nl->level,
	    nl->level, nl->system, notice_event_zh(nl->event), nl->event,
	    (long long)nl->incident);
	if (nl->webhooks != 0)
		json = notice_webhook_json(nl, subject, body, drill);
	for (r = 0; r < nl->nrecipients && rc == 0; r++) {
		hook = (nl->webhooks & (1U << r)) != 0;
		rc = store_notification_queue(st, &(struct store_notification){
		    .incident_id = nl->incident, .at = nl->now,
		    .channel = hook ? "webhook" : "email",
		    .recipient = nl->recipients[r], .event = nl->event,
		    .subject = subject, .body = hook ? json : body });
	}
	free(json);
	free(subject);
	free(body);
	if (rc == 0 && nl->nrecipients > 0 && notice.kick != NULL)
		notice.kick(notice.kick_arg);
	return rc;
}

/*
 * Queue the notifications of EVENT to those the policy tells at LEVEL,
 * in the caller's transaction.  Who is told is decided now, from the
 * rules in force.
 */
int
notice_queue(struct store *st, const struct policy *pol, int64_t incident,
    int level, const char *system, const char *event, const char *detail,
    int64_t now)
{
	struct notice_later	*nl;
	int			 r;

	if (level < 1 || level > POLICY_LEVELS)
		return 0;
	nl = xcalloc(1, sizeof(*nl));
	nl->incident = incident;
	nl->level = level;
	nl->system = xstrdup(system);
	nl->event = xstrdup(event);
	nl->detail = xstrdup(detail);
	nl->now = now;
	for (r = 0; r < pol->nrecipients; r++)
		if (pol->tell[level] & (1U << r)) {
			if (pol->webhooks & (1U << r))
				nl->webhooks |= 1U << nl->nrecipients;
			nl->recipients[nl->nrecipients++] =
			    xstrdup(pol->recipients[r]);
		}
	return store_later(st, notice_compose, notice_later_free, nl);
}

/*
 * The closure notice (結案通報, 5.3.8's last column: 「資通安全事件報告
 * 單」): form IMS-P-009-01's fields as the record holds them at closing,
 * as text, under the labels and in the order the record's table gives
 * its mail (record_view).  The printed form (rtowatch report ID) is built
 * by the CLI from the same columns; this is its content, not its layout.
 */
struct notice_form {
	FILE		*fp;
	int		 rows;
	enum record_id	 ids[RECORD_NFIELDS];
	size_t		 n;
};

static int
notice_form_cb(int n, const char *const *cols, const char *const *vals,
    const int *num, void *arg)
{
	struct notice_form		*f = arg;
	const struct record_field	*rf;
	char				 t[128];
	int64_t				 when;
	size_t				 i;

	(void)cols;
	(void)num;
	for (i = 0; i < f->n && (int)i < n; i++) {
		rf = &record_fields[f->ids[i]];
		fprintf(f->fp, "%s: ", rf->mail);
		if (vals[i] == NULL || *vals[i] == '\0')
			fprintf(f->fp, "-\n");
		else if (rf->type == RECORD_TIME &&
		    time_parse(vals[i], &when) == 0)
			fprintf(f->fp, "%s\n", notice_time(when, t, sizeof(t)));
		else
			fprintf(f->fp, "%s\n", vals[i]);
	}
	f->rows++;
	return 0;
}

/*
 * INCIDENT was closed in the caller's transaction: queue the closure
 * notice to the level's recipients (the policy's routing, 5.3.8).
 */
int
notice_closure(struct store *st, const struct policy *pol, int64_t incident,
    int level, const char *system, const char *actor, int64_t now)
{
	struct notice_form	 f;
	char			*sql = NULL, *text = NULL, num[24];
	const char		*args[1];
	size_t			 len = 0, i, sqllen = 0;
	FILE			*fp;
	int			 rc;

	f.n = record_view(RECORD_VIEW_MAIL, f.ids);
	if ((fp = open_memstream(&sql, &sqllen)) == NULL)
		fatal("open_memstream");
	fprintf(fp, "SELECT ");
	for (i = 0; i < f.n; i++)
		fprintf(fp, "%s%s", i > 0 ? ", " : "",
		    record_fields[f.ids[i]].column);
	fprintf(fp, " FROM incidents WHERE id = ?1");
	if (fclose(fp) != 0)
		fatal("open_memstream");
	if ((f.fp = open_memstream(&text, &len)) == NULL)
		fatal("open_memstream");
	f.rows = 0;
	fprintf(f.fp, "結案通報 Closure notice: incident %lld (%s) was closed "
	    "by %s.\n\n==== ISMS-P-009-01 資通安全事件報告單 Incident report "
	    "form (text; printed: rtowatch report %lld) ====\n",
	    (long long)incident, system, actor, (long long)incident);
	snprintf(num, sizeof(num), "%lld", (long long)incident);
	args[0] = num;
	rc = store_select(st, sql, 1, args, notice_form_cb, &f);
	free(sql);
	if (fclose(f.fp) != 0)
		fatal("open_memstream");
	if (rc == 0 && f.rows == 1)
		rc = notice_queue(st, pol, incident, level, system, "closed",
		    text, now);
	else
		rc = -1;
	free(text);
	return rc;
}
