/*
 * mailer.c: the outbox's sender, email through libcurl's SMTP.
 *
 * The notifications table is the outbox: the engine queues rows in its
 * own transactions and kicks the mailer, which runs on the next turn of
 * the loop, after the commit.  Each pass takes, of every incident and
 * recipient, the oldest queued row (a later message never overtakes an
 * earlier one), and sends those whose next try is due, a few at a time.
 *
 * The SMTP sessions run off the loop, in a few threads with a curl easy
 * handle each.  libcurl waits for the reply to the end of DATA and for
 * the reply to QUIT in blocking loops of its own, even under its multi
 * interface, so on the loop a silent or slow server froze the daemon for
 * minutes: no probes, no clocks, no control socket, no watchdog ping.
 * The loop keeps everything else.  It reads the outbox, writes each
 * message whole and records every outcome; a thread sees only its job
 * (the message and a copy of the settings it needs) and never the
 * database, whose one writer stays the loop.  Jobs go to the threads
 * through a queue under one mutex, news comes back through another, and
 * an eventfd wakes the loop for it.
 *
 * mail-timeout bounds one message, from the connection to the reply to
 * QUIT: curl's own timeouts cover the transfer, its server response
 * timeout the QUIT it sends at disconnect (which its overall timeout
 * does not), and a progress callback, which curl calls at least once a
 * second even in its blocking waits, ends whatever is left past it.
 *
 * A row is marked sent as soon as the server answered 2xx to the end of
 * DATA, even while curl still waits for the reply to QUIT: the message
 * is the server's then, and a server silent after QUIT must not have it
 * sent again.  A failure keeps the row queued with its last error (curl's
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
 * At stop the threads are told to end; their sockets are shut down, so
 * that a session stuck in a silent server ends at once, and the loop
 * waits for them.  A message accepted meanwhile is recorded as sent; the
 * others stay queued for the next start.
 */
#include <sys/eventfd.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <curl/curl.h>
#include <event2/event.h>

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base64.h"
#include "conf.h"
#include "log.h"
#include "mailer.h"
#include "store.h"
#include "util.h"

#define MAILER_MAX_JOBS		4		/* messages in flight */
#define MAILER_CONNECT_MS	(15 * 1000L)
#define MAILER_IDLE_MS		(5LL * 60 * 1000) /* look again anyway */
#define MAILER_SUBJECT_CHUNK	45	/* bytes per RFC 2047 encoded word */
#define MAILER_SOCKS		4	/* a session's sockets, for the stop */

/*
 * One message's attempt.  The loop fills in the first part and then only
 * reads it; the thread running the job owns the second part until it
 * says it finished; the third is shared, under the mailer's lock.
 */
struct mail_job {
	TAILQ_ENTRY(mail_job)	 entry;		/* m->jobs: in flight */
	TAILQ_ENTRY(mail_job)	 qentry;	/* m->todo or m->news */
	struct mailer		*mailer;
	int64_t			 id;
	int64_t			 incident_id;
	int			 attempts;	/* before this one */
	char			*address;
	char			*url;
	char			*from;		/* "<address>" */
	char			*rcpt;		/* "<address>" */
	long			 use_ssl;	/* CURLUSESSL_*, smtp:// */
	char			*ca_file;
	char			*user;
	char			*password;
	int64_t			 timeout_ms;
	char			*msg;
	size_t			 len;
	int			 recorded;	/* the loop marked it sent */

	/* The thread's, while it runs the job. */
	size_t			 off;
	int64_t			 deadline;	/* mono ms */
	int			 timed_out;	/* by mailer_progress_cb */
	int			 data_sent;	/* 354: go ahead */
	int			 data_replied;	/* to the end of DATA */
	int			 quit_sent;
	int			 quit_answered;
	char			 reply[256];	/* the last refusal */
	char			 errbuf[CURL_ERROR_SIZE];

	/* Under the lock. */
	int			 socks[MAILER_SOCKS];	/* open, or -1 */
	int			 on_news;
	int			 accepted;	/* 2xx to the end of DATA */
	int			 finished;
	CURLcode		 code;
};
TAILQ_HEAD(mail_jobs, mail_job);

struct mailer {
	struct event_base	*base;
	struct store		*store;
	const struct mail_conf	*mail;
	const struct conf	*conf;
	int			 curl_ok;	/* curl_global_init worked */
	struct event		*kick;
	struct event		*timer;
	struct mail_jobs	 jobs;		/* the loop's */
	int			 njobs;
	int			 on;		/* as last logged */
	int64_t			 wake;		/* the pass's next wake-up */
	struct mailer_due	*due;		/* during a pass */

	/* The threads, and what the loop and they share. */
	pthread_t		 threads[MAILER_MAX_JOBS];
	int			 nthreads;
	pthread_mutex_t		 lock;
	pthread_cond_t		 cond;		/* todo, or stopping */
	struct mail_jobs	 todo;		/* under lock */
	struct mail_jobs	 news;		/* under lock */
	int			 stopping;	/* under lock */
	int			 efd;		/* news for the loop */
	struct event		*newsev;
};

struct mailer_due;

/* ------------------------------------------------------------- the message */

static char *
mailer_base64(const void *in, size_t n)
{
	char	*out;

	out = xmalloc(BASE64_LEN(n) + 1);
	base64_encode(out, in, n);
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

/* ----------------------------------------------- the transfer, in a thread */

/*
 * Tell the loop that J has news (accepted, or finished), once however
 * often it is told before the loop looks.  The caller holds the lock.
 */
static void
mailer_post(struct mailer *m, struct mail_job *j)
{
	uint64_t	 one = 1;

	if (!j->on_news) {
		TAILQ_INSERT_TAIL(&m->news, j, qentry);
		j->on_news = 1;
	}
	/* Non-blocking; the counter cannot fill with a handful of jobs. */
	(void)!write(m->efd, &one, sizeof(one));
}

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
 *
 * The first reply after DATA's 354 once the whole message was handed
 * over is the one to the end of DATA: a 2xx there means the server has
 * the message, which the loop records at once, whatever QUIT then does.
 */
static int
mailer_debug_cb(CURL *easy, curl_infotype type, char *data, size_t size,
    void *arg)
{
	struct mail_job	*j = arg;
	struct mailer	*m = j->mailer;
	size_t		 i, n = 0;

	(void)easy;
	if (type == CURLINFO_HEADER_OUT && size >= 4 &&
	    memcmp(data, "QUIT", 4) == 0)
		j->quit_sent = 1;
	if (type != CURLINFO_HEADER_IN || size == 0)
		return 0;
	if (j->quit_sent)
		j->quit_answered = 1;
	else if (size >= 3 && memcmp(data, "354", 3) == 0)
		j->data_sent = 1;
	else if (j->data_sent && j->off == j->len && !j->data_replied) {
		j->data_replied = 1;
		if (data[0] == '2') {
			pthread_mutex_lock(&m->lock);
			j->accepted = 1;
			mailer_post(m, j);
			pthread_mutex_unlock(&m->lock);
			return 0;
		}
	}
	if (data[0] != '4' && data[0] != '5')
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

/*
 * Called by curl at least once a second, in its blocking waits too: the
 * end of mail-timeout, or the daemon stopping, ends the session.
 */
static int
mailer_progress_cb(void *arg, curl_off_t dltotal, curl_off_t dlnow,
    curl_off_t ultotal, curl_off_t ulnow)
{
	struct mail_job	*j = arg;
	int		 stopping;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	pthread_mutex_lock(&j->mailer->lock);
	stopping = j->mailer->stopping;
	pthread_mutex_unlock(&j->mailer->lock);
	if (stopping)
		return 1;
	if (mono_ms() >= j->deadline) {
		j->timed_out = 1;
		return 1;
	}
	return 0;
}

/*
 * The session's sockets are opened and closed here, under the lock, so
 * that the stop can shut down those still open without racing a close
 * (and a number reused by someone else).
 */
static curl_socket_t
mailer_opensocket_cb(void *arg, curlsocktype purpose,
    struct curl_sockaddr *sa)
{
	struct mail_job	*j = arg;
	int		 fd, i;

	(void)purpose;
	pthread_mutex_lock(&j->mailer->lock);
	if (j->mailer->stopping)
		fd = -1;
	else if ((fd = socket(sa->family, sa->socktype | SOCK_CLOEXEC,
	    sa->protocol)) != -1) {
		for (i = 0; i < MAILER_SOCKS; i++)
			if (j->socks[i] == -1) {
				j->socks[i] = fd;
				break;
			}
	}
	pthread_mutex_unlock(&j->mailer->lock);
	return fd == -1 ? CURL_SOCKET_BAD : fd;
}

static int
mailer_closesocket_cb(void *arg, curl_socket_t fd)
{
	struct mail_job	*j = arg;
	int		 i, rc;

	pthread_mutex_lock(&j->mailer->lock);
	for (i = 0; i < MAILER_SOCKS; i++)
		if (j->socks[i] == fd)
			j->socks[i] = -1;
	rc = close(fd);
	pthread_mutex_unlock(&j->mailer->lock);
	return rc;
}

static void
mailer_setopt_failed(CURLcode rc)
{
	fatalx("mailer: curl_easy_setopt: %s", curl_easy_strerror(rc));
}

/* One SMTP session for J, within its mail-timeout; in a thread. */
static CURLcode
mailer_send(struct mail_job *j)
{
	struct curl_slist	*rcpt;
	CURLcode		 rc;
	CURL			*e;
	long			 secs;

	if ((e = curl_easy_init()) == NULL)
		return CURLE_FAILED_INIT;
	if ((rcpt = curl_slist_append(NULL, j->rcpt)) == NULL)
		fatalx("mailer: curl_slist_append failed");
	/* curl's server response timeout is whole seconds; at least one. */
	secs = (long)((j->timeout_ms + 999) / 1000);
	j->deadline = mono_ms() + j->timeout_ms;

#define SET(opt, val)	do {						\
	if ((rc = curl_easy_setopt(e, opt, val)) != CURLE_OK)		\
		mailer_setopt_failed(rc);				\
} while (0)

	SET(CURLOPT_URL, j->url);
	SET(CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	SET(CURLOPT_ERRORBUFFER, j->errbuf);
	/* In a thread: no alarm() for timeouts, no signal handlers. */
	SET(CURLOPT_NOSIGNAL, 1L);
	/* No waiting for a resolver thread at cleanup, no proxy. */
	SET(CURLOPT_QUICK_EXIT, 1L);
	SET(CURLOPT_PROXY, "");
	/*
	 * One SMTP session per message: a few messages an incident do not
	 * need pipelining, and nothing of a session that went wrong (a
	 * refusal, a login the server forgot) carries over to the next.
	 * The connection is closed, QUIT included, before curl_easy_perform
	 * returns: nothing is left for curl_easy_cleanup to wait for.
	 */
	SET(CURLOPT_FRESH_CONNECT, 1L);
	SET(CURLOPT_FORBID_REUSE, 1L);
	SET(CURLOPT_TIMEOUT_MS, (long)j->timeout_ms);
	SET(CURLOPT_CONNECTTIMEOUT_MS, j->timeout_ms < MAILER_CONNECT_MS ?
	    (long)j->timeout_ms : MAILER_CONNECT_MS);
	SET(CURLOPT_SERVER_RESPONSE_TIMEOUT, secs);
	SET(CURLOPT_NOPROGRESS, 0L);
	SET(CURLOPT_XFERINFOFUNCTION, mailer_progress_cb);
	SET(CURLOPT_XFERINFODATA, j);
	SET(CURLOPT_OPENSOCKETFUNCTION, mailer_opensocket_cb);
	SET(CURLOPT_OPENSOCKETDATA, j);
	SET(CURLOPT_CLOSESOCKETFUNCTION, mailer_closesocket_cb);
	SET(CURLOPT_CLOSESOCKETDATA, j);
	SET(CURLOPT_MAIL_FROM, j->from);
	SET(CURLOPT_MAIL_RCPT, rcpt);
	SET(CURLOPT_UPLOAD, 1L);
	SET(CURLOPT_READFUNCTION, mailer_read_cb);
	SET(CURLOPT_READDATA, j);
	SET(CURLOPT_INFILESIZE_LARGE, (curl_off_t)j->len);
	SET(CURLOPT_VERBOSE, 1L);	/* for the replies, not to stderr: */
	SET(CURLOPT_DEBUGFUNCTION, mailer_debug_cb);
	SET(CURLOPT_DEBUGDATA, j);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	if (strncmp(j->url, "smtp://", 7) == 0)
		SET(CURLOPT_USE_SSL, j->use_ssl);
	if (j->ca_file != NULL)
		SET(CURLOPT_CAINFO, j->ca_file);
	if (j->user != NULL) {
		SET(CURLOPT_USERNAME, j->user);
		SET(CURLOPT_PASSWORD, j->password);
	}
#undef SET

	rc = curl_easy_perform(e);
	curl_easy_cleanup(e);
	curl_slist_free_all(rcpt);
	return rc;
}

/* A sending thread: jobs from m->todo until the daemon stops. */
static void *
mailer_thread(void *arg)
{
	struct mailer	*m = arg;
	struct mail_job	*j;
	CURLcode	 code;

	pthread_mutex_lock(&m->lock);
	for (;;) {
		while (!m->stopping && TAILQ_EMPTY(&m->todo))
			pthread_cond_wait(&m->cond, &m->lock);
		if (m->stopping)
			break;
		j = TAILQ_FIRST(&m->todo);
		TAILQ_REMOVE(&m->todo, j, qentry);
		pthread_mutex_unlock(&m->lock);

		code = mailer_send(j);

		pthread_mutex_lock(&m->lock);
		j->code = code;
		j->finished = 1;
		mailer_post(m, j);	/* the loop's again from here */
	}
	pthread_mutex_unlock(&m->lock);
	return NULL;
}

/* One more thread, with every signal blocked: they are the loop's. */
static int
mailer_thread_start(struct mailer *m)
{
	sigset_t	 all, old;
	int		 error;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	error = pthread_create(&m->threads[m->nthreads], NULL, mailer_thread,
	    m);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (error != 0) {
		errno = error;
		log_warn("mailer: pthread_create");
		return -1;
	}
	m->nthreads++;
	return 0;
}

/* ------------------------------------------------ the outcome, on the loop */

static void
mailer_job_free(struct mail_job *j)
{
	struct mailer	*m = j->mailer;

	TAILQ_REMOVE(&m->jobs, j, entry);
	m->njobs--;
	free(j->msg);
	free(j->address);
	free(j->url);
	free(j->from);
	free(j->rcpt);
	free(j->ca_file);
	free(j->user);
	if (j->password != NULL)
		explicit_bzero(j->password, strlen(j->password));
	free(j->password);
	free(j);
}

/*
 * Backoff: the first wait, doubled after each further failure.  The
 * webhooks' too (webhook.c): one schedule, mail-retry, for the outbox.
 */
int64_t
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

	if (store_mail_failed(m->store, &(struct store_mail_failure){
	    .id = id, .address = address, .error = error,
	    .next_try_at = wall_ms() + wait }) == -1)
		log_warnx("mail %lld: cannot record the failure", (long long)id);
	log_warnx("mail %lld to %s: attempt %d failed, next in %s: %s",
	    (long long)id, address, attempts + 1,
	    duration_fmt(wait, d, sizeof(d)), error);
}

/* The server accepted J: record it, before its session even ends. */
static void
mailer_sent(struct mailer *m, struct mail_job *j)
{
	int64_t	 oldest;
	int	 alerted = 0;

	j->recorded = 1;
	if (store_mail_sent(m->store, &(struct store_delivery){ .id = j->id,
	    .incident_id = j->incident_id, .address = j->address,
	    .at = wall_ms() }, &alerted) == -1) {
		log_warnx("mail %lld to %s: accepted by the server but not "
		    "recorded; it will be sent again", (long long)j->id,
		    j->address);
		return;
	}
	log_info("mail %lld to %s: sent (incident %lld)", (long long)j->id,
	    j->address, (long long)j->incident_id);
	if (alerted && store_mail_pending(m->store, "email", j->incident_id,
	    &oldest) == 0)
		log_info("incident %lld: mail is going out again",
		    (long long)j->incident_id);
}

/* J's session ended: a failure is recorded, unless it was accepted. */
static void
mailer_finished(struct mailer *m, struct mail_job *j)
{
	char	*error, d[32];

	if (j->code == CURLE_OK || j->accepted) {
		if (!j->recorded)
			mailer_sent(m, j);
		/* Worth knowing about the server, though no harm is done. */
		if (j->quit_sent && !j->quit_answered)
			log_info("mail %lld to %s: accepted; no reply to QUIT "
			    "within mail-timeout", (long long)j->id,
			    j->address);
		else if (j->code != CURLE_OK)
			log_info("mail %lld to %s: accepted; the session then "
			    "ended with: %s", (long long)j->id, j->address,
			    j->errbuf[0] != '\0' ? j->errbuf :
			    curl_easy_strerror(j->code));
		return;
	}
	if (j->timed_out)
		xasprintf(&error, "no reply within mail-timeout %s%s%s",
		    duration_fmt(j->timeout_ms, d, sizeof(d)),
		    j->reply[0] != '\0' ? "; server: " : "", j->reply);
	else
		xasprintf(&error, "%s%s%s", j->errbuf[0] != '\0' ? j->errbuf :
		    curl_easy_strerror(j->code), j->reply[0] != '\0' ?
		    "; server: " : "", j->reply);
	mailer_failed(m, j->id, j->attempts, j->address, error);
	free(error);
}

/*
 * What the threads said: messages accepted, sessions ended.  STOPPING:
 * the threads are gone and the loop is too; a session cut short by the
 * stop is no failure of the message, which simply stays queued.
 */
static void
mailer_read_news(struct mailer *m, int stopping)
{
	struct mail_job	*j;
	int		 accepted, finished;

	for (;;) {
		pthread_mutex_lock(&m->lock);
		if ((j = TAILQ_FIRST(&m->news)) != NULL) {
			TAILQ_REMOVE(&m->news, j, qentry);
			j->on_news = 0;
			accepted = j->accepted;
			finished = j->finished;
		}
		pthread_mutex_unlock(&m->lock);
		if (j == NULL)
			break;
		if (accepted && !j->recorded)
			mailer_sent(m, j);
		if (finished) {
			if (!stopping)
				mailer_finished(m, j);
			mailer_job_free(j);
		}
		/* A row sent or failed: the next of its recipient is due. */
		if (!stopping)
			mailer_kick(m);
	}
}

static void
mailer_news_cb(evutil_socket_t fd, short events, void *arg)
{
	uint64_t	 n;

	(void)events;
	(void)!read(fd, &n, sizeof(n));
	mailer_read_news(arg, 0);
}

/* ---------------------------------------------------- a job, from the loop */

static void	mailer_wake_at(struct mailer *, int64_t);

static void
mailer_start(struct mailer *m, const struct store_mail *row)
{
	const struct mail_conf		*mc = m->mail;
	const struct contact_conf	*c;
	struct mail_job			*j;
	int				 i;

	c = conf_find_contact(m->conf, row->recipient);
	if (c == NULL || c->email == NULL) {
		mailer_failed(m, row->id, row->attempts, "",
		    "no contact with an email address for this recipient in "
		    "the rules");
		return;
	}
	/*
	 * One node sends it: another's claim, still running, or its lock on
	 * the row passes it by until the next look, a second from now.
	 */
	if (store_mail_claim(m->store, row->id, m->conf->node_name,
	    wall_ms() + mc->timeout_ms) != 1) {
		log_debug("mail %lld: claimed or locked by another node: "
		    "passed by", (long long)row->id);
		mailer_wake_at(m, wall_ms() + 1000);
		return;
	}
	/* As many threads as messages in flight, up to MAILER_MAX_JOBS. */
	if (m->nthreads <= m->njobs && mailer_thread_start(m) == -1 &&
	    m->nthreads == 0) {
		mailer_failed(m, row->id, row->attempts, c->email,
		    "no thread to send it");
		return;
	}
	j = xcalloc(1, sizeof(*j));
	j->mailer = m;
	j->id = row->id;
	j->incident_id = row->incident_id;
	j->attempts = row->attempts;
	j->address = xstrdup(c->email);
	j->url = xstrdup(mc->smtp);
	xasprintf(&j->from, "<%s>", mc->from);
	xasprintf(&j->rcpt, "<%s>", c->email);
	j->use_ssl = mc->starttls == CONF_STARTTLS_YES ? CURLUSESSL_ALL :
	    mc->starttls == CONF_STARTTLS_NO ? CURLUSESSL_NONE :
	    CURLUSESSL_TRY;
	if (mc->ca_file != NULL)
		j->ca_file = xstrdup(mc->ca_file);
	if (mc->user != NULL) {
		j->user = xstrdup(mc->user);
		j->password = xstrdup(mc->password);
	}
	j->timeout_ms = mc->timeout_ms;
	j->msg = mailer_message(mc, row, c->email);
	j->len = strlen(j->msg);
	for (i = 0; i < MAILER_SOCKS; i++)
		j->socks[i] = -1;
	TAILQ_INSERT_TAIL(&m->jobs, j, entry);
	m->njobs++;

	log_debug("mail %lld to %s: attempt %d", (long long)j->id, j->address,
	    j->attempts + 1);
	pthread_mutex_lock(&m->lock);
	TAILQ_INSERT_TAIL(&m->todo, j, qentry);
	pthread_cond_signal(&m->cond);
	pthread_mutex_unlock(&m->lock);
}

/* ------------------------------------------------------------------ a pass */

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
	/*
	 * No retry waits longer than mail-retry's longest: a next try further
	 * ahead than that was set before the wall clock went back, and is
	 * due now rather than hours late.
	 */
	if (row->next_try_at > wall_ms() &&
	    row->next_try_at - wall_ms() <= m->mail->retry_max_ms) {
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

/*
 * An incident whose rows of CHANNEL are overdue: the alert, once per
 * episode, "mail failing" or "webhook failing".
 */
static void
mailer_alert(struct store *st, const char *channel, int64_t alert_after_ms,
    const struct mailer_late *x)
{
	int64_t		 now = wall_ms();
	const char	*event;
	char		 detail[768], t[TIME_STRLEN], d[32];

	event = strcmp(channel, "email") == 0 ? "mail failing" :
	    "webhook failing";
	snprintf(detail, sizeof(detail), "%d message%s queued since %s not "
	    "sent after %s: %s", x->count, x->count == 1 ? "" : "s",
	    time_fmt(x->oldest, t, sizeof(t)),
	    duration_fmt(alert_after_ms, d, sizeof(d)),
	    x->error != NULL ? x->error : "not tried yet");
	if (store_begin(st) == -1 ||
	    (!x->failing && store_timeline_add(st, &(struct store_event){
	    .incident_id = x->incident, .at = now, .event = event,
	    .actor = "rtowatchd", .detail = detail }) == -1) ||
	    store_mail_alerted(st, &(struct store_mail_alert){
	    .channel = channel, .incident_id = x->incident,
	    .before = now - alert_after_ms, .at = now }) == -1 ||
	    store_commit(st) == -1) {
		store_rollback(st);
		log_warnx("incident %lld: the %s alert could not be recorded",
		    (long long)x->incident, event);
		return;
	}
	if (!x->failing)
		log_warnx("incident %lld: %s: %s", (long long)x->incident,
		    event, detail);
}

/*
 * The outbox's alert for the rows of CHANNEL ("email", "webhook") still
 * queued ALERT_AFTER_MS after they were: the mailer's and the webhooks'
 * (webhook.c).  Returns when to look again (0: nothing is waiting).
 */
int64_t
mailer_alerts(struct store *st, const char *channel, int64_t alert_after_ms)
{
	struct mailer_lates	 lates = { NULL, 0 };
	int64_t			 oldest = 0;
	int			 i;

	if (store_mail_overdue(st, channel, wall_ms() - alert_after_ms,
	    mailer_late_cb, &lates) == -1)
		log_warnx("outbox: cannot read the overdue %s rows", channel);
	for (i = 0; i < lates.n; i++) {
		mailer_alert(st, channel, alert_after_ms, &lates.v[i]);
		free(lates.v[i].error);
	}
	free(lates.v);
	if (store_mail_pending(st, channel, 0, &oldest) != -1 && oldest != 0)
		return oldest + alert_after_ms + 1;
	return 0;
}

static void
mailer_run(struct mailer *m)
{
	struct mailer_due	 due;
	struct timeval		 tv;
	int64_t			 now = wall_ms(), wait;
	int			 i;

	evtimer_del(m->timer);
	/* Only the leader sends (lead.c); it kicks us when it leads. */
	if (m->mail == NULL || m->mail->smtp == NULL || !m->curl_ok ||
	    !store_leading(m->store))
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
	mailer_wake_at(m, mailer_alerts(m->store, "email",
	    m->mail->alert_after_ms));

	due.n = 0;
	m->due = &due;
	if (store_mail_heads(m->store, "email", mailer_head, m) == -1)
		log_warnx("mailer: cannot read the outbox");
	m->due = NULL;
	for (i = 0; i < due.n; i++) {
		mailer_start(m, &due.rows[i].m);
		free(due.rows[i].recipient);
		free(due.rows[i].subject);
		free(due.rows[i].body);
	}

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
	TAILQ_INIT(&m->todo);
	TAILQ_INIT(&m->news);
	if (pthread_mutex_init(&m->lock, NULL) != 0 ||
	    pthread_cond_init(&m->cond, NULL) != 0)
		fatalx("mailer: cannot make its lock");
	if ((m->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1)
		fatal("mailer: eventfd");
	if ((m->kick = event_new(base, -1, 0, mailer_event_cb, m)) == NULL ||
	    (m->timer = evtimer_new(base, mailer_event_cb, m)) == NULL ||
	    (m->newsev = event_new(base, m->efd, EV_READ | EV_PERSIST,
	    mailer_news_cb, m)) == NULL)
		fatalx("mailer: event_new failed");
	event_add(m->newsev, NULL);
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
	/*
	 * Before any thread of ours, as curl asks, and only with a server:
	 * the parser of "set smtp" loaded libcurl (include/lazylib.h).
	 */
	if (on && !m->curl_ok) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK)
			m->curl_ok = 1;
		else
			log_warnx("mail: libcurl could not be set up; nothing "
			    "will be sent");
	}
	mailer_kick(m);
}

void
mailer_free(struct mailer *m)
{
	struct mail_job	*j, *next;
	int		 i;

	if (m == NULL)
		return;
	/*
	 * End the threads: those waiting for a job wake up, and a session
	 * in progress ends at once, its sockets shut down under it, or at
	 * its next progress callback; one still resolving the server's name
	 * (no socket yet) within the connect timeout at worst.
	 */
	pthread_mutex_lock(&m->lock);
	m->stopping = 1;
	pthread_cond_broadcast(&m->cond);
	TAILQ_FOREACH(j, &m->jobs, entry)
		for (i = 0; i < MAILER_SOCKS; i++)
			if (j->socks[i] != -1)
				shutdown(j->socks[i], SHUT_RDWR);
	pthread_mutex_unlock(&m->lock);
	for (i = 0; i < m->nthreads; i++)
		pthread_join(m->threads[i], NULL);

	/* Accepted meanwhile: sent.  The rest stays queued for next time. */
	mailer_read_news(m, 1);
	for (j = TAILQ_FIRST(&m->jobs); j != NULL; j = next) {
		next = TAILQ_NEXT(j, entry);
		if (j->accepted && !j->recorded)
			mailer_sent(m, j);
		mailer_job_free(j);
	}
	if (m->curl_ok)
		curl_global_cleanup();
	event_free(m->newsev);
	close(m->efd);
	event_free(m->timer);
	event_free(m->kick);
	pthread_cond_destroy(&m->cond);
	pthread_mutex_destroy(&m->lock);
	free(m);
}
