/*
 * webhook.c: the outbox's other sender, an HTTP POST to each webhook a
 * policy's "tell" line names (conf_webhook.c).
 *
 * The rows are the mail's outbox, channel 'webhook': queued in the
 * transaction that decides them (notice.c, the event as JSON), sent
 * oldest first within each incident and webhook, so a later event never
 * overtakes an earlier one, retried on mail-retry's schedule with the
 * mailer's backoff, and found again after a restart, kill -9 included.
 *
 * The requests run on the loop through curl's multi interface
 * (curlev.c), not in threads as mail does: curl's HTTP, unlike its SMTP,
 * never waits in a blocking loop of its own, so nothing here holds up
 * the probes, the clocks or the control socket, and the outcome is on
 * the loop already, where the database's one writer is.  mail-timeout
 * bounds each request.
 *
 * Every request carries the same delivery key on each attempt
 * (Idempotency-Key and X-Rtowatch-Delivery: the row's id and creation
 * time), so a receiver can drop the copy that a crash between its 2xx
 * and our commit, or a 2xx lost on the way back, makes us send again.
 * With a secret, X-Rtowatch-Signature is "sha256=" and the hex HMAC-
 * SHA256, keyed with the secret, of X-Rtowatch-Timestamp (the attempt's
 * Unix time in seconds), a '.', and the raw body: a receiver that checks
 * it and refuses a timestamp far from its clock cannot be fed a replayed
 * request.
 *
 * A 2xx is delivery: the row is sent and "webhook delivered" goes on the
 * incident's timeline, as "mail delivered" does for mail.  Anything else
 * is a failure, retried: no answer, a timeout, 3xx (no redirect is
 * followed: the URL is the rules'), 5xx, 408 and 429.  Any other 4xx
 * says the request itself is wrong (a revoked URL, a bad signature); it
 * is tried WEBHOOK_REFUSED_TRIES times in all, in case the receiver was
 * being set up, and then given up: the row is failed, with "webhook
 * failed" on the timeline and a warning in the log.
 *
 * The secret is never logged, nor is the URL's path (a Slack or Teams
 * URL is itself a credential): messages and the address column name the
 * webhook and its scheme and host only.
 */
#include <sys/queue.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <jansson.h>

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "curlev.h"
#include "log.h"
#include "mailer.h"
#include "rtowatch.h"
#include "sha256.h"
#include "store.h"
#include "util.h"
#include "webhook.h"

#define WEBHOOK_MAX_JOBS	8		/* requests in flight */
#define WEBHOOK_CONNECT_MS	(15 * 1000L)
#define WEBHOOK_IDLE_MS		(5LL * 60 * 1000) /* look again anyway */
#define WEBHOOK_REFUSED_TRIES	3		/* a 4xx, then give up */
#define WEBHOOK_SLACK_HEADER	150		/* Slack's header limit */
#define WEBHOOK_CHAT_TEXT	2900		/* under Slack's 3000 */
#define WEBHOOK_MATRIX_TEXT	((size_t)16 * 1024)

struct webhook_job {
	TAILQ_ENTRY(webhook_job) entry;
	struct webhook		*w;
	int64_t			 id;
	int64_t			 incident_id;
	int			 attempts;	/* before this one */
	char			*name;
	char			*address;	/* scheme and host */
	char			*payload;
	struct curl_slist	*headers;
	CURL			*easy;
	char			 errbuf[CURL_ERROR_SIZE];
};
TAILQ_HEAD(webhook_jobs, webhook_job);

struct webhook {
	struct event_base	*base;
	struct store		*store;
	const struct conf	*conf;
	struct curlev		*cv;
	struct event		*kick;
	struct event		*timer;
	struct webhook_jobs	 jobs;
	int			 njobs;
	int64_t			 wake;
};

/* A row read in a pass, kept past the query (read first, act after). */
struct webhook_row {
	int64_t		 id;
	int64_t		 incident_id;
	int		 attempts;
	int64_t		 created_at;
	char		*recipient;
	char		*body;
};

struct webhook_due {
	struct webhook		*w;
	struct webhook_row	 rows[WEBHOOK_MAX_JOBS];
	int			 n;
};

/* ------------------------------------------------------------ the payload */

/* At most MAX bytes of S, cut at a character boundary, "…" if cut. */
static json_t *
webhook_cut(const char *s, size_t max)
{
	size_t	 n = strlen(s);
	char	*t;
	json_t	*j;

	if (n <= max)
		return json_string(s);
	n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	xasprintf(&t, "%.*s…", (int)n, s);
	j = json_string(t);
	free(t);
	return j;
}

static const char *
webhook_str(const json_t *ev, const char *key)
{
	const char	*s = json_string_value(json_object_get(ev, key));

	return s != NULL ? s : "";
}

/*
 * The request's body from the row's event (notice.c's JSON): the event
 * itself with its delivery key (generic), or the message each chat
 * service's incoming webhooks take.  NULL: the row is not JSON.
 */
static char *
webhook_payload(enum conf_webhook_format fmt, const char *body,
    const char *key)
{
	json_t		*ev, *out;
	json_error_t	 err;
	const char	*subject, *summary;
	char		*s, *text;

	if ((ev = json_loads(body, 0, &err)) == NULL || !json_is_object(ev)) {
		json_decref(ev);
		return NULL;
	}
	subject = webhook_str(ev, "subject");
	summary = webhook_str(ev, "summary");
	switch (fmt) {
	case CONF_WEBHOOK_SLACK:
		out = json_pack("{s:s, s:[{s:s, s:{s:s, s:o}}, "
		    "{s:s, s:{s:s, s:o}}]}", "text", subject, "blocks",
		    "type", "header", "text", "type", "plain_text", "text",
		    webhook_cut(subject, WEBHOOK_SLACK_HEADER),
		    "type", "section", "text", "type", "plain_text", "text",
		    webhook_cut(summary, WEBHOOK_CHAT_TEXT));
		break;
	case CONF_WEBHOOK_TEAMS:
		/* What Teams' Workflows webhooks take: an Adaptive Card. */
		out = json_pack("{s:s, s:[{s:s, s:n, s:{s:s, s:s, s:s, "
		    "s:[{s:s, s:s, s:s, s:s, s:b}, {s:s, s:o, s:b}]}}]}",
		    "type", "message", "attachments",
		    "contentType", "application/vnd.microsoft.card.adaptive",
		    "contentUrl", "content",
		    "$schema", "http://adaptivecards.io/schemas/"
		    "adaptive-card.json", "type", "AdaptiveCard",
		    "version", "1.4", "body",
		    "type", "TextBlock", "text", subject, "weight", "Bolder",
		    "size", "Medium", "wrap", 1,
		    "type", "TextBlock", "text",
		    webhook_cut(summary, WEBHOOK_CHAT_TEXT), "wrap", 1);
		break;
	case CONF_WEBHOOK_MATRIX:
		/* An m.room.message event's content. */
		xasprintf(&text, "%s\n\n%s", subject, summary);
		out = json_pack("{s:s, s:o}", "msgtype", "m.text", "body",
		    webhook_cut(text, WEBHOOK_MATRIX_TEXT));
		free(text);
		break;
	default:
		out = json_incref(ev);
		json_object_set_new(out, "delivery", json_string(key));
		break;
	}
	json_decref(ev);
	if (out == NULL || (s = json_dumps(out, JSON_COMPACT)) == NULL)
		fatalx("webhook: cannot make a request's JSON");
	json_decref(out);
	return s;
}

/* "sha256=" and the hex HMAC-SHA256 of "TIMESTAMP.BODY". */
static char *
webhook_sign(const struct webhook_conf *wc, const char *ts, const char *body)
{
	unsigned char	 mac[SHA256_LEN];
	char		*material, *sig;
	size_t		 n, i;

	xasprintf(&material, "%s.%s", ts, body);
	hmac_sha256(wc->secret, wc->secret_len, material, strlen(material),
	    mac);
	free(material);
	n = sizeof(mac);
	sig = xmalloc(sizeof("sha256=") + 2 * n);
	memcpy(sig, "sha256=", 7);
	for (i = 0; i < n; i++)
		snprintf(sig + 7 + 2 * i, 3, "%02x", mac[i]);
	sig[7 + 2 * n] = '\0';
	explicit_bzero(mac, sizeof(mac));
	return sig;
}

/* "https://host:port" of the URL: what may be said of it. */
static char *
webhook_address(const struct webhook_conf *wc)
{
	const char	*h = strstr(wc->url, "://");
	char		*a;
	size_t		 n;

	h = h != NULL ? h + 3 : wc->url;
	n = (size_t)(h - wc->url) + strcspn(h, "/?#");
	a = xmalloc(n + 1);
	memcpy(a, wc->url, n);
	a[n] = '\0';
	return a;
}

static struct curl_slist *
webhook_header(struct curl_slist *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static struct curl_slist *
webhook_header(struct curl_slist *l, const char *fmt, ...)
{
	struct curl_slist	*n;
	va_list			 ap;
	char			*h;

	va_start(ap, fmt);
	if (vasprintf(&h, fmt, ap) == -1)
		fatal("vasprintf");
	va_end(ap);
	if ((n = curl_slist_append(l, h)) == NULL)
		fatalx("webhook: curl_slist_append failed");
	free(h);
	return n;
}

/* ------------------------------------------------------------ the outcome */

static void
webhook_job_free(struct webhook_job *j)
{
	struct webhook	*w = j->w;

	TAILQ_REMOVE(&w->jobs, j, entry);
	w->njobs--;
	if (j->easy != NULL) {
		curlev_remove(w->cv, j->easy);
		curl_easy_cleanup(j->easy);
	}
	curl_slist_free_all(j->headers);
	free(j->name);
	free(j->address);
	free(j->payload);
	free(j);
}

/* One more failed attempt, to be tried again after the backoff. */
static void
webhook_retry(struct webhook *w, int64_t id, int attempts, const char *name,
    const char *address, const char *error)
{
	char	 d[32];
	int64_t	 wait = mailer_backoff(&w->conf->mail, attempts + 1);

	if (store_mail_failed(w->store, &(struct store_mail_failure){
	    .id = id, .address = address, .error = error,
	    .next_try_at = wall_ms() + wait }) == -1)
		log_warnx("webhook %lld: cannot record the failure",
		    (long long)id);
	log_warnx("webhook %lld to %s: attempt %d failed, next in %s: %s",
	    (long long)id, name, attempts + 1,
	    duration_fmt(wait, d, sizeof(d)), error);
}

/* Delivered (2xx), or refused for good: recorded with its event. */
static void
webhook_record(struct webhook *w, const struct webhook_job *j, long status,
    int failed)
{
	char	 detail[512];

	snprintf(detail, sizeof(detail), "webhook %lld %s by \"%s\" (%s): "
	    "HTTP %ld%s", (long long)j->id, failed ? "refused" : "accepted",
	    j->name, j->address, status, failed ? "; given up after "
	    "repeated refusals" : "");
	if (store_webhook_sent(w->store, &(struct store_delivery){
	    .id = j->id, .incident_id = j->incident_id,
	    .address = j->address, .at = wall_ms(), .failed = failed,
	    .detail = detail }) == -1) {
		log_warnx("webhook %lld to %s: %s but not recorded%s",
		    (long long)j->id, j->name, failed ? "refused" :
		    "accepted", failed ? "" : "; it will be sent again");
		return;
	}
	if (failed)
		log_warnx("incident %lld: %s", (long long)j->incident_id,
		    detail);
	else
		log_info("webhook %lld to %s: delivered (incident %lld)",
		    (long long)j->id, j->name, (long long)j->incident_id);
}

static void
webhook_done(CURL *easy, CURLcode code, void *arg)
{
	struct webhook		*w = arg;
	struct webhook_job	*j;
	char			*priv = NULL, *error;
	long			 status = 0;

	curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
	if ((j = (struct webhook_job *)(void *)priv) == NULL)
		return;
	if (code == CURLE_OK)
		curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
	if (code == CURLE_OK && status >= 200 && status <= 299)
		webhook_record(w, j, status, 0);
	else if (code == CURLE_OK && status >= 400 && status <= 499 &&
	    status != 408 && status != 429 &&
	    j->attempts + 1 >= WEBHOOK_REFUSED_TRIES)
		webhook_record(w, j, status, 1);
	else {
		if (code != CURLE_OK)
			xasprintf(&error, "%s", j->errbuf[0] != '\0' ?
			    j->errbuf : curl_easy_strerror(code));
		else
			xasprintf(&error, "HTTP %ld from %s", status,
			    j->address);
		webhook_retry(w, j->id, j->attempts, j->name, j->address,
		    error);
		free(error);
	}
	webhook_job_free(j);
	/* The next row of that incident and webhook may go now. */
	webhook_kick(w);
}

static size_t
webhook_discard_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	(void)data;
	(void)arg;
	return size * nmemb;
}

/* ------------------------------------------------ a request, from the loop */

static void	webhook_wake_at(struct webhook *, int64_t);

static void
webhook_start(struct webhook *w, const struct webhook_row *row)
{
	const struct webhook_conf	*wc;
	struct webhook_job		*j;
	CURLcode			 rc;
	char				 key[64], ts[24], *sig;
	int64_t				 timeout = w->conf->mail.timeout_ms;

	if ((wc = conf_find_webhook(w->conf, row->recipient)) == NULL) {
		webhook_retry(w, row->id, row->attempts, row->recipient, "",
		    "no webhook of that name in the rules");
		return;
	}
	/* One node sends it, as for mail (store_mail_claim). */
	if (store_mail_claim(w->store, row->id, w->conf->node_name,
	    wall_ms() + timeout) != 1) {
		log_debug("webhook %lld: claimed or locked by another node: "
		    "passed by", (long long)row->id);
		webhook_wake_at(w, wall_ms() + 1000);
		return;
	}
	snprintf(key, sizeof(key), "rtowatch-%lld-%lld", (long long)row->id,
	    (long long)row->created_at);
	j = xcalloc(1, sizeof(*j));
	j->w = w;
	j->id = row->id;
	j->incident_id = row->incident_id;
	j->attempts = row->attempts;
	j->name = xstrdup(wc->name);
	j->address = webhook_address(wc);
	TAILQ_INSERT_TAIL(&w->jobs, j, entry);
	w->njobs++;
	if ((j->payload = webhook_payload(wc->format, row->body,
	    key)) == NULL) {
		webhook_retry(w, row->id, row->attempts, j->name, j->address,
		    "the queued event is not JSON");
		webhook_job_free(j);
		return;
	}
	j->headers = webhook_header(NULL, "Content-Type: application/json");
	j->headers = webhook_header(j->headers, "User-Agent: rtowatch/%s",
	    RTOWATCH_VERSION);
	j->headers = webhook_header(j->headers, "Idempotency-Key: %s", key);
	j->headers = webhook_header(j->headers, "X-Rtowatch-Delivery: %s",
	    key);
	if (wc->secret != NULL) {
		snprintf(ts, sizeof(ts), "%lld", (long long)(wall_ms() / 1000));
		sig = webhook_sign(wc, ts, j->payload);
		j->headers = webhook_header(j->headers,
		    "X-Rtowatch-Timestamp: %s", ts);
		j->headers = webhook_header(j->headers,
		    "X-Rtowatch-Signature: %s", sig);
		free(sig);
	}
	/* No "Expect: 100-continue" wait: the body is small. */
	j->headers = webhook_header(j->headers, "Expect:");
	if ((j->easy = curlev_easy(w->cv, wc->url, j, j->errbuf,
	    "http,https")) == NULL) {
		webhook_retry(w, row->id, row->attempts, j->name, j->address,
		    "curl cannot make a request");
		webhook_job_free(j);
		return;
	}

#define SET(opt, val)	do {						\
	if ((rc = curl_easy_setopt(j->easy, opt, val)) != CURLE_OK)	\
		fatalx("webhook: curl_easy_setopt: %s",			\
		    curl_easy_strerror(rc));				\
} while (0)

	SET(CURLOPT_POST, 1L);
	SET(CURLOPT_POSTFIELDS, j->payload);
	SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(j->payload));
	SET(CURLOPT_HTTPHEADER, j->headers);
	SET(CURLOPT_TIMEOUT_MS, (long)timeout);
	SET(CURLOPT_CONNECTTIMEOUT_MS, timeout < WEBHOOK_CONNECT_MS ?
	    (long)timeout : WEBHOOK_CONNECT_MS);
	SET(CURLOPT_WRITEFUNCTION, webhook_discard_cb);
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	if (wc->ca_file != NULL)
		SET(CURLOPT_CAINFO, wc->ca_file);
	/* Each request on its own: a delivery is not a session. */
	SET(CURLOPT_FORBID_REUSE, 1L);
#undef SET

	log_debug("webhook %lld to %s: attempt %d", (long long)j->id, j->name,
	    j->attempts + 1);
	if (curlev_add(w->cv, j->easy) == -1) {
		curl_easy_cleanup(j->easy);
		j->easy = NULL;
		webhook_retry(w, row->id, row->attempts, j->name, j->address,
		    "curl cannot start the request");
		webhook_job_free(j);
	}
}

/* ------------------------------------------------------------------ a pass */

static void
webhook_wake_at(struct webhook *w, int64_t t)
{
	if (t != 0 && (w->wake == 0 || t < w->wake))
		w->wake = t;
}

static int
webhook_head(const struct store_mail *row, void *arg)
{
	struct webhook_due	*due = arg;
	struct webhook		*w = due->w;
	struct webhook_row	*copy;
	struct webhook_job	*j;
	int64_t			 now = wall_ms();

	TAILQ_FOREACH(j, &w->jobs, entry)
		if (j->id == row->id)
			return 0;	/* in flight */
	/* As the mailer: a next try past the longest wait is due now. */
	if (row->next_try_at > now &&
	    row->next_try_at - now <= w->conf->mail.retry_max_ms) {
		webhook_wake_at(w, row->next_try_at);
		return 0;
	}
	if (w->njobs + due->n >= WEBHOOK_MAX_JOBS)
		return 0;		/* a request's end runs a pass */
	copy = &due->rows[due->n++];
	copy->id = row->id;
	copy->incident_id = row->incident_id;
	copy->attempts = row->attempts;
	copy->created_at = row->created_at;
	copy->recipient = xstrdup(row->recipient);
	copy->body = xstrdup(row->body);
	return 0;
}

static void
webhook_run(struct webhook *w)
{
	struct webhook_due	 due;
	struct timeval		 tv;
	int64_t			 wait;
	int			 i;

	evtimer_del(w->timer);
	/* Only the leader sends (lead.c); it kicks us when it leads. */
	if (w->conf == NULL || w->cv == NULL ||
	    TAILQ_EMPTY(&w->conf->webhooks) || !store_leading(w->store))
		return;
	/* As the mailer: a delivery that could not be recorded goes twice. */
	if (store_failing(w->store)) {
		tv.tv_sec = 1;
		tv.tv_usec = 0;
		evtimer_add(w->timer, &tv);
		return;
	}
	w->wake = 0;
	/* Rows queued mail-alert-after: "webhook failing", as for mail. */
	webhook_wake_at(w, mailer_alerts(w->store, "webhook",
	    w->conf->mail.alert_after_ms));
	due.w = w;
	due.n = 0;
	if (store_mail_heads(w->store, "webhook", webhook_head, &due) == -1)
		log_warnx("webhook: cannot read the outbox");
	for (i = 0; i < due.n; i++) {
		webhook_start(w, &due.rows[i]);
		free(due.rows[i].recipient);
		free(due.rows[i].body);
	}
	webhook_wake_at(w, wall_ms() + WEBHOOK_IDLE_MS);
	if ((wait = w->wake - wall_ms()) <= 0)
		wait = 1000;
	tv.tv_sec = wait / 1000;
	tv.tv_usec = (wait % 1000) * 1000;
	evtimer_add(w->timer, &tv);
}

static void
webhook_event_cb(evutil_socket_t fd, short events, void *arg)
{
	(void)fd;
	(void)events;
	webhook_run(arg);
}

/* New rows, or a request ended: look on the next turn of the loop. */
void
webhook_kick(void *arg)
{
	struct webhook	*w = arg;

	event_active(w->kick, EV_TIMEOUT, 1);
}

struct webhook *
webhook_new(struct event_base *base, struct store *store)
{
	struct webhook	*w;

	w = xcalloc(1, sizeof(*w));
	w->base = base;
	w->store = store;
	TAILQ_INIT(&w->jobs);
	if ((w->kick = event_new(base, -1, 0, webhook_event_cb, w)) == NULL ||
	    (w->timer = evtimer_new(base, webhook_event_cb, w)) == NULL)
		fatalx("webhook: event_new failed");
	return w;
}

/*
 * The rules in force, at start and at each reload.  Requests in flight
 * keep what they were started with.
 */
void
webhook_configure(struct webhook *w, const struct conf *conf)
{
	const struct webhook_conf	*wc;

	w->conf = conf;
	/*
	 * curl's multi handle at the first rules with a webhook, whose
	 * parser loaded libcurl (include/lazylib.h): none before.
	 */
	if (!TAILQ_EMPTY(&conf->webhooks) && w->cv == NULL &&
	    (w->cv = curlev_new(w->base, "webhook", webhook_done, w)) == NULL)
		log_warnx("webhook: libcurl could not be set up; nothing will "
		    "be posted");
	TAILQ_FOREACH(wc, &conf->webhooks, entry) {
		char	*addr = webhook_address(wc);

		log_info("webhook \"%s\": %s to %s, %s", wc->name,
		    conf_webhook_format_name(wc->format), addr,
		    wc->secret != NULL ? "signed" : "unsigned");
		free(addr);
	}
	webhook_kick(w);
}

/* Requests in flight are dropped: their rows stay queued for next time. */
void
webhook_free(struct webhook *w)
{
	struct webhook_job	*j, *next;

	if (w == NULL)
		return;
	for (j = TAILQ_FIRST(&w->jobs); j != NULL; j = next) {
		next = TAILQ_NEXT(j, entry);
		webhook_job_free(j);
	}
	curlev_free(w->cv);
	event_free(w->timer);
	event_free(w->kick);
	free(w);
}
