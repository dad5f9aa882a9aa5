/*
 * mailer.c: the outbox's sender, email through libcurl's SMTP.
 *
 * The notifications table is the outbox: the engine queues rows in its
 * own transactions and kicks the mailer, which runs on the next turn of
 * the loop, after the commit.  Each pass takes, of every incident and
 * recipient, the oldest queued row (a later message never overtakes an
 * earlier one), and sends those whose next try is due, a few at a time,
 * through one curl multi handle on the loop (curlev.h): nothing blocks.
 *
 * A row is marked sent only once the server answered 250 to the end of
 * DATA.  A failure keeps the row queued with its last error (curl's
 * message and the server's last reply) and a next try that doubles from
 * mail-retry's first wait up to its longest.  After a restart, kill -9
 * included, the queued rows are simply found again.
 *
 * Delivery is at least once: a crash between the server's 250 and the
 * commit of "sent" sends that message again.  Each message carries a
 * Message-ID made of its row id and its creation time in this database,
 * the same on every attempt, so the copies can be recognised as one.
 *
 * A row still queued mail-alert-after its creation raises the alert: a
 * warning in the log and one "mail failing" event on its incident's
 * timeline.  The rows that raised it are marked (alerted_at), so the
 * alert is given once per incident and episode, across restarts too; the
 * first success after it is logged as the recovery.
 *
 * Host names in the smtp URL are resolved by curl itself, which Debian's
 * libcurl does in its resolver thread, off the loop.
 */
#include <sys/queue.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <openssl/evp.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf.h"
#include "curlev.h"
#include "log.h"
#include "mailer.h"
#include "store.h"
#include "util.h"

#define MAILER_MAX_JOBS		4		/* messages in flight */
#define MAILER_TIMEOUT_MS	(60 * 1000L)	/* one SMTP transaction */
#define MAILER_CONNECT_MS	(15 * 1000L)
#define MAILER_IDLE_MS		(5LL * 60 * 1000) /* look again anyway */
#define MAILER_SUBJECT_CHUNK	45	/* bytes per RFC 2047 encoded word */

struct mail_job {
	TAILQ_ENTRY(mail_job)	 entry;
	struct mailer		*mailer;
	int64_t			 id;
	int64_t			 incident_id;
	int			 attempts;	/* before this one */
	char			*address;
	CURL			*easy;
	struct curl_slist	*rcpt;
	char			*msg;
	size_t			 len;
	size_t			 off;
	char			 reply[256];	/* the last refusal */
	char			 errbuf[CURL_ERROR_SIZE];
};
TAILQ_HEAD(mail_jobs, mail_job);

struct mailer {
	struct event_base	*base;
	struct store		*store;
	const struct mail_conf	*mail;
	const struct conf	*conf;
	struct curlev		*curl;
	struct event		*kick;
	struct event		*timer;
	struct mail_jobs	 jobs;
	int			 njobs;
	int			 on;		/* as last logged */
	int64_t			 wake;		/* the pass's next wake-up */
	struct mailer_due	*due;		/* during a pass */
};

struct mailer_due;

/* ------------------------------------------------------------- the message */

static char *
mailer_base64(const void *in, size_t n)
{
	char	*out;

	out = xmalloc(4 * ((n + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)out, in, (int)n);
	return out;
}

/*
 * The subject as RFC 2047 encoded words of UTF-8, folded, each cut at a
 * character boundary so that every word decodes on its own.
 */
static void
mailer_subject(FILE *fp, const char *s)
{
	size_t	 len = strlen(s), n;
	char	*b64;

	/* Every encoded word on a line of its own: folded, under 78. */
	fprintf(fp, "Subject:%s", len == 0 ? "\r\n" : "");
	while (len > 0) {
		n = len < MAILER_SUBJECT_CHUNK ? len : MAILER_SUBJECT_CHUNK;
		while (n < len && n > 0 && (s[n] & 0xc0) == 0x80)
			n--;
		b64 = mailer_base64(s, n);
		fprintf(fp, " =?UTF-8?B?%s?=\r\n", b64);
		free(b64);
		s += n;
		len -= n;
	}
}

/* The body in canonical form (CRLF), in base64 lines of 76. */
static void
mailer_body(FILE *fp, const char *body)
{
	char	*crlf, *b64;
	size_t	 n = 0, i, len;

	crlf = xmalloc(strlen(body) * 2 + 1);
	for (; *body != '\0'; body++) {
		if (*body == '\n')
			crlf[n++] = '\r';
		crlf[n++] = *body;
	}
	b64 = mailer_base64(crlf, n);
	len = strlen(b64);
	for (i = 0; i < len; i += 76)
		fprintf(fp, "%.*s\r\n", (int)(len - i < 76 ? len - i : 76),
		    b64 + i);
	free(b64);
	free(crlf);
}

/*
 * Date is when the notification was decided, and Message-ID the row's
 * id and creation time: both the same on every attempt, so a message
 * sent twice (a crash after the server's 250) is recognisably one.
 */
static char *
mailer_message(const struct mail_conf *mc, const struct store_mail *m,
    const char *address)
{
	struct tm	 tm;
	time_t		 sec = (time_t)(m->created_at / 1000);
	const char	*domain = strchr(mc->from, '@') + 1;
	char		 date[64], *msg = NULL;
	size_t		 len = 0;
	FILE		*fp;

	if (localtime_r(&sec, &tm) == NULL ||
	    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z",
	    &tm) == 0)
		date[0] = '\0';
	if ((fp = open_memstream(&msg, &len)) == NULL)
		fatal("open_memstream");
	fprintf(fp, "Date: %s\r\n", date);
	fprintf(fp, "From: rtowatch <%s>\r\n", mc->from);
	fprintf(fp, "To: <%s>\r\n", address);
	mailer_subject(fp, m->subject);
	fprintf(fp, "Message-ID: <rtowatch.%lld.%lld@%s>\r\n",
	    (long long)m->id, (long long)m->created_at, domain);
	fprintf(fp, "X-Rtowatch-Incident: %lld\r\n",
	    (long long)m->incident_id);
	fprintf(fp, "MIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=UTF-8\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n");
	mailer_body(fp, m->body);
	if (fclose(fp) != 0)
		fatal("open_memstream");
	return msg;
}

/* ------------------------------------------------------------ the transfer */

static size_t
mailer_read_cb(char *buf, size_t size, size_t nitems, void *arg)
{
	struct mail_job	*j = arg;
	size_t		 n = size * nitems;

	if (n > j->len - j->off)
		n = j->len - j->off;
	memcpy(buf, j->msg + j->off, n);
	j->off += n;
	return n;
}

/*
 * Keep the server's last refusal (a 4xx or 5xx reply line) for
 * last_error: curl's own message names the command, the server's says
 * why.  Replies after it (221 to QUIT) would hide it.
 */
static int
mailer_debug_cb(CURL *easy, curl_infotype type, char *data, size_t size,
    void *arg)
{
	struct mail_job	*j = arg;
	size_t		 i, n = 0;

	(void)easy;
	if (type != CURLINFO_HEADER_IN || size == 0 ||
	    (data[0] != '4' && data[0] != '5'))
		return 0;
	for (i = 0; i < size && n + 1 < sizeof(j->reply); i++) {
		if (data[i] == '\r' || data[i] == '\n')
			break;
		j->reply[n++] = isprint((unsigned char)data[i]) ? data[i] :
		    '?';
	}
	j->reply[n] = '\0';
	return 0;
}

static void
mailer_job_free(struct mail_job *j)
{
	struct mailer	*m = j->mailer;

	TAILQ_REMOVE(&m->jobs, j, entry);
	m->njobs--;
	if (j->easy != NULL) {
		curlev_remove(m->curl, j->easy);
		curl_easy_cleanup(j->easy);
	}
	curl_slist_free_all(j->rcpt);
	free(j->msg);
	free(j->address);
	free(j);
}

/* Backoff: the first wait, doubled after each further failure. */
static int64_t
mailer_backoff(const struct mail_conf *mc, int attempts)
{
	int64_t	 wait = mc->retry_ms;

	while (--attempts > 0 && wait < mc->retry_max_ms)
		wait *= 2;
	return wait < mc->retry_max_ms ? wait : mc->retry_max_ms;
}

static void
mailer_failed(struct mailer *m, int64_t id, int attempts,
    const char *address, const char *error)
{
	char	 d[32];
	int64_t	 wait = mailer_backoff(m->mail, attempts + 1);

	if (store_mail_failed(m->store, id, address, error,
	    wall_ms() + wait) == -1)
		log_warnx("mail %lld: cannot record the failure", (long long)id);
	log_warnx("mail %lld to %s: attempt %d failed, next in %s: %s",
	    (long long)id, address, attempts + 1,
	    duration_fmt(wait, d, sizeof(d)), error);
}

static void
mailer_done(CURL *easy, CURLcode code, void *arg)
{
	struct mailer	*m = arg;
	struct mail_job	*j;
	char		*priv = NULL, *error;
	int64_t		 oldest;
	int		 alerted = 0;

	curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
	if ((j = (struct mail_job *)(void *)priv) == NULL)
		return;
	if (code == CURLE_OK) {
		if (store_mail_sent(m->store, j->id, j->address, wall_ms(),
		    &alerted) == -1)
			log_warnx("mail %lld to %s: accepted by the server but "
			    "not recorded; it will be sent again",
			    (long long)j->id, j->address);
		else
			log_info("mail %lld to %s: sent (incident %lld)",
			    (long long)j->id, j->address,
			    (long long)j->incident_id);
		if (alerted && store_mail_pending(m->store, j->incident_id,
		    &oldest) == 0)
			log_info("incident %lld: mail is going out again",
			    (long long)j->incident_id);
	} else {
		xasprintf(&error, "%s%s%s", j->errbuf[0] != '\0' ? j->errbuf :
		    curl_easy_strerror(code), j->reply[0] != '\0' ?
		    "; server: " : "", j->reply);
		mailer_failed(m, j->id, j->attempts, j->address, error);
		free(error);
	}
	mailer_job_free(j);
	/* Not from inside curl's callback: on the next turn of the loop. */
	mailer_kick(m);
}

static void
mailer_setopt_failed(CURLcode rc)
{
	fatalx("mailer: curl_easy_setopt: %s", curl_easy_strerror(rc));
}

static void
mailer_start(struct mailer *m, const struct store_mail *row)
{
	const struct mail_conf		*mc = m->mail;
	const struct contact_conf	*c;
	struct mail_job			*j;
	char				 rcpt[512], from[512];
	CURLcode			 rc;
	CURL				*e;

	c = conf_find_contact(m->conf, row->recipient);
	if (c == NULL || c->email == NULL) {
		mailer_failed(m, row->id, row->attempts, "",
		    "no contact with an email address for this recipient in "
		    "the rules");
		return;
	}
	j = xcalloc(1, sizeof(*j));
	j->mailer = m;
	j->id = row->id;
	j->incident_id = row->incident_id;
	j->attempts = row->attempts;
	j->address = xstrdup(c->email);
	j->msg = mailer_message(mc, row, c->email);
	j->len = strlen(j->msg);
	TAILQ_INSERT_TAIL(&m->jobs, j, entry);
	m->njobs++;

	snprintf(rcpt, sizeof(rcpt), "<%s>", c->email);
	snprintf(from, sizeof(from), "<%s>", mc->from);
	if ((j->rcpt = curl_slist_append(NULL, rcpt)) == NULL)
		fatalx("mailer: curl_slist_append failed");

#define SET(opt, val)	do {						\
	if ((rc = curl_easy_setopt(e, opt, val)) != CURLE_OK)		\
		mailer_setopt_failed(rc);				\
} while (0)

	if ((e = j->easy = curlev_easy(m->curl, mc->smtp, j, j->errbuf,
	    "smtp,smtps")) == NULL)
		fatalx("mailer: curl_easy_init failed");
	/*
	 * One SMTP session per message: a few messages an incident do not
	 * need pipelining, and nothing of a session that went wrong (a
	 * refusal, a login the server forgot) carries over to the next.
	 */
	SET(CURLOPT_FRESH_CONNECT, 1L);
	SET(CURLOPT_FORBID_REUSE, 1L);
	SET(CURLOPT_TIMEOUT_MS, MAILER_TIMEOUT_MS);
	SET(CURLOPT_CONNECTTIMEOUT_MS, MAILER_CONNECT_MS);
	SET(CURLOPT_MAIL_FROM, from);
	SET(CURLOPT_MAIL_RCPT, j->rcpt);
	SET(CURLOPT_UPLOAD, 1L);
	SET(CURLOPT_READFUNCTION, mailer_read_cb);
	SET(CURLOPT_READDATA, j);
	SET(CURLOPT_INFILESIZE_LARGE, (curl_off_t)j->len);
	SET(CURLOPT_VERBOSE, 1L);	/* for the replies, not to stderr: */
	SET(CURLOPT_DEBUGFUNCTION, mailer_debug_cb);
	SET(CURLOPT_DEBUGDATA, j);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	if (strncmp(mc->smtp, "smtp://", 7) == 0)
		SET(CURLOPT_USE_SSL, (long)(mc->starttls == CONF_STARTTLS_YES ?
		    CURLUSESSL_ALL : mc->starttls == CONF_STARTTLS_NO ?
		    CURLUSESSL_NONE : CURLUSESSL_TRY));
	if (mc->ca_file != NULL)
		SET(CURLOPT_CAINFO, mc->ca_file);
	if (mc->user != NULL) {
		SET(CURLOPT_USERNAME, mc->user);
		SET(CURLOPT_PASSWORD, mc->password);
	}
#undef SET

	log_debug("mail %lld to %s: attempt %d", (long long)j->id, j->address,
	    j->attempts + 1);
	if (curlev_add(m->curl, e) == -1) {
		mailer_failed(m, j->id, j->attempts, j->address,
		    "curl_multi_add_handle failed");
		mailer_job_free(j);
	}
}

/* ---------------------------------------------------------------- a pass */

static void
mailer_wake_at(struct mailer *m, int64_t t)
{
	if (t != 0 && (m->wake == 0 || t < m->wake))
		m->wake = t;
}

/*
 * A pass reads first and acts after, so that no write (a failure, the
 * alert's transaction) happens while a query is still stepping.
 */
struct mailer_row {
	struct store_mail	 m;	/* its strings are the copies below */
	char			*recipient;
	char			*subject;
	char			*body;
};

struct mailer_due {
	struct mailer_row	 rows[MAILER_MAX_JOBS];
	int			 n;
};

struct mailer_late {
	int64_t		 incident;
	int		 count;
	int64_t		 oldest;
	char		*error;
	int		 failing;
};

struct mailer_lates {
	struct mailer_late	*v;
	int			 n;
};

static int
mailer_head(const struct store_mail *row, void *arg)
{
	struct mailer		*m = arg;
	struct mailer_due	*due = m->due;
	struct mailer_row	*copy;
	struct mail_job		*j;

	TAILQ_FOREACH(j, &m->jobs, entry)
		if (j->id == row->id)
			return 0;	/* in flight */
	if (row->next_try_at > wall_ms()) {
		mailer_wake_at(m, row->next_try_at);
		return 0;
	}
	if (m->njobs + due->n >= MAILER_MAX_JOBS)
		return 0;		/* a job's end runs a pass */
	copy = &due->rows[due->n++];
	copy->m = *row;
	copy->m.recipient = copy->recipient = xstrdup(row->recipient);
	copy->m.subject = copy->subject = xstrdup(row->subject);
	copy->m.body = copy->body = xstrdup(row->body);
	return 0;
}

static int
mailer_late_cb(int64_t incident, int count, int64_t oldest,
    const char *error, int failing, void *arg)
{
	struct mailer_lates	*l = arg;
	struct mailer_late	*x;

	l->v = xrealloc(l->v, (size_t)(l->n + 1) * sizeof(*l->v));
	x = &l->v[l->n++];
	x->incident = incident;
	x->count = count;
	x->oldest = oldest;
	x->error = error != NULL ? xstrdup(error) : NULL;
	x->failing = failing;
	return 0;
}

/* An incident whose mail is overdue: the alert, once per episode. */
static void
mailer_alert(struct mailer *m, const struct mailer_late *x)
{
	int64_t		 now = wall_ms();
	char		 detail[768], t[TIME_STRLEN], d[32];

	snprintf(detail, sizeof(detail), "%d message%s queued since %s not "
	    "sent after %s: %s", x->count, x->count == 1 ? "" : "s",
	    time_fmt(x->oldest, t, sizeof(t)),
	    duration_fmt(m->mail->alert_after_ms, d, sizeof(d)),
	    x->error != NULL ? x->error : "not tried yet");
	if (store_begin(m->store) == -1 ||
	    (!x->failing && store_timeline_add(m->store, x->incident, now,
	    "mail failing", "rtowatchd", detail) == -1) ||
	    store_mail_alerted(m->store, x->incident, now -
	    m->mail->alert_after_ms, now) == -1 ||
	    store_commit(m->store) == -1) {
		store_rollback(m->store);
		log_warnx("incident %lld: the mail alert could not be recorded",
		    (long long)x->incident);
		return;
	}
	if (!x->failing)
		log_warnx("incident %lld: mail failing: %s",
		    (long long)x->incident, detail);
}

static void
mailer_run(struct mailer *m)
{
	struct mailer_lates	 lates = { NULL, 0 };
	struct mailer_due	 due;
	struct timeval		 tv;
	int64_t			 now = wall_ms(), oldest = 0, wait;
	int			 i;

	evtimer_del(m->timer);
	if (m->mail == NULL || m->mail->smtp == NULL || m->curl == NULL)
		return;
	/*
	 * The outbox is in the database: while it refuses writes (store.c
	 * holds them), a mail sent now could not be marked sent and would go
	 * twice.  The mail waits for the store, and so does what is queued
	 * meanwhile, which is held in memory with the rest.
	 */
	if (store_failing(m->store)) {
		tv.tv_sec = 1;
		tv.tv_usec = 0;
		evtimer_add(m->timer, &tv);
		return;
	}
	m->wake = 0;
	if (store_mail_overdue(m->store, now - m->mail->alert_after_ms,
	    mailer_late_cb, &lates) == -1)
		log_warnx("mailer: cannot read the overdue mail");
	for (i = 0; i < lates.n; i++) {
		mailer_alert(m, &lates.v[i]);
		free(lates.v[i].error);
	}
	free(lates.v);

	due.n = 0;
	m->due = &due;
	if (store_mail_heads(m->store, mailer_head, m) == -1)
		log_warnx("mailer: cannot read the outbox");
	m->due = NULL;
	for (i = 0; i < due.n; i++) {
		mailer_start(m, &due.rows[i].m);
		free(due.rows[i].recipient);
		free(due.rows[i].subject);
		free(due.rows[i].body);
	}

	if (store_mail_pending(m->store, 0, &oldest) != -1 && oldest != 0)
		mailer_wake_at(m, oldest + m->mail->alert_after_ms + 1);
	mailer_wake_at(m, now + MAILER_IDLE_MS);
	/*
	 * Due rows were started above, and a full house is run again as
	 * each job ends: a wake-up already past means a store error, to be
	 * retried calmly rather than in a loop.
	 */
	if ((wait = m->wake - wall_ms()) <= 0)
		wait = 1000;
	tv.tv_sec = wait / 1000;
	tv.tv_usec = (wait % 1000) * 1000;
	evtimer_add(m->timer, &tv);
}

static void
mailer_event_cb(evutil_socket_t fd, short events, void *arg)
{
	(void)fd;
	(void)events;
	mailer_run(arg);
}

/* notice.c's hook: new rows; look on the next turn of the loop. */
void
mailer_kick(void *arg)
{
	struct mailer	*m = arg;

	event_active(m->kick, EV_TIMEOUT, 1);
}

struct mailer *
mailer_new(struct event_base *base, struct store *store)
{
	struct mailer	*m;

	m = xcalloc(1, sizeof(*m));
	m->base = base;
	m->store = store;
	m->on = -1;
	TAILQ_INIT(&m->jobs);
	if ((m->kick = event_new(base, -1, 0, mailer_event_cb, m)) == NULL ||
	    (m->timer = evtimer_new(base, mailer_event_cb, m)) == NULL)
		fatalx("mailer: event_new failed");
	m->curl = curlev_new(base, "mailer", mailer_done, m);
	return m;
}

/*
 * The rules in force, at start and at each reload.  Messages in flight
 * keep what they were started with; the next pass uses the new rules.
 */
void
mailer_configure(struct mailer *m, const struct conf *conf)
{
	int	 on = conf->mail.smtp != NULL;

	m->conf = conf;
	m->mail = &conf->mail;
	if (on != m->on) {
		if (on)
			log_info("mail: sending notifications through %s as "
			    "%s", conf->mail.smtp, conf->mail.from);
		else
			log_info("mail is off (no \"set smtp\" in the rules): "
			    "notifications stay queued in the database");
		m->on = on;
	}
	if (on && m->curl == NULL)
		log_warnx("mail: libcurl could not be set up; nothing will be "
		    "sent");
	mailer_kick(m);
}

void
mailer_free(struct mailer *m)
{
	struct mail_job	*j, *next;

	if (m == NULL)
		return;
	/* Messages in flight stay queued: sent again at the next start. */
	for (j = TAILQ_FIRST(&m->jobs); j != NULL; j = next) {
		next = TAILQ_NEXT(j, entry);
		mailer_job_free(j);
	}
	curlev_free(m->curl);
	event_free(m->timer);
	event_free(m->kick);
	free(m);
}
