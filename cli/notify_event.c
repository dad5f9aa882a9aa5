/*
 * notify_event.c: the event stream's replies, read defensively, and what
 * the desktop agent says about each event.
 *
 * The reply comes from a daemon we trust, but over a socket, from a
 * version that may be newer than us: anything that is not the shape of
 * docs/control-api.md is either an error for the whole batch (no way to
 * know which ids it covers) or, for one member of one event, treated as
 * absent.  An unknown event name is simply not shown.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "notify_event.h"
#include "util.h"

/* More than the daemon ever sends (500), less than a runaway. */
#define NOTIFY_BATCH_EVENTS	10000
/* A detail longer than this is cut in the body: a popup is no report. */
#define NOTIFY_DETAIL_MAX	600

/*
 * The events a person must see, with their Traditional Chinese name.
 * Exact names first; the suffix rows catch clocks added later.
 */
static const struct notify_kind {
	const char	*name;
	const char	*zh;
	int		 suffix;	/* name is a suffix of the event */
	int		 critical;	/* whatever the level */
} notify_kinds[] = {
	{ .name = "opened", .zh = "事件開立" },
	{ .name = "reclassified", .zh = "升級為重大事件" },
	{ .name = "declared major", .zh = "人員認定為重大事件" },
	{ .name = "failed again", .zh = "再次中斷" },
	{ .name = "restored", .zh = "已恢復" },
	{ .name = "notify reminder", .zh = "通報期限提醒" },
	{ .name = "restore reminder", .zh = "復原期限提醒" },
	{ .name = "report reminder", .zh = "報告期限提醒" },
	{ .name = "close reminder", .zh = "結案期限提醒" },
	{ .name = "notify deadline missed", .zh = "通報逾期",
	  .critical = 1 },
	{ .name = "restore deadline missed", .zh = "復原逾期",
	  .critical = 1 },
	{ .name = "report deadline missed", .zh = "報告逾期",
	  .critical = 1 },
	{ .name = "close deadline missed", .zh = "結案逾期",
	  .critical = 1 },
	{ .name = "mail failing", .zh = "郵件寄送失敗", .critical = 1 },
	{ .name = "webhook failed", .zh = "webhook 通知失敗", .critical = 1 },
	{ .name = "webhook failing", .zh = "webhook 通知延誤", .critical = 1 },
	{ .name = "store failing", .zh = "資料庫寫入失敗", .critical = 1 },
	{ .name = "monitoring host failing", .zh = "監測主機異常",
	  .critical = 1 },
	{ .name = "warning opened", .zh = "資安預警" },
	{ .name = " reminder", .zh = "期限提醒", .suffix = 1 },
	{ .name = " deadline missed", .zh = "逾期", .suffix = 1,
	  .critical = 1 },
};

static const struct notify_kind *
notify_kind_find(const char *event)
{
	size_t	 i, n, len;

	len = strlen(event);
	for (i = 0; i < sizeof(notify_kinds) / sizeof(notify_kinds[0]); i++) {
		n = strlen(notify_kinds[i].name);
		if (!notify_kinds[i].suffix) {
			if (strcmp(event, notify_kinds[i].name) == 0)
				return &notify_kinds[i];
		} else if (len > n &&
		    strcmp(event + len - n, notify_kinds[i].name) == 0)
			return &notify_kinds[i];
	}
	return NULL;
}

int
notify_event_worth(const struct notify_event *ev)
{
	return notify_kind_find(ev->event) != NULL;
}

/* Levels 3-4, missed deadlines and failing mail cannot wait. */
int
notify_event_critical(const struct notify_event *ev)
{
	const struct notify_kind	*k;

	if (ev->level >= 3)
		return 1;
	k = notify_kind_find(ev->event);
	return k != NULL && k->critical;
}

/* A member that must be a string, or NULL. */
static char *
notify_string(const json_t *obj, const char *key)
{
	const json_t	*v;

	v = json_object_get(obj, key);
	return json_is_string(v) ? xstrdup(json_string_value(v)) : NULL;
}

/* A member that must be a positive integer, or 0. */
static int64_t
notify_id(const json_t *obj, const char *key)
{
	const json_t	*v;

	v = json_object_get(obj, key);
	if (!json_is_integer(v) || json_integer_value(v) <= 0)
		return 0;
	return json_integer_value(v);
}

static void
notify_event_clear(struct notify_event *ev)
{
	free(ev->at);
	free(ev->event);
	free(ev->actor);
	free(ev->detail);
	free(ev->system);
}

void
notify_batch_free(struct notify_batch *b)
{
	size_t	 i;

	for (i = 0; i < b->count; i++)
		notify_event_clear(&b->events[i]);
	free(b->events);
	b->events = NULL;
	b->count = 0;
}

/*
 * Parse BUF (LEN bytes) as {"events": [...], "last": N} into B.  Returns 0,
 * or -1 with a reason in ERR and B empty.
 */
int
notify_batch_parse(const char *buf, size_t len, struct notify_batch *b,
    char *err, size_t errlen)
{
	json_error_t	 jerr;
	json_t		*root, *arr, *last, *obj, *v;
	struct notify_event *ev;
	size_t		 i, n;
	int64_t		 prev = 0;

	memset(b, 0, sizeof(*b));
	if (len > NOTIFY_BATCH_MAX) {
		snprintf(err, errlen, "reply of %zu bytes is too large", len);
		return -1;
	}
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		snprintf(err, errlen, "not JSON: %s (line %d)", jerr.text,
		    jerr.line);
		return -1;
	}
	arr = json_object_get(root, "events");
	last = json_object_get(root, "last");
	if (!json_is_array(arr) || !json_is_integer(last) ||
	    json_integer_value(last) < 0) {
		snprintf(err, errlen, "no \"events\" array and \"last\" id");
		goto fail;
	}
	n = json_array_size(arr);
	if (n > NOTIFY_BATCH_EVENTS) {
		snprintf(err, errlen, "%zu events in one reply", n);
		goto fail;
	}
	b->last = json_integer_value(last);
	b->events = n > 0 ? xcalloc(n, sizeof(*b->events)) : NULL;
	for (i = 0; i < n; i++) {
		obj = json_array_get(arr, i);
		ev = &b->events[i];
		v = json_object_get(obj, "event");
		ev->transient = json_is_true(json_object_get(obj, "transient"));
		ev->id = ev->transient ? 0 : notify_id(obj, "id");
		/* Without its id or name the batch's order is unknowable. */
		if (!json_is_object(obj) || (!ev->transient && ev->id <= prev) ||
		    !json_is_string(v) || *json_string_value(v) == '\0') {
			snprintf(err, errlen, "event %zu: no name, or an id "
			    "that is missing or not rising", i);
			goto fail;
		}
		b->count = i + 1;
		if (!ev->transient)
			prev = ev->id;
		ev->event = xstrdup(json_string_value(v));
		ev->at = notify_string(obj, "at");
		ev->actor = notify_string(obj, "actor");
		ev->detail = notify_string(obj, "detail");
		ev->system = notify_string(obj, "system");
		ev->incident = notify_id(obj, "incident");
		ev->warning = notify_id(obj, "warning");
		v = json_object_get(obj, "level");
		if (json_is_integer(v) && json_integer_value(v) >= 1 &&
		    json_integer_value(v) <= 4)
			ev->level = (int)json_integer_value(v);
		ev->major = json_is_true(json_object_get(obj, "major"));
		v = json_object_get(obj, "kind");
		ev->drill = json_is_string(v) &&
		    strcmp(json_string_value(v), "drill") == 0;
	}
	if (prev > b->last)
		b->last = prev;
	json_decref(root);
	return 0;

fail:
	notify_batch_free(b);
	json_decref(root);
	return -1;
}

/* The daemon's {"error": "..."} text, or NULL. */
char *
notify_error_text(const char *buf, size_t len)
{
	json_t	*root;
	char	*s;

	if (len > NOTIFY_BATCH_MAX)
		return NULL;
	root = json_loadb(buf, len, 0, NULL);
	if (root == NULL)
		return NULL;
	s = notify_string(root, "error");
	json_decref(root);
	return s;
}

/*
 * "Level 3 major · webshop · opened 事件開立"; a drill's begins
 * "[DRILL 演練] ", so that nobody takes it for a real incident.
 */
char *
notify_event_summary(const struct notify_event *ev)
{
	const struct notify_kind	*k;
	char				 level[32] = "";
	char				*s;
	const char			*sys, *dot = "";

	if (ev->level > 0)
		snprintf(level, sizeof(level), "Level %d%s", ev->level,
		    ev->major ? " major" : "");
	else if (ev->warning > 0 && ev->incident == 0)
		snprintf(level, sizeof(level), "Warning 預警");
	sys = ev->system != NULL && *ev->system != '\0' ? ev->system : NULL;
	if (level[0] != '\0')
		dot = " · ";
	k = notify_kind_find(ev->event);
	xasprintf(&s, "%s%s%s%s%s%s%s%s", ev->drill ? "[DRILL 演練] " : "",
	    level, sys != NULL ? dot : "",
	    sys != NULL ? sys : "", level[0] != '\0' || sys != NULL ?
	    " · " : "", ev->event, k != NULL ? " " : "",
	    k != NULL ? k->zh : "");
	return s;
}

/* Cut S to at most MAX bytes without splitting a UTF-8 sequence. */
static size_t
notify_cut(const char *s, size_t max)
{
	size_t	 n;

	n = strlen(s);
	if (n <= max)
		return n;
	n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return n;
}

/*
 * The detail, its times in the local zone as every other view shows them
 * (the timeline keeps UTC), then which record and when.
 */
char *
notify_event_body(const struct notify_event *ev)
{
	char		 when[64] = "", ref[64] = "";
	const char	*cut;
	char		*s, *detail;
	struct tm	 tm;
	time_t		 t;
	int64_t		 ms;
	size_t		 n;

	detail = time_text_local(ev->detail != NULL ? ev->detail : "", 0);
	n = notify_cut(detail, NOTIFY_DETAIL_MAX);
	cut = n < strlen(detail) ? "…" : "";
	if (ev->incident > 0)
		snprintf(ref, sizeof(ref), "事件 Incident #%lld",
		    (long long)ev->incident);
	else if (ev->warning > 0)
		snprintf(ref, sizeof(ref), "預警 Warning #%lld",
		    (long long)ev->warning);
	if (ev->at != NULL && time_parse(ev->at, &ms) == 0) {
		t = (time_t)(ms / 1000);
		if (localtime_r(&t, &tm) != NULL)
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %Z",
			    &tm);
	}
	xasprintf(&s, "%.*s%s%s%s%s%s", (int)n, detail, cut,
	    n > 0 && (ref[0] != '\0' || when[0] != '\0') ? "\n" : "", ref,
	    ref[0] != '\0' && when[0] != '\0' ? " · " : "", when);
	free(detail);
	return s;
}
